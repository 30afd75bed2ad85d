"""The RTO/RPO analyzer and the stack rules built on it.

From the resources of the dr stack (its health checks, failover records, replicas, scaling
groups, replication rules and lag alarms) and the primary's outputs (its data stores, their
RPO and how often their backups reach the DR vault), compute what a failover can achieve and
compare it with the objectives the stacks are tagged with:

  RTO = detection (health-check interval x failure threshold)
      + promotion of the DR data stores (the slowest; they are promoted together)
      + scale-up of the DR compute (pilot light launches from zero; warm standby serves
        at once and scales on its own)
      + fence lift (health-check mechanism: the DR fence's lifting datapoint is stamped at
        the next minute and read once that period is complete: up to period x (evaluation
        periods + 1))
      + DNS TTL (resolvers keep the old answer that long)

  When `drills/last-drill.json` holds a drill of this system, its measured step durations
  replace the estimates for promotion and scale-up, and the other steps of the measured
  window (drain, fence, backups, switch, verify) are added as measured.

  RPO per data store = the best of its paths into the DR region: the lag its replica may
  reach before an alarm fires, S3 Replication Time Control's 15-minute guarantee, a
  DynamoDB global table's replication (about a second), or the interval at which its
  backups are copied to the DR vault. A replica whose lag is not watched has no bound.

A rule fails naming the term that breaks the objective, so the fix is obvious.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model import tags as tag_keys
from policies.rules.core import (
    UNKNOWN,
    Framework,
    ResourceView,
    Severity,
    dig,
    holds_opaque,
    opaque,
)
from policies.rules.stack import StackRule, StackView, Violation

HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BUCKET = "aws:s3/bucket:Bucket"
GROUP = "aws:autoscaling/group:Group"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCALABLE_TARGET = "aws:appautoscaling/target:Target"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
VAULT = "aws:backup/vault:Vault"
ENDPOINT_CHECKS = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")

# Estimates used when no drill has measured this system. Each is a typical figure from AWS's
# documentation; a drill (`resilience drill`) replaces them with measurements.
ESTIMATES: Mapping[str, tuple[float, str]] = {
    # "Promotion takes a few minutes" (RDS User Guide, promoting a read replica); the
    # instance reboots as a standalone primary.
    "rds": (300.0, "RDS read replica promotion, estimate"),
    # Detaching a secondary cluster from an Aurora global database and promoting it: "a
    # minute or two" for the writer to become available.
    "aurora": (120.0, "Aurora global database detach-and-promote, estimate"),
    # A global table's replicas are writable all the time.
    "dynamodb": (0.0, "DynamoDB global table replica, always writable"),
    # From a scaling request to a running instance, before its own start-up.
    "ec2-launch": (90.0, "EC2 launch, estimate"),
    # From a desired count to a running task (image pull, start), before health checks.
    "ecs-start": (120.0, "ECS task start, estimate"),
}
# The failover steps a drill times against the RTO (scripts/ops/commands.py RTO_FROM, RTO_TO):
# from the first step that changes anything to the end of verification.
DRILL_WINDOW = ("drain-source", "verify-endpoint")
# Health-check defaults (Route 53) and the answer TTL of an alias to a load balancer.
DEFAULT_INTERVAL, DEFAULT_THRESHOLD, ALIAS_TTL = 30, 3, 60
# Replication lag guarantees.
RTC_MINUTES = 15  # S3 Replication Time Control: 99.99 % of objects within 15 minutes
DYNAMODB_REPLICATION_SECONDS = 1.0  # global tables: "typically within a second"


@dataclass(frozen=True)
class Term:
    name: str
    seconds: float
    basis: str  # where the figure comes from
    hint: str = ""  # what shortens it

    def describe(self) -> str:
        return f"{self.name} {_duration(self.seconds)} ({self.basis})"


@dataclass(frozen=True)
class RtoAnalysis:
    target_seconds: int
    terms: tuple[Term, ...]
    measured: bool  # from a drill

    @property
    def seconds(self) -> float:
        return sum(t.seconds for t in self.terms)

    @property
    def met(self) -> bool:
        return self.seconds <= self.target_seconds

    @property
    def largest(self) -> Term:
        return max(self.terms, key=lambda t: t.seconds)


@dataclass(frozen=True)
class StoreRpo:
    store: str  # e.g. "database:orders-db"
    urn: str | None  # the DR resource that carries it, when there is one
    target_minutes: int
    path: Term | None  # the best path into the DR region; None when there is none

    @property
    def met(self) -> bool:
        return self.path is not None and self.path.seconds <= self.target_minutes * 60


def _duration(seconds: float) -> str:
    if seconds == math.inf:
        return "unbounded"
    if seconds < 120:
        return f"{seconds:g} s"
    return f"{seconds / 60:.1f} min"


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def is_dr(view: StackView) -> bool:
    return view.role == "dr"


def runs_active(view: StackView) -> bool:
    """The DR region serves (after a failover): there is nothing to fail over to, and its
    stores replicate nowhere until failback rebuilds the path back."""
    return view.stack_tags.get(tag_keys.DR_MODE) == "active"


# -- RTO -----------------------------------------------------------------------------------


def failover_records(view: StackView) -> list[ResourceView]:
    return [r for r in view.of_type(RECORD) if r.props.get("failoverRoutingPolicies")]


def _detection(view: StackView) -> Term | None:
    checks = [r for r in view.of_type(HEALTH_CHECK) if r.props.get("type") in ENDPOINT_CHECKS]
    if not checks:
        return None
    worst = max(
        checks,
        key=lambda r: (
            _int(r.props.get("requestInterval"), DEFAULT_INTERVAL)
            * _int(r.props.get("failureThreshold"), DEFAULT_THRESHOLD)
        ),
    )
    interval = _int(worst.props.get("requestInterval"), DEFAULT_INTERVAL)
    threshold = _int(worst.props.get("failureThreshold"), DEFAULT_THRESHOLD)
    return Term(
        "detection",
        float(interval * threshold),
        f"health checks every {interval} s, {threshold} failures",
        "use interval_seconds: 10 and a lower failure_threshold",
    )


def _ttl(records: Sequence[ResourceView]) -> Term:
    ttls = [ALIAS_TTL if r.props.get("aliases") else _int(r.props.get("ttl"), 300) for r in records]
    return Term(
        "DNS TTL",
        float(max(ttls, default=ALIAS_TTL)),
        "alias to a load balancer" if all(r.props.get("aliases") for r in records) else "ttl",
        "use alias records or a TTL of 60 s or less",
    )


FENCE_NAMESPACE = "Resilience/Failover"  # components/dns_failover.py


def _fence_lift(view: StackView) -> Term | None:
    """How long the DR fence takes to lift once `resilience failover` lifts it: the datapoint
    of 0 is stamped at the next minute (so no raise of the current minute merges with it)
    and Route 53 reads the data stream, a period once it is complete ("The status of a
    health check changes ... based on the data stream and on the criteria in the CloudWatch
    alarm", Route 53 Developer Guide). None with ARC (the records follow routing controls)
    or without a fence."""
    if any(r.props.get("type") == "RECOVERY_CONTROL" for r in view.of_type(HEALTH_CHECK)):
        return None
    fences = [a for a in view.of_type(ALARM) if a.props.get("namespace") == FENCE_NAMESPACE]
    if not fences:
        return None
    worst = max(
        _int(a.props.get("period"), 60) * (_int(a.props.get("evaluationPeriods"), 1) + 1)
        for a in fences
    )
    return Term(
        "fence lift",
        float(worst),
        "the lift is stamped at the next minute and read once its period is complete",
    )


def replicas(view: StackView) -> list[tuple[str, ResourceView]]:
    """The DR data stores that replicate from the primary, with their kind."""
    found: list[tuple[str, ResourceView]] = [
        ("rds", r) for r in view.of_type(RDS_INSTANCE) if r.props.get("replicateSourceDb")
    ]
    found += [
        ("aurora", r) for r in view.of_type(RDS_CLUSTER) if r.props.get("globalClusterIdentifier")
    ]
    found += [("dynamodb", r) for r in view.of_type(TABLE_REPLICA)]
    return found


def _promotion_estimate(view: StackView) -> Term:
    slowest: tuple[float, str] = (0.0, "nothing to promote")
    for kind, resource in replicas(view):
        seconds, basis = ESTIMATES[kind]
        if seconds >= slowest[0]:
            slowest = (seconds, f"{basis}: {_label(resource)}")
    return Term("promotion", slowest[0], slowest[1], "measure it with `resilience drill`")


def _label(resource: ResourceView) -> str:
    for key in ("identifier", "clusterIdentifier", "name", "bucket"):
        value = resource.props.get(key)
        if isinstance(value, str) and value:
            return value
    return resource.name


def _scale_estimate(view: StackView) -> Term:
    slowest: tuple[float, str] = (0.0, "capacity already running")
    launch, launch_basis = ESTIMATES["ec2-launch"]
    for group in view.of_type(GROUP):
        if _int(group.props.get("minSize"), 0) > 0:
            continue
        grace = _int(group.props.get("healthCheckGracePeriod"), 300)
        seconds = launch + grace
        if seconds >= slowest[0]:
            slowest = (
                seconds,
                f"{_label(group)} starts from zero: {launch_basis} {launch:g} s + "
                f"health-check grace {grace} s",
            )
    start, start_basis = ESTIMATES["ecs-start"]
    for target in view.of_type(SCALABLE_TARGET):
        if target.props.get("serviceNamespace") != "ecs" or _int(
            target.props.get("minCapacity"), 0
        ):
            continue
        if start >= slowest[0]:
            slowest = (
                start,
                f"{target.props.get('resourceId', target.name)} starts from zero: {start_basis}",
            )
    return Term(
        "scale-up",
        slowest[0],
        slowest[1],
        "run the DR region as warm standby (dr.mode: warm-standby) so it serves at once",
    )


def _response(view: StackView) -> list[Term]:
    """The on-call's response to the page: the DR region stays fenced until someone runs
    `resilience failover`, and a drill times the run, not the response."""
    minutes = view.minutes(tag_keys.RESPONSE_MINUTES)
    if minutes is None:
        return []
    return [
        Term(
            "response",
            minutes * 60.0,
            "the on-call acts on the critical page (dr.response_minutes)",
            "shorten the response to a critical page, or keep capacity running so the rest "
            "of the failover is short",
        )
    ]


def _drill_terms(drill: Mapping[str, Any]) -> list[Term] | None:
    steps = drill.get("operations", {}).get("failover")
    if not isinstance(steps, list):
        return None
    names = [str(s.get("step")) for s in steps if isinstance(s, dict)]
    if DRILL_WINDOW[0] not in names or DRILL_WINDOW[1] not in names:
        return None
    window = steps[names.index(DRILL_WINDOW[0]) : names.index(DRILL_WINDOW[1]) + 1]
    durations = {str(s.get("step")): float(s.get("duration_s") or 0.0) for s in window}
    finished = drill.get("finished", "the last drill")
    promotion = durations.get("promote-databases", 0.0)
    scale = durations.get("scale-target", 0.0) + durations.get("wait-target-healthy", 0.0)
    other = sum(durations.values()) - promotion - scale
    return [
        Term("promotion", promotion, f"measured by the drill of {finished}"),
        Term("scale-up", scale, f"measured by the drill of {finished}", "warm standby"),
        Term("other failover steps", max(other, 0.0), "measured: drain, fence, switch, verify"),
    ]


def _any_opaque(resources: Sequence[ResourceView], *keys: str) -> bool:
    return any(opaque(r.props.get(k)) for r in resources for k in keys)


def _rto_unknown(view: StackView, *, measured: bool) -> bool:
    """Whether a term of the RTO would rest on a value not known yet (or secret): which
    records fail over and their TTL, the health checks' kind and timing, and (estimated)
    the fence, the replicas to promote and the capacity to start."""
    records = view.of_type(RECORD)
    if _any_opaque(records, "failoverRoutingPolicies", "aliases"):
        return True
    if _any_opaque([r for r in failover_records(view) if not r.props.get("aliases")], "ttl"):
        return True
    checks = view.of_type(HEALTH_CHECK)
    endpoint = [c for c in checks if c.props.get("type") in ENDPOINT_CHECKS]
    if _any_opaque(checks, "type") or _any_opaque(endpoint, "requestInterval", "failureThreshold"):
        return True
    if measured:
        return False
    alarms = view.of_type(ALARM)
    fences = [a for a in alarms if a.props.get("namespace") == FENCE_NAMESPACE]
    groups = [g for g in view.of_type(GROUP) if _int(g.props.get("minSize"), 0) <= 0]
    return (
        _any_opaque(alarms, "namespace")
        or _any_opaque(fences, "period", "evaluationPeriods")
        or _any_opaque(view.of_type(RDS_INSTANCE), "replicateSourceDb")
        or _any_opaque(view.of_type(RDS_CLUSTER), "globalClusterIdentifier")
        or _any_opaque(view.of_type(GROUP), "minSize")
        or _any_opaque(groups, "healthCheckGracePeriod")
        or _any_opaque(view.of_type(SCALABLE_TARGET), "serviceNamespace", "minCapacity")
    )


def analyze_rto(view: StackView) -> RtoAnalysis | str | None:
    """The achievable RTO of a dr stack; a message when it has no bound; None when the
    stack has nothing to fail over to (not a dr stack, no objective), or when a term would
    rest on a value not known yet (a preview: judged by the update, which knows it)."""
    target = view.minutes(tag_keys.RTO_MINUTES)
    if not is_dr(view) or target is None or runs_active(view):
        return None
    drill = (
        view.drill
        if view.drill and view.drill.get("system") == view.stack_tags.get("system")
        else None
    )
    if _rto_unknown(view, measured=bool(drill and _drill_terms(drill))):
        return None
    records = failover_records(view)
    if not records:
        return (
            "no failover DNS records: traffic moves to the DR region only by hand, so no "
            "RTO can be shown (add dns.record to the services and a failover section)"
        )
    detection = _detection(view)
    if detection is None:
        return (
            "the failover records follow no endpoint health check: nothing detects an outage "
            "of the primary, so the RTO is unbounded"
        )
    # A drill of another system measures nothing of this one.
    drill = (
        view.drill
        if view.drill and view.drill.get("system") == view.stack_tags.get("system")
        else None
    )
    measured = _drill_terms(drill) if drill else None
    lift = _fence_lift(view)
    middle = measured or [
        _promotion_estimate(view),
        _scale_estimate(view),
        *([lift] if lift is not None else []),
    ]
    terms = (detection, *_response(view), *middle, _ttl(records))
    return RtoAnalysis(target_seconds=target * 60, terms=terms, measured=measured is not None)


def _rto_check(view: StackView) -> Iterator[Violation]:
    analysis = analyze_rto(view)
    if analysis is None:
        return
    if isinstance(analysis, str):
        yield Violation(analysis)
        return
    if analysis.met:
        return
    largest = analysis.largest
    yield Violation(
        f"RTO {analysis.target_seconds // 60} min cannot be met: a failover takes "
        f"{_duration(analysis.seconds)} = "
        + " + ".join(t.describe() for t in analysis.terms)
        + f". The largest term is {largest.name}"
        + (f": {largest.hint}" if largest.hint else "")
        + "."
    )


# -- RPO -----------------------------------------------------------------------------------


def _alarm_metrics(alarm: ResourceView) -> Iterator[tuple[str, Mapping[str, Any]]]:
    props = alarm.props
    if props.get("metricName"):
        yield str(props["metricName"]), _mapping(props.get("dimensions"))
    for query in props.get("metricQueries") or []:
        metric = query.get("metric") if isinstance(query, dict) else None
        if isinstance(metric, dict) and metric.get("metricName"):
            yield str(metric["metricName"]), _mapping(metric.get("dimensions"))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# What a lag alarm's bound is computed from (_lag_alarm_seconds) besides its metric.
LAG_ALARM_FIELDS = (
    "actionsEnabled",
    "comparisonOperator",
    "threshold",
    "datapointsToAlarm",
    "evaluationPeriods",
    "period",
)


def _metric_specs(alarm: ResourceView) -> Iterator[tuple[Any, Any]]:
    """(metric name, dimensions) of the alarm and of each of its queries' metrics, opaque
    values as they are (an opaque query stands for a metric of any name and dimensions)."""
    props = alarm.props
    if props.get("metricName"):
        yield props["metricName"], props.get("dimensions")
    queries = props.get("metricQueries")
    if opaque(queries):
        yield queries, queries
    for query in queries if isinstance(queries, list) else []:
        metric = query.get("metric") if isinstance(query, Mapping) else query
        if opaque(metric):
            yield metric, metric
        elif isinstance(metric, Mapping) and metric.get("metricName"):
            yield metric["metricName"], metric.get("dimensions")


def _lag_unknown(view: StackView, metric: str, dimension: str, value: str) -> bool:
    """Whether an alarm may watch this replica's lag by a value not known yet: its metric
    or the replica's dimension not known, or (when it surely watches it) its threshold,
    timing, comparison or actions. Such an alarm may page sooner than the known ones."""
    for alarm in view.of_type(METRIC_ALARM):
        for name, dims in _metric_specs(alarm):
            shown = dims.get(dimension) if isinstance(dims, Mapping) else dims
            if not (opaque(name) or name == metric) or not (opaque(shown) or shown == value):
                continue
            if opaque(name) or opaque(shown):
                return True
            props = alarm.props
            if opaque(props.get("alarmActions")) or holds_opaque(
                [props.get(k) for k in (*LAG_ALARM_FIELDS, "metricQueries")]
            ):
                return True
    return False


def _notifies(alarm: ResourceView) -> bool:
    return bool(alarm.props.get("alarmActions")) and alarm.props.get("actionsEnabled") is not False


def _period(alarm: ResourceView) -> int:
    if isinstance(alarm.props.get("period"), int):
        return int(alarm.props["period"])
    for query in alarm.props.get("metricQueries") or []:
        metric = query.get("metric") if isinstance(query, dict) else None
        if isinstance(metric, dict) and isinstance(metric.get("period"), int):
            return int(metric["period"])
    return 60


def _lag_alarm_seconds(
    view: StackView, metric: str, dimension: str, value: str, per_second: float
) -> tuple[float, str] | None:
    """The largest lag a replica reaches before an alarm on it pages: its threshold plus the
    time the alarm needs to fire (period x datapoints to alarm), while the lag keeps growing
    one second a second. The lowest of the replica's notifying 'greater than' alarms."""
    bounds = []
    for alarm in view.of_type(METRIC_ALARM):
        comparison = str(alarm.props.get("comparisonOperator", ""))
        if not _notifies(alarm) or not comparison.startswith("GreaterThan"):
            continue
        for name, dimensions in _alarm_metrics(alarm):
            threshold = alarm.props.get("threshold")
            if name != metric or dimensions.get(dimension) != value:
                continue
            if not isinstance(threshold, int | float):
                continue
            points = alarm.props.get("datapointsToAlarm") or alarm.props.get("evaluationPeriods")
            firing = _period(alarm) * (points if isinstance(points, int) else 1)
            lag = float(threshold) / per_second
            bounds.append(
                (
                    lag + firing,
                    f"its lag alarm pages {firing} s after the lag passes {_duration(lag)}",
                )
            )
    return min(bounds) if bounds else None


def _replica_term(view: StackView, kind: str, replica: ResourceView) -> Term | None:
    """The replica's path; None when it rests on a value not known yet (its identifier, or
    an alarm that may be its lag alarm)."""
    if kind == "dynamodb":
        return Term("global table replication", DYNAMODB_REPLICATION_SECONDS, "AWS: ~1 s")
    name = _label(replica)
    metric, dimension, per_second = (
        ("ReplicaLag", "DBInstanceIdentifier", 1.0)
        if kind == "rds"
        else ("AuroraGlobalDBReplicationLag", "DBClusterIdentifier", 1000.0)
    )
    if opaque(name) or _lag_unknown(view, metric, dimension, name):
        return None
    lag = _lag_alarm_seconds(view, metric, dimension, name, per_second)
    if lag is None:
        return Term(
            "replica lag",
            math.inf,
            f"no alarm that notifies watches the lag of {name}",
            "add the rds-replica-lag alarm (it is in the catalog)",
        )
    seconds, basis = lag
    return Term(
        "replica lag",
        seconds,
        f"{name}: {basis}",
        "lower the lag alarm's threshold or the datapoints it needs",
    )


# What ties a replica to its source, per kind.
SOURCE_FIELD = {
    "rds": "replicateSourceDb",
    "aurora": "globalClusterIdentifier",
    "dynamodb": "globalTableArn",
}


def _maybe_replica(
    store: Mapping[str, Any], candidates: Sequence[tuple[str, ResourceView]]
) -> bool:
    """Whether a replica whose source is not known yet may be the store's (a replica of its
    kind), or the store's own identifiers are not known."""
    if store.get("kind") == "s3":
        return False
    if any(opaque(store.get(k)) for k in ("kind", "arn", "identifier", "global_cluster_id")):
        return True
    return any(
        opaque(r.props.get(SOURCE_FIELD[kind]))
        for kind, r in candidates
        if store.get("kind") in (None, kind)
    )


def _replica_of(
    store: Mapping[str, Any], candidates: Sequence[tuple[str, ResourceView]]
) -> tuple[str, ResourceView] | None:
    for kind, resource in candidates:
        props = resource.props
        if kind == "rds" and props.get("replicateSourceDb") in (
            store.get("arn"),
            store.get("identifier"),
        ):
            return kind, resource
        if (
            kind == "aurora"
            and store.get("global_cluster_id")
            and (props.get("globalClusterIdentifier") == store.get("global_cluster_id"))
        ):
            return kind, resource
        if kind == "dynamodb" and props.get("globalTableArn") == store.get("arn"):
            return kind, resource
    return None


def _replication_rule(
    view: StackView, bucket: str
) -> tuple[ResourceView, Mapping[str, Any]] | None:
    for config in view.of_type(REPLICATION):
        if config.props.get("bucket") != bucket:
            continue
        for rule in config.props.get("rules") or []:
            if isinstance(rule, dict) and rule.get("status", "Enabled") == "Enabled":
                return config, rule
    return None


def _maybe_replication(view: StackView, bucket: str) -> bool:
    """Whether a replication rule not known yet (its source bucket, its rules or whether
    they are enabled) may be the bucket's, or its S3 replication term is not known."""
    for config in view.of_type(REPLICATION):
        if opaque(config.props.get("bucket")):
            return True
        if config.props.get("bucket") != bucket:
            continue
        rules = config.props.get("rules")
        if opaque(rules) or any(
            opaque(r) or (isinstance(r, Mapping) and opaque(r.get("status"))) for r in rules or []
        ):
            return True
    found = _replication_rule(view, bucket)
    return found is not None and _s3_term(found[1]) is None


def _s3_term(rule: Mapping[str, Any]) -> Term | None:
    """S3 replication's term; None when whether RTC is on is not known yet."""
    status = dig(rule, "destination", "replicationTime", "status")
    if opaque(status):
        return None
    if status == "Enabled":
        return Term(
            "S3 replication",
            RTC_MINUTES * 60.0,
            "Replication Time Control guarantees 15 minutes",
            "S3 cannot replicate faster with a guarantee: give this data class an RPO of 15 "
            "minutes or more (backup.classes.<class>.rpo_minutes)",
        )
    return Term(
        "S3 replication",
        math.inf,
        "replication without Replication Time Control has no time guarantee",
        "enable Replication Time Control",
    )


def _copy_term(store: Mapping[str, Any]) -> Term | None:
    """The worst age of the newest copy in the DR vault, as the primary computed it from what
    AWS Backup does for the store's kind (`copy_basis`: RDS under continuous backup is
    snapshotted, and so copied, once a day whatever the plan's frequency)."""
    interval = store.get("copy_interval_minutes")
    if not isinstance(interval, int):
        return None
    basis = store.get("copy_basis")
    return Term(
        "backup copy",
        interval * 60.0,
        f"{store.get('class')} backups reach the DR vault every {_duration(interval * 60.0)}"
        + (f": {basis}" if isinstance(basis, str) and basis else ""),
        "replicate it to the DR region, or copy its backups more often",
    )


def _objective(view: StackView, key: str, resource: ResourceView | None = None) -> Any:
    """`view.minutes`, or the opaque value where the tag holds one (or the resource's tags
    are not known at all)."""
    if resource is not None and opaque(resource.props.get("tags")):
        return resource.props["tags"]
    tags = view.tags_of(resource) if resource is not None else view.stack_tags
    value = tags.get(key, view.stack_tags.get(key))
    return value if opaque(value) else view.minutes(key, resource)


def _destination_bucket(view: StackView, config: ResourceView, arn: Any) -> ResourceView | None:
    """The bucket of this stack a replication rule writes to. Its ARN is unknown until the
    bucket exists (the preview of a new dr stack); the configuration then names it only
    through what it waits for: the one bucket of this stack among its dependencies (the
    source is the primary's)."""
    buckets = view.of_type(BUCKET)
    if not opaque(arn):
        name = str(arn or "").rsplit(":", 1)[-1]
        return next((b for b in buckets if str(b.props.get("bucket")) == name), None)
    # Its ARN is not known: the bucket is the one of this stack the configuration waits for.
    waited = [b for b in buckets if b.urn in view.dependencies.get(config.urn, frozenset())]
    return waited[0] if len(waited) == 1 else None


def stores_from_dr(view: StackView) -> dict[str, dict[str, Any]]:
    """The primary's stores as the dr stack's own resources name them, for when the primary's
    outputs are not visible (a policy pack may not be sent the StackReference). Each replica
    and replication rule carries its source and its data's RPO tag; backup copies are
    unknown here, so a store's only path is its replica. A store whose RPO cannot be read
    (its bucket or tag is not known yet) gets the opaque value as its objective."""
    stores: dict[str, dict[str, Any]] = {}
    for kind, replica in replicas(view):
        rpo = _objective(view, tag_keys.RPO_MINUTES, replica)
        source = replica.props.get(SOURCE_FIELD[kind])
        link = {"global_cluster_id": source} if kind == "aurora" else {"arn": source}
        stores[f"replica:{_label(replica)}"] = {"kind": kind, "rpo_minutes": rpo, **link}
    for config in view.of_type(REPLICATION):
        rules = config.props.get("rules")
        for rule in rules if isinstance(rules, list) else []:
            if not isinstance(rule, Mapping):
                continue
            arn = dig(rule, "destination", "bucket")
            target = _destination_bucket(view, config, arn)
            unnamed = any(opaque(b.props.get("bucket")) for b in view.of_type(BUCKET))
            # Without the bucket (not known yet) its RPO is not known either.
            unknown = target is None and (opaque(arn) or unnamed)
            stores[f"bucket:{config.props.get('bucket')}"] = {
                "kind": "s3",
                "bucket": config.props.get("bucket"),
                "rpo_minutes": UNKNOWN
                if unknown
                else _objective(view, tag_keys.RPO_MINUTES, target),
            }
    return stores


def analyze_rpo(view: StackView) -> list[StoreRpo]:
    """Per data store of the primary: its RPO target and its best path into the DR region.
    A store whose objective or path rests on a value not known yet (a preview) is left out:
    the update, which knows it, judges it."""
    if not is_dr(view) or runs_active(view):
        return []
    stores = view.primary_outputs().get("data_protection")
    if not isinstance(stores, Mapping):
        stores = stores_from_dr(view)
    candidates = replicas(view)
    results = []
    for key, store in sorted(stores.items()):
        # Left out when its objective, its source or its backup copies are not known, or a
        # replica or replication rule not known yet may be its path.
        if not isinstance(store, Mapping) or holds_opaque(store):
            continue
        found = _replica_of(store, candidates)
        if found is None and _maybe_replica(store, candidates):
            continue
        if store.get("kind") == "s3" and _maybe_replication(view, str(store.get("bucket"))):
            continue
        paths: list[Term] = []
        urn = None
        if found is not None:
            kind, resource = found
            urn = resource.urn
            term = _replica_term(view, kind, resource)
            if term is None:
                continue
            paths.append(term)
        if store.get("kind") == "s3":
            replication = _replication_rule(view, str(store.get("bucket")))
            if replication is not None:
                urn = replication[0].urn
                s3 = _s3_term(replication[1])
                if s3 is not None:
                    paths.append(s3)
        copy = _copy_term(store)
        if copy is not None:
            paths.append(copy)
        target = store.get("rpo_minutes")
        results.append(
            StoreRpo(
                store=str(key),
                urn=urn,
                target_minutes=target
                if isinstance(target, int)
                else view.minutes(tag_keys.RPO_MINUTES) or 0,
                path=min(paths, key=lambda t: t.seconds) if paths else None,
            )
        )
    return results


def _rpo_check(view: StackView) -> Iterator[Violation]:
    for result in analyze_rpo(view):
        if result.met:
            continue
        if result.path is None:
            yield Violation(
                f"{result.store}: RPO {result.target_minutes} min cannot be met: no replica, "
                "replication or backup copy reaches the DR region",
                result.urn,
            )
            continue
        path = result.path
        yield Violation(
            f"{result.store}: RPO {result.target_minutes} min cannot be met: its best path to "
            f"the DR region is {path.describe()}" + (f"; {path.hint}" if path.hint else ""),
            result.urn,
        )


# -- control plane -------------------------------------------------------------------------

# Route 53's control plane (record changes, health-check edits) is in us-east-1.
ROUTE53_CONTROL_PLANE = "us-east-1"


def _control_plane_applies(view: StackView) -> bool:
    return view.stack_tags.get(tag_keys.PRIMARY_REGION) == ROUTE53_CONTROL_PLANE and bool(
        view.of_type(RECORD)
    )


def _control_plane_check(view: StackView) -> Iterator[Violation]:
    if not _control_plane_applies(view):
        return
    dr_region = view.stack_tags.get(tag_keys.DR_REGION)
    for record in view.of_type(RECORD):
        props = record.props
        if not props.get("failoverRoutingPolicies"):
            if props.get("aliases") or props.get("records"):
                yield Violation(
                    f"{record.name}: {props.get('name')} points at one region without "
                    "failover routing; moving it needs a Route 53 record change, whose "
                    "control plane is in us-east-1, the primary region",
                    record.urn,
                )
            continue
        if not props.get("healthCheckId"):
            yield Violation(
                f"{record.name}: a failover record without a health check is switched only "
                "by editing records (the Route 53 control plane, in us-east-1)",
                record.urn,
            )
    for check in view.of_type(HEALTH_CHECK):
        if check.props.get("type") != "CLOUDWATCH_METRIC":
            continue
        region = check.props.get("cloudwatchAlarmRegion")
        if region == ROUTE53_CONTROL_PLANE:
            yield Violation(
                f"{check.name}: follows an alarm in us-east-1 (the primary region); during "
                f"its outage the alarm cannot change. Keep fence alarms in {dr_region}",
                check.urn,
            )


# -- DR parity -----------------------------------------------------------------------------


def _parity_applies(view: StackView) -> bool:
    return is_dr(view) and not runs_active(view) and bool(view.primary_outputs())


def _vault_names(view: StackView) -> set[str]:
    return {str(v.props.get("name")) for v in view.of_type(VAULT) if v.props.get("name")}


def _parity_check(view: StackView) -> Iterator[Violation]:
    outputs = view.primary_outputs()
    if not outputs:
        return
    stores = outputs.get("data_protection")
    if opaque(stores):
        return
    if not isinstance(stores, Mapping):
        yield Violation(
            "the primary stack exports no data_protection output: its data stores cannot be "
            "matched with their DR copies (deploy the primary with this version first)"
        )
        return
    candidates = replicas(view)
    linked = [
        key
        for key, store in stores.items()
        if isinstance(store, Mapping)
        and (
            _replica_of(store, candidates)
            or (store.get("kind") == "s3" and _replication_rule(view, str(store.get("bucket"))))
        )
    ]
    # A replica or replication rule not known yet may be the store's.
    maybe = [
        key
        for key, store in stores.items()
        if isinstance(store, Mapping)
        and (
            _maybe_replica(store, candidates)
            or (store.get("kind") == "s3" and _maybe_replication(view, str(store.get("bucket"))))
        )
    ]
    for key, store in sorted(stores.items()):
        if key not in linked and key not in maybe and not holds_opaque(store):
            kind = store.get("kind") if isinstance(store, Mapping) else "?"
            what = "S3 replication rule" if kind == "s3" else "replica"
            yield Violation(f"{key}: the primary's {kind} data store has no {what} here")
    copy_target = outputs.get("backup_copy_target_arn")
    if opaque(copy_target):
        return
    if isinstance(copy_target, str) and copy_target:
        region = copy_target.split(":")[3] if copy_target.count(":") >= 5 else ""
        vault = copy_target.rsplit(":", 1)[-1]
        here = view.stack_tags.get(tag_keys.DR_REGION)
        unnamed = any(opaque(v.props.get("name")) for v in view.of_type(VAULT))
        if (vault not in _vault_names(view) and not unnamed) or (
            here and region and region != here
        ):
            yield Violation(
                f"the primary copies its backups to {copy_target}, which is not this stack's "
                "DR vault"
            )
    elif stores:
        yield Violation("the primary copies its backups to no DR vault")


# -- rules ---------------------------------------------------------------------------------

CONTINUITY = (
    Framework("ISO 27001", "A.5.30"),
    Framework("SOC 2", "A1.3"),
    Framework("PCI DSS 4.0", "12.10.1"),
)

RULES: tuple[StackRule, ...] = (
    StackRule(
        id="resilience-rto-achievable",
        description="The DR region can take over within the RTO: detection + promotion + "
        "scale-up + DNS TTL (measured by the last drill where there is one).",
        severity=Severity.CRITICAL,
        remediation="Shorten the term the finding names: faster health checks, warm standby "
        "instead of pilot light, or a drill that measures the real promotion time.",
        url="https://docs.aws.amazon.com/whitepapers/latest/disaster-recovery-workloads-on-aws/disaster-recovery-options-in-the-cloud.html",
        check=_rto_check,
        frameworks=CONTINUITY,
        applies=lambda view: is_dr(view) and view.minutes(tag_keys.RTO_MINUTES) is not None,
    ),
    StackRule(
        id="resilience-rpo-achievable",
        description="Every data store of the primary reaches the DR region within its RPO "
        "(replica lag alarm, S3 RTC's 15 minutes, global tables, backup copies).",
        severity=Severity.CRITICAL,
        remediation="Replicate the store, watch its replica lag, or give its data class an "
        "RPO its replication can keep (backup.classes.<class>.rpo_minutes).",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html",
        check=_rpo_check,
        frameworks=(*CONTINUITY, Framework("GDPR", "Art. 32(1)(c)")),
        applies=lambda view: bool(analyze_rpo(view)),
    ),
    StackRule(
        id="resilience-failover-without-route53-control-plane",
        description="With the primary in us-east-1, failing over never needs a Route 53 "
        "record change (its control plane is there): failover records with health checks, "
        "fences alarmed outside us-east-1.",
        severity=Severity.HIGH,
        remediation="Use failover record pairs with health checks (components/dns_failover) "
        "and keep the fence alarm in the DR region.",
        url="https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/disaster-recovery-resiliency.html",
        check=_control_plane_check,
        frameworks=(Framework("ISO 27001", "A.5.30"), Framework("SOC 2", "A1.2")),
        applies=_control_plane_applies,
    ),
    StackRule(
        id="resilience-dr-parity",
        description="Every data store of the primary has its replica in the DR region and "
        "the primary's backups are copied to this region's vault.",
        severity=Severity.HIGH,
        remediation="Add the missing replica (databases, tables) or replication rule "
        "(data_buckets) to the dr stack; point backup copies at its vault.",
        url="https://docs.aws.amazon.com/whitepapers/latest/disaster-recovery-workloads-on-aws/disaster-recovery-options-in-the-cloud.html",
        check=_parity_check,
        frameworks=(
            Framework("ISO 27001", "A.8.14"),
            Framework("SOC 2", "A1.2"),
            Framework("GDPR", "Art. 32(1)(c)"),
        ),
        applies=_parity_applies,
    ),
)


def summary(view: StackView) -> str | None:
    """One line on what a failover achieves against the objectives (dr stacks only)."""
    rto = analyze_rto(view)
    if rto is None:
        return None
    parts = []
    if isinstance(rto, RtoAnalysis):
        source = "measured by a drill" if rto.measured else "estimates"
        if not any(t.name == "response" for t in rto.terms):
            source += "; the on-call's response is not counted (dr.response_minutes)"
        parts.append(
            f"RTO {_duration(rto.seconds)} of {rto.target_seconds // 60} min "
            f"({' + '.join(f'{t.name} {_duration(t.seconds)}' for t in rto.terms)}; {source})"
        )
    else:
        parts.append("RTO unbounded")
    # Each store with the path that gives its RPO (replica lag, S3 replication, backup copy).
    stores = [
        f"{r.store} {_duration(r.path.seconds)} of {r.target_minutes} min ({r.path.name})"
        if r.path
        else f"{r.store} no path of {r.target_minutes} min"
        for r in analyze_rpo(view)
    ]
    if stores:
        parts.append("RPO " + ", ".join(stores))
    return f"{view.stack}: " + "; ".join(parts)
