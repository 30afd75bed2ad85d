"""The security and audit baseline and the cost guards under mocks: the trail, its locked
bucket and the CIS alarms, AWS Config in both regions (global resources once) delivering to
its own unlocked bucket, conformance packs from the config, GuardDuty routing, Security Hub,
Access Analyzer, budgets and anomaly detection; and the modes (create, existing, off) an
account that already has some of these singletons needs."""

from __future__ import annotations

import json
from collections.abc import Callable
from fnmatch import fnmatch
from typing import Any

import pytest
import yaml

from components.conformance import PACKS
from components.security_baseline import GUARDDUTY_BANDS, GUARDDUTY_FEATURES
from model.config import StackConfig
from model.loader import ConfigError, load_file, load_mapping
from policies.evaluate import evaluate_graph
from scripts import mock_aws
from scripts.engine import SynthResult, synth
from tests.conftest import ConfigWriter, only, read_stack_document, resources

TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RECORDER = "aws:cfg/recorder:Recorder"
STATUS = "aws:cfg/recorderStatus:RecorderStatus"
CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
PACK = "aws:cfg/conformancePack:ConformancePack"
DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"
HUB = "aws:securityhub/account:Account"
STANDARD = "aws:securityhub/standardsSubscription:StandardsSubscription"
ANALYZER = "aws:accessanalyzer/analyzer:Analyzer"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
BUDGET = "aws:budgets/budget:Budget"
ACCOUNT = "123456789012"
CLOUDTRAIL = "cloudtrail.amazonaws.com"


