"""Documented AWS and provider constraints (policies/rules/constraints.py): each rule passes
a compliant baseline and fails each broken field with its message; the stack rules pass a
baseline stack and fail one broken thing per case; the shipped stacks, the examples and
config variants that create the kinds the examples do not (a Slack relay, a DynamoDB global
table, an ECS service with peaks) pass every constraint.

The values come from the sources quoted in the rules' docstrings (CloudWatch alarms: 10, 20,
30 or a multiple of 60 s and one day of evaluation under a one-hour period; S3 RTC: 15
minutes; IAM roles: 64 characters; ...), never from the rule under test."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from model.config import StackConfig
from model.loader import INCLUDE_KEY, load_file, with_includes
from policies.rules import ALL_RULES, STACK_RULES, Enforcement, ResourceView
from policies.rules import constraints as c
from policies.rules.api_models import RULES as API_RULES
from policies.rules.core import evaluate
from policies.rules.stack import StackView, evaluate_stack, view_from_graph
from scripts.engine import SynthResult, synth_all
from tests.conftest import ROOT, read_stack_document

RULES = {rule.id: rule for rule in c.RULES}
PROVIDER = "urn:pulumi:s::p::pulumi:providers:aws::primary-aws"
TOPIC = "arn:aws:sns:us-east-1:123456789012:sys-warning"
KEY = "arn:aws:kms:us-east-1:123456789012:key/0f6b2c1e-7a4d-4c55-9e1b-3d2f8a6c4b10"
DR_KEY = "arn:aws:kms:us-west-2:123456789012:key/1a2b3c4d-7a4d-4c55-9e1b-3d2f8a6c4b10"
POLICY_ARN = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:autoScalingGroupName/g"


def view(
    typ: str, props: Mapping[str, Any], *, name: str = "r", region: str = "us-east-1"
) -> ResourceView:
    return ResourceView(
        type=typ,
        name=name,
        urn=f"urn:pulumi:s::p::{typ}::{name}",
        props=dict(props),
        protect=True,
        provider_urn=PROVIDER,
        region=region,
    )


def metric(query_id: str, period: int = 60) -> dict[str, Any]:
    return {
        "id": query_id,
        "metric": {"namespace": "AWS/ELB", "metricName": "M", "stat": "Sum", "period": period},
        "returnData": False,
    }


MATH_ALARM: dict[str, Any] = {
    "comparisonOperator": "GreaterThanThreshold",
    "threshold": 1,
    "evaluationPeriods": 5,
    "datapointsToAlarm": 5,
    "metricQueries": [
        metric("errors"),
        metric("requests"),
        {"id": "value", "expression": "errors / requests", "returnData": True},
    ],
}
PLAIN_ALARM: dict[str, Any] = {
    "namespace": "AWS/SQS",
    "metricName": "ApproximateNumberOfMessagesVisible",
    "statistic": "Maximum",
    "period": 300,
    "evaluationPeriods": 2,
    "datapointsToAlarm": 2,
    "alarmActions": [POLICY_ARN],
}
ONE_DAY_ALARM: dict[str, Any] = {
    **MATH_ALARM,
    "evaluationPeriods": 3,
    "datapointsToAlarm": 3,
    "metricQueries": [
        metric("fast", 86_400),
        {"id": "bad_ratio", "expression": "1 - fast / 100", "returnData": True},
    ],
}
COMPOSITE: dict[str, Any] = {
    "alarmRule": 'ALARM("arn:aws:cloudwatch:us-east-1:1:alarm:a") AND ALARM("b")',
    "actionsSuppressor": {"alarm": "faster", "waitPeriod": 60, "extensionPeriod": 3600},
}
DASHBOARD: dict[str, Any] = {
    "dashboardName": "sys-primary-overview",
    "dashboardBody": json.dumps(
        {"widgets": [{"type": "alarm", "properties": {"alarms": ["arn:a", "arn:b"]}}]}
    ),
}
CIS_PATTERN = (
    '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && '
    '($.sourceIPAddress != "delivery.logs.amazonaws.com") }'
)
FILTER: dict[str, Any] = {
    "name": "sys-primary-cis-4-1",
    "logGroupName": "/sys/production/cloudtrail",
    "pattern": CIS_PATTERN,
    "metricTransformation": {"name": "Calls", "namespace": "Sys/CloudTrail", "value": "1"},
}
BACKUP_PATTERN: dict[str, Any] = {
    "source": ["aws.backup"],
    "detail-type": ["Backup Job State Change", "Copy Job State Change"],
    "detail": {"state": ["FAILED", "ABORTED", "EXPIRED"]},
}
GUARDDUTY_PATTERN: dict[str, Any] = {
    "source": ["aws.guardduty"],
    "detail-type": ["GuardDuty Finding"],
    "detail": {"severity": [{"numeric": [">=", 7]}]},
}
SCHEDULE: dict[str, Any] = {
    "autoscalingGroupName": "web",
    "scheduledActionName": "holiday-season-start",
    "minSize": 6,
    "maxSize": 30,
    "desiredCapacity": -1,
    "recurrence": "0 0 1 11 *",
    "timeZone": "Etc/UTC",
}
LABEL = "app/web/5d1b0c7e9a3f4b21/targetgroup/web/8f2e6a4c1b3d5e70"
TRACKING: dict[str, Any] = {
    "autoscalingGroupName": "web",
    "policyType": "TargetTrackingScaling",
    "estimatedInstanceWarmup": 300,
    "targetTrackingConfiguration": {
        "predefinedMetricSpecification": {
            "predefinedMetricType": "ALBRequestCountPerTarget",
            "resourceLabel": LABEL,
        },
        "targetValue": 800,
    },
}
SIMPLE: dict[str, Any] = {
    "autoscalingGroupName": "web",
    "policyType": "SimpleScaling",
    "adjustmentType": "PercentChangeInCapacity",
    "scalingAdjustment": -30,
    "minAdjustmentMagnitude": 1,
    "cooldown": 600,
}
STEP: dict[str, Any] = {
    "policyType": "StepScaling",
    "stepScalingPolicyConfiguration": {
        "adjustmentType": "PercentChangeInCapacity",
        "minAdjustmentMagnitude": 1,
        "stepAdjustments": [{"metricIntervalUpperBound": "0", "scalingAdjustment": -30}],
    },
}
ECS_TRACKING: dict[str, Any] = {
    "policyType": "TargetTrackingScaling",
    "targetTrackingScalingPolicyConfiguration": {
        "predefinedMetricSpecification": {
            "predefinedMetricType": "ECSServiceAverageCPUUtilization"
        },
        "targetValue": 70,
    },
}
TARGET: dict[str, Any] = {
    "serviceNamespace": "ecs",
    "scalableDimension": "ecs:service:DesiredCount",
    "resourceId": "service/sys/web",
    "minCapacity": 2,
    "maxCapacity": 10,
}
TARGET_ID: dict[str, Any] = {
    k: TARGET[k] for k in ("serviceNamespace", "scalableDimension", "resourceId")
}
ECS_SCHEDULE: dict[str, Any] = {
    **TARGET_ID,
    "schedule": "cron(0 0 1 11 ? *)",
    "timezone": "Etc/UTC",
    "scalableTargetAction": {"minCapacity": 6, "maxCapacity": 30},
}
LIFECYCLE: dict[str, Any] = {
    "rules": [
        {
            "id": "resilience",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "transitions": [
                {"days": 30, "storageClass": "STANDARD_IA"},
                {"days": 90, "storageClass": "GLACIER"},
            ],
            "noncurrentVersionExpiration": {"noncurrentDays": 30, "newerNoncurrentVersions": 10},
            "expiration": {"days": 365},
        }
    ]
}


def replication_rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "uploads-to-us-west-2",
        "status": "Enabled",
        "priority": 1,
        "filter": {"prefix": ""},
        "deleteMarkerReplication": {"status": "Disabled"},
        "sourceSelectionCriteria": {"sseKmsEncryptedObjects": {"status": "Enabled"}},
        "destination": {
            "bucket": "arn:aws:s3:::sys-uploads-us-west-2",
            "encryptionConfiguration": {"replicaKmsKeyId": DR_KEY},
            "replicationTime": {"status": "Enabled", "time": {"minutes": 15}},
            "metrics": {"status": "Enabled", "eventThreshold": {"minutes": 15}},
        },
    }
    rule.update(changes)
    return rule


def destination(**changes: Any) -> dict[str, Any]:
    return {**replication_rule()["destination"], **changes}


REPLICATION: dict[str, Any] = {
    "bucket": "sys-uploads-us-east-1",
    "role": "arn:role",
    "rules": [replication_rule()],
}
OBJECT_LOCK: dict[str, Any] = {
    "bucket": "sys-audit",
    "objectLockEnabled": "Enabled",
    "rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 365}},
}
BUDGET: dict[str, Any] = {
    "notifications": [
        {
            "comparisonOperator": "GREATER_THAN",
            "notificationType": "FORECASTED",
            "threshold": 80,
            "subscriberSnsTopicArns": [TOPIC],
        }
    ]
}
ANOMALY: dict[str, Any] = {
    "frequency": "IMMEDIATE",
    "subscribers": [{"type": "SNS", "address": TOPIC}],
    "thresholdExpression": {
        "dimension": {
            "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
            "matchOptions": ["GREATER_THAN_OR_EQUAL"],
            "values": ["100"],
        }
    },
}
FUNCTION: dict[str, Any] = {
    "name": "sys-primary-slack-relay",
    "timeout": 15,
    "memorySize": 128,
    "kmsKeyArn": KEY,
    "environment": {"variables": {"SLACK_ROUTES": "{}"}},
}
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def policy(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def sized(characters: int) -> str:
    """A policy of exactly `characters` characters and no white space."""

    def text(pad: str) -> str:
        statement = {"Sid": pad, "Effect": "Deny", "Principal": "*", "Action": "s3:*"}
        document = {"Version": "2012-10-17", "Statement": [statement]}
        return json.dumps(document, separators=(",", ":"))

    return text("x" * (characters - len(text(""))))


ROOT_STATEMENT: dict[str, Any] = {
    "Sid": "Owner",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "SNS:Publish",
    "Resource": TOPIC,
}

RDS_INSTANCE: dict[str, Any] = {
    "identifier": "o" * 63,
    "finalSnapshotIdentifier": "o" * 249 + "-final",
}
RDS_NAME_RULE = (
    "letters, digits or hyphens starting with a letter, without a trailing or double hyphen"
)

# (rule id, resource type, compliant props, the broken change, the one message expected)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    (
        "aws-cloudwatch-alarm-period-valid",
        c.METRIC_ALARM,
        PLAIN_ALARM,
        {"period": 90},
        "r: period 90 s is not 10, 20, 30 or a multiple of 60",
    ),
    (
        "aws-cloudwatch-alarm-period-valid",
        c.METRIC_ALARM,
        MATH_ALARM,
        {"metricQueries": [metric("errors", 45), MATH_ALARM["metricQueries"][2]]},
        "r: metric query errors 45 s is not 10, 20, 30 or a multiple of 60",
    ),
    (
        "aws-cloudwatch-alarm-evaluation-range",
        c.METRIC_ALARM,
        PLAIN_ALARM,
        {"evaluationPeriods": 289, "datapointsToAlarm": 289},
        "r: 289 periods of 300 s evaluate 86700 s; a period under one hour allows at most 86400 s",
    ),
    (
        "aws-cloudwatch-alarm-evaluation-range",
        c.METRIC_ALARM,
        ONE_DAY_ALARM,
        {"evaluationPeriods": 8, "datapointsToAlarm": 8},
        "r: 8 periods of 86400 s evaluate 691200 s (> 7 days)",
    ),
    (
        "aws-cloudwatch-alarm-evaluation-range",
        c.METRIC_ALARM,
        PLAIN_ALARM,
        {"datapointsToAlarm": 3},
        "r: datapoints_to_alarm 3 exceeds evaluation_periods 2 (M out of N needs M <= N)",
    ),
    (
        "aws-cloudwatch-alarm-metric-math-valid",
        c.METRIC_ALARM,
        MATH_ALARM,
        {"metricQueries": [metric(f"m{i}") for i in range(11)] + [MATH_ALARM["metricQueries"][2]]},
        "r: 11 metrics; an alarm can retrieve at most 10",
    ),
    (
        "aws-cloudwatch-alarm-metric-math-valid",
        c.METRIC_ALARM,
        MATH_ALARM,
        {"metricQueries": [*MATH_ALARM["metricQueries"][:2], {"id": "v", "expression": "e"}]},
        "r: 0 queries return data; exactly one must",
    ),
    (
        "aws-cloudwatch-alarm-metric-math-valid",
        c.METRIC_ALARM,
        MATH_ALARM,
        {"metricQueries": [metric("Errors"), *MATH_ALARM["metricQueries"][1:]]},
        "r: query id 'Errors' must start with a lowercase letter",
    ),
    (
        "aws-cloudwatch-alarm-metric-math-valid",
        c.METRIC_ALARM,
        MATH_ALARM,
        {"period": 60},
        "r: metric queries together with period",
    ),
    (
        "aws-cloudwatch-composite-alarm-rule-valid",
        c.COMPOSITE_ALARM,
        COMPOSITE,
        {"alarmRule": " OR ".join(f'ALARM("a{i}")' for i in range(101))},
        "r: alarm rule names 101 alarms (at most 100)",
    ),
    (
        "aws-cloudwatch-composite-alarm-rule-valid",
        c.COMPOSITE_ALARM,
        COMPOSITE,
        {"alarmRule": 'ALARM("' + "a" * 10_240 + '")'},
        "r: alarm rule has 10249 characters (at most 10240)",
    ),
    (
        "aws-cloudwatch-composite-alarm-rule-valid",
        c.COMPOSITE_ALARM,
        COMPOSITE,
        {"actionsSuppressor": {"alarm": "faster", "waitPeriod": 60}},
        "r: actions suppressor without extensionPeriod",
    ),
    (
        "aws-cloudwatch-dashboard-body-valid",
        c.DASHBOARD,
        DASHBOARD,
        {"dashboardName": "sys primary"},
        "r: dashboard name 'sys primary' has characters other than A-Za-z0-9-_",
    ),
    (
        "aws-cloudwatch-dashboard-body-valid",
        c.DASHBOARD,
        DASHBOARD,
        {
            "dashboardBody": json.dumps(
                {"widgets": [{"type": "alarm", "properties": {"alarms": ["a"] * 101}}]}
            )
        },
        "r: alarm widget 0 lists 101 alarms (1 to 100)",
    ),
    (
        "aws-cloudwatch-dashboard-body-valid",
        c.DASHBOARD,
        DASHBOARD,
        {"dashboardBody": json.dumps({"widgets": [{"type": "text"}] * 501})},
        "r: 501 widgets (at most 500)",
    ),
    (
        "aws-cloudwatch-log-group-valid",
        c.LOG_GROUP,
        {"name": "/aws/lambda/sys-primary-slack-relay", "retentionInDays": 30},
        {"retentionInDays": 45},
        "r: 45 days is not a retention CloudWatch Logs accepts",
    ),
    (
        "aws-cloudwatch-log-group-valid",
        c.LOG_GROUP,
        {"name": "/sys/production/app", "retentionInDays": 365},
        {"name": "aws/sys"},
        "r: log group names can't start with aws/",
    ),
    (
        "aws-cloudwatch-metric-filter-valid",
        c.METRIC_FILTER,
        FILTER,
        {"pattern": CIS_PATTERN.removesuffix(" }")},
        "r: filter pattern's braces, parentheses or quotes do not pair",
    ),
    (
        "aws-cloudwatch-metric-filter-valid",
        c.METRIC_FILTER,
        FILTER,
        {"name": "cis:4.1"},
        "r: filter name 'cis:4.1' is not 1-512 characters without : or *",
    ),
    (
        "aws-cloudwatch-metric-filter-valid",
        c.METRIC_FILTER,
        FILTER,
        {
            "metricTransformation": {
                **FILTER["metricTransformation"],
                "dimensions": {"a": "$.a", "b": "$.b", "c": "$.c", "d": "$.d"},
            }
        },
        "r: 4 dimensions (at most 3)",
    ),
    (
        "aws-events-rule-valid",
        c.EVENT_RULE,
        {"eventPattern": json.dumps(GUARDDUTY_PATTERN)},
        {"name": "x" * 65},
        f"r: the rule name {'x' * 65!r} is not 1-64 of [.-_A-Za-z0-9]",
    ),
    (
        "aws-events-rule-valid",
        c.EVENT_RULE,
        {"eventPattern": json.dumps(GUARDDUTY_PATTERN)},
        {"eventPattern": json.dumps({**GUARDDUTY_PATTERN, "source": "aws.guardduty"})},
        "r: event pattern field source is not an array of values",
    ),
    (
        "aws-events-pattern-matches-emitted-fields",
        c.EVENT_RULE,
        {"eventPattern": json.dumps(BACKUP_PATTERN)},
        {
            "eventPattern": json.dumps(
                {
                    **BACKUP_PATTERN,
                    "detail-type": [*BACKUP_PATTERN["detail-type"], "Restore Job State Change"],
                }
            )
        },
        "r: Restore Job State Change events carry no detail.state (they carry resourceType, "
        "status): the pattern never matches them",
    ),
    (
        "aws-events-pattern-matches-emitted-fields",
        c.EVENT_RULE,
        {"eventPattern": json.dumps(BACKUP_PATTERN)},
        {"eventPattern": json.dumps({**BACKUP_PATTERN, "detail": {"state": ["FAILURE"]}})},
        "r: detail.state never takes the value 'FAILURE'",
    ),
    (
        "aws-events-pattern-matches-emitted-fields",
        c.EVENT_RULE,
        {"eventPattern": json.dumps(GUARDDUTY_PATTERN)},
        {"eventPattern": json.dumps({**GUARDDUTY_PATTERN, "detail": {"severity": ["HIGH"]}})},
        "r: detail.severity is a number, not 'HIGH'",
    ),
    (
        "aws-sns-subscription-endpoint-valid",
        c.SUBSCRIPTION,
        {"topic": TOPIC, "protocol": "sms", "endpoint": "+15555550100"},
        {"endpoint": "555-0100"},
        "r: '555-0100' is not a sms endpoint",
    ),
    (
        "aws-sns-subscription-endpoint-valid",
        c.SUBSCRIPTION,
        {"topic": TOPIC, "protocol": "email", "endpoint": "oncall@example.com"},
        {"protocol": "mail"},
        "r: 'mail' is not an SNS protocol",
    ),
    (
        "aws-sns-subscription-endpoint-valid",
        c.SUBSCRIPTION,
        {"topic": TOPIC, "protocol": "email", "endpoint": "oncall@example.com"},
        {"topic": TOPIC.replace("us-east-1", "us-west-2")},
        "r: created in us-east-1 for a topic in us-west-2",
    ),
    (
        "aws-kms-alias-name-valid",
        c.ALIAS,
        {"name": "alias/sys-primary/data", "targetKeyId": KEY},
        {"name": "alias/aws/sys"},
        "r: alias/aws/ is reserved for AWS managed keys",
    ),
    (
        "aws-kms-alias-name-valid",
        c.ALIAS,
        {"name": "alias/sys-primary/data", "targetKeyId": KEY},
        {"name": "sys-data"},
        "r: alias 'sys-data' is not alias/ and [a-zA-Z0-9/_-]",
    ),
    (
        "aws-kms-replica-key-of-multi-region-primary",
        c.REPLICA_KEY,
        {"primaryKeyArn": "arn:aws:kms:us-west-2:1:key/mrk-4bec7a5d", "deletionWindowInDays": 30},
        {"primaryKeyArn": DR_KEY},
        "r: the primary 1a2b3c4d-7a4d-4c55-9e1b-3d2f8a6c4b10 is not a multi-Region key (mrk-)",
    ),
    (
        "aws-kms-replica-key-of-multi-region-primary",
        c.REPLICA_KEY,
        {"primaryKeyArn": "arn:aws:kms:us-west-2:1:key/mrk-4bec7a5d", "deletionWindowInDays": 30},
        {"deletionWindowInDays": 31},
        "r: deletion window 31 days (7 to 30)",
    ),
    (
        "aws-kms-key-in-resource-region",
        c.TOPIC,
        {"kmsMasterKeyId": KEY},
        {"kmsMasterKeyId": DR_KEY},
        "r: in us-east-1, encrypted with a key of us-west-2",
    ),
    (
        "aws-kms-key-in-resource-region",
        c.ENCRYPTION,
        {"rules": [{"applyServerSideEncryptionByDefault": {"kmsMasterKeyId": KEY}}]},
        {"rules": [{"applyServerSideEncryptionByDefault": {"kmsMasterKeyId": DR_KEY}}]},
        "r: in us-east-1, encrypted with a key of us-west-2",
    ),
    (
        "aws-policy-principal-full-arn",
        c.TOPIC_POLICY,
        {"policy": policy(ROOT_STATEMENT)},
        {"policy": policy({**ROOT_STATEMENT, "Principal": {"AWS": "123456789012"}})},
        "r: statement Owner names account 123456789012; write arn:aws:iam::123456789012:root "
        "(AWS stores the ARN: a diff on every preview)",
    ),
    (
        "aws-iam-role-valid",
        c.ROLE,
        {"assumeRolePolicy": TRUST},
        {"name": "sys-primary-monitoring-escalation-slack-relay-role-with-a-long-name"},
        "r: the role name 'sys-primary-monitoring-escalation-slack-relay-role-with-a-long-name' "
        "is not 1-64 of [\\w+=,.@-]",
    ),
    (
        "aws-iam-role-valid",
        c.ROLE,
        {"assumeRolePolicy": TRUST},
        {"maxSessionDuration": 60},
        "r: max session duration 60 s (3600 to 43200)",
    ),
    (
        "aws-iam-role-valid",
        c.ROLE,
        {"assumeRolePolicy": TRUST},
        {"assumeRolePolicy": sized(2049)},
        "r: trust policy has 2049 characters (at most 2048)",
    ),
    (
        "aws-iam-role-policy-size",
        c.ROLE_POLICY,
        {"role": "r", "policy": policy(ROOT_STATEMENT)},
        {"role": "r", "policy": sized(10_241)},
        "r: inline policy has 10241 characters (at most 10240)",
    ),
    (
        "aws-autoscaling-schedule-valid",
        c.ASG_SCHEDULE,
        SCHEDULE,
        {"desiredCapacity": 2},
        "r: desired capacity 2 below the minimum 6",
    ),
    (
        "aws-autoscaling-schedule-valid",
        c.ASG_SCHEDULE,
        SCHEDULE,
        {"recurrence": "0 0 1 11 ? *"},
        "r: recurrence '0 0 1 11 ? *' is not a five-field cron expression",
    ),
    (
        "aws-autoscaling-schedule-valid",
        c.ASG_SCHEDULE,
        SCHEDULE,
        {"timeZone": "CET+1"},
        "r: 'CET+1' is not an IANA time zone",
    ),
    (
        "aws-autoscaling-group-bounds",
        c.ASG,
        {"minSize": 2, "maxSize": 10},
        {"desiredCapacity": 11},
        "r: desired capacity 11 outside [2, 10]",
    ),
    (
        "aws-autoscaling-policy-fields-match-type",
        c.ASG_POLICY,
        SIMPLE,
        {"estimatedInstanceWarmup": 300},
        "r: estimated_instance_warmup is not valid for SimpleScaling",
    ),
    (
        "aws-autoscaling-policy-fields-match-type",
        c.ASG_POLICY,
        SIMPLE,
        {"adjustmentType": "ChangeInCapacity"},
        "r: min_adjustment_magnitude needs PercentChangeInCapacity",
    ),
    (
        "aws-autoscaling-policy-fields-match-type",
        c.ASG_POLICY,
        TRACKING,
        {"cooldown": 300},
        "r: cooldown applies to SimpleScaling only, not TargetTrackingScaling",
    ),
    (
        "aws-autoscaling-policy-fields-match-type",
        c.ASG_POLICY,
        TRACKING,
        {
            "targetTrackingConfiguration": {
                "predefinedMetricSpecification": {
                    "predefinedMetricType": "ALBRequestCountPerTarget",
                    "resourceLabel": "app/web/5d1b0c7e9a3f4b21/None",
                },
                "targetValue": 800,
            }
        },
        "r: ALBRequestCountPerTarget needs the label app/<lb>/<id>/targetgroup/<tg>/<id>, not "
        "'app/web/5d1b0c7e9a3f4b21/None'",
    ),
    (
        "aws-appautoscaling-policy-fields-match-type",
        c.AAS_POLICY,
        STEP,
        {"stepScalingPolicyConfiguration": {"adjustmentType": "ChangeInCapacity"}},
        "r: a StepScaling policy needs at least one step adjustment",
    ),
    (
        "aws-appautoscaling-policy-fields-match-type",
        c.AAS_POLICY,
        ECS_TRACKING,
        {"stepScalingPolicyConfiguration": STEP["stepScalingPolicyConfiguration"]},
        "r: a TargetTrackingScaling policy with a step configuration",
    ),
    (
        "aws-appautoscaling-target-valid",
        c.AAS_TARGET,
        TARGET,
        {"resourceId": "sys/web"},
        "r: 'sys/web' is not service/<cluster>/<service>",
    ),
    (
        "aws-appautoscaling-target-valid",
        c.AAS_TARGET,
        TARGET,
        {"minCapacity": 11},
        "r: min_capacity 11 above max_capacity 10",
    ),
    (
        "aws-appautoscaling-scheduled-action-valid",
        c.AAS_SCHEDULE,
        ECS_SCHEDULE,
        {"schedule": "cron(0 0 1 11 *)"},
        "r: 'cron(0 0 1 11 *)' is not a six-field cron expression",
    ),
    (
        "aws-s3-bucket-name-valid",
        c.BUCKET,
        {"bucket": "sys-uploads-us-east-1-123456789012"},
        {"bucket": "Sys_Uploads"},
        "r: 'Sys_Uploads' breaks the S3 bucket naming rules",
    ),
    (
        "aws-s3-lifecycle-rules-valid",
        c.LIFECYCLE,
        LIFECYCLE,
        {
            "rules": [
                {
                    **LIFECYCLE["rules"][0],
                    "transitions": [{"days": 7, "storageClass": "STANDARD_IA"}],
                }
            ]
        },
        "r: rule resilience: Standard-IA/One Zone-IA after 7 days (at least 30)",
    ),
    (
        "aws-s3-lifecycle-rules-valid",
        c.LIFECYCLE,
        LIFECYCLE,
        {
            "rules": [
                {
                    **LIFECYCLE["rules"][0],
                    "transitions": [
                        {"days": 30, "storageClass": "STANDARD_IA"},
                        {"days": 45, "storageClass": "GLACIER"},
                    ],
                }
            ]
        },
        "r: rule resilience: GLACIER after 45 days, under 30 days after the move to infrequent "
        "access on day 30",
    ),
    (
        "aws-s3-lifecycle-rules-valid",
        c.LIFECYCLE,
        LIFECYCLE,
        {"rules": [{**LIFECYCLE["rules"][0], "expiration": {"days": 60}}]},
        "r: rule resilience: expires after 60 days, before its transition on day 90",
    ),
    (
        "aws-s3-lifecycle-rules-valid",
        c.LIFECYCLE,
        LIFECYCLE,
        {
            "rules": [
                {
                    **LIFECYCLE["rules"][0],
                    "noncurrentVersionExpiration": {
                        "noncurrentDays": 30,
                        "newerNoncurrentVersions": 101,
                    },
                }
            ]
        },
        "r: rule resilience: keeps 101 noncurrent versions (1 to 100)",
    ),
    (
        "aws-s3-lifecycle-rules-valid",
        c.LIFECYCLE,
        LIFECYCLE,
        {"rules": [{k: v for k, v in LIFECYCLE["rules"][0].items() if k != "filter"}]},
        "r: rule resilience: neither filter nor prefix",
    ),
    (
        "aws-s3-replication-rules-valid",
        c.REPLICATION,
        REPLICATION,
        {
            "rules": [
                replication_rule(
                    destination=destination(
                        replicationTime={"status": "Enabled", "time": {"minutes": 7}}
                    )
                )
            ]
        },
        "r: rule uploads-to-us-west-2: Replication Time Control of 7 minutes (only 15 exists)",
    ),
    (
        "aws-s3-replication-rules-valid",
        c.REPLICATION,
        REPLICATION,
        {"rules": [replication_rule(destination=destination(metrics={"status": "Disabled"}))]},
        "r: rule uploads-to-us-west-2: Replication Time Control without replication metrics",
    ),
    (
        "aws-s3-replication-rules-valid",
        c.REPLICATION,
        REPLICATION,
        {"rules": [replication_rule(sourceSelectionCriteria={})]},
        "r: rule uploads-to-us-west-2: a replica key but SSE-KMS objects not selected: S3 skips "
        "every KMS-encrypted object",
    ),
    (
        "aws-s3-replication-rules-valid",
        c.REPLICATION,
        REPLICATION,
        {"rules": [replication_rule(destination=destination(encryptionConfiguration={}))]},
        "r: rule uploads-to-us-west-2: replicates SSE-KMS objects without a replica KMS key",
    ),
    (
        "aws-s3-replication-rules-valid",
        c.REPLICATION,
        REPLICATION,
        {
            "rules": [
                {k: v for k, v in replication_rule().items() if k != "deleteMarkerReplication"}
            ]
        },
        "r: rule uploads-to-us-west-2: a rule with a filter needs deleteMarkerReplication",
    ),
    (
        "aws-s3-object-lock-retention-valid",
        c.OBJECT_LOCK,
        OBJECT_LOCK,
        {"rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 365, "years": 1}}},
        "r: default retention needs exactly one of days and years",
    ),
    (
        "aws-budgets-budget-valid",
        c.BUDGET,
        BUDGET,
        {"notifications": BUDGET["notifications"] * 6},
        "r: 6 notifications (at most 5)",
    ),
    (
        "aws-budgets-budget-valid",
        c.BUDGET,
        BUDGET,
        {"notifications": [{**BUDGET["notifications"][0], "subscriberSnsTopicArns": [TOPIC] * 2}]},
        "r: notification 0 has 2 SNS topics (one)",
    ),
    (
        "aws-ce-anomaly-subscription-valid",
        c.ANOMALY_SUBSCRIPTION,
        ANOMALY,
        {"frequency": "DAILY"},
        "r: DAILY notifications go to email addresses only",
    ),
    (
        "aws-ce-anomaly-subscription-valid",
        c.ANOMALY_SUBSCRIPTION,
        ANOMALY,
        {
            "thresholdExpression": {
                "dimension": {**ANOMALY["thresholdExpression"]["dimension"], "values": ["ten"]}
            }
        },
        "r: threshold value 'ten' is not a number 0..1e10",
    ),
    (
        "aws-lambda-function-valid",
        c.FUNCTION,
        FUNCTION,
        {"timeout": 901},
        "r: timeout 901 s (1 to 900)",
    ),
    (
        "aws-lambda-function-valid",
        c.FUNCTION,
        FUNCTION,
        {"environment": {"variables": {"SLACK_ROUTES": "x" * 4096}}},
        "r: environment variables of 4108 bytes (at most 4 KB)",
    ),
    # RDS API Reference, CreateDBInstance, DBInstanceIdentifier: "Must contain from 1 to 63
    # letters, numbers, or hyphens. First character must be a letter. Can't end with a hyphen
    # or contain two consecutive hyphens."
    (
        "aws-rds-identifier-valid",
        c.RDS_INSTANCE,
        RDS_INSTANCE,
        {"identifier": "i" * 64},
        f"r: identifier {'i' * 64!r} (64 characters) is not 1-63 {RDS_NAME_RULE}",
    ),
    (
        "aws-rds-identifier-valid",
        c.RDS_INSTANCE,
        RDS_INSTANCE,
        {"identifier": "orders-db-"},
        f"r: identifier 'orders-db-' (10 characters) is not 1-63 {RDS_NAME_RULE}",
    ),
    (
        "aws-rds-identifier-valid",
        c.RDS_CLUSTER_INSTANCE,
        {"identifier": "orders-1", "clusterIdentifier": "orders"},
        {"identifier": "orders--1"},
        f"r: identifier 'orders--1' (9 characters) is not 1-63 {RDS_NAME_RULE}",
    ),
    (
        "aws-rds-identifier-valid",
        c.RDS_CLUSTER,
        {"clusterIdentifier": "orders", "finalSnapshotIdentifier": "orders-final"},
        {"clusterIdentifier": "1orders"},
        f"r: clusterIdentifier '1orders' (7 characters) is not 1-63 {RDS_NAME_RULE}",
    ),
    # DeleteDBInstance, FinalDBSnapshotIdentifier: "Must be 1 to 255 letters, numbers, or
    # hyphens" with the same first and last characters.
    (
        "aws-rds-identifier-valid",
        c.RDS_INSTANCE,
        RDS_INSTANCE,
        {"finalSnapshotIdentifier": "f" * 256},
        f"r: finalSnapshotIdentifier {'f' * 256!r} (256 characters) is not 1-255 {RDS_NAME_RULE}",
    ),
]

RULE_CASE_IDS = {case[0] for case in CASES}


@pytest.mark.parametrize(
    ("rule_id", "typ", "good", "bad", "message"),
    CASES,
    ids=[f"{case[0]}:{next(iter(case[3]))}" for case in CASES],
)
def test_each_broken_field_fails_with_its_message(
    rule_id: str, typ: str, good: dict[str, Any], bad: dict[str, Any], message: str
) -> None:
    rule = RULES[rule_id]
    assert rule.applies_to(typ)
    assert list(rule.check(view(typ, good))) == []
    assert list(rule.check(view(typ, {**good, **bad}))) == [message]


def test_autonamed_roles_and_rules_count_pulumis_suffix() -> None:
    """pulumi-aws autonames a role or an EventBridge rule `<logical>-<7 hex>` within 64
    characters: a logical name of 56 fits (64), one of 57 does not (65)."""
    role = RULES["aws-iam-role-valid"]
    assert list(role.check(view(c.ROLE, {"assumeRolePolicy": TRUST}, name="r" * 56))) == []
    assert list(role.check(view(c.ROLE, {"assumeRolePolicy": TRUST}, name="r" * 57))) == [
        f"{'r' * 57}: the autonamed role (logical name + 8) {'r' * 57 + '-0000000'!r} is not "
        "1-64 of [\\w+=,.@-]"
    ]
    rule = RULES["aws-events-rule-valid"]
    pattern = json.dumps(GUARDDUTY_PATTERN)
    assert list(rule.check(view(c.EVENT_RULE, {"eventPattern": pattern}, name="e" * 56))) == []
    assert len(list(rule.check(view(c.EVENT_RULE, {"eventPattern": pattern}, name="e" * 57)))) == 1


def test_a_schedule_without_desired_capacity_is_sent_as_zero() -> None:
    """The provider's default of 0 (schedule.go sends every value but -1)."""
    unset = {k: v for k, v in SCHEDULE.items() if k != "desiredCapacity"}
    assert list(RULES["aws-autoscaling-schedule-valid"].check(view(c.ASG_SCHEDULE, unset))) == [
        "r: desired_capacity unset is sent as 0; set -1 (leave it) or a value between min_size "
        "and max_size"
    ]


