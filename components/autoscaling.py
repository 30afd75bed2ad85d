"""Capacity of a service's compute in one region: an owned Auto Scaling group or an ECS
service registered with Application Auto Scaling, its scaling policies, yearly peaks and an
alarm when it cannot grow any further.

Policies (seed numbers are the config defaults, see `model.config.Scaling`):
- CPU: target tracking at 70 % for scale-out (warm-up / cooldown 5 min) with scale-in
  switched off, plus a scale-in policy of -30 % when CPU stays below 30 % for 10 minutes
  (cooldown 10 min). Target tracking alone would scale in just under its target.
- Requests: target tracking on RequestCountPerTarget at 80 % of a target's limit.
- Queue: +100 % when more than 10 messages wait (cooldown 3 min), -1 once the queue has been
  empty for 15 minutes.
- Peaks: two yearly scheduled actions per peak (start: bounds x factor; end: back).
- At max: a warning alarm when the desired capacity sits at the maximum for 15 minutes.

The capacity a stack sets comes from `capacity_for`: the primary and an `active` DR region
run full capacity, `warm-standby` a share of the minimum, `pilot-light` nothing. A
`pulumi up` during a peak keeps the peak's bounds (see `peak_factor`), so it never undoes
what a scheduled action did.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import pulumi
import pulumi_aws as aws
from pulumi_aws.appautoscaling import (
    PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs as _EcsPredefinedArgs,  # noqa: E501
)

from components import pricing
from components.monitoring import InventoryEntry
from model.config import (
    AlbResource,
    AsgResource,
    DrMode,
    EcsResource,
    PeakSchedule,
    Role,
    Scaling,
)

COMPONENT_TYPE = "resilience:autoscaling:ServiceScaling"
_aas = aws.appautoscaling
_TrackingArgs = aws.autoscaling.PolicyTargetTrackingConfigurationArgs
_PredefinedArgs = aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs
# ReskFlow scales on "request_rate: 80% of limit" (L1201-1205).
REQUEST_TARGET_SHARE = 0.8
ASG_GROUP_METRICS: list[aws.autoscaling.Metric] = [
    aws.autoscaling.Metric(name)
    for name in (
        "GroupDesiredCapacity",
        "GroupInServiceInstances",
        "GroupMaxSize",
        "GroupMinSize",
        "GroupPendingInstances",
        "GroupTotalInstances",
    )
]


@dataclass(frozen=True)
class Capacity:
    """Bounds one stack sets on a service's compute."""

    min: int
    max: int
    mode: str  # full | warm-standby | pilot-light
    peaks: bool  # whether yearly peak schedules apply

    def as_output(self) -> dict[str, object]:
        return {"min": self.min, "max": self.max, "mode": self.mode}


def capacity_for(scaling: Scaling, role: Role, mode: DrMode, warm_standby_percent: int) -> Capacity:
    if role is Role.PRIMARY or mode is DrMode.ACTIVE:
        return Capacity(scaling.min, scaling.max, "full", peaks=True)
    if mode is DrMode.WARM_STANDBY:
        share = max(1, math.ceil(scaling.min * warm_standby_percent / 100))
        return Capacity(share, scaling.max, mode.value, peaks=False)
    return Capacity(0, 0, mode.value, peaks=False)


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def in_peak(peak: PeakSchedule, today: date) -> bool:
    """Whether `today` lies in the yearly window [start, end) (it may span New Year)."""
    start, end, now = _month_day(peak.start), _month_day(peak.end), (today.month, today.day)
    if start < end:
        return start <= now < end
    return now >= start or now < end


def peak_factor(peaks: Sequence[PeakSchedule], today: date) -> float:
    """The largest factor of the peaks running today (1 outside peaks)."""
    return max([p.factor for p in peaks if in_peak(p, today)], default=1.0)


def scaled(value: int, factor: float) -> int:
    return math.ceil(value * factor)


def cron(month_day: str) -> tuple[int, int]:
    return _month_day(month_day)


