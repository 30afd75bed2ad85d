"""Monitoring of one region: escalation topics, resource alarms from the catalog, SLO
burn-rate alarms, log groups and dashboards.

`RegionMonitoring` is what a stack composes; it creates one `ServiceMonitoring` per service.
Both stacks use it: the primary watches the primary's resources, the dr stack the DR
region's (replica lag, the DR load balancers), so each region's monitoring keeps working
when the other region is down.

Alarm hygiene:
- every alarm that is not an input of a composite notifies its severity's topic on ALARM
  and on OK, and sets `treat_missing_data` explicitly;
- every description carries the runbook URL (`<service runbook>#<alarm id>`);
- metric alarms are autonamed and aliased on a service rename (`previous_names`), so a
  rename keeps their physical names; what needs an explicit name (composite alarms,
  dashboards, log groups) is named after the service's first name for the same reason;
- `inventory` lists every alarm with its severity, threshold and monthly cost.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel

from components import pricing
from components.backup import vault_name
from components.escalation import Escalation, EscalationArgs
from components.slo import Objective, SliMetric, SloAlarms, SloAlarmsArgs, SloInventoryEntry
from model import tags as tag_keys
from model.alarms import BY_ID, CATALOG, AlarmSpec, Basis
from model.burn_rate import TIERS
from model.config import (
    AlarmOverride,
    DrMode,
    RegionResources,
    Role,
    Service,
    Severity,
    StackConfig,
)

COMPONENT_TYPE = "resilience:monitoring:RegionMonitoring"
SERVICE_COMPONENT_TYPE = "resilience:monitoring:ServiceMonitoring"
GIB = 1024**3

# Targets that can occur several times per service: their alarms carry the resource's name.
LISTED_TARGETS = frozenset(
    {
        "rds",
        "rds-storage",
        "rds-aurora",
        "rds-aurora-secondary",
        "rds-replica",
        "lambda",
        "queue",
        "dlq",
        "certificate",
        "health-check",
        "s3-replication",
    }
)


@dataclass(frozen=True)
class InventoryEntry:
    """One alarm as on-call and finance see it."""

    alarm: str  # logical name
    alarm_id: str  # catalog id, or `slo:<objective>:<tier>`
    service: str | None
    kind: str  # metric | composite
    severity: str | None  # None: input of a composite, no actions
    threshold: float
    comparison: str
    unit: str
    monthly_usd: float

    def as_output(self) -> dict[str, Any]:
        return {
            "alarm": self.alarm,
            "id": self.alarm_id,
            "service": self.service,
            "kind": self.kind,
            "severity": self.severity,
            "threshold": self.threshold,
            "comparison": self.comparison,
            "unit": self.unit,
            "monthly_usd": self.monthly_usd,
        }


@dataclass(frozen=True)
class ResolvedAlarm:
    """A catalog spec with a service's overrides applied."""

    spec: AlarmSpec
    severity: Severity
    threshold: float  # as configured (a percentage for percent-based specs)
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int


def resolve(spec: AlarmSpec, override: AlarmOverride | None) -> ResolvedAlarm | None:
    """Apply an override; None when the alarm is disabled."""
    if override is not None and not override.enabled:
        return None

    def pick(value: Any, default: Any) -> Any:
        return default if value is None else value

    o = override or AlarmOverride()
    return ResolvedAlarm(
        spec=spec,
        severity=pick(o.severity, spec.severity),
        threshold=float(pick(o.threshold, spec.threshold)),
        period_seconds=pick(o.period_seconds, spec.period_seconds),
        evaluation_periods=pick(o.evaluation_periods, spec.evaluation_periods),
        datapoints_to_alarm=pick(o.datapoints_to_alarm, spec.datapoints_to_alarm),
    )


