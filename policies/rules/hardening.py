"""Hardening rules for the data stores the stacks create, from AWS Foundational Security
Best Practices: database authentication, monitoring, logs and patching; bucket ACLs; queue
encryption."""

from __future__ import annotations

from collections.abc import Iterator

from policies.rules.core import Framework, ResourceView, Rule, Severity, holds_opaque, opaque

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_TYPES = (RDS_INSTANCE, RDS_CLUSTER)
FSBP_RDS = "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html"


def _engine_logs(engine: object) -> str:
    """The log type each engine must export (the engine's own log)."""
    text = str(engine or "")
    if "postgres" in text:
        return "postgresql"
    if "mysql" in text or "mariadb" in text:
        return "error"
    return ""


def _iam_auth(resource: ResourceView) -> Iterator[str]:
    if resource.type == RDS_INSTANCE and resource.props.get("replicateSourceDb"):
        return  # a read replica inherits the source's setting
    enabled = resource.props.get("iamDatabaseAuthenticationEnabled")
    if not opaque(enabled) and enabled is not True:
        yield f"{resource.name}: IAM database authentication is off"


def _log_exports(resource: ResourceView) -> Iterator[str]:
    engine = resource.props.get("engine")
    exports = resource.props.get("enabledCloudwatchLogsExports") or []
    if opaque(engine) or holds_opaque(exports):
        return
    wanted = _engine_logs(engine)
    if wanted and wanted not in exports:
        yield f"{resource.name}: the {wanted} log is not exported to CloudWatch Logs"


def _copy_tags(resource: ResourceView) -> Iterator[str]:
    copy = resource.props.get("copyTagsToSnapshot")
    if not opaque(copy) and copy is not True:
        yield f"{resource.name}: snapshots do not get the database's tags (backup classes)"


def _minor_upgrades(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("autoMinorVersionUpgrade") is False:
        yield f"{resource.name}: automatic minor version upgrades are off"


def _enhanced_monitoring(resource: ResourceView) -> Iterator[str]:
    interval = resource.props.get("monitoringInterval")
    if opaque(interval):
        return
    if (
        not isinstance(interval, int)
        or interval <= 0
        or not resource.props.get("monitoringRoleArn")
    ):
        yield f"{resource.name}: Enhanced Monitoring is off (no OS memory, swap or process metrics)"


def _acls_disabled(resource: ResourceView) -> Iterator[str]:
    rule = resource.props.get("rule") or {}
    if opaque(rule) or (isinstance(rule, dict) and opaque(rule.get("objectOwnership"))):
        return
    if not isinstance(rule, dict) or rule.get("objectOwnership") != "BucketOwnerEnforced":
        yield f"{resource.name}: ACLs still decide object access (set BucketOwnerEnforced)"


def _queue_encrypted(resource: ResourceView) -> Iterator[str]:
    if (
        not resource.props.get("kmsMasterKeyId")
        and resource.props.get("sqsManagedSseEnabled") is False
    ):
        yield f"{resource.name}: messages are not encrypted at rest"


RULES: tuple[Rule, ...] = (
    Rule(
        id="aws-rds-enhanced-monitoring",
        description="RDS instances and Aurora cluster instances publish Enhanced Monitoring.",
        severity=Severity.LOW,
        remediation="Set monitoring_interval (60) and monitoring_role_arn (components/database.py "
        "creates the role).",
        url=FSBP_RDS,
        check=_enhanced_monitoring,
        resource_types=(RDS_INSTANCE, "aws:rds/clusterInstance:ClusterInstance"),
        frameworks=(Framework("AWS FSBP", "RDS.6"), Framework("SOC 2", "CC7.2")),
    ),
    Rule(
        id="aws-rds-iam-authentication-enabled",
        description="RDS instances and Aurora clusters accept IAM authentication.",
        severity=Severity.MEDIUM,
        remediation="Set iam_database_authentication_enabled=True (components/database.py does).",
        url=FSBP_RDS,
        check=_iam_auth,
        resource_types=RDS_TYPES,
        frameworks=(
            Framework("AWS FSBP", "RDS.10"),
            Framework("AWS FSBP", "RDS.12"),
            Framework("PCI DSS 4.0", "8.3.1"),
            Framework("SOC 2", "CC6.1"),
        ),
    ),
    Rule(
        id="aws-rds-logs-exported-to-cloudwatch",
        description="Databases export their engine log to CloudWatch Logs.",
        severity=Severity.MEDIUM,
        remediation="Add the engine's log (postgresql) to enabled_cloudwatch_logs_exports.",
        url=FSBP_RDS,
        check=_log_exports,
        resource_types=RDS_TYPES,
        frameworks=(
            Framework("AWS FSBP", "RDS.9"),
            Framework("PCI DSS 4.0", "10.2.1"),
            Framework("SOC 2", "CC7.2"),
        ),
    ),
    Rule(
        id="aws-rds-copy-tags-to-snapshots",
        description="Database snapshots carry the database's tags.",
        severity=Severity.LOW,
        remediation="Set copy_tags_to_snapshot=True: backup selections and cost follow tags.",
        url=FSBP_RDS,
        check=_copy_tags,
        resource_types=RDS_TYPES,
        frameworks=(Framework("AWS FSBP", "RDS.16"), Framework("AWS FSBP", "RDS.17")),
    ),
    Rule(
        id="aws-rds-auto-minor-version-upgrade",
        description="Databases take automatic minor (patch) version upgrades.",
        severity=Severity.MEDIUM,
        remediation="Leave auto_minor_version_upgrade on; the maintenance window bounds it.",
        url=FSBP_RDS,
        check=_minor_upgrades,
        resource_types=(RDS_INSTANCE, "aws:rds/clusterInstance:ClusterInstance"),
        frameworks=(Framework("AWS FSBP", "RDS.13"), Framework("PCI DSS 4.0", "6.3.3")),
    ),
    Rule(
        id="aws-s3-bucket-acls-disabled",
        description="Buckets enforce bucket-owner ownership: ACLs grant nothing.",
        severity=Severity.MEDIUM,
        remediation="Set object_ownership='BucketOwnerEnforced' (components/storage.py does).",
        url="https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html",
        check=_acls_disabled,
        resource_types=("aws:s3/bucketOwnershipControls:BucketOwnershipControls",),
        frameworks=(Framework("AWS FSBP", "S3.12"), Framework("CIS AWS 3.0", "2.1.4")),
    ),
    Rule(
        id="aws-sqs-queue-encrypted",
        description="Queues encrypt messages at rest.",
        severity=Severity.MEDIUM,
        remediation="Set kms_master_key_id (a CMK) or keep SQS-managed encryption on.",
        url="https://docs.aws.amazon.com/securityhub/latest/userguide/sqs-controls.html",
        check=_queue_encrypted,
        resource_types=("aws:sqs/queue:Queue",),
        frameworks=(Framework("AWS FSBP", "SQS.1"), Framework("PCI DSS 4.0", "3.5.1")),
    ),
)