@dataclass(frozen=True)
class ServiceScalingArgs:
    service: str
    scaling: Scaling
    capacity: Capacity
    compute: AsgResource | EcsResource
    alb: AlbResource | None
    region: str
    provider: aws.Provider
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    subnet_ids: Sequence[str]
    warning_topic_arn: pulumi.Input[str]
    runbook_url: str
    today: date
    # Former component names of the service (a rename keeps every resource's identity).
    previous_names: Sequence[str] = ()
    # Tags the group puts on the instances it launches (provider default tags reach the
    # group, not its instances): cost allocation and ownership per service.
    instance_tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Trigger:
    """A CloudWatch alarm that drives a step or simple scaling policy."""

    key: str
    namespace: str
    metric: str
    stat: str
    dimensions: dict[str, pulumi.Input[str]]
    comparison: str
    threshold: float
    minutes: int
    summary: str
    # EC2 basic monitoring publishes every 5 minutes; SQS and ECS every minute.
    period: int = 60

    @property
    def periods(self) -> int:
        return max(1, -(-self.minutes * 60 // self.period))


class ServiceScaling(pulumi.ComponentResource):
    """Scaling of one service's compute in one region."""

    alarms: list[aws.cloudwatch.MetricAlarm]
    notifying: list[aws.cloudwatch.MetricAlarm]  # alarms that reach people (at max)
    inventory: list[InventoryEntry]
    monthly_usd: float

    def __init__(
        self, name: str, args: ServiceScalingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        aliases = [pulumi.Alias(name=old) for old in args.previous_names]
        super().__init__(
            COMPONENT_TYPE,
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases)),
        )
        self._name, self._args = name, args
        self.alarms, self.notifying, self.inventory = [], [], []
        self.monthly_usd = 0.0
        cap = args.capacity
        factor = peak_factor(args.scaling.peaks, args.today) if cap.peaks else 1.0
        # (min, max) set now: the capacity, times the factor of a peak running today.
        self.bounds = (scaled(cap.min, factor), scaled(cap.max, factor))
        self.peak_factor = factor
        if isinstance(args.compute, AsgResource):
            self._asg(args.compute)
        else:
            self._ecs(args.compute)
        self.register_outputs({"min": self.bounds[0], "max": self.bounds[1]})

    # -- shared -------------------------------------------------------------------------

    def _opts(self, logical: str) -> pulumi.ResourceOptions:
        """Options of a child: in this component and region, aliased to its names under the
        service's former names."""
        tail = logical.removeprefix(self._name)
        return pulumi.ResourceOptions(
            parent=self,
            provider=self._args.provider,
            aliases=[pulumi.Alias(name=f"{old}{tail}") for old in self._args.previous_names],
        )

    def _record(
        self,
        alarm: str,
        *,
        kind: str,
        severity: str | None,
        threshold: float,
        comparison: str,
        unit: str,
        metrics: int,
    ) -> None:
        cost = pricing.metric_alarm(metrics, 60)
        self.monthly_usd += cost
        self.inventory.append(
            InventoryEntry(
                alarm=alarm,
                alarm_id=f"scaling:{kind}",
                service=self._args.service,
                kind="metric",
                severity=severity,
                threshold=threshold,
                comparison=comparison,
                unit=unit,
                monthly_usd=cost,
            )
        )

    def _trigger_alarm(
        self, trigger: _Trigger, action: pulumi.Input[str]
    ) -> aws.cloudwatch.MetricAlarm:
        args = self._args
        logical = f"{self._name}-{trigger.key}"
        alarm = aws.cloudwatch.MetricAlarm(
            logical,
            alarm_description=(
                f"[scaling] {args.service} ({args.region}): {trigger.summary}. Drives a "
                f"scaling policy; it notifies no one. Runbook: {args.runbook_url}#scaling"
            ),
            namespace=trigger.namespace,
            metric_name=trigger.metric,
            statistic=trigger.stat,
            dimensions=trigger.dimensions,
            period=trigger.period,
            evaluation_periods=trigger.periods,
            datapoints_to_alarm=trigger.periods,
            comparison_operator=trigger.comparison,
            threshold=trigger.threshold,
            treat_missing_data="notBreaching",
            alarm_actions=[action],
            opts=self._opts(logical),
        )
        self.alarms.append(alarm)
        self._record(
            logical,
            kind=trigger.key,
            severity=None,
            threshold=trigger.threshold,
            comparison=trigger.comparison,
            unit=trigger.metric,
            metrics=1,
        )
        return alarm

    def _at_max_alarm(self, queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgs]) -> None:
        args = self._args
        minutes = args.scaling.at_max_alarm_minutes
        logical = f"{self._name}-at-max"
        alarm = aws.cloudwatch.MetricAlarm(
            logical,
            alarm_description=(
                f"[warning] {args.service} ({args.region}): capacity at its maximum "
                f"({self.bounds[1]}) for {minutes} minutes; scaling cannot add more. Raise "
                f"scaling.max or find the bottleneck. Runbook: {args.runbook_url}#at-max"
            ),
            metric_queries=queries,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            evaluation_periods=minutes,
            datapoints_to_alarm=minutes,
            treat_missing_data="missing",
            alarm_actions=[args.warning_topic_arn],
            ok_actions=[args.warning_topic_arn],
            opts=self._opts(logical),
        )
        self.alarms.append(alarm)
        self.notifying.append(alarm)
        self._record(
            logical,
            kind="at-max",
            severity="warning",
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            unit="at maximum (1 = yes)",
            metrics=len(queries) - 1,
        )

    def _queue_triggers(self) -> tuple[_Trigger, _Trigger] | None:
        queue = self._args.scaling.queue
        if queue is None:
            return None
        dims: dict[str, pulumi.Input[str]] = {"QueueName": queue.queue_name}
        metric = "ApproximateNumberOfMessagesVisible"
        return (
            _Trigger(
                "queue-backlog",
                "AWS/SQS",
                metric,
                "Maximum",
                dims,
                "GreaterThanThreshold",
                queue.scale_out_at_messages,
                2,
                f"more than {queue.scale_out_at_messages} messages waiting in {queue.queue_name}",
            ),
            _Trigger(
                "queue-empty",
                "AWS/SQS",
                metric,
                "Maximum",
                dims,
                "LessThanOrEqualToThreshold",
                0,
                queue.scale_in_after_empty_minutes,
                f"{queue.queue_name} empty for {queue.scale_in_after_empty_minutes} minutes",
            ),
        )

    def _cpu_low(self, namespace: str, dims: dict[str, pulumi.Input[str]]) -> _Trigger | None:
        cpu = self._args.scaling.cpu
        if cpu is None:
            return None
        return _Trigger(
            "cpu-low",
            namespace,
            "CPUUtilization",
            "Average",
            dims,
            "LessThanThreshold",
            cpu.scale_in_below_percent,
            cpu.scale_in_cooldown_minutes,
            f"CPU below {cpu.scale_in_below_percent:g} % for {cpu.scale_in_cooldown_minutes} "
            "minutes",
            period=300 if namespace == "AWS/EC2" else 60,
        )

    def _request_label(self) -> str | None:
        alb = self._args.alb
        if self._args.scaling.request_limit_per_target is None or alb is None:
            return None
        return f"{alb.load_balancer}/{alb.target_group}"

    def _peaks(self) -> list[tuple[str, str, int, int]]:
        """(action name, cron, min, max) for each peak's start and end."""
        args = self._args
        if not args.capacity.peaks:
            return []
        low, high = args.capacity.min, args.capacity.max
        out = []
        for peak in args.scaling.peaks:
            for edge, when, bounds in (
                ("start", peak.start, (scaled(low, peak.factor), scaled(high, peak.factor))),
                ("end", peak.end, (low, high)),
            ):
                month, day = cron(when)
                out.append((f"{peak.name}-{edge}", f"{day} {month}", *bounds))
        return out

    # -- EC2 Auto Scaling ---------------------------------------------------------------

    def _asg(self, asg: AsgResource) -> None:
        args = self._args
        scaling = args.scaling
        target_groups: list[pulumi.Input[str]] = []
        if args.alb is not None and args.alb.target_group:
            tg = args.alb.target_group
            target_groups.append(
                pulumi.Output.all(args.partition, args.account_id).apply(
                    lambda v: f"arn:{v[0]}:elasticloadbalancing:{args.region}:{v[1]}:{tg}"
                )
            )
        warmup = (scaling.cpu.scale_out_cooldown_minutes if scaling.cpu else 5) * 60
        self.group = aws.autoscaling.Group(
            f"{self._name}-group",
            name=asg.name,
            min_size=self.bounds[0],
            max_size=self.bounds[1],
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                name=asg.launch_template, version=asg.launch_template_version
            ),
            vpc_zone_identifiers=list(args.subnet_ids),
            target_group_arns=target_groups or None,
            health_check_type="ELB" if target_groups else "EC2",
            health_check_grace_period=asg.health_check_grace_seconds,
            default_instance_warmup=warmup,
            enabled_metrics=[*ASG_GROUP_METRICS],
            metrics_granularity="1Minute",
            capacity_rebalance=True,
            tags=[
                aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=True)
                for key, value in sorted(args.instance_tags.items())
            ]
            or None,
            opts=self._opts(f"{self._name}-group"),
        )
        group = self.group.name
        dims: dict[str, pulumi.Input[str]] = {"AutoScalingGroupName": group}
        if scaling.cpu is not None:
            aws.autoscaling.Policy(
                f"{self._name}-cpu",
                autoscaling_group_name=group,
                policy_type="TargetTrackingScaling",
                estimated_instance_warmup=warmup,
                target_tracking_configuration=_TrackingArgs(
                    predefined_metric_specification=_PredefinedArgs(
                        predefined_metric_type="ASGAverageCPUUtilization"
                    ),
                    target_value=scaling.cpu.target_percent,
                    disable_scale_in=True,
                ),
                opts=self._opts(f"{self._name}-cpu"),
            )
            trigger = self._cpu_low("AWS/EC2", dims)
            assert trigger is not None
            scale_in = aws.autoscaling.Policy(
                f"{self._name}-cpu-scale-in",
                autoscaling_group_name=group,
                policy_type="SimpleScaling",
                adjustment_type="PercentChangeInCapacity",
                scaling_adjustment=-scaling.cpu.scale_in_step_percent,
                min_adjustment_magnitude=1,
                cooldown=scaling.cpu.scale_in_cooldown_minutes * 60,
                opts=self._opts(f"{self._name}-cpu-scale-in"),
            )
            self._trigger_alarm(trigger, scale_in.arn)
        label = self._request_label()
        if label is not None:
            assert scaling.request_limit_per_target is not None
            aws.autoscaling.Policy(
                f"{self._name}-requests",
                autoscaling_group_name=group,
                policy_type="TargetTrackingScaling",
                estimated_instance_warmup=warmup,
                target_tracking_configuration=_TrackingArgs(
                    predefined_metric_specification=_PredefinedArgs(
                        predefined_metric_type="ALBRequestCountPerTarget", resource_label=label
                    ),
                    target_value=round(scaling.request_limit_per_target * REQUEST_TARGET_SHARE, 1),
                    disable_scale_in=True,
                ),
                opts=self._opts(f"{self._name}-requests"),
            )
        queue = self._queue_triggers()
        if queue is not None and scaling.queue is not None:
            backlog, empty = queue
            out = aws.autoscaling.Policy(
                f"{self._name}-queue-scale-out",
                autoscaling_group_name=group,
                policy_type="SimpleScaling",
                adjustment_type="PercentChangeInCapacity",
                scaling_adjustment=scaling.queue.scale_out_percent,
                min_adjustment_magnitude=1,
                cooldown=scaling.queue.cooldown_minutes * 60,
                opts=self._opts(f"{self._name}-queue-scale-out"),
            )
            self._trigger_alarm(backlog, out.arn)
            drain = aws.autoscaling.Policy(
                f"{self._name}-queue-scale-in",
                autoscaling_group_name=group,
                policy_type="SimpleScaling",
                adjustment_type="ChangeInCapacity",
                scaling_adjustment=-1,
                cooldown=scaling.queue.cooldown_minutes * 60,
                opts=self._opts(f"{self._name}-queue-scale-in"),
            )
            self._trigger_alarm(empty, drain.arn)
        for action, when, low, high in self._peaks():
            aws.autoscaling.Schedule(
                f"{self._name}-{action}",
                scheduled_action_name=action,
                autoscaling_group_name=group,
                min_size=low,
                max_size=high,
                # The provider sends an unset desired capacity as 0, which AWS refuses below
                # the minimum; -1 leaves the desired capacity to scaling (pulumi-aws,
                # aws.autoscaling.Schedule: "Set to `-1` if you don't want to change the
                # desired capacity at the scheduled time. Defaults to `0`.").
                desired_capacity=-1,
                recurrence=f"0 0 {when} *",
                time_zone="Etc/UTC",
                opts=self._opts(f"{self._name}-{action}"),
            )
        if self.bounds[1] > 0:

            def metric(key: str, name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
                return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=key,
                    return_data=False,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace="AWS/AutoScaling",
                        metric_name=name,
                        stat="Maximum",
                        period=60,
                        dimensions=dims,
                    ),
                )

            self._at_max_alarm(
                [
                    metric("desired", "GroupDesiredCapacity"),
                    metric("maxsize", "GroupMaxSize"),
                    aws.cloudwatch.MetricAlarmMetricQueryArgs(
                        id="atmax",
                        expression="IF(desired >= maxsize, 1, 0)",
                        label="at maximum",
                        return_data=True,
                    ),
                ]
            )

    # -- ECS through Application Auto Scaling -------------------------------------------

    def _ecs(self, ecs: EcsResource) -> None:
        args = self._args
        scaling = args.scaling
        self.target = aws.appautoscaling.Target(
            f"{self._name}-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=ecs.resource_id,
            min_capacity=self.bounds[0],
            max_capacity=self.bounds[1],
            opts=self._opts(f"{self._name}-target"),
        )
        target = self.target
        ns, dim, rid = target.service_namespace, target.scalable_dimension, target.resource_id
        dims: dict[str, pulumi.Input[str]] = {
            "ClusterName": ecs.cluster,
            "ServiceName": ecs.service,
        }
        tracking = _aas.PolicyTargetTrackingScalingPolicyConfigurationArgs
        predefined = _EcsPredefinedArgs
        step = _aas.PolicyStepScalingPolicyConfigurationArgs
        adjustment = _aas.PolicyStepScalingPolicyConfigurationStepAdjustmentArgs
        if scaling.cpu is not None:
            aws.appautoscaling.Policy(
                f"{self._name}-cpu",
                policy_type="TargetTrackingScaling",
                target_tracking_scaling_policy_configuration=tracking(
                    predefined_metric_specification=predefined(
                        predefined_metric_type="ECSServiceAverageCPUUtilization"
                    ),
                    target_value=scaling.cpu.target_percent,
                    scale_out_cooldown=scaling.cpu.scale_out_cooldown_minutes * 60,
                    scale_in_cooldown=scaling.cpu.scale_in_cooldown_minutes * 60,
                    disable_scale_in=True,
                ),
                service_namespace=ns,
                scalable_dimension=dim,
                resource_id=rid,
                opts=self._opts(f"{self._name}-cpu"),
            )
            trigger = self._cpu_low("AWS/ECS", dims)
            assert trigger is not None
            scale_in = aws.appautoscaling.Policy(
                f"{self._name}-cpu-scale-in",
                policy_type="StepScaling",
                step_scaling_policy_configuration=step(
                    adjustment_type="PercentChangeInCapacity",
                    cooldown=scaling.cpu.scale_in_cooldown_minutes * 60,
                    metric_aggregation_type="Average",
                    min_adjustment_magnitude=1,
                    step_adjustments=[
                        adjustment(
                            metric_interval_upper_bound="0",
                            scaling_adjustment=-scaling.cpu.scale_in_step_percent,
                        )
                    ],
                ),
                service_namespace=ns,
                scalable_dimension=dim,
                resource_id=rid,
                opts=self._opts(f"{self._name}-cpu-scale-in"),
            )
            self._trigger_alarm(trigger, scale_in.arn)
        label = self._request_label()
        if label is not None:
            assert scaling.request_limit_per_target is not None
            aws.appautoscaling.Policy(
                f"{self._name}-requests",
                policy_type="TargetTrackingScaling",
                target_tracking_scaling_policy_configuration=tracking(
                    predefined_metric_specification=predefined(
                        predefined_metric_type="ALBRequestCountPerTarget", resource_label=label
                    ),
                    target_value=round(scaling.request_limit_per_target * REQUEST_TARGET_SHARE, 1),
                    disable_scale_in=True,
                ),
                service_namespace=ns,
                scalable_dimension=dim,
                resource_id=rid,
                opts=self._opts(f"{self._name}-requests"),
            )
        queue = self._queue_triggers()
        if queue is not None and scaling.queue is not None:
            backlog, empty = queue
            for trigger, kind, amount, bound in (
                (backlog, "PercentChangeInCapacity", scaling.queue.scale_out_percent, "lower"),
                (empty, "ChangeInCapacity", -1, "upper"),
            ):
                policy = aws.appautoscaling.Policy(
                    f"{self._name}-{trigger.key}",
                    policy_type="StepScaling",
                    step_scaling_policy_configuration=step(
                        adjustment_type=kind,
                        cooldown=scaling.queue.cooldown_minutes * 60,
                        metric_aggregation_type="Maximum",
                        min_adjustment_magnitude=1 if amount > 0 else None,
                        step_adjustments=[
                            adjustment(
                                metric_interval_lower_bound="0" if bound == "lower" else None,
                                metric_interval_upper_bound="0" if bound == "upper" else None,
                                scaling_adjustment=amount,
                            )
                        ],
                    ),
                    service_namespace=ns,
                    scalable_dimension=dim,
                    resource_id=rid,
                    opts=self._opts(f"{self._name}-{trigger.key}"),
                )
                self._trigger_alarm(trigger, policy.arn)
        for action, when, low, high in self._peaks():
            day, month = when.split()
            aws.appautoscaling.ScheduledAction(
                f"{self._name}-{action}",
                name=action,
                schedule=f"cron(0 0 {day} {month} ? *)",
                timezone="Etc/UTC",
                scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
                    min_capacity=low, max_capacity=high
                ),
                service_namespace=ns,
                scalable_dimension=dim,
                resource_id=rid,
                opts=self._opts(f"{self._name}-{action}"),
            )
        if self.bounds[1] > 0 and not args.scaling.peaks:
            # ECS publishes the desired count with Container Insights only, and no maximum:
            # the threshold is this deploy's maximum, which a peak's schedule would outdate.
            self._at_max_alarm(
                [
                    aws.cloudwatch.MetricAlarmMetricQueryArgs(
                        id="desired",
                        return_data=False,
                        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                            namespace="ECS/ContainerInsights",
                            metric_name="DesiredTaskCount",
                            stat="Maximum",
                            period=60,
                            dimensions=dims,
                        ),
                    ),
                    aws.cloudwatch.MetricAlarmMetricQueryArgs(
                        id="atmax",
                        expression=f"IF(desired >= {self.bounds[1]}, 1, 0)",
                        label="at maximum",
                        return_data=True,
                    ),
                ]
            )
