"""The `aws-api-model` rule: botocore's service models applied to each mapped kind's inputs.

Every expectation below is written from the botocore model as read (botocore 1.44.5 in
.venv), stated literally, e.g. "cloudwatch.PutMetricAlarm Period: min 1": a wrong member
path, a wrong shape or a checker bug fails them. The table itself is checked against the
Pulumi SDK (inputs) and the models (members), and against every shipped and example graph
(every kind is mapped or listed as unmapped; every input the graphs carry is mapped or listed
as unchecked; no finding).
"""

from __future__ import annotations

import importlib
import inspect
import json
import keyword
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pulumi._types as pulumi_types
import pytest
from botocore.model import Shape, StructureShape

from policies.rules import ALL_RULES
from policies.rules.api_models import COMMON_UNCHECKED, KINDS, RULES, UNMAPPED
from policies.rules.api_shapes import (
    IDENTITY,
    UNCHECKED_PATTERNS,
    F,
    as_f,
    compiled,
    input_shape,
    requests,
    resolve,
    translate,
)
from policies.rules.core import ResourceView
from scripts.engine import SynthResult

RULE = RULES[0]


def view(kind: str, props: Mapping[str, Any], name: str = "res", **extra: Any) -> ResourceView:
    return ResourceView(
        type=kind,
        name=name,
        urn=f"urn:pulumi:s::p::{kind}::{name}",
        props=props,
        protect=False,
        provider_urn="urn:pulumi:s::p::pulumi:providers:aws::primary-aws",
        region="us-east-1",
        **extra,
    )


def findings(kind: str, props: Mapping[str, Any], name: str = "res", **extra: Any) -> list[str]:
    v = view(kind, props, name, **extra)
    assert RULE.applies_to(v.type)
    return list(RULE.check(v))


def test_rule_is_registered() -> None:
    assert RULE in ALL_RULES
    assert RULE.id == "aws-api-model"


# --- per kind: a compliant baseline, then one broken field per constraint family ------------

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ALARM_OK: dict[str, Any] = {
    "name": "orders-api-5xx",
    "comparisonOperator": "GreaterThanThreshold",
    "evaluationPeriods": 2,
    "datapointsToAlarm": 2,
    "metricName": "HTTPCode_Target_5XX_Count",
    "namespace": "AWS/ApplicationELB",
    "period": 60,
    "statistic": "Sum",
    "threshold": 5,
    "treatMissingData": "notBreaching",
    "dimensions": {"LoadBalancer": "app/orders/9c3a7e5b1d2f4a60"},
    "alarmActions": ["arn:aws:sns:us-east-1:123456789012:critical"],
    "okActions": ["arn:aws:sns:us-east-1:123456789012:critical"],
    "tags": {"service": "orders-api"},
}


def broken(base: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # PutMetricAlarm.Period: integer, min 1
        ({"period": 0}, "period=0: cloudwatch.PutMetricAlarm Period: min 1"),
        # PutMetricAlarm.EvaluationPeriods min 1
        ({"evaluationPeriods": 0}, "cloudwatch.PutMetricAlarm EvaluationPeriods: min 1"),
        # AlarmName: length 1..255
        ({"name": "a" * 256}, "cloudwatch.PutMetricAlarm AlarmName: max length 255 (is 256)"),
        # Statistic: enum SampleCount, Average, Sum, Minimum, Maximum
        (
            {"statistic": "Median"},
            'statistic="Median": cloudwatch.PutMetricAlarm Statistic: enum SampleCount, '
            "Average, Sum, Minimum, Maximum",
        ),
        # Namespace: pattern [^:].*
        ({"namespace": ":EC2"}, "cloudwatch.PutMetricAlarm Namespace: pattern [^:].*"),
        # AlarmActions (ResourceList): max 5 items
        (
            {"alarmActions": [f"arn:aws:sns:us-east-1:123456789012:t{i}" for i in range(6)]},
            "alarmActions (6 items): cloudwatch.PutMetricAlarm AlarmActions: max 5 items",
        ),
        # Dimensions: max 30 items; DimensionValue length 1..1024
        (
            {"dimensions": {f"D{i}": "x" for i in range(31)}},
            "dimensions (31 items): cloudwatch.PutMetricAlarm Dimensions: max 30 items",
        ),
        (
            {"dimensions": {"LoadBalancer": ""}},
            "cloudwatch.PutMetricAlarm Dimensions[].Value: min length 1 (is 0)",
        ),
        # TagKey length 1..128
        (
            {"tags": {"k" * 129: "v"}},
            "cloudwatch.PutMetricAlarm Tags[].Key: max length 128 (is 129)",
        ),
        # Metrics[].MetricStat.Metric.Namespace: pattern [^:].*
        (
            {
                "metricQueries": [
                    {
                        "id": "m1",
                        "returnData": True,
                        "metric": {
                            "metricName": "X",
                            "namespace": ":bad",
                            "period": 60,
                            "stat": "Sum",
                        },
                    }
                ]
            },
            'metricQueries[0].metric.namespace=":bad": cloudwatch.PutMetricAlarm '
            "Metrics[].MetricStat.Metric.Namespace: pattern [^:].*",
        ),
        # Metrics[].Id is required (MetricId, length 1..255)
        (
            {"metricQueries": [{"expression": "m1 * 2", "returnData": True}]},
            "metricQueries[0].id missing: cloudwatch.PutMetricAlarm Metrics[].Id: required",
        ),
    ],
)
def test_metric_alarm(changes: dict[str, Any], expected: str) -> None:
    assert findings(ALARM, ALARM_OK) == []
    got = findings(ALARM, broken(ALARM_OK, **changes))
    assert any(expected in m for m in got), got


