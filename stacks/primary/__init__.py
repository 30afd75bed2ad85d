"""The primary region's program: it never reads the dr stack (one-way dependency)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.database import PrimaryDatabaseArgs, primary_database
from components.dynamo import DynamoGlobalTable, GlobalTableArgs
from components.foundation import FoundationArgs, RegionalFoundation
from components.replication import rule_id
from components.storage import data_bucket_name
from model.config import StackConfig
from stacks.common import (
    PRIMARY_CONTRACT,
    bucket_outputs,
    compose_region,
    continuous_backup,
    database_outputs,
    name_prefix,
    stack_tags,
)


def program(config: StackConfig, stack: str) -> None:
    prefix = name_prefix(config)
    base = RegionalFoundation(
        prefix,
        FoundationArgs(
            region=config.region,
            name_prefix=prefix,
            tags=stack_tags(config, stack),
            key_deletion_window_days=config.kms.deletion_window_days,
            app_key="primary" if config.kms.app_key else None,
        ),
    )

    # The dr stack sets up replication to buckets whose names both sides compute; the
    # metrics appear in this (the source) region, so the alarms are created here.
    def bucket_in(region: str, bucket: str) -> pulumi.Output[str]:
        return base.account_id.apply(lambda a: data_bucket_name(config.name, bucket, region, a))

    replications: list[Mapping[str, pulumi.Input[str]]] = [
        {
            "source_bucket": bucket_in(config.region, bucket.name),
            "destination_bucket": bucket_in(config.dr.region, bucket.name),
            "rule_id": rule_id(bucket.name, config.dr.region),
        }
        for bucket in config.data_buckets
    ]
    _, _, data = compose_region(config, prefix, base, replications)
    if config.databases and config.network.primary is None:
        raise ValueError("databases need resilience:network.primary (the loader checks this)")
    databases = {
        db.name: primary_database(
            f"{prefix}-{db.name}",
            PrimaryDatabaseArgs(
                system=config.name,
                database=db,
                network=config.network.primary,  # type: ignore[arg-type]  # loader checks
                provider=base.provider,
                key_arn=base.key_arn,
                dr_region=config.dr.region,
                continuous_backup=continuous_backup(config, db.backup_class),
            ),
        )
        for db in config.databases
    }
    tables = {
        table.name: DynamoGlobalTable(
            f"{prefix}-{table.name}",
            GlobalTableArgs(
                system=config.name,
                table=table,
                provider=base.provider,
                key_arn=base.app_key_arn,  # type: ignore[arg-type]  # the loader requires it
            ),
        ).table
        for table in config.tables
    }
    outputs: dict[str, pulumi.Input[object] | None] = {
        "role": config.role.value,
        "name": config.name,
        "region": config.region,
        "dr_region": config.dr.region,
        "account_id": base.account_id,
        "kms_key_arn": base.key_arn,
        "app_key_arn": base.app_key_arn,
        "data_buckets": bucket_outputs(data),
        "databases": database_outputs(databases),
        "tables": {name: {"name": t.name, "arn": t.arn} for name, t in tables.items()},
    }
    assert tuple(outputs) == PRIMARY_CONTRACT
    for key, value in outputs.items():
        pulumi.export(key, value)
    pulumi.export("services", [service.name for service in config.services])
    pulumi.export("rto_minutes", config.dr.rto_minutes)
    pulumi.export("rpo_minutes", config.dr.rpo_minutes)
