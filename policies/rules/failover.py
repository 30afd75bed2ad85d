"""Rules for DNS failover as Route 53 and EventBridge Scheduler actually behave: health checks
AWS accepts and evaluates as intended, alarms Route 53 can follow, and fences that hold.

Each rule's docstring quotes the documentation it enforces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from model import tags as tag_keys
from policies.rules.core import Framework, ResourceView, Rule, Severity, holds_opaque, opaque
from policies.rules.stack import StackRule, StackView, Violation

HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCHEDULE = "aws:scheduler/schedule:Schedule"
FENCE_NAMESPACE = "Resilience/Failover"  # components/dns_failover.py
ROUTE53_GUIDE = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-types.html"
SCHEDULER_GUIDE = "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html"
RESILIENCE = Framework("Resilience", "DNS failover")
ENDPOINT_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")
# "Route 53 supports CloudWatch alarms with the following features: ... Statistics: Average,
# Minimum, Maximum, Sum, and SampleCount. Extended statistics aren't supported." (Route 53 API
# Reference, AlarmIdentifier)
ROUTE53_STATISTICS = ("Average", "Minimum", "Maximum", "Sum", "SampleCount")
# "EventBridge Scheduler does not support read-only API actions, such as common GET
# operations, that begin with the following list of prefixes" (EventBridge Scheduler User
# Guide, "Using universal targets", Unsupported actions).
READ_ONLY_PREFIXES = (
    "get",
    "describe",
    "list",
    "poll",
    "receive",
    "search",
    "scan",
    "query",
    "select",
    "read",
    "lookup",
    "discover",
    "validate",
    "batchGet",
    "batchDescribe",
    "batchRead",
    "transact",
)
_UNIVERSAL = re.compile(
    r"^arn:aws[a-z-]*:scheduler:::aws-sdk:(?P<service>[a-z0-9]+):(?P<action>\w+)$"
)
_RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)$")
_AT = re.compile(r"^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^)]*)\)$")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _health_check_settings(resource: ResourceView) -> Iterator[str]:
    """Health-check settings Route 53 refuses or evaluates other than meant.

    - RequestInterval: "You can't change the value of RequestInterval after you create a health
      check" and checkers request every "10 seconds or every 30 seconds" (Route 53 API
      Reference, HealthCheckConfig; the Terraform provider validates IntInSlice(10, 30),
      internal/service/route53/health_check.go).
    - "RequestInterval is not supported when you specify a value for Type of
      RECOVERY_CONTROL" (and likewise FailureThreshold).
    - CALCULATED: "If you specify a number greater than the number of child health checks,
      Route 53 always considers this health check to be unhealthy" (HealthThreshold)."""
    props = resource.props
    kind = props.get("type")
    interval = _number(props.get("requestInterval"))
    if kind in ENDPOINT_TYPES and interval is not None and interval not in (10, 30):
        yield f"request interval {interval:g} s: Route 53 checks every 10 or every 30 seconds"
    if kind == "RECOVERY_CONTROL":
        for key in ("requestInterval", "failureThreshold"):
            if props.get(key) is not None and not opaque(props.get(key)):
                yield f"{key} is not supported on a RECOVERY_CONTROL health check"
    if kind == "CALCULATED":
        children = props.get("childHealthchecks")
        threshold = _number(props.get("childHealthThreshold"))
        if isinstance(children, list) and threshold is not None and threshold > len(children):
            yield (
                f"child health threshold {threshold:g} with {len(children)} children: Route 53 "
                "always considers this check unhealthy"
            )


