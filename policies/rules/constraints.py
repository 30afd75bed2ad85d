"""Documented constraints of the AWS services and of the provider, as rules.

Mocks and moto accept whatever the program sends; AWS does not. Each rule here is one
constraint a service enforces when a resource is created or updated (a value range, a
format, a quota of one), or a documented behaviour that silently changes what a resource
does (a field an event never carries, a default the provider sends), and its docstring
quotes where it is written: the API reference (botocore ships it: `botocore.loaders.Loader()
.load_service_model(<service>, "service-2")`), the service's guide, or the provider's own
documentation and source (pulumi-aws 7.51, built on the Terraform provider). The per-kind
review records (`docs/review/*.yaml`, rendered to docs/kind-review.md) say which rule
enforces which constraint.

Rules see a resource's inputs offline (the graph) and its inputs and outputs in the pack;
a value the program does not know yet (`[unknown]`, `[secret]`) is never judged.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from typing import Any

from policies.rules.core import (
    OPAQUE,
    Framework,
    ResourceView,
    Rule,
    Severity,
    dig,
    holds_opaque,
    opaque,
    statements,
)
from policies.rules.stack import StackRule, StackView, Violation

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
KMS_KEY = "aws:kms/key:Key"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
ALIAS = "aws:kms/alias:Alias"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ASG = "aws:autoscaling/group:Group"
ASG_POLICY = "aws:autoscaling/policy:Policy"
ASG_SCHEDULE = "aws:autoscaling/schedule:Schedule"
AAS_POLICY = "aws:appautoscaling/policy:Policy"
AAS_TARGET = "aws:appautoscaling/target:Target"
AAS_SCHEDULE = "aws:appautoscaling/scheduledAction:ScheduledAction"
BUDGET = "aws:budgets/budget:Budget"
ANOMALY_SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
TABLE = "aws:dynamodb/table:Table"
TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"

# A constraint AWS enforces when the resource is created or changed: `pulumi up` fails (the
# change is not tested before it is deployed); or a behaviour that leaves a monitor silent.
CHANGE = (Framework("SOC 2", "CC8.1"), Framework("ISO 27001", "A.8.32"))
SILENT = (Framework("SOC 2", "CC7.2"),)


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value in OPAQUE)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _document(value: Any) -> Any:
    """A JSON document given as text (policies, patterns, bodies), parsed; None if not JSON."""
    if isinstance(value, dict | list):
        return value
    if not isinstance(value, str) or value in OPAQUE:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return None


def _non_whitespace(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def arn_region(arn: Any) -> str | None:
    """The region field of an ARN (`arn:<partition>:<service>:<region>:...`), if any."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    parts = arn.split(":")
    return parts[3] or None if len(parts) > 5 else None


def effective_name(resource: ResourceView, field: str = "name") -> tuple[str, bool]:
    """The physical name: the input (or the output in the pack), else what Pulumi autonames
    from the logical name (`<logical>-<7 hex>`); and whether it is autonamed."""
    value = resource.props.get(field)
    if isinstance(value, str) and value not in OPAQUE:
        return value, False
    return f"{resource.name}-0000000", True


# -- CloudWatch alarms ---------------------------------------------------------------------

HIGH_RESOLUTION_PERIODS = (10, 20, 30)


def _alarm_periods(resource: ResourceView) -> list[tuple[str, int]]:
    """(where, period) of the alarm itself and of each metric of its metric queries."""
    out = []
    period = _int(resource.props.get("period"))
    if period is not None:
        out.append(("period", period))
    for query in _list(resource.props.get("metricQueries")):
        metric = _dict(_dict(query).get("metric"))
        value = _int(metric.get("period"))
        if value is not None:
            out.append((f"metric query {_dict(query).get('id', '?')}", value))
    return out


def _alarm_period(resource: ResourceView) -> Iterator[str]:
    """CloudWatch API Reference, PutMetricAlarm, Period: "Valid values are 10, 20, 30, and any
    multiple of 60." (the metrics of a metric-math alarm: MetricStat, Period, "must be a
    multiple of 60", high-resolution metrics also 1, 5, 10, 20, 30; the provider validates
    `IntInSlice([1, 5, 10, 20, 30])` or `IntDivisibleBy(60)`, metric_alarm.go)."""
    for where, period in _alarm_periods(resource):
        allowed = (1, 5, *HIGH_RESOLUTION_PERIODS) if where != "period" else HIGH_RESOLUTION_PERIODS
        if period <= 0 or (period % 60 != 0 and period not in allowed):
            yield f"{resource.name}: {where} {period} s is not 10, 20, 30 or a multiple of 60"


def _evaluation_range(resource: ResourceView) -> Iterator[str]:
    """CloudWatch API Reference, PutMetricAlarm, Period: "An alarm's total current evaluation
    period can be no longer than seven days, so Period multiplied by EvaluationPeriods can't
    be more than 604,800 seconds. For alarms with a period of less than one hour (3,600
    seconds), the total evaluation period can't be longer than one day (86,400 seconds)."
    DatapointsToAlarm is the M of an "M out of N" alarm whose N is EvaluationPeriods."""
    evaluations = _int(resource.props.get("evaluationPeriods"))
    if evaluations is None:
        return
    datapoints = _int(resource.props.get("datapointsToAlarm"))
    if datapoints is not None and datapoints > evaluations:
        yield (
            f"{resource.name}: datapoints_to_alarm {datapoints} exceeds evaluation_periods "
            f"{evaluations} (M out of N needs M <= N)"
        )
    periods = [p for _, p in _alarm_periods(resource)]
    if not periods:
        return
    period = max(periods)
    total = period * evaluations
    if period < 3600 and total > 86_400:
        yield (
            f"{resource.name}: {evaluations} periods of {period} s evaluate {total} s; a period "
            "under one hour allows at most 86400 s"
        )
    elif total > 604_800:
        yield f"{resource.name}: {evaluations} periods of {period} s evaluate {total} s (> 7 days)"


QUERY_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
MAX_ALARM_METRICS = 10
MAX_ALARM_EXPRESSIONS = 10
MAX_EXPRESSION_LENGTH = 1024  # the provider's validation of metric_query.expression


def _metric_math(resource: ResourceView) -> Iterator[str]:
    """CloudWatch API Reference, MetricDataQuery: "A single PutMetricAlarm call can include up
    to 20 MetricDataQuery structures in the array. The 20 structures can include as many as 10
    structures that contain a MetricStat parameter ..., and as many as 10 structures that
    contain the Expression parameter ... Of those Expression structures, one must have true as
    the value for ReturnData." Id: "The valid characters are letters, numbers, and underscore.
    The first character must be a lowercase letter." PutMetricAlarm, Metrics: "If you use the
    Metrics parameter, you cannot include the Namespace, MetricName, Dimensions, Period, Unit,
    Statistic, or ExtendedStatistic parameters". The provider refuses an expression longer
    than 1,024 characters (metric_alarm.go, `StringLenBetween(1, 1024)`)."""
    raw = _list(resource.props.get("metricQueries"))
    if any(opaque(q) for q in raw):
        return  # a query not known yet: nothing can be counted
    queries = [_dict(q) for q in raw]
    if not queries:
        return
    both = [
        k
        for k in ("namespace", "metricName", "dimensions", "period", "statistic", "unit")
        if k in resource.props and not opaque(resource.props[k])
    ]
    if both:
        yield f"{resource.name}: metric queries together with {', '.join(both)}"
    metrics = [q for q in queries if q.get("metric") and not opaque(q.get("metric"))]
    expressions = [q for q in queries if q.get("expression") and not opaque(q.get("expression"))]
    if len(metrics) > MAX_ALARM_METRICS:
        yield f"{resource.name}: {len(metrics)} metrics; an alarm can retrieve at most 10"
    if len(expressions) > MAX_ALARM_EXPRESSIONS:
        yield f"{resource.name}: {len(expressions)} expressions; an alarm can have at most 10"
    returned = [q.get("id") for q in queries if q.get("returnData") is True]
    unsure = [q for q in queries if opaque(q.get("returnData"))]
    if len(returned) > 1 or (not unsure and len(returned) != 1):
        yield f"{resource.name}: {len(returned)} queries return data; exactly one must"
    ids = [q.get("id") for q in queries]
    for query_id in ids:
        if opaque(query_id):
            continue
        if not isinstance(query_id, str) or not QUERY_ID.match(query_id):
            yield f"{resource.name}: query id {query_id!r} must start with a lowercase letter"
    known_ids = [str(i) for i in ids if not opaque(i)]
    if len(set(known_ids)) != len(known_ids):
        yield f"{resource.name}: query ids repeat"
    for query in expressions:
        text = query["expression"]
        if isinstance(text, str) and len(text) > MAX_EXPRESSION_LENGTH:
            yield f"{resource.name}: expression {query.get('id')} has {len(text)} characters"


ALARM_FUNCTION = re.compile(r"\b(ALARM|OK|INSUFFICIENT_DATA)\s*\(")
MAX_ALARM_RULE_LENGTH = 10_240
MAX_COMPOSITE_CHILDREN = 100


def _composite_rule(resource: ResourceView) -> Iterator[str]:
    """CloudWatch API Reference, PutCompositeAlarm: AlarmRule is 1 to 10,240 characters;
    "The AlarmRule can specify as many as 100 "children" alarms." ActionsSuppressorWaitPeriod
    and ActionsSuppressorExtensionPeriod: "required only when ActionsSuppressor is
    specified" (the provider's actions_suppressor block requires both)."""
    rule = resource.props.get("alarmRule")
    if isinstance(rule, str) and rule not in OPAQUE:
        if len(rule) > MAX_ALARM_RULE_LENGTH:
            yield f"{resource.name}: alarm rule has {len(rule)} characters (at most 10240)"
        children = len(ALARM_FUNCTION.findall(rule))
        if children > MAX_COMPOSITE_CHILDREN:
            yield f"{resource.name}: alarm rule names {children} alarms (at most 100)"
    suppressor = _dict(resource.props.get("actionsSuppressor"))
    if suppressor:
        missing = [
            k
            for k in ("waitPeriod", "extensionPeriod")
            if _int(suppressor.get(k)) is None and not opaque(suppressor.get(k))
        ]
        if missing:
            yield f"{resource.name}: actions suppressor without {', '.join(missing)}"


DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
MAX_WIDGETS = 500
MAX_ALARM_WIDGET_ALARMS = 100