def test_auto_named_alarm_is_checked_as_pulumi_names_it() -> None:
    """No `name`: pulumi-aws names it `<logical name>-<7 hex>`; 250 + 8 > AlarmName's 255."""
    props = {k: v for k, v in ALARM_OK.items() if k != "name"}
    assert findings(ALARM, props, name="a" * 247) == []  # 255 characters
    got = findings(ALARM, props, name="a" * 250)
    assert len(got) == 1
    assert "name (auto-named)=" in got[0]
    assert "cloudwatch.PutMetricAlarm AlarmName: max length 255 (is 258)" in got[0]


HEALTH = "aws:route53/healthCheck:HealthCheck"
HEALTH_OK: dict[str, Any] = {
    "type": "HTTPS",
    "fqdn": "orders.example.com",
    "port": 443,
    "resourcePath": "/health",
    "requestInterval": 10,
    "failureThreshold": 3,
    "enableSni": True,
    "tags": {"Name": "orders"},
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # HealthCheckConfig.FailureThreshold: 1..10
        (
            {"failureThreshold": 11},
            "route53.CreateHealthCheck HealthCheckConfig.FailureThreshold: max 10",
        ),
        # RequestInterval: 10..30
        (
            {"requestInterval": 5},
            "route53.CreateHealthCheck HealthCheckConfig.RequestInterval: min 10",
        ),
        # Port: 1..65535
        ({"port": 70000}, "route53.CreateHealthCheck HealthCheckConfig.Port: max 65535"),
        # Type: enum HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP, CALCULATED, ...
        (
            {"type": "HTTPX"},
            'type="HTTPX": route53.CreateHealthCheck HealthCheckConfig.Type: enum HTTP, HTTPS',
        ),
        # Regions: 3..64 items
        (
            {"regions": ["us-east-1", "us-west-2"]},
            "route53.CreateHealthCheck HealthCheckConfig.Regions: min 3 items",
        ),
        # ResourcePath: max 255
        (
            {"resourcePath": "/" + "p" * 255},
            "HealthCheckConfig.ResourcePath: max length 255 (is 256)",
        ),
        # ChangeTagsForResource.AddTags: 1..10 items
        (
            {"tags": {f"k{i}": "v" for i in range(11)}},
            "tags (11 items): route53.ChangeTagsForResource AddTags: max 10 items",
        ),
    ],
)
def test_route53_health_check(changes: dict[str, Any], expected: str) -> None:
    assert findings(HEALTH, HEALTH_OK) == []
    got = findings(HEALTH, broken(HEALTH_OK, **changes))
    assert any(expected in m for m in got), got


def test_route53_alarm_health_check_region_enum() -> None:
    props = {
        "type": "CLOUDWATCH_METRIC",
        "cloudwatchAlarmName": "fence",
        "cloudwatchAlarmRegion": "us-west-2",
        "insufficientDataHealthStatus": "Unhealthy",
    }
    assert findings(HEALTH, props) == []
    got = findings(HEALTH, broken(props, cloudwatchAlarmRegion="moon-1"))
    assert any("HealthCheckConfig.AlarmIdentifier.Region: enum us-east-1" in m for m in got)
    # InsufficientDataHealthStatus: enum Healthy, Unhealthy, LastKnownStatus
    got = findings(HEALTH, broken(props, insufficientDataHealthStatus="Unknown"))
    assert any(
        "InsufficientDataHealthStatus: enum Healthy, Unhealthy, LastKnownStatus" in m for m in got
    )


PLAN = "aws:backup/plan:Plan"
PLAN_OK: dict[str, Any] = {
    "name": "orders-daily",
    "rules": [
        {
            "ruleName": "daily",
            "targetVaultName": "orders-primary",
            "schedule": "cron(0 5 * * ? *)",
            "startWindow": 60,
            "completionWindow": 480,
            "lifecycle": {"deleteAfter": 35},
            "copyActions": [
                {
                    "destinationVaultArn": "arn:aws:backup:us-west-2:123456789012:backup-vault:dr",
                    "lifecycle": {"deleteAfter": 35},
                }
            ],
        }
    ],
}


def test_backup_plan() -> None:
    assert findings(PLAN, PLAN_OK) == []
    rule = {**PLAN_OK["rules"][0], "ruleName": "daily backup"}
    got = findings(PLAN, broken(PLAN_OK, rules=[rule]))
    # BackupRuleName: pattern ^[a-zA-Z0-9\-\_\.]{1,50}$
    assert got == [
        'res: rules[0].ruleName="daily backup": backup.CreateBackupPlan '
        "BackupPlan.Rules[].RuleName: pattern ^[a-zA-Z0-9\\-\\_\\.]{1,50}$"
    ]
    # BackupVaultName: pattern ^[a-zA-Z0-9\-\_]{2,50}$ (two characters at least)
    rule = {**PLAN_OK["rules"][0], "targetVaultName": "v"}
    got = findings(PLAN, broken(PLAN_OK, rules=[rule]))
    assert any(
        "BackupPlan.Rules[].TargetBackupVaultName: pattern ^[a-zA-Z0-9\\-\\_]{2,50}$" in m
        for m in got
    ), got