def inputs_of(result: SynthResult, typ: str, field: str, value: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [
        r["inputs"] for r in resources(result, typ) if r["inputs"].get(field) == value
    ]
    (match,) = matches
    return match


def topics(result: SynthResult) -> dict[str, str]:
    return dict(result.outputs["alarm_topics"])


# -- the trail and its bucket ---------------------------------------------------------------


def test_one_multi_region_trail_validated_and_encrypted_in_the_primary(
    synthesized: dict[str, SynthResult],
) -> None:
    primary = synthesized["primary"]
    trail = only(primary, TRAIL)["inputs"]
    assert trail["name"] == "reskflow-audit"
    assert trail["isMultiRegionTrail"] is True
    assert trail["includeGlobalServiceEvents"] is True
    assert trail["enableLogFileValidation"] is True
    assert trail["isOrganizationTrail"] is False
    assert trail["kmsKeyId"] == primary.outputs["kms_key_arn"]
    assert trail["s3BucketName"] == "reskflow-audit-us-east-1-123456789012"
    assert trail["cloudWatchLogsGroupArn"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/reskflow/production/cloudtrail:*"
    )
    # The dr stack has no trail of its own: the primary's records every region.
    assert not resources(synthesized["dr"], TRAIL)
    # CloudTrail may encrypt with the primary's key, for this trail only: "As a security best
    # practice, add an aws:SourceArn condition key to the KMS key policy. [...] The value of
    # aws:SourceArn is always the trail ARN" (CloudTrail User Guide, "Configure AWS KMS key
    # policies for CloudTrail"; aws:SourceAccount is "supported, but not recommended").
    key = json.loads(only(primary, "aws:kms/key:Key", "key")["inputs"]["policy"])
    cloudtrail = [s for s in key["Statement"] if s["Principal"] == {"Service": CLOUDTRAIL}]
    assert sorted(s["Action"] for s in cloudtrail) == ["kms:DescribeKey", "kms:GenerateDataKey*"]
    for statement in cloudtrail:
        assert statement["Condition"]["StringEquals"] == {
            "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/reskflow-audit"
        }
        assert (
            statement["Condition"]["StringEquals"]["aws:SourceArn"]
            == (only(primary, TRAIL)["computed"]["arn"])
        )
    (grant,) = [s for s in cloudtrail if s["Action"] == "kms:GenerateDataKey*"]
    assert grant["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:123456789012:trail/*"
    }
    dr_key = json.loads(only(synthesized["dr"], "aws:kms/key:Key", "key")["inputs"]["policy"])
    assert not [s for s in dr_key["Statement"] if "CloudTrail" in s["Sid"]]


def _bucket_parts(result: SynthResult, name: str) -> dict[str, dict[str, Any]]:
    """The configuration resources of one bucket, by kind."""
    kinds = {
        "lock": LOCK,
        "logging": "aws:s3/bucketLogging:BucketLogging",
        "lifecycle": "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "encryption": "aws:s3/bucketServerSideEncryptionConfiguration:"
        "BucketServerSideEncryptionConfiguration",
        "policy": "aws:s3/bucketPolicy:BucketPolicy",
        "versioning": "aws:s3/bucketVersioning:BucketVersioning",
        "public_access": "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    }
    parts = {}
    for part, typ in kinds.items():
        found = [r["inputs"] for r in resources(result, typ) if r["inputs"]["bucket"] == name]
        if found:
            (parts[part],) = found
    return parts


def test_audit_bucket_is_locked_in_compliance_mode_logged_and_protected(
    synthesized: dict[str, SynthResult],
) -> None:
    result = synthesized["primary"]
    name = f"reskflow-audit-us-east-1-{ACCOUNT}"
    bucket = inputs_of(result, BUCKET, "bucket", name)
    assert bucket["objectLockEnabled"] is True
    parts = _bucket_parts(result, name)
    assert parts["lock"]["rule"] == {"defaultRetention": {"days": 365, "mode": "COMPLIANCE"}}
    lock = next(r for r in resources(result, LOCK) if r["inputs"]["bucket"] == name)
    assert lock["options"]["protect"] is True
    assert only(result, BUCKET, "security-audit")["options"]["protect"] is True
    assert parts["logging"]["targetBucket"] == f"reskflow-access-logs-us-east-1-{ACCOUNT}"
    assert parts["lifecycle"]["rules"][0]["expiration"] == {"days": 365}
    default = parts["encryption"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"kmsMasterKeyId": result.outputs["kms_key_arn"], "sseAlgorithm": "aws:kms"}
    sids = {s["Sid"]: s for s in json.loads(parts["policy"]["policy"])["Statement"]}
    # The trail's bucket only: AWS Config has a bucket of its own (no Object Lock).
    assert set(sids) == {
        "DenyInsecureTransport",
        "CloudTrailChecksBucketAcl",
        "CloudTrailDeliversLogs",
    }
    delivery = sids["CloudTrailDeliversLogs"]
    assert delivery["Resource"] == f"arn:aws:s3:::{name}/cloudtrail/AWSLogs/*"
    assert delivery["Condition"]["StringEquals"]["aws:SourceArn"] == (
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/reskflow-audit"
    )
    assert (
        delivery["Condition"]["StringEquals"]["aws:SourceArn"]
        == (only(result, TRAIL)["computed"]["arn"])
    )
    assert result.outputs["security"]["audit_bucket"] == name
    # The dr stack has no trail, so no audit bucket.
    assert not [
        b for b in resources(synthesized["dr"], BUCKET) if "-audit-" in b["inputs"]["bucket"]
    ]


@pytest.mark.parametrize(("stack", "region"), [("primary", "us-east-1"), ("dr", "us-west-2")])
def test_config_delivers_to_its_own_unlocked_bucket_with_the_documented_policy(
    synthesized: dict[str, SynthResult], stack: str, region: str
) -> None:
    """AWS::Config::DeliveryChannel: "AWS Config does not support the delivery channel to an
    Amazon S3 bucket where object lock is enabled"."""
    result = synthesized[stack]
    name = f"reskflow-config-{region}-{ACCOUNT}"
    channel = only(result, CHANNEL)["inputs"]
    assert channel["s3BucketName"] == name
    assert channel["s3KeyPrefix"] == "config"
    assert channel["s3KmsKeyArn"] == result.outputs["kms_key_arn"]
    bucket = inputs_of(result, BUCKET, "bucket", name)
    assert bucket.get("objectLockEnabled") is not True
    assert only(result, BUCKET, "security-config")["options"]["protect"] is True
    parts = _bucket_parts(result, name)
    assert "lock" not in parts
    assert parts["versioning"]["versioningConfiguration"] == {"status": "Enabled"}
    assert parts["public_access"] == {
        "bucket": name,
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    assert parts["logging"]["targetBucket"] == f"reskflow-access-logs-{region}-{ACCOUNT}"
    default = parts["encryption"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"kmsMasterKeyId": result.outputs["kms_key_arn"], "sseAlgorithm": "aws:kms"}
    # PCI DSS 4.0 10.5.1: "Retain audit log history for at least 12 months".
    assert parts["lifecycle"]["rules"][0]["expiration"] == {"days": 365}
    # AWS Config Developer Guide, "Permissions for the Amazon S3 Bucket for the AWS Config
    # Delivery Channel", the policy it prints (with the prefix and this account filled in).
    policy = json.loads(parts["policy"]["policy"])["Statement"]
    arn = f"arn:aws:s3:::{name}"
    config_statements = [s for s in policy if s["Sid"].startswith("AWSConfig")]
    assert sorted(config_statements, key=lambda s: s["Sid"]) == [
        {
            "Sid": "AWSConfigBucketDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/config/AWSLogs/123456789012/Config/*",
            "Condition": {
                "StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "AWS:SourceAccount": "123456789012",
                }
            },
        },
        {
            "Sid": "AWSConfigBucketExistenceCheck",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "s3:ListBucket",
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"}},
        },
        {
            "Sid": "AWSConfigBucketPermissionsCheck",
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"}},
        },
    ]
    # The recorder's role: "IAM Role Policy for your S3 Bucket" and "IAM Role Policy for KMS
    # Key" of "Permissions for the IAM Role Assigned to AWS Config", plus s3:ListBucket
    # (HeadBucket).
    role_policy = json.loads(
        only(result, "aws:iam/rolePolicy:RolePolicy", "security-config-delivery-policy")["inputs"][
            "policy"
        ]
    )
    assert role_policy["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:PutObjectAcl"],
            "Resource": f"{arn}/config/AWSLogs/123456789012/*",
            "Condition": {"StringLike": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        },
        {"Effect": "Allow", "Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Resource": arn},
        {
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": result.outputs["kms_key_arn"],
        },
    ]
    # The channel waits for the bucket's last configuration step and the role's rights:
    # PutDeliveryChannel checks them (InsufficientDeliveryPolicyException).
    waits = only(result, CHANNEL)["options"]["depends_on"]
    lifecycle = next(
        r
        for r in resources(
            result, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
        )
        if r["inputs"]["bucket"] == name
    )
    assert lifecycle["urn"] in waits
    assert (
        only(result, "aws:iam/rolePolicy:RolePolicy", "security-config-delivery-policy")["urn"]
        in waits
    )
    assert result.outputs["security"]["config_bucket"] == name


# CIS AWS Foundations Benchmark v3.0.0, section 4 (Monitoring): the filter pattern each
# control's remediation creates, written out as the benchmark prints it (transcribed in
# prowler-cloud/prowler, prowler/compliance/aws/cis_3.0_aws.json). Not derived from the code.
CIS_V3_PATTERNS = {
    "4.2": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
    '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    "4.3": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
    '$.eventType != "AwsServiceEvent" }',
    "4.4": "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||"
    "($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||"
    "($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||"
    "($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||"
    "($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
    "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||"
    "($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    "4.5": "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
    "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
    "($.eventName = StopLogging) }",
    "4.6": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    "4.7": "{($.eventSource = kms.amazonaws.com) && "
    "(($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    "4.8": "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || "
    "($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || "
    "($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || "
    "($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || "
    "($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    "4.9": "{ ($.eventSource = config.amazonaws.com) && "
    "(($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||"
    "($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    "4.10": "{ ($.eventName = AuthorizeSecurityGroupIngress) || "
    "($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) "
    "|| ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || "
    "($.eventName = DeleteSecurityGroup) }",
    "4.11": "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
    "($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || "
    "($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    "4.12": "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) "
    "|| ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || "
    "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    "4.13": "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || "
    "($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || "
    "($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || "
    "($.eventName = DisassociateRouteTable) }",
    "4.14": "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || "
    "($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || "
    "($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) "
    "|| ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || "
    "($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || "
    "($.eventName = EnableVpcClassicLink) }",
    "4.15": "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "
    '"AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") '
    '|| ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || '
    '($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || '
    '($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || '
    '($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || '
    '($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || '
    '($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || '
    '($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || '
    '($.eventName = "UpdateOrganizationalUnit")) }',
}
# 4.1 as the benchmark prints it: every term joined by ||, so it matches any event whose
# source is not delivery.logs. The bundle joins the exclusions with && (see
# components/security_baseline.py), the one deliberate difference.
CIS_V3_4_1_PRINTED = (
    '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || '
    '($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }'
)
CIS_4_1_DEPLOYED = (
    '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && '
    '($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }'
)
# Each control's severity (ours: root use, trail changes and key deletion page) and the
# Security Hub control of the same filter (AWS Security Hub User Guide, CloudWatch controls).
CIS_ALARMS = {
    "4.1": ("warning", "CloudWatch.2"),
    "4.2": ("error", "CloudWatch.3"),
    "4.3": ("critical", "CloudWatch.1"),
    "4.4": ("warning", "CloudWatch.4"),
    "4.5": ("critical", "CloudWatch.5"),
    "4.6": ("warning", "CloudWatch.6"),
    "4.7": ("critical", "CloudWatch.7"),
    "4.8": ("warning", "CloudWatch.8"),
    "4.9": ("error", "CloudWatch.9"),
    "4.10": ("warning", "CloudWatch.10"),
    "4.11": ("warning", "CloudWatch.11"),
    "4.12": ("warning", "CloudWatch.12"),
    "4.13": ("warning", "CloudWatch.13"),
    "4.14": ("warning", "CloudWatch.14"),
    "4.15": ("error", None),
}


def _normalized(pattern: str) -> str:
    """CloudWatch Logs ignores the spaces between a filter pattern's terms."""
    return "".join(pattern.split())


def test_one_metric_filter_and_alarm_per_cis_control(
    synthesized: dict[str, SynthResult],
) -> None:
    primary = synthesized["primary"]
    filters = {r["inputs"]["name"]: r["inputs"] for r in resources(primary, FILTER)}
    alarms = {
        r["inputs"]["tags"]["resilience-alarm"]: r["inputs"]
        for r in resources(primary, ALARM)
        if r["inputs"].get("namespace") == "Resilience/CloudTrail"
    }
    slugs = {f"cis-{control.replace('.', '-')}": control for control in CIS_ALARMS}
    assert set(filters) == {f"reskflow-primary-{slug}" for slug in slugs}
    assert set(alarms) == set(slugs)
    topic = topics(primary)
    patterns = {**CIS_V3_PATTERNS, "4.1": CIS_4_1_DEPLOYED}
    for slug, control in slugs.items():
        metric_filter = filters[f"reskflow-primary-{slug}"]
        assert metric_filter["logGroupName"] == "/reskflow/production/cloudtrail"
        # Character for character as the benchmark prints it (4.1: see CIS_4_1_DEPLOYED).
        assert metric_filter["pattern"] == patterns[control], control
        metric = metric_filter["metricTransformation"]
        assert (metric["namespace"], metric["value"]) == ("Resilience/CloudTrail", "1")
        alarm = alarms[slug]
        assert alarm["metricName"] == metric["name"]
        severity, hub = CIS_ALARMS[control]
        assert alarm["alarmActions"] == alarm["okActions"] == [topic[severity]]
        # The benchmark's alarm: Sum over 300 s, threshold 1, GreaterThanOrEqualToThreshold,
        # one evaluation period.
        assert (
            alarm["statistic"],
            alarm["period"],
            alarm["threshold"],
            alarm["comparisonOperator"],
            alarm["evaluationPeriods"],
        ) == ("Sum", 300, 1, "GreaterThanOrEqualToThreshold", 1)
        assert alarm["treatMissingData"] == "notBreaching"
        # The stack-wide runbook (monitoring.runbook_url), anchored at the control.
        assert (
            f"Runbook: https://runbooks.reskflow.example.com/platform#{slug}"
            in (alarm["alarmDescription"])
        )
        assert (f"AWS Security Hub {hub}" in alarm["alarmDescription"]) is (hub is not None)
    # 4.1 differs from the printed pattern only in its operators: undo the grouping and the two
    # && and the benchmark's text comes back.
    undone = (
        _normalized(CIS_4_1_DEPLOYED)
        .replace("{((", "{(")
        .replace('"AccessDenied*"))', '"AccessDenied*")')
        .replace("&&", "||")
    )
    assert undone == _normalized(CIS_V3_4_1_PRINTED)
    # The alarms join the inventory and the monthly estimate: 15 x USD 0.10.
    inventory = [e for e in primary.outputs["alarms"] if e["id"].startswith("cis-")]
    assert len(inventory) == 15 and sum(e["monthly_usd"] for e in inventory) == pytest.approx(1.5)
    assert not [e for e in synthesized["dr"].outputs["alarms"] if e["id"].startswith("cis-")]


# -- AWS Config ---------------------------------------------------------------------------


def test_recorder_in_both_regions_global_resources_recorded_once(
    synthesized: dict[str, SynthResult],
) -> None:
    recorded = {}
    for stack, region in (("primary", "us-east-1"), ("dr", "us-west-2")):
        result = synthesized[stack]
        recorder = only(result, RECORDER)
        assert recorder["region"] == region
        group = recorder["inputs"]["recordingGroup"]
        assert group["allSupported"] is True
        recorded[stack] = group["includeGlobalResourceTypes"]
        status = only(result, STATUS)["inputs"]
        assert status == {"isEnabled": True, "name": f"reskflow-{stack}"}
        channel = only(result, CHANNEL)
        assert channel["inputs"]["snapshotDeliveryProperties"] == {
            "deliveryFrequency": "TwentyFour_Hours"
        }
        # "Before you can create a delivery channel, you must create a configuration
        # recorder" (AWS::Config::DeliveryChannel); the status starts it after the channel.
        assert recorder["urn"] in channel["options"]["depends_on"]
        assert channel["urn"] in only(result, STATUS)["options"]["depends_on"]
    assert recorded == {"primary": True, "dr": False}


def test_conformance_packs_take_their_parameters_from_the_config(
    synthesized: dict[str, SynthResult],
) -> None:
    for stack, peer in (("primary", "us-west-2"), ("dr", "us-east-1")):
        result = synthesized[stack]
        packs = {
            r["inputs"]["name"]: yaml.safe_load(r["inputs"]["templateBody"])["Resources"]
            for r in resources(result, "aws:cfg/conformancePack:ConformancePack")
        }
        prefix = f"reskflow-{stack}"
        assert set(packs) == {
            f"{prefix}-aws-backup",
            f"{prefix}-pci-dss-4-0",
            f"{prefix}-cis-aws-3-0",
        }
        backup = packs[f"{prefix}-aws-backup"]
        rds = backup["RdsResourcesProtectedByBackupPlan"]["Properties"]
        assert rds["Source"] == {
            "Owner": "AWS",
            "SourceIdentifier": "RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
        }
        # Copies to the other region, in a vault locked as the config says (7..2555 days).
        assert rds["InputParameters"] == {
            "crossRegionList": peer,
            "backupVaultLockCheck": "True",
            "minRetentionDays": "7",
            "maxRetentionDays": "2555",
        }
        # The shortest retention of any rule (daily, 7 days); the least frequent class is
        # backed up weekly (configuration).
        plan = backup["BackupPlanMinFrequencyAndMinRetentionCheck"]["Properties"]
        assert plan["InputParameters"] == {
            "requiredFrequencyUnit": "hours",
            "requiredFrequencyValue": "168",
            "requiredRetentionDays": "7",
        }
        pci = packs[f"{prefix}-pci-dss-4-0"]
        retention = pci["CwLoggroupRetentionPeriodCheck"]["Properties"]["InputParameters"]
        assert retention == {"MinRetentionTime": "30"}  # the policy pack's minimum
        # Account-wide rules (root user, IAM, the trail) only where global resources are.
        assert ("RootAccountMfaEnabled" in pci) is (stack == "primary")
        assert ("MultiRegionCloudTrailEnabled" in packs[f"{prefix}-cis-aws-3-0"]) is (
            stack == "primary"
        )
    # Each pack waits for the recorder to run.
    primary = synthesized["primary"]
    status = only(primary, "aws:cfg/recorderStatus:RecorderStatus")
    for pack in resources(primary, "aws:cfg/conformancePack:ConformancePack"):
        assert status["urn"] in pack["options"]["depends_on"]
        assert len(pack["inputs"]["templateBody"]) < 51_200  # AWS's inline template limit
    assert set(PACKS) == {"aws-backup", "cis-aws-3.0", "pci-dss-4.0"}


# -- GuardDuty, Security Hub, Access Analyzer ------------------------------------------------


@pytest.mark.parametrize("stack", ["primary", "dr"])
def test_guardduty_findings_reach_the_severity_topics_by_band(
    synthesized: dict[str, SynthResult], stack: str
) -> None:
    result = synthesized[stack]
    detector = only(result, "aws:guardduty/detector:Detector")
    assert detector["inputs"] == {"enable": True, "findingPublishingFrequency": "FIFTEEN_MINUTES"}
    features = {
        r["inputs"]["name"]: r["inputs"]["status"]
        for r in resources(result, "aws:guardduty/detectorFeature:DetectorFeature")
    }
    assert set(features) == set(GUARDDUTY_FEATURES)
    assert features["S3_DATA_EVENTS"] == features["RDS_LOGIN_EVENTS"] == "ENABLED"
    assert features["EKS_AUDIT_LOGS"] == features["RUNTIME_MONITORING"] == "DISABLED"
    rules = {
        r["name"]: r
        for r in resources(result, "aws:cloudwatch/eventRule:EventRule")
        if "guardduty" in r["name"]
    }
    targets = {
        r["inputs"]["rule"]: r["inputs"]["arn"]
        for r in resources(result, "aws:cloudwatch/eventTarget:EventTarget")
    }
    topic = topics(result)
    routed = {}
    for band in GUARDDUTY_BANDS:
        rule = rules[f"reskflow-{stack}-security-guardduty-{band}"]
        pattern = json.loads(rule["inputs"]["eventPattern"])
        assert pattern["source"] == ["aws.guardduty"]
        assert pattern["detail-type"] == ["GuardDuty Finding"]
        # Named, not autonamed: `<logical name>-<7 hex>` passes EventBridge's 64 characters
        # only for short system names (PutRule, Name: "Maximum length of 64").
        assert rule["inputs"]["name"] == f"reskflow-{stack}-guardduty-{band}"
        routed[band] = (
            pattern["detail"]["severity"][0]["numeric"],
            targets[rule["inputs"]["name"]],
        )
    assert routed == {
        "high": ([">=", 7], topic["critical"]),
        "medium": ([">=", 4, "<", 7], topic["warning"]),
        "low": (["<", 4], topic["info"]),
    }
    # The encrypted topic accepts the rule and the key lets EventBridge use it. EventBridge
    # User Guide, Amazon SNS permissions: "aws:SourceArn": "arn:aws:events:region:account-id:
    # rule/rule-name"; SNS Developer Guide: no aws:Source* key for EventBridge in a key policy.
    region = {"primary": "us-east-1", "dr": "us-west-2"}[stack]
    key = json.loads(only(result, "aws:kms/key:Key", "key")["inputs"]["policy"])
    events_key = [
        s for s in key["Statement"] if "events.amazonaws.com" in json.dumps(s["Principal"])
    ]
    assert events_key == [
        {
            "Sid": "EventBridgeRulesUseKeyForThisAccountsTopics",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:sns:topicArn": f"arn:aws:sns:{region}:123456789012:*"
                }
            },
        }
    ]
    policies = {
        p["inputs"]["arn"]: json.loads(p["inputs"]["policy"])
        for p in resources(result, "aws:sns/topicPolicy:TopicPolicy")
    }
    for band in GUARDDUTY_BANDS:
        rule = rules[f"reskflow-{stack}-security-guardduty-{band}"]
        target = targets[rule["inputs"]["name"]]
        assert fnmatch(
            target, events_key[0]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:sns:topicArn"]
        )
        grant = next(
            s
            for s in policies[target]["Statement"]
            if s.get("Principal") == {"Service": "events.amazonaws.com"}
        )
        assert grant["Action"] == "SNS:Publish"
        pattern = grant["Condition"]["ArnLike"]["aws:SourceArn"]
        assert pattern == f"arn:aws:events:{region}:123456789012:rule/*"
        assert fnmatch(rule["computed"]["arn"], pattern)