def _dashboard(resource: ResourceView) -> Iterator[str]:
    """CloudWatch API Reference, PutDashboard, DashboardName: "Valid characters are A-Z, a-z,
    0-9, "-", and "_"" (up to 255). CloudWatch User Guide, Dashboard Body Structure and
    Syntax: "It can include an array of between 0 and 500 widget objects ... The dashboard
    must include a widgets array"; an alarm status widget's `alarms` is "An array of alarm
    ARNs to include in the widget. The array can have 1-100 ARNs."."""
    name = resource.props.get("dashboardName")
    if isinstance(name, str) and name not in OPAQUE and not DASHBOARD_NAME.match(name):
        yield f"{resource.name}: dashboard name {name!r} has characters other than A-Za-z0-9-_"
    raw = resource.props.get("dashboardBody")
    if not _known(raw):
        return
    body = _document(raw)
    if not isinstance(body, dict) or not isinstance(body.get("widgets"), list):
        yield f"{resource.name}: the body is not JSON with a widgets array"
        return
    widgets = body["widgets"]
    if len(widgets) > MAX_WIDGETS:
        yield f"{resource.name}: {len(widgets)} widgets (at most 500)"
    for index, raw in enumerate(widgets):
        widget = _dict(raw)
        if widget.get("type") != "alarm":
            continue
        alarms = _list(_dict(widget.get("properties")).get("alarms"))
        if not 1 <= len(alarms) <= MAX_ALARM_WIDGET_ALARMS:
            yield f"{resource.name}: alarm widget {index} lists {len(alarms)} alarms (1 to 100)"


# -- CloudWatch Logs -----------------------------------------------------------------------

LOG_GROUP_NAME = re.compile(r"^[\.\-_/#A-Za-z0-9]{1,512}$")
LOG_RETENTION_DAYS: tuple[int, ...] = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400)
LOG_RETENTION_DAYS += (545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


def _log_group(resource: ResourceView) -> Iterator[str]:
    """CloudWatch Logs API Reference, CreateLogGroup: "Log group names can be between 1 and
    512 characters long. Log group names consist of the following characters: a-z, A-Z, 0-9,
    '_' (underscore), '-' (hyphen), '/' (forward slash), '.' (period), and '#' (number sign).
    Log group names can't start with the string aws/". PutRetentionPolicy, retentionInDays:
    "Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
    1827, 2192, 2557, 2922, 3288, and 3653."."""
    name = resource.props.get("name")
    if isinstance(name, str) and name not in OPAQUE:
        if not LOG_GROUP_NAME.match(name):
            yield f"{resource.name}: log group name {name!r} is not 1-512 of [.-_/#A-Za-z0-9]"
        elif name.startswith("aws/"):
            yield f"{resource.name}: log group names can't start with aws/"
    days = _int(resource.props.get("retentionInDays"))
    if days is not None and days != 0 and days not in LOG_RETENTION_DAYS:
        yield f"{resource.name}: {days} days is not a retention CloudWatch Logs accepts"


FILTER_NAME = re.compile(r"^[^:*]{1,512}$")
MAX_FILTER_DIMENSIONS = 3


def _balanced(pattern: str) -> bool:
    """Braces and parentheses pair up outside double-quoted strings."""
    depth: list[str] = []
    quoted = False
    pairs = {")": "(", "}": "{"}
    for index, char in enumerate(pattern):
        if char == '"' and (index == 0 or pattern[index - 1] != "\\"):
            quoted = not quoted
        elif quoted:
            continue
        elif char in "({":
            depth.append(char)
        elif char in ")}" and (not depth or depth.pop() != pairs[char]):
            return False
    return not depth and not quoted


def _metric_filter(resource: ResourceView) -> Iterator[str]:
    """CloudWatch Logs API Reference, PutMetricFilter: filterName is 1-512 characters without
    ':' or '*', filterPattern at most 1,024 characters; MetricTransformation, dimensions:
    "One metric filter can include as many as three dimensions." The provider: default_value
    "Conflicts with dimensions" (aws.cloudwatch.LogMetricFilter). A JSON filter pattern
    (`{ $.field = value }`) must be well formed, or PutMetricFilter refuses it
    ("Invalid metric filter pattern")."""
    name = resource.props.get("name")
    if isinstance(name, str) and name not in OPAQUE and not FILTER_NAME.match(name):
        yield f"{resource.name}: filter name {name!r} is not 1-512 characters without : or *"
    pattern = resource.props.get("pattern")
    if isinstance(pattern, str) and pattern not in OPAQUE:
        if len(pattern) > 1024:
            yield f"{resource.name}: filter pattern has {len(pattern)} characters (at most 1024)"
        if pattern.lstrip().startswith("{") and not _balanced(pattern):
            yield f"{resource.name}: filter pattern's braces, parentheses or quotes do not pair"
    transformation = _dict(resource.props.get("metricTransformation"))
    dimensions = _dict(transformation.get("dimensions"))
    if len(dimensions) > MAX_FILTER_DIMENSIONS:
        yield f"{resource.name}: {len(dimensions)} dimensions (at most 3)"
    if dimensions and _known(transformation.get("defaultValue")):
        yield f"{resource.name}: a default value cannot be combined with dimensions"


# -- EventBridge ---------------------------------------------------------------------------

EVENT_RULE_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
MAX_EVENT_PATTERN = 4096


def _pattern_values_are_arrays(pattern: Any, path: str = "") -> Iterator[str]:
    for key, value in _dict(pattern).items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, dict):
            yield from _pattern_values_are_arrays(value, where)
        elif not isinstance(value, list) and not key.startswith("$"):
            yield where


def _event_rule(resource: ResourceView) -> Iterator[str]:
    """EventBridge API Reference, PutRule: Name is 1-64 of [.-_A-Za-z0-9]; EventPattern at
    most 4,096 characters. pulumi-aws autonames a rule `<logical name>-<7 hex>` with a
    maximum of 64 (provider/resources.go, `AutoName("name", 64, "-")`; longer fails with
    "plus 7 random chars is longer than maximum length 64"). EventBridge User Guide, Creating
    event patterns: the values a field matches are given in a JSON array (PutRule refuses a
    bare value as an invalid pattern)."""
    name, autonamed = effective_name(resource)
    if not EVENT_RULE_NAME.match(name):
        how = "the autonamed rule (logical name + 8)" if autonamed else "the rule name"
        yield f"{resource.name}: {how} {name!r} is not 1-64 of [.-_A-Za-z0-9]"
    raw = resource.props.get("eventPattern")
    if not isinstance(raw, str) or raw in OPAQUE:
        return
    if len(raw) > MAX_EVENT_PATTERN:
        yield f"{resource.name}: event pattern has {len(raw)} characters (at most 4096)"
    pattern = _document(raw)
    if not isinstance(pattern, dict):
        yield f"{resource.name}: the event pattern is not a JSON object"
        return
    for where in _pattern_values_are_arrays(pattern):
        yield f"{resource.name}: event pattern field {where} is not an array of values"


# The `detail` fields each source emits, per detail-type, with the values a string field
# takes (None: any) or "numeric". From the sources' API models (botocore) and guides:
# - AWS Backup Developer Guide, Monitoring AWS Backup events using Amazon EventBridge: "Some
#   events report status: COMPLETED whereas other events report state: COMPLETED. This is
#   consistent with the AWS Backup API." The API: BackupJob.State (BackupJobState), CopyJob
#   .State (CopyJobState), RestoreJobsListMember.Status (RestoreJobStatus).
# - GuardDuty User Guide, Creating custom responses to GuardDuty findings with Amazon
#   EventBridge: the event's detail is the finding (GuardDuty API, Finding.Severity, a
#   double), so `severity` is matched with numeric filters.
EMITTED_DETAIL: dict[tuple[str, str], dict[str, tuple[str, ...] | str | None]] = {
    ("aws.backup", "Backup Job State Change"): {
        "state": (
            "CREATED",
            "PENDING",
            "RUNNING",
            "ABORTING",
            "ABORTED",
            "COMPLETED",
            "FAILED",
            "EXPIRED",
            "PARTIAL",
        ),
        "backupVaultName": None,
        "resourceType": None,
    },
    ("aws.backup", "Copy Job State Change"): {
        "state": ("CREATED", "RUNNING", "COMPLETED", "FAILED", "PARTIAL"),
        "resourceType": None,
    },
    ("aws.backup", "Restore Job State Change"): {
        "status": ("PENDING", "RUNNING", "COMPLETED", "ABORTED", "FAILED"),
        "resourceType": None,
    },
    ("aws.guardduty", "GuardDuty Finding"): {
        "severity": "numeric",
        "type": None,
        "accountId": None,
        "region": None,
    },
}


def _emitted_fields(resource: ResourceView) -> Iterator[str]:
    """A pattern on a field the source never emits, or on a value it never takes, matches
    nothing, and the rule stays silent for ever. EventBridge ANDs the fields of a pattern and
    ORs the values of one field (EventBridge User Guide, Creating event patterns), so for the
    sources the stacks route (AWS Backup job state changes, GuardDuty findings; see
    EMITTED_DETAIL) a listed detail-type that lacks one of the pattern's detail fields is never
    matched, and a value no listed detail-type takes is never matched either."""
    pattern = _document(resource.props.get("eventPattern"))
    if not isinstance(pattern, dict):
        return
    detail = _dict(pattern.get("detail"))
    sources = [s for s in _list(pattern.get("source")) if isinstance(s, str)]
    types = [t for t in _list(pattern.get("detail-type")) if isinstance(t, str)]
    known = [
        (detail_type, EMITTED_DETAIL[(source, detail_type)])
        for source in sources
        for detail_type in types
        if (source, detail_type) in EMITTED_DETAIL
    ]
    for detail_type, emitted in known:
        missing = [field for field in detail if field not in emitted]
        if missing:
            carried = ", ".join(sorted(emitted))
            yield (
                f"{resource.name}: {detail_type} events carry no detail."
                f"{', detail.'.join(missing)} (they carry {carried}): the pattern never "
                "matches them"
            )
    for field, matchers in detail.items():
        kinds = [emitted[field] for _, emitted in known if field in emitted]
        if not kinds:
            continue
        for matcher in _list(matchers):
            if not isinstance(matcher, str):
                continue
            if all(kind == "numeric" for kind in kinds):
                yield f"{resource.name}: detail.{field} is a number, not {matcher!r}"
            elif all(isinstance(kind, tuple) and matcher not in kind for kind in kinds):
                yield f"{resource.name}: detail.{field} never takes the value {matcher!r}"


# -- SNS -----------------------------------------------------------------------------------

PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PROTOCOLS = (
    "http",
    "https",
    "email",
    "email-json",
    "sms",
    "sqs",
    "application",
    "lambda",
    "firehose",
)


def _subscription(resource: ResourceView) -> Iterator[str]:
    """SNS API Reference, Subscribe, Protocol: one of http, https, email, email-json, sms,
    sqs, application, lambda, firehose; Endpoint: "For the https protocol, the (public)
    endpoint is a URL beginning with https://. For the email protocol, the endpoint is an email
    address. ... For the sms protocol, the endpoint is a phone number of an SMS-enabled
    device." (SNS Developer Guide, SMS: phone numbers in E.164 format, `+` and at most 15
    digits). "For
    the lambda protocol, the endpoint is the ARN of an Lambda function." The provider: a
    subscription "must use an AWS provider that is in the same region as the SNS topic"."""
    protocol = resource.props.get("protocol")
    endpoint = resource.props.get("endpoint")
    if isinstance(protocol, str) and not opaque(protocol) and protocol not in PROTOCOLS:
        yield f"{resource.name}: {protocol!r} is not an SNS protocol"
    if not isinstance(endpoint, str) or endpoint in OPAQUE:
        return
    wrong = {
        "https": not endpoint.startswith("https://"),
        "http": not endpoint.startswith("http://"),
        "email": not EMAIL.match(endpoint),
        "email-json": not EMAIL.match(endpoint),
        "sms": not PHONE.match(endpoint),
        "lambda": not endpoint.startswith("arn:") or ":lambda:" not in endpoint,
    }
    if wrong.get(str(protocol)):
        yield f"{resource.name}: {endpoint!r} is not a {protocol} endpoint"
    topic_region = arn_region(resource.props.get("topic"))
    if topic_region and resource.region and topic_region != resource.region:
        yield f"{resource.name}: created in {resource.region} for a topic in {topic_region}"