def targets(kind: str, resources: RegionResources) -> list[tuple[str, Any]]:
    """(name suffix, resource) pairs a spec of this target kind watches; [] = not applicable."""
    alb, asg, dbs = resources.alb, resources.asg, resources.databases
    match kind:
        case "alb":
            return [("", alb)] if alb else []
        case "alb-target-group":
            return [("", alb)] if alb and alb.target_group else []
        case "asg":
            return [("", asg)] if asg else []
        case "asg-burstable":
            return [("", asg)] if asg and asg.burstable else []
        case "rds":
            return [(db.identifier, db) for db in dbs]
        case "rds-storage":
            return [(db.identifier, db) for db in dbs if db.allocated_storage_gb and not db.aurora]
        case "rds-aurora":
            return [(db.identifier, db) for db in dbs if db.aurora]
        case "rds-aurora-secondary":
            return [(db.identifier, db) for db in dbs if db.aurora and db.replica]
        case "rds-replica":
            # Aurora publishes AuroraReplicaLag instead; its replicas are not watched here.
            return [(db.identifier, db) for db in dbs if db.replica and not db.aurora]
        case "lambda":
            return [(f.function_name, f) for f in resources.functions]
        case "queue":
            return [(q.queue_name, q) for q in resources.queues]
        case "dlq":
            return [(q.dlq_name, q) for q in resources.queues if q.dlq_name]
        case "certificate":
            return [(arn.rsplit("/", 1)[-1][:8], {"arn": arn}) for arn in resources.certificates]
        case "health-check":
            return [(hc[:8], {"id": hc}) for hc in resources.health_checks]
        case "s3-replication":
            return [(r.rule_id, r) for r in resources.s3_replication]
    raise ValueError(f"unknown alarm target kind {kind!r}")


def effective_threshold(
    alarm: ResolvedAlarm, resource: Any, config: StackConfig
) -> tuple[float, str]:
    """(threshold in the metric's unit, that unit)."""
    value = alarm.threshold
    match alarm.spec.basis:
        case Basis.ABSOLUTE:
            return value, alarm.spec.unit.strip() or "count"
        case Basis.PERCENT_OF_MAX_CONNECTIONS:
            return round(value / 100 * resource.max_connections, 3), "connections"
        case Basis.PERCENT_OF_RPO:
            return round(value / 100 * config.dr.rpo_minutes * 60, 3), "seconds"
        case Basis.PERCENT_OF_RPO_MS:
            return round(value / 100 * config.dr.rpo_minutes * 60_000, 3), "milliseconds"
        case Basis.PERCENT_OF_TIMEOUT:
            return round(value / 100 * resource.timeout_seconds * 1000, 3), "milliseconds"
        case Basis.PERCENT_OF_ALLOCATED_STORAGE:
            return round(value / 100 * resource.allocated_storage_gb * GIB), "bytes"
    raise ValueError(alarm.spec.basis)


def _field(resource: Any, name: str) -> Any:
    return getattr(resource, name) if isinstance(resource, BaseModel) else resource[name]


def dimensions(spec_dims: Iterable[tuple[str, str]], resource: Any) -> dict[str, pulumi.Input[str]]:
    """Dimension values from the resource (plain values or Outputs) or fixed (`=value`)."""
    out: dict[str, pulumi.Input[str]] = {}
    for name, source in spec_dims:
        dim = resource.dimension if name == "{rds}" else name
        if source.startswith("="):
            out[dim] = source[1:]
        else:
            value = _field(resource, source)
            out[dim] = value if isinstance(value, pulumi.Output) else str(value)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


# PutMetricAlarm, AlarmName: "Maximum length of 255" (CloudWatch API Reference); alarms are
# autonamed `<logical name>-<7 hex>` (pulumi-aws), 8 characters more than the logical name.
ALARM_NAME_MAX = 255
AUTONAME_SUFFIX = 8


def named_after(prefix: str, name: str) -> str:
    """The part of an alarm's logical name `<prefix>-<part>` that names the watched resource
    (a queue, a function, an S3 replication rule id of up to 255 characters): its slug, or,
    where the autonamed alarm would pass 255 characters, the slug cut short and a hash of the
    whole name (still one alarm per resource, and the same one on every run)."""
    slug = _slug(name)
    room = ALARM_NAME_MAX - AUTONAME_SUFFIX - len(prefix) - 1
    if len(slug) <= room:
        return slug
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{slug[: room - len(digest) - 1].rstrip('-')}-{digest}"


@dataclass
class AlarmContext:
    """What a resource alarm needs besides its spec."""

    parent: pulumi.Resource
    provider: aws.Provider
    topic_arns: Mapping[Severity, pulumi.Output[str]]
    config: StackConfig
    region: str
    runbook_url: str
    service: str | None
    alias_prefixes: Mapping[str, str] = field(default_factory=dict)  # new prefix -> old
    # Left in place when the program drops the alarm (an alarm in a region the stack must
    # not call any more, e.g. the dr stack's us-east-1 alarms once it is active).
    retain_on_delete: bool = False


