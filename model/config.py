"""Typed stack configuration.

One `StackConfig` is parsed from the `resilience:*` keys of a `Pulumi.<stack>.yaml` file (or
from the Pulumi runtime's config during `pulumi up`). Field names are the config keys: the
key path in an error message is the path a user edits. See `model.loader` for loading and
for how every problem in a file is collected into one error.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from model.alarms import (
    BURSTABLE_PREFIXES,
    SERVICE_ALARM_IDS,
    STACK_ALARM_IDS,
    valid_period,
)
from model.enums import DrMode, Role, Severity
from model.kubernetes import KubernetesConfig, ServiceKubernetes
from model.regions import AWS_REGIONS

__all__ = ["DrMode", "Role", "Severity"]

NAMESPACE = "resilience"

_SLUG = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PAGERDUTY = re.compile(r"^https://events\.pagerduty\.com/integration/[0-9a-z]{32}/enqueue$")
_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")

# A value stored encrypted in the stack file (`pulumi config set --secret`). Offline it cannot
# be decrypted; the loader replaces it with this marker and format checks accept it.
SECRET_PLACEHOLDER = "[secret]"


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors (they are typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise ValueError(f"unknown AWS region '{value}'")
    return value


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            f"'{value}' must be 2-32 characters of lowercase letters, digits and '-', "
            "starting with a letter and not ending with '-'"
        )
    return value


def _tag_key(key: str) -> str:
    if key.lower().startswith("aws:"):
        raise ValueError("the 'aws:' prefix is reserved by AWS")
    if not _TAG_KEY.match(key):
        raise ValueError(
            f"'{key}' is not a valid AWS tag key (1-128 of letters, digits, . : / = + - @ _)"
        )
    return key


def _tag_value(value: str) -> str:
    if not _TAG_VALUE.match(value):
        raise ValueError(
            f"'{value}' is not a valid AWS tag value (0-256 of letters, digits, "
            "spaces and . : / = + - @ _)"
        )
    return value


Region = Annotated[str, AfterValidator(_region)]
TagKey = Annotated[str, AfterValidator(_tag_key)]
TagValue = Annotated[str, AfterValidator(_tag_value)]
Tags = dict[TagKey, TagValue]
Slug = Annotated[str, AfterValidator(_slug)]


class RegionConfig(Strict):
    region: Region


class DrConfig(Strict):
    """DR targets and the DR region. Both stacks carry it: the primary needs RTO/RPO to size
    replication and alarms, the dr stack needs the mode and where to read the primary from."""

    region: Region
    rto_minutes: int = Field(gt=0, le=10_080, description="recovery time objective")
    rpo_minutes: int = Field(gt=0, le=10_080, description="recovery point objective")
    mode: DrMode = DrMode.PILOT_LIGHT
    # Warm standby runs this share of the primary's minimum capacity (at least one unit per
    # group) and keeps the full maximum, so it scales out on its own when traffic arrives.
    warm_standby_percent: int = Field(default=50, ge=1, le=99)
    # How long the on-call takes to act on a critical page: a failover starts when someone
    # runs `resilience failover` (the DR region stays fenced until then). Counted in the
    # RTO analysis; None leaves it out (and says so).
    response_minutes: int | None = Field(default=None, ge=0, le=1_440)
    # Written by `resilience failover` next to `mode: active`: the mode `resilience failback`
    # returns to.
    standby_mode: Literal["pilot-light", "warm-standby"] | None = None


class ContactKind(StrEnum):
    EMAIL = "email"
    HTTPS = "https"  # an endpoint that confirms SNS subscriptions (Opsgenie, a relay, ...)
    PAGERDUTY = "pagerduty"  # PagerDuty's Amazon CloudWatch integration URL
    SLACK = "slack"  # a Slack incoming webhook, served through the relay function
    SMS = "sms"


class Contact(Strict):
    """One escalation channel. Webhook endpoints usually carry tokens: store them with
    `pulumi config set --secret --path` and they stay encrypted in the stack file."""

    kind: ContactKind
    endpoint: str = Field(min_length=1)
    name: str | None = None

    @field_validator("endpoint")
    @classmethod
    def _endpoint_shape(cls, value: str, info: object) -> str:
        if value == SECRET_PLACEHOLDER:
            return value
        data = getattr(info, "data", {})
        kind = data.get("kind")
        if kind == ContactKind.EMAIL and not _EMAIL.match(value):
            raise ValueError(f"'{value}' is not an email address")
        if kind in (ContactKind.HTTPS, ContactKind.PAGERDUTY, ContactKind.SLACK) and not (
            value.startswith("https://") and len(value) > len("https://")
        ):
            raise ValueError("webhook endpoints must be https:// URLs")
        if kind == ContactKind.PAGERDUTY and not _PAGERDUTY.match(value):
            raise ValueError(
                "use the URL of PagerDuty's Amazon CloudWatch integration "
                "(https://events.pagerduty.com/integration/<32-character key>/enqueue): the "
                "Events API v2 endpoint does not accept SNS deliveries"
            )
        if kind == ContactKind.SLACK and not value.startswith("https://hooks.slack.com/"):
            raise ValueError("a Slack incoming webhook URL starts with https://hooks.slack.com/")
        if kind == ContactKind.SMS and not re.match(r"^\+[1-9]\d{6,14}$", value):
            raise ValueError(f"'{value}' is not an E.164 phone number (+15555550100)")
        return value


class Escalation(Strict):
    """Contacts per severity. Critical must reach a human; the others may be empty."""

    critical: list[Contact] = Field(min_length=1)
    error: list[Contact] = Field(default_factory=list)
    warning: list[Contact] = Field(default_factory=list)
    info: list[Contact] = Field(default_factory=list)

    def contacts(self, severity: Severity) -> list[Contact]:
        return list(getattr(self, severity.value))


class Slo(Strict):
    """Service level objective over a rolling window. Availability is a percentage."""

    availability: float = Field(
        gt=90.0,
        le=99.999,
        description="availability target in percent, in (90, 99.999]",
    )
    latency_p95_ms: int | None = Field(default=None, gt=0, le=600_000)
    latency_p99_ms: int | None = Field(default=None, gt=0, le=600_000)
    window_days: int = Field(default=30, ge=7, le=90)

    @property
    def error_budget(self) -> float:
        """Allowed bad-event ratio: 1 - availability."""
        return round(1.0 - self.availability / 100.0, 12)


ServiceTier = Literal["web", "api", "ai", "auth", "database", "worker"]

# Default SLOs per tier: the Light on Campus SLO table (docs/seed-numbers.md, L71-77).
# A service of another tier (worker) states its own.
TIER_SLOS: dict[str, dict[str, float]] = {
    "web": {"availability": 99.5, "latency_p95_ms": 3000},
    "api": {"availability": 99.9, "latency_p95_ms": 1000},
    "ai": {"availability": 99.0, "latency_p95_ms": 30000},
    "auth": {"availability": 99.9, "latency_p95_ms": 500},
    "database": {"availability": 99.99, "latency_p95_ms": 100},
}

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        allowed = ", ".join(map(str, LOG_RETENTION_DAYS))
        raise ValueError(f"{days} is not a CloudWatch Logs retention period (one of {allowed})")
    return days


def _alarm_id(scope_ids: tuple[str, ...], kind: str) -> AfterValidator:
    def check(alarm_id: str) -> str:
        if alarm_id not in scope_ids:
            close = difflib.get_close_matches(alarm_id, scope_ids, 1)
            hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(scope_ids)}"
            raise ValueError(f"unknown {kind} alarm '{alarm_id}' ({hint})")
        return alarm_id

    return AfterValidator(check)


RetentionDays = Annotated[int, AfterValidator(_retention)]
ServiceAlarmId = Annotated[str, _alarm_id(SERVICE_ALARM_IDS, "service")]
StackAlarmId = Annotated[str, _alarm_id(STACK_ALARM_IDS, "stack")]


class AlarmOverride(Strict):
    """Changes to one catalog alarm. Percent-based alarms (connections, replica lag, ...)
    take the percentage as `threshold`."""

    enabled: bool = True
    threshold: float | None = Field(default=None, ge=0)
    period_seconds: int | None = None
    evaluation_periods: int | None = Field(default=None, ge=1, le=1440)
    datapoints_to_alarm: int | None = Field(default=None, ge=1, le=1440)
    severity: Severity | None = None

    @field_validator("period_seconds")
    @classmethod
    def _period(cls, value: int | None) -> int | None:
        if value is not None and not valid_period(value):
            raise ValueError(
                f"{value} is not an alarm period: 10, 20, 30 or a multiple of 60 up to 86400"
            )
        return value


def _pattern(regex: str, what: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f"'{value}' is not {what}")
        return value

    return AfterValidator(check)


LoadBalancerDim = Annotated[
    str, _pattern(r"^app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$", "an ALB dimension (app/<name>/<id>)")
]
TargetGroupDim = Annotated[
    str,
    _pattern(
        r"^targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$",
        "a target group dimension (targetgroup/<name>/<id>)",
    ),
]
InstanceType = Annotated[
    str, _pattern(r"^(db\.)?[a-z][a-z0-9-]*\.[a-z0-9]+$", "an instance type (m6i.large)")
]
BucketName = Annotated[
    str,
    _pattern(
        r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        "an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')",
    ),
]
CertificateArn = Annotated[
    str,
    _pattern(
        r"^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$", "an ACM certificate ARN"
    ),
]
HealthCheckId = Annotated[
    str,
    _pattern(
        r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        "a Route 53 health check id",
    ),
]

# RDS API Reference, CreateDBInstance, DBInstanceIdentifier (and CreateDBCluster,
# DBClusterIdentifier, for Aurora): "Must contain from 1 to 63 letters, numbers, or hyphens.
# First character must be a letter. Can't end with a hyphen or contain two consecutive
# hyphens." RDS stores it "as a lowercase string": the config takes lowercase only.
RDS_IDENTIFIER_MAX = 63
_RDS_IDENTIFIER = re.compile(r"^[a-z](-?[a-z0-9])*$")


def valid_rds_identifier(value: str) -> bool:
    return len(value) <= RDS_IDENTIFIER_MAX and _RDS_IDENTIFIER.match(value) is not None


def _rds_identifier(value: str) -> str:
    if not valid_rds_identifier(value):
        raise ValueError(
            f"'{value}' is not an RDS identifier: 1-{RDS_IDENTIFIER_MAX} lowercase letters, "
            "digits and hyphens, starting with a letter; RDS identifiers can't end with a "
            "hyphen or contain two consecutive hyphens"
        )
    return value


RdsIdentifier = Annotated[
    str,
    AfterValidator(_rds_identifier),
    # For editors (`resilience schema`); the validator above gives the reason.
    Field(json_schema_extra={"pattern": _RDS_IDENTIFIER.pattern, "maxLength": RDS_IDENTIFIER_MAX}),
]

# Amazon SQS Developer Guide, Amazon SQS FIFO queue quotas: "The name of a FIFO queue must end
# with the .fifo suffix. The suffix counts towards the 80-character queue name quota."
# (CreateQueue, QueueName: "A queue name can have up to 80 characters. Valid values:
# alphanumeric characters, hyphens (-), and underscores (_).")
QUEUE_NAME_MAX = 80
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]+(\.fifo)?$")


def _queue_name(value: str) -> str:
    if len(value) > QUEUE_NAME_MAX or not _QUEUE_NAME.match(value):
        raise ValueError(
            f"'{value}' is not an SQS queue name: 1-{QUEUE_NAME_MAX} letters, digits, '-' and "
            "'_', a FIFO queue's .fifo suffix included"
        )
    return value


QueueName = Annotated[
    str,
    AfterValidator(_queue_name),
    Field(json_schema_extra={"pattern": _QUEUE_NAME.pattern, "maxLength": QUEUE_NAME_MAX}),
]

SubnetId = Annotated[str, _pattern(r"^subnet-[0-9a-f]{8,17}$", "a subnet id (subnet-...)")]
SecurityGroupId = Annotated[str, _pattern(r"^sg-[0-9a-f]{8,17}$", "a security group id (sg-...)")]


class AlbResource(Strict):
    load_balancer: LoadBalancerDim
    target_group: TargetGroupDim | None = None


class AsgResource(Strict):
    """An Auto Scaling group. With `launch_template` the bundle owns the group (creates it
    and sets its capacity: scaling and DR modes need that); without, it is only watched."""

    name: str = Field(min_length=1, max_length=255)
    instance_type: InstanceType
    # The application team's launch template in this region (AMI, user data, profile).
    launch_template: str | None = Field(
        default=None, pattern=r"^[a-zA-Z0-9().\-/_]{3,128}$", description="launch template name"
    )
    launch_template_version: str = Field(default="$Latest", pattern=r"^(\$Latest|\$Default|\d+)$")
    # Subnets of an owned group; default: the region's `network` subnets.
    subnet_ids: list[SubnetId] = Field(default_factory=list)
    health_check_grace_seconds: int = Field(default=300, ge=0, le=7200)

    @property
    def owned(self) -> bool:
        return self.launch_template is not None

    @property
    def burstable(self) -> bool:
        return self.instance_type.startswith(BURSTABLE_PREFIXES)


class RdsResource(Strict):
    identifier: RdsIdentifier
    engine: Literal["postgres", "mysql", "aurora-postgresql", "aurora-mysql"]
    instance_class: InstanceType
    max_connections: int = Field(gt=0, le=262_143)
    allocated_storage_gb: int | None = Field(default=None, ge=20, le=65_536)
    replica: bool = False  # a read replica: its lag is watched against the RPO

    @property
    def aurora(self) -> bool:
        return self.engine.startswith("aurora-")

    @property
    def dimension(self) -> str:
        """CloudWatch dimension of the identifier: Aurora metrics are per cluster."""
        return "DBClusterIdentifier" if self.aurora else "DBInstanceIdentifier"


class LambdaResource(Strict):
    function_name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    timeout_seconds: int = Field(ge=1, le=900)


class EcsResource(Strict):
    """An existing ECS service; the bundle registers it with Application Auto Scaling, which
    sets its task count bounds (so scaling and DR modes need no ownership of the service)."""

    cluster: str = Field(pattern=r"^[A-Za-z0-9_-]{1,255}$")
    service: str = Field(pattern=r"^[A-Za-z0-9_-]{1,255}$")

    @property
    def resource_id(self) -> str:
        return f"service/{self.cluster}/{self.service}"


class QueueResource(Strict):
    queue_name: QueueName
    dlq_name: QueueName | None = None


class S3ReplicationResource(Strict):
    source_bucket: BucketName
    destination_bucket: BucketName
    rule_id: str = Field(min_length=1, max_length=255)


class RegionResources(Strict):
    """Existing resources of a service in one region, to be monitored."""

    alb: AlbResource | None = None
    asg: AsgResource | None = None
    ecs: EcsResource | None = None
    databases: list[RdsResource] = Field(default_factory=list)
    functions: list[LambdaResource] = Field(default_factory=list)
    queues: list[QueueResource] = Field(default_factory=list)
    certificates: list[CertificateArn] = Field(default_factory=list)
    health_checks: list[HealthCheckId] = Field(default_factory=list)
    s3_replication: list[S3ReplicationResource] = Field(default_factory=list)


class ServiceResources(Strict):
    primary: RegionResources = Field(default_factory=RegionResources)
    dr: RegionResources = Field(default_factory=RegionResources)


class CpuScaling(Strict):
    """Seeds (Light on Campus api_instances, L1941-1960): scale out above 70 % CPU with a
    5-minute cooldown, scale in below 30 % by 30 % (x0.7) with a 10-minute cooldown. Scale-out
    is target tracking (AWS sizes the step); scale-in is a separate step policy, because
    target tracking alone would scale in just under the target, not below 30 %."""

    target_percent: float = Field(default=70, gt=0, le=100)
    scale_in_below_percent: float = Field(default=30, gt=0, lt=100)
    scale_in_step_percent: int = Field(default=30, ge=1, le=90)
    scale_out_cooldown_minutes: int = Field(default=5, ge=1, le=60)
    scale_in_cooldown_minutes: int = Field(default=10, ge=1, le=120)


class QueueScaling(Strict):
    """Seeds (Light on Campus ai_workers, L1962-1971): workers scale out at 10 queued
    messages, x2 per step, cooldown 3 minutes; they scale in by one once the queue has been
    empty for `scale_in_after_empty_minutes`."""

    queue_name: QueueName
    scale_out_at_messages: int = Field(default=10, ge=1)
    scale_out_percent: int = Field(default=100, ge=1, le=1000)
    cooldown_minutes: int = Field(default=3, ge=1, le=60)
    scale_in_after_empty_minutes: int = Field(default=15, ge=1, le=1440)


def _month_day(value: str) -> str:
    """MM-DD of a date every year has (no 29 February: a yearly schedule would skip it)."""
    try:
        datetime.strptime(f"2001-{value}", "%Y-%m-%d")  # 2001: not a leap year
    except ValueError:
        raise ValueError(f"'{value}' is not a date every year has, as MM-DD") from None
    return value


MonthDay = Annotated[str, _pattern(r"^\d\d-\d\d$", "a date as MM-DD"), AfterValidator(_month_day)]


class PeakSchedule(Strict):
    """A yearly peak (UTC): from `start` to `end`, capacity bounds are `factor` times the
    normal ones. Seeds: ReskFlow holiday season 3x, peak months November and December."""

    name: Slug
    start: MonthDay
    end: MonthDay
    factor: float = Field(gt=1, le=10)


def _days(start: str, end: str) -> list[str]:
    """The MM-DD days of a yearly window [start, end), across New Year if it wraps."""
    first = datetime.strptime(f"2001-{start}", "%Y-%m-%d")
    last = datetime.strptime(f"2001-{end}", "%Y-%m-%d")
    if last <= first:
        last = last.replace(year=2002)
    count = (last - first).days
    return [(first + timedelta(days=n)).strftime("%m-%d") for n in range(count)]


class Scaling(Strict):
    """Capacity of a service's compute (an owned ASG or an ECS service) at full strength.
    Seed defaults: min 2, max 10 (Light on Campus api_instances)."""

    min: int = Field(default=2, ge=1, le=1000)
    max: int = Field(default=10, ge=1, le=1000)
    cpu: CpuScaling | None = Field(default_factory=CpuScaling)
    # Requests per minute one target serves at its limit; target tracking holds 80 % of it
    # (ReskFlow: scale at "request_rate 80% of limit", L1201-1205). Needs an ALB target group.
    request_limit_per_target: int | None = Field(default=None, ge=1)
    queue: QueueScaling | None = None
    peaks: list[PeakSchedule] = Field(default_factory=list)
    # Alarm (warning) when the group sits at its maximum this long: it cannot scale further.
    at_max_alarm_minutes: int = Field(default=15, ge=1, le=1440)

    @model_validator(mode="after")
    def _bounds(self) -> Scaling:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be >= min ({self.min})")
        days = [(p.name, set(_days(p.start, p.end))) for p in self.peaks]
        for i, (name, covered) in enumerate(days):
            for other, theirs in days[i + 1 :]:
                if covered & theirs:
                    # One peak's end action would reset the bounds while the other runs.
                    raise ValueError(f"peaks {name} and {other} overlap")
        return self


class ServiceDns(Strict):
    """The service's public name: a failover record pair, PRIMARY in the primary stack and
    SECONDARY in the dr stack, each an alias of that region's ALB."""

    record: str = Field(
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="fully qualified name, lowercase",
    )
    health_check_path: str | None = Field(default=None, pattern=r"^/\S*$")


