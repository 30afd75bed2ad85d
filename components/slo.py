"""SLOs compiled to multi-window, multi-burn-rate alarms (Google SRE workbook, ch. 5).

An objective with error budget `b = 1 - target` over a window of `W` days alerts when the
bad-event ratio over a long window *and* over its short window (1/12 of it) both exceed
`b x factor`. A tier is defined by the share of the whole budget it lets burn within its
long window; the factor is derived from that, never written down:

    factor = budget_share x W / long_window          (30 days: 2% in 1h -> 14.4x)

| tier       | budget share | long / short | 30-day factor | severity |
|------------|--------------|--------------|---------------|----------|
| page-1h    | 2 %          | 1h / 5m      | 14.4          | critical |
| page-6h    | 5 %          | 6h / 30m     | 6             | critical |
| ticket-1d  | 10 %         | 1d / 2h      | 3             | warning  |
| ticket-3d  | 10 %         | 3d / 6h      | 1             | warning  |

On CloudWatch each window is one metric-math alarm whose period is the window, and each tier
is a composite alarm `ALARM(long) AND ALARM(short)` that notifies the tier's topic. A tier's
composite is suppressed while the next faster tier is in ALARM (actions suppressor), so one
incident pages once. CloudWatch caps an alarm period at one day: the 3-day window is three
one-day periods that must all breach, which fires a little later than a true 3-day ratio
would when the burn is uneven (the 1-day tier covers concentrated burns).

The window alarms themselves have no actions: they are inputs of the composites.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from model import tags as tag_keys
from model.burn_rate import BurnAlarm, BurnTier, compile_objective
from model.enums import Severity

COMPONENT_TYPE = "resilience:monitoring:SloAlarms"


@dataclass(frozen=True)
class SliMetric:
    id: str
    namespace: str
    name: str
    stat: str
    dimensions: Mapping[str, pulumi.Input[str]]


@dataclass(frozen=True)
class Objective:
    """An SLI as a bad-event ratio expression over metrics, and its target."""

    key: str  # availability | latency-p95 | latency-p99
    description: str
    error_budget: float
    metrics: Sequence[SliMetric]
    bad_ratio_expression: str


@dataclass(frozen=True)
class SloAlarmsArgs:
    service: str
    objectives: Sequence[Objective]
    window_days: int
    topic_arns: Mapping[Severity, pulumi.Input[str]]
    runbook_url: str
    provider: aws.Provider
    # Composite alarms need explicit names: they are built on this prefix, which stays the
    # same when the service is renamed (see ServiceMonitoring).
    physical_prefix: str
    aliases: Sequence[str] = ()  # former logical-name prefixes (service renames)


@dataclass(frozen=True)
class SloInventoryEntry:
    objective: str
    tier: str
    severity: Severity
    windows: tuple[str, str]
    factor: float
    threshold: float
    metric_count: int


class SloAlarms(pulumi.ComponentResource):
    """The burn-rate alarms of one service's objectives in one region."""

    composites: list[aws.cloudwatch.CompositeAlarm]
    window_alarms: list[aws.cloudwatch.MetricAlarm]
    inventory: list[SloInventoryEntry]

    def __init__(
        self, name: str, args: SloAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.composites, self.window_alarms, self.inventory = [], [], []
        for objective in args.objectives:
            faster: aws.cloudwatch.CompositeAlarm | None = None
            for tier, long_alarm, short_alarm in compile_objective(
                objective.error_budget, args.window_days
            ):
                if long_alarm.threshold >= 1:
                    # Even a total outage cannot reach this burn rate: with a loose target
                    # (or a long window) the slower tiers alert instead.
                    pulumi.log.warn(
                        f"{args.service} {objective.key}: {tier.name} tier omitted, it would "
                        f"need a bad-event ratio of {long_alarm.threshold:.3g}",
                        resource=self,
                    )
                    continue
                windows = [
                    self._window_alarm(name, args, objective, alarm)
                    for alarm in (long_alarm, short_alarm)
                ]
                composite = self._composite(
                    name,
                    args,
                    objective=objective,
                    tier=tier,
                    long_alarm=long_alarm,
                    windows=windows,
                    faster=faster,
                )
                faster = composite
                self.inventory.append(
                    SloInventoryEntry(
                        objective=objective.key,
                        tier=tier.name,
                        severity=tier.severity,
                        windows=(long_alarm.label, short_alarm.label),
                        factor=long_alarm.factor,
                        threshold=long_alarm.threshold,
                        metric_count=len(objective.metrics),
                    )
                )
        self.register_outputs({"composites": [c.arn for c in self.composites]})

    def _options(self, args: SloAlarmsArgs, logical: str, prefix: str) -> pulumi.ResourceOptions:
        aliases = [pulumi.Alias(name=logical.replace(prefix, old, 1)) for old in args.aliases]
        return pulumi.ResourceOptions(parent=self, provider=args.provider, aliases=aliases)

    def _window_alarm(
        self, name: str, args: SloAlarmsArgs, objective: Objective, alarm: BurnAlarm
    ) -> aws.cloudwatch.MetricAlarm:
        logical = f"{name}-{objective.key}-{alarm.tier.name}-{alarm.label}"
        queries = [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=metric.id,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=metric.namespace,
                    metric_name=metric.name,
                    stat=metric.stat,
                    period=alarm.period_s,
                    dimensions=dict(metric.dimensions),
                ),
            )
            for metric in objective.metrics
        ]
        queries.append(
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="bad_ratio",
                expression=objective.bad_ratio_expression,
                label=f"{objective.key} bad-event ratio over {alarm.label}",
                return_data=True,
            )
        )
        resource = aws.cloudwatch.MetricAlarm(
            logical,
            alarm_description=(
                f"{args.service}: {objective.description}; {alarm.label} window of the "
                f"{alarm.tier.name} tier: bad-event ratio > {alarm.threshold:.6g} "
                f"(budget {objective.error_budget:.6g} x {alarm.factor:.6g}). Input of a "
                f"composite alarm, no actions of its own. Runbook: {args.runbook_url}#slo"
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=alarm.threshold,
            evaluation_periods=alarm.evaluation_periods,
            datapoints_to_alarm=alarm.evaluation_periods,
            treat_missing_data="notBreaching",
            metric_queries=queries,
            # An input of the tier's composite alarm: the composite notifies.
            actions_enabled=False,
            tags={
                tag_keys.SERVICE: args.service,
                tag_keys.ALARM: f"slo-{objective.key}-{alarm.tier.name}-{alarm.label}",
            },
            opts=self._options(args, logical, name),
        )
        self.window_alarms.append(resource)
        return resource

    def _composite(
        self,
        name: str,
        args: SloAlarmsArgs,
        *,
        objective: Objective,
        tier: BurnTier,
        long_alarm: BurnAlarm,
        windows: Sequence[aws.cloudwatch.MetricAlarm],
        faster: aws.cloudwatch.CompositeAlarm | None,
    ) -> aws.cloudwatch.CompositeAlarm:
        logical = f"{name}-{objective.key}-{tier.name}"
        topic = args.topic_arns[tier.severity]
        suppressor = (
            aws.cloudwatch.CompositeAlarmActionsSuppressorArgs(
                alarm=faster.alarm_name, wait_period=60, extension_period=3_600
            )
            if faster is not None
            else None
        )
        composite = aws.cloudwatch.CompositeAlarm(
            logical,
            alarm_name=f"{args.physical_prefix}-{objective.key}-{tier.name}",
            alarm_description=(
                f"[{tier.severity.value}] {args.service}: {objective.description} is burning its "
                f"error budget {long_alarm.factor:.3g}x faster than sustainable "
                f"({tier.budget_share:.0%} of the {args.window_days}-day budget within "
                f"{long_alarm.label}). Runbook: {args.runbook_url}#slo-{tier.name}"
            ),
            alarm_rule=pulumi.Output.format(
                'ALARM("{0}") AND ALARM("{1}")', windows[0].arn, windows[1].arn
            ),
            alarm_actions=[topic],
            ok_actions=[topic],
            actions_suppressor=suppressor,
            tags={
                tag_keys.SERVICE: args.service,
                tag_keys.ALARM: f"slo-{objective.key}-{tier.name}",
            },
            opts=self._options(args, logical, name),
        )
        self.composites.append(composite)
        return composite