def create_metric_alarm(
    logical: str,
    alarm: ResolvedAlarm,
    resource: Any,
    ctx: AlarmContext,
    aliases: Sequence[str] = (),
) -> tuple[aws.cloudwatch.MetricAlarm, InventoryEntry]:
    spec = alarm.spec
    threshold, unit = effective_threshold(alarm, resource, ctx.config)
    queries = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=metric.id,
            return_data=spec.expression is None,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=metric.namespace,
                metric_name=metric.name,
                stat=metric.stat,
                period=alarm.period_seconds,
                dimensions=dimensions(metric.dims, resource) or None,
            ),
        )
        for metric in spec.metrics
    ]
    if spec.expression is not None:
        queries.append(
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="value", expression=spec.expression, label=spec.id, return_data=True
            )
        )
    summary = spec.summary.format(threshold=f"{alarm.threshold:g}", unit=spec.unit)
    who = f"{ctx.service} " if ctx.service else ""
    description = (
        f"[{alarm.severity.value}] {who}({ctx.region}): {summary}. Fires when the value is "
        f"{spec.comparison.symbol} {threshold:g} {unit} in {alarm.datapoints_to_alarm} of "
        f"{alarm.evaluation_periods} periods of {alarm.period_seconds} s. "
        f"Runbook: {ctx.runbook_url}#{spec.id}. Source: {spec.source}"
    )[:1024]
    topic = ctx.topic_arns[alarm.severity]
    resource_alarm = aws.cloudwatch.MetricAlarm(
        logical,
        alarm_description=description,
        comparison_operator=spec.comparison.value,
        threshold=threshold,
        evaluation_periods=alarm.evaluation_periods,
        datapoints_to_alarm=alarm.datapoints_to_alarm,
        treat_missing_data=spec.treat_missing_data,
        metric_queries=queries,
        alarm_actions=[topic],
        ok_actions=[topic],
        tags={tag_keys.ALARM: spec.id, **({tag_keys.SERVICE: ctx.service} if ctx.service else {})},
        opts=pulumi.ResourceOptions(
            parent=ctx.parent,
            provider=ctx.provider,
            aliases=[pulumi.Alias(name=a) for a in aliases],
            retain_on_delete=ctx.retain_on_delete or None,
        ),
    )
    entry = InventoryEntry(
        alarm=logical,
        alarm_id=spec.id,
        service=ctx.service,
        kind="metric",
        severity=alarm.severity.value,
        threshold=threshold,
        comparison=spec.comparison.value,
        unit=unit,
        monthly_usd=pricing.metric_alarm(len(spec.metrics), alarm.period_seconds),
    )
    return resource_alarm, entry


def slo_objectives(service: Service, resources: RegionResources) -> list[Objective]:
    """The service's SLIs as bad-event ratios over this region's request metrics."""
    slo = service.slo
    objectives: list[Objective] = []
    latency = [("latency-p95", slo.latency_p95_ms, 0.05), ("latency-p99", slo.latency_p99_ms, 0.01)]
    if resources.alb is not None:
        lb = {"LoadBalancer": resources.alb.load_balancer}
        elb = "AWS/ApplicationELB"
        objectives.append(
            Objective(
                key="availability",
                description=f"availability {slo.availability}% (non-5XX responses)",
                error_budget=slo.error_budget,
                metrics=(
                    SliMetric("elb5xx", elb, "HTTPCode_ELB_5XX_Count", "Sum", lb),
                    SliMetric("target5xx", elb, "HTTPCode_Target_5XX_Count", "Sum", lb),
                    SliMetric("requests", elb, "RequestCount", "Sum", lb),
                ),
                # Requests rejected before a target was chosen are only in the ELB 5XX count.
                bad_ratio_expression=(
                    "(FILL(elb5xx, 0) + FILL(target5xx, 0)) / (FILL(requests, 0) + FILL(elb5xx, 0))"
                ),
            )
        )
        for key, target_ms, budget in latency:
            if target_ms is None:
                continue
            rank = f"PR(0:{target_ms / 1000:g})"
            objectives.append(
                Objective(
                    key=key,
                    description=f"{1 - budget:.0%} of requests within {target_ms} ms",
                    error_budget=budget,
                    metrics=(SliMetric("fast", elb, "TargetResponseTime", rank, lb),),
                    bad_ratio_expression="1 - fast / 100",
                )
            )
    elif resources.functions:
        fns = resources.functions
        errors = [
            SliMetric(
                f"errors{i}", "AWS/Lambda", "Errors", "Sum", {"FunctionName": f.function_name}
            )
            for i, f in enumerate(fns)
        ]
        calls = [
            SliMetric(
                f"calls{i}", "AWS/Lambda", "Invocations", "Sum", {"FunctionName": f.function_name}
            )
            for i, f in enumerate(fns)
        ]
        objectives.append(
            Objective(
                key="availability",
                description=f"availability {slo.availability}% (invocations without error)",
                error_budget=slo.error_budget,
                metrics=(*errors, *calls),
                bad_ratio_expression="("
                + " + ".join(f"FILL({m.id}, 0)" for m in errors)
                + ") / ("
                + " + ".join(f"FILL({m.id}, 0)" for m in calls)
                + ")",
            )
        )
        for key, target_ms, budget in latency:
            if target_ms is None:
                continue
            fast = [
                SliMetric(
                    f"fast{i}",
                    "AWS/Lambda",
                    "Duration",
                    f"PR(0:{target_ms})",
                    {"FunctionName": f.function_name},
                )
                for i, f in enumerate(fns)
            ]
            objectives.append(
                Objective(
                    key=key,
                    description=f"{1 - budget:.0%} of invocations within {target_ms} ms",
                    error_budget=budget,
                    metrics=tuple(fast),
                    bad_ratio_expression="MAX(["
                    + ", ".join(f"1 - {m.id} / 100" for m in fast)
                    + "])",
                )
            )
    return objectives