class Service(Strict):
    name: Slug
    tier: ServiceTier
    description: str | None = None
    slo: Slo
    runbook_url: str = Field(pattern=r"^https://\S+$")
    # Extra tags for this service's resources (on top of the stack tags).
    tags: Tags = Field(default_factory=dict)
    resources: ServiceResources = Field(default_factory=ServiceResources)
    alarms: dict[ServiceAlarmId, AlarmOverride] = Field(default_factory=dict)
    # Former names: alarms keep their identity (Pulumi aliases) when a service is renamed.
    previous_names: list[Slug] = Field(default_factory=list)
    scaling: Scaling | None = None
    dns: ServiceDns | None = None
    # Runs on Kubernetes: PrometheusRules, HPA and PDB (model/kubernetes.py, components/k8s).
    kubernetes: ServiceKubernetes | None = None

    @model_validator(mode="before")
    @classmethod
    def _tier_slo(cls, data: Any) -> Any:
        """A service without an `slo` gets its tier's (the seeds' SLO table)."""
        if isinstance(data, dict) and "slo" not in data and data.get("tier") in TIER_SLOS:
            return {**data, "slo": dict(TIER_SLOS[data["tier"]])}
        return data


class LogsConfig(Strict):
    """Retention of the log groups the bundle creates (seeds: app 30 d, audit 90 d for GDPR,
    365 d by default for compliance evidence)."""

    app_retention_days: RetentionDays = 30
    audit_retention_days: RetentionDays = 90
    default_retention_days: RetentionDays = 365
    # `RDSOSMetrics`, the one log group per region that RDS Enhanced Monitoring writes every
    # instance's OS metrics to: `managed` creates it in each stack's region before the
    # databases, with app_retention_days and the region's key (components/database.py);
    # `external` when another stack of the account already owns it in that region (RDS
    # creates it itself otherwise: 30 days, not under our key).
    rds_os_metrics: Literal["managed", "external"] = "managed"