def test_security_hub_standards_and_access_analyzer_in_each_region(
    synthesized: dict[str, SynthResult],
) -> None:
    for stack, region in (("primary", "us-east-1"), ("dr", "us-west-2")):
        result = synthesized[stack]
        hub = only(result, "aws:securityhub/account:Account")["inputs"]
        assert hub["enableDefaultStandards"] is False
        assert hub["controlFindingGenerator"] == "SECURITY_CONTROL"
        arns = {
            r["inputs"]["standardsArn"]
            for r in resources(
                result, "aws:securityhub/standardsSubscription:StandardsSubscription"
            )
        }
        assert arns == {
            f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0",
            f"arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0",
            f"arn:aws:securityhub:{region}::standards/pci-dss/v/4.0.1",
        }
        analyzer = only(result, "aws:accessanalyzer/analyzer:Analyzer")
        assert analyzer["inputs"] == {
            "analyzerName": f"reskflow-{stack}-account",
            "type": "ACCOUNT",
        }
        assert analyzer["region"] == region


# -- cost guards ------------------------------------------------------------------------------


def test_budget_and_anomaly_alerts_reach_the_warning_topic(
    synthesized: dict[str, SynthResult],
) -> None:
    primary = synthesized["primary"]
    warning = topics(primary)["warning"]
    (budget,) = resources(primary, BUDGET)
    inputs = budget["inputs"]
    assert budget["region"] == "us-east-1"
    assert (inputs["name"], inputs["limitAmount"], inputs["limitUnit"], inputs["timeUnit"]) == (
        "reskflow-monthly",
        "10000.00",
        "USD",
        "MONTHLY",
    )
    assert inputs["costFilters"] == [{"name": "TagKeyValue", "values": ["user:system$reskflow"]}]
    assert [
        (n["notificationType"], n["threshold"], n["subscriberSnsTopicArns"])
        for n in inputs["notifications"]
    ] == [("FORECASTED", 80, [warning]), ("FORECASTED", 100, [warning]), ("ACTUAL", 100, [warning])]
    monitor = only(primary, "aws:costexplorer/anomalyMonitor:AnomalyMonitor")["inputs"]
    assert monitor["monitorType"] == "CUSTOM"
    assert json.loads(monitor["monitorSpecification"]) == {
        "Tags": {"Key": "system", "MatchOptions": ["EQUALS"], "Values": ["reskflow"]}
    }
    subscription = only(primary, "aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert subscription["inputs"]["frequency"] == "IMMEDIATE"
    assert subscription["inputs"]["subscribers"] == [{"address": warning, "type": "SNS"}]
    assert subscription["inputs"]["thresholdExpression"]["dimension"]["values"] == ["100"]
    # Budgets and Cost Anomaly Detection publish into the encrypted warning topic: the topic
    # policy and the key policy let them, for the primary only.
    policy = json.loads(
        next(
            r["inputs"]["policy"]
            for r in resources(primary, "aws:sns/topicPolicy:TopicPolicy")
            if r["inputs"]["arn"] == warning
        )
    )
    publishers = next(
        s for s in policy["Statement"] if s["Sid"] == "AwsServicesOfThisAccountPublish"
    )
    assert {"budgets.amazonaws.com", "costalerts.amazonaws.com"} <= set(
        publishers["Principal"]["Service"]
    )
    key = json.loads(only(primary, "aws:kms/key:Key", "key")["inputs"]["policy"])
    sns = next(s for s in key["Statement"] if s["Sid"] == "AlarmAndServicePublishersUseKeyForSns")
    assert "costalerts.amazonaws.com" in sns["Principal"]["Service"]
    dr = synthesized["dr"]
    assert not resources(dr, BUDGET)
    assert not resources(dr, "aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert primary.outputs["cost"]["budgets"] == {
        "reskflow-monthly": {"monthly_usd": 10000, "tag": "user:system$reskflow"}
    }


def test_cost_guards_outside_us_east_1_use_a_billing_provider(
    synthesized: dict[str, SynthResult],
) -> None:
    minimal = synthesized["example-minimal"]
    monitor = only(minimal, "aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert monitor["region"] == "us-east-1"
    provider = next(
        r
        for r in resources(minimal, "pulumi:providers:aws")
        if r["name"] == "minimal-primary-billing"
    )
    assert monitor["provider"].startswith(provider["urn"])
    assert not resources(minimal, BUDGET)  # no amount configured: no budget


# -- variants ---------------------------------------------------------------------------------


def _edit(**sections: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        for key, value in sections.items():
            config[f"resilience:{key}"] = value

    return edit


def _modes(config_recorder: str, guardduty: str, security_hub: str, access_analyzer: str) -> Any:
    """The four singletons' modes, as a stack file writes them."""

    def edit(config: dict[str, Any]) -> None:
        security = dict(config.get("resilience:security", {}))
        security["config_recorder"] = {"mode": config_recorder}
        security["guardduty"] = {**security.get("guardduty", {}), "mode": guardduty}
        security["security_hub"] = {**security.get("security_hub", {}), "mode": security_hub}
        security["access_analyzer"] = {"mode": access_analyzer}
        if config_recorder == "off":
            security["conformance_packs"] = []
        config["resilience:security"] = security

    return edit


def _tags(result: SynthResult) -> dict[str, str]:
    prefix = f"{result.loaded.config.name}-{result.loaded.config.role.value}"
    provider = next(
        r for r in resources(result, "pulumi:providers:aws") if r["name"] == f"{prefix}-aws"
    )
    return dict(provider["inputs"]["defaultTags"]["tags"])


def _sids(result: SynthResult) -> set[str]:
    return {
        s["Sid"]
        for s in json.loads(only(result, "aws:kms/key:Key", "key")["inputs"]["policy"])["Statement"]
    }


def test_mode_create_builds_every_singleton(synthesized: dict[str, SynthResult]) -> None:
    """The shipped stacks take the default, create, for all four."""
    for stack in ("primary", "dr"):
        result = synthesized[stack]
        assert result.outputs["security"]["modes"] == dict.fromkeys(
            ("config_recorder", "guardduty", "security_hub", "access_analyzer"), "create"
        )
        for typ in (RECORDER, STATUS, CHANNEL, DETECTOR, HUB, ANALYZER):
            assert len(resources(result, typ)) == 1, typ
        assert len(resources(result, FEATURE)) == len(GUARDDUTY_FEATURES)
        assert "resilience-config-recorder" not in _tags(result)
        assert "AWSConfigKMSPolicy" in _sids(result)


# Control Tower enables AWS Config in governed regions; a delegated administrator enables
# GuardDuty and Security Hub for member accounts; the member still creates its own analyzer.
CONTROL_TOWER = ("existing", "existing", "existing", "create")


@pytest.mark.parametrize(
    "modes",
    [("existing",) * 4, ("off",) * 4, CONTROL_TOWER, ("create", "off", "create", "existing")],
    ids=["all-existing", "all-off", "control-tower-member", "standalone-without-guardduty"],
)
def test_modes_create_read_or_leave_out_each_singleton(
    write_config: ConfigWriter, modes: tuple[str, str, str, str]
) -> None:
    recorder, guardduty, hub, analyzer = modes
    result = synth(load_file(write_config(_modes(*modes), base="example-minimal")))
    security = result.outputs["security"]
    assert security["modes"] == dict(
        zip(("config_recorder", "guardduty", "security_hub", "access_analyzer"), modes, strict=True)
    )
    findings = [(f.rule_id, f.message) for f in evaluate_graph(result.graph).findings]

    # AWS Config: create builds recorder, channel, status and the Config bucket; existing and
    # off build none of them; packs need a recorder running (existing: the account's).
    built = recorder == "create"
    for typ in (RECORDER, STATUS, CHANNEL):
        assert bool(resources(result, typ)) is built, typ
    config_buckets = [b for b in resources(result, BUCKET) if "-config-" in b["inputs"]["bucket"]]
    assert bool(config_buckets) is built
    assert ("AWSConfigKMSPolicy" in _sids(result)) is built
    packs = resources(result, PACK)
    assert bool(packs) is (recorder != "off")
    for pack in packs:
        # The account's recorder is none of ours: the packs depend on nothing of the stack's.
        status_urns = {r["urn"] for r in resources(result, STATUS)}
        assert bool(set(pack["options"]["depends_on"]) & status_urns) is built
    assert (_tags(result).get("resilience-config-recorder") == "external") is (
        recorder == "existing"
    )
    recorder_findings = [m for r, m in findings if r == "aws-config-recorder-in-stack-region"]
    assert recorder_findings == (
        [
            "no AWS Config recorder in eu-west-1, the region this stack deploys into: its "
            "resources' configuration history and compliance go unrecorded"
        ]
        if recorder == "off"
        else []
    )

    # GuardDuty: create builds the detector and its plans; existing reads the region's
    # detector (its id routes nothing but is exported); both route findings; off: nothing.
    assert bool(resources(result, DETECTOR)) is (guardduty == "create")
    assert bool(resources(result, FEATURE)) is (guardduty == "create")
    routing = [r for r in resources(result, EVENT_RULE) if "guardduty" in r["name"]]
    assert len(routing) == (0 if guardduty == "off" else 3)
    if guardduty == "existing":
        # Read from the account (scripts/mock_aws.py answers as GetDetector would), with the
        # plans its manager enabled.
        assert (
            security["guardduty"]["detector_id"]
            == mock_aws._existing_detector("eu-west-1", {})["id"]
        )
        assert security["guardduty"]["features"] == [
            "EBS_MALWARE_PROTECTION",
            "EKS_AUDIT_LOGS",
            "LAMBDA_NETWORK_LOGS",
            "RDS_LOGIN_EVENTS",
            "S3_DATA_EVENTS",
        ]
    elif guardduty == "create":
        assert security["guardduty"]["detector_id"] == only(result, DETECTOR)["id"]
    else:
        assert "guardduty" not in security

    # Security Hub: create subscribes; existing reads the enabled standards and subscribes to
    # none (deleting an Account would disable the organization's hub); off: nothing.
    assert bool(resources(result, HUB)) is (hub == "create")
    assert bool(resources(result, STANDARD)) is (hub == "create")
    if hub == "existing":
        assert security["security_hub_standards"] == [
            "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
            "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices"
            "/v/1.0.0",
        ]
    elif hub == "off":
        assert "security_hub_standards" not in security

    # Access Analyzer: no data source reads an analyzer; existing builds none and says so.
    assert bool(resources(result, ANALYZER)) is (analyzer == "create")
    if analyzer == "existing":
        assert security["access_analyzer"] == "existing (not read: no data source)"

    # Nothing else is refused: existing and off are the account's business, except that a
    # region without AWS Config recording is a finding.
    assert [r for r, _ in findings if r != "aws-config-recorder-in-stack-region"] == []


def test_the_old_switches_are_refused_pointing_at_mode() -> None:
    base = read_stack_document("example-minimal")["config"]

    def problems(security: dict[str, Any]) -> list[str]:
        raw = {**base, "resilience:security": security}
        with pytest.raises(ConfigError) as error:
            load_mapping(raw, "Pulumi.bad.yaml")
        return str(error.value).splitlines()

    assert problems({"config_recorder": {"enabled": False}}) == [
        "Pulumi.bad.yaml: resilience:security.config_recorder.enabled: replaced by `mode` "
        "(create | existing | off): `enabled: false` (the recorder is managed elsewhere) is now "
        "`mode: existing`, `enabled: true` is `mode: create` (the default); `mode: off` records "
        "nothing"
    ]
    assert problems({"guardduty": {"enabled": False}}) == [
        "Pulumi.bad.yaml: resilience:security.guardduty.enabled: replaced by `mode` (create | "
        "existing | off): `enabled: false` is now `mode: off` (no detector, no routing), or "
        "`mode: existing` when the account already has a detector in the region"
    ]
    assert problems({"security_hub": {"enabled": False}}) == [
        "Pulumi.bad.yaml: resilience:security.security_hub.enabled: replaced by `mode` (create "
        "| existing | off): `enabled: false` is now `mode: off`, or `mode: existing` when "
        "Security Hub is already enabled in the account"
    ]
    assert problems({"access_analyzer": False}) == [
        "Pulumi.bad.yaml: resilience:security.access_analyzer: is a mapping now: "
        "`access_analyzer: false` is `access_analyzer: {mode: off}`, `true` is `{mode: "
        "create}` (the default); `{mode: existing}` when the account already has its analyzer "
        "in the region"
    ]
    assert problems({"guardduty": {"mode": "adopt"}}) == [
        "Pulumi.bad.yaml: resilience:security.guardduty.mode: must be 'create', 'existing' or "
        "'off', got 'adopt'"
    ]
    # Conformance packs are AWS Config rules: listing them with AWS Config off is a mistake.
    assert problems({"config_recorder": {"mode": "off"}, "conformance_packs": ["aws-backup"]}) == [
        "Pulumi.bad.yaml: resilience:security: conformance_packs: AWS Config conformance packs "
        'need a configuration recorder in the region ("The account must have a Configuration '
        'Recorder"); config_recorder.mode is off: set conformance_packs: [] or mode '
        "create/existing"
    ]


def test_an_unquoted_off_is_off(tmp_path: Any) -> None:
    """PyYAML (YAML 1.1) reads `mode: off` as false; the Pulumi CLI (YAML 1.2) as "off"."""
    document = read_stack_document("example-minimal")
    text = yaml.safe_dump(document, sort_keys=False) + (
        "  resilience:security:\n    access_analyzer:\n      mode: off\n"
    )
    path = tmp_path / "Pulumi.off.yaml"
    path.write_text(text)
    config = load_file(path).config
    assert isinstance(config, StackConfig)
    assert config.security.access_analyzer.mode == "off"


def test_an_account_with_an_organization_trail_and_no_cost_guards(
    write_config: ConfigWriter,
) -> None:
    loaded = load_file(
        write_config(
            _edit(
                security={
                    "trail": {"enabled": False},
                    "config_recorder": {"mode": "existing"},
                    "conformance_packs": [],
                    "guardduty": {"routing": {"low": None, "medium": "error"}},
                    "security_hub": {"mode": "off"},
                    "access_analyzer": {"mode": "off"},
                },
                cost={"anomaly": {"enabled": False}},
            )
        )
    )
    result = synth(loaded)
    for typ in (TRAIL, FILTER, RECORDER, PACK, HUB, ANALYZER, BUDGET, LOCK):
        assert not resources(result, typ), typ
    assert not resources(result, "aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert not [b for b in resources(result, BUCKET) if "-audit-" in b["inputs"]["bucket"]]
    assert not [b for b in resources(result, BUCKET) if "-config-" in b["inputs"]["bucket"]]
    assert not [e for e in result.outputs["alarms"] if e["id"].startswith("cis-")]
    assert result.outputs["cost"] is None
    # Nothing left to grant: no CloudTrail or Config statement, no cost publishers.
    key = json.loads(only(result, "aws:kms/key:Key", "key")["inputs"]["policy"])
    assert not [s for s in key["Statement"] if "CloudTrail" in s["Sid"] or "Config" in s["Sid"]]
    assert "budgets.amazonaws.com" not in json.dumps(key)
    # GuardDuty stays, routed as configured.
    targets = {
        r["name"].rsplit("-to-", 1)[-1]
        for r in resources(result, "aws:cloudwatch/eventTarget:EventTarget")
        if "guardduty" in r["name"]
    }
    assert targets == {"critical", "error"}
    # The stack declares the recorder managed elsewhere, and the policy pack accepts it.
    assert _tags(result)["resilience-config-recorder"] == "external"
    assert evaluate_graph(result.graph).findings == []


def test_custom_retention_organization_trail_and_budgets_by_service(
    write_config: ConfigWriter,
) -> None:
    loaded = load_file(
        write_config(
            _edit(
                security={
                    "trail": {"retention_days": 730, "organization": True},
                    "config_recorder": {"retention_days": 2555},
                },
                cost={
                    "monthly_budget_usd": 5000,
                    "service_budgets_usd": {"orders-api": 2000.5},
                    "forecast_alert_percent": [50, 80, 100],
                    "actual_alert_percent": [100, 120],
                    "anomaly": {"threshold_usd": 250},
                },
            )
        )
    )
    result = synth(loaded)
    assert only(result, TRAIL)["inputs"]["isOrganizationTrail"] is True
    (lock,) = resources(result, LOCK)
    assert lock["inputs"]["rule"] == {"defaultRetention": {"days": 730, "mode": "COMPLIANCE"}}
    config_bucket = _bucket_parts(result, f"reskflow-config-us-east-1-{ACCOUNT}")
    assert config_bucket["lifecycle"]["rules"][0]["expiration"] == {"days": 2555}
    budgets = {b["inputs"]["name"]: b["inputs"] for b in resources(result, BUDGET)}
    assert {n: (b["limitAmount"], b["costFilters"][0]["values"]) for n, b in budgets.items()} == {
        "reskflow-monthly": ("5000.00", ["user:system$reskflow"]),
        "reskflow-orders-api-monthly": ("2000.50", ["user:service$orders-api"]),
    }
    for budget in budgets.values():
        assert [(n["notificationType"], n["threshold"]) for n in budget["notifications"]] == [
            ("FORECASTED", 50),
            ("FORECASTED", 80),
            ("FORECASTED", 100),
            ("ACTUAL", 100),
            ("ACTUAL", 120),
        ]
    subscription = only(result, "aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert subscription["inputs"]["thresholdExpression"]["dimension"]["values"] == ["250"]
    assert evaluate_graph(result.graph).findings == []


def test_short_audit_and_config_retention_are_refused_by_the_policy_pack(
    write_config: ConfigWriter,
) -> None:
    loaded = load_file(
        write_config(
            _edit(
                security={
                    "trail": {"retention_days": 90},
                    "config_recorder": {"retention_days": 90},
                }
            )
        )
    )
    findings = evaluate_graph(synth(loaded).graph).findings
    assert sorted((f.rule_id, f.message) for f in findings) == [
        (
            "aws-cloudtrail-bucket-locked-and-logged",
            "reskflow-primary-security-trail: its bucket reskflow-audit-us-east-1-123456789012 "
            "keeps locked log files 90 days, fewer than 365",
        ),
        (
            "aws-config-history-retained-12-months",
            "reskflow-primary-security-config-delivery: its bucket "
            "reskflow-config-us-east-1-123456789012 expires configuration history after 90 "
            "days, fewer than 365",
        ),
    ]


def test_security_and_cost_config_errors_name_the_key() -> None:
    base = read_stack_document("primary")["config"]

    def problems(**sections: Any) -> list[str]:
        raw = dict(base)
        for key, value in sections.items():
            raw[f"resilience:{key}"] = value
        with pytest.raises(ConfigError) as error:
            load_mapping(raw, "Pulumi.bad.yaml")
        return str(error.value).splitlines()

    assert problems(security={"conformance_packs": ["aws-backup", "hipaa"]}) == [
        "Pulumi.bad.yaml: resilience:security.conformance_packs[1]: must be 'aws-backup', "
        "'cis-aws-3.0' or 'pci-dss-4.0', got 'hipaa'"
    ]
    assert problems(security={"trail": {"retention_day": 400}}) == [
        "Pulumi.bad.yaml: resilience:security.trail.retention_day: unknown key (did you mean "
        "'retention_days'?)"
    ]
    assert problems(security={"guardduty": {"features": ["S3_DATA_EVENTS", "S3_DATA_EVENTS"]}}) == [
        "Pulumi.bad.yaml: resilience:security.guardduty.features: listed twice: S3_DATA_EVENTS"
    ]
    assert problems(
        cost={"forecast_alert_percent": [50, 80, 100], "actual_alert_percent": [90, 100, 110]}
    ) == [
        "Pulumi.bad.yaml: resilience:cost: 6 alerts per budget (forecast_alert_percent + "
        "actual_alert_percent); AWS Budgets allows 5"
    ]
    assert problems(cost={"service_budgets_usd": {"orders": 100}}) == [
        "Pulumi.bad.yaml: resilience:cost.service_budgets_usd: orders is not a service "
        "(services: orders-api, users-api, tracking-api)"
    ]
    # A data bucket cannot take a name the baseline's buckets have.
    assert problems(data_buckets=[{"name": "config"}]) == [
        "Pulumi.bad.yaml: resilience:data_buckets[0].name: 'config' is reserved: the security "
        "baseline's AWS Config bucket is named reskflow-config-<region>-<account id>"
    ]
    minimal = dict(read_stack_document("example-minimal")["config"])
    # 29 characters: the access-log and Config buckets overflow in ap-southeast-2 (14), the
    # audit bucket (the primary's region, eu-west-1) does not.
    minimal["resilience:name"] = "a-system-name-of-29-character"
    minimal["resilience:dr"] = {**minimal["resilience:dr"], "region": "ap-southeast-2"}
    with pytest.raises(ConfigError) as error:
        load_mapping(minimal, "Pulumi.bad.yaml")
    assert sorted(str(error.value).splitlines()) == [
        "Pulumi.bad.yaml: resilience:name: the AWS Config bucket 'a-system-name-of-29-character-"
        "config-ap-southeast-2-<account id>' would be 64 characters; S3 allows 63: shorten the "
        "name (or set security.config_recorder.mode to existing)",
        "Pulumi.bad.yaml: resilience:name: the access-log bucket 'a-system-name-of-29-character-"
        "access-logs-ap-southeast-2-<account id>' would be 69 characters; S3 allows 63: "
        "shorten the name",
    ]
    minimal["resilience:name"] = "a-system-name-of-thirty-two-char"
    minimal["resilience:primary"] = {"region": "ap-southeast-2"}
    minimal["resilience:dr"] = {**minimal["resilience:dr"], "region": "eu-west-1"}
    with pytest.raises(ConfigError) as error:
        load_mapping(minimal, "Pulumi.bad.yaml")
    assert sorted(str(error.value).splitlines()) == [
        "Pulumi.bad.yaml: resilience:name: the AWS Config bucket 'a-system-name-of-thirty-two-"
        "char-config-ap-southeast-2-<account id>' would be 67 characters; S3 allows 63: "
        "shorten the name (or set security.config_recorder.mode to existing)",
        "Pulumi.bad.yaml: resilience:name: the access-log bucket 'a-system-name-of-thirty-two-"
        "char-access-logs-ap-southeast-2-<account id>' would be 72 characters; S3 allows 63: "
        "shorten the name",
        "Pulumi.bad.yaml: resilience:name: the audit bucket (CloudTrail) 'a-system-name-of-"
        "thirty-two-char-audit-ap-southeast-2-<account id>' would be 66 characters; S3 allows "
        "63: shorten the name (or turn security.trail off)",
    ]
    assert problems(cost={"monthly_budget_usd": 0}) == [
        "Pulumi.bad.yaml: resilience:cost.monthly_budget_usd: must be greater than 0, got 0"
    ]


def test_defaults_are_on(shipped: dict[str, Any]) -> None:
    config = shipped["example-minimal"].config
    assert isinstance(config, StackConfig)
    security = config.security
    assert security.trail.enabled and security.trail.retention_days == 365
    assert security.config_recorder.mode == "create"
    assert security.config_recorder.retention_days == 365
    assert security.guardduty.mode == security.security_hub.mode == "create"
    assert security.access_analyzer.mode == "create"
    assert security.conformance_packs == ["aws-backup"]
    assert config.cost.anomaly.enabled and config.cost.forecast_alert_percent == [80, 100]
