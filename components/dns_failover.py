"""DNS failover: Route 53 health checks and failover records for each service's public name,
and (optionally) Route 53 Application Recovery Controller routing controls.

Each stack owns its half of every record pair: the primary stack the PRIMARY record, the dr
stack the SECONDARY, both created ahead of time. A failover therefore never changes a record
(the Route 53 record-change API lives in us-east-1); it happens because a health check fails:

    calculated health check (healthy only if every child is healthy)
      ├── HTTPS check of the region's load balancer (path, interval, threshold from config)
      ├── CloudWatch-alarm checks of chosen service alarms (optional)
      └── fence check: an alarm on `Resilience/Failover Fenced {System, Region}`, which
          `resilience failover` / `failback` raise and lift with PutMetricData

Every fence lives in the DR region, so a failover fences the primary with DR-region APIs
only, and a primary that comes back after an outage stays out of DNS. The DR region is
fenced while it stands by: it takes traffic only once `resilience failover` has promoted its
databases, seen it healthy and lifted the fence, never by Route 53 alone while its database
is still a read replica.

A fence must hold for as long as an outage lasts, with nobody at a keyboard. Route 53 does
not follow the fence alarm's *state* but its data stream ("Route 53 doesn't wait for the
CloudWatch alarm to go into the ALARM state. The status of a health check changes from
healthy to unhealthy based on the data stream and on the criteria in the CloudWatch alarm",
Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check is
healthy"), so one datapoint raised by a command stops fencing a minute later. Each fence is
therefore an EventBridge Scheduler schedule in the DR region that republishes the fence
value every minute (a universal target calling CloudWatch PutMetricData: "arn:aws:scheduler:::
aws-sdk:service:apiAction", EventBridge Scheduler User Guide, "Using universal targets"); the
schedule's payload *is* the fence's state, and `resilience failover` / `failback` change it
with UpdateSchedule (a DR-region API) and publish one datapoint at once. The health check
takes `LastKnownStatus` when a minute has no datapoint ("Route 53 uses the status of the
health check from the last time that CloudWatch had sufficient data to determine the alarm
state", Route 53 API Reference, HealthCheckConfig InsufficientDataHealthStatus), so a late or
failed invocation keeps the decision instead of flipping it.

A deploy must never lift or raise a fence. `ignore_changes` would not do it: Pulumi keeps
sending the value in its state ("Uses the serialized value from the stack state ... will
continue to send those stale values to the provider during subsequent updates", Pulumi docs,
Resource options: ignoreChanges) and the provider's update sends the whole target. Instead
the program writes the value the operations leave for the stack file it deploys: 0 for the
primary's fence, 1 for the DR region's while it stands by, 0 in active mode. A deploy whose
file disagrees with the operations (a failover under way, the DR region serving while the
file says standby, ...) is refused before anything is registered (model/serving.py), so the
value written is always the one already there.

With `failover.mechanism: arc` the record's health check is instead the region's ARC routing
control (a RECOVERY_CONTROL health check): only an operator (or `resilience failover`, through
the ARC cluster's data-plane endpoints) moves traffic. The calculated check stays, for alarms
and for the failover's readiness step.

Route 53 publishes health-check status only in us-east-1; `HealthCheckAlarms` puts the
critical alarms on it there, with whichever provider and topics the stack can use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import pricing
from components.monitoring import (
    AlarmContext,
    InventoryEntry,
    create_metric_alarm,
    dimensions,
    effective_threshold,
    resolve,
)
from model.alarms import BY_ID, route53_compatible
from model.config import AlbResource, FailoverConfig, Role, Service, Severity, StackConfig

COMPONENT_TYPE = "resilience:dns:RegionEndpoints"
ARC_COMPONENT_TYPE = "resilience:dns:RecoveryControls"
ALARMS_COMPONENT_TYPE = "resilience:dns:HealthCheckAlarms"
# Route 53 answers an alias of a load balancer with the load balancer's TTL: 60 seconds.
ALIAS_TTL_SECONDS = 60
FENCE_NAMESPACE = "Resilience/Failover"
FENCE_METRIC = "Fenced"
# ARC's control-plane API (clusters, control panels, routing controls) is in us-west-2 only.
ARC_CONTROL_PLANE_REGION = "us-west-2"


def failover_role(role: Role) -> str:
    return "PRIMARY" if role is Role.PRIMARY else "SECONDARY"


def fence_dimensions(system: str, region: str) -> dict[str, str]:
    """Dimensions of the fence metric; `resilience failover` publishes with the same."""
    return {"System": system, "Region": region}


FENCE_COMPONENT_TYPE = "resilience:dns:Fence"
# Every minute: the shortest rate EventBridge Scheduler takes ("rate(value unit)", where unit
# is minute | minutes | hour | hours | day | days; EventBridge Scheduler User Guide, "Schedule
# types": rate-based schedules) and the fence alarm's period.
FENCE_RATE = "rate(1 minute)"
FENCE_PERIOD_SECONDS = 60
FENCE_INSUFFICIENT_DATA = "LastKnownStatus"
# A stale fence value is worth nothing after its minute: retry an invocation for at most 60 s
# (RetryPolicy MaximumEventAgeInSeconds: "Minimum value of 60", EventBridge Scheduler API
# Reference, RetryPolicy), so a retried old value cannot outlive the next decision by more
# than a minute.
FENCE_RETRY_SECONDS = 60
FENCE_RETRIES = 2


def alarm_triggers(alarm: aws.cloudwatch.MetricAlarm) -> pulumi.Output[dict[str, str]]:
    """The criteria of an alarm a health check follows, as the check's `triggers`: "Route 53
    doesn't automatically update the alarm settings in the health check" when the alarm
    changes (Route 53 Developer Guide, "Values that you specify when you create or update
    health checks", monitor a CloudWatch alarm), and pulumi-aws's `triggers` exists "to
    synchronize the health check when an alarm is changed"."""
    criteria = pulumi.Output.all(
        alarm.namespace,
        alarm.metric_name,
        alarm.statistic,
        alarm.period,
        alarm.evaluation_periods,
        alarm.datapoints_to_alarm,
        alarm.threshold,
        alarm.comparison_operator,
        alarm.dimensions,
    )
    return criteria.apply(lambda values: {"alarm": json.dumps(values, sort_keys=True)})


def fence_schedule_name(system: str, region: str) -> str:
    """The schedule that republishes a region's fence ("Name ... Pattern: [0-9a-zA-Z-_.]+",
    1 to 64 characters: EventBridge Scheduler API Reference, CreateSchedule)."""
    return f"{system}-fence-{region}"


def fence_target_arn(partition: str) -> str:
    """The universal target for CloudWatch PutMetricData: "arn:aws:scheduler:::aws-sdk:
    service:apiAction" (EventBridge Scheduler User Guide, "Using universal targets")."""
    return f"arn:{partition}:scheduler:::aws-sdk:cloudwatch:putMetricData"


def fence_payload(system: str, region: str, value: int) -> str:
    """The schedule's Input: the PutMetricData request ("Input – A well-formed JSON you
    specify with the request parameters that EventBridge Scheduler sends to the target
    API", ibid.). No Timestamp: CloudWatch stamps the datapoint with the time it receives
    it (CloudWatch API Reference, MetricDatum Timestamp: "the time the metric data was
    received"). `resilience failover` writes the same shape with another value."""
    datum = {
        "MetricName": FENCE_METRIC,
        "Dimensions": [
            {"Name": k, "Value": v} for k, v in fence_dimensions(system, region).items()
        ],
        "Value": value,
    }
    return json.dumps({"Namespace": FENCE_NAMESPACE, "MetricData": [datum]}, sort_keys=True)


@dataclass(frozen=True)
class FenceArgs:
    system: str
    role: Role
    region: str  # the fenced region
    # Whether the stack file's role fences the region: the value the operations leave for
    # it (the DR region in standby), which a deploy writes.
    fenced: bool
    provider: aws.Provider  # the DR region: every fence lives there
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    runbook_url: str


class Fence(pulumi.ComponentResource):
    """A region's fence: the alarm Route 53 reads, and the schedule (with its role) that
    republishes the fence value every minute in the DR region."""

    alarm: aws.cloudwatch.MetricAlarm
    schedule: aws.scheduler.Schedule
    inventory: InventoryEntry

    def __init__(
        self, name: str, args: FenceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(FENCE_COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        dims = fence_dimensions(args.system, args.region)
        self.alarm = aws.cloudwatch.MetricAlarm(
            name,
            alarm_description=(
                f"[fence] {args.system} ({args.region}): 1 takes this region out of DNS, 0 lets "
                f"it back. The schedule {fence_schedule_name(args.system, args.region)} "
                f"publishes the value every minute; `resilience failover` and `failback` change "
                "it. Input of the region's health checks (Route 53 reads its datapoints, not its "
                f"state); it notifies no one. Runbook: {args.runbook_url}#failover"
            ),
            actions_enabled=False,
            namespace=FENCE_NAMESPACE,
            metric_name=FENCE_METRIC,
            dimensions=dims,
            # Standard resolution and a plain statistic, as Route 53 requires ("Route 53
            # supports CloudWatch alarms with the following features: Standard-resolution
            # metrics ... Statistics: Average, Minimum, Maximum, Sum, and SampleCount", Route 53
            # API Reference, AlarmIdentifier). Maximum: within a minute a raise wins.
            statistic="Maximum",
            period=FENCE_PERIOD_SECONDS,
            evaluation_periods=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            # The alarm's own state is only informational: a minute without data leaves it as
            # CloudWatch's default says; the health check keeps its last status.
            treat_missing_data="missing",
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                # The alarm kept its logical name when the fence became a component.
                aliases=[pulumi.Alias(parent=opts.parent if opts else None)],
            ),
        )
        self.inventory = InventoryEntry(
            alarm=name,
            alarm_id="failover:fence",
            service=None,
            kind="metric",
            severity=None,
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            unit="fenced (1 = yes)",
            monthly_usd=pricing.metric_alarm(1, FENCE_PERIOD_SECONDS),
        )
        role = aws.iam.Role(
            f"{name}-publisher",
            name=f"{args.system}-{args.role.value}-fence-{args.region}"[:64],
            description=f"EventBridge Scheduler publishes the fence of {args.region}",
            # "To prevent the confused deputy problem ... aws:SourceAccount" (EventBridge
            # Scheduler User Guide, "Setting up the execution role").
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "scheduler.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                            }
                        ],
                    },
                    sort_keys=True,
                )
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-publish",
            role=role.id,
            # PutMetricData has no resource-level permissions; the namespace condition key
            # narrows it ("cloudwatch:namespace ... Filters actions based on the presence of
            # optional namespace values", Service Authorization Reference, Amazon CloudWatch).
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "cloudwatch:PutMetricData",
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"cloudwatch:namespace": FENCE_NAMESPACE}
                            },
                        }
                    ],
                },
                sort_keys=True,
            ),
            opts=child,
        )
        self.schedule = aws.scheduler.Schedule(
            f"{name}-republish",
            name=fence_schedule_name(args.system, args.region),
            group_name="default",
            description=(
                f"Republishes the fence of {args.region} every minute (the payload is the fence "
                "state: `resilience failover` / `failback` change it, and a deploy writes the "
                "value they leave for its stack file)."
            ),
            schedule_expression=FENCE_RATE,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            state="ENABLED",
            target=aws.scheduler.ScheduleTargetArgs(
                arn=pulumi.Output.from_input(args.partition).apply(fence_target_arn),
                role_arn=role.arn,
                input=fence_payload(args.system, args.region, 1 if args.fenced else 0),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_event_age_in_seconds=FENCE_RETRY_SECONDS,
                    maximum_retry_attempts=FENCE_RETRIES,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.register_outputs({"schedule": self.schedule.name, "alarm": self.alarm.name})


def load_balancer_arn(partition: str, account_id: str, region: str, dimension: str) -> str:
    """ARN of a load balancer from its CloudWatch dimension (`app/<name>/<id>`)."""
    return f"arn:{partition}:elasticloadbalancing:{region}:{account_id}:loadbalancer/{dimension}"


def _arn_of(region: str, dimension: str) -> Callable[[list[Any]], str]:
    return lambda v: load_balancer_arn(str(v[0]), str(v[1]), region, dimension)


@dataclass(frozen=True)
class RegionEndpointsArgs:
    system: str
    role: Role
    region: str
    failover: FailoverConfig
    services: Sequence[Service]  # services with `dns`; each has an ALB in this role
    provider: aws.Provider
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    config: StackConfig  # for the thresholds of the alarms health checks follow
    runbook_url: str
    # Where the fence alarm lives (the DR region) and whether missing data means fenced
    # (the DR region while it stands by).
    fence_provider: aws.Provider
    fence_region: str
    standby_fenced: bool = False
    # ARC: this region's routing control (None with the health-check mechanism).
    routing_control_arn: pulumi.Input[str] | None = None


@dataclass
class Endpoint:
    """One service's name in one region."""

    record: aws.route53.Record
    health_check: aws.route53.HealthCheck  # the calculated one
    https_check: aws.route53.HealthCheck
    record_check: aws.route53.HealthCheck  # what the record follows


class RegionEndpoints(pulumi.ComponentResource):
    """This region's failover records and their health checks."""

    endpoints: dict[str, Endpoint]
    inventory: list[InventoryEntry]  # the fence alarm
    monthly_usd: float  # the Route 53 health checks (alarms are in `inventory`)
    fence_monthly_usd: float  # republishing the fence (EventBridge Scheduler, PutMetricData)

    def __init__(
        self, name: str, args: RegionEndpointsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        settings = args.failover.health_check
        label = f"{args.system}-{args.role.value}"
        self.monthly_usd = 0.0
        self.fence_dimensions = fence_dimensions(args.system, args.region)
        self._fence_region = args.fence_region

        fence = Fence(
            f"{name}-fence",
            FenceArgs(
                system=args.system,
                role=args.role,
                region=args.region,
                fenced=args.standby_fenced,
                provider=args.fence_provider,
                account_id=args.account_id,
                partition=args.partition,
                runbook_url=args.runbook_url,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.fence_alarm = fence.alarm
        self.fence_schedule = fence.schedule
        self.inventory = [fence.inventory]
        self.fence_check = aws.route53.HealthCheck(
            f"{name}-fence",
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=self.fence_alarm.name,
            cloudwatch_alarm_region=args.fence_region,
            # A minute without a datapoint (a late or failed invocation of the schedule)
            # keeps the last decision. A new check has none and starts healthy ("For new
            # health checks that have no last known status, the default status for the health
            # check is healthy", Route 53 API Reference, HealthCheckConfig): the DR region's
            # record is created by the same deploy as its fence, and is fenced from the
            # schedule's first invocation, within a minute.
            insufficient_data_health_status=FENCE_INSUFFICIENT_DATA,
            triggers=alarm_triggers(self.fence_alarm),
            tags={"Name": f"{label} fence"},
            opts=child,
        )
        self.monthly_usd += pricing.ROUTE53_HEALTH_CHECK
        self.fence_monthly_usd = pricing.FENCE_REPUBLISH

        self.recovery_check: aws.route53.HealthCheck | None = None
        if args.routing_control_arn is not None:
            self.recovery_check = aws.route53.HealthCheck(
                f"{name}-routing-control",
                type="RECOVERY_CONTROL",
                routing_control_arn=args.routing_control_arn,
                tags={"Name": f"{label} routing control"},
                opts=child,
            )
            self.monthly_usd += pricing.ROUTE53_HEALTH_CHECK

        self.endpoints = {}
        for service in args.services:
            here = service.resources.primary if args.role is Role.PRIMARY else service.resources.dr
            alb = here.alb
            if service.dns is None or alb is None:
                raise ValueError(f"service {service.name} has no dns or no load balancer")
            lb_arn = pulumi.Output.all(args.partition, args.account_id).apply(
                _arn_of(args.region, alb.load_balancer)
            )
            lb = aws.lb.get_load_balancer_output(
                arn=lb_arn,
                opts=pulumi.InvokeOutputOptions(parent=self, provider=args.provider),
            )
            prefix = f"{name}-{service.name}"
            tag = f"{label} {service.name}"
            olds = [f"{name}-{old}" for old in service.previous_names]

            def child_of(
                logical: str, olds: list[str] = olds, prefix: str = prefix
            ) -> pulumi.ResourceOptions:
                tail = logical.removeprefix(prefix)
                return pulumi.ResourceOptions.merge(
                    child,
                    pulumi.ResourceOptions(aliases=[pulumi.Alias(name=o + tail) for o in olds]),
                )

            https = aws.route53.HealthCheck(
                f"{prefix}-https",
                type="HTTPS",
                fqdn=lb.dns_name,
                port=settings.port,
                resource_path=service.dns.health_check_path or settings.path,
                request_interval=settings.interval_seconds,
                failure_threshold=settings.failure_threshold,
                enable_sni=True,
                regions=list(settings.regions) or None,
                tags={"Name": f"{tag} https"},
                opts=child_of(f"{prefix}-https"),
            )
            self.monthly_usd += pricing.https_health_check(settings.interval_seconds)
            children: list[pulumi.Input[str]] = [https.id]
            for alarm_id in settings.alarms:
                signal = self._signal_alarm(f"{prefix}-{alarm_id}", alarm_id, service, alb, args)
                check = aws.route53.HealthCheck(
                    f"{prefix}-{alarm_id}",
                    type="CLOUDWATCH_METRIC",
                    cloudwatch_alarm_name=signal.name,
                    cloudwatch_alarm_region=args.region,
                    insufficient_data_health_status="LastKnownStatus",
                    triggers=alarm_triggers(signal),
                    tags={"Name": f"{tag} {alarm_id}"},
                    opts=child_of(f"{prefix}-{alarm_id}"),
                )
                self.monthly_usd += pricing.ROUTE53_HEALTH_CHECK
                children.append(check.id)
            children.append(self.fence_check.id)
            calculated = aws.route53.HealthCheck(
                f"{prefix}-health",
                type="CALCULATED",
                child_healthchecks=children,
                child_health_threshold=len(children),
                tags={"Name": f"{tag} health"},
                opts=child_of(f"{prefix}-health"),
            )
            self.monthly_usd += pricing.ROUTE53_HEALTH_CHECK
            followed = self.recovery_check or calculated
            record = aws.route53.Record(
                f"{prefix}-record",
                zone_id=args.failover.hosted_zone_id,
                name=service.dns.record,
                type="A",
                set_identifier=f"{args.system}-{args.role.value}-{args.region}",
                failover_routing_policies=[
                    aws.route53.RecordFailoverRoutingPolicyArgs(type=failover_role(args.role))
                ],
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=lb.dns_name, zone_id=lb.zone_id, evaluate_target_health=True
                    )
                ],
                health_check_id=followed.id,
                opts=child_of(f"{prefix}-record"),
            )
            self.endpoints[service.name] = Endpoint(record, calculated, https, followed)
        self.register_outputs(
            {
                "health_checks": {n: e.health_check.id for n, e in self.endpoints.items()},
                "fence_alarm": self.fence_alarm.name,
            }
        )

    def _signal_alarm(
        self,
        logical: str,
        alarm_id: str,
        service: Service,
        alb: AlbResource,
        args: RegionEndpointsArgs,
    ) -> aws.cloudwatch.MetricAlarm:
        """A catalog alarm (with the service's overrides) in the one-metric form Route 53
        can follow; an input of the health check, so it notifies no one (the catalog alarm
        itself does)."""
        resolved = resolve(BY_ID[alarm_id], service.alarms.get(alarm_id))
        if resolved is None or not route53_compatible(resolved.spec):
            raise ValueError(
                f"failover.health_check.alarms: {alarm_id} is disabled for {service.name} or "
                "not an alarm Route 53 can follow (the loader checks this)"
            )
        (metric,) = resolved.spec.metrics
        threshold, unit = effective_threshold(resolved, alb, args.config)
        alarm = aws.cloudwatch.MetricAlarm(
            f"{logical}-signal",
            alarm_description=(
                f"[health check] {service.name} ({args.region}): {alarm_id} at {threshold:g} "
                f"{unit}, followed by the {failover_role(args.role)} record's health check; it "
                f"notifies no one. Runbook: {service.runbook_url}#{alarm_id}"
            ),
            actions_enabled=False,
            namespace=metric.namespace,
            metric_name=metric.name,
            statistic=metric.stat,
            dimensions=dimensions(metric.dims, alb),
            period=resolved.period_seconds,
            evaluation_periods=resolved.evaluation_periods,
            datapoints_to_alarm=resolved.datapoints_to_alarm,
            comparison_operator=resolved.spec.comparison.value,
            threshold=threshold,
            treat_missing_data=resolved.spec.treat_missing_data,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                aliases=[
                    pulumi.Alias(name=f"{self._name}-{old}-{alarm_id}-signal")
                    for old in service.previous_names
                ],
            ),
        )
        self.inventory.append(
            InventoryEntry(
                alarm=f"{logical}-signal",
                alarm_id=f"failover:{alarm_id}",
                service=service.name,
                kind="metric",
                severity=None,
                threshold=threshold,
                comparison=resolved.spec.comparison.value,
                unit=unit,
                monthly_usd=pricing.metric_alarm(1, resolved.period_seconds),
            )
        )
        return alarm

    def outputs(self) -> dict[str, object]:
        return {
            "fence_alarm": self.fence_alarm.name,
            "fence_region": self._fence_region,
            "fence_metric": {
                "namespace": FENCE_NAMESPACE,
                "name": FENCE_METRIC,
                "dimensions": self.fence_dimensions,
            },
            "endpoints": {
                name: {
                    "record": e.record.name,
                    "set_identifier": e.record.set_identifier,
                    "health_check_id": e.health_check.id,
                    "https_check_id": e.https_check.id,
                    "record_health_check_id": e.record_check.id,
                }
                for name, e in self.endpoints.items()
            },
        }


@dataclass(frozen=True)
class RecoveryControlsArgs:
    system: str
    primary_region: str
    dr_region: str
    # A provider in the ARC control-plane region (us-west-2).
    provider: aws.Provider


class RecoveryControls(pulumi.ComponentResource):
    """ARC cluster, control panel, one routing control per region and a safety rule that at
    least one of them stays on. Owned by the primary stack; the dr stack reads the ARNs."""

    def __init__(
        self, name: str, args: RecoveryControlsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(ARC_COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.cluster = aws.route53recoverycontrol.Cluster(
            f"{name}-cluster", name=args.system, opts=child
        )
        self.control_panel = aws.route53recoverycontrol.ControlPanel(
            f"{name}-panel", name=args.system, cluster_arn=self.cluster.arn, opts=child
        )
        self.routing_controls = {
            role: aws.route53recoverycontrol.RoutingControl(
                f"{name}-{role.value}",
                name=f"{args.system}-{region}",
                cluster_arn=self.cluster.arn,
                control_panel_arn=self.control_panel.arn,
                opts=child,
            )
            for role, region in ((Role.PRIMARY, args.primary_region), (Role.DR, args.dr_region))
        }
        aws.route53recoverycontrol.SafetyRule(
            f"{name}-at-least-one-on",
            name=f"{args.system}-at-least-one-region",
            control_panel_arn=self.control_panel.arn,
            asserted_controls=[c.arn for c in self.routing_controls.values()],
            wait_period_ms=5000,
            rule_config=aws.route53recoverycontrol.SafetyRuleRuleConfigArgs(
                inverted=False, threshold=1, type="ATLEAST"
            ),
            opts=child,
        )
        self.register_outputs({"cluster_arn": self.cluster.arn})

    def outputs(self) -> dict[str, object]:
        return {
            "cluster_arn": self.cluster.arn,
            "cluster_endpoints": self.cluster.cluster_endpoints.apply(
                lambda eps: [{"endpoint": e.endpoint, "region": e.region} for e in eps or []]
            ),
            "control_panel_arn": self.control_panel.arn,
            "routing_controls": {r.value: c.arn for r, c in self.routing_controls.items()},
        }


@dataclass(frozen=True)
class HealthCheckAlarmsArgs:
    config: StackConfig
    # Service name -> calculated health check id.
    health_checks: Mapping[str, pulumi.Input[str]]
    provider: aws.Provider  # us-east-1, where Route 53 publishes HealthCheckStatus
    topic_arns: Mapping[Severity, pulumi.Input[str]]
    region_label: str  # the region whose endpoints the checks watch
    # Keep the alarms when the program drops them (the dr stack switching to active).
    retain_on_delete: bool = False


class HealthCheckAlarms(pulumi.ComponentResource):
    """Critical alarms on the health checks' status (catalog `route53-health-check-failed`)."""

    inventory: list[InventoryEntry]
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(
        self, name: str, args: HealthCheckAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(ALARMS_COMPONENT_TYPE, name, None, opts)
        spec = BY_ID["route53-health-check-failed"]
        self.inventory, self.alarms = [], []
        for service_name, check_id in args.health_checks.items():
            service = args.config.service(service_name)
            resolved = resolve(spec, service.alarms.get(spec.id))
            if resolved is None:
                continue
            ctx = AlarmContext(
                parent=self,
                provider=args.provider,
                topic_arns={s: pulumi.Output.from_input(a) for s, a in args.topic_arns.items()},
                config=args.config,
                region=args.region_label,
                runbook_url=service.runbook_url,
                service=service.name,
                retain_on_delete=args.retain_on_delete,
            )
            alarm, entry = create_metric_alarm(
                f"{name}-{service.name}",
                resolved,
                {"id": check_id},
                ctx,
                aliases=[f"{name}-{old}" for old in service.previous_names],
            )
            self.alarms.append(alarm)
            self.inventory.append(entry)
        self.register_outputs({"alarm_count": len(self.inventory)})