class Frequency(StrEnum):
    HOURLY = "hourly"
    FOUR_HOURLY = "4-hourly"
    TWELVE_HOURLY = "12-hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"

    @property
    def minutes(self) -> int:
        """The longest gap between two backups (a month of 31 days, a leap year)."""
        return {
            Frequency.HOURLY: 60,
            Frequency.FOUR_HOURLY: 240,
            Frequency.TWELVE_HOURLY: 720,
            Frequency.DAILY: 1_440,
            Frequency.WEEKLY: 10_080,
            Frequency.MONTHLY: 44_640,
            Frequency.YEARLY: 527_040,
        }[self]

    def cron(self, hour: int) -> str:
        """AWS Backup schedule (six fields, UTC; one of day-of-month/day-of-week is '?')."""
        return {
            Frequency.HOURLY: "cron(0 * ? * * *)",
            # 02:00, 06:00, ... UTC: clear of the RDS backup window (00:00-01:00), which
            # AWS Backup jobs must not touch.
            Frequency.FOUR_HOURLY: "cron(0 2/4 ? * * *)",
            Frequency.TWELVE_HOURLY: "cron(0 2/12 ? * * *)",
            Frequency.DAILY: f"cron(0 {hour} ? * * *)",
            Frequency.WEEKLY: f"cron(0 {hour} ? * SUN *)",
            Frequency.MONTHLY: f"cron(0 {hour} 1 * ? *)",
            Frequency.YEARLY: f"cron(0 {hour} 1 1 ? *)",
        }[self]