def _schedule_valid(resource: ResourceView) -> Iterator[str]:
    """What EventBridge Scheduler refuses in a schedule.

    - Expressions: "at expression - at(yyyy-mm-ddThh:mm:ss)", "rate expression -
      rate(value unit)" with "a value as a positive integer, and a unit with the following
      options: minute | minutes | hour | hours | day | days", "A cron expression consists of
      six fields" (API Reference, CreateSchedule ScheduleExpression).
    - FlexibleTimeWindow: MaximumWindowInMinutes, "The maximum time window during which a
      schedule can be invoked", 1 to 1440, is set only with Mode FLEXIBLE (API Reference,
      FlexibleTimeWindow).
    - A universal target is "arn:aws:scheduler:::aws-sdk:service:apiAction", read-only actions
      are not supported, and its Input is "A well-formed JSON you specify with the request
      parameters" (User Guide, "Using universal targets")."""
    props = resource.props
    expression = props.get("scheduleExpression")
    if isinstance(expression, str) and not opaque(expression):
        rate, cron = _RATE.match(expression), _CRON.match(expression)
        if rate and int(rate["value"]) < 1:
            yield f"schedule {expression!r}: the rate must be a positive integer"
        elif cron and len(cron["fields"].split()) != 6:
            yield f"schedule {expression!r}: a cron expression has six fields"
        elif not (rate or cron or _AT.match(expression)):
            yield f"schedule {expression!r} is not an at(), rate() or cron() expression"
    window = props.get("flexibleTimeWindow")
    if isinstance(window, Mapping):
        minutes = _number(window.get("maximumWindowInMinutes"))
        unknown = opaque(window.get("maximumWindowInMinutes"))
        if (
            window.get("mode") == "FLEXIBLE"
            and not unknown
            and (minutes is None or not 1 <= minutes <= 1440)
        ):
            yield "a FLEXIBLE time window needs maximum_window_in_minutes from 1 to 1440"
        if window.get("mode") == "OFF" and minutes is not None:
            yield "maximum_window_in_minutes is set with the time window OFF"
    target = props.get("target")
    if not isinstance(target, Mapping) or not isinstance(target.get("arn"), str):
        return
    universal = _UNIVERSAL.match(target["arn"])
    if target["arn"].split(":")[2:3] == ["scheduler"] and universal is None:
        yield f"target {target['arn']!r} is not arn:aws:scheduler:::aws-sdk:<service>:<apiAction>"
    if universal is None:
        return
    if universal["action"].startswith(READ_ONLY_PREFIXES):
        yield f"universal target action {universal['action']}: read-only actions are not supported"
    payload = target.get("input")
    if isinstance(payload, str) and not opaque(payload):
        try:
            json.loads(payload)
        except ValueError:
            yield "the universal target's input is not well-formed JSON"


RULES: tuple[Rule, ...] = (
    Rule(
        id="aws-route53-health-check-settings-valid",
        description="Health checks have settings Route 53 accepts and evaluates as intended "
        "(a request interval of 10 or 30 s, none on routing-control checks, a calculated "
        "threshold no larger than its children).",
        severity=Severity.HIGH,
        remediation="Use a 10 or 30 s interval; a calculated check's threshold at most its "
        "number of children.",
        url=ROUTE53_GUIDE,
        check=_health_check_settings,
        resource_types=(HEALTH_CHECK,),
        frameworks=(RESILIENCE,),
    ),
    Rule(
        id="aws-scheduler-schedule-valid",
        description="Schedules EventBridge Scheduler accepts: an at/rate/cron expression, a "
        "flexible window with its bound, a universal target that is not read-only and whose "
        "input is JSON.",
        severity=Severity.HIGH,
        remediation="Fix the schedule expression, time window or universal target.",
        url=SCHEDULER_GUIDE,
        check=_schedule_valid,
        resource_types=(SCHEDULE,),
        frameworks=(RESILIENCE,),
    ),
)


# -- stack rules ---------------------------------------------------------------------------


_AUTONAME = re.compile(r"^-[0-9a-f]{7}$")


def _alarm_named(view: StackView, name: Any, region: Any) -> ResourceView | None:
    """The alarm a check names, by its physical name: given, or Pulumi's autoname of the
    logical name (`<logical>-<7 hex>`, which offline inputs do not carry)."""
    if not isinstance(name, str):
        return None
    for alarm in view.of_type(METRIC_ALARM):
        if alarm.region != region:
            continue
        physical = alarm.props.get("name")
        if physical == name or (
            physical is None
            and name.startswith(alarm.name)
            and _AUTONAME.match(name[len(alarm.name) :])
        ):
            return alarm
    return None


def _alarm_checks(view: StackView) -> Iterator[tuple[ResourceView, ResourceView | None]]:
    for check in view.of_type(HEALTH_CHECK):
        if check.props.get("type") == "CLOUDWATCH_METRIC":
            props = check.props
            yield (
                check,
                _alarm_named(
                    view, props.get("cloudwatchAlarmName"), props.get("cloudwatchAlarmRegion")
                ),
            )


