"""The alarm catalog: every resource alarm the bundle knows, with the seeds' defaults.

Pure data (no Pulumi): the config model validates overrides against it, the monitoring
component builds CloudWatch alarms from it, tests compare synthesized alarms with it.
Each spec names its source in the operations manuals (docs/seed-numbers.md has the lines).

"For N minutes" is expressed as N one-minute periods that must all breach, the way a
Prometheus `for:` clause behaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from model.enums import Severity


class Comparison(StrEnum):
    GT = "GreaterThanThreshold"
    GE = "GreaterThanOrEqualToThreshold"
    LT = "LessThanThreshold"
    LE = "LessThanOrEqualToThreshold"

    @property
    def symbol(self) -> str:
        return {
            "GreaterThanThreshold": ">",
            "GreaterThanOrEqualToThreshold": ">=",
            "LessThanThreshold": "<",
            "LessThanOrEqualToThreshold": "<=",
        }[self.value]


class Basis(StrEnum):
    """How the configured threshold turns into the alarm's threshold."""

    ABSOLUTE = "absolute"  # used as is
    PERCENT_OF_MAX_CONNECTIONS = "percent-of-max-connections"
    PERCENT_OF_RPO = "percent-of-rpo"  # -> seconds
    PERCENT_OF_RPO_MS = "percent-of-rpo-ms"  # -> milliseconds
    PERCENT_OF_TIMEOUT = "percent-of-timeout"  # -> milliseconds
    PERCENT_OF_ALLOCATED_STORAGE = "percent-of-allocated-storage"  # -> bytes


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric of an alarm. `dims` pairs a dimension name with the resource
    field that gives its value, or with `=value` for a fixed value."""

    id: str
    namespace: str
    name: str
    stat: str
    dims: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AlarmSpec:
    id: str
    target: str  # the resource kind it watches: alb, asg, rds, lambda, queue, dlq, ...
    summary: str  # one line, with {threshold} and {unit}
    severity: Severity
    threshold: float
    comparison: Comparison
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str  # breaching | notBreaching | ignore | missing
    unit: str  # of the configured threshold
    source: str  # where the number comes from
    metrics: tuple[Metric, ...]
    expression: str | None = None  # metric math over `metrics`; None: the single metric
    basis: Basis = Basis.ABSOLUTE
    scope: str = "service"  # service | stack

    @property
    def is_percent_basis(self) -> bool:
        return self.basis is not Basis.ABSOLUTE


def _m(id_: str, namespace: str, name: str, stat: str, *dims: tuple[str, str]) -> Metric:
    return Metric(id_, namespace, name, stat, tuple(dims))


LB = ("LoadBalancer", "load_balancer")
TG = ("TargetGroup", "target_group")
ASG = ("AutoScalingGroupName", "name")
# RDS instances and Aurora clusters publish under different dimension names: "{rds}" is
# resolved from the resource (RdsResource.dimension).
DB = ("{rds}", "identifier")
FN = ("FunctionName", "function_name")
Q = ("QueueName", "queue_name")
DLQ = ("QueueName", "dlq_name")
VAULT = ("BackupVaultName", "vault")

CATALOG: tuple[AlarmSpec, ...] = (
    AlarmSpec(
        id="alb-5xx-rate",
        target="alb",
        summary="load balancer 5XX responses above {threshold}{unit} of requests",
        severity=Severity.CRITICAL,
        threshold=5,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=2,
        datapoints_to_alarm=2,
        treat_missing_data="notBreaching",
        unit="%",
        source="ReskFlow high_error_rate: error_rate > 5% for 2m, critical (L1107-1111)",
        metrics=(
            _m("elb5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", LB),
            _m("requests", "AWS/ApplicationELB", "RequestCount", "Sum", LB),
        ),
        # RequestCount leaves out requests the load balancer rejected before choosing a
        # target (e.g. 503 with no healthy targets): they are only in the ELB 5XX count.
        expression="100 * FILL(elb5xx, 0) / (FILL(requests, 0) + FILL(elb5xx, 0))",
    ),
    AlarmSpec(
        id="alb-target-5xx-rate",
        target="alb",
        summary="application (target) 5XX responses above {threshold}{unit} of requests",
        severity=Severity.CRITICAL,
        threshold=5,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="notBreaching",
        unit="%",
        source="Light on Campus High Error Rate > 0.05 for 5 minutes, CRITICAL (L229-240); "
        "WebUredno HighErrorRate 5m critical (L873-880)",
        metrics=(
            _m("target5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", LB),
            _m("requests", "AWS/ApplicationELB", "RequestCount", "Sum", LB),
        ),
        expression="100 * FILL(target5xx, 0) / requests",  # target responses are all counted
    ),
    AlarmSpec(
        id="alb-latency-p95",
        target="alb",
        summary="p95 target response time above {threshold}{unit}",
        severity=Severity.WARNING,
        threshold=2,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="notBreaching",
        unit=" s",
        source="ReskFlow slow_response: p95_latency > 2000ms for 5m, warning (L1113-1117)",
        metrics=(_m("p95", "AWS/ApplicationELB", "TargetResponseTime", "p95", LB),),
    ),
    AlarmSpec(
        id="alb-latency-p99",
        target="alb",
        summary="p99 target response time above {threshold}{unit}",
        severity=Severity.WARNING,
        threshold=5,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="notBreaching",
        unit=" s",
        source="ReskFlow load-test acceptance: p99 < 5s (L1599-1605)",
        metrics=(_m("p99", "AWS/ApplicationELB", "TargetResponseTime", "p99", LB),),
    ),
    AlarmSpec(
        id="alb-unhealthy-hosts",
        target="alb-target-group",
        summary="{threshold} or more unhealthy targets",
        severity=Severity.ERROR,
        threshold=1,
        comparison=Comparison.GE,
        period_seconds=60,
        evaluation_periods=2,
        datapoints_to_alarm=2,
        treat_missing_data="notBreaching",
        unit="",
        source="ReskFlow rollback trigger: health check failures (L1469-1472)",
        metrics=(_m("unhealthy", "AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", LB, TG),),
    ),
    AlarmSpec(
        id="asg-cpu-high",
        target="asg",
        summary="average CPU above {threshold}{unit}",
        severity=Severity.WARNING,
        threshold=80,
        comparison=Comparison.GT,
        # EC2 basic monitoring publishes every 5 minutes: one 5-minute datapoint is the
        # seed's "for 5m" (with detailed monitoring, override to 60 s x 5).
        period_seconds=300,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="missing",
        unit="%",
        source="ReskFlow high_cpu: cpu_usage > 80% for 5m, warning (L1088-1092)",
        metrics=(_m("cpu", "AWS/EC2", "CPUUtilization", "Average", ASG),),
    ),
    AlarmSpec(
        id="asg-memory-high",
        target="asg",
        summary="memory used above {threshold}{unit} (CloudWatch agent)",
        severity=Severity.WARNING,
        threshold=85,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=10,
        datapoints_to_alarm=10,
        treat_missing_data="missing",
        unit="%",
        source="ReskFlow memory_pressure: memory_usage > 85% for 10m, warning (L1100-1104)",
        metrics=(_m("mem", "CWAgent", "mem_used_percent", "Average", ASG),),
    ),
    AlarmSpec(
        id="asg-disk-high",
        target="asg",
        summary="root disk used above {threshold}{unit} (CloudWatch agent)",
        severity=Severity.CRITICAL,
        threshold=90,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="missing",
        unit="%",
        source="ReskFlow disk_space: disk_usage > 90% for 1m, critical (L1094-1098)",
        metrics=(_m("disk", "CWAgent", "disk_used_percent", "Maximum", ASG, ("path", "=/")),),
    ),
    AlarmSpec(
        id="asg-cpu-credits-low",
        target="asg-burstable",
        summary="CPU credit balance below {threshold} credits (at zero a burstable instance "
        "is throttled, or billed for surplus credits in unlimited mode)",
        severity=Severity.WARNING,
        threshold=20,
        comparison=Comparison.LT,
        period_seconds=300,
        evaluation_periods=3,
        datapoints_to_alarm=3,
        treat_missing_data="missing",
        unit=" credits",
        source="context: only for burstable (T) instance types",
        metrics=(_m("credits", "AWS/EC2", "CPUCreditBalance", "Minimum", ASG),),
        # In standard credit mode a T instance is throttled to its baseline at zero credits;
        # in unlimited mode (the T3/T4g default) it keeps bursting and is billed for it.
    ),
    AlarmSpec(
        id="rds-cpu-high",
        target="rds",
        summary="database CPU above {threshold}{unit}",
        severity=Severity.WARNING,
        threshold=80,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="missing",
        unit="%",
        source="ReskFlow high_cpu > 80% for 5m (L1088-1092); Skafu CPU < 80% (L22-26)",
        metrics=(_m("cpu", "AWS/RDS", "CPUUtilization", "Average", DB),),
    ),
    AlarmSpec(
        id="rds-free-storage-low",
        target="rds-storage",
        summary="free storage below {threshold}{unit} of allocated",
        severity=Severity.CRITICAL,
        threshold=10,
        comparison=Comparison.LT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="missing",
        unit="%",
        source="WebUredno DiskSpaceLow: avail/size < 0.1 for 5m, critical (L943-949)",
        metrics=(_m("free", "AWS/RDS", "FreeStorageSpace", "Minimum", DB),),
        basis=Basis.PERCENT_OF_ALLOCATED_STORAGE,
    ),
    AlarmSpec(
        id="rds-connections-high",
        target="rds",
        summary="connections above {threshold}{unit} of max_connections",
        severity=Severity.CRITICAL,
        threshold=80,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="missing",
        unit="%",
        source="WebUredno DatabaseConnectionPoolExhausted: > 0.8 of max for 5m, critical "
        "(L902-908)",
        metrics=(_m("connections", "AWS/RDS", "DatabaseConnections", "Maximum", DB),),
        basis=Basis.PERCENT_OF_MAX_CONNECTIONS,
    ),
    AlarmSpec(
        id="rds-deadlocks",
        target="rds-aurora",
        summary="more than {threshold} deadlocks in an hour",
        severity=Severity.CRITICAL,
        threshold=5,
        comparison=Comparison.GT,
        period_seconds=3600,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        unit="",
        source="WebUredno DatabaseDeadlocks: increase(deadlocks[1h]) > 5, critical (L918-923)",
        metrics=(_m("deadlocks", "AWS/RDS", "Deadlocks", "Average", DB),),
        # Deadlocks is a per-second average; times the period it is a count per hour.
        expression="deadlocks * PERIOD(deadlocks)",
    ),
    AlarmSpec(
        id="rds-replica-lag",
        target="rds-replica",
        summary="replica lag above {threshold}{unit} of the RPO",
        severity=Severity.ERROR,
        threshold=50,
        comparison=Comparison.GT,
        period_seconds=60,
        # Two minutes above half the RPO: the page comes before the lag reaches the RPO
        # (threshold + 2 x 60 s = 270 s of a 300 s RPO; resilience-rpo-achievable checks it).
        evaluation_periods=2,
        datapoints_to_alarm=2,
        # A replica that was promoted (failover) publishes no ReplicaLag: that is no alarm.
        treat_missing_data="missing",
        unit="%",
        source="ReskFlow: RPO 5 minutes (L34); failover pre-check replication lag < 5 minutes "
        "(L516)",
        metrics=(_m("lag", "AWS/RDS", "ReplicaLag", "Maximum", DB),),
        basis=Basis.PERCENT_OF_RPO,
    ),
    AlarmSpec(
        id="aurora-global-replication-lag",
        target="rds-aurora-secondary",
        summary="global database replication lag above {threshold}{unit} of the RPO",
        severity=Severity.ERROR,
        threshold=50,
        comparison=Comparison.GT,
        period_seconds=60,
        # Two minutes above half the RPO: the page comes before the lag reaches the RPO
        # (threshold + 2 x 60 s = 270 s of a 300 s RPO; resilience-rpo-achievable checks it).
        evaluation_periods=2,
        datapoints_to_alarm=2,
        treat_missing_data="missing",
        unit="%",
        source="ReskFlow: RPO 5 minutes (L34); Aurora publishes the lag of a secondary cluster "
        "in milliseconds",
        metrics=(_m("lag", "AWS/RDS", "AuroraGlobalDBReplicationLag", "Maximum", DB),),
        basis=Basis.PERCENT_OF_RPO_MS,
    ),
    AlarmSpec(
        id="lambda-error-rate",
        target="lambda",
        summary="function errors above {threshold}{unit} of invocations",
        severity=Severity.ERROR,
        threshold=2,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="notBreaching",
        unit="%",
        source="Skafu KPI error_rate: target < 1%, alert > 2% (L510-530)",
        metrics=(
            _m("errors", "AWS/Lambda", "Errors", "Sum", FN),
            _m("invocations", "AWS/Lambda", "Invocations", "Sum", FN),
        ),
        expression="100 * FILL(errors, 0) / invocations",
    ),
    AlarmSpec(
        id="lambda-throttles",
        target="lambda",
        summary="throttled invocations for 5 minutes",
        severity=Severity.WARNING,
        threshold=0,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="notBreaching",
        unit="",
        source="AWS Lambda operational practice: throttles mean lost or delayed work",
        metrics=(_m("throttles", "AWS/Lambda", "Throttles", "Sum", FN),),
    ),
    AlarmSpec(
        id="lambda-duration-near-timeout",
        target="lambda",
        summary="p99 duration above {threshold}{unit} of the timeout",
        severity=Severity.WARNING,
        threshold=80,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="notBreaching",
        unit="%",
        source="Skafu daily check: Lambda < 30s timeout (L22-26)",
        metrics=(_m("duration", "AWS/Lambda", "Duration", "p99", FN),),
        basis=Basis.PERCENT_OF_TIMEOUT,
    ),
    AlarmSpec(
        id="sqs-oldest-message-age",
        target="queue",
        summary="oldest message older than {threshold}{unit}",
        severity=Severity.WARNING,
        threshold=300,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="notBreaching",
        unit=" s",
        source="queue backlog: consumers fall behind (workers scale at 10 messages, Light on "
        "Campus L1941-1972)",
        metrics=(_m("age", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", Q),),
    ),
    AlarmSpec(
        id="sqs-dlq-not-empty",
        target="dlq",
        summary="messages in the dead-letter queue",
        severity=Severity.ERROR,
        threshold=0,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        unit="",
        source="a message in a DLQ is a failed unit of work",
        metrics=(_m("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", DLQ),),
    ),
    AlarmSpec(
        id="acm-certificate-expiry",
        target="certificate",
        summary="certificate expires in fewer than {threshold}{unit}",
        severity=Severity.WARNING,
        threshold=7,
        comparison=Comparison.LT,
        period_seconds=86400,
        evaluation_periods=2,
        datapoints_to_alarm=2,
        # ReskFlow's post-mortem: an expired certificate whose monitoring failed silently
        # (L995-1004). A metric that stops arriving alarms too, after two days (ACM publishes
        # once a day, so one window without a datapoint is normal).
        treat_missing_data="breaching",
        unit=" days",
        source="WebUredno SSLCertificateExpiry < 7 days, warning (L951-956)",
        metrics=(
            _m(
                "days",
                "AWS/CertificateManager",
                "DaysToExpiry",
                "Minimum",
                ("CertificateArn", "arn"),
            ),
        ),
    ),
    AlarmSpec(
        id="route53-health-check-failed",
        target="health-check",
        summary="Route 53 health check failing",
        severity=Severity.CRITICAL,
        threshold=1,
        comparison=Comparison.LT,
        period_seconds=60,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="breaching",
        unit="",
        source="ReskFlow automated failover: health check failures (L414-505)",
        metrics=(
            _m("status", "AWS/Route53", "HealthCheckStatus", "Minimum", ("HealthCheckId", "id")),
        ),
    ),
    AlarmSpec(
        id="s3-replication-latency",
        target="s3-replication",
        summary="S3 replication latency above {threshold}{unit} of the RPO",
        severity=Severity.ERROR,
        threshold=100,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=5,
        treat_missing_data="notBreaching",
        unit="%",
        source="ReskFlow: RPO 5 min (L34); uploads replicate to the DR bucket (L404)",
        metrics=(
            _m(
                "latency",
                "AWS/S3",
                "ReplicationLatency",
                "Maximum",
                ("SourceBucket", "source_bucket"),
                ("DestinationBucket", "destination_bucket"),
                ("RuleId", "rule_id"),
            ),
        ),
        basis=Basis.PERCENT_OF_RPO,
    ),
    AlarmSpec(
        id="s3-replication-failed",
        target="s3-replication",
        summary="S3 objects failed to replicate",
        severity=Severity.ERROR,
        threshold=0,
        comparison=Comparison.GT,
        period_seconds=60,
        evaluation_periods=5,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        unit="",
        source="ReskFlow: S3 replicates to the DR region (L404); a failed object is data loss",
        metrics=(
            _m(
                "failed",
                "AWS/S3",
                "OperationsFailedReplication",
                "Sum",
                ("SourceBucket", "source_bucket"),
                ("DestinationBucket", "destination_bucket"),
                ("RuleId", "rule_id"),
            ),
        ),
    ),
    AlarmSpec(
        id="backup-job-failed",
        target="region",
        summary="AWS Backup jobs failed",
        severity=Severity.WARNING,
        threshold=0,
        comparison=Comparison.GT,
        period_seconds=300,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        unit="",
        source="ReskFlow backup validation (L320-342); failed jobs go to the warning topic",
        metrics=(_m("failed", "AWS/Backup", "NumberOfBackupJobsFailed", "Sum", VAULT),),
        scope="stack",
    ),
    AlarmSpec(
        id="backup-copy-job-failed",
        target="region",
        summary="AWS Backup cross-region copy jobs failed",
        severity=Severity.WARNING,
        threshold=0,
        comparison=Comparison.GT,
        period_seconds=300,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        unit="",
        source="ReskFlow 3-2-1 strategy: one copy offsite (L54-58)",
        metrics=(_m("failed", "AWS/Backup", "NumberOfCopyJobsFailed", "Sum", VAULT),),
        scope="stack",
    ),
    AlarmSpec(
        id="backup-restore-job-failed",
        target="region",
        summary="AWS Backup restore jobs failed",
        severity=Severity.WARNING,
        threshold=0,
        comparison=Comparison.GT,
        period_seconds=300,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        unit="",
        source="ReskFlow automated restore test daily (L320-342)",
        metrics=(_m("failed", "AWS/Backup", "NumberOfRestoreJobsFailed", "Sum", VAULT),),
        scope="stack",
    ),
)

BY_ID: dict[str, AlarmSpec] = {spec.id: spec for spec in CATALOG}
SERVICE_ALARM_IDS: tuple[str, ...] = tuple(s.id for s in CATALOG if s.scope == "service")
STACK_ALARM_IDS: tuple[str, ...] = tuple(s.id for s in CATALOG if s.scope == "stack")

# Instance families that run on CPU credits.
BURSTABLE_PREFIXES: tuple[str, ...] = ("t2.", "t3.", "t3a.", "t4g.")


def valid_period(seconds: int) -> bool:
    """CloudWatch accepts 10, 20, 30 or a multiple of 60 seconds, at most one day."""
    return seconds in (10, 20, 30) or (seconds % 60 == 0 and 60 <= seconds <= 86_400)


def evaluation_range_error(period: int, evaluations: int) -> str | None:
    """PutMetricAlarm's limit on period x evaluation periods, as a message, or None."""
    total = period * evaluations
    if period < 3600 and total > 86_400:
        return f"period x evaluation_periods is {total} s: at most 86400 s for periods under 1 h"
    if total > 604_800:
        return f"period x evaluation_periods is {total} s: at most 604800 s (7 days)"
    return None


# Statistics a CloudWatch-alarm health check accepts (no percentiles, no metric math).
ROUTE53_STATISTICS = frozenset({"Average", "Minimum", "Maximum", "Sum", "SampleCount"})


def route53_compatible(spec: AlarmSpec) -> bool:
    """Whether Route 53 can follow an alarm of this spec: one standard-resolution metric
    with a basic statistic and no metric math."""
    return (
        spec.expression is None
        and len(spec.metrics) == 1
        and spec.metrics[0].stat in ROUTE53_STATISTICS
        and spec.period_seconds >= 60
    )