# Snapshot frequencies shorter than a day. "RDS takes snapshots once per day, even if a backup
# plan has a frequency for snapshot backups other than once per day" when the plan also takes
# continuous backups (AWS Backup Developer Guide, "Continuous backups and point-in-time
# recovery (PITR)", RDS: Backup schedules).
SUB_DAILY = frozenset({Frequency.HOURLY, Frequency.FOUR_HOURLY, Frequency.TWELVE_HOURLY})
# The continuous rule's own schedule (components/backup.py): daily at 05:00 UTC. Its copies
# are snapshots: "You can't create copies of Amazon RDS continuous backups [...] Instead, AWS
# Backup creates a snapshot and copies it with the frequency specified in the backup plan"
# (same page); "When a cross-Region or cross-account copy of a continuous backup is made, the
# copied recovery point (backup) becomes a snapshot (periodic) backup" ("Copy a backup").
CONTINUOUS_RULE_FREQUENCY = Frequency.DAILY


class BackupRule(Strict):
    """One schedule of a data class: how often, how long kept, when moved to cold storage."""

    name: Slug
    frequency: Frequency
    retention_days: int = Field(ge=1, le=36_500)
    cold_storage_after_days: int | None = Field(default=None, ge=1)
    start_hour_utc: int = Field(default=5, ge=0, le=23)
    cross_region_copy: bool = True  # a copy in the other region's vault, same lifecycle


class BackupClass(Strict):
    """A data class (`backup-policy` tag value) and what its backups must be."""

    description: str | None = None
    # Continuous backup / point-in-time recovery (RDS, S3, ...), kept 1-35 days.
    continuous_days: int | None = Field(default=None, ge=1, le=35)
    rules: list[BackupRule] = Field(default_factory=list)
    # The class's own recovery point objective when it differs from `dr.rpo_minutes` (e.g.
    # user uploads backed up hourly); the RTO/RPO analysis holds its data stores to it.
    rpo_minutes: int | None = Field(default=None, gt=0, le=10_080)