# -- KMS -----------------------------------------------------------------------------------

ALIAS_NAME = re.compile(r"^alias/[a-zA-Z0-9/_-]{1,250}$")


def _alias(resource: ResourceView) -> Iterator[str]:
    """KMS API Reference, CreateAlias, AliasName: "This value must begin with alias/ followed
    by a name ... It can contain only alphanumeric characters, forward slashes (/),
    underscores (_), and dashes (-). The alias name cannot begin with alias/aws/." (1-256
    characters). TargetKeyId: "The KMS key must be in the same Amazon Web Services Region."."""
    name = resource.props.get("name")
    if isinstance(name, str) and name not in OPAQUE:
        if not ALIAS_NAME.match(name) or len(name) > 256:
            yield f"{resource.name}: alias {name!r} is not alias/ and [a-zA-Z0-9/_-]"
        elif name.startswith("alias/aws/"):
            yield f"{resource.name}: alias/aws/ is reserved for AWS managed keys"
    key_region = arn_region(resource.props.get("targetKeyId"))
    if key_region and resource.region and key_region != resource.region:
        yield f"{resource.name}: the alias is in {resource.region}, its key in {key_region}"


def _replica_key(resource: ResourceView) -> Iterator[str]:
    """KMS API Reference, ReplicateKey, KeyId: "Specify the key ID or key ARN of a
    multi-Region primary key" (`mrk-` ids); ReplicaRegion: "The replica must be in a
    different Amazon Web Services Region than its primary key". ScheduleKeyDeletion,
    PendingWindowInDays: "it must be between 7 and 30, inclusive" (the provider's
    deletion_window_in_days)."""
    primary = resource.props.get("primaryKeyArn")
    if isinstance(primary, str) and primary not in OPAQUE:
        key_id = primary.rsplit("/", 1)[-1]
        if not key_id.startswith("mrk-"):
            yield f"{resource.name}: the primary {key_id} is not a multi-Region key (mrk-)"
        region = arn_region(primary)
        if region and resource.region and region == resource.region:
            yield f"{resource.name}: the replica is in its primary key's region {region}"
    window = _int(resource.props.get("deletionWindowInDays"))
    if window is not None and not 7 <= window <= 30:
        yield f"{resource.name}: deletion window {window} days (7 to 30)"


# Where each kind names a KMS key that protects it.
KEY_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    TOPIC: (("kmsMasterKeyId",),),
    LOG_GROUP: (("kmsKeyId",),),
    FUNCTION: (("kmsKeyArn",),),
    ENCRYPTION: (("rules", "*", "applyServerSideEncryptionByDefault", "kmsMasterKeyId"),),
    TABLE: (("serverSideEncryption", "kmsKeyArn"),),
    TABLE_REPLICA: (("kmsKeyArn",),),
}


def _at(value: Any, path: tuple[str, ...]) -> list[Any]:
    if not path:
        return [value]
    head, rest = path[0], path[1:]
    if head == "*":
        return [v for item in _list(value) for v in _at(item, rest)]
    return _at(_dict(value).get(head), rest) if isinstance(value, dict) else []


def _key_in_region(resource: ResourceView) -> Iterator[str]:
    """KMS keys are Regional: a key is used in the Region it lives in, and multi-Region keys
    exist so that a replica of the key can be used in another Region (KMS Developer Guide,
    Multi-Region keys in AWS KMS); CreateAlias, TargetKeyId: "The KMS key must be in the same
    Amazon Web Services Region". The services encrypting these kinds (S3, SNS, CloudWatch
    Logs, Lambda, DynamoDB and its replicas) call KMS in their own Region, so the key named
    is one of that Region (the DR region has its own key and the app key's replica)."""
    if not resource.region:
        return
    for path in KEY_FIELDS.get(resource.type, ()):
        for arn in _at(dict(resource.props), path):
            region = arn_region(arn)
            if region and region != resource.region:
                yield f"{resource.name}: in {resource.region}, encrypted with a key of {region}"


# -- policies --------------------------------------------------------------------------------

ACCOUNT_ID = re.compile(r"^\d{12}$")
POLICY_FIELDS = {
    TOPIC_POLICY: "policy",
    BUCKET_POLICY: "policy",
    KMS_KEY: "policy",
    REPLICA_KEY: "policy",
    ROLE: "assumeRolePolicy",
    ROLE_POLICY: "policy",
}


def _principal_arns(resource: ResourceView) -> Iterator[str]:
    """pulumi-aws 7.51, aws.sns.TopicPolicy: "If a Principal is specified as just an AWS
    account ID rather than an ARN, AWS silently converts it to the ARN for the root user,
    causing future deployments to differ." Bucket, key and trust policies store principals
    the same way (IAM User Guide, AWS JSON policy elements: Principal: an account ID is a
    shorthand for the account's root ARN), so the provider reads the ARN back and diffs."""
    for index, statement in enumerate(statements(resource.props.get(POLICY_FIELDS[resource.type]))):
        principal = statement.get("Principal")
        aws = _dict(principal).get("AWS") if isinstance(principal, dict) else None
        for value in aws if isinstance(aws, list) else [aws]:
            if isinstance(value, str) and ACCOUNT_ID.match(value):
                sid = statement.get("Sid", f"#{index}")
                yield (
                    f"{resource.name}: statement {sid} names account {value}; write "
                    f"arn:aws:iam::{value}:root (AWS stores the ARN: a diff on every preview)"
                )


# -- IAM -----------------------------------------------------------------------------------

ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
MAX_TRUST_POLICY = 2_048
MAX_ROLE_INLINE_POLICIES = 10_240
MAX_MANAGED_POLICIES_PER_ROLE = 10


def _role(resource: ResourceView) -> Iterator[str]:
    """IAM API Reference, CreateRole: RoleName is 1-64 of [\\w+=,.@-]; Description at most
    1,000 characters; MaxSessionDuration 3,600 to 43,200 ("from 1 hour to 12 hours"). pulumi
    -aws autonames a role `<logical name>-<7 hex>` within 64 (provider/resources.go,
    `AutoName("name", 64, "-")`): a longer logical name fails before any call. IAM User
    Guide, IAM and AWS STS quotas: the role trust policy length is 2,048 characters by default
    (GetAccountSummary's AssumeRolePolicySizeQuota, "in non-whitespace characters")."""
    name, autonamed = effective_name(resource)
    if not ROLE_NAME.match(name):
        how = "the autonamed role (logical name + 8)" if autonamed else "the role name"
        yield f"{resource.name}: {how} {name!r} is not 1-64 of [\\w+=,.@-]"
    description = resource.props.get("description")
    if isinstance(description, str) and len(description) > 1000:
        yield f"{resource.name}: description has {len(description)} characters (at most 1000)"
    duration = _int(resource.props.get("maxSessionDuration"))
    if duration is not None and not 3600 <= duration <= 43_200:
        yield f"{resource.name}: max session duration {duration} s (3600 to 43200)"
    trust = resource.props.get("assumeRolePolicy")
    if isinstance(trust, str) and trust not in OPAQUE:
        size = _non_whitespace(trust)
        if size > MAX_TRUST_POLICY:
            yield f"{resource.name}: trust policy has {size} characters (at most 2048)"


def _role_policy(resource: ResourceView) -> Iterator[str]:
    """IAM User Guide, IAM and AWS STS quotas: "Role policy size cannot exceed 10,240
    characters" (the sum of a role's inline policies; white space not counted). One policy
    over the limit is refused by PutRolePolicy (the stack rule adds them up per role)."""
    policy = resource.props.get("policy")
    if isinstance(policy, str) and policy not in OPAQUE:
        size = _non_whitespace(policy)
        if size > MAX_ROLE_INLINE_POLICIES:
            yield f"{resource.name}: inline policy has {size} characters (at most 10240)"


# -- Auto Scaling --------------------------------------------------------------------------

ALB_LABEL = re.compile(r"^app/[^/]+/[^/]+/targetgroup/[^/]+/[^/]+$")


def _time_zone(value: Any) -> bool:
    zones = zoneinfo.available_timezones()
    return not zones or value in zones


def _cron_fields(expression: str) -> int:
    return len(expression.split())


def _asg_schedule(resource: ResourceView) -> Iterator[str]:
    """pulumi-aws 7.51, aws.autoscaling.Schedule, desired_capacity: "Set to `-1` if you don't
    want to change the desired capacity at the scheduled time. Defaults to `0`." The provider
    sends any value but -1 (schedule.go: `if desiredCapacity != -1 { input.DesiredCapacity =
    ... }`), so an unset desired capacity asks for 0 instances and PutScheduledUpdateGroupAction
    refuses it when the action's minimum is above 0 ("Desired capacity must be greater than or
    equal to min size"). EC2 Auto Scaling API Reference, PutScheduledUpdateGroupAction,
    Recurrence: "five fields separated by white spaces: [Minute] [Hour] [Day_of_Month]
    [Month_of_Year] [Day_of_Week]"; TimeZone: "the canonical names of the IANA time zones"."""
    props = resource.props
    desired = _int(props.get("desiredCapacity"))
    low, high = _int(props.get("minSize")), _int(props.get("maxSize"))
    if "desiredCapacity" not in props:
        yield (
            f"{resource.name}: desired_capacity unset is sent as 0; set -1 (leave it) or a "
            "value between min_size and max_size"
        )
    elif desired not in (None, -1) and low not in (None, -1) and desired < low:
        yield f"{resource.name}: desired capacity {desired} below the minimum {low}"
    if low not in (None, -1) and high not in (None, -1) and low > high:
        yield f"{resource.name}: min_size {low} above max_size {high}"
    recurrence = props.get("recurrence")
    if isinstance(recurrence, str) and recurrence not in OPAQUE and _cron_fields(recurrence) != 5:
        yield f"{resource.name}: recurrence {recurrence!r} is not a five-field cron expression"
    zone = props.get("timeZone")
    if isinstance(zone, str) and zone not in OPAQUE and not _time_zone(zone):
        yield f"{resource.name}: {zone!r} is not an IANA time zone"


