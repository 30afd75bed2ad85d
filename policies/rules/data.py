"""Rules for data at rest and its copies: encryption with customer-managed keys, public
access, deletion protection, backups of replicas, cross-region backup copies; backup plans
that AWS Backup accepts as written (moto accepts any schedule, copy target and lifecycle);
and, over a whole stack, RDS log groups made before RDS makes its own and parameter groups
of the family the engine runs."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policies.rules.core import (
    Check,
    Framework,
    ResourceView,
    Rule,
    Severity,
    holds_opaque,
    opaque,
    statements,
)
from policies.rules.stack import StackRule, StackView, Violation

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
    encrypted = resource.props.get("storageEncrypted")
    if opaque(encrypted):
        return
    if encrypted is not True:
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
    value = resource.props.get(field)
    if not opaque(value) and value is not True:
        yield f"{resource.name}: deletion protection is off"


def _replica_backups(resource: ResourceView) -> Iterator[str]:
    source, days = (
        resource.props.get("replicateSourceDb"),
        resource.props.get("backupRetentionPeriod"),
    )
    if opaque(source) or opaque(days):
        return
    if source and not days:
        yield (
            f"{resource.name}: a read replica without automated backups would be promoted "
            "without any"
        )


def _multi_az(resource: ResourceView) -> Iterator[str]:
    value = resource.props.get("multiAz")
    if not opaque(value) and value is not True:
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
        if not opaque(resource.props.get(key)) and resource.props.get(key) is not True
    ]
    if missing:
        yield f"{resource.name}: public access block leaves {', '.join(missing)} off"


def _versioning(resource: ResourceView) -> Iterator[str]:
    config = resource.props.get("versioningConfiguration") or {}
    if opaque(config) or (isinstance(config, dict) and opaque(config.get("status"))):
        return
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
    if opaque(pitr) or (isinstance(pitr, dict) and opaque(pitr.get("enabled"))):
        return
    if not isinstance(pitr, dict) or pitr.get("enabled") is not True:
        yield f"{resource.name}: point-in-time recovery is off"


def _dynamodb_cmk(resource: ResourceView) -> Iterator[str]:
    sse = resource.props.get("serverSideEncryption") or {}
    if opaque(sse) or (isinstance(sse, dict) and opaque(sse.get("enabled"))):
        return
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
    """A resource policy that denies requests not made over TLS. A policy built from ARNs is
    unknown until they exist (a preview): it is judged once it is known."""
    policy = resource.props.get("policy")
    for statement in statements(policy):
        condition = statement.get("Condition") or {}
        secure = (condition.get("Bool") or {}).get("aws:SecureTransport")
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false":
            return
    if holds_opaque(policy) or holds_opaque(statements(policy)):
        return
    yield f"{resource.name}: the policy does not deny requests made without TLS"


def _automated_backups(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("replicateSourceDb"):
        return  # a replica's own retention is aws-rds-replica-has-backups
    days = resource.props.get("backupRetentionPeriod")
    if opaque(days):
        return
    if not isinstance(days, int) or days < MIN_DB_BACKUP_DAYS:
        yield (
            f"{resource.name}: automated backups kept {days or 0} days, fewer than "
            f"{MIN_DB_BACKUP_DAYS}"
        )


def _lambda_environment(resource: ResourceView) -> Iterator[str]:
    environment = resource.props.get("environment")
    if opaque(environment):
        return  # whether it holds variables at all is not known
    if environment and not _cmk(resource.props.get("kmsKeyArn")):
        yield (
            f"{resource.name}: environment variables are not encrypted with a "
            "customer-managed KMS key"
        )


# -- backup plans as AWS Backup accepts them -------------------------------------------------

# "A cron expression in UTC specifying when Backup initiates a backup job" (AWS Backup API,
# BackupRuleInput ScheduleExpression), in the AWS cron form of six fields: minutes, hours,
# day-of-month, month, day-of-week, year (EventBridge User Guide, Schedule expressions: cron).
_CRON = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
_CRON_FIELDS = (
    ("minutes", re.compile(r"^[0-9,\-*/]+$")),
    ("hours", re.compile(r"^[0-9,\-*/]+$")),
    ("day-of-month", re.compile(r"^([0-9,\-*/?LW]+)$")),
    ("month", re.compile(r"^([0-9A-Za-z,\-*/]+)$")),
    ("day-of-week", re.compile(r"^([0-9A-Za-z,\-*?L#]+)$")),
    ("year", re.compile(r"^[0-9,\-*/]+$")),
)


def _known(value: object) -> bool:
    return value is not None and not opaque(value)


def _plan_rules(resource: ResourceView) -> list[Mapping[str, Any]]:
    rules = resource.props.get("rules") or []
    return [r for r in rules if isinstance(r, Mapping)] if isinstance(rules, list) else []


def cron_problem(schedule: str) -> str | None:
    """Why AWS Backup would refuse a schedule expression, or None."""
    match = _CRON.match(schedule.strip())
    if match is None:
        return (
            "is not an AWS cron expression, cron(minutes hours day-of-month month day-of-week year)"
        )
    fields = match["fields"].split()
    if len(fields) != len(_CRON_FIELDS):
        return f"has {len(fields)} fields; the AWS cron form has 6 (the year last)"
    for (what, pattern), value in zip(_CRON_FIELDS, fields, strict=True):
        if not pattern.match(value):
            return f"has an invalid {what} field '{value}'"
    day_of_month, day_of_week = fields[2], fields[4]
    # "You can't specify the Day-of-month and Day-of-week fields in the same cron
    # expression. If you specify a value or a * (asterisk) in one of the fields, you must
    # use a ? (question mark) in the other" (EventBridge, Schedule expressions: cron).
    if (day_of_month == "?") == (day_of_week == "?"):
        return "needs a ? in exactly one of day-of-month and day-of-week"
    # Snapshot backups "can be taken as frequently as every hour" (AWS Backup Developer
    # Guide, Continuous backups and PITR); a shorter schedule is answered with "The
    # interval between backup jobs shouldn't be less than 60 minutes" (the error as quoted
    # on AWS re:Post, "Error scheduling backup every ten minutes in AWS Backup"). One job an
    # hour at most means a single minute.
    if not re.fullmatch(r"[0-9]|[1-5][0-9]", fields[0]):
        return (
            f"runs more than once an hour (minutes '{fields[0]}'); AWS Backup jobs are at "
            "least 60 minutes apart"
        )
    return None


def _plan_schedules(resource: ResourceView) -> Iterator[str]:
    for rule in _plan_rules(resource):
        schedule = rule.get("schedule")
        if not _known(schedule):
            continue  # AWS Backup's default, cron(0 5 ? * * *)
        problem = cron_problem(str(schedule))
        if problem:
            name = rule.get("ruleName", "?")
            yield f"{resource.name}: rule {name}: schedule '{schedule}' {problem}"


# "An Amazon Resource Name (ARN) that uniquely identifies the destination backup vault for
# the copied backup. For example, arn:aws:backup:us-east-1:123456789012:backup-vault:
# aBackupVault" (AWS Backup API, CopyAction); vault names are ^[a-zA-Z0-9\-\_]{2,50}$.
VAULT_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:backup:[a-z]{2}(-[a-z]+)+-\d:\d{12}:backup-vault:[a-zA-Z0-9\-_]{2,50}$"
)


def _copy_targets(resource: ResourceView) -> Iterator[str]:
    for rule in _plan_rules(resource):
        for copy in rule.get("copyActions") or []:
            target = copy.get("destinationVaultArn") if isinstance(copy, Mapping) else None
            if _known(target) and not VAULT_ARN.match(str(target)):
                yield (
                    f"{resource.name}: rule {rule.get('ruleName', '?')} copies to '{target}', "
                    "which is not a backup vault ARN"
                )


COLD_STORAGE_MINIMUM_DAYS = 90
CONTINUOUS_MAX_DAYS = 35


def _lifecycle_problems(lifecycle: object, *, continuous: bool) -> Iterator[str]:
    if not isinstance(lifecycle, Mapping):
        return
    cold, delete = lifecycle.get("coldStorageAfter"), lifecycle.get("deleteAfter")
    if continuous and isinstance(cold, int) and cold > 0:
        # "Continuous backups don't support transition to cold storage" (Continuous
        # backups and PITR, considerations).
        yield "moves a continuous backup to cold storage, which continuous backups don't support"
    if continuous and isinstance(delete, int) and delete > CONTINUOUS_MAX_DAYS:
        # "The minimum retention period is 1 day. The maximum retention period is 35 days"
        # (Changing your retention period, continuous backups).
        yield f"keeps a continuous backup {delete} days; at most {CONTINUOUS_MAX_DAYS}"
    if (
        isinstance(cold, int)
        and cold > 0
        and isinstance(delete, int)
        and delete > 0
        and delete < cold + COLD_STORAGE_MINIMUM_DAYS
    ):
        # DeleteAfterDays: "This value must be at least 90 days after the number of days
        # specified in MoveToColdStorageAfterDays" (AWS Backup API, Lifecycle).
        yield (
            f"deletes after {delete} days, less than {COLD_STORAGE_MINIMUM_DAYS} days after "
            f"moving to cold storage at {cold}"
        )


def _plan_lifecycles(resource: ResourceView) -> Iterator[str]:
    for rule in _plan_rules(resource):
        name = rule.get("ruleName", "?")
        continuous = rule.get("enableContinuousBackup") is True
        for problem in _lifecycle_problems(rule.get("lifecycle"), continuous=continuous):
            yield f"{resource.name}: rule {name} {problem}"
        for copy in rule.get("copyActions") or []:
            if isinstance(copy, Mapping):
                # A copy of a continuous backup is a snapshot: the 35-day limit is not its.
                for problem in _lifecycle_problems(copy.get("lifecycle"), continuous=False):
                    yield f"{resource.name}: rule {name}'s copy {problem}"


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
        id="aws-backup-plan-schedule-is-aws-cron",
        description="Backup rules are scheduled with the six-field AWS cron form, a ? in "
        "exactly one of day-of-month and day-of-week, at most once an hour.",
        severity=Severity.HIGH,
        remediation="Write the schedule as cron(M H ? * * *) (or a day of month with ? for "
        "the day of week); model.config.Frequency.cron makes them so.",
        url="https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html",
        check=_plan_schedules,
        resource_types=("aws:backup/plan:Plan",),
        frameworks=(Framework("SOC 2", "A1.2"), Framework("ISO 27001", "A.8.13")),
    ),
    Rule(
        id="aws-backup-plan-copy-target-is-vault-arn",
        description="Copy actions name their destination as a backup vault ARN.",
        severity=Severity.HIGH,
        remediation="Point destination_vault_arn at arn:<partition>:backup:<region>:<account>:"
        "backup-vault:<name> (components/backup.py vault_arn).",
        url="https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CopyAction.html",
        check=_copy_targets,
        resource_types=("aws:backup/plan:Plan",),
        frameworks=(Framework("SOC 2", "A1.2"), Framework("ISO 27001", "A.8.13")),
    ),
    Rule(
        id="aws-backup-plan-lifecycle-accepted",
        description="Lifecycles keep cold recovery points 90 days and continuous backups warm "
        "and at most 35 days.",
        severity=Severity.HIGH,
        remediation="Make retention_days at least cold_storage_after_days + 90; keep cold "
        "storage off and continuous_days <= 35 for continuous backups.",
        url="https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Lifecycle.html",
        check=_plan_lifecycles,
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


# -- RDS log groups and parameter group families (over a whole stack) -----------------------

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
INSTANCE = "aws:rds/instance:Instance"
CLUSTER = "aws:rds/cluster:Cluster"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
CLUSTER_PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"


def _exporters(view: StackView) -> Iterator[tuple[ResourceView, str, str, list[str]]]:
    """RDS instances and Aurora clusters that export logs: (resource, scope, id, types)."""
    for resource in view.of_type(INSTANCE, CLUSTER):
        exports = resource.props.get("enabledCloudwatchLogsExports") or []
        key = "identifier" if resource.type == INSTANCE else "clusterIdentifier"
        identifier = resource.props.get(key)
        if isinstance(exports, list) and exports and _known(identifier):
            scope = "instance" if resource.type == INSTANCE else "cluster"
            yield resource, scope, str(identifier), [str(e) for e in exports if _known(e)]


def _log_group_check(view: StackView) -> Iterator[Violation]:
    """RDS "continuously streams your DB instance log records to a log group [...]
    /aws/rds/instance/instance_name/log_type" and "AWS retains log data published to
    CloudWatch Logs for an indefinite time period unless you specify a retention period"
    (RDS User Guide, Publishing database logs to Amazon CloudWatch Logs): unless the stack
    makes that group first, RDS makes one that never expires and is not under our key."""
    groups = {
        (str(g.props.get("name")), g.region): g
        for g in view.of_type(LOG_GROUP)
        if g.props.get("name")
    }
    # A group whose name is not known yet may be the one RDS writes to.
    unnamed = {g.region for g in view.of_type(LOG_GROUP) if opaque(g.props.get("name"))}
    for resource, scope, identifier, exports in _exporters(view):
        for log_type in exports:
            name = f"/aws/rds/{scope}/{identifier}/{log_type}"
            group = groups.get((name, resource.region))
            if group is None:
                if resource.region in unnamed:
                    continue
                yield Violation(
                    f"{resource.name}: exports its {log_type} log to {name}, which this stack "
                    "does not create: RDS would create it without retention or our key",
                    resource.urn,
                )
            elif opaque(group.props.get("retentionInDays")):
                continue
            elif group.props.get("retentionInDays") is None or not group.props.get("kmsKeyId"):
                yield Violation(
                    f"{group.name}: {name} needs a retention and the region's KMS key",
                    group.urn,
                )


def _family_major(family: str) -> tuple[str, str] | None:
    match = re.fullmatch(r"(aurora-postgresql|postgres)(\d+)", family)
    return (match[1], match[2]) if match else None


def _source_versions(view: StackView) -> dict[str, str]:
    """The engine version each of the primary's databases runs, by ARN and global cluster
    id (the primary's `databases` output), for replicas that name no version themselves."""
    found: dict[str, str] = {}
    databases = view.primary_outputs().get("databases")
    for entry in databases.values() if isinstance(databases, Mapping) else []:
        if not isinstance(entry, Mapping) or not entry.get("engine_version"):
            continue
        for key in ("arn", "global_cluster_id"):
            if entry.get(key):
                found[str(entry[key])] = str(entry["engine_version"])
    return found


def _family_check(view: StackView) -> Iterator[Violation]:
    """A DB parameter group "Must be in the same DB parameter group family as the DB
    instance" (RDS API Reference, ModifyDBInstance, DBParameterGroupName), and for a major
    upgrade "a new DB parameter group in the DB parameter group family for the new engine
    version must be specified" (EngineVersion): an instance whose version's major is not its
    group's family would be refused by RDS, though offline everything passes."""
    sources = _source_versions(view)
    for resource in view.of_type(INSTANCE, CLUSTER):
        instance = resource.type == INSTANCE
        group_type = PARAMETER_GROUP if instance else CLUSTER_PARAMETER_GROUP
        group_key = "parameterGroupName" if instance else "dbClusterParameterGroupName"
        group_name = resource.props.get(group_key)
        if not _known(group_name):
            continue
        group = next(
            (
                g
                for g in view.of_type(group_type)
                if g.props.get("name") == group_name and g.region == resource.region
            ),
            None,
        )
        family = group.props.get("family") if group else None
        if not _known(family):
            continue
        parsed = _family_major(str(family))
        version = resource.props.get("engineVersion")
        source = resource.props.get("replicateSourceDb") or resource.props.get(
            "globalClusterIdentifier"
        )
        if not _known(version) and _known(source):
            version = sources.get(str(source))  # a replica runs its source's version
        if parsed is None or not _known(version):
            continue
        major = str(version).split(".")[0]
        if parsed[1] != major:
            yield Violation(
                f"{resource.name}: runs version {version} with parameter group {group_name} "
                f"of family {family}; RDS needs a {parsed[0]}{major} group for it",
                resource.urn,
            )


STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        id="aws-rds-exported-logs-have-managed-log-groups",
        description="Every log an RDS instance or Aurora cluster exports goes to a log group "
        "the stack creates first, with a retention and the region's KMS key.",
        severity=Severity.MEDIUM,
        remediation="Create /aws/rds/<instance|cluster>/<id>/<log type> before the database "
        "(components/database.py exported_log_groups does, and the database depends on it).",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html",
        check=_log_group_check,
        frameworks=(
            Framework("PCI DSS 4.0", "10.5.1"),
            Framework("PCI DSS 4.0", "10.3.2"),
            Framework("ISO 27001", "A.8.15"),
        ),
        applies=lambda view: any(True for _ in _exporters(view)),
    ),
    StackRule(
        id="aws-rds-parameter-group-family-matches-engine",
        description="Each RDS instance and Aurora cluster uses a parameter group of the family "
        "of the major version it runs (a replica: its source's).",
        severity=Severity.HIGH,
        remediation="Derive the family from the major version (components/database.py "
        "parameter_family) and put it in the group's name so a new major gets a new group.",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html",
        check=_family_check,
        frameworks=(Framework("ISO 27001", "A.8.32"), Framework("SOC 2", "CC8.1")),
        applies=lambda view: bool(view.of_type(INSTANCE, CLUSTER)),
    ),
)