class VaultLock(Strict):
    """AWS Backup Vault Lock. Governance mode can be removed by privileged users; compliance
    mode becomes immutable after `changeable_for_days` (at least 3)."""

    mode: Literal["governance", "compliance"]
    min_retention_days: int = Field(ge=1, le=36_500)
    max_retention_days: int | None = Field(default=None, ge=1, le=36_500)
    changeable_for_days: int | None = Field(default=None, ge=3, le=36_500)


class BackupConfig(Strict):
    vault_lock: VaultLock | None = None
    classes: dict[Slug, BackupClass] = Field(default_factory=dict)
    start_window_minutes: int = Field(default=60, ge=60, le=720)
    completion_window_minutes: int = Field(default=480, ge=120, le=10_080)


class BucketLifecycle(Strict):
    """Lifecycle of a data bucket (current and replica alike)."""

    transition_to_ia_days: int | None = Field(default=None, ge=30)  # S3 minimum: 30 days
    # Current objects move to S3 Glacier Flexible Retrieval (Skafu: "90 days to glacier",
    # L586-589; WebUredno: communications archived after a year, L477-483) ...
    archive_after_days: int | None = Field(default=None, ge=1)
    # ... and are deleted (storage limitation, GDPR Art. 5(1)(e)).
    expire_after_days: int | None = Field(default=None, ge=1)
    noncurrent_expiration_days: int | None = Field(default=90, ge=1)
    # Keep this many newest noncurrent versions past noncurrent_expiration_days (Skafu keeps
    # "10 versions" of its artifacts, L443-446).
    noncurrent_versions_kept: int | None = Field(default=None, ge=1, le=100)
    abort_incomplete_multipart_days: int = Field(default=7, ge=1)

    @model_validator(mode="after")
    def _order(self) -> BucketLifecycle:
        ia, archive, expire = (
            self.transition_to_ia_days,
            self.archive_after_days,
            self.expire_after_days,
        )
        if ia is not None and archive is not None and archive < ia + 30:
            raise ValueError(
                f"archive_after_days ({archive}) must be at least 30 days after "
                f"transition_to_ia_days ({ia}): S3 keeps objects 30 days in Standard-IA"
            )
        later = max(d for d in (ia, archive, 0) if d is not None)
        if expire is not None and expire <= later:
            raise ValueError(
                f"expire_after_days ({expire}) must come after the transitions ({later})"
            )
        if self.noncurrent_versions_kept is not None and self.noncurrent_expiration_days is None:
            raise ValueError("noncurrent_versions_kept needs noncurrent_expiration_days")
        return self


class DataBucket(Strict):
    """A bucket of application data, replicated to the DR region (the dr stack owns the
    replica and the replication configuration)."""

    name: Slug
    backup_class: Slug | None = None  # tagged backup-policy=<class>
    replicate_deletes: bool = False  # replicate delete markers to the DR bucket
    lifecycle: BucketLifecycle = Field(default_factory=BucketLifecycle)


class RegionNetwork(Strict):
    """Existing private subnets (two or more zones) and security groups for databases."""

    subnet_ids: list[SubnetId] = Field(min_length=2)
    security_group_ids: list[SecurityGroupId] = Field(min_length=1)


class NetworkConfig(Strict):
    primary: RegionNetwork | None = None
    dr: RegionNetwork | None = None


class Database(Strict):
    """PostgreSQL with a copy in the DR region: an RDS instance and its cross-region read
    replica (`postgres`), or an Aurora Global Database (`aurora-postgresql`) whose DR
    cluster is the secondary."""

    name: Slug
    engine: Literal["postgres", "aurora-postgresql"] = "postgres"
    identifier: RdsIdentifier | None = None
    # Aurora: instances of the primary cluster and of the DR (secondary) cluster.
    instances: int = Field(default=2, ge=1, le=16)
    dr_instances: int = Field(default=1, ge=1, le=16)
    # RDS: the major version only (the loader refuses 16.4). With auto minor version upgrades
    # RDS moves the instance to 16.x itself; the provider then reads the running version
    # back, and keeps the configured one only when it is a prefix of it ("16" of "16.6") or
    # equals a pending upgrade (terraform-provider-aws, rds compareActualEngineVersion): a
    # pinned "16.4" would diff forever and ask RDS for a downgrade. Aurora: major.minor.
    engine_version: str = Field(default="16", pattern=r"^\d+(\.\d+)?$")
    instance_class: InstanceType
    # RDS storage; Aurora storage grows by itself and ignores it.
    allocated_storage_gb: int = Field(default=100, ge=20, le=65_536)
    max_allocated_storage_gb: int | None = Field(default=None, ge=20, le=65_536)
    multi_az: bool = True
    backup_retention_days: int = Field(default=35, ge=7, le=35)
    # The replica keeps its own automated backups: a promoted replica is never unprotected.
    replica_backup_retention_days: int = Field(default=7, ge=1, le=35)
    replica_instance_class: InstanceType | None = None
    backup_class: Slug | None = None
    # Apply modifications (an engine upgrade, a new parameter group) at once rather than in
    # the next maintenance window: "Changing this parameter results in an outage and the
    # change is applied during the next maintenance window unless the ApplyImmediately
    # parameter is enabled" (RDS API Reference, ModifyDBInstance, EngineVersion).
    apply_immediately: bool = False

    @property
    def major_version(self) -> str:
        """The engine's major version (`16` of `16` or `16.4`): it names the parameter group
        family (`postgres16`, `aurora-postgresql16`)."""
        return self.engine_version.split(".")[0]

    def primary_identifier(self, system: str) -> str:
        return self.identifier or f"{system}-{self.name}"

    def replica_identifier(self, system: str) -> str:
        return f"{self.primary_identifier(system)}-dr"