def _asg_bounds(resource: ResourceView) -> Iterator[str]:
    """EC2 Auto Scaling API Reference, CreateAutoScalingGroup, DesiredCapacity: "must be
    greater than or equal to the minimum size of the group and less than or equal to the
    maximum size of the group"; MinSize is at most MaxSize."""
    raw_low, raw_high = resource.props.get("minSize"), resource.props.get("maxSize")
    low, high = _int(raw_low), _int(raw_high)
    desired = _int(resource.props.get("desiredCapacity"))
    if low is not None and high is not None and low > high:
        yield f"{resource.name}: min_size {low} above max_size {high}"
    if desired is not None and (
        (low is not None and desired < low) or (high is not None and desired > high)
    ):
        shown = [raw if opaque(raw) else value for raw, value in ((raw_low, low), (raw_high, high))]
        yield f"{resource.name}: desired capacity {desired} outside [{shown[0]}, {shown[1]}]"


def _label_checks(name: str, spec: Any) -> Iterator[str]:
    """ALBRequestCountPerTarget needs a resource label of the target group; others none."""
    spec = _dict(spec)
    kind, label = spec.get("predefinedMetricType"), spec.get("resourceLabel")
    if opaque(kind) or opaque(label):
        return
    if kind == "ALBRequestCountPerTarget":
        if not isinstance(label, str) or (label not in OPAQUE and not ALB_LABEL.match(label)):
            yield (
                f"{name}: ALBRequestCountPerTarget needs the label app/<lb>/<id>/targetgroup/"
                f"<tg>/<id>, not {label!r}"
            )
    elif isinstance(kind, str) and label:
        yield f"{name}: {kind} takes no resource label"


def _asg_policy(resource: ResourceView) -> Iterator[str]:
    """EC2 Auto Scaling API Reference, PutScalingPolicy: Cooldown "Valid only if the policy
    type is SimpleScaling"; EstimatedInstanceWarmup "Valid only if the policy type is
    TargetTrackingScaling or StepScaling"; MinAdjustmentMagnitude: "The minimum value to scale
    by when the adjustment type is PercentChangeInCapacity ... Valid only if the policy type
    is StepScaling or SimpleScaling"; ScalingAdjustment "Required if the policy type is
    SimpleScaling"; AdjustmentType "Required if the policy type is StepScaling or
    SimpleScaling". PredefinedMetricSpecification, ResourceLabel (ALBRequestCountPerTarget):
    "The format of the resource label is: app/my-alb/778d41231b141a0f/targetgroup/
    my-alb-target-group/943f017f100becff"."""
    props, name = resource.props, resource.name
    kind = props.get("policyType") or "SimpleScaling"
    if opaque(kind):
        return  # what each field may be depends on the type

    def given(key: str) -> bool:  # set to a value (one not known yet may turn out unset)
        return key in props and not opaque(props[key])

    if given("cooldown") and kind != "SimpleScaling":
        yield f"{name}: cooldown applies to SimpleScaling only, not {kind}"
    if given("estimatedInstanceWarmup") and kind == "SimpleScaling":
        yield f"{name}: estimated_instance_warmup is not valid for SimpleScaling"
    adjustment = props.get("adjustmentType")
    if given("minAdjustmentMagnitude"):
        if kind not in ("SimpleScaling", "StepScaling"):
            yield f"{name}: min_adjustment_magnitude is not valid for {kind}"
        elif not opaque(adjustment) and adjustment != "PercentChangeInCapacity":
            yield f"{name}: min_adjustment_magnitude needs PercentChangeInCapacity"
    scaling = props.get("scalingAdjustment")
    if kind == "SimpleScaling" and _int(scaling) is None and not opaque(scaling):
        yield f"{name}: a SimpleScaling policy needs scaling_adjustment"
    if kind in ("SimpleScaling", "StepScaling") and not adjustment:
        yield f"{name}: a {kind} policy needs adjustment_type"
    if kind == "TargetTrackingScaling" and not opaque(props.get("targetTrackingConfiguration")):
        tracking = _dict(props.get("targetTrackingConfiguration"))
        if not tracking:
            yield f"{name}: a TargetTrackingScaling policy needs target_tracking_configuration"
        yield from _label_checks(name, tracking.get("predefinedMetricSpecification"))


def _aas_policy(resource: ResourceView) -> Iterator[str]:
    """Application Auto Scaling API Reference, PutScalingPolicy: a TargetTrackingScaling
    policy takes TargetTrackingScalingPolicyConfiguration, a StepScaling policy
    StepScalingPolicyConfiguration; StepAdjustments: "At least one step adjustment is required
    if you are adding a new step scaling policy configuration"; MinAdjustmentMagnitude: "The
    minimum value to scale by when the adjustment type is PercentChangeInCapacity";
    PredefinedMetricSpecification, ResourceLabel (ALBRequestCountPerTarget) as for EC2 Auto
    Scaling: app/<load-balancer>/<id>/targetgroup/<target-group>/<id>."""
    props, name = resource.props, resource.name
    kind = props.get("policyType") or "StepScaling"
    raw_step = props.get("stepScalingPolicyConfiguration")
    raw_tracking = props.get("targetTrackingScalingPolicyConfiguration")
    step, tracking = _dict(raw_step), _dict(raw_tracking)
    if kind == "StepScaling":
        if tracking:
            yield f"{name}: a StepScaling policy with a target tracking configuration"
        if opaque(raw_step):
            return
        steps = step.get("stepAdjustments")
        if not _list(steps) and not opaque(steps):
            yield f"{name}: a StepScaling policy needs at least one step adjustment"
        adjustment = step.get("adjustmentType")
        if (
            "minAdjustmentMagnitude" in step
            and not opaque(step["minAdjustmentMagnitude"])
            and not opaque(adjustment)
            and adjustment != "PercentChangeInCapacity"
        ):
            yield f"{name}: min_adjustment_magnitude needs PercentChangeInCapacity"
    elif kind == "TargetTrackingScaling":
        if step:
            yield f"{name}: a TargetTrackingScaling policy with a step configuration"
        if not tracking and not opaque(raw_tracking):
            yield f"{name}: a TargetTrackingScaling policy needs its configuration"
        yield from _label_checks(name, tracking.get("predefinedMetricSpecification"))


ECS_RESOURCE_ID = re.compile(r"^service/[^/]+/[^/]+$")


def _aas_target(resource: ResourceView) -> Iterator[str]:
    """Application Auto Scaling API Reference, RegisterScalableTarget, ResourceId: "ECS
    service - The resource type is service and the unique identifier is the cluster name and
    service name. Example: service/my-cluster/my-service."; ScalableDimension for ECS:
    ecs:service:DesiredCount; MinCapacity at most MaxCapacity."""
    props = resource.props
    if props.get("serviceNamespace") == "ecs":
        rid = props.get("resourceId")
        if isinstance(rid, str) and rid not in OPAQUE and not ECS_RESOURCE_ID.match(rid):
            yield f"{resource.name}: {rid!r} is not service/<cluster>/<service>"
        dimension = props.get("scalableDimension")
        if not opaque(dimension) and dimension not in (None, "ecs:service:DesiredCount"):
            yield f"{resource.name}: ECS services scale on ecs:service:DesiredCount"
    low, high = _int(props.get("minCapacity")), _int(props.get("maxCapacity"))
    if low is not None and high is not None and low > high:
        yield f"{resource.name}: min_capacity {low} above max_capacity {high}"


AAS_CRON = re.compile(r"^cron\((.+)\)$")


def _aas_schedule(resource: ResourceView) -> Iterator[str]:
    """Application Auto Scaling API Reference, PutScheduledAction, Schedule: "at(yyyy-mm-
    ddThh:mm:ss)", "rate(value unit)" or "cron(fields)": "The cron format consists of six
    fields separated by white spaces: [Minutes] [Hours] [Day_of_Month] [Month] [Day_of_Week]
    [Year]"; Timezone: "the canonical names of the IANA time zones"."""
    props = resource.props
    schedule = props.get("schedule")
    if isinstance(schedule, str) and schedule not in OPAQUE:
        cron = AAS_CRON.match(schedule)
        if cron and _cron_fields(cron.group(1)) != 6:
            yield f"{resource.name}: {schedule!r} is not a six-field cron expression"
        elif not cron and not schedule.startswith(("at(", "rate(")):
            yield f"{resource.name}: {schedule!r} is not at(...), rate(...) or cron(...)"
    zone = props.get("timezone")
    if isinstance(zone, str) and zone not in OPAQUE and not _time_zone(zone):
        yield f"{resource.name}: {zone!r} is not an IANA time zone"
    action = _dict(props.get("scalableTargetAction"))
    low, high = _int(action.get("minCapacity")), _int(action.get("maxCapacity"))
    if low is not None and high is not None and low > high:
        yield f"{resource.name}: min_capacity {low} above max_capacity {high}"


# -- S3 ------------------------------------------------------------------------------------

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def _bucket_name(resource: ResourceView) -> Iterator[str]:
    """S3 User Guide, General purpose bucket naming rules: 3 to 63 characters of lowercase
    letters, numbers, periods and hyphens, beginning and ending with a letter or number, no
    two adjacent periods, not formatted as an IP address, not starting with xn-- or sthree-,
    not ending with -s3alias or --ol-s3."""
    name = resource.props.get("bucket")
    if not isinstance(name, str) or name in OPAQUE:
        return
    if (
        not BUCKET_NAME.match(name)
        or ".." in name
        or IP_ADDRESS.match(name)
        or name.startswith(("xn--", "sthree-"))
        or name.endswith(("-s3alias", "--ol-s3"))
    ):
        yield f"{resource.name}: {name!r} breaks the S3 bucket naming rules"


INFREQUENT_ACCESS = ("STANDARD_IA", "ONEZONE_IA")
ARCHIVE = ("GLACIER", "DEEP_ARCHIVE", "GLACIER_IR")


def _lifecycle(resource: ResourceView) -> Iterator[str]:
    """S3 User Guide, Constraints and considerations for transitions: "Before you transition
    objects to S3 Standard-IA or S3 One Zone-IA, you must store them for at least 30 days in
    Amazon S3"; AWS Knowledge Center (S3 lifecycle rule to Glacier): "Objects that are in the
    S3 Standard-IA storage class must be in this class for 30 days before they transition to
    S3 Glacier". (The current API Reference, Transition, Days, says only "The value can be 0
    or any positive integer" and that early transitions are billed; the rule keeps the user
    guide's minimums, as the config does.) API Reference, LifecycleRule: "Filter is required
    if the LifecycleRule does not contain a Prefix element"; ID "cannot be longer than 255
    characters"; NoncurrentVersionExpiration: NewerNoncurrentVersions "You can specify up to
    100", NoncurrentDays "must be a non-zero positive integer". An expiration on or before a
    transition's day removes the objects before they move."""
    ids: list[str] = []
    for index, raw in enumerate(_list(resource.props.get("rules"))):
        if opaque(raw):
            continue
        rule = _dict(raw)
        rid = str(rule.get("id", f"#{index}"))
        if not opaque(rule.get("id")):
            ids.append(rid)
        where = f"{resource.name}: rule {rid}"
        if len(rid) > 255:
            yield f"{where}: id longer than 255 characters"
        if "filter" not in rule and "prefix" not in rule:
            yield f"{where}: neither filter nor prefix"
        transitions = [
            (_int(_dict(t).get("days")), _dict(t).get("storageClass"))
            for t in _list(rule.get("transitions"))
        ]
        ia = [d for d, c in transitions if c in INFREQUENT_ACCESS and d is not None]
        for moved in ia:
            if moved < 30:
                yield f"{where}: Standard-IA/One Zone-IA after {moved} days (at least 30)"
        for archived, cls in transitions:
            if cls in ARCHIVE and archived is not None and ia and archived < max(ia) + 30:
                yield (
                    f"{where}: {cls} after {archived} days, under 30 days after the move to "
                    f"infrequent access on day {max(ia)}"
                )
        expiration = _int(_dict(rule.get("expiration")).get("days"))
        last = max((d for d, _ in transitions if d is not None), default=None)
        if expiration is not None and last is not None and expiration <= last:
            yield f"{where}: expires after {expiration} days, before its transition on day {last}"
        noncurrent = _dict(rule.get("noncurrentVersionExpiration"))
        kept = _int(noncurrent.get("newerNoncurrentVersions"))
        if kept is not None and not 1 <= kept <= 100:
            yield f"{where}: keeps {kept} noncurrent versions (1 to 100)"
        noncurrent_days = _int(noncurrent.get("noncurrentDays"))
        if noncurrent_days is not None and noncurrent_days < 1:
            yield f"{where}: noncurrent_days {noncurrent_days} (at least 1)"
    if len(set(ids)) != len(ids):
        yield f"{resource.name}: rule ids repeat"