@dataclass(frozen=True)
class ServiceMonitoringArgs:
    service: Service
    config: StackConfig
    resources: RegionResources
    region: str
    provider: aws.Provider
    key_arn: pulumi.Input[str]
    topic_arns: Mapping[Severity, pulumi.Output[str]]
    name_prefix: str  # "<system>-<role>"
    slo_alerting: bool
    dashboards: bool


class ServiceMonitoring(pulumi.ComponentResource):
    """One service's alarms, SLO alerting, log group and dashboard in one region."""

    alarms: list[aws.cloudwatch.MetricAlarm]
    slo: SloAlarms | None
    inventory: list[InventoryEntry]

    def __init__(
        self, name: str, args: ServiceMonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(SERVICE_COMPONENT_TYPE, name, None, opts)
        service, config = args.service, args.config
        # Logical names carry the current name; a rename aliases the old ones.
        if not name.endswith(f"-{service.name}"):
            raise ValueError(f"component name {name!r} must end with the service name")
        old_names = [name.removesuffix(service.name) + old for old in service.previous_names]
        # Physical names that must be explicit keep the service's first name.
        first_name = (service.previous_names or [service.name])[0]
        stable = f"{args.name_prefix}-{first_name}"
        in_region = pulumi.ResourceOptions(parent=self, provider=args.provider)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-app-logs",
            name=f"/{config.name}/{config.environment}/{first_name}/app",
            retention_in_days=config.logs.app_retention_days,
            kms_key_id=args.key_arn,
            opts=pulumi.ResourceOptions.merge(
                in_region,
                pulumi.ResourceOptions(
                    protect=True, aliases=[pulumi.Alias(name=f"{o}-app-logs") for o in old_names]
                ),
            ),
        )

        ctx = AlarmContext(
            parent=self,
            provider=args.provider,
            topic_arns=args.topic_arns,
            config=config,
            region=args.region,
            runbook_url=service.runbook_url,
            service=service.name,
        )
        self.alarms, self.inventory = [], []
        for spec in CATALOG:
            if spec.scope != "service":
                continue
            resolved = resolve(spec, service.alarms.get(spec.id))
            if resolved is None:
                continue
            for suffix, resource in targets(spec.target, args.resources):
                tail = (
                    f"{spec.id}-{named_after(f'{name}-{spec.id}', suffix)}"
                    if spec.target in LISTED_TARGETS
                    else spec.id
                )
                alarm, entry = create_metric_alarm(
                    f"{name}-{tail}",
                    resolved,
                    resource,
                    ctx,
                    aliases=[f"{o}-{tail}" for o in old_names],
                )
                self.alarms.append(alarm)
                self.inventory.append(entry)

        self.slo = None
        objectives = slo_objectives(service, args.resources) if args.slo_alerting else []
        if objectives:
            self.slo = SloAlarms(
                f"{name}-slo",
                SloAlarmsArgs(
                    service=service.name,
                    objectives=objectives,
                    window_days=service.slo.window_days,
                    topic_arns=args.topic_arns,
                    runbook_url=service.runbook_url,
                    provider=args.provider,
                    physical_prefix=stable,
                    aliases=[f"{o}-slo" for o in old_names],
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, aliases=[pulumi.Alias(name=f"{o}-slo") for o in old_names]
                ),
            )
            for item in self.slo.inventory:
                self.inventory.extend(_slo_inventory(f"{name}-slo", service.name, item))

        self.dashboard = None
        if args.dashboards:
            self.dashboard = aws.cloudwatch.Dashboard(
                f"{name}-dashboard",
                dashboard_name=stable,
                dashboard_body=service_dashboard(args, self.alarms, self.slo),
                opts=pulumi.ResourceOptions.merge(
                    in_region,
                    pulumi.ResourceOptions(
                        aliases=[pulumi.Alias(name=f"{o}-dashboard") for o in old_names]
                    ),
                ),
            )
        self.register_outputs({"alarm_count": len(self.inventory)})