class GlobalTable(Strict):
    """A DynamoDB table for key-value data with a replica in the DR region (a global table:
    both replicas accept writes, so the DR side needs no promotion)."""

    name: Slug
    hash_key: str = Field(min_length=1, max_length=255)
    hash_key_type: Literal["S", "N", "B"] = "S"
    range_key: str | None = Field(default=None, min_length=1, max_length=255)
    range_key_type: Literal["S", "N", "B"] = "S"
    ttl_attribute: str | None = Field(default=None, min_length=1, max_length=255)
    backup_class: Slug | None = None


# Regions Route 53 health checkers run from (a check uses at least three).
HEALTH_CHECKER_REGIONS = (
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
)


def _checker_region(value: str) -> str:
    if value not in HEALTH_CHECKER_REGIONS:
        raise ValueError(
            f"'{value}' is not a Route 53 health-checker region "
            f"({', '.join(HEALTH_CHECKER_REGIONS)})"
        )
    return value


class HealthCheckSettings(Strict):
    """Route 53 HTTPS health checks on each region's endpoint. The seeds state none of these
    numbers (docs/seed-numbers.md 1.5); the defaults detect a dead region in 30 s (10 s x 3)."""

    path: str = Field(default="/health", pattern=r"^/\S*$")
    port: int = Field(default=443, ge=1, le=65535)
    interval_seconds: Literal[10, 30] = 10
    failure_threshold: int = Field(default=3, ge=1, le=10)
    # Empty: all checker regions (AWS default).
    regions: list[Annotated[str, AfterValidator(_checker_region)]] = Field(default_factory=list)
    # Catalog alarms of the service (e.g. alb-5xx-rate) whose state also decides health:
    # each becomes a CloudWatch-alarm health check inside the calculated one.
    alarms: list[ServiceAlarmId] = Field(default_factory=list)

    @field_validator("regions")
    @classmethod
    def _three(cls, value: list[str]) -> list[str]:
        if value and len(set(value)) < 3:
            raise ValueError("Route 53 needs at least three distinct checker regions")
        return value


class FailoverConfig(Strict):
    """DNS failover. `health-check` (default): Route 53 fails over by itself when the PRIMARY
    health check fails. `arc`: Route 53 Application Recovery Controller routing controls
    decide, flipped by `resilience failover` through the ARC cluster's data plane; the health
    checks stay for alarms and readiness. ARC costs a cluster (USD 2.50 an hour, about 1,825
    a month); health checks cost cents."""

    mechanism: Literal["health-check", "arc"] = "health-check"
    hosted_zone_id: str = Field(pattern=r"^Z[A-Z0-9]{1,31}$")
    health_check: HealthCheckSettings = Field(default_factory=HealthCheckSettings)


class MonitoringConfig(Strict):
    alarms: dict[StackAlarmId, AlarmOverride] = Field(default_factory=dict)
    dashboards: bool = True
    # Runbook of the stack-wide alarms (AWS Backup jobs); default: the first service's.
    runbook_url: str | None = Field(default=None, pattern=r"^https://\S+$")


class KmsConfig(Strict):
    deletion_window_days: int = Field(default=30, ge=7, le=30)
    # Create a multi-Region key for application (envelope) encryption in the primary and its
    # replica in the DR region, so replicated ciphertext stays readable after a failover.
    app_key: bool = False


# -- security and audit baseline, cost guards ------------------------------------------------

# Conformance packs the bundle can deploy (components/conformance.py renders each from the
# AWS Config managed rules of AWS's sample pack of that name, with parameters from this config).
ConformancePackName = Literal["aws-backup", "cis-aws-3.0", "pci-dss-4.0"]
# Security Hub standards (components/security_baseline.py holds their ARNs).
SecurityStandard = Literal[
    "aws-foundational-security-best-practices",
    "cis-aws-foundations-benchmark-3.0",
    "pci-dss-4.0.1",
    "nist-800-53-5.0.0",
]
GuardDutyFeature = Literal[
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "LAMBDA_NETWORK_LOGS",
    "RUNTIME_MONITORING",
]

# The bundle's data stores (S3, RDS), its instances (EBS) and its relay function (Lambda).
DEFAULT_GUARDDUTY_FEATURES: tuple[GuardDutyFeature, ...] = (
    "S3_DATA_EVENTS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "LAMBDA_NETWORK_LOGS",
)
DEFAULT_STANDARDS: tuple[SecurityStandard, ...] = (
    "aws-foundational-security-best-practices",
    "cis-aws-foundations-benchmark-3.0",
)
DEFAULT_CONFORMANCE_PACKS: tuple[ConformancePackName, ...] = ("aws-backup",)


def _unique(values: list[Any]) -> list[Any]:
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ValueError(f"listed twice: {', '.join(map(str, dict.fromkeys(seen)))}")
    return values


class TrailConfig(Strict):
    """The system's CloudTrail trail: multi-region, owned by the primary stack. Turn it off
    when the account already delivers an organization trail."""

    enabled: bool = True
    # An organization trail (the primary must then run in the management account or the
    # delegated CloudTrail administrator).
    organization: bool = False
    # Object Lock, compliance mode: every log file is undeletable this long, then expires
    # (PCI DSS 10.5.1: 12 months; the policy pack refuses less than 365 days).
    retention_days: int = Field(default=365, ge=1, le=36_500)
    # CloudWatch Logs delivery with the CIS AWS 3.0 section 4 metric filters and alarms.
    cis_alarms: bool = True


# How the stack treats an account singleton of a region (one AWS Config recorder and one
# delivery channel, one GuardDuty detector, one Security Hub subscription, one account
# analyzer): `create` builds it, `existing` uses the one already there (AWS Control Tower, an
# organization's delegated administrator) and builds only what sits on top of it, `off`
# builds nothing of that service. Preflight (`resilience preflight`) reads these keys.
ServiceMode = Literal["create", "existing", "off"]
SERVICE_MODES: tuple[ServiceMode, ...] = ("create", "existing", "off")


def _mode(value: Any) -> Any:
    """YAML 1.1 (PyYAML, the offline loader) reads an unquoted `off` as false; the Pulumi CLI
    (YAML 1.2) keeps it a string. Both mean `off`."""
    return "off" if value is False else value


Mode = Annotated[ServiceMode, BeforeValidator(_mode)]


def _replaced_by_mode(meaning: str) -> Any:
    """A validator for the old `enabled` switch: refused, pointing at `mode`."""

    def refuse(value: Any) -> Any:
        if value is not None:
            raise ValueError(f"replaced by `mode` (create | existing | off): {meaning}")
        return value

    return refuse


