"""Stack rules that one resource cannot answer: is every data store in a backup selection,
does every scaling group say when it runs out of room."""

from __future__ import annotations

from collections.abc import Iterator

from model import tags as tag_keys
from policies.rules.core import Framework, ResourceView, Severity, dig, holds_opaque, opaque
from policies.rules.stack import StackRule, StackView, Violation

SELECTION = "aws:backup/selection:Selection"
GROUP = "aws:autoscaling/group:Group"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
# Stores whose data a region loss or a bad deploy destroys; replicas still replicating are
# covered by their source's backups (they carry no class until promoted).
DATA_STORES = (
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:dynamodb/table:Table",
    "aws:efs/fileSystem:FileSystem",
)
TAGGABLE_STORES = (*DATA_STORES, "aws:s3/bucket:Bucket")


def _selected_classes(view: StackView) -> set[str] | None:
    """The data classes the stack's backup selections pick; None when a selection's tag
    conditions are not known yet (it may pick any class)."""
    classes = set()
    for selection in view.of_type(SELECTION):
        conditions = selection.props.get("selectionTags") or []
        if holds_opaque(conditions):
            return None
        for condition in conditions:
            if isinstance(condition, dict) and condition.get("key") == tag_keys.BACKUP_CLASS:
                classes.add(str(condition.get("value")))
    return classes


def _replicating(resource: ResourceView) -> bool:
    props = resource.props
    return bool(props.get("replicateSourceDb") or props.get("replicationSourceIdentifier"))


def _backup_selection_check(view: StackView) -> Iterator[Violation]:
    selected = _selected_classes(view)
    for resource in view.of_type(*TAGGABLE_STORES):
        own = resource.props.get("tags") or {}
        data_class = own.get(tag_keys.BACKUP_CLASS) if isinstance(own, dict) else None
        if opaque(own) or opaque(data_class):
            continue
        if data_class is None:
            if resource.type in DATA_STORES and not _replicating(resource):
                yield Violation(
                    f"{resource.name}: a data store with no {tag_keys.BACKUP_CLASS} tag; no "
                    "backup plan covers it",
                    resource.urn,
                )
            continue
        if selected is not None and data_class not in selected:
            yield Violation(
                f"{resource.name}: tagged {tag_keys.BACKUP_CLASS}={data_class}, but no backup "
                "selection of this stack picks that class, so nothing backs it up",
                resource.urn,
            )


def _group_names(alarm: ResourceView) -> set[str]:
    names = set()
    dimensions = alarm.props.get("dimensions") or {}
    if isinstance(dimensions, dict) and dimensions.get("AutoScalingGroupName"):
        names.add(str(dimensions["AutoScalingGroupName"]))
    for query in alarm.props.get("metricQueries") or []:
        metric = query.get("metric") if isinstance(query, dict) else None
        if isinstance(metric, dict) and metric.get("metricName") in (
            "GroupMaxSize",
            "GroupDesiredCapacity",
            "GroupInServiceInstances",
        ):
            group = (metric.get("dimensions") or {}).get("AutoScalingGroupName")
            if group:
                names.add(str(group))
    return names


def _watches_max(alarm: ResourceView) -> bool:
    """An alarm that compares a group's capacity with its maximum (metric math over
    GroupMaxSize) and notifies someone."""
    if not alarm.props.get("alarmActions"):
        return False
    metrics = {
        (q.get("metric") or {}).get("metricName")
        for q in alarm.props.get("metricQueries") or []
        if isinstance(q, dict)
    }
    return "GroupMaxSize" in metrics


def _may_watch_max(alarm: ResourceView) -> bool:
    """Whether the alarm may watch a group's maximum by a value not known yet: a metric not
    known, or (when it watches one) the group or its actions not known."""
    queries = alarm.props.get("metricQueries")
    if opaque(queries) or any(
        opaque(q) or opaque(dig(q, "metric")) or opaque(dig(q, "metric", "metricName"))
        for q in (queries if isinstance(queries, list) else [])
    ):
        return True
    if _watches_max(alarm):
        return opaque(alarm.props.get("alarmActions")) or holds_opaque(
            [alarm.props.get("dimensions"), queries]
        )
    return False


def _running_groups(view: StackView) -> list[ResourceView]:
    return [
        g
        for g in view.of_type(GROUP)
        if isinstance(g.props.get("maxSize"), int) and g.props["maxSize"] > 0
    ]