def test_backup_vault_and_notifications() -> None:
    vault = "aws:backup/vault:Vault"
    assert findings(vault, {"name": "orders-primary", "forceDestroy": False}) == []
    got = findings(vault, {"name": "orders.primary"})
    assert any(
        "backup.CreateBackupVault BackupVaultName: pattern ^[a-zA-Z0-9\\-\\_]{2,50}$" in m
        for m in got
    )
    notes = "aws:backup/vaultNotifications:VaultNotifications"
    ok = {
        "backupVaultName": "orders-primary",
        "snsTopicArn": "arn:aws:sns:us-east-1:123456789012:warning",
        "backupVaultEvents": ["COPY_JOB_FAILED", "S3_BACKUP_OBJECT_FAILED"],
    }
    assert findings(notes, ok) == []
    got = findings(notes, broken(ok, backupVaultEvents=["COPY_JOB_EXPLODED"]))
    # BackupVaultEvent: enum BACKUP_JOB_STARTED, BACKUP_JOB_COMPLETED, ...
    assert any(
        'backupVaultEvents[0]="COPY_JOB_EXPLODED": backup.PutBackupVaultNotifications '
        "BackupVaultEvents[]: enum BACKUP_JOB_STARTED, BACKUP_JOB_COMPLETED" in m
        for m in got
    ), got


def test_kms_alias_and_key() -> None:
    alias = "aws:kms/alias:Alias"
    ok = {"name": "alias/orders/app", "targetKeyId": "mrk-4bec7a5dea2e9b5199c2b75b512400e0"}
    assert findings(alias, ok) == []
    # AliasNameType: pattern ^[a-zA-Z0-9:/_-]+$, length 1..256
    got = findings(alias, broken(ok, name="alias/orders app"))
    assert any("kms.CreateAlias AliasName: pattern ^[a-zA-Z0-9:/_-]+$" in m for m in got), got
    got = findings(alias, broken(ok, name="alias/" + "a" * 251))
    assert any("kms.CreateAlias AliasName: max length 256 (is 257)" in m for m in got), got
    # The model does not say "must begin with alias/": a name without it is not refused here.
    assert findings(alias, broken(ok, name="orders-app")) == []

    key = "aws:kms/key:Key"
    ok_key = {
        "description": "orders",
        "enableKeyRotation": True,
        "rotationPeriodInDays": 365,
        "deletionWindowInDays": 30,
        "multiRegion": True,
    }
    assert findings(key, ok_key) == []
    # EnableKeyRotation.RotationPeriodInDays: 90..2560
    got = findings(key, broken(ok_key, rotationPeriodInDays=30))
    assert got == [
        "res: rotationPeriodInDays=30: kms.EnableKeyRotation RotationPeriodInDays: min 90"
    ]
    # ScheduleKeyDeletion.PendingWindowInDays: 1..365
    got = findings(key, broken(ok_key, deletionWindowInDays=400))
    assert got == [
        "res: deletionWindowInDays=400: kms.ScheduleKeyDeletion PendingWindowInDays: max 365"
    ]
    # KeyUsage: enum SIGN_VERIFY, ENCRYPT_DECRYPT, ...
    got = findings(key, broken(ok_key, keyUsage="ENCRYPT"))
    assert any("kms.CreateKey KeyUsage: enum SIGN_VERIFY, ENCRYPT_DECRYPT" in m for m in got)
    # Tags[].TagKey (TagKeyType): length 1..128
    got = findings(key, broken(ok_key, tags={"k" * 129: "v"}))
    assert any("kms.CreateKey Tags[].TagKey: max length 128 (is 129)" in m for m in got)


LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def test_log_group() -> None:
    ok = {"name": "/orders/production/app", "retentionInDays": 365, "tags": {"Größe": "klein"}}
    # TagKey: pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$ — "Größe" is letters (\p{L}).
    assert findings(LOG_GROUP, ok) == []
    # LogGroupName: pattern [\.\-_/#A-Za-z0-9]+, length 1..512
    got = findings(LOG_GROUP, broken(ok, name="orders app"))
    assert got == [
        'res: name="orders app": logs.CreateLogGroup logGroupName: pattern [\\.\\-_/#A-Za-z0-9]+'
    ]
    got = findings(LOG_GROUP, broken(ok, tags={"team!": "x"}))
    assert any(
        "logs.CreateLogGroup tags (key): pattern ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$" in m
        for m in got
    ), got
    # tags: 1..50 entries
    got = findings(LOG_GROUP, broken(ok, tags={f"k{i}": "v" for i in range(51)}))
    assert any("tags (51 items): logs.CreateLogGroup tags: max 50 items" in m for m in got), got
    # LogGroupClass: enum STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS
    got = findings(LOG_GROUP, broken(ok, logGroupClass="COLD"))
    assert any(
        "logs.CreateLogGroup logGroupClass: enum STANDARD, INFREQUENT_ACCESS" in m for m in got
    )


