"""Pieces both stack programs share: tags, names and the primary -> dr output contract."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from components.backup import RegionBackup, RegionBackupArgs
from components.foundation import RegionalFoundation
from components.monitoring import RegionMonitoring, RegionMonitoringArgs
from components.storage import DataBuckets, DataBucketsArgs
from model.config import DrMode, Role, Severity, StackConfig

# Outputs of the primary stack that the dr stack reads through its StackReference. The primary
# exports exactly these names; a test holds both sides to this tuple.
PRIMARY_CONTRACT: tuple[str, ...] = (
    "role",
    "name",
    "region",
    "dr_region",
    "account_id",
    "kms_key_arn",
    "app_key_arn",
    "data_buckets",
    "databases",
    "tables",
)


def name_prefix(config: StackConfig) -> str:
    """Physical name prefix: `<system>-<role>`, e.g. `reskflow-primary`."""
    return f"{config.name}-{config.role.value}"


def stack_tags(config: StackConfig, stack: str) -> dict[str, str]:
    """Provider default tags. Config tags win over nothing: the bundle's own keys are fixed."""
    tags = dict(config.tags)
    tags.update(
        {
            "system": config.name,
            "environment": config.environment,
            "resilience-role": config.role.value,
            "resilience-stack": stack,
            "managed-by": "pulumi",
        }
    )
    return dict(sorted(tags.items()))


def export_monitoring(monitoring: RegionMonitoring) -> None:
    """The alarm inventory (severity, threshold, cost of each alarm) and its total."""
    pulumi.export("alarms", [entry.as_output() for entry in monitoring.inventory])
    pulumi.export("alarm_count", len(monitoring.inventory))
    pulumi.export("monitoring_monthly_usd", monitoring.monthly_usd)
    pulumi.export(
        "alarm_topics", {s.value: arn for s, arn in monitoring.escalation.topic_arns.items()}
    )


def compose_region(
    config: StackConfig,
    prefix: str,
    base: RegionalFoundation,
    replications: Sequence[Mapping[str, pulumi.Input[str]]] = (),
) -> tuple[RegionMonitoring, RegionBackup, DataBuckets]:
    """What both stacks build on their foundation: monitoring, backup (whose failures notify
    the monitoring's warning topic) and the region's data buckets."""
    monitoring = RegionMonitoring(
        f"{prefix}-monitoring",
        RegionMonitoringArgs(
            config=config,
            role=config.role,
            region=config.region,
            provider=base.provider,
            key_arn=base.key_arn,
            account_id=base.account_id,
            partition=base.partition,
            name_prefix=prefix,
            replications=replications,
        ),
    )
    backup = RegionBackup(
        f"{prefix}-backup",
        RegionBackupArgs(
            system=config.name,
            role=config.role,
            region=config.region,
            peer_region=config.peer_region,
            config=config.backup,
            provider=base.provider,
            key_arn=base.key_arn,
            account_id=base.account_id,
            partition=base.partition,
            warning_topic_arn=monitoring.escalation.topic_arns[Severity.WARNING],
        ),
    )
    data = DataBuckets(
        f"{prefix}-data",
        DataBucketsArgs(
            system=config.name,
            region=config.region,
            buckets=config.data_buckets,
            provider=base.provider,
            key_arn=base.key_arn,
            account_id=base.account_id,
            access_log_retention_days=config.logs.audit_retention_days,
            backup_tags=config.role is Role.PRIMARY or config.dr.mode is DrMode.ACTIVE,
        ),
    )
    export_monitoring(monitoring)
    pulumi.export("backup_vault_arn", backup.vault_arn)
    pulumi.export("backup_copy_target_arn", backup.peer_vault_arn)
    pulumi.export("backup_plan_ids", {name: plan.id for name, plan in backup.plans.items()})
    pulumi.export("access_log_bucket", data.log_bucket.bucket.id)
    return monitoring, backup, data


def continuous_backup(config: StackConfig, backup_class: str | None) -> bool:
    """Whether a resource's backup class takes continuous (point-in-time) backups."""
    data_class = config.backup.classes.get(backup_class) if backup_class else None
    return data_class is not None and data_class.continuous_days is not None


def bucket_outputs(data: DataBuckets) -> dict[str, dict[str, pulumi.Output[str]]]:
    return {name: {"bucket": b.bucket.id, "arn": b.bucket.arn} for name, b in data.buckets.items()}


def database_outputs(
    databases: Mapping[str, Mapping[str, pulumi.Output[str]]],
) -> dict[str, dict[str, pulumi.Output[str]]]:
    return {name: dict(outputs) for name, outputs in databases.items()}