class ConfigRecorderConfig(Strict):
    """The AWS Config recorder and delivery channel of each stack's region (global IAM
    resources are recorded by the primary's only). AWS allows one of each per region and
    account ("You can have only one delivery channel per region per AWS account",
    AWS::Config::DeliveryChannel): `existing` uses the recorder already there (AWS Control
    Tower, an organization setup) and tags the stack `resilience-config-recorder: external`."""

    mode: Mode = "create"
    snapshot_frequency: Literal[
        "One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"
    ] = "TwentyFour_Hours"  # Skafu's daily compliance check (L35-40)
    # The Config bucket keeps configuration history and snapshots this long, then expires
    # them (PCI DSS 4.0 10.5.1: "Retain audit log history for at least 12 months"; the policy
    # pack refuses less than 365 days). AWS Config cannot deliver to an Object Lock bucket,
    # so this is lifecycle expiry, not a lock.
    retention_days: int = Field(default=365, ge=1, le=36_500)
    enabled: SkipJsonSchema[None] = None

    _enabled = field_validator("enabled", mode="before")(
        _replaced_by_mode(
            "`enabled: false` (the recorder is managed elsewhere) is now `mode: existing`, "
            "`enabled: true` is `mode: create` (the default); `mode: off` records nothing"
        )
    )


class GuardDutyRouting(Strict):
    """Escalation severity of each GuardDuty finding band (null: not routed)."""

    high: Severity = Severity.CRITICAL  # severity 7.0-10.0 (high, and critical attack sequences)
    medium: Severity | None = Severity.WARNING  # 4.0-6.9
    low: Severity | None = Severity.INFO  # 1.0-3.9


class GuardDutyConfig(Strict):
    """The region's GuardDuty detector ("You can have only one detector per account per
    Region", GuardDuty API Reference, CreateDetector). `existing` reads the detector already
    there (a delegated administrator enables it for members) and routes its findings; its
    protection plans stay with whoever manages it."""

    mode: Mode = "create"
    finding_frequency: Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"] = "FIFTEEN_MINUTES"
    # Protection plans switched on; every other one is set explicitly off (mode create).
    features: Annotated[list[GuardDutyFeature], AfterValidator(_unique)] = Field(
        default_factory=lambda: list(DEFAULT_GUARDDUTY_FEATURES)
    )
    routing: GuardDutyRouting = Field(default_factory=GuardDutyRouting)
    enabled: SkipJsonSchema[None] = None

    _enabled = field_validator("enabled", mode="before")(
        _replaced_by_mode(
            "`enabled: false` is now `mode: off` (no detector, no routing), or `mode: existing` "
            "when the account already has a detector in the region"
        )
    )


class SecurityHubConfig(Strict):
    """Security Hub in the region (one subscription per account and region). `existing`
    reads the standards already enabled there (an organization's central configuration
    manages them) and subscribes to none."""

    mode: Mode = "create"
    standards: Annotated[list[SecurityStandard], AfterValidator(_unique)] = Field(
        default_factory=lambda: list(DEFAULT_STANDARDS)
    )
    enabled: SkipJsonSchema[None] = None

    _enabled = field_validator("enabled", mode="before")(
        _replaced_by_mode(
            "`enabled: false` is now `mode: off`, or `mode: existing` when Security Hub is "
            "already enabled in the account"
        )
    )


class AccessAnalyzerConfig(Strict):
    """IAM Access Analyzer with the account as zone of trust ("Maximum account-level
    analyzers per analyzer type per AWS account per Region: 1", IAM Access Analyzer
    quotas). `existing`: the account already has its analyzer in the region."""

    mode: Mode = "create"