def test_metric_filter() -> None:
    kind = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
    ok: dict[str, Any] = {
        "name": "cis-4-1",
        "logGroupName": "/orders/production/cloudtrail",
        "pattern": '{ ($.errorCode = "AccessDenied*") }',
        "metricTransformation": {"name": "UnauthorizedAPICalls", "namespace": "CIS", "value": "1"},
    }
    assert findings(kind, ok) == []
    # FilterName: pattern [^:*]*
    got = findings(kind, broken(ok, name="cis:4-1"))
    assert got == ['res: name="cis:4-1": logs.PutMetricFilter filterName: pattern [^:*]*']
    # MetricName: pattern [^:*$]*, max 255
    transformation = {**ok["metricTransformation"], "name": "Calls*"}
    got = findings(kind, broken(ok, metricTransformation=transformation))
    assert any(
        "logs.PutMetricFilter metricTransformations[].metricName: pattern [^:*$]*" in m for m in got
    )
    # FilterPattern: length 0..1024
    got = findings(kind, broken(ok, pattern="x" * 1025))
    assert any("logs.PutMetricFilter filterPattern: max length 1024 (is 1025)" in m for m in got)


def test_iam_role() -> None:
    kind = "aws:iam/role:Role"
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    ok = {
        "assumeRolePolicy": policy,
        "description": "Rôle de sauvegarde",
        "maxSessionDuration": 3600,
    }
    # roleDescriptionType: pattern [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*: "ô" is U+00F4.
    assert findings(kind, ok, name="orders-backup") == []
    got = findings(kind, broken(ok, description="backup — daily"), name="orders-backup")
    assert any(
        "iam.CreateRole Description: pattern [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*"
        in m
        for m in got
    ), got
    # roleMaxSessionDurationType: 3600..43200
    got = findings(kind, broken(ok, maxSessionDuration=1800), name="orders-backup")
    assert any("iam.CreateRole MaxSessionDuration: min 3600" in m for m in got)
    # roleNameType: length 1..64; pulumi-aws auto-names within 64 (57 + 8 = 65 characters)
    got = findings(kind, ok, name="r" * 57)
    assert any(
        "name (auto-named)=" in m and "iam.CreateRole RoleName: max length 64 (is 65)" in m
        for m in got
    )
    # policyDocumentType: pattern [\u0009\u000A\u000D\u0020-\u00FF]+ (no "€", U+20AC)
    got = findings(kind, broken(ok, assumeRolePolicy='{"Sid": "€"}'), name="orders-backup")
    assert any("iam.CreateRole AssumeRolePolicyDocument: pattern" in m for m in got)


def test_event_rule_and_target() -> None:
    rule = "aws:cloudwatch/eventRule:EventRule"
    ok = {
        "name": "orders-failed-jobs",
        "eventPattern": '{"source": ["aws.backup"]}',
        "state": "ENABLED",
    }
    assert findings(rule, ok) == []
    # RuleName: pattern [\.\-_A-Za-z0-9]+, length 1..64
    got = findings(rule, broken(ok, name="failed jobs"))
    assert got == ['res: name="failed jobs": events.PutRule Name: pattern [\\.\\-_A-Za-z0-9]+']
    got = findings(rule, broken(ok, name="r" * 65))
    assert any("events.PutRule Name: max length 64 (is 65)" in m for m in got)
    # RuleState: enum ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
    got = findings(rule, broken(ok, state="ON"))
    assert any("events.PutRule State: enum ENABLED, DISABLED" in m for m in got)
    # EventPattern: max 4096
    got = findings(rule, broken(ok, eventPattern="x" * 4097))
    assert any("events.PutRule EventPattern: max length 4096 (is 4097)" in m for m in got)

    target = "aws:cloudwatch/eventTarget:EventTarget"
    ok_target = {"rule": "orders-failed-jobs", "arn": "arn:aws:sns:us-east-1:123456789012:w"}
    assert findings(target, ok_target, name="t" * 56) == []  # 56 + 8 = 64
    # TargetId: length 1..64, pattern [\.\-_A-Za-z0-9]+; pulumi-aws auto-names within 255.
    got = findings(target, ok_target, name="t" * 57)
    assert got == [
        f'{"t" * 57}: targetId (auto-named)="{"t" * 57}-0000000": events.PutTargets '
        "Targets[].Id: max length 64 (is 65)"
    ]


def test_lambda_permission() -> None:
    kind = "aws:lambda/permission:Permission"
    ok = {
        "function": "reskflow-primary-slack-relay",
        "action": "lambda:InvokeFunction",
        "principal": "sns.amazonaws.com",
        "sourceArn": "arn:aws:sns:us-east-1:123456789012:critical",
    }
    # StatementId: length 1..100, pattern ([a-zA-Z0-9-_]+); pulumi-aws auto-names it
    # `<logical name>-<7 hex>` ("statement_id": AutoName("statementId", 100)).
    assert findings(kind, ok, name="p" * 92) == []  # 92 + 8 = 100
    assert findings(kind, ok, name="p" * 93) == [
        f'{"p" * 93}: statementId (auto-named)="{"p" * 78}… (101 chars): lambda.AddPermission '
        "StatementId: max length 100 (is 101)"
    ]
    got = findings(kind, broken(ok, statementId="invoke from sns"))
    assert got == [
        'res: statementId="invoke from sns": lambda.AddPermission StatementId: pattern '
        "([a-zA-Z0-9-_]+)"
    ]
    # Action: pattern (lambda:[*]|lambda:[a-zA-Z]+|[*])
    got = findings(kind, broken(ok, action="sns:Publish"))
    assert any("lambda.AddPermission Action: pattern" in m for m in got)


