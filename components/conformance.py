"""AWS Config conformance packs: the live account's compliance evidence.

Each pack is a list of AWS Config managed rules (identifiers from the AWS Config developer
guide) named after AWS's sample pack of the same subject, rendered here into a conformance
pack template. Parameters come from the stack config, the same numbers the policy pack
checks before deployment: the backup schedule and retention of the data classes, the peer
region backups are copied to, the vault lock, the shortest log retention. Global rules (IAM,
the root user, account-level settings) run only where the stack records global resources
(the primary), so the account's evidence is not doubled.

Packs (config `resilience:security.conformance_packs`):
- `aws-backup`: after "Operational Best Practices for AWS Backup" (every data store type the
  bundle backs up is in a backup plan, with a copy in the peer region and, when the vault is
  locked, in a locked vault; recovery points encrypted, not deletable by hand, kept at least
  as long as the shortest rule). Like AWS's pack it judges every resource of those types in
  the region, including what the bundle leaves out on purpose (replicas while they
  replicate, the access-log and audit buckets): the policy rule
  aws-backup-every-data-store-selected is the bundle's own judgment of coverage.
- `cis-aws-3.0`: the CIS AWS Foundations Benchmark v3.0.0 controls AWS Config can evaluate.
- `pci-dss-4.0`: a subset of "Operational Best Practices for PCI DSS 4.0" for what the bundle
  deploys (encryption, public access, TLS, audit logging, threat detection, backups).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import yaml

from model.config import ConformancePackName, StackConfig

# The CIS benchmark's password policy (1.8 length 14, 1.9 reuse 24; PCI DSS 4.0 8.3.6 asks 12).
PASSWORD_POLICY = {"MinimumPasswordLength": "14", "PasswordReusePrevention": "24"}
KEY_AGE_DAYS = "90"  # CIS 1.14, PCI DSS 4.0 8.3.9
UNUSED_CREDENTIAL_DAYS = "45"  # CIS 1.12


@dataclass(frozen=True)
class ManagedRule:
    """One AWS Config managed rule in a pack."""

    identifier: str  # e.g. CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED
    controls: str  # the framework controls it provides evidence for
    parameters: Mapping[str, str] = field(default_factory=dict)
    # Account-wide (IAM, root, account settings): evaluated only where global resources are
    # recorded.
    global_: bool = False

    @property
    def rule_name(self) -> str:
        return self.identifier.lower().replace("_", "-")

    @property
    def logical_id(self) -> str:
        return "".join(part.capitalize() for part in self.identifier.split("_"))


@dataclass(frozen=True)
class PackContext:
    """What a pack's parameters depend on."""

    config: StackConfig
    region: str
    peer_region: str
    records_global: bool