def _slo_inventory(prefix: str, service: str, item: SloInventoryEntry) -> list[InventoryEntry]:
    """A tier's two window alarms (composite inputs, no actions) and its composite."""
    windows = [
        InventoryEntry(
            alarm=f"{prefix}-{item.objective}-{item.tier}-{window}",
            alarm_id=f"slo:{item.objective}:{item.tier}:{window}",
            service=service,
            kind="metric",
            severity=None,
            threshold=item.threshold,
            comparison="GreaterThanThreshold",
            unit="bad-event ratio",
            monthly_usd=pricing.metric_alarm(item.metric_count, 60),
        )
        for window in item.windows
    ]
    composite = InventoryEntry(
        alarm=f"{prefix}-{item.objective}-{item.tier}",
        alarm_id=f"slo:{item.objective}:{item.tier}",
        service=service,
        kind="composite",
        severity=item.severity.value,
        threshold=item.threshold,
        comparison="GreaterThanThreshold",
        unit="bad-event ratio",
        monthly_usd=pricing.COMPOSITE_ALARM,
    )
    return [*windows, composite]


# Bad-event ratio over the rows of alb_sli_rows (ids e, t, r), for dashboard expressions.
ALB_BAD_RATIO = "(FILL(e,0)+FILL(t,0))/(FILL(r,0)+FILL(e,0))"


def alb_sli_rows(load_balancer: str) -> list[list[Any]]:
    """Hidden metric rows ELB 5XX (e), target 5XX (t) and requests (r) of a load balancer."""
    elb, lb = "AWS/ApplicationELB", ["LoadBalancer", load_balancer]
    return [
        [elb, "HTTPCode_ELB_5XX_Count", *lb, {"id": "e", "visible": False}],
        [elb, "HTTPCode_Target_5XX_Count", *lb, {"id": "t", "visible": False}],
        [elb, "RequestCount", *lb, {"id": "r", "visible": False}],
    ]


def slo_widgets(
    service: Service, rows: list[list[Any]], bad_ratio: str, region: str
) -> list[dict[str, Any]]:
    """Burn rate over the last hours against the page threshold, and availability, from
    hidden metric rows and a bad-event ratio expression over them."""
    page = TIERS[0].factor(service.slo.window_days)
    return [
        _metric_widget(
            "Error budget burn rate (1h)",
            [
                *rows,
                [
                    {
                        "expression": f"({bad_ratio})/{service.slo.error_budget:g}",
                        "label": "burn rate",
                        "id": "burn",
                    }
                ],
            ],
            region,
            period=3600,
            stat="Sum",
            annotations={
                "horizontal": [
                    {"value": round(page, 3), "label": f"page ({TIERS[0].name})"},
                    {"value": 1, "label": "sustainable"},
                ]
            },
        ),
        _metric_widget(
            f"Availability over the dashboard range (target {service.slo.availability}%)",
            [*rows, [{"expression": f"100*(1-{bad_ratio})", "label": "availability %", "id": "a"}]],
            region,
            stat="Sum",
            view="singleValue",
            setPeriodToTimeRange=True,
        ),
    ]