def test_autoscaling_group_and_policy() -> None:
    group = "aws:autoscaling/group:Group"
    ok = {
        "name": "orders",
        "minSize": 2,
        "maxSize": 10,
        "launchTemplate": {"name": "orders", "version": "$Latest"},
        "vpcZoneIdentifiers": ["subnet-0a", "subnet-0b"],
        "metricsGranularity": "1Minute",
        "enabledMetrics": ["GroupDesiredCapacity"],
    }
    assert findings(group, ok) == []
    # LaunchTemplateName: length 3..128, pattern [a-zA-Z0-9\(\)\.\-/_]+
    got = findings(group, broken(ok, launchTemplate={"name": "ab", "version": "1"}))
    assert any("LaunchTemplate.LaunchTemplateName: min length 3 (is 2)" in m for m in got), got
    # VPCZoneIdentifier: the subnets joined by ",", length 1..5000
    subnets = [f"subnet-{i:017x}" for i in range(200)]  # 200 x 24 + 199 commas
    assert findings(group, broken(ok, vpcZoneIdentifiers=subnets)) == []
    subnets = [f"subnet-{i:017x}" for i in range(209)]  # 209 x 24 + 208 = 5224
    got = findings(group, broken(ok, vpcZoneIdentifiers=subnets))
    assert any(
        "autoscaling.CreateAutoScalingGroup VPCZoneIdentifier: max length 5000 (is 5224)" in m
        for m in got
    ), got

    policy = "aws:autoscaling/policy:Policy"
    ok_policy = {
        "autoscalingGroupName": "orders",
        "name": "cpu",
        "policyType": "TargetTrackingScaling",
        "targetTrackingConfiguration": {
            "targetValue": 70,
            "predefinedMetricSpecification": {"predefinedMetricType": "ASGAverageCPUUtilization"},
        },
    }
    assert findings(policy, ok_policy) == []
    bad = {"targetValue": 70, "predefinedMetricSpecification": {"predefinedMetricType": "CPU"}}
    got = findings(policy, broken(ok_policy, targetTrackingConfiguration=bad))
    # MetricType: enum ASGAverageCPUUtilization, ASGAverageCPUUtilizationHighResolution, ...
    assert any(
        "TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType: enum "
        "ASGAverageCPUUtilization" in m
        for m in got
    ), got


def test_s3_sub_resources() -> None:
    versioning = "aws:s3/bucketVersioning:BucketVersioning"
    ok = {"bucket": "orders-uploads", "versioningConfiguration": {"status": "Enabled"}}
    assert findings(versioning, ok) == []
    # pulumi-aws accepts "Disabled" for a bucket never versioned and sends nothing for it.
    assert findings(versioning, broken(ok, versioningConfiguration={"status": "Disabled"})) == []
    # BucketVersioningStatus: enum Enabled, Suspended
    got = findings(versioning, broken(ok, versioningConfiguration={"status": "Off"}))
    assert got == [
        'res: versioningConfiguration.status="Off": s3.PutBucketVersioning '
        "VersioningConfiguration.Status: enum Enabled, Suspended"
    ]
    lifecycle = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    rule = {
        "id": "archive",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "transitions": [{"days": 30, "storageClass": "STANDARD_IA"}],
    }
    assert findings(lifecycle, {"bucket": "b", "rules": [rule]}) == []
    # ExpirationStatus: enum Enabled, Disabled; TransitionStorageClass: enum GLACIER, ...
    got = findings(lifecycle, {"bucket": "b", "rules": [{**rule, "status": "enabled"}]})
    assert any("LifecycleConfiguration.Rules[].Status: enum Enabled, Disabled" in m for m in got)
    bad_transition = [{"days": 30, "storageClass": "GLACIER_FLEXIBLE"}]
    got = findings(lifecycle, {"bucket": "b", "rules": [{**rule, "transitions": bad_transition}]})
    assert any("Rules[].Transitions[].StorageClass: enum GLACIER, STANDARD_IA" in m for m in got)
    # Rules[].Status is required
    no_status = {k: v for k, v in rule.items() if k != "status"}
    got = findings(lifecycle, {"bucket": "b", "rules": [no_status]})
    assert got == [
        "res: rules[0].status missing: s3.PutBucketLifecycleConfiguration "
        "LifecycleConfiguration.Rules[].Status: required"
    ]