RTC_MINUTES = 15
MAX_REPLICATION_RULES = 1_000


def _replication(resource: ResourceView) -> Iterator[str]:
    """S3 API Reference: ReplicationTimeValue, Minutes: "Valid value: 15"; Destination,
    ReplicationTime: "Must be specified together with a Metrics block" (S3 User Guide, S3
    RTC: metrics are on with RTC, and the event threshold is 15 minutes); PutBucketReplication:
    "When you add the Filter element in the configuration, you must also add the following
    elements: DeleteMarkerReplication, Status, and Priority", "can contain a maximum of 1,000"
    rules; Replication, Priority: rules with the same destination are ordered by priority
    (unique priorities); "By default, Amazon S3 doesn't replicate objects that are stored at
    rest using server-side encryption with KMS keys. To replicate AWS KMS-encrypted objects,
    add the following: SourceSelectionCriteria, SseKmsEncryptedObjects, Status,
    EncryptionConfiguration, and ReplicaKmsKeyID"; Destination, EncryptionConfiguration: "If
    SourceSelectionCriteria is specified, you must specify this element."."""
    rules = [_dict(r) for r in _list(resource.props.get("rules"))]
    if len(rules) > MAX_REPLICATION_RULES:
        yield f"{resource.name}: {len(rules)} rules (at most 1000)"
    priorities = [_int(r.get("priority")) for r in rules if "filter" in r]
    known = [p for p in priorities if p is not None]
    if len(set(known)) != len(known):
        yield f"{resource.name}: rules with a filter share a priority"
    for raw in _list(resource.props.get("rules")):
        if opaque(raw):
            continue
        rule = _dict(raw)
        where = f"{resource.name}: rule {rule.get('id', '?')}"
        destination = _dict(rule.get("destination"))
        rtc = _dict(destination.get("replicationTime"))
        metrics = _dict(destination.get("metrics"))
        status = dig(rule, "destination", "metrics", "status")
        if rtc:
            minutes = dig(rtc, "time", "minutes")
            if not opaque(minutes) and _int(minutes) != RTC_MINUTES:
                yield (
                    f"{where}: Replication Time Control of {_int(minutes)} minutes (only 15 exists)"
                )
            if not opaque(status) and status != "Enabled":
                yield f"{where}: Replication Time Control without replication metrics"
        threshold = dig(metrics, "eventThreshold", "minutes")
        if status == "Enabled" and rtc and not opaque(threshold) and _int(threshold) != RTC_MINUTES:
            yield f"{where}: metrics event threshold {_int(threshold)} minutes (S3 RTC: 15)"
        if "filter" in rule:
            missing = [
                k for k in ("deleteMarkerReplication", "priority", "status") if k not in rule
            ]
            if missing:
                yield f"{where}: a rule with a filter needs {', '.join(missing)}"
        selected = dig(rule, "sourceSelectionCriteria", "sseKmsEncryptedObjects", "status")
        replica_key = dig(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
        if opaque(selected) or opaque(replica_key):
            continue  # whether KMS-encrypted objects are selected, or with which key
        if selected == "Enabled" and not replica_key:
            yield f"{where}: replicates SSE-KMS objects without a replica KMS key"
        if replica_key and selected != "Enabled":
            yield (
                f"{where}: a replica key but SSE-KMS objects not selected: S3 skips every "
                "KMS-encrypted object"
            )


def _object_lock(resource: ResourceView) -> Iterator[str]:
    """S3 API Reference, DefaultRetention: Days "Must be used with Mode"; Mode "Must be used
    with either Days or Years" (not both: "The DefaultRetention settings require both a mode
    and a period")."""
    retention = _dict(_dict(resource.props.get("rule")).get("defaultRetention"))
    if not retention:
        return
    days, years = _int(retention.get("days")), _int(retention.get("years"))
    mode = retention.get("mode")
    if not opaque(mode) and mode not in ("GOVERNANCE", "COMPLIANCE"):
        yield f"{resource.name}: default retention without GOVERNANCE or COMPLIANCE mode"
    if opaque(retention.get("days")) or opaque(retention.get("years")):
        return
    if (days is None) == (years is None):
        yield f"{resource.name}: default retention needs exactly one of days and years"
    elif (days or years or 0) < 1:
        yield f"{resource.name}: default retention of less than one day"


# -- Budgets and Cost Anomaly Detection ----------------------------------------------------


def _budget(resource: ResourceView) -> Iterator[str]:
    """AWS Budgets API Reference, CreateBudget, NotificationsWithSubscribers: "A budget can
    have up to five notifications, and each notification can have one SNS subscriber and up
    to 10 email subscribers."."""
    notifications = _list(resource.props.get("notifications"))
    if len(notifications) > 5:
        yield f"{resource.name}: {len(notifications)} notifications (at most 5)"
    for index, raw in enumerate(notifications):
        notification = _dict(raw)
        if opaque(raw) or holds_opaque(
            [notification.get(k) for k in ("subscriberSnsTopicArns", "subscriberEmailAddresses")]
        ):
            continue  # its subscribers are not known yet
        topics = _list(notification.get("subscriberSnsTopicArns"))
        emails = _list(notification.get("subscriberEmailAddresses"))
        if len(topics) > 1:
            yield f"{resource.name}: notification {index} has {len(topics)} SNS topics (one)"
        if len(emails) > 10:
            yield f"{resource.name}: notification {index} has {len(emails)} emails (up to 10)"
        if not topics and not emails:
            yield f"{resource.name}: notification {index} has no subscriber"


ANOMALY_DIMENSIONS = ("ANOMALY_TOTAL_IMPACT_ABSOLUTE", "ANOMALY_TOTAL_IMPACT_PERCENTAGE")


def _threshold_dimensions(expression: Any) -> Iterator[dict[str, Any]]:
    expression = _dict(expression)
    if expression.get("dimension") and not opaque(expression["dimension"]):
        yield _dict(expression["dimension"])
    for key in ("and", "or"):
        for part in _list(expression.get(key)):
            yield from _threshold_dimensions(part)


def _anomaly_subscription(resource: ResourceView) -> Iterator[str]:
    """Cost Explorer API Reference, AnomalySubscription, Frequency: "Notifications are sent
    either over email (for DAILY and WEEKLY frequencies) or SNS (for IMMEDIATE frequency)";
    ThresholdExpression: "The supported dimensions are ANOMALY_TOTAL_IMPACT_ABSOLUTE and
    ANOMALY_TOTAL_IMPACT_PERCENTAGE ... The match option GREATER_THAN_OR_EQUAL is required.
    Values must be numbers between 0 and 10,000,000,000 in string format."."""
    props = resource.props
    frequency = props.get("frequency")
    # The kinds of subscriber known (one not known yet is judged by the update).
    subscribers = [_dict(s) for s in _list(props.get("subscribers")) if not opaque(s)]
    kinds = {s.get("type") for s in subscribers if not opaque(s.get("type"))}
    if frequency == "IMMEDIATE" and kinds - {"SNS"}:
        yield f"{resource.name}: IMMEDIATE notifications go to SNS topics only"
    if frequency in ("DAILY", "WEEKLY") and kinds - {"EMAIL"}:
        yield f"{resource.name}: {frequency} notifications go to email addresses only"
    for dimension in _threshold_dimensions(props.get("thresholdExpression")):
        key = dimension.get("key")
        if not opaque(key) and key not in ANOMALY_DIMENSIONS:
            yield f"{resource.name}: threshold on {key!r}"
        options = dimension.get("matchOptions")
        if not holds_opaque(options) and options != ["GREATER_THAN_OR_EQUAL"]:
            yield f"{resource.name}: threshold match options must be GREATER_THAN_OR_EQUAL"
        for value in _list(dimension.get("values")):
            if opaque(value):
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = -1.0
            if not isinstance(value, str) or not 0 <= number <= 10_000_000_000:
                yield f"{resource.name}: threshold value {value!r} is not a number 0..1e10"


# -- Lambda --------------------------------------------------------------------------------

FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_ENVIRONMENT_BYTES = 4 * 1024


def _function(resource: ResourceView) -> Iterator[str]:
    """Lambda API Reference, CreateFunction, FunctionName: "If you specify only the function
    name, it is limited to 64 characters in length" ([a-zA-Z0-9-_]); Timeout: "the maximum
    allowed value is 900 seconds"; MemorySize at least 128 MB. Lambda Developer Guide, Lambda
    quotas: environment variables are limited to 4 KB for all of a function's variables
    together."""
    name = resource.props.get("name")
    if isinstance(name, str) and name not in OPAQUE and not FUNCTION_NAME.match(name):
        yield f"{resource.name}: function name {name!r} is not 1-64 of [a-zA-Z0-9_-]"
    timeout = _int(resource.props.get("timeout"))
    if timeout is not None and not 1 <= timeout <= 900:
        yield f"{resource.name}: timeout {timeout} s (1 to 900)"
    memory = _int(resource.props.get("memorySize"))
    if memory is not None and memory < 128:
        yield f"{resource.name}: {memory} MB of memory (at least 128)"
    variables = _dict(_dict(resource.props.get("environment")).get("variables"))
    if variables and all(isinstance(v, str) and v not in OPAQUE for v in variables.values()):
        size = sum(len(k.encode()) + len(str(v).encode()) for k, v in variables.items())
        if size > MAX_ENVIRONMENT_BYTES:
            yield f"{resource.name}: environment variables of {size} bytes (at most 4 KB)"


# -- RDS -----------------------------------------------------------------------------------

# Letters, digits and single hyphens between them, starting with a letter.
RDS_NAME = re.compile(r"^[A-Za-z](-?[A-Za-z0-9])*$")
RDS_IDENTIFIER_MAX = 63
RDS_SNAPSHOT_IDENTIFIER_MAX = 255
# The identifier input of each kind (the API's DBInstanceIdentifier or DBClusterIdentifier).
RDS_IDENTIFIERS = {
    RDS_INSTANCE: "identifier",
    RDS_CLUSTER_INSTANCE: "identifier",
    RDS_CLUSTER: "clusterIdentifier",
}


def _rds_identifiers(resource: ResourceView) -> Iterator[str]:
    """RDS API Reference, CreateDBInstance, DBInstanceIdentifier: "Must contain from 1 to 63
    letters, numbers, or hyphens. First character must be a letter. Can't end with a hyphen or
    contain two consecutive hyphens."; CreateDBCluster, DBClusterIdentifier: the same, "1 to
    63 (for Aurora DB clusters)"; DeleteDBInstance and DeleteDBCluster,
    FinalDBSnapshotIdentifier: "Must be 1 to 255 letters, numbers, or hyphens. First character
    must be a letter. Can't end with a hyphen or contain two consecutive hyphens." The botocore
    model states none of these (plain strings), so the API model rule cannot."""
    checks = [(RDS_IDENTIFIERS[resource.type], RDS_IDENTIFIER_MAX)]
    if resource.type != RDS_CLUSTER_INSTANCE:
        checks.append(("finalSnapshotIdentifier", RDS_SNAPSHOT_IDENTIFIER_MAX))
    for field, limit in checks:
        value = resource.props.get(field)
        if not isinstance(value, str) or value in OPAQUE:
            continue
        if len(value) > limit or not RDS_NAME.match(value):
            yield (
                f"{resource.name}: {field} {value!r} ({len(value)} characters) is not 1-{limit} "
                "letters, digits or hyphens starting with a letter, without a trailing or "
                "double hyphen"
            )


RULES: tuple[Rule, ...] = (
    Rule(
        id="aws-cloudwatch-alarm-period-valid",
        description="Alarm and metric periods are 10, 20, 30 or a multiple of 60 seconds.",
        severity=Severity.HIGH,
        remediation="Use a period of 60 s or a multiple of it (10/20/30 for high-resolution "
        "metrics only).",
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
        check=_alarm_period,
        frameworks=CHANGE,
        resource_types=(METRIC_ALARM,),
    ),
    Rule(
        id="aws-cloudwatch-alarm-evaluation-range",
        description="Period x evaluation periods stays within one day (periods under an hour) "
        "or seven days; datapoints to alarm never exceed evaluation periods.",
        severity=Severity.HIGH,
        remediation="Lower evaluation_periods or use a longer period (at least 3600 s to "
        "evaluate more than a day).",
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
        check=_evaluation_range,
        frameworks=CHANGE,
        resource_types=(METRIC_ALARM,),
    ),
    Rule(
        id="aws-cloudwatch-alarm-metric-math-valid",
        description="Metric-math alarms retrieve at most 10 metrics, have at most 10 "
        "expressions, exactly one returning data, with valid unique ids.",
        severity=Severity.HIGH,
        remediation="Split the alarm (a composite alarm can combine them) or drop metrics.",
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html",
        check=_metric_math,
        frameworks=CHANGE,
        resource_types=(METRIC_ALARM,),
    ),
    Rule(
        id="aws-cloudwatch-composite-alarm-rule-valid",
        description="Composite alarm rules stay within 10,240 characters and 100 alarms; an "
        "actions suppressor has its wait and extension periods.",
        severity=Severity.HIGH,
        remediation="Split the composite alarm; set wait_period and extension_period.",
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html",
        check=_composite_rule,
        frameworks=CHANGE,
        resource_types=(COMPOSITE_ALARM,),
    ),
    Rule(
        id="aws-cloudwatch-dashboard-body-valid",
        description="Dashboards have a valid name and a JSON body with at most 500 widgets "
        "and alarm widgets of 1 to 100 alarms.",
        severity=Severity.MEDIUM,
        remediation="Fix the body (components/monitoring.py renders it).",
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html",
        check=_dashboard,
        frameworks=CHANGE,
        resource_types=(DASHBOARD,),
    ),
    Rule(
        id="aws-cloudwatch-log-group-valid",
        description="Log group names follow CloudWatch Logs' rules and retention is one of "
        "the periods it accepts.",
        severity=Severity.HIGH,
        remediation="Use [.-_/#A-Za-z0-9] and a retention CloudWatch Logs lists.",
        url="https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html",
        check=_log_group,
        frameworks=CHANGE,
        resource_types=(LOG_GROUP,),
    ),
    Rule(
        id="aws-cloudwatch-metric-filter-valid",
        description="Metric filters have a valid name, a well-formed pattern of at most 1,024 "
        "characters and at most 3 dimensions (no default value with dimensions).",
        severity=Severity.HIGH,
        remediation="Fix the pattern; drop dimensions or the default value.",
        url="https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html",
        check=_metric_filter,
        frameworks=CHANGE,
        resource_types=(METRIC_FILTER,),
    ),
    Rule(
        id="aws-events-rule-valid",
        description="EventBridge rules have a name within 64 characters (autonamed ones too) "
        "and a JSON pattern of arrays within 4,096 characters.",
        severity=Severity.HIGH,
        remediation="Shorten the logical name (autonaming adds 8 characters) or the pattern.",
        url="https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html",
        check=_event_rule,
        frameworks=CHANGE,
        resource_types=(EVENT_RULE,),
    ),
    Rule(
        id="aws-events-pattern-matches-emitted-fields",
        description="Event patterns on AWS Backup and GuardDuty events filter on detail "
        "fields and values those events carry.",
        severity=Severity.HIGH,
        remediation="Restore Job State Change events carry detail.status, backup and copy "
        "job events detail.state: one rule per field (or $or).",
        url="https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html",
        check=_emitted_fields,
        frameworks=SILENT,
        resource_types=(EVENT_RULE,),
    ),
    Rule(
        id="aws-sns-subscription-endpoint-valid",
        description="Subscriptions use an SNS protocol with an endpoint of its form, in the "
        "topic's region.",
        severity=Severity.HIGH,
        remediation="Fix the contact in resilience:escalation (e-mail, +E.164, https://).",
        url="https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html",
        check=_subscription,
        frameworks=CHANGE,
        resource_types=(SUBSCRIPTION,),
    ),
    Rule(
        id="aws-kms-alias-name-valid",
        description="KMS aliases start with alias/, avoid alias/aws/ and name a key of their "
        "region.",
        severity=Severity.HIGH,
        remediation="Rename the alias (components/foundation.py builds it from the system name).",
        url="https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
        check=_alias,
        frameworks=CHANGE,
        resource_types=(ALIAS,),
    ),
    Rule(
        id="aws-kms-replica-key-of-multi-region-primary",
        description="Replica keys replicate a multi-Region (mrk-) primary key of another "
        "region, with a 7 to 30 day deletion window.",
        severity=Severity.HIGH,
        remediation="Create the primary with multi_region=True and the replica in the DR region.",
        url="https://docs.aws.amazon.com/kms/latest/APIReference/API_ReplicateKey.html",
        check=_replica_key,
        frameworks=CHANGE,
        resource_types=(REPLICA_KEY,),
    ),
    Rule(
        id="aws-kms-key-in-resource-region",
        description="Resources are encrypted with a KMS key of their own region.",
        severity=Severity.HIGH,
        remediation="Pass the region's key (the DR region has its own key and replica key).",
        url="https://docs.aws.amazon.com/kms/latest/developerguide/multi-region-keys-overview.html",
        check=_key_in_region,
        frameworks=CHANGE,
        resource_types=tuple(KEY_FIELDS),
    ),
    Rule(
        id="aws-policy-principal-full-arn",
        description="Policies name AWS principals by ARN, not by bare account ID (AWS rewrites "
        "it and every preview shows a diff).",
        severity=Severity.LOW,
        remediation="Write arn:<partition>:iam::<account>:root.",
        url="https://www.pulumi.com/registry/packages/aws/api-docs/sns/topicpolicy/",
        check=_principal_arns,
        frameworks=SILENT,
        resource_types=tuple(POLICY_FIELDS),
    ),
    Rule(
        id="aws-iam-role-valid",
        description="IAM roles have a name within 64 characters (autonamed ones too), a "
        "trust policy within 2,048 characters and valid session and description limits.",
        severity=Severity.HIGH,
        remediation="Give the role an explicit short name or a shorter logical name.",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
        check=_role,
        frameworks=CHANGE,
        resource_types=(ROLE,),
    ),
    Rule(
        id="aws-iam-role-policy-size",
        description="An inline role policy stays within 10,240 characters (white space not "
        "counted).",
        severity=Severity.HIGH,
        remediation="Split the statements into a managed policy or a second role.",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
        check=_role_policy,
        frameworks=CHANGE,
        resource_types=(ROLE_POLICY,),
    ),
    Rule(
        id="aws-autoscaling-schedule-valid",
        description="Scheduled actions state the desired capacity (the provider sends 0 when "
        "it is unset), keep min <= max and use a five-field cron and an IANA time zone.",
        severity=Severity.HIGH,
        remediation="Set desired_capacity=-1 to leave the desired capacity to scaling.",
        url="https://www.pulumi.com/registry/packages/aws/api-docs/autoscaling/schedule/",
        check=_asg_schedule,
        frameworks=CHANGE,
        resource_types=(ASG_SCHEDULE,),
    ),
    Rule(
        id="aws-autoscaling-group-bounds",
        description="Auto Scaling groups keep min <= desired <= max.",
        severity=Severity.HIGH,
        remediation="Fix scaling.min/max (or the DR share) in the stack config.",
        url="https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html",
        check=_asg_bounds,
        frameworks=CHANGE,
        resource_types=(ASG,),
    ),
    Rule(
        id="aws-autoscaling-policy-fields-match-type",
        description="EC2 Auto Scaling policies set only the fields of their type; ALB request "
        "tracking names its target group.",
        severity=Severity.HIGH,
        remediation="Drop the fields PutScalingPolicy refuses for the policy type.",
        url="https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutScalingPolicy.html",
        check=_asg_policy,
        frameworks=CHANGE,
        resource_types=(ASG_POLICY,),
    ),
    Rule(
        id="aws-appautoscaling-policy-fields-match-type",
        description="Application Auto Scaling policies carry the configuration of their type; "
        "step policies have steps.",
        severity=Severity.HIGH,
        remediation="Give each policy the configuration block of its policy_type.",
        url="https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html",
        check=_aas_policy,
        frameworks=CHANGE,
        resource_types=(AAS_POLICY,),
    ),
    Rule(
        id="aws-appautoscaling-target-valid",
        description="Scalable targets name an ECS service as service/<cluster>/<service> on "
        "ecs:service:DesiredCount with min <= max.",
        severity=Severity.HIGH,
        remediation="Fix resources.<role>.ecs (cluster, service) or scaling.min/max.",
        url="https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html",
        check=_aas_target,
        frameworks=CHANGE,
        resource_types=(AAS_TARGET,),
    ),
    Rule(
        id="aws-appautoscaling-scheduled-action-valid",
        description="Application Auto Scaling schedules are at(), rate() or six-field cron(), "
        "with an IANA time zone and min <= max.",
        severity=Severity.HIGH,
        remediation="Use cron(minutes hours day month ? year).",
        url="https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html",
        check=_aas_schedule,
        frameworks=CHANGE,
        resource_types=(AAS_SCHEDULE,),
    ),
    Rule(
        id="aws-s3-bucket-name-valid",
        description="Bucket names follow the S3 general purpose bucket naming rules.",
        severity=Severity.HIGH,
        remediation="Shorten or lowercase resilience:name or the bucket name.",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
        check=_bucket_name,
        frameworks=CHANGE,
        resource_types=(BUCKET,),
    ),
    Rule(
        id="aws-s3-lifecycle-rules-valid",
        description="Lifecycle rules have a filter, respect the 30-day minimums before and "
        "after infrequent access, expire after their transitions and keep 1-100 versions.",
        severity=Severity.HIGH,
        remediation="Fix data_buckets[].lifecycle (the config checks the same order).",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html",
        check=_lifecycle,
        frameworks=CHANGE,
        resource_types=(LIFECYCLE,),
    ),
    Rule(
        id="aws-s3-replication-rules-valid",
        description="Replication rules use 15-minute RTC with metrics, complete filtered "
        "rules, unique priorities, and pair SSE-KMS selection with a replica key.",
        severity=Severity.HIGH,
        remediation="components/replication.py builds compliant rules; keep RTC at 15.",
        url="https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketReplication.html",
        check=_replication,
        frameworks=SILENT,
        resource_types=(REPLICATION,),
    ),
    Rule(
        id="aws-s3-object-lock-retention-valid",
        description="Object Lock default retention has a mode and exactly one of days/years.",
        severity=Severity.HIGH,
        remediation="Set mode and days (components/storage.py does).",
        url="https://docs.aws.amazon.com/AmazonS3/latest/API/API_DefaultRetention.html",
        check=_object_lock,
        frameworks=CHANGE,
        resource_types=(OBJECT_LOCK,),
    ),
    Rule(
        id="aws-budgets-budget-valid",
        description="Budgets have at most five notifications, each with a subscriber, one SNS "
        "topic and up to ten email addresses.",
        severity=Severity.HIGH,
        remediation="Fewer alert percentages in resilience:cost.",
        url="https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_CreateBudget.html",
        check=_budget,
        frameworks=CHANGE,
        resource_types=(BUDGET,),
    ),
    Rule(
        id="aws-ce-anomaly-subscription-valid",
        description="Anomaly subscriptions send IMMEDIATE alerts to SNS only (DAILY/WEEKLY to "
        "email), on a GREATER_THAN_OR_EQUAL impact threshold.",
        severity=Severity.HIGH,
        remediation="components/cost.py subscribes the warning topic IMMEDIATE.",
        url="https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_AnomalySubscription.html",
        check=_anomaly_subscription,
        frameworks=CHANGE,
        resource_types=(ANOMALY_SUBSCRIPTION,),
    ),
    Rule(
        id="aws-lambda-function-valid",
        description="Functions have a name within 64 characters, a timeout within 900 s, at "
        "least 128 MB and environment variables within 4 KB.",
        severity=Severity.HIGH,
        remediation="Shorten the name or the environment (components/escalation.py).",
        url="https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html",
        check=_function,
        frameworks=CHANGE,
        resource_types=(FUNCTION,),
    ),
    Rule(
        id="aws-rds-identifier-valid",
        description="RDS instance and cluster identifiers are 1-63 letters, digits or hyphens "
        "(final snapshot identifiers 1-255), starting with a letter, without a trailing or "
        "double hyphen.",
        severity=Severity.HIGH,
        remediation="Shorten the database's identifier or name (resilience:databases[]."
        "identifier; components/database.py derives -dr, -<n> and -final from it).",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
        check=_rds_identifiers,
        frameworks=CHANGE,
        resource_types=tuple(RDS_IDENTIFIERS),
    ),
)


# -- stack rules -----------------------------------------------------------------------------


def _bucket_of(view: StackView, name: Any) -> Any:
    for resource in view.of_type(BUCKET):
        if resource.props.get("bucket") == name:
            return resource
    return None


def _unnamed(view: StackView, kind: str) -> bool:
    """Whether a resource of the kind names its bucket by a value not known yet (it may be
    the one a rule looks for)."""
    return any(opaque(r.props.get("bucket")) for r in view.of_type(kind))


def _enabled(versioning: ResourceView) -> bool | None:
    """Whether a BucketVersioning enables versioning; None when that is not known yet."""
    status = dig(versioning.props, "versioningConfiguration", "status")
    return None if opaque(status) else status == "Enabled"


def _arn_bucket(arn: Any) -> str | None:
    """`arn:<partition>:s3:::<bucket>` -> the bucket name."""
    if isinstance(arn, str) and arn.startswith("arn:") and ":s3:::" in arn:
        return arn.split(":s3:::", 1)[1].split("/", 1)[0]
    return None


def _of_bucket(view: StackView, kind: str, name: Any) -> list[ResourceView]:
    return [r for r in view.of_type(kind) if r.props.get("bucket") == name]


def _replication_ready(view: StackView) -> Iterator[Violation]:
    """S3 User Guide, Requirements and considerations for replication: source and destination
    buckets must have versioning enabled; Amazon S3 replication failure reasons:
    "DstBucketNotFound: Amazon S3 is unable to find the destination bucket that's specified in
    the replication configuration", "DstBucketUnversioned: Versioning is not enabled for the S3
    destination bucket". The provider's example makes the configuration wait for versioning
    (`depends_on=[source_bucket_versioning]`, aws.s3.BucketReplicationConfig). KMS keys are
    Regional (KMS Developer Guide, Multi-Region keys): the replica key is the destination
    region's. The destination bucket, its versioning and the role are the dr stack's own; the
    source is a bucket the primary stack exports (SecureBucket versions every bucket)."""
    buckets = view.primary_outputs().get("data_buckets")
    exported = {str(_dict(v).get("bucket")) for v in _dict(buckets).values()}
    if holds_opaque(buckets):
        exported = set()  # the primary's buckets are not all known: none is judged against them
    role_names = {r.name for r in view.of_type(ROLE)}
    for config in view.of_type(REPLICATION):
        source = config.props.get("bucket")
        if exported and _known(source) and source not in exported:
            yield Violation(
                f"{config.name}: source bucket {source} is not a data bucket of the primary "
                "stack (its versioning is not known)",
                config.urn,
            )
        if not role_names and _known(config.props.get("role")):
            yield Violation(f"{config.name}: no replication role in this stack", config.urn)
        for rule in _list(config.props.get("rules")):
            destination = _dict(_dict(rule).get("destination"))
            name = _arn_bucket(destination.get("bucket"))
            if name is None:
                continue
            bucket = _bucket_of(view, name)
            if bucket is None:
                if _unnamed(view, BUCKET):
                    continue
                yield Violation(
                    f"{config.name}: destination bucket {name} is created by no resource of "
                    "this stack",
                    config.urn,
                )
                continue
            versionings = _of_bucket(view, VERSIONING, name)
            versioned = [v for v in versionings if _enabled(v)]
            # Versionings not known yet may enable it (or be this bucket's).
            maybe = [v for v in versionings if _enabled(v) is None]
            if not versioned and not maybe and not _unnamed(view, VERSIONING):
                yield Violation(
                    f"{config.name}: destination bucket {name} has versioning not enabled",
                    config.urn,
                )
            elif (
                versioned
                and not maybe
                and view.dependencies
                and not any(view.waits_for(config, v) for v in versioned)
            ):
                yield Violation(
                    f"{config.name}: does not wait for {name}'s versioning (depends_on)",
                    config.urn,
                )
            key = _dict(destination.get("encryptionConfiguration")).get("replicaKmsKeyId")
            key_region = arn_region(key)
            if key_region and bucket.region and key_region != bucket.region:
                yield Violation(
                    f"{config.name}: replicas in {bucket.region} encrypted with a key of "
                    f"{key_region}",
                    config.urn,
                )


def _allows(statement: Mapping[str, Any], principal: str, action: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    services = _dict(statement.get("Principal")).get("Service")
    names = services if isinstance(services, list) else [services]
    actions = statement.get("Action")
    acts = actions if isinstance(actions, list) else [actions]
    return principal in names and any(
        isinstance(a, str) and re.fullmatch(a.replace("*", ".*"), action, re.I) for a in acts
    )


def _access_log_target(view: StackView) -> Iterator[Violation]:
    """S3 API Reference, PutBucketLogging: "All logs are saved to buckets in the same Amazon
    Web Services Region as the source bucket"; "If the target bucket for log delivery uses the
    bucket owner enforced setting for S3 Object Ownership, you can't use the Grantee request
    element ... Permissions can only be granted using policies" (to logging.s3.amazonaws.com,
    s3:PutObject: S3 User Guide, Permissions for server access log delivery). S3 User Guide,
    Configuring S3 Object Lock: "S3 buckets with Object Lock can't be used as destination
    buckets for server access logs"."""
    for logging in view.of_type(LOGGING):
        target = logging.props.get("targetBucket")
        if not _known(target):
            continue
        bucket = _bucket_of(view, target)
        if bucket is None:
            if _unnamed(view, BUCKET):
                continue
            yield Violation(
                f"{logging.name}: log target bucket {target} is not a bucket of this stack",
                logging.urn,
            )
            continue
        if bucket.region and logging.region and bucket.region != logging.region:
            yield Violation(
                f"{logging.name}: logs to {target} in {bucket.region}, another region",
                logging.urn,
            )
        if bucket.props.get("objectLockEnabled") is True or _of_bucket(view, OBJECT_LOCK, target):
            yield Violation(
                f"{logging.name}: log target {target} has Object Lock (S3 refuses it)",
                logging.urn,
            )
        policies = _of_bucket(view, BUCKET_POLICY, target)
        granted = any(
            _allows(s, "logging.s3.amazonaws.com", "s3:PutObject")
            for p in policies
            for s in statements(p.props.get("policy"))
        )
        # A policy built from ARNs is not known until they exist (a preview).
        unsure = any(
            holds_opaque(p.props.get("policy")) or holds_opaque(statements(p.props.get("policy")))
            for p in policies
        )
        if policies and not granted and not unsure:
            yield Violation(
                f"{logging.name}: {target}'s policy does not let logging.s3.amazonaws.com "
                "write (ACLs are disabled)",
                logging.urn,
            )


def _object_lock_bucket(view: StackView) -> Iterator[Violation]:
    """S3 User Guide, Configuring S3 Object Lock: "Before you lock any objects, you must enable
    S3 Versioning and Object Lock on a general purpose bucket"; "After you enable Object Lock on
    a bucket, you can't disable Object Lock or suspend versioning for that bucket". A bucket
    created with `object_lock_enabled` is versioned by S3; an existing one needs versioning
    enabled before PutObjectLockConfiguration ("You can enable Object Lock for new or existing
    buckets", S3 API Reference), so the configuration waits for it."""
    for lock in view.of_type(OBJECT_LOCK):
        name = lock.props.get("bucket")
        if not _known(name):
            continue
        bucket = _bucket_of(view, name)
        if bucket is None:
            continue
        versionings = _of_bucket(view, VERSIONING, name)
        suspended = [v for v in versionings if _enabled(v) is False]
        for versioning in suspended:
            yield Violation(
                f"{versioning.name}: versioning of Object Lock bucket {name} is not Enabled",
                versioning.urn,
            )
        lock_enabled = bucket.props.get("objectLockEnabled")
        if lock_enabled is True or opaque(lock_enabled):
            continue
        enabled = [v for v in versionings if _enabled(v)]
        if any(_enabled(v) is None for v in versionings) or (
            not enabled and _unnamed(view, VERSIONING)
        ):
            continue  # a versioning not known yet may be the enabled one it waits for
        if not enabled or (view.dependencies and not any(view.waits_for(lock, v) for v in enabled)):
            yield Violation(
                f"{lock.name}: bucket {name} is not created with Object Lock and the "
                "configuration does not wait for its enabled versioning",
                lock.urn,
            )


def _role_quotas(view: StackView) -> Iterator[Violation]:
    """IAM User Guide, IAM and AWS STS quotas: "Role policy size cannot exceed 10,240
    characters" (the aggregate of a role's inline policies, white space not counted) and
    "Managed policies attached to an IAM role: 10" (default quota)."""
    by_role: dict[str, tuple[int, int, str | None]] = {}
    for resource in view.of_type(ROLE_POLICY, ROLE_POLICY_ATTACHMENT):
        role = resource.props.get("role")
        if not _known(role):
            continue
        size, managed, urn = by_role.get(str(role), (0, 0, resource.urn))
        policy = resource.props.get("policy")
        if resource.type == ROLE_POLICY and isinstance(policy, str) and policy not in OPAQUE:
            size += _non_whitespace(policy)
        if resource.type == ROLE_POLICY_ATTACHMENT:
            managed += 1
        by_role[str(role)] = (size, managed, urn)
    for role, (size, managed, urn) in sorted(by_role.items()):
        if size > MAX_ROLE_INLINE_POLICIES:
            yield Violation(f"role {role}: inline policies of {size} characters (10240)", urn)
        if managed > MAX_MANAGED_POLICIES_PER_ROLE:
            yield Violation(f"role {role}: {managed} managed policies attached (10)", urn)


def _topic_publishers(view: StackView) -> Iterator[Violation]:
    """SNS Developer Guide, Enable compatibility between event sources from AWS services and
    encrypted topics: the key policy of an encrypted topic's key must allow the publishing
    service kms:GenerateDataKey* and kms:Decrypt (CloudTrail User Guide, Amazon SNS topic
    policy for CloudTrail, shows the statement). A publisher the topic policy admits but no
    key policy lets use the key delivers nothing, silently. Checked against the key policies
    of the stack's keys (not which key encrypts which topic)."""
    if not any(_known(t.props.get("kmsMasterKeyId")) for t in view.of_type(TOPIC)):
        return
    keys = view.of_type(KMS_KEY, REPLICA_KEY)
    key_statements = [s for k in keys for s in statements(k.props.get("policy"))]
    if not key_statements:
        return  # the stack's keys are not in this view (pack without the key resources)
    if any(holds_opaque(k.props.get("policy")) for k in keys) or holds_opaque(key_statements):
        return  # a key policy not known yet (built from ARNs) may grant any publisher
    for policy in view.of_type(TOPIC_POLICY):
        for statement in statements(policy.props.get("policy")):
            services = _dict(statement.get("Principal")).get("Service")
            if statement.get("Effect") != "Allow" or not services or holds_opaque(services):
                continue
            for service in services if isinstance(services, list) else [services]:
                usable = all(
                    any(_allows(s, service, action) for s in key_statements)
                    for action in ("kms:GenerateDataKey", "kms:Decrypt")
                )
                if not usable:
                    yield Violation(
                        f"{policy.name}: {service} may publish but no key policy lets it use "
                        "the topic's key (kms:GenerateDataKey*, kms:Decrypt)",
                        policy.urn,
                    )


def _scaling_targets(view: StackView) -> Iterator[Violation]:
    """Application Auto Scaling API Reference, PutScalingPolicy: "You cannot create a scaling
    policy until you have registered the resource as a scalable target" (and a scheduled
    action likewise names a registered target): each policy and scheduled action names a
    target of the stack and waits for it."""
    targets = view.of_type(AAS_TARGET)

    def triple(resource: ResourceView) -> tuple[Any, Any, Any]:
        props = resource.props
        return (
            props.get("serviceNamespace"),
            props.get("scalableDimension"),
            props.get("resourceId"),
        )

    # A target whose namespace, dimension or id is not known yet may be any policy's.
    maybe = [t for t in targets if holds_opaque(triple(t))]
    for resource in view.of_type(AAS_POLICY, AAS_SCHEDULE):
        if holds_opaque(triple(resource)):
            continue
        mine = [t for t in targets if triple(t) == triple(resource)]
        if not mine and not maybe:
            yield Violation(f"{resource.name}: no scalable target {triple(resource)}", resource.urn)
        elif (
            mine
            and view.dependencies
            and not any(view.waits_for(resource, t) for t in (*mine, *maybe))
        ):
            yield Violation(f"{resource.name}: does not wait for its scalable target", resource.urn)


MAX_FILTERS_PER_LOG_GROUP = 100


def _filters_per_log_group(view: StackView) -> Iterator[Violation]:
    """CloudWatch Logs API Reference, PutMetricFilter: "The maximum number of metric filters
    that can be associated with a log group is 100."."""
    counts: dict[str, list[ResourceView]] = {}
    for resource in view.of_type(METRIC_FILTER):
        group = resource.props.get("logGroupName")
        if _known(group):
            counts.setdefault(str(group), []).append(resource)
    for group, filters in sorted(counts.items()):
        if len(filters) > MAX_FILTERS_PER_LOG_GROUP:
            yield Violation(
                f"log group {group}: {len(filters)} metric filters (100)", filters[0].urn
            )


def _lambda_subscriptions(view: StackView) -> Iterator[Violation]:
    """Lambda Developer Guide, Invoking Lambda functions with Amazon SNS notifications: the
    function's resource-based policy must let sns.amazonaws.com invoke it
    (lambda:InvokeFunction, with the topic as source ARN), or SNS cannot deliver; the
    permission is in place before the subscription starts delivering."""
    permissions = [
        p
        for p in view.of_type(PERMISSION)
        if p.props.get("principal") == "sns.amazonaws.com"
        and p.props.get("action") == "lambda:InvokeFunction"
    ]
    # A permission not known yet (its principal, action or topic) may be the one.
    maybe = [
        p
        for p in view.of_type(PERMISSION)
        if holds_opaque([p.props.get(k) for k in ("principal", "action", "sourceArn")])
    ]
    for subscription in view.of_type(SUBSCRIPTION):
        if subscription.props.get("protocol") != "lambda":
            continue
        topic = subscription.props.get("topic")
        if opaque(topic):
            continue
        mine = [p for p in permissions if p.props.get("sourceArn") in (topic, None)]
        if not mine and not maybe:
            yield Violation(
                f"{subscription.name}: no lambda permission lets sns.amazonaws.com invoke the "
                "function for this topic",
                subscription.urn,
            )
        elif (
            mine
            and view.dependencies
            and not any(view.waits_for(subscription, p) for p in (*mine, *maybe))
        ):
            yield Violation(
                f"{subscription.name}: does not wait for its lambda permission", subscription.urn
            )


def _has(*types: str) -> Any:
    def applies(view: StackView) -> bool:
        return bool(view.of_type(*types))

    return applies


STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        id="aws-s3-replication-destination-ready",
        description="Replication writes to a versioned bucket of the dr stack, waits for its "
        "versioning, encrypts with the destination region's key and copies a bucket the "
        "primary exports.",
        severity=Severity.HIGH,
        remediation="Create the replica bucket with versioning in the dr stack and let the "
        "configuration depend on it (components/replication.py does).",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html",
        check=_replication_ready,
        frameworks=CHANGE,
        applies=_has(REPLICATION),
    ),
    StackRule(
        id="aws-s3-access-log-target-accepts-logs",
        description="Server access logs go to an SSE-S3 bucket of the same region without an "
        "Object Lock default retention, whose policy lets S3 log delivery write.",
        severity=Severity.HIGH,
        remediation="Log to the region's access-log bucket (components/storage.py).",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html",
        check=_access_log_target,
        frameworks=CHANGE,
        applies=_has(LOGGING),
    ),
    StackRule(
        id="aws-s3-object-lock-bucket-enabled",
        description="Object Lock configurations are on buckets created with Object Lock and "
        "versioning.",
        severity=Severity.HIGH,
        remediation="Set object_lock_enabled on the bucket (SecureBucketArgs.object_lock_days).",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html",
        check=_object_lock_bucket,
        frameworks=CHANGE,
        applies=_has(OBJECT_LOCK),
    ),
    StackRule(
        id="aws-iam-role-policy-quotas",
        description="Each role's inline policies stay within 10,240 characters together and "
        "it has at most 10 managed policies.",
        severity=Severity.HIGH,
        remediation="Move statements into a managed policy or another role.",
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
        check=_role_quotas,
        frameworks=CHANGE,
        applies=_has(ROLE_POLICY, ROLE_POLICY_ATTACHMENT),
    ),
    StackRule(
        id="aws-sns-topic-publishers-can-use-key",
        description="Every service a topic policy lets publish may also use the stack's keys "
        "(an encrypted topic drops its messages otherwise).",
        severity=Severity.HIGH,
        remediation="Add the service to the key policy (FoundationArgs.sns_publishers).",
        url="https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html",
        check=_topic_publishers,
        frameworks=SILENT,
        applies=_has(TOPIC_POLICY),
    ),
    StackRule(
        id="aws-appautoscaling-policy-target-registered",
        description="Application Auto Scaling policies and scheduled actions name a scalable "
        "target of the stack and wait for it.",
        severity=Severity.HIGH,
        remediation="Pass the target's outputs (namespace, dimension, resource id).",
        url="https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html",
        check=_scaling_targets,
        frameworks=CHANGE,
        applies=_has(AAS_POLICY, AAS_SCHEDULE),
    ),
    StackRule(
        id="aws-cloudwatch-log-group-metric-filter-quota",
        description="A log group has at most 100 metric filters.",
        severity=Severity.MEDIUM,
        remediation="Combine patterns or use another log group.",
        url="https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html",
        check=_filters_per_log_group,
        frameworks=CHANGE,
        applies=_has(METRIC_FILTER),
    ),
    StackRule(
        id="aws-sns-lambda-subscription-permitted",
        description="A Lambda subscription has a permission for SNS to invoke the function "
        "and waits for it.",
        severity=Severity.HIGH,
        remediation="Create aws.lambda_.Permission(principal='sns.amazonaws.com', "
        "source_arn=topic) and depend on it.",
        url="https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html",
        check=_lambda_subscriptions,
        frameworks=SILENT,
        applies=_has(SUBSCRIPTION),
    ),
)
