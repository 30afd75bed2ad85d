"""Rules for data at rest and its copies: encryption with customer-managed keys, public
access, deletion protection, backups of replicas, cross-region backup copies."""

from __future__ import annotations

from collections.abc import Iterator

from policies.rules.core import Check, Framework, ResourceView, Rule, Severity, statements

AWS_MANAGED_KEY_ALIASES = ("alias/aws/",)


def _cmk(value: object) -> bool:
    """A customer-managed key reference (not absent, not an AWS managed key alias)."""
    return (
        isinstance(value, str)
        and bool(value)
        and not any(alias in value for alias in AWS_MANAGED_KEY_ALIASES)
    )


def _encrypted_with_cmk(field: str, what: str) -> Check:
    def check(resource: ResourceView) -> Iterator[str]:
        if not _cmk(resource.props.get(field)):
            yield f"{resource.name}: {what} is not encrypted with a customer-managed KMS key"

    return check


def _rds_storage(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("storageEncrypted") is not True:
        yield f"{resource.name}: storage is not encrypted"
    elif not _cmk(resource.props.get("kmsKeyId")):
        yield f"{resource.name}: storage is not encrypted with a customer-managed KMS key"


def _not_public(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("publiclyAccessible") is True:
        yield f"{resource.name}: the database is publicly accessible"


def _deletion_protection(resource: ResourceView) -> Iterator[str]:
    field = (
        "deletionProtectionEnabled"
        if resource.type.startswith("aws:dynamodb/")
        else "deletionProtection"
    )
    if resource.props.get(field) is not True:
        yield f"{resource.name}: deletion protection is off"


def _replica_backups(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("replicateSourceDb") and not resource.props.get("backupRetentionPeriod"):
        yield (
            f"{resource.name}: a read replica without automated backups would be promoted "
            "without any"
        )


def _multi_az(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("multiAz") is not True:
        yield f"{resource.name}: the instance runs in a single Availability Zone"


def _public_access_block(resource: ResourceView) -> Iterator[str]:
    missing = [
        key
        for key in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        if resource.props.get(key) is not True
    ]
    if missing:
        yield f"{resource.name}: public access block leaves {', '.join(missing)} off"


def _versioning(resource: ResourceView) -> Iterator[str]:
    config = resource.props.get("versioningConfiguration") or {}
    if not isinstance(config, dict) or config.get("status") != "Enabled":
        yield f"{resource.name}: versioning is not enabled"


def _copies(resource: ResourceView) -> Iterator[str]:
    rules = resource.props.get("rules") or []
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, dict) and not rule.get("copyActions"):
            yield (
                f"{resource.name}: rule {rule.get('ruleName', '?')} keeps no copy in another region"
            )


def _dynamodb_pitr(resource: ResourceView) -> Iterator[str]:
    pitr = resource.props.get("pointInTimeRecovery") or {}
    if not isinstance(pitr, dict) or pitr.get("enabled") is not True:
        yield f"{resource.name}: point-in-time recovery is off"


def _dynamodb_cmk(resource: ResourceView) -> Iterator[str]:
    sse = resource.props.get("serverSideEncryption") or {}
    if (
        not isinstance(sse, dict)
        or sse.get("enabled") is not True
        or not _cmk(sse.get("kmsKeyArn"))
    ):
        yield f"{resource.name}: the table is not encrypted with a customer-managed KMS key"


def _dynamodb_table(resource: ResourceView) -> Iterator[str]:
    yield from _dynamodb_pitr(resource)
    yield from _dynamodb_cmk(resource)


def _tls_only(resource: ResourceView) -> Iterator[str]:
    """A resource policy that denies requests not made over TLS."""
    for statement in statements(resource.props.get("policy")):
        condition = statement.get("Condition") or {}
        secure = (condition.get("Bool") or {}).get("aws:SecureTransport")
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false":
            return
    yield f"{resource.name}: the policy does not deny requests made without TLS"


def _automated_backups(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("replicateSourceDb"):
        return  # a replica's own retention is aws-rds-replica-has-backups
    days = resource.props.get("backupRetentionPeriod")
    if not isinstance(days, int) or days < MIN_DB_BACKUP_DAYS:
        yield (
            f"{resource.name}: automated backups kept {days or 0} days, fewer than "
            f"{MIN_DB_BACKUP_DAYS}"
        )


def _lambda_environment(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("environment") and not _cmk(resource.props.get("kmsKeyArn")):
        yield (
            f"{resource.name}: environment variables are not encrypted with a "
            "customer-managed KMS key"
        )


MIN_DB_BACKUP_DAYS = 7
RDS_DB = ("aws:rds/instance:Instance",)
RDS_ANY = ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster")

RULES: tuple[Rule, ...] = (
    Rule(
        id="aws-rds-storage-encrypted-with-cmk",
        description="RDS instances and Aurora clusters encrypt storage with a customer key.",
        severity=Severity.HIGH,
        remediation="Set storage_encrypted=True and kms_key_id to the region's CMK.",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html",
        check=_rds_storage,
        resource_types=RDS_ANY,
        frameworks=(
            Framework("AWS FSBP", "RDS.3"),
            Framework("PCI DSS 4.0", "3.5.1"),
            Framework("SOC 2", "CC6.1"),
            Framework("ISO 27001", "A.8.24"),
            Framework("GDPR", "Art. 32(1)(a)"),
        ),
    ),
    Rule(
        id="aws-rds-instance-not-public",
        description="RDS instances are not publicly accessible.",
        severity=Severity.CRITICAL,
        remediation="Set publicly_accessible=False and place the instance in private subnets.",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html",
        check=_not_public,
        resource_types=RDS_DB,
        frameworks=(
            Framework("AWS FSBP", "RDS.2"),
            Framework("PCI DSS 4.0", "1.4.4"),
            Framework("SOC 2", "CC6.6"),
        ),
    ),
    Rule(
        id="aws-rds-deletion-protection-enabled",
        description="RDS instances, Aurora clusters and DynamoDB tables have deletion protection.",
        severity=Severity.HIGH,
        remediation="Set deletion_protection=True (DynamoDB: deletion_protection_enabled=True).",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html",
        check=_deletion_protection,
        resource_types=(*RDS_ANY, "aws:dynamodb/table:Table"),
        frameworks=(
            Framework("AWS FSBP", "RDS.8"),
            Framework("AWS FSBP", "RDS.7"),
            Framework("AWS FSBP", "DynamoDB.6"),
            Framework("SOC 2", "A1.2"),
        ),
    ),
    Rule(
        id="aws-rds-instance-multi-az",
        description="RDS instances run in more than one Availability Zone.",
        severity=Severity.MEDIUM,
        remediation="Set multi_az=True.",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.html",
        check=_multi_az,
        resource_types=RDS_DB,
        frameworks=(Framework("AWS FSBP", "RDS.5"), Framework("SOC 2", "A1.2")),
    ),
    Rule(
        id="aws-rds-replica-has-backups",
        description="Read replicas keep their own automated backups, so a promotion is covered.",
        severity=Severity.HIGH,
        remediation="Set backup_retention_period >= 1 on the replica (PostgreSQL 14 or later).",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html",
        check=_replica_backups,
        resource_types=RDS_DB,
        frameworks=(Framework("SOC 2", "A1.2"), Framework("ISO 27001", "A.8.13")),
    ),
    Rule(
        id="aws-backup-vault-encrypted-with-cmk",
        description="Backup vaults encrypt recovery points with a customer-managed key.",
        severity=Severity.HIGH,
        remediation="Set kms_key_arn on the vault to the region's CMK.",
        url="https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html",
        check=_encrypted_with_cmk("kmsKeyArn", "the vault"),
        resource_types=("aws:backup/vault:Vault",),
        frameworks=(
            Framework("AWS FSBP", "Backup.1"),
            Framework("PCI DSS 4.0", "3.5.1"),
            Framework("ISO 27001", "A.8.24"),
        ),
    ),
    Rule(
        id="aws-backup-plan-cross-region-copy",
        description="Every backup rule keeps a copy in another region's vault.",
        severity=Severity.HIGH,
        remediation="Add a copy action to the peer region's vault (cross_region_copy: true).",
        url="https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-region-backup.html",
        check=_copies,
        resource_types=("aws:backup/plan:Plan",),
        frameworks=(Framework("SOC 2", "A1.2"), Framework("ISO 27001", "A.8.13")),
    ),
    Rule(
        id="aws-s3-bucket-public-access-blocked",
        description="Buckets block every form of public access.",
        severity=Severity.CRITICAL,
        remediation="Set all four settings of the bucket's public access block to true.",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
        check=_public_access_block,
        resource_types=("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",),
        frameworks=(
            Framework("AWS FSBP", "S3.8"),
            Framework("CIS AWS 3.0", "2.1.4"),
            Framework("PCI DSS 4.0", "1.4.4"),
            Framework("GDPR", "Art. 32(1)(b)"),
        ),
    ),
    Rule(
        id="aws-s3-bucket-versioning-enabled",
        description="Buckets keep object versions (needed for replication and recovery).",
        severity=Severity.MEDIUM,
        remediation="Add a BucketVersioning with status Enabled.",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",
        check=_versioning,
        resource_types=("aws:s3/bucketVersioning:BucketVersioning",),
        frameworks=(Framework("AWS FSBP", "S3.14"), Framework("SOC 2", "A1.2")),
    ),
    Rule(
        id="aws-dynamodb-table-pitr-and-cmk",
        description="DynamoDB tables have point-in-time recovery and a customer-managed key.",
        severity=Severity.HIGH,
        remediation="Enable point_in_time_recovery and server_side_encryption with a CMK.",
        url="https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html",
        check=_dynamodb_table,
        resource_types=("aws:dynamodb/table:Table",),
        frameworks=(Framework("AWS FSBP", "DynamoDB.2"), Framework("ISO 27001", "A.8.24")),
    ),
    Rule(
        id="aws-sns-topic-encrypted-with-cmk",
        description="SNS topics are encrypted with a customer-managed key.",
        severity=Severity.MEDIUM,
        remediation="Set kms_master_key_id to the region's CMK (AWS managed keys block alarms).",
        url="https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html",
        check=_encrypted_with_cmk("kmsMasterKeyId", "the topic"),
        resource_types=("aws:sns/topic:Topic",),
        frameworks=(Framework("AWS FSBP", "SNS.1"), Framework("ISO 27001", "A.8.24")),
    ),
    Rule(
        id="aws-cloudwatch-log-group-encrypted-with-cmk",
        description="Log groups are encrypted with a customer-managed key.",
        severity=Severity.MEDIUM,
        remediation="Set kms_key_id on the log group to the region's CMK.",
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
        check=_encrypted_with_cmk("kmsKeyId", "the log group"),
        resource_types=("aws:cloudwatch/logGroup:LogGroup",),
        frameworks=(Framework("PCI DSS 4.0", "10.3.2"), Framework("ISO 27001", "A.8.24")),
    ),
    Rule(
        id="aws-s3-bucket-policy-tls-only",
        description="Bucket policies deny requests made without TLS.",
        severity=Severity.HIGH,
        remediation="Add a Deny statement for aws:SecureTransport = false on the bucket and "
        "its objects.",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html",
        check=_tls_only,
        resource_types=("aws:s3/bucketPolicy:BucketPolicy",),
        frameworks=(
            Framework("AWS FSBP", "S3.5"),
            Framework("PCI DSS 4.0", "4.2.1"),
            Framework("GDPR", "Art. 32(1)(a)"),
        ),
    ),
    Rule(
        id="aws-sns-topic-policy-tls-only",
        description="Topic policies deny publishing without TLS.",
        severity=Severity.MEDIUM,
        remediation="Add a Deny statement for aws:SecureTransport = false to the topic policy.",
        url="https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html",
        check=_tls_only,
        resource_types=("aws:sns/topicPolicy:TopicPolicy",),
        frameworks=(Framework("PCI DSS 4.0", "4.2.1"), Framework("SOC 2", "CC6.7")),
    ),
    Rule(
        id="aws-rds-automated-backups",
        description=f"Databases keep automated backups at least {MIN_DB_BACKUP_DAYS} days.",
        severity=Severity.HIGH,
        remediation=f"Set backup_retention_period >= {MIN_DB_BACKUP_DAYS}.",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html",
        check=_automated_backups,
        resource_types=RDS_ANY,
        frameworks=(Framework("AWS FSBP", "RDS.11"), Framework("SOC 2", "A1.2")),
    ),
    Rule(
        id="aws-secretsmanager-secret-encrypted-with-cmk",
        description="Secrets are encrypted with a customer-managed key.",
        severity=Severity.MEDIUM,
        remediation="Set kms_key_id on the secret to the region's CMK.",
        url="https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html",
        check=_encrypted_with_cmk("kmsKeyId", "the secret"),
        resource_types=("aws:secretsmanager/secret:Secret",),
        frameworks=(Framework("PCI DSS 4.0", "3.5.1"), Framework("ISO 27001", "A.8.24")),
    ),
    Rule(
        id="aws-lambda-environment-encrypted-with-cmk",
        description="Function environment variables are encrypted with a customer-managed key.",
        severity=Severity.MEDIUM,
        remediation="Set kms_key_arn on functions that have environment variables.",
        url="https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html",
        check=_lambda_environment,
        resource_types=("aws:lambda/function:Function",),
        frameworks=(Framework("PCI DSS 4.0", "3.5.1"), Framework("ISO 27001", "A.8.24")),
    ),
)