def test_unknown_and_secret_values_are_not_judged() -> None:
    assert (
        list(
            RULES["aws-sns-subscription-endpoint-valid"].check(
                view(c.SUBSCRIPTION, {"topic": TOPIC, "protocol": "https", "endpoint": "[secret]"})
            )
        )
        == []
    )
    assert (
        list(
            RULES["aws-lambda-function-valid"].check(
                view(c.FUNCTION, {**FUNCTION, "environment": {"variables": {"A": "[secret]"}}})
            )
        )
        == []
    )
    assert (
        list(
            RULES["aws-cloudwatch-dashboard-body-valid"].check(
                view(c.DASHBOARD, {"dashboardName": "d", "dashboardBody": "[unknown]"})
            )
        )
        == []
    )


def test_every_constraint_rule_is_mandatory() -> None:
    """The event-pattern rule was off until components/backup.py stopped filtering restore
    events on detail.state; it judges the shipped stacks now (0 findings)."""
    assert all(r.enforcement is Enforcement.MANDATORY for r in c.RULES)


# -- stack rules -----------------------------------------------------------------------------

Spec = dict[str, Any]


def res(typ: str, **props: Any) -> dict[str, Any]:
    """A resource of the baseline stack, in the DR region unless `region` says otherwise."""
    region = props.pop("region", "us-west-2")
    return {"type": typ, "props": props, "region": region}


