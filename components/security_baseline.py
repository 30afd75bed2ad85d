"""Security and audit baseline of one region: the AWS services that produce the evidence of
the seeds' daily security and compliance checks (Skafu L28-40: GuardDuty findings, CloudTrail
log integrity, AWS Config compliance; ReskFlow L1618-1716: SOC 2, PCI DSS, GDPR audits).

- **Audit bucket** `<system>-audit-<region>-<account>`: the bundle's secure bucket (CMK,
  versioned, public access blocked, TLS only, access-logged) with S3 Object Lock in
  compliance mode for `security.trail.retention_days` (irreversible), then expiry. The
  primary's receives the trail and the primary's AWS Config history, the dr stack's its own
  region's Config history (so DR-region evidence survives the loss of the primary region).
- **CloudTrail** (primary only): one multi-region trail (optionally the organization's) with
  log file validation, KMS encryption under the region's key, delivery to the audit bucket
  and to a CloudWatch Logs group, where the CIS AWS Foundations Benchmark v3.0.0 section 4
  metric filters each feed an alarm on its severity's topic.
- **AWS Config**: recorder (every supported type; global IAM types only in the primary's, so
  they are recorded once), delivery channel (audit bucket, CMK, daily snapshots), recorder
  status, and the conformance packs of `components/conformance.py`.
- **GuardDuty** detector with explicit protection plans; findings routed by EventBridge to
  the escalation topics by severity band. **Security Hub** with the configured standards
  (consolidated control findings). **IAM Access Analyzer** (account zone of trust).

Every piece is optional (`resilience:security`); the stacks turn all of it on by default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import pricing
from components.conformance import PackContext, pack_name, summary, template_body
from components.monitoring import InventoryEntry
from components.storage import PolicyStatements, SecureBucket, SecureBucketArgs
from model import tags as tag_keys
from model.config import BucketLifecycle, Role, Severity, StackConfig

COMPONENT_TYPE = "resilience:security:SecurityBaseline"
CIS_NAMESPACE = "Resilience/CloudTrail"
TRAIL_PREFIX = "cloudtrail"
CONFIG_PREFIX = "config"
CIS_SOURCE = "CIS AWS Foundations Benchmark v3.0.0, section 4 (Monitoring)"


@dataclass(frozen=True)
class CisControl:
    """One CIS monitoring control: a CloudTrail metric filter and its alarm."""

    id: str  # CIS AWS 3.0 control, e.g. "4.3"
    metric: str  # metric name in CIS_NAMESPACE
    title: str
    pattern: str  # CloudWatch Logs filter pattern (the benchmark's own)
    severity: Severity
    security_hub: str | None  # the AWS Security Hub control checking the same filter


def _any_event(*names: str) -> str:
    return " || ".join(f"($.eventName = {name})" for name in names)


# CIS AWS Foundations Benchmark v3.0.0, 4.1-4.15: one metric filter and one alarm each.
CIS_CONTROLS: tuple[CisControl, ...] = (
    CisControl(
        "4.1",
        "UnauthorizedAPICalls",
        "unauthorized API calls",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") '
        '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") '
        '&& ($.eventName != "HeadBucket") }',
        Severity.WARNING,
        "CloudWatch.2",
    ),
    CisControl(
        "4.2",
        "ConsoleSignInWithoutMfa",
        "management console sign-in without MFA",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
        '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        Severity.ERROR,
        "CloudWatch.3",
    ),
    CisControl(
        "4.3",
        "RootAccountUsage",
        "usage of the root user",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
        '&& $.eventType != "AwsServiceEvent" }',
        Severity.CRITICAL,
        "CloudWatch.1",
    ),
    CisControl(
        "4.4",
        "IamPolicyChanges",
        "IAM policy changes",
        "{ ($.eventSource = iam.amazonaws.com) && ("
        + _any_event(
            "DeleteGroupPolicy",
            "DeleteRolePolicy",
            "DeleteUserPolicy",
            "PutGroupPolicy",
            "PutRolePolicy",
            "PutUserPolicy",
            "CreatePolicy",
            "DeletePolicy",
            "CreatePolicyVersion",
            "DeletePolicyVersion",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "AttachUserPolicy",
            "DetachUserPolicy",
            "AttachGroupPolicy",
            "DetachGroupPolicy",
        )
        + ") }",
        Severity.WARNING,
        "CloudWatch.4",
    ),
    CisControl(
        "4.5",
        "CloudTrailConfigChanges",
        "CloudTrail configuration changes",
        "{ "
        + _any_event("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")
        + " }",
        Severity.CRITICAL,
        "CloudWatch.5",
    ),
    CisControl(
        "4.6",
        "ConsoleAuthenticationFailures",
        "management console authentication failures",
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
        Severity.WARNING,
        "CloudWatch.6",
    ),
    CisControl(
        "4.7",
        "CmkDisabledOrScheduledForDeletion",
        "disabling or scheduled deletion of customer-managed keys",
        "{ ($.eventSource = kms.amazonaws.com) && ("
        + _any_event("DisableKey", "ScheduleKeyDeletion")
        + ") }",
        Severity.CRITICAL,
        "CloudWatch.7",
    ),
    CisControl(
        "4.8",
        "S3BucketPolicyChanges",
        "S3 bucket policy changes",
        "{ ($.eventSource = s3.amazonaws.com) && ("
        + _any_event(
            "PutBucketAcl",
            "PutBucketPolicy",
            "PutBucketCors",
            "PutBucketLifecycle",
            "PutBucketReplication",
            "DeleteBucketPolicy",
            "DeleteBucketCors",
            "DeleteBucketLifecycle",
            "DeleteBucketReplication",
        )
        + ") }",
        Severity.WARNING,
        "CloudWatch.8",
    ),
    CisControl(
        "4.9",
        "ConfigChanges",
        "AWS Config configuration changes",
        "{ ($.eventSource = config.amazonaws.com) && ("
        + _any_event(
            "StopConfigurationRecorder",
            "DeleteDeliveryChannel",
            "PutDeliveryChannel",
            "PutConfigurationRecorder",
        )
        + ") }",
        Severity.ERROR,
        "CloudWatch.9",
    ),
    CisControl(
        "4.10",
        "SecurityGroupChanges",
        "security group changes",
        "{ "
        + _any_event(
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
        )
        + " }",
        Severity.WARNING,
        "CloudWatch.10",
    ),
    CisControl(
        "4.11",
        "NetworkAclChanges",
        "network ACL changes",
        "{ "
        + _any_event(
            "CreateNetworkAcl",
            "CreateNetworkAclEntry",
            "DeleteNetworkAcl",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
        )
        + " }",
        Severity.WARNING,
        "CloudWatch.11",
    ),
    CisControl(
        "4.12",
        "NetworkGatewayChanges",
        "network gateway changes",
        "{ "
        + _any_event(
            "CreateCustomerGateway",
            "DeleteCustomerGateway",
            "AttachInternetGateway",
            "CreateInternetGateway",
            "DeleteInternetGateway",
            "DetachInternetGateway",
        )
        + " }",
        Severity.WARNING,
        "CloudWatch.12",
    ),
    CisControl(
        "4.13",
        "RouteTableChanges",
        "route table changes",
        "{ ($.eventSource = ec2.amazonaws.com) && ("
        + _any_event(
            "CreateRoute",
            "CreateRouteTable",
            "ReplaceRoute",
            "ReplaceRouteTableAssociation",
            "DeleteRouteTable",
            "DeleteRoute",
            "DisassociateRouteTable",
        )
        + ") }",
        Severity.WARNING,
        "CloudWatch.13",
    ),
    CisControl(
        "4.14",
        "VpcChanges",
        "VPC changes",
        "{ "
        + _any_event(
            "CreateVpc",
            "DeleteVpc",
            "ModifyVpcAttribute",
            "AcceptVpcPeeringConnection",
            "CreateVpcPeeringConnection",
            "DeleteVpcPeeringConnection",
            "RejectVpcPeeringConnection",
            "AttachClassicLinkVpc",
            "DetachClassicLinkVpc",
            "DisableVpcClassicLink",
            "EnableVpcClassicLink",
        )
        + " }",
        Severity.WARNING,
        "CloudWatch.14",
    ),
    CisControl(
        "4.15",
        "OrganizationsChanges",
        "AWS Organizations changes",
        "{ ($.eventSource = organizations.amazonaws.com) && ("
        + _any_event(
            '"AcceptHandshake"',
            '"AttachPolicy"',
            '"CreateAccount"',
            '"CreateOrganizationalUnit"',
            '"CreatePolicy"',
            '"DeclineHandshake"',
            '"DeleteOrganization"',
            '"DeleteOrganizationalUnit"',
            '"DeletePolicy"',
            '"DetachPolicy"',
            '"DisablePolicyType"',
            '"EnablePolicyType"',
            '"InviteAccountToOrganization"',
            '"LeaveOrganization"',
            '"MoveAccount"',
            '"RemoveAccountFromOrganization"',
            '"UpdatePolicy"',
            '"UpdateOrganizationalUnit"',
        )
        + ") }",
        Severity.ERROR,
        None,
    ),
)
# Each alarm: any matching event in five minutes.
CIS_PERIOD_SECONDS = 300

# Security Hub standards by config name (ARN paths under arn:<partition>:securityhub:<region>::).
STANDARDS: dict[str, str] = {
    "aws-foundational-security-best-practices": (
        "standards/aws-foundational-security-best-practices/v/1.0.0"
    ),
    "cis-aws-foundations-benchmark-3.0": "standards/cis-aws-foundations-benchmark/v/3.0.0",
    "pci-dss-4.0.1": "standards/pci-dss/v/4.0.1",
    "nist-800-53-5.0.0": "standards/nist-800-53/v/5.0.0",
}
# Every GuardDuty protection plan is set explicitly (on when listed in config, else off).
GUARDDUTY_FEATURES = (
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "LAMBDA_NETWORK_LOGS",
    "RUNTIME_MONITORING",
)
# GuardDuty severity bands (GuardDuty: low 1.0-3.9, medium 4.0-6.9, high 7.0-8.9, critical
# 9.0-10.0) as EventBridge numeric matches.
GUARDDUTY_BANDS: dict[str, list[Any]] = {
    "high": [">=", 7],
    "medium": [">=", 4, "<", 7],
    "low": ["<", 4],
}


def guardduty_pattern(band: str) -> str:
    return json.dumps(
        {
            "source": ["aws.guardduty"],
            "detail-type": ["GuardDuty Finding"],
            "detail": {"severity": [{"numeric": GUARDDUTY_BANDS[band]}]},
        },
        sort_keys=True,
    )


def standard_arn(partition: str, region: str, standard: str) -> str:
    return f"arn:{partition}:securityhub:{region}::{STANDARDS[standard]}"


def trail_name(system: str) -> str:
    return f"{system}-audit"


def trail_arn(partition: str, region: str, account_id: str, system: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{trail_name(system)}"


def audit_bucket_name(system: str, region: str, account_id: str) -> str:
    return f"{system}-audit-{region}-{account_id}"


def trail_here(config: StackConfig) -> bool:
    """The system's trail is the primary stack's."""
    return config.role is Role.PRIMARY and config.security.trail.enabled


def records_global(config: StackConfig) -> bool:
    """Global (IAM) resources are recorded by the primary's recorder only."""
    return config.role is Role.PRIMARY