def _alarm_followable(view: StackView) -> Iterator[Violation]:
    """Route 53 follows only some alarms: "Route 53 supports CloudWatch alarms with the
    following features: Standard-resolution metrics. High-resolution metrics aren't
    supported ... Statistics: Average, Minimum, Maximum, Sum, and SampleCount. Extended
    statistics aren't supported" (Route 53 API Reference, AlarmIdentifier). A metric-math alarm
    has no statistic of its own. Alarms found in the stack by name and region are judged."""
    for check, alarm in _alarm_checks(view):
        if alarm is None:
            continue
        props = alarm.props
        period = _number(props.get("period"))
        if period is not None and period < 60:
            yield Violation(
                f"{check.name} follows {alarm.name}, a high-resolution alarm ({period:g} s): "
                "Route 53 supports standard resolution only",
                check.urn,
            )
        statistic = props.get("extendedStatistic") or props.get("statistic")
        if opaque(props.get("metricQueries")) or opaque(statistic):
            continue
        if props.get("metricQueries"):
            yield Violation(
                f"{check.name} follows {alarm.name}, a metric-math alarm: Route 53 follows "
                "one metric with a plain statistic",
                check.urn,
            )
        elif props.get("extendedStatistic") or props.get("statistic") not in ROUTE53_STATISTICS:
            yield Violation(
                f"{check.name} follows {alarm.name}, statistic {statistic}: Route 53 supports "
                f"{', '.join(ROUTE53_STATISTICS)}",
                check.urn,
            )


def _published(schedule: ResourceView, alarm: ResourceView) -> bool:
    """Whether a schedule's universal PutMetricData target publishes the alarm's metric."""
    target = schedule.props.get("target")
    if not isinstance(target, Mapping) or not str(target.get("arn", "")).endswith(
        ":aws-sdk:cloudwatch:putMetricData"
    ):
        return False
    try:
        request = json.loads(str(target.get("input")))
    except ValueError:
        return False
    wanted = alarm.props.get("dimensions")
    dims = sorted(wanted.items()) if isinstance(wanted, Mapping) else []
    return request.get("Namespace") == alarm.props.get("namespace") and any(
        datum.get("MetricName") == alarm.props.get("metricName")
        and sorted((d.get("Name"), d.get("Value")) for d in datum.get("Dimensions", [])) == dims
        for datum in request.get("MetricData", [])
        if isinstance(datum, Mapping)
    )