def dr_stack() -> Spec:
    """A dr stack whose replication writes to its own versioned bucket with its own key, an
    access-log bucket that accepts logs, an Object Lock bucket, a role with policies, an
    encrypted topic whose publishers may use the key, ECS scaling on a registered target, a
    metric filter, and a Lambda subscription with its permission."""
    key_policy = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        }
    )
    topic_policy = policy(
        ROOT_STATEMENT,
        {
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": "SNS:Publish",
            "Resource": TOPIC,
        },
    )
    log_policy = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::sys-access-logs/*",
        }
    )
    resources = {
        "replica": res(c.BUCKET, bucket="sys-uploads-us-west-2"),
        "replica-versioning": res(
            c.VERSIONING,
            bucket="sys-uploads-us-west-2",
            versioningConfiguration={"status": "Enabled"},
        ),
        "replication": res(c.REPLICATION, region="us-east-1", **REPLICATION),
        "replication-role": res(c.ROLE, assumeRolePolicy=TRUST),
        "logs": res(c.BUCKET, bucket="sys-access-logs"),
        "logs-policy": res(c.BUCKET_POLICY, bucket="sys-access-logs", policy=log_policy),
        "replica-logging": res(
            c.LOGGING, bucket="sys-uploads-us-west-2", targetBucket="sys-access-logs"
        ),
        "audit": res(c.BUCKET, bucket="sys-audit", objectLockEnabled=True),
        "audit-versioning": res(
            c.VERSIONING, bucket="sys-audit", versioningConfiguration={"status": "Enabled"}
        ),
        "audit-lock": res(c.OBJECT_LOCK, **OBJECT_LOCK),
        "relay-policy": res(c.ROLE_POLICY, role="relay", policy=sized(1_000)),
        "relay-logs": res(c.ROLE_POLICY_ATTACHMENT, role="relay", policyArn="arn:p"),
        "key": res(c.KMS_KEY, policy=key_policy),
        "topic": res(c.TOPIC, kmsMasterKeyId=DR_KEY),
        "topic-policy": res(c.TOPIC_POLICY, arn=TOPIC, policy=topic_policy),
        "target": res(c.AAS_TARGET, **TARGET),
        "cpu": res(c.AAS_POLICY, **ECS_TRACKING, **TARGET_ID),
        "peak": res(c.AAS_SCHEDULE, **ECS_SCHEDULE),
        "filter": res(c.METRIC_FILTER, **FILTER),
        "invoke": res(
            c.PERMISSION,
            action="lambda:InvokeFunction",
            principal="sns.amazonaws.com",
            sourceArn=TOPIC,
        ),
        "relay-subscription": res(
            c.SUBSCRIPTION,
            topic=TOPIC,
            protocol="lambda",
            endpoint="arn:aws:lambda:us-west-2:1:function:relay",
        ),
    }
    dependencies = {
        "replication": ["replica-versioning", "replication-role"],
        "cpu": ["target"],
        "peak": ["target"],
        "relay-subscription": ["invoke"],
    }
    primary = {"role": "primary", "data_buckets": {"uploads": {"bucket": "sys-uploads-us-east-1"}}}
    return {"resources": resources, "dependencies": dependencies, "primary": primary}


def urn(name: str, typ: str) -> str:
    return f"urn:pulumi:dr::resilience::{typ}::{name}"


def build(spec: Spec) -> StackView:
    resources = spec["resources"]
    views = [
        ResourceView(
            type=r["type"],
            name=name,
            urn=urn(name, r["type"]),
            props={k: v for k, v in r["props"].items() if v is not None},
            protect=False,
            provider_urn=None,
            region=r["region"],
        )
        for name, r in resources.items()
    ]
    return StackView(
        stack="dr",
        resources=views,
        tags={},
        stack_tags={},
        references={"org/sys/primary": spec["primary"]},
        dependencies={
            urn(name, resources[name]["type"]): frozenset(
                urn(d, resources[d]["type"]) for d in deps if d in resources
            )
            for name, deps in spec["dependencies"].items()
            if name in resources
        },
    )


def stack_findings(spec: Spec) -> list[tuple[str, str, str]]:
    found, _ = evaluate_stack(build(spec), c.STACK_RULES)
    return sorted((f.rule_id, f.urn.rsplit("::", 1)[-1], f.message) for f in found)


Edit = Callable[[Spec], None]


def edit_props(name: str, **changes: Any) -> Edit:
    def edit(spec: Spec) -> None:
        spec["resources"][name]["props"].update(changes)

    return edit


def remove(*names: str) -> Edit:
    def edit(spec: Spec) -> None:
        for name in names:
            del spec["resources"][name]

    return edit


def no_dependency(name: str) -> Edit:
    def edit(spec: Spec) -> None:
        spec["dependencies"][name] = []

    return edit


def chain(*edits: Edit) -> Edit:
    def edit(spec: Spec) -> None:
        for one in edits:
            one(spec)

    return edit


def add(name: str, resource: dict[str, Any]) -> Edit:
    def edit(spec: Spec) -> None:
        spec["resources"][name] = resource

    return edit


STACK_CASES: list[tuple[str, Edit, list[tuple[str, str, str]]]] = [
    (
        "destination-missing",
        remove("replica", "replica-versioning", "replica-logging"),
        [
            (
                "aws-s3-replication-destination-ready",
                "replication",
                "replication: destination bucket sys-uploads-us-west-2 is created by no "
                "resource of this stack",
            )
        ],
    ),
    (
        "destination-unversioned",
        remove("replica-versioning"),
        [
            (
                "aws-s3-replication-destination-ready",
                "replication",
                "replication: destination bucket sys-uploads-us-west-2 has versioning not enabled",
            )
        ],
    ),
    (
        "replication-before-versioning",
        no_dependency("replication"),
        [
            (
                "aws-s3-replication-destination-ready",
                "replication",
                "replication: does not wait for sys-uploads-us-west-2's versioning (depends_on)",
            )
        ],
    ),
    (
        "replica-key-of-the-source-region",
        edit_props(
            "replication",
            rules=[
                replication_rule(
                    destination=destination(encryptionConfiguration={"replicaKmsKeyId": KEY})
                )
            ],
        ),
        [
            (
                "aws-s3-replication-destination-ready",
                "replication",
                "replication: replicas in us-west-2 encrypted with a key of us-east-1",
            )
        ],
    ),
    (
        "source-not-exported-by-the-primary",
        edit_props("replication", bucket="sys-other-us-east-1"),
        [
            (
                "aws-s3-replication-destination-ready",
                "replication",
                "replication: source bucket sys-other-us-east-1 is not a data bucket of the "
                "primary stack (its versioning is not known)",
            )
        ],
    ),
    (
        "log-target-elsewhere",
        edit_props("replica-logging", targetBucket="sys-access-logs-us-east-1"),
        [
            (
                "aws-s3-access-log-target-accepts-logs",
                "replica-logging",
                "replica-logging: log target bucket sys-access-logs-us-east-1 is not a bucket of "
                "this stack",
            )
        ],
    ),
    (
        "log-target-locked",
        edit_props("replica-logging", targetBucket="sys-audit"),
        [
            (
                "aws-s3-access-log-target-accepts-logs",
                "replica-logging",
                "replica-logging: log target sys-audit has Object Lock (S3 refuses it)",
            )
        ],
    ),
    (
        "log-target-policy-without-log-delivery",
        edit_props("logs-policy", policy=policy(ROOT_STATEMENT)),
        [
            (
                "aws-s3-access-log-target-accepts-logs",
                "replica-logging",
                "replica-logging: sys-access-logs's policy does not let logging.s3.amazonaws.com "
                "write (ACLs are disabled)",
            )
        ],
    ),
    (
        "object-lock-without-versioning",
        chain(edit_props("audit", objectLockEnabled=None), remove("audit-versioning")),
        [
            (
                "aws-s3-object-lock-bucket-enabled",
                "audit-lock",
                "audit-lock: bucket sys-audit is not created with Object Lock and the "
                "configuration does not wait for its enabled versioning",
            )
        ],
    ),
    (
        "object-lock-versioning-suspended",
        edit_props("audit-versioning", versioningConfiguration={"status": "Suspended"}),
        [
            (
                "aws-s3-object-lock-bucket-enabled",
                "audit-versioning",
                "audit-versioning: versioning of Object Lock bucket sys-audit is not Enabled",
            )
        ],
    ),
    (
        "inline-policies-over-quota",
        add(
            "relay-policy-2",
            res(c.ROLE_POLICY, role="relay", policy=sized(9_241)),
        ),
        [
            (
                "aws-iam-role-policy-quotas",
                "relay-policy",
                "role relay: inline policies of 10241 characters (10240)",
            )
        ],
    ),
    (
        "eleven-managed-policies",
        chain(
            *(
                add(f"extra-{i}", res(c.ROLE_POLICY_ATTACHMENT, role="relay", policyArn=f"a{i}"))
                for i in range(10)
            )
        ),
        [
            (
                "aws-iam-role-policy-quotas",
                "relay-policy",
                "role relay: 11 managed policies attached (10)",
            )
        ],
    ),
    (
        "publisher-without-key-grant",
        edit_props(
            "topic-policy",
            policy=policy(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "budgets.amazonaws.com"},
                    "Action": "SNS:Publish",
                    "Resource": TOPIC,
                }
            ),
        ),
        [
            (
                "aws-sns-topic-publishers-can-use-key",
                "topic-policy",
                "topic-policy: budgets.amazonaws.com may publish but no key policy lets it use "
                "the topic's key (kms:GenerateDataKey*, kms:Decrypt)",
            )
        ],
    ),
    (
        "policy-without-target",
        remove("target"),
        [
            (
                "aws-appautoscaling-policy-target-registered",
                "cpu",
                "cpu: no scalable target ('ecs', 'ecs:service:DesiredCount', 'service/sys/web')",
            ),
            (
                "aws-appautoscaling-policy-target-registered",
                "peak",
                "peak: no scalable target ('ecs', 'ecs:service:DesiredCount', 'service/sys/web')",
            ),
        ],
    ),
    (
        "policy-before-target",
        no_dependency("cpu"),
        [
            (
                "aws-appautoscaling-policy-target-registered",
                "cpu",
                "cpu: does not wait for its scalable target",
            )
        ],
    ),
    (
        "101-metric-filters",
        chain(
            *(
                add(f"filter-{i}", res(c.METRIC_FILTER, **{**FILTER, "name": f"f{i}"}))
                for i in range(100)
            )
        ),
        [
            (
                "aws-cloudwatch-log-group-metric-filter-quota",
                "filter",
                "log group /sys/production/cloudtrail: 101 metric filters (100)",
            )
        ],
    ),
    (
        "lambda-subscription-without-permission",
        remove("invoke"),
        [
            (
                "aws-sns-lambda-subscription-permitted",
                "relay-subscription",
                "relay-subscription: no lambda permission lets sns.amazonaws.com invoke the "
                "function for this topic",
            )
        ],
    ),
    (
        "lambda-subscription-before-permission",
        no_dependency("relay-subscription"),
        [
            (
                "aws-sns-lambda-subscription-permitted",
                "relay-subscription",
                "relay-subscription: does not wait for its lambda permission",
            )
        ],
    ),
]

STACK_CASE_RULES = {rule for _, _, expected in STACK_CASES for rule, _, _ in expected}


def test_the_stack_baseline_passes_and_every_stack_rule_has_a_case() -> None:
    assert stack_findings(dr_stack()) == []
    assert {rule.id for rule in c.STACK_RULES} == STACK_CASE_RULES


@pytest.mark.parametrize(
    ("edit", "expected"), [pytest.param(e, x, id=i) for i, e, x in STACK_CASES]
)
def test_stack_rule_case(edit: Edit, expected: list[tuple[str, str, str]]) -> None:
    spec = copy.deepcopy(dr_stack())
    edit(spec)
    assert stack_findings(spec) == sorted(expected)


# -- the stacks the bundle ships, and config variants ---------------------------------------


def test_shipped_graphs_pass_every_constraint(synthesized: dict[str, SynthResult]) -> None:
    for result in synthesized.values():
        assert evaluate(result.graph, c.RULES) == [], result.stack
        found, _ = evaluate_stack(view_from_graph(result.graph), c.STACK_RULES)
        assert found == [], result.stack


def test_primary_and_dr_dashboards_have_distinct_names(
    synthesized: dict[str, SynthResult],
) -> None:
    """CloudWatch API Reference, PutDashboard: "All dashboards in your account are global,
    not region-specific": the two stacks' dashboards must not share a name."""

    def names(stack: str) -> set[str]:
        return {
            r["inputs"]["dashboardName"]
            for r in synthesized[stack].graph["resources"]
            if r["type"] == c.DASHBOARD
        }

    assert names("primary") and names("dr")
    assert names("primary").isdisjoint(names("dr"))


SLACK = "https://hooks.slack.com/services/T0000000/B0000000/abcdefghijklmnop"


def variant(tmp: Path, base: str, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    if base.endswith(".yaml"):
        source = ROOT / base
        document = yaml.safe_load(source.read_text())
        merged, _ = with_includes(document["config"], source.parent, source.name)
        merged.pop(INCLUDE_KEY, None)
        document["config"] = merged
    else:
        document = read_stack_document(base)
    edit(document["config"])
    path = tmp / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> list[SynthResult]:
    """Kinds the shipped stacks and examples do not create: the Slack relay (a long system
    name: its role is named, not autonamed), a DynamoDB global table with its replica, and
    an ECS service with a yearly peak (Application Auto Scaling scheduled actions)."""
    tmp = tmp_path_factory.mktemp("variants")

    def slack_and_table(config: dict[str, Any]) -> None:
        config["resilience:name"] = "learning-lab-system"
        config["resilience:escalation"]["critical"].append({"kind": "slack", "endpoint": SLACK})
        config["resilience:tables"] = [
            {"name": "idempotency-keys", "hash_key": "key", "ttl_attribute": "expires_at"}
        ]

    def dr_of_it(config: dict[str, Any]) -> None:
        slack_and_table(config)
        config["resilience:primary_stack"] = "organization/resilience/variant-primary"

    def ecs_peak(config: dict[str, Any]) -> None:
        service = config["resilience:services"][0]
        service.setdefault("scaling", {})["peaks"] = [
            {"name": "term-start", "start": "09-01", "end": "10-01", "factor": 2}
        ]

    paths = [
        variant(tmp, "primary", "variant-primary", slack_and_table),
        variant(tmp, "dr", "variant-dr", dr_of_it),
        variant(
            tmp,
            "examples/learning-assistant/Pulumi.learning-assistant.yaml",
            "variant-ecs-peaks",
            ecs_peak,
        ),
    ]
    return synth_all([load_file(p) for p in paths])


def kinds(results: list[SynthResult]) -> set[str]:
    return {r["type"] for result in results for r in result.graph["resources"]}


def test_variants_create_the_kinds_the_examples_do_not(variants: list[SynthResult]) -> None:
    assert {
        c.FUNCTION,
        c.PERMISSION,
        c.TABLE,
        c.TABLE_REPLICA,
        c.AAS_SCHEDULE,
    } <= kinds(variants)


def test_variants_pass_every_constraint(variants: list[SynthResult]) -> None:
    for result in variants:
        assert evaluate(result.graph, c.RULES) == [], result.stack
        found, _ = evaluate_stack(view_from_graph(result.graph), c.STACK_RULES)
        assert found == [], result.stack


def test_every_rule_of_the_pack_is_registered() -> None:
    ids = {r.id for r in ALL_RULES} | {r.id for r in STACK_RULES}
    assert {r.id for r in c.RULES} | {r.id for r in c.STACK_RULES} <= ids
    assert set(RULES) == RULE_CASE_IDS


# -- the longest names the config accepts ------------------------------------------------------
#
# Every resource is named after the system (`<name>-<role>-...`) and the config's entries
# (services, buckets, databases, tables, classes, peaks) or the existing resources it watches
# (functions, queues, replication rules); pulumi-aws autonames the rest `<logical name>-<7 hex>`
# within each kind's limit and fails past it ("name '...' plus 7 random chars is longer than
# maximum length 64", pulumi/pulumi sdk resource.NewUniqueHex). So every name must fit for
# the longest value of each that the config accepts. The bounds, from the AWS limits the
# loader holds the names to (model/loader.py), for regions of 9 characters (us-east-1,
# us-west-2: the shortest AWS regions, so the longest system name):
ACCOUNT_ID = 12
# S3 User Guide, General purpose bucket naming rules: "Bucket names must be between 3 (min)
# and 63 (max) characters long"; every stack's access-log bucket is
# `<name>-access-logs-<region>-<account id>`.
LONGEST_SYSTEM = 63 - len("-access-logs-us-east-1-") - ACCOUNT_ID  # 28
LONGEST_SLUG = 32  # services, tables, peaks, backup rules: model/config.py _SLUG
# A data bucket `<name>-<bucket>-<region>-<account id>` within S3's 63.
LONGEST_BUCKET = 63 - LONGEST_SYSTEM - len("--us-east-1-") - ACCOUNT_ID  # 11
# RDS API Reference, CreateDBInstance, DBInstanceIdentifier: "Must contain from 1 to 63
# letters, numbers, or hyphens"; the replica of `<name>-<database>` is `...-dr`, an Aurora DR
# cluster's 16th instance `...-dr-16`.
LONGEST_DATABASE = 63 - LONGEST_SYSTEM - len("--dr")  # 31
LONGEST_AURORA = 63 - LONGEST_SYSTEM - len("--dr-16")  # 28
# AWS Backup API, BackupPlanInput, BackupPlanName: "Must contain 1 to 50 alphanumeric or
# '-_.' characters"; the plans are `<name>-primary-<class>`.
LONGEST_CLASS = 50 - LONGEST_SYSTEM - len("-primary-")  # 13
# Names of existing resources the config watches, as long as AWS allows: Lambda function
# names 64 (CreateFunction), SQS queue names 80 (CreateQueue), S3 replication rule ids 255
# (ReplicationRule, ID), Auto Scaling group names 255.
LONGEST = {"function": 64, "queue": 80, "rule_id": 255, "asg": 255}


def padded(base: str, length: int) -> str:
    """`base` made `length` characters long (letters appended, never a trailing hyphen)."""
    return (base + "-" + "x" * length)[:length] if len(base) < length else base[:length]


def _longest_classes(config: dict[str, Any]) -> None:
    """Backup classes (and their rules) renamed to the longest names, references too."""
    classes = config["resilience:backup"]["classes"]
    renamed = {name: padded(name, LONGEST_CLASS) for name in classes}
    config["resilience:backup"]["classes"] = {renamed[k]: v for k, v in classes.items()}
    for spec in config["resilience:backup"]["classes"].values():
        for rule in spec.get("rules", []):
            rule["name"] = padded(rule["name"], LONGEST_SLUG)
    for key in ("resilience:data_buckets", "resilience:databases", "resilience:tables"):
        for entry in config.get(key, []):
            if entry.get("backup_class"):
                entry["backup_class"] = renamed[entry["backup_class"]]


def _longest_service(
    service: dict[str, Any], databases: list[str], sides: tuple[str, ...] = ("primary", "dr")
) -> None:
    service["name"] = padded(service["name"], LONGEST_SLUG)
    for peak in (service.get("scaling") or {}).get("peaks", []):
        peak["name"] = padded(peak["name"], LONGEST_SLUG)
    for side in sides:
        res = service.setdefault("resources", {}).setdefault(side, {})
        own = f"{service['name'][:8]}-{side}"  # each service's and region's own
        function = padded(f"{own}-function", LONGEST["function"])
        res["functions"] = [{"function_name": function, "timeout_seconds": 30}]
        queue, dlq = (padded(f"{own}-{what}", LONGEST["queue"]) for what in ("queue", "dlq"))
        res["queues"] = [{"queue_name": queue, "dlq_name": dlq}]
        if res.get("asg"):
            res["asg"]["name"] = padded(f"{own}-group", LONGEST["asg"])
        for db in res.get("databases", []):
            # The bundle's own database, watched under its identifier in each region.
            db["identifier"] = databases[0] + ("-dr" if side == "dr" else "")
    service["resources"]["primary"]["s3_replication"] = [
        {
            "source_bucket": "s" * 63,
            "destination_bucket": "d" * 63,
            "rule_id": "r" * LONGEST["rule_id"],
        }
    ]


def _longest_reskflow(config: dict[str, Any], *, aurora: bool, primary_stack: str) -> None:
    """The shipped system (RDS or Aurora, owned groups, DNS failover, a replicated bucket, a
    global table, a Slack relay, budgets per service) under the longest names."""
    system = "n" * LONGEST_SYSTEM
    config["resilience:name"] = system
    _longest_classes(config)
    (db,) = config["resilience:databases"]
    db.pop("identifier")
    db["name"] = "b" * (LONGEST_AURORA if aurora else LONGEST_DATABASE)
    if aurora:
        db.update(engine="aurora-postgresql", engine_version="16.4", instances=16)
        db.update(dr_instances=16)
        config["resilience:failover"]["mechanism"] = "arc"
    identifier = f"{system}-{db['name']}"
    for service in config["resilience:services"]:
        _longest_service(service, [identifier])
        for side in ("primary", "dr"):
            for watched in service["resources"][side].get("databases", []):
                if aurora:
                    watched.update(engine="aurora-postgresql", allocated_storage_gb=None)
    config["resilience:cost"]["service_budgets_usd"] = {
        s["name"]: 100 for s in config["resilience:services"]
    }
    config["resilience:data_buckets"][0]["name"] = "u" * LONGEST_BUCKET
    config["resilience:tables"] = [
        {
            "name": "t" * LONGEST_SLUG,
            "hash_key": "key",
            "backup_class": next(iter(config["resilience:backup"]["classes"])),
        }
    ]
    config["resilience:escalation"]["critical"].append({"kind": "slack", "endpoint": SLACK})
    config["resilience:failover"]["health_check"]["alarms"] = ["alb-unhealthy-hosts"]
    if config["resilience:role"] == "dr":
        config["resilience:primary_stack"] = primary_stack


def _longest_ecs(config: dict[str, Any]) -> None:
    """The ECS example with a queue-scaled service and a yearly peak, under the longest names."""
    system = "e" * LONGEST_SYSTEM
    config["resilience:name"] = system
    (service,) = config["resilience:services"]
    service["scaling"]["queue"] = {"queue_name": "q" * LONGEST["queue"]}
    service["scaling"]["peaks"] = [
        {"name": "p" * LONGEST_SLUG, "start": "09-01", "end": "10-01", "factor": 2}
    ]
    service["resources"]["primary"]["ecs"] = {"cluster": "c" * 255, "service": "s" * 255}
    _longest_service(service, ["l" * 63], sides=("primary",))


@pytest.fixture(scope="module")
def longest(tmp_path_factory: pytest.TempPathFactory) -> list[SynthResult]:
    tmp = tmp_path_factory.mktemp("longest")
    paths = []
    for tag, aurora in (("longest", False), ("longest-aurora", True)):
        for base in ("primary", "dr"):

            def edit(config: dict[str, Any], aurora: bool = aurora, tag: str = tag) -> None:
                ref = f"organization/resilience/{tag}-primary"
                _longest_reskflow(config, aurora=aurora, primary_stack=ref)

            paths.append(variant(tmp, base, f"{tag}-{base}", edit))
    paths.append(
        variant(
            tmp,
            "examples/learning-assistant/Pulumi.learning-assistant.yaml",
            "longest-ecs",
            _longest_ecs,
        )
    )
    return synth_all([load_file(p) for p in paths])


def test_the_longest_names_are_the_longest_the_config_accepts(tmp_path: Path) -> None:
    """One character more and the loader refuses the file, naming the key."""
    from model.loader import ConfigError

    def too_long(config: dict[str, Any]) -> None:
        _longest_reskflow(config, aurora=False, primary_stack="")
        config["resilience:name"] += "n"

    with pytest.raises(ConfigError) as caught:
        load_file(variant(tmp_path, "primary", "one-more", too_long))
    assert any(str(p.key) == "resilience:name" for p in caught.value.problems)

    def bucket(config: dict[str, Any]) -> None:
        _longest_reskflow(config, aurora=False, primary_stack="")
        config["resilience:data_buckets"][0]["name"] += "u"

    with pytest.raises(ConfigError) as caught:
        load_file(variant(tmp_path, "primary", "bucket", bucket))
    assert [str(p.key) for p in caught.value.problems] == ["resilience:data_buckets[0].name"]

    def database(config: dict[str, Any]) -> None:
        _longest_reskflow(config, aurora=False, primary_stack="")
        config["resilience:databases"][0]["name"] += "b"

    with pytest.raises(ConfigError) as caught:
        load_file(variant(tmp_path, "primary", "database", database))
    assert "resilience:databases[0].name" in [str(p.key) for p in caught.value.problems]


def test_the_longest_names_fit_every_aws_name_limit(longest: list[SynthResult]) -> None:
    """Synthesized with the longest system, service, bucket, database, table, class, peak and
    watched-resource names, no name exceeds what AWS (and pulumi-aws's autonaming) allows:
    no finding of the constraint rules (aws-iam-role-valid, aws-events-rule-valid,
    aws-lambda-function-valid, aws-rds-identifier-valid, aws-s3-bucket-name-valid,
    aws-kms-alias-name-valid, aws-cloudwatch-log-group-valid, ...) nor of aws-api-model (each
    mapped kind's name members, autonamed ones as `<logical name>-0000000`)."""
    assert {r.loaded.config.name for r in longest} == {"n" * 28, "e" * 28}
    for result in longest:
        assert evaluate(result.graph, (*c.RULES, *API_RULES)) == [], result.stack
        found, _ = evaluate_stack(view_from_graph(result.graph), c.STACK_RULES)
        assert found == [], result.stack
    kinds = {r["type"] for result in longest for r in result.graph["resources"]}
    # The kinds whose names overflowed before (autonamed past 64) are among them.
    assert {c.ROLE, c.EVENT_RULE, c.FUNCTION, c.PERMISSION, c.RDS_CLUSTER_INSTANCE} <= kinds


def test_every_database_of_a_stack_publishes_with_one_enhanced_monitoring_role(
    longest: list[SynthResult],
) -> None:
    """One role per stack, named `<system>-<role>-rds-monitoring` (at most 28 + 8 + 15 = 51 of
    IAM's 64), for the 16 instances of each Aurora cluster alike."""
    for result in longest:
        config = result.loaded.config
        assert isinstance(config, StackConfig)
        if not config.databases:
            continue
        prefix = f"{config.name}-{config.role.value}"
        roles = [
            r
            for r in result.graph["resources"]
            if r["type"] == c.ROLE and r["inputs"].get("name", "").endswith("-rds-monitoring")
        ]
        (role,) = roles
        assert role["inputs"]["name"] == f"{prefix}-rds-monitoring"
        instances = [
            r
            for r in result.graph["resources"]
            if r["type"] in (c.RDS_INSTANCE, c.RDS_CLUSTER_INSTANCE)
        ]
        assert instances, result.stack
        assert {r["inputs"]["monitoringRoleArn"] for r in instances} == {role["computed"]["arn"]}