def _backup_numbers(config: StackConfig) -> tuple[int, int]:
    """(hours between backups of the least frequently backed-up class, shortest retention in
    days): a plan weaker than every class the config declares is non-compliant."""
    hours, retention = [], []
    for data_class in config.backup.classes.values():
        if data_class.continuous_days is not None:
            hours.append(24)  # the continuous rule's daily snapshot
            retention.append(data_class.continuous_days)
        if data_class.rules:
            hours.append(min(rule.frequency.minutes for rule in data_class.rules) // 60)
            retention += [rule.retention_days for rule in data_class.rules]
    return (max(hours) if hours else 24), (min(retention) if retention else 7)


def _aws_backup(ctx: PackContext) -> list[ManagedRule]:
    config = ctx.config
    every_hours, keep_days = _backup_numbers(config)
    protected = {"crossRegionList": ctx.peer_region}
    lock = config.backup.vault_lock
    if lock is not None:
        protected["backupVaultLockCheck"] = "True"
        protected["minRetentionDays"] = str(lock.min_retention_days)
        if lock.max_retention_days is not None:
            protected["maxRetentionDays"] = str(lock.max_retention_days)
    covered = [
        ("AURORA", "Aurora clusters"),
        ("DYNAMODB", "DynamoDB tables"),
        ("EBS", "EBS volumes"),
        ("EC2", "EC2 instances"),
        ("EFS", "EFS file systems"),
        ("RDS", "RDS instances"),
        ("S3", "S3 buckets"),
    ]
    return [
        ManagedRule(
            "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
            "backup plans as frequent and as long as the data classes",
            {
                "requiredFrequencyUnit": "hours",
                "requiredFrequencyValue": str(every_hours),
                "requiredRetentionDays": str(keep_days),
            },
        ),
        ManagedRule("BACKUP_RECOVERY_POINT_ENCRYPTED", "recovery points encrypted"),
        ManagedRule(
            "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", "no recovery point deleted by hand"
        ),
        ManagedRule(
            "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK",
            "recovery points kept at least as long as the shortest rule",
            {"requiredRetentionDays": str(keep_days)},
        ),
        *(
            ManagedRule(
                f"{kind}_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
                f"{what} in a backup plan copying to {ctx.peer_region}",
                protected,
            )
            for kind, what in covered
        ),
    ]


def _cis(_: PackContext) -> list[ManagedRule]:
    return [
        ManagedRule("IAM_ROOT_ACCESS_KEY_CHECK", "CIS 1.4", global_=True),
        ManagedRule("ROOT_ACCOUNT_MFA_ENABLED", "CIS 1.5", global_=True),
        ManagedRule("ROOT_ACCOUNT_HARDWARE_MFA_ENABLED", "CIS 1.6", global_=True),
        ManagedRule("IAM_PASSWORD_POLICY", "CIS 1.8, 1.9", PASSWORD_POLICY, global_=True),
        ManagedRule("MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS", "CIS 1.10", global_=True),
        ManagedRule(
            "IAM_USER_UNUSED_CREDENTIALS_CHECK",
            "CIS 1.12",
            {"maxCredentialUsageAge": UNUSED_CREDENTIAL_DAYS},
            global_=True,
        ),
        ManagedRule(
            "ACCESS_KEYS_ROTATED", "CIS 1.14", {"maxAccessKeyAge": KEY_AGE_DAYS}, global_=True
        ),
        ManagedRule("IAM_USER_NO_POLICIES_CHECK", "CIS 1.15", global_=True),
        ManagedRule("IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS", "CIS 1.16", global_=True),
        ManagedRule("S3_BUCKET_SSL_REQUESTS_ONLY", "CIS 2.1.1"),
        ManagedRule("S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC", "CIS 2.1.4", global_=True),
        ManagedRule("EC2_EBS_ENCRYPTION_BY_DEFAULT", "CIS 2.2.1"),
        ManagedRule("RDS_STORAGE_ENCRYPTED", "CIS 2.3.1"),
        ManagedRule("RDS_AUTOMATIC_MINOR_VERSION_UPGRADE_ENABLED", "CIS 2.3.2"),
        ManagedRule("RDS_INSTANCE_PUBLIC_ACCESS_CHECK", "CIS 2.3.3"),
        ManagedRule("EFS_ENCRYPTED_CHECK", "CIS 2.4.1"),
        ManagedRule("MULTI_REGION_CLOUD_TRAIL_ENABLED", "CIS 3.1", global_=True),
        ManagedRule("CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED", "CIS 3.2", global_=True),
        ManagedRule("CLOUD_TRAIL_ENCRYPTION_ENABLED", "CIS 3.5", global_=True),
        ManagedRule("CMK_BACKING_KEY_ROTATION_ENABLED", "CIS 3.6"),
        ManagedRule("VPC_FLOW_LOGS_ENABLED", "CIS 3.7"),
        ManagedRule("SECURITYHUB_ENABLED", "CIS 4.16"),
        ManagedRule("NACL_NO_UNRESTRICTED_SSH_RDP", "CIS 5.1"),
        ManagedRule("INCOMING_SSH_DISABLED", "CIS 5.2"),
        ManagedRule("VPC_DEFAULT_SECURITY_GROUP_CLOSED", "CIS 5.4"),
        ManagedRule("EC2_IMDSV2_CHECK", "CIS 5.6"),
    ]


def _pci(ctx: PackContext) -> list[ManagedRule]:
    logs = ctx.config.logs
    shortest_log_days = min(
        logs.app_retention_days, logs.audit_retention_days, logs.default_retention_days
    )
    return [
        ManagedRule("S3_ACCOUNT_LEVEL_PUBLIC_ACCESS_BLOCKS_PERIODIC", "1.4.4", global_=True),
        ManagedRule("S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED", "1.4.4"),
        ManagedRule("RDS_INSTANCE_PUBLIC_ACCESS_CHECK", "1.4.4"),
        ManagedRule("EC2_IMDSV2_CHECK", "2.2.6"),
        ManagedRule("RDS_STORAGE_ENCRYPTED", "3.5.1"),
        ManagedRule("S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "3.5.1"),
        ManagedRule("DYNAMODB_TABLE_ENCRYPTED_KMS", "3.5.1"),
        ManagedRule("SNS_ENCRYPTED_KMS", "3.5.1"),
        ManagedRule("CLOUDWATCH_LOG_GROUP_ENCRYPTED", "3.5.1"),
        ManagedRule("SECRETSMANAGER_USING_CMK", "3.5.1"),
        ManagedRule("BACKUP_RECOVERY_POINT_ENCRYPTED", "3.5.1"),
        ManagedRule("CMK_BACKING_KEY_ROTATION_ENABLED", "3.7.4"),
        ManagedRule("S3_BUCKET_SSL_REQUESTS_ONLY", "4.2.1"),
        ManagedRule("ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK", "4.2.1"),
        ManagedRule("RDS_AUTOMATIC_MINOR_VERSION_UPGRADE_ENABLED", "6.3.3"),
        ManagedRule("IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS", "7.2.1", global_=True),
        ManagedRule("IAM_ROOT_ACCESS_KEY_CHECK", "7.2.1", global_=True),
        ManagedRule("ROOT_ACCOUNT_MFA_ENABLED", "8.4.1", global_=True),
        ManagedRule("MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS", "8.4.2", global_=True),
        ManagedRule("IAM_PASSWORD_POLICY", "8.3.6, 8.3.7", PASSWORD_POLICY, global_=True),
        ManagedRule(
            "ACCESS_KEYS_ROTATED", "8.3.9", {"maxAccessKeyAge": KEY_AGE_DAYS}, global_=True
        ),
        ManagedRule("MULTI_REGION_CLOUD_TRAIL_ENABLED", "10.2.1", global_=True),
        ManagedRule("RDS_LOGGING_ENABLED", "10.2.1"),
        ManagedRule("CLOUD_TRAIL_ENCRYPTION_ENABLED", "10.3.2", global_=True),
        ManagedRule("CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED", "10.3.4", global_=True),
        ManagedRule("CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED", "10.4.1", global_=True),
        ManagedRule(
            "CW_LOGGROUP_RETENTION_PERIOD_CHECK",
            "10.5.1 (the policy pack's shortest log retention)",
            {"MinRetentionTime": str(shortest_log_days)},
        ),
        ManagedRule("GUARDDUTY_ENABLED_CENTRALIZED", "11.5.1"),
        ManagedRule("SECURITYHUB_ENABLED", "10.4.1.1"),
        ManagedRule("DB_INSTANCE_BACKUP_ENABLED", "12.10.1"),
    ]


PACKS: dict[str, Callable[[PackContext], list[ManagedRule]]] = {
    "aws-backup": _aws_backup,
    "cis-aws-3.0": _cis,
    "pci-dss-4.0": _pci,
}
TITLES: dict[str, str] = {
    "aws-backup": "Operational Best Practices for AWS Backup",
    "cis-aws-3.0": "CIS AWS Foundations Benchmark v3.0.0",
    "pci-dss-4.0": "Operational Best Practices for PCI DSS 4.0 (the bundle's subset)",
}


def pack_rules(pack: ConformancePackName, ctx: PackContext) -> list[ManagedRule]:
    return [rule for rule in PACKS[pack](ctx) if ctx.records_global or not rule.global_]


def pack_name(name_prefix: str, pack: str) -> str:
    """Conformance pack names: a letter, then letters, digits and '-'."""
    return re.sub(r"[^A-Za-z0-9-]", "-", f"{name_prefix}-{pack}")


def template_body(pack: ConformancePackName, ctx: PackContext) -> str:
    """The conformance pack template (YAML) of one pack."""
    resources = {}
    for rule in pack_rules(pack, ctx):
        properties: dict[str, object] = {
            "ConfigRuleName": rule.rule_name,
            "Description": f"{TITLES[pack]}: {rule.controls}",
            "Source": {"Owner": "AWS", "SourceIdentifier": rule.identifier},
        }
        if rule.parameters:
            properties["InputParameters"] = dict(rule.parameters)
        resources[rule.logical_id] = {"Type": "AWS::Config::ConfigRule", "Properties": properties}
    return yaml.safe_dump({"Resources": resources}, sort_keys=True)


def summary(pack: ConformancePackName, ctx: PackContext) -> dict[str, object]:
    """The pack as the stack output shows it."""
    rules = pack_rules(pack, ctx)
    return {"title": TITLES[pack], "rules": [r.identifier for r in rules]}