def test_budget_and_its_notifications() -> None:
    kind = "aws:budgets/budget:Budget"
    note = {
        "comparisonOperator": "GREATER_THAN",
        "notificationType": "FORECASTED",
        "threshold": 80,
        "thresholdType": "PERCENTAGE",
        "subscriberSnsTopicArns": ["arn:aws:sns:us-east-1:123456789012:warning"],
    }
    ok = {
        "name": "orders-monthly",
        "budgetType": "COST",
        "timeUnit": "MONTHLY",
        "limitAmount": "1000.00",
        "limitUnit": "USD",
        "costFilters": [{"name": "TagKeyValue", "values": ["user:system$orders"]}],
        "notifications": [note],
    }
    assert findings(kind, ok) == []
    # TimeUnit: enum DAILY, MONTHLY, QUARTERLY, ANNUALLY, CUSTOM
    got = findings(kind, broken(ok, timeUnit="WEEKLY"))
    assert any(
        "budgets.CreateBudget Budget.TimeUnit: enum DAILY, MONTHLY, QUARTERLY" in m for m in got
    )
    # NumericValue: pattern ([0-9]*\.)?[0-9]+
    got = findings(kind, broken(ok, limitAmount="1,000"))
    assert any("Budget.BudgetLimit.Amount: pattern ([0-9]*\\.)?[0-9]+" in m for m in got), got
    # CreateNotification: Subscribers (1..11) required; NotificationThreshold 0..15000000000000
    silent = {k: v for k, v in note.items() if k != "subscriberSnsTopicArns"}
    got = findings(kind, broken(ok, notifications=[silent]))
    assert any(
        "notifications[0].subscriberEmailAddresses/notifications[0].subscriberSnsTopicArns "
        "missing: budgets.CreateNotification Subscribers[].Address: required" in m
        for m in got
    ), got
    got = findings(kind, broken(ok, notifications=[{**note, "threshold": -1}]))
    assert any("budgets.CreateNotification Notification.Threshold: min 0" in m for m in got), got


def test_cost_anomaly_monitor_specification_is_read_as_the_api_expression() -> None:
    kind = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
    spec = {"Tags": {"Key": "system", "MatchOptions": ["EQUALS"], "Values": ["orders"]}}
    ok = {"name": "orders-spend", "monitorType": "CUSTOM", "monitorSpecification": json.dumps(spec)}
    assert findings(kind, ok) == []
    spec["Tags"]["MatchOptions"] = ["SOMETIMES"]
    got = findings(kind, broken(ok, monitorSpecification=json.dumps(spec)))
    # MatchOption: enum EQUALS, ABSENT, STARTS_WITH, ENDS_WITH, CONTAINS, ...
    assert any(
        "ce.CreateAnomalyMonitor AnomalyMonitor.MonitorSpecification.Tags.MatchOptions[]: "
        "enum EQUALS, ABSENT" in m
        for m in got
    ), got


def test_access_analyzer_conformance_pack_secrets_security_hub() -> None:
    analyzer = "aws:accessanalyzer/analyzer:Analyzer"
    assert findings(analyzer, {"analyzerName": "orders-account", "type": "ACCOUNT"}) == []
    # AnalyzerName: pattern [A-Za-z_][A-Za-z0-9_.-]*
    got = findings(analyzer, {"analyzerName": "1-account", "type": "ACCOUNT"})
    assert got == [
        'res: analyzerName="1-account": accessanalyzer.CreateAnalyzer analyzerName: '
        "pattern [A-Za-z_][A-Za-z0-9_.-]*"
    ]
    pack = "aws:cfg/conformancePack:ConformancePack"
    assert findings(pack, {"name": "orders-backup", "templateBody": "Resources: {}"}) == []
    # ConformancePackName: pattern [a-zA-Z][-a-zA-Z0-9]*; TemplateBody: 1..51200
    got = findings(pack, {"name": "orders_backup", "templateBody": "x" * 51201})
    assert any(
        "config.PutConformancePack ConformancePackName: pattern [a-zA-Z][-a-zA-Z0-9]*" in m
        for m in got
    )
    assert any(
        "config.PutConformancePack TemplateBody: max length 51200 (is 51201)" in m for m in got
    )
    secret = "aws:secretsmanager/secret:Secret"
    assert findings(secret, {"name": "orders/master", "replicas": [{"region": "us-west-2"}]}) == []
    # RegionType: pattern ^([a-z]+-)+\d+$
    got = findings(secret, {"name": "orders/master", "replicas": [{"region": "US-WEST-2"}]})
    assert any(
        "secretsmanager.CreateSecret AddReplicaRegions[].Region: pattern ^([a-z]+-)+\\d+$" in m
        for m in got
    )
    standards = "aws:securityhub/standardsSubscription:StandardsSubscription"
    # NonEmptyString: pattern .*\S.*
    arn = (
        "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0"
    )
    assert findings(standards, {"standardsArn": arn}) == []
    got = findings(standards, {"standardsArn": "   "})
    assert any("StandardsSubscriptionRequests[].StandardsArn: pattern .*\\S.*" in m for m in got)


def test_composite_alarm() -> None:
    kind = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
    ok = {
        "alarmName": "orders-page",
        "alarmRule": 'ALARM("orders-1h") AND ALARM("orders-5m")',
        "actionsSuppressor": {
            "alarm": "orders-maintenance",
            "extensionPeriod": 60,
            "waitPeriod": 60,
        },
    }
    assert findings(kind, ok) == []
    # AlarmRule: length 1..10240
    got = findings(kind, broken(ok, alarmRule="x" * 10241))
    assert any(
        "cloudwatch.PutCompositeAlarm AlarmRule: max length 10240 (is 10241)" in m for m in got
    )
    # AlarmArn (ActionsSuppressor): length 1..1600 — the suppressor's fields are request members.
    got = findings(kind, broken(ok, actionsSuppressor={"alarm": "a" * 1601}))
    assert any(
        "actionsSuppressor.alarm=" in m
        and "PutCompositeAlarm ActionsSuppressor: max length 1600" in m
        for m in got
    )