def lambda_widgets(service: Service, res: RegionResources, region: str) -> list[dict[str, Any]]:
    """SLO and golden signals of a service measured at its functions (no load balancer)."""
    lam = "AWS/Lambda"
    rows: list[list[Any]] = []
    errors, calls = [], []
    for i, fn in enumerate(res.functions):
        dim = ["FunctionName", fn.function_name]
        rows.append([lam, "Errors", *dim, {"id": f"e{i}", "visible": False}])
        rows.append([lam, "Invocations", *dim, {"id": f"i{i}", "visible": False}])
        errors.append(f"FILL(e{i},0)")
        calls.append(f"FILL(i{i},0)")
    ratio = f"({'+'.join(errors)})/({'+'.join(calls)})"
    return [
        *slo_widgets(service, rows, ratio, region),
        _metric_widget(
            "Duration",
            [
                [
                    lam,
                    "Duration",
                    "FunctionName",
                    fn.function_name,
                    {"stat": s, "label": f"{fn.function_name} {s}"},
                ]
                for fn in res.functions
                for s in ("p50", "p95", "p99")
            ],
            region,
            period=60,
        ),
        _metric_widget(
            "Invocations, errors and throttles",
            [
                [lam, metric, "FunctionName", fn.function_name]
                for fn in res.functions
                for metric in ("Invocations", "Errors", "Throttles")
            ],
            region,
            stat="Sum",
            period=60,
        ),
    ]


def _metric_widget(
    title: str, metrics: list[list[Any]], region: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": region,
            "metrics": metrics,
            "view": "timeSeries",
            **extra,
        },
    }


def service_dashboard(
    args: ServiceMonitoringArgs,
    alarms: Sequence[aws.cloudwatch.MetricAlarm],
    slo: SloAlarms | None,
) -> pulumi.Output[str]:
    """SLO and error budget, golden signals, DR replication health, alarm status."""
    service, res, region = args.service, args.resources, args.region
    widgets: list[dict[str, Any]] = [
        {
            "type": "text",
            "width": 24,
            "height": 2,
            "properties": {
                "markdown": f"# {service.name} ({region})\n"
                f"SLO: availability {service.slo.availability}% over "
                f"{service.slo.window_days} days"
                + (f", p95 {service.slo.latency_p95_ms} ms" if service.slo.latency_p95_ms else "")
                + (f", p99 {service.slo.latency_p99_ms} ms" if service.slo.latency_p99_ms else "")
                + f". [Runbook]({service.runbook_url})"
            },
        }
    ]
    if res.alb is not None:
        lb = ["LoadBalancer", res.alb.load_balancer]
        elb = "AWS/ApplicationELB"
        widgets += [
            *slo_widgets(service, alb_sli_rows(res.alb.load_balancer), ALB_BAD_RATIO, region),
            _metric_widget(
                "Latency (target response time)",
                [
                    [elb, "TargetResponseTime", *lb, {"stat": s, "label": s}]
                    for s in ("p50", "p95", "p99")
                ],
                region,
                period=60,
            ),
            _metric_widget(
                "Traffic and errors",
                [
                    [elb, "RequestCount", *lb],
                    [elb, "HTTPCode_Target_5XX_Count", *lb],
                    [elb, "HTTPCode_ELB_5XX_Count", *lb],
                ],
                region,
                stat="Sum",
                period=60,
            ),
        ]
    if res.alb is None and res.functions:
        widgets += lambda_widgets(service, res, region)
    if res.asg is not None:
        asg = ["AutoScalingGroupName", res.asg.name]
        widgets.append(
            _metric_widget(
                "Saturation",
                [["AWS/EC2", "CPUUtilization", *asg], ["CWAgent", "mem_used_percent", *asg]],
                region,
                stat="Average",
                period=60,
            )
        )
    replication = [
        ["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", db.identifier]
        if not db.aurora
        else ["AWS/RDS", "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", db.identifier]
        for db in res.databases
        if db.replica
    ] + [
        [
            "AWS/S3",
            "ReplicationLatency",
            "SourceBucket",
            r.source_bucket,
            "DestinationBucket",
            r.destination_bucket,
            "RuleId",
            r.rule_id,
        ]
        for r in res.s3_replication
    ]
    if replication:
        widgets.append(
            _metric_widget(
                f"DR replication (RPO {args.config.dr.rpo_minutes} min)",
                replication,
                region,
                stat="Maximum",
                period=60,
                annotations={
                    "horizontal": [{"value": args.config.dr.rpo_minutes * 60, "label": "RPO (s)"}]
                },
            )
        )
    alarm_arns: list[pulumi.Output[str]] = [a.arn for a in alarms]
    if slo is not None:
        alarm_arns += [c.arn for c in slo.composites]

    def render(arns: list[str]) -> str:
        body = list(widgets)
        if arns:
            body.append(
                {
                    "type": "alarm",
                    "width": 24,
                    "height": 6,
                    "properties": {"title": "Alarms", "alarms": sorted(arns)[:100]},
                }
            )
        return json.dumps({"widgets": body}, sort_keys=True)

    return pulumi.Output.all(*alarm_arns).apply(render)