def _at_max_check(view: StackView) -> Iterator[Violation]:
    watched: set[str] = set()
    alarms = view.of_type(METRIC_ALARM)
    if any(_may_watch_max(a) for a in alarms):
        return  # it may be the one that watches a group
    for alarm in alarms:
        if _watches_max(alarm):
            watched |= _group_names(alarm)
    for group in _running_groups(view):
        name = group.props.get("name")
        if opaque(name):
            continue
        if name not in watched:
            yield Violation(
                f"{group.name}: no alarm says when {name} has sat at its maximum; scaling "
                "then silently stops adding capacity",
                group.urn,
            )


def _alarm_tags(view: StackView) -> list[tuple[ResourceView, dict[str, str]]]:
    found = []
    for alarm in view.of_type(METRIC_ALARM, COMPOSITE_ALARM):
        own = alarm.props.get("tags")
        if isinstance(own, dict) and own.get(tag_keys.SERVICE):
            found.append((alarm, {str(k): str(v) for k, v in own.items()}))
    return found


def _slo_applies(view: StackView) -> bool:
    """SLOs are measured where the traffic is: the primary stack (a DR region on standby
    has none; once active, its stack runs them too)."""
    serving = view.role == "primary" or view.stack_tags.get(tag_keys.DR_MODE) == "active"
    return serving and bool(_alarm_tags(view))


def _slo_check(view: StackView) -> Iterator[Violation]:
    if not _slo_applies(view):
        return
    services: dict[str, bool] = {}
    tagged = _alarm_tags(view)
    # An alarm whose service or kind is not known yet may be any service's burn-rate alarm.
    if any(opaque(own[tag_keys.SERVICE]) or opaque(own.get(tag_keys.ALARM)) for _, own in tagged):
        return
    if any(opaque(a.props.get("tags")) for a in view.of_type(METRIC_ALARM, COMPOSITE_ALARM)):
        return
    for alarm, own in tagged:
        service = own[tag_keys.SERVICE]
        paging = (
            alarm.type == COMPOSITE_ALARM
            and own.get(tag_keys.ALARM, "").startswith("slo-")
            and bool(alarm.props.get("alarmActions"))
        )
        services[service] = services.get(service, False) or paging
    for service, covered in sorted(services.items()):
        if not covered:
            yield Violation(
                f"service {service} has alarms but no SLO burn-rate alarm that notifies: its "
                "error budget can run out unnoticed"
            )


RULES: tuple[StackRule, ...] = (
    StackRule(
        id="aws-backup-every-data-store-selected",
        description="Every data store carries a data class that a backup selection of its "
        "stack picks (no store silently outside every backup plan).",
        severity=Severity.HIGH,
        remediation="Give the store a backup_class that exists in resilience:backup.classes "
        "(the bundle tags it backup-policy=<class>, which the class's selection picks).",
        url="https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html",
        check=_backup_selection_check,
        frameworks=(
            Framework("AWS FSBP", "RDS.26"),
            Framework("AWS FSBP", "DynamoDB.4"),
            Framework("ISO 27001", "A.8.13"),
            Framework("SOC 2", "A1.2"),
            Framework("GDPR", "Art. 32(1)(c)"),
        ),
        applies=lambda view: bool(view.of_type(*TAGGABLE_STORES)),
    ),
    StackRule(
        id="aws-cloudwatch-service-has-slo-alarms",
        description="Every service watched in the primary stack has multi-window burn-rate "
        "alarms on its SLO that notify someone.",
        severity=Severity.HIGH,
        remediation="Give the service an slo (or a tier with one) and an ALB or Lambda "
        "functions to measure it; components/slo.py compiles the burn-rate alarms.",
        url="https://sre.google/workbook/alerting-on-slos/",
        check=_slo_check,
        frameworks=(Framework("SOC 2", "A1.1"), Framework("SOC 2", "CC7.2")),
        applies=_slo_applies,
    ),
    StackRule(
        id="aws-autoscaling-group-at-max-alarm",
        description="Every Auto Scaling group that runs has an alarm for sitting at its "
        "maximum capacity.",
        severity=Severity.MEDIUM,
        remediation="Set scaling.at_max_alarm_minutes (components/autoscaling adds the alarm).",
        url="https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-cloudwatch-monitoring.html",
        check=_at_max_check,
        frameworks=(Framework("ISO 27001", "A.8.6"), Framework("SOC 2", "A1.1")),
        applies=lambda view: bool(_running_groups(view)),
    ),
)