def test_values_not_known_or_not_ours_are_skipped() -> None:
    # Unknown at preview, secret, or another resource's output: none is judged.
    assert findings(ALARM, broken(ALARM_OK, namespace="[unknown]", name="[secret]")) == []
    derived = frozenset({":not-ours"})
    assert findings(ALARM, broken(ALARM_OK, namespace=":not-ours"), derived=derived) == []
    assert findings(ALARM, broken(ALARM_OK, namespace=":ours")) != []


def test_sensitive_members_are_never_quoted() -> None:
    # PutSecretValue.SecretString: length 1..65536, sensitive in the model
    kind = "aws:secretsmanager/secretVersion:SecretVersion"
    got = findings(kind, {"secretId": "orders/master", "secretString": "p" * 65537})
    assert got == [
        "res: secretString=(sensitive): secretsmanager.PutSecretValue SecretString: "
        "max length 65536 (is 65537)"
    ]


def test_quotes_are_bounded() -> None:
    got = findings(LOG_GROUP, {"name": "bad name " * 50})
    assert len(got) == 1
    quoted = got[0].split("=", 1)[1].split(": logs.", 1)[0]
    assert quoted.endswith("(450 chars)") and len(quoted) <= 80 + len(" (450 chars)")


# --- the Java pattern translation ------------------------------------------------------------


def test_translate_java_constructs() -> None:
    # A surrogate pair in a Java class is one supplementary code point.
    java = "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*"
    regex = re.compile(translate(java), re.ASCII)
    assert regex.fullmatch("plain text \U0001f600")
    assert not regex.fullmatch("bell \x07")
    # \p{Print} is ASCII 0x20-0x7E in Java (POSIX classes are US-ASCII only)
    regex = re.compile(translate("\\p{Print}+"), re.ASCII)
    assert regex.fullmatch("Scale out 1") and not regex.fullmatch("é")
    # Inline flags mid-pattern hold to the end of their group (Java); Python scopes them.
    budget = "^(?![^:\\\\]*/action/|(?i).*<script>.*</script>.*)[^:\\\\]+$"
    regex = re.compile(translate(budget), re.ASCII)
    assert regex.fullmatch("orders-monthly")
    assert not regex.fullmatch("x<SCRIPT>y</script>")
    assert not regex.fullmatch("a:b")
    # \w is ASCII in Java: an IAM name with "é" is refused.
    regex = re.compile(translate("[\\w+=,.@-]+"), re.ASCII)
    assert regex.fullmatch("orders-role") and not regex.fullmatch("rôle")
    for construct in ("[a-z&&[^b]]", "[a-z[A-Z]]", "\\Gx", "[\\P{L}]"):
        assert isinstance(compiled(construct), str), construct


def _reachable_patterns(shape: Shape, seen: set[str]) -> Iterator[str]:
    if shape.name in seen:
        return
    seen.add(shape.name)
    if "pattern" in shape.metadata:
        yield shape.metadata["pattern"]
    if isinstance(shape, StructureShape):
        for member in shape.members.values():
            yield from _reachable_patterns(member, seen)
    elif shape.type_name == "list":
        yield from _reachable_patterns(shape.member, seen)  # type: ignore[attr-defined]
    elif shape.type_name == "map":
        yield from _reachable_patterns(shape.key, seen)  # type: ignore[attr-defined]
        yield from _reachable_patterns(shape.value, seen)  # type: ignore[attr-defined]


def _targets(
    api_service: str, operation: str, spec: F, shape: Shape, label: str
) -> Iterator[Shape]:
    for raw in spec.fields.values():
        fspec = as_f(raw)
        target = resolve(shape, fspec.path, label)
        yield target.shape
        inner = target.shape
        while inner.type_name == "list":
            inner = inner.member  # type: ignore[attr-defined]
        if inner.type_name == "map":
            inner = inner.value  # type: ignore[attr-defined]
        if fspec.fields and isinstance(inner, StructureShape):
            yield from _targets(api_service, operation, fspec, inner, target.label)


def test_every_pattern_of_a_mapped_member_translates_or_is_listed() -> None:
    missing = []
    for kind, api in KINDS.items():
        for operation, spec in requests(api):
            root = input_shape(api.service, operation)
            for shape in _targets(api.service, operation, spec, root, ""):
                for pattern in _reachable_patterns(shape, set()):
                    if isinstance(compiled(pattern), str) and pattern not in UNCHECKED_PATTERNS:
                        missing.append((kind, pattern, compiled(pattern)))
    assert missing == []


# --- the table against the Pulumi SDK and the models ------------------------------------------


def _args_class(token: str) -> type:
    pkg, module, name = token.split(":")
    python_module = module.split("/")[0]
    if keyword.iskeyword(python_module):  # aws:lambda/... lives in pulumi_aws.lambda_
        python_module += "_"
    package = importlib.import_module(f"pulumi_{pkg}.{python_module}")
    resource = getattr(package, name)
    source = inspect.getsource(resource._internal_init)
    assert f"'{token}'" in source, f"{resource} is not {token}"
    home = inspect.getmodule(resource)
    assert home is not None
    args: type = getattr(home, f"{name}InitArgs", None) or getattr(home, f"{name}Args")
    assert args.__module__ == home.__name__
    return args