@dataclass(frozen=True)
class RegionMonitoringArgs:
    config: StackConfig
    role: Role
    region: str
    provider: aws.Provider
    key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    name_prefix: str
    # S3 replications whose source is in this region and that the bundle itself set up:
    # mappings with source_bucket, destination_bucket and rule_id.
    replications: Sequence[Mapping[str, pulumi.Input[str]]] = ()
    # More AWS services that publish into the escalation topics (budgets, cost alerts).
    topic_publishers: tuple[str, ...] = ()


def escalation_args(
    config: StackConfig,
    name_prefix: str,
    key_arn: pulumi.Input[str],
    account_id: pulumi.Input[str],
    partition: pulumi.Input[str],
    *,
    extra_publishers: tuple[str, ...] = (),
) -> EscalationArgs:
    """The stack's contacts by severity, for topics in a region with that region's key."""
    return EscalationArgs(
        name_prefix=name_prefix,
        key_arn=key_arn,
        account_id=account_id,
        partition=partition,
        contacts={s: config.escalation.contacts(s) for s in Severity},
        log_retention_days=config.logs.app_retention_days,
        extra_publishers=extra_publishers,
    )


class RegionMonitoring(pulumi.ComponentResource):
    """Escalation, stack-wide alarms, log groups and every service's monitoring."""

    inventory: list[InventoryEntry]
    escalation: Escalation
    services: dict[str, ServiceMonitoring]

    def __init__(
        self, name: str, args: RegionMonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        config = args.config
        self.escalation = Escalation(
            f"{name}-escalation",
            escalation_args(
                config,
                args.name_prefix,
                args.key_arn,
                args.account_id,
                args.partition,
                extra_publishers=args.topic_publishers,
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        topics = self.escalation.topic_arns
        stateful = pulumi.ResourceOptions(parent=self, provider=args.provider, protect=True)
        for kind, days in (
            ("audit", config.logs.audit_retention_days),
            ("platform", config.logs.default_retention_days),
        ):
            aws.cloudwatch.LogGroup(
                f"{name}-{kind}-logs",
                name=f"/{config.name}/{config.environment}/{kind}",
                retention_in_days=days,
                kms_key_id=args.key_arn,
                opts=stateful,
            )

        self.inventory = []
        ctx = AlarmContext(
            parent=self,
            provider=args.provider,
            topic_arns=topics,
            config=config,
            region=args.region,
            runbook_url=config.monitoring.runbook_url or config.services[0].runbook_url,
            service=None,
        )
        stack_alarms = []
        for spec_id in (s.id for s in CATALOG if s.scope == "stack"):
            resolved = resolve(BY_ID[spec_id], config.monitoring.alarms.get(spec_id))
            if resolved is None:
                continue
            vault = {"vault": vault_name(config.name, args.role)}
            alarm, entry = create_metric_alarm(f"{name}-{spec_id}", resolved, vault, ctx)
            stack_alarms.append(alarm)
            self.inventory.append(entry)

        replication_specs = [s for s in CATALOG if s.target == "s3-replication"]
        for replication in args.replications:
            for spec in replication_specs:
                resolved = resolve(spec, config.monitoring.alarms.get(spec.id))
                if resolved is None:
                    continue
                alarm, entry = create_metric_alarm(
                    f"{name}-{spec.id}-"
                    + named_after(f"{name}-{spec.id}", str(replication["rule_id"])),
                    resolved,
                    replication,
                    ctx,
                )
                stack_alarms.append(alarm)
                self.inventory.append(entry)

        # SLOs are measured where the traffic is: the primary, or the DR region once active.
        slo_alerting = args.role is Role.PRIMARY or config.dr.mode is DrMode.ACTIVE
        self.services = {}
        for service in config.services:
            resources = getattr(service.resources, args.role.value)
            monitor = ServiceMonitoring(
                f"{name}-{service.name}",
                ServiceMonitoringArgs(
                    service=service,
                    config=config,
                    resources=resources,
                    region=args.region,
                    provider=args.provider,
                    key_arn=args.key_arn,
                    topic_arns=topics,
                    name_prefix=args.name_prefix,
                    slo_alerting=slo_alerting,
                    dashboards=config.monitoring.dashboards,
                ),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    aliases=[pulumi.Alias(name=f"{name}-{old}") for old in service.previous_names],
                ),
            )
            self.services[service.name] = monitor
            self.inventory.extend(monitor.inventory)

        self._name, self._args, self._stack_alarms = name, args, stack_alarms
        self.monthly_usd = round(
            sum(e.monthly_usd for e in self.inventory)
            + pricing.DASHBOARD * (len(self.services) + 1) * config.monitoring.dashboards,
            2,
        )
        self.register_outputs({"alarm_count": len(self.inventory), "monthly_usd": self.monthly_usd})

    def add_overview(self, more_alarms: Sequence[aws.cloudwatch.MetricAlarm] = ()) -> None:
        """The region's overview dashboard, made last so that it also shows the alarms other
        components of the stack made in this region (`more_alarms`: scaling, failover)."""
        if not self._args.config.monitoring.dashboards:
            return
        aws.cloudwatch.Dashboard(
            f"{self._name}-overview",
            dashboard_name=f"{self._args.name_prefix}-overview",
            dashboard_body=overview_dashboard(
                self._args, [*self._stack_alarms, *more_alarms], self.services
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self._args.provider),
        )


def overview_dashboard(
    args: RegionMonitoringArgs,
    stack_alarms: Sequence[aws.cloudwatch.MetricAlarm],
    services: Mapping[str, ServiceMonitoring],
) -> pulumi.Output[str]:
    """All services at a glance: who is alarming, and each service's availability."""
    arns: list[pulumi.Output[str]] = [a.arn for a in stack_alarms]
    for monitor in services.values():
        arns += [a.arn for a in monitor.alarms]
        if monitor.slo is not None:
            arns += [c.arn for c in monitor.slo.composites]
    header = {
        "type": "text",
        "width": 24,
        "height": 2,
        "properties": {
            "markdown": f"# {args.config.name} {args.role.value} ({args.region})\n"
            f"RTO {args.config.dr.rto_minutes} min, RPO {args.config.dr.rpo_minutes} "
            f"min, DR mode {args.config.dr.mode.value}"
        },
    }
    replication_metrics = [
        [
            "AWS/S3",
            "ReplicationLatency",
            "SourceBucket",
            r["source_bucket"],
            "DestinationBucket",
            r["destination_bucket"],
            "RuleId",
            r["rule_id"],
        ]
        for r in args.replications
    ]
    availability = []
    for service in args.config.services:
        alb = getattr(service.resources, args.role.value).alb
        if alb is None:
            continue
        availability.append(
            _metric_widget(
                f"{service.name}: availability (target {service.slo.availability}%)",
                [
                    *alb_sli_rows(alb.load_balancer),
                    [
                        {
                            "expression": f"100*(1-{ALB_BAD_RATIO})",
                            "label": "%",
                            "id": "a",
                        }
                    ],
                ],
                args.region,
                stat="Sum",
                view="singleValue",
                setPeriodToTimeRange=True,
            )
            | {"width": 8, "height": 3}
        )

    def render(values: list[Any]) -> str:
        ordered = sorted(values[: len(arns)])
        metrics = values[len(arns) :]
        chunks = [ordered[i : i + 100] for i in range(0, len(ordered), 100)]
        alarm_widgets = [
            {
                "type": "alarm",
                "width": 24,
                "height": 6,
                "properties": {"title": f"Alarms ({i + 1}/{len(chunks)})", "alarms": chunk},
            }
            for i, chunk in enumerate(chunks)
        ]
        replication = (
            [
                _metric_widget(
                    f"DR replication (RPO {args.config.dr.rpo_minutes} min)",
                    metrics,
                    args.region,
                    stat="Maximum",
                    period=60,
                    annotations={
                        "horizontal": [
                            {"value": args.config.dr.rpo_minutes * 60, "label": "RPO (s)"}
                        ]
                    },
                )
            ]
            if metrics
            else []
        )
        return json.dumps(
            {"widgets": [header, *alarm_widgets, *replication, *availability]}, sort_keys=True
        )

    return pulumi.Output.all(*arns, *replication_metrics).apply(render)