def _fence_value(schedule: ResourceView) -> float | None:
    target = schedule.props.get("target")
    try:
        request = json.loads(str(target.get("input"))) if isinstance(target, Mapping) else {}
        return float(request["MetricData"][0]["Value"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _standing_value(view: StackView, alarm: ResourceView) -> float | None:
    """The fence value the operations leave for this stack file: 0 for the primary region,
    for the DR region 1 while it stands by and 0 in active mode (None: unknown region)."""
    dims = alarm.props.get("dimensions")
    region = dims.get("Region") if isinstance(dims, Mapping) else None
    tags = view.stack_tags
    if region is not None and region == tags.get(tag_keys.PRIMARY_REGION):
        return 0.0
    if region is not None and region == tags.get(tag_keys.DR_REGION):
        return 0.0 if tags.get(tag_keys.DR_MODE) == "active" else 1.0
    return None


def _fence_holds(view: StackView) -> Iterator[Violation]:
    """A fence (a health check on an alarm of the Resilience/Failover namespace) must hold
    for as long as an outage lasts. Route 53 reads the alarm's data stream, not its state:
    "The status of a health check changes from healthy to unhealthy based on the data stream
    and on the criteria in the CloudWatch alarm" (Route 53 Developer Guide, "How Amazon Route
    53 determines whether a health check is healthy"); with no recent datapoint the check takes
    its InsufficientDataHealthStatus. So: a schedule in the alarm's region republishes the
    metric every minute, with the value the operations leave for this stack file (0 for the
    primary region, 1 for the DR region unless it runs active: a deploy must not lift or
    raise a fence; ignore_changes would not do, Pulumi keeps sending the value of its state:
    "will continue to send those stale values to the provider during subsequent updates",
    Pulumi docs, ignoreChanges), and the check keeps its last status when a minute has no
    datapoint ("LastKnownStatus: Route 53 uses the status of the health check from the last
    time that CloudWatch had sufficient data", API Reference, HealthCheckConfig)."""
    schedules = view.of_type(SCHEDULE)
    for check, alarm in _alarm_checks(view):
        if alarm is None or alarm.props.get("namespace") != FENCE_NAMESPACE:
            continue
        status = check.props.get("insufficientDataHealthStatus")
        if not opaque(status) and status != "LastKnownStatus":
            yield Violation(
                f"{check.name}: insufficient data reads as {status or 'the default'}; a minute "
                "without a fence datapoint would lift or raise the fence: use LastKnownStatus",
                check.urn,
            )
        here = [s for s in schedules if s.region == alarm.region]
        feeding = [s for s in here if _published(s, alarm)]
        # A schedule or a metric not known yet may be the one that feeds the fence.
        unsure = any(holds_opaque(s.props.get("target")) for s in here) or holds_opaque(
            [alarm.props.get(k) for k in ("namespace", "metricName", "dimensions")]
        )
        if not feeding and not unsure:
            yield Violation(
                f"{check.name}: no schedule in {alarm.region} republishes {alarm.name}'s "
                "metric: the fence lapses a minute after its last datapoint",
                check.urn,
            )
        for schedule in feeding:
            props = schedule.props
            state = props.get("state", "ENABLED")
            if not opaque(state) and state != "ENABLED":
                yield Violation(f"{schedule.name} is disabled: the fence lapses", schedule.urn)
            rate = _RATE.match(str(props.get("scheduleExpression", "")))
            period = _number(alarm.props.get("period")) or 60
            seconds = (
                int(rate["value"]) * {"m": 60, "h": 3600, "d": 86400}[rate["unit"][0]]
                if rate
                else None
            )
            timing = (props.get("scheduleExpression"), alarm.props.get("period"))
            if not holds_opaque(timing) and (seconds is None or seconds > period):
                yield Violation(
                    f"{schedule.name} ({props.get('scheduleExpression')}) publishes less often "
                    f"than the fence alarm's {period:g} s period",
                    schedule.urn,
                )
            window = props.get("flexibleTimeWindow")
            mode = window.get("mode") if isinstance(window, Mapping) else None
            if isinstance(window, Mapping) and not opaque(mode) and mode != "OFF":
                yield Violation(
                    f"{schedule.name}: a flexible time window can skip a fence period",
                    schedule.urn,
                )
            value, wanted = _fence_value(schedule), _standing_value(view, alarm)
            if wanted is not None and value != wanted:
                yield Violation(
                    f"{schedule.name} publishes {value}, but this stack's file leaves the fence "
                    f"of its region at {wanted}: a deploy would "
                    f"{'raise' if value else 'lift'} it",
                    schedule.urn,
                )


def _has_alarm_checks(view: StackView) -> bool:
    return any(True for _ in _alarm_checks(view))


STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        id="aws-route53-alarm-check-followable",
        description="Health checks follow CloudWatch alarms Route 53 supports (standard "
        "resolution, Average/Minimum/Maximum/Sum/SampleCount, no metric math).",
        severity=Severity.HIGH,
        remediation="Point the health check at a one-metric, standard-resolution alarm.",
        url=ROUTE53_GUIDE,
        check=_alarm_followable,
        frameworks=(RESILIENCE,),
        applies=_has_alarm_checks,
    ),
    StackRule(
        id="resilience-fence-holds",
        description="Every fence holds with nobody at a keyboard: republished every minute "
        "by an enabled schedule in its alarm's region, with the value the operations leave "
        "for the stack file, and read as LastKnownStatus when a minute has no datapoint.",
        severity=Severity.CRITICAL,
        remediation="Use components/dns_failover.py's Fence (alarm, schedule, role) for every "
        "fence health check.",
        url=ROUTE53_GUIDE,
        check=_fence_holds,
        frameworks=(RESILIENCE,),
        applies=_has_alarm_checks,
    ),
)
