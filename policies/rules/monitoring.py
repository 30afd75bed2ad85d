"""Rules for alarms and logs: every alarm that acts reaches someone and says what to do;
logs are kept long enough to investigate."""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.rules.core import Framework, ResourceView, Rule, Severity, holds_opaque, opaque

ALARM_TYPES = (
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm",
)
# Shortest log retention accepted (days): the seeds' application logs, 30 days.
MIN_LOG_RETENTION_DAYS = 30


# A scaling policy's ARN (EC2 Auto Scaling and Application Auto Scaling share the service).
_SCALING_POLICY = re.compile(r"^arn:[\w-]+:autoscaling:[\w-]+:\d{12}:scalingPolicy:")


def _scaling_trigger(resource: ResourceView) -> bool:
    actions = resource.props.get("alarmActions")
    return (
        isinstance(actions, list)
        and bool(actions)
        and all(isinstance(a, str) and _SCALING_POLICY.match(a) for a in actions)
    )


def _actions(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("actionsEnabled") is False or opaque(
        resource.props.get("actionsEnabled")
    ):
        return  # an input of a composite alarm or a health check: they notify
    if holds_opaque(resource.props.get("alarmActions")):
        return  # a topic, or a scaling policy (which needs no action on OK): not known yet
    if _scaling_trigger(resource):
        return  # drives a scaling policy; the group's at-max alarm notifies
    for field, state in (("alarmActions", "ALARM"), ("okActions", "OK")):
        if not resource.props.get(field):
            yield f"{resource.name}: no action on {state}"


def _missing_data(resource: ResourceView) -> Iterator[str]:
    if resource.type.endswith("compositeAlarm:CompositeAlarm"):
        return  # composites have no metric of their own
    if not opaque(resource.props.get("treatMissingData")) and resource.props.get(
        "treatMissingData"
    ) not in (
        "breaching",
        "notBreaching",
        "ignore",
        "missing",
    ):
        yield f"{resource.name}: says nothing of missing data (the default hides a silent metric)"


def _runbook(resource: ResourceView) -> Iterator[str]:
    description = resource.props.get("alarmDescription")
    if opaque(description):
        return
    if not isinstance(description, str) or "https://" not in description:
        yield f"{resource.name}: the description links no runbook"


def _retention(resource: ResourceView) -> Iterator[str]:
    days = resource.props.get("retentionInDays")
    if opaque(days):
        return  # a retention the program does not know, or keeps secret, is not judged
    if not isinstance(days, int) or days == 0:
        yield f"{resource.name}: logs never expire (set a retention)"
    elif days < MIN_LOG_RETENTION_DAYS:
        yield f"{resource.name}: logs kept {days} days, fewer than {MIN_LOG_RETENTION_DAYS}"


RULES: tuple[Rule, ...] = (
    Rule(
        id="aws-cloudwatch-alarm-actions-on-alarm-and-ok",
        description="Alarms that act notify on ALARM and on OK (composite and health-check "
        "inputs are disabled; scaling triggers act on a scaling policy).",
        severity=Severity.MEDIUM,
        remediation="Set alarm_actions and ok_actions to the severity's topic, or "
        "actions_enabled=False for an alarm that only feeds a composite.",
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html",
        check=_actions,
        resource_types=ALARM_TYPES,
        frameworks=(Framework("AWS FSBP", "CloudWatch.15"), Framework("SOC 2", "CC7.2")),
    ),
    Rule(
        id="aws-cloudwatch-alarm-treats-missing-data",
        description="Metric alarms state how missing data counts.",
        severity=Severity.LOW,
        remediation="Set treat_missing_data: breaching when silence means trouble, else "
        "notBreaching (ignore for alarms that hold a state, like the failover fence).",
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data",
        check=_missing_data,
        resource_types=("aws:cloudwatch/metricAlarm:MetricAlarm",),
        frameworks=(Framework("SOC 2", "CC7.2"),),
    ),
    Rule(
        id="aws-cloudwatch-alarm-has-runbook",
        description="Every alarm's description links its runbook.",
        severity=Severity.LOW,
        remediation="Put 'Runbook: https://...' in alarm_description.",
        url="https://sre.google/workbook/alerting-on-slos/",
        check=_runbook,
        resource_types=ALARM_TYPES,
        frameworks=(Framework("SOC 2", "CC7.4"), Framework("ISO 27001", "A.5.26")),
    ),
    Rule(
        id="aws-cloudwatch-log-group-retention",
        description=f"Log groups keep logs at least {MIN_LOG_RETENTION_DAYS} days, not forever.",
        severity=Severity.MEDIUM,
        remediation="Set retention_in_days (resilience:logs sets the bundle's log groups).",
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html",
        check=_retention,
        resource_types=("aws:cloudwatch/logGroup:LogGroup",),
        frameworks=(
            Framework("AWS FSBP", "CloudWatch.16"),
            Framework("PCI DSS 4.0", "10.5.1"),
            Framework("GDPR", "Art. 5(1)(e)"),
        ),
    ),
)