def _inputs(args: type) -> dict[str, str]:
    """Wire name -> the annotation text of each input of a Pulumi input type."""
    names = pulumi_types.input_type_py_to_pulumi_names(args)
    params = inspect.signature(args.__init__).parameters  # type: ignore[misc]
    return {names.get(py, py): str(p.annotation) for py, p in params.items() if py != "__self__"}


def _nested(package: Any, annotation: str) -> list[type]:
    return [getattr(package, n) for n in sorted(set(re.findall(r"'(\w+Args)'", annotation)))]


def _check_fields(package: Any, args: type, spec: F, where: str, problems: list[str]) -> None:
    inputs = _inputs(args)
    for name, raw in spec.fields.items():
        if name not in inputs:
            problems.append(f"{where}: {args.__name__} has no input {name!r}")
            continue
        fspec = as_f(raw)
        nested = _nested(package, inputs[name])
        if fspec.fields and fspec is not IDENTITY:
            if not nested:
                problems.append(f"{where}.{name}: not an object in Pulumi")
            for inner in nested:
                _check_fields(package, inner, fspec, f"{where}.{name}", problems)
        if fspec.keyed:
            for inner in nested:
                for field in fspec.keyed:
                    if field not in _inputs(inner):
                        problems.append(f"{where}.{name}: {inner.__name__} has no {field!r}")


def test_table_names_real_pulumi_inputs_and_api_members() -> None:
    problems: list[str] = []
    for kind, api in KINDS.items():
        args = _args_class(kind)
        package = importlib.import_module(args.__module__.rsplit(".", 1)[0])
        _check_fields(package, args, F("", fields=api.fields), kind, problems)
        for name in [*api.defaults, *api.unchecked]:
            if name not in _inputs(args):
                problems.append(f"{kind}: {args.__name__} has no input {name!r}")
        for operation, spec in requests(api):
            try:
                root = input_shape(api.service, operation)
                list(_targets(api.service, operation, spec, root, ""))
            except Exception as error:  # every mapping error is reported
                problems.append(f"{kind}: {api.service}.{operation}: {error}")
    assert problems == []
    assert not set(KINDS) & set(UNMAPPED)
    assert len(KINDS) >= 30


def test_a_wrong_member_path_is_caught() -> None:
    """The table test above reads paths through `resolve`, which refuses unknown members."""
    from policies.rules.api_shapes import PathError

    with pytest.raises(PathError):
        resolve(input_shape("cloudwatch", "PutMetricAlarm"), "Periods")
    with pytest.raises(PathError):
        resolve(input_shape("backup", "CreateBackupPlan"), "BackupPlan.Rule[].RuleName")


# --- the shipped and example graphs ------------------------------------------------------------


@pytest.fixture(scope="module")
def graphs(every_stack: list[SynthResult]) -> list[dict[str, Any]]:
    return [r.graph for r in every_stack]


def _aws_resources(graphs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for graph in graphs:
        for r in graph["resources"]:
            if r["custom"] and not r.get("read") and r["type"].startswith("aws:"):
                yield r


def test_every_kind_of_the_graphs_is_mapped_or_listed(graphs: list[dict[str, Any]]) -> None:
    kinds = {r["type"] for r in _aws_resources(graphs)}
    assert len(kinds) > 50
    assert sorted(kinds - set(KINDS) - set(UNMAPPED)) == []


def _unknown_keys(value: Any, spec: F, where: str) -> Iterator[str]:
    if spec is IDENTITY or not spec.fields or spec.pairs or spec.keyed:
        return
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict):
            continue
        for key, inner in item.items():
            if key in spec.fields:
                yield from _unknown_keys(inner, as_f(spec.fields[key]), f"{where}.{key}")
            elif key not in spec.unchecked:
                yield f"{where}.{key}"


def test_every_input_the_graphs_carry_is_mapped_or_unchecked(graphs: list[dict[str, Any]]) -> None:
    unknown = set()
    for r in _aws_resources(graphs):
        api = KINDS.get(r["type"])
        if api is None:
            continue
        for key, value in r["inputs"].items():
            if key in api.fields:
                unknown |= set(_unknown_keys(value, as_f(api.fields[key]), f"{r['type']} {key}"))
            elif key not in api.unchecked and key not in COMMON_UNCHECKED:
                unknown.add(f"{r['type']} {key}")
    assert sorted(unknown) == []


def test_shipped_and_example_graphs_have_no_api_model_finding(graphs: list[dict[str, Any]]) -> None:
    from policies.rules.core import evaluate

    found = [f.message for g in graphs for f in evaluate(g, RULES)]
    assert found == []


def test_event_targets_carry_short_ids(graphs: list[dict[str, Any]]) -> None:
    """pulumi-aws auto-names an unset target id after the resource, up to 255 characters;
    PutTargets' Target.Id is at most 64 of [.-_A-Za-z0-9] (TargetId): the bundle sets its own."""
    kind = "aws:cloudwatch/eventTarget:EventTarget"
    ids = [r["inputs"].get("targetId") for r in _aws_resources(graphs) if r["type"] == kind]
    assert ids
    assert all(isinstance(i, str) and re.fullmatch(r"[.\-_A-Za-z0-9]{1,64}", i) for i in ids), ids