class SecurityConfig(Strict):
    """The AWS services that produce the seeds' daily security and compliance evidence
    (Skafu L28-40: GuardDuty findings, CloudTrail integrity, AWS Config compliance)."""

    trail: TrailConfig = Field(default_factory=TrailConfig)
    config_recorder: ConfigRecorderConfig = Field(default_factory=ConfigRecorderConfig)
    conformance_packs: Annotated[list[ConformancePackName], AfterValidator(_unique)] = Field(
        default_factory=lambda: list(DEFAULT_CONFORMANCE_PACKS)
    )
    guardduty: GuardDutyConfig = Field(default_factory=GuardDutyConfig)
    security_hub: SecurityHubConfig = Field(default_factory=SecurityHubConfig)
    access_analyzer: AccessAnalyzerConfig = Field(default_factory=AccessAnalyzerConfig)

    @field_validator("access_analyzer", mode="before")
    @classmethod
    def _analyzer_was_a_switch(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(
                "is a mapping now: `access_analyzer: false` is `access_analyzer: {mode: off}`, "
                "`true` is `{mode: create}` (the default); `{mode: existing}` when the account "
                "already has its analyzer in the region"
            )
        return value

    @model_validator(mode="after")
    def _packs_need_config(self) -> SecurityConfig:
        """Conformance packs are AWS Config rules: none without AWS Config recording."""
        if (
            self.config_recorder.mode == "off"
            and "conformance_packs" in self.model_fields_set
            and self.conformance_packs
        ):
            raise ValueError(
                "conformance_packs: AWS Config conformance packs need a configuration recorder "
                'in the region ("The account must have a Configuration Recorder"); '
                "config_recorder.mode is off: set conformance_packs: [] or mode create/existing"
            )
        return self


class AnomalyConfig(Strict):
    """A Cost Anomaly Detection monitor of the system's spend (tag `system`), alerting the
    warning topic at once for an anomaly of at least `threshold_usd` (ours: the seeds name
    anomaly detection, not an amount)."""

    enabled: bool = True
    threshold_usd: float = Field(default=100, gt=0, le=1_000_000)


AlertPercent = Annotated[int, Field(ge=1, le=1000)]
# AWS Budgets: at most five notifications per budget.
MAX_BUDGET_NOTIFICATIONS = 5


class CostConfig(Strict):
    """AWS Budgets and Cost Anomaly Detection (global: owned by the primary stack). The
    seeds ask for budget alerts and anomaly detection (ReskFlow L1347-1351, Skafu L598-603)
    but state no amount: a budget exists only once `monthly_budget_usd` is set."""

    # The system's monthly cost (cost allocation tag `system=<name>`).
    monthly_budget_usd: float | None = Field(default=None, gt=0, le=100_000_000)
    # Per service, by the cost allocation tag `service=<name>`.
    service_budgets_usd: dict[Slug, Annotated[float, Field(gt=0, le=100_000_000)]] = Field(
        default_factory=dict
    )
    forecast_alert_percent: Annotated[list[AlertPercent], AfterValidator(_unique)] = Field(
        default_factory=lambda: [80, 100]
    )
    actual_alert_percent: Annotated[list[AlertPercent], AfterValidator(_unique)] = Field(
        default_factory=lambda: [100]
    )
    anomaly: AnomalyConfig = Field(default_factory=AnomalyConfig)

    @model_validator(mode="after")
    def _notifications(self) -> CostConfig:
        count = len(self.forecast_alert_percent) + len(self.actual_alert_percent)
        if count > MAX_BUDGET_NOTIFICATIONS:
            raise ValueError(
                f"{count} alerts per budget (forecast_alert_percent + actual_alert_percent); "
                f"AWS Budgets allows {MAX_BUDGET_NOTIFICATIONS}"
            )
        return self


def _stack_name(value: str) -> str:
    if not re.match(r"^[\w.-]+(/[\w.-]+){0,2}$", value):
        raise ValueError(
            f"'{value}' is not a stack name: expected 'stack', 'project/stack' "
            "or 'org/project/stack'"
        )
    return value


StackName = Annotated[str, AfterValidator(_stack_name)]


# The kinds of data store the primary exports in `data_protection`.
StoreKind = Literal["rds", "aurora", "s3", "dynamodb"]


class BackupCopy(BaseModel):
    """The worst age of the newest copy of a store's backups in the other region's vault."""

    minutes: int
    basis: str  # how the figure comes about, for the RTO/RPO output


class StackConfig(Strict):
    """Everything in the `resilience:` namespace of one stack (its file and the shared
    system file it includes)."""

    role: Role
    # The dr stack reads the primary's outputs from this stack (`org/project/stack`).
    # Required when role is dr.
    primary_stack: StackName | None = None
    # Shared system files merged under this stack's own keys (see model.loader).
    include: list[str] = Field(default_factory=list)
    name: Slug = Field(description="system name; prefixes every physical resource name")
    environment: Slug = "production"
    primary: RegionConfig
    dr: DrConfig
    escalation: Escalation
    services: list[Service] = Field(min_length=1)
    tags: Tags = Field(default_factory=dict)
    kms: KmsConfig = Field(default_factory=KmsConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    backup: BackupConfig = Field(default_factory=BackupConfig)
    data_buckets: list[DataBucket] = Field(default_factory=list)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    databases: list[Database] = Field(default_factory=list)
    tables: list[GlobalTable] = Field(default_factory=list)
    failover: FailoverConfig | None = None
    kubernetes: KubernetesConfig = Field(default_factory=KubernetesConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    cost: CostConfig = Field(default_factory=CostConfig)

    @model_validator(mode="after")
    def _service_budgets(self) -> StackConfig:
        names = [service.name for service in self.services]
        unknown = [name for name in self.cost.service_budgets_usd if name not in names]
        if unknown:
            raise ValueError(
                f"{NAMESPACE}:cost.service_budgets_usd: {', '.join(unknown)} is not a service "
                f"(services: {', '.join(names)})"
            )
        return self

    @property
    def region(self) -> str:
        """The region this stack deploys into."""
        return self.primary.region if self.role is Role.PRIMARY else self.dr.region

    @property
    def peer_region(self) -> str:
        return self.dr.region if self.role is Role.PRIMARY else self.primary.region

    def rpo_minutes_for(self, backup_class: str | None) -> int:
        """The RPO a data store of this class is held to: its class's, else the system's."""
        spec = self.backup.classes.get(backup_class) if backup_class else None
        if spec is not None and spec.rpo_minutes is not None:
            return spec.rpo_minutes
        return self.dr.rpo_minutes

    def backup_copy(self, backup_class: str | None, kind: StoreKind) -> BackupCopy | None:
        """How old the newest copy of a store's backups in the other region's vault can be:
        the interval at which AWS Backup really snapshots and copies that kind of store, plus
        the job's start and completion windows (the copy starts once the backup completes).
        The RPO of a store that has no replica there; None when nothing is copied.

        What AWS does per kind (AWS Backup Developer Guide, "Continuous backups and
        point-in-time recovery (PITR)"): continuous backups are never copied as such, the
        copy of a continuous rule is a snapshot taken on that rule's schedule (daily here);
        for RDS under continuous backup "RDS takes snapshots once per day, even if a backup
        plan has a frequency for snapshot backups other than once per day", so no snapshot
        rule copies more often than daily; Aurora and S3 keep their snapshot rules'
        frequency (the page states no such limit for them); DynamoDB is not among the
        services with AWS Backup continuous backup, so its continuous rule falls back to a
        snapshot ("If AWS Backup is unable to perform a continuous backup, it tries to
        perform a snapshot backup instead") on the same daily schedule."""
        spec = self.backup.classes.get(backup_class) if backup_class else None
        if spec is None:
            return None
        continuous = spec.continuous_days is not None
        copied: list[tuple[int, str]] = []
        if continuous:
            copied.append(
                (CONTINUOUS_RULE_FREQUENCY.minutes, "the continuous rule's daily snapshot copy")
            )
        for rule in spec.rules:
            if not rule.cross_region_copy:
                continue
            if kind == "rds" and continuous and rule.frequency in SUB_DAILY:
                copied.append((Frequency.DAILY.minutes, f"{rule.name}: RDS snapshots once a day"))
            else:
                copied.append((rule.frequency.minutes, f"the {rule.name} rule"))
        if not copied:
            return None
        interval, what = min(copied, key=lambda entry: entry[0])
        start, completion = self.backup.start_window_minutes, self.backup.completion_window_minutes
        return BackupCopy(
            minutes=interval + start + completion,
            basis=f"{what} every {interval} min + start window {start} min + completion "
            f"window {completion} min",
        )

    def copy_interval_minutes(self, backup_class: str | None, kind: StoreKind) -> int | None:
        copy = self.backup_copy(backup_class, kind)
        return copy.minutes if copy else None

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)