def audit_bucket_here(config: StackConfig) -> bool:
    return trail_here(config) or config.security.config_recorder.enabled


def audit_statements(
    *, system: str, region: str, trail: bool, config_delivery: bool
) -> PolicyStatements:
    """Bucket policy statements letting CloudTrail (this system's trail only, by aws:SourceArn)
    and AWS Config (this account) deliver into the audit bucket."""

    def statements(bucket_arn: str, account_id: str) -> list[dict[str, Any]]:
        partition = bucket_arn.split(":")[1]
        out: list[dict[str, Any]] = []
        if trail:
            source = {"aws:SourceArn": trail_arn(partition, region, account_id, system)}
            out += [
                {
                    "Sid": "CloudTrailChecksBucketAcl",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": bucket_arn,
                    "Condition": {"StringEquals": source},
                },
                {
                    "Sid": "CloudTrailDeliversLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    # An organization trail also writes under the organization's id.
                    "Resource": f"{bucket_arn}/{TRAIL_PREFIX}/AWSLogs/*",
                    "Condition": {
                        "StringEquals": {**source, "s3:x-amz-acl": "bucket-owner-full-control"}
                    },
                },
            ]
        if config_delivery:
            account = {"aws:SourceAccount": account_id}
            out += [
                {
                    "Sid": "ConfigChecksBucketAcl",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                    "Resource": bucket_arn,
                    "Condition": {"StringEquals": account},
                },
                {
                    "Sid": "ConfigDeliversHistory",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/{CONFIG_PREFIX}/AWSLogs/{account_id}/Config/*",
                    "Condition": {
                        "StringEquals": {**account, "s3:x-amz-acl": "bucket-owner-full-control"}
                    },
                },
            ]
        return out

    return statements


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


@dataclass(frozen=True)
class SecurityBaselineArgs:
    config: StackConfig
    name_prefix: str
    provider: aws.Provider
    key_arn: pulumi.Output[str]
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    topic_arns: Mapping[Severity, pulumi.Output[str]]
    access_log_bucket: pulumi.Input[str]


class SecurityBaseline(pulumi.ComponentResource):
    """The region's audit bucket, trail (primary), Config recorder and packs, GuardDuty,
    Security Hub and Access Analyzer."""

    alarms: list[aws.cloudwatch.MetricAlarm]
    inventory: list[InventoryEntry]
    audit_bucket: SecureBucket | None
    trail: aws.cloudtrail.Trail | None
    recorder: aws.cfg.Recorder | None
    detector: aws.guardduty.Detector | None

    def __init__(
        self, name: str, args: SecurityBaselineArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._name, self._args = name, args
        config, security = args.config, args.config.security
        self._in_region = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.alarms, self.inventory = [], []
        self.audit_bucket = self.trail = self.recorder = self.detector = None
        self._outputs: dict[str, Any] = {"region": config.region}

        if audit_bucket_here(config):
            self.audit_bucket = self._audit_bucket()
        if trail_here(config):
            self.trail = self._trail()
        recorder_status = None
        if security.config_recorder.enabled:
            recorder_status = self._recorder()
        self._conformance_packs(recorder_status)
        if security.guardduty.enabled:
            self._guardduty()
        if security.security_hub.enabled:
            self._security_hub()
        if security.access_analyzer:
            analyzer = aws.accessanalyzer.Analyzer(
                f"{name}-access-analyzer",
                analyzer_name=f"{args.name_prefix}-account",
                type="ACCOUNT",
                opts=self._in_region,
            )
            self._outputs["access_analyzer"] = analyzer.arn
        self.register_outputs(self._outputs)

    def outputs(self) -> dict[str, Any]:
        """The stack output `security`: what produces the region's evidence, and where."""
        return dict(self._outputs)

    # -- pieces ----------------------------------------------------------------------------

    def _audit_bucket(self) -> SecureBucket:
        args, config = self._args, self._args.config
        days = config.security.trail.retention_days
        bucket = SecureBucket(
            f"{self._name}-audit",
            SecureBucketArgs(
                bucket=args.account_id.apply(
                    lambda a: audit_bucket_name(config.name, config.region, a)
                ),
                provider=args.provider,
                account_id=args.account_id,
                key_arn=args.key_arn,
                log_bucket=args.access_log_bucket,
                object_lock_days=days,
                expire_current_after_days=days,
                lifecycle=BucketLifecycle(noncurrent_expiration_days=30),
                policy_statements=audit_statements(
                    system=config.name,
                    region=config.region,
                    trail=trail_here(config),
                    config_delivery=config.security.config_recorder.enabled,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._outputs["audit_bucket"] = bucket.bucket.id
        self._outputs["audit_retention_days"] = days
        return bucket

    def _trail(self) -> aws.cloudtrail.Trail:
        args, config = self._args, self._args.config
        settings = config.security.trail
        assert self.audit_bucket is not None
        name = self._name
        arn = pulumi.Output.all(args.partition, args.account_id).apply(
            lambda v: trail_arn(v[0], config.region, v[1], config.name)
        )
        waits: list[pulumi.Resource] = [self.audit_bucket.ready]
        log_group_arn: pulumi.Input[str] | None = None
        log_role_arn: pulumi.Input[str] | None = None
        log_group = None
        if settings.cis_alarms:
            log_group = aws.cloudwatch.LogGroup(
                f"{name}-trail-logs",
                name=f"/{config.name}/{config.environment}/cloudtrail",
                retention_in_days=config.logs.audit_retention_days,
                kms_key_id=args.key_arn,
                opts=pulumi.ResourceOptions.merge(
                    self._in_region, pulumi.ResourceOptions(protect=True)
                ),
            )
            role = aws.iam.Role(
                f"{name}-trail-logs-role",
                description=f"CloudTrail trail {trail_name(config.name)} writes to CloudWatch Logs",
                assume_role_policy=arn.apply(
                    lambda a: _document(
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudtrail.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceArn": a}},
                        }
                    )
                ),
                opts=self._in_region,
            )
            policy = aws.iam.RolePolicy(
                f"{name}-trail-logs-policy",
                role=role.id,
                policy=log_group.arn.apply(
                    lambda group: _document(
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": f"{group}:log-stream:*",
                        }
                    )
                ),
                opts=self._in_region,
            )
            waits.append(policy)
            log_group_arn = pulumi.Output.concat(log_group.arn, ":*")
            log_role_arn = role.arn
        trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=trail_name(config.name),
            s3_bucket_name=self.audit_bucket.bucket.id,
            s3_key_prefix=TRAIL_PREFIX,
            is_multi_region_trail=True,
            include_global_service_events=True,
            is_organization_trail=settings.organization,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=args.key_arn,
            cloud_watch_logs_group_arn=log_group_arn,
            cloud_watch_logs_role_arn=log_role_arn,
            opts=pulumi.ResourceOptions.merge(
                self._in_region, pulumi.ResourceOptions(depends_on=waits)
            ),
        )
        self._outputs["trail"] = {
            "name": trail.name,
            "arn": trail.arn,
            "organization": settings.organization,
            "log_group": log_group.name if log_group is not None else None,
        }
        if log_group is not None:
            self._cis_alarms(log_group)
        return trail

    def _cis_alarms(self, log_group: aws.cloudwatch.LogGroup) -> None:
        args, config = self._args, self._args.config
        runbook = config.monitoring.runbook_url or config.services[0].runbook_url
        for control in CIS_CONTROLS:
            slug = f"cis-{control.id.replace('.', '-')}"
            aws.cloudwatch.LogMetricFilter(
                f"{self._name}-{slug}",
                name=f"{args.name_prefix}-{slug}",
                log_group_name=log_group.name,
                pattern=control.pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=control.metric, namespace=CIS_NAMESPACE, value="1"
                ),
                opts=self._in_region,
            )
            topic = args.topic_arns[control.severity]
            hub = f"; AWS Security Hub {control.security_hub}" if control.security_hub else ""
            description = (
                f"[{control.severity.value}] CIS {control.id} ({config.region}): "
                f"{control.title}. Fires on 1 or more matching CloudTrail events in "
                f"{CIS_PERIOD_SECONDS // 60} minutes (trail {trail_name(config.name)}). "
                f"Runbook: {runbook}#{slug}. Source: {CIS_SOURCE} {control.id}{hub}"
            )[:1024]
            alarm = aws.cloudwatch.MetricAlarm(
                f"{self._name}-{slug}-alarm",
                alarm_description=description,
                namespace=CIS_NAMESPACE,
                metric_name=control.metric,
                statistic="Sum",
                period=CIS_PERIOD_SECONDS,
                evaluation_periods=1,
                threshold=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic],
                ok_actions=[topic],
                tags={tag_keys.ALARM: slug},
                opts=self._in_region,
            )
            self.alarms.append(alarm)
            self.inventory.append(
                InventoryEntry(
                    alarm=f"{self._name}-{slug}-alarm",
                    alarm_id=slug,
                    service=None,
                    kind="metric",
                    severity=control.severity.value,
                    threshold=1,
                    comparison="GreaterThanOrEqualToThreshold",
                    unit="events",
                    monthly_usd=pricing.metric_alarm(1, CIS_PERIOD_SECONDS),
                )
            )

    def _recorder(self) -> aws.cfg.RecorderStatus:
        args, config = self._args, self._args.config
        assert self.audit_bucket is not None
        name, bucket = self._name, self.audit_bucket
        role = aws.iam.Role(
            f"{name}-config-role",
            description=f"AWS Config recorder of {args.name_prefix} in {config.region}",
            assume_role_policy=args.account_id.apply(
                lambda account: _document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "config.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                    }
                )
            ),
            opts=self._in_region,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-config-role-policy",
            role=role.name,
            policy_arn=pulumi.Output.concat(
                "arn:", args.partition, ":iam::aws:policy/service-role/AWS_ConfigRole"
            ),
            opts=self._in_region,
        )
        delivery = aws.iam.RolePolicy(
            f"{name}-config-delivery-policy",
            role=role.id,
            policy=pulumi.Output.all(bucket.bucket.arn, args.account_id, args.key_arn).apply(
                lambda v: _document(
                    {
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": f"{v[0]}/{CONFIG_PREFIX}/AWSLogs/{v[1]}/Config/*",
                        "Condition": {
                            "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}
                        },
                    },
                    {"Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": v[0]},
                    {
                        "Effect": "Allow",
                        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                        "Resource": v[2],
                    },
                )
            ),
            opts=self._in_region,
        )
        self.recorder = aws.cfg.Recorder(
            f"{name}-config-recorder",
            name=args.name_prefix,
            role_arn=role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(
                all_supported=True, include_global_resource_types=records_global(config)
            ),
            opts=self._in_region,
        )
        channel = aws.cfg.DeliveryChannel(
            f"{name}-config-delivery",
            name=args.name_prefix,
            s3_bucket_name=bucket.bucket.id,
            s3_key_prefix=CONFIG_PREFIX,
            s3_kms_key_arn=args.key_arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency=config.security.config_recorder.snapshot_frequency
            ),
            opts=pulumi.ResourceOptions.merge(
                self._in_region,
                pulumi.ResourceOptions(depends_on=[self.recorder, bucket.ready, delivery]),
            ),
        )
        status = aws.cfg.RecorderStatus(
            f"{name}-config-recorder-status",
            name=self.recorder.name,
            is_enabled=True,
            opts=pulumi.ResourceOptions.merge(
                self._in_region, pulumi.ResourceOptions(depends_on=[channel])
            ),
        )
        self._outputs["config_recorder"] = {
            "name": self.recorder.name,
            "records_global_resources": records_global(config),
            "snapshot_frequency": config.security.config_recorder.snapshot_frequency,
        }
        return status

    def _conformance_packs(self, recorder_status: pulumi.Resource | None) -> None:
        args, config = self._args, self._args.config
        packs = config.security.conformance_packs
        context = PackContext(
            config=config,
            region=config.region,
            peer_region=config.peer_region,
            records_global=records_global(config),
        )
        waits = [recorder_status] if recorder_status is not None else []
        for pack in packs:
            aws.cfg.ConformancePack(
                f"{self._name}-pack-{pack.replace('.', '-')}",
                name=pack_name(args.name_prefix, pack),
                template_body=template_body(pack, context),
                opts=pulumi.ResourceOptions.merge(
                    self._in_region, pulumi.ResourceOptions(depends_on=waits)
                ),
            )
        self._outputs["conformance_packs"] = {p: summary(p, context) for p in packs}

    def _guardduty(self) -> None:
        args, settings = self._args, self._args.config.security.guardduty
        self.detector = aws.guardduty.Detector(
            f"{self._name}-guardduty",
            enable=True,
            finding_publishing_frequency=settings.finding_frequency,
            opts=self._in_region,
        )
        for feature in GUARDDUTY_FEATURES:
            aws.guardduty.DetectorFeature(
                f"{self._name}-guardduty-{feature.lower().replace('_', '-')}",
                detector_id=self.detector.id,
                name=feature,
                status="ENABLED" if feature in settings.features else "DISABLED",
                opts=self._in_region,
            )
        routes: dict[str, str | None] = {}
        for band in GUARDDUTY_BANDS:
            severity: Severity | None = getattr(settings.routing, band)
            routes[band] = severity.value if severity is not None else None
            if severity is None:
                continue
            rule = aws.cloudwatch.EventRule(
                f"{self._name}-guardduty-{band}",
                description=f"GuardDuty findings of {band} severity to the {severity.value} topic",
                event_pattern=guardduty_pattern(band),
                opts=self._in_region,
            )
            aws.cloudwatch.EventTarget(
                f"{self._name}-guardduty-{band}-to-{severity.value}",
                rule=rule.name,
                # The rule's only target. Left unset, pulumi-aws names it after the resource
                # (up to 255 characters), and PutTargets refuses an Id over 64 (Target.Id:
                # "Maximum length of 64", pattern [\.\-_A-Za-z0-9]+).
                target_id=f"to-{severity.value}",
                arn=args.topic_arns[severity],
                opts=self._in_region,
            )
        self._outputs["guardduty"] = {
            "detector_id": self.detector.id,
            "features": list(settings.features),
            "routing": routes,
        }

    def _security_hub(self) -> None:
        args, config = self._args, self._args.config
        account = aws.securityhub.Account(
            f"{self._name}-security-hub",
            enable_default_standards=False,
            control_finding_generator="SECURITY_CONTROL",
            auto_enable_controls=True,
            opts=self._in_region,
        )
        standards = config.security.security_hub.standards
        for standard in standards:

            def arn(partition: str, standard: str = standard) -> str:
                return standard_arn(partition, config.region, standard)

            aws.securityhub.StandardsSubscription(
                f"{self._name}-standard-{standard.replace('.', '-')}",
                standards_arn=args.partition.apply(arn),
                opts=pulumi.ResourceOptions.merge(
                    self._in_region, pulumi.ResourceOptions(depends_on=[account])
                ),
            )
        self._outputs["security_hub_standards"] = list(standards)
