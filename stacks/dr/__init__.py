"""The DR region's program. It reads the primary's outputs through a StackReference and
creates resources only with the DR region's provider, so `pulumi up` on this stack works
while the primary region is down."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from components.database import ReplicaDatabaseArgs, replica_database
from components.dns_failover import HealthCheckAlarms
from components.dynamo import DynamoTableReplica, TableReplicaArgs
from components.foundation import FoundationArgs, RegionalFoundation
from components.monitoring import RegionMonitoring
from components.replication import S3Replication, S3ReplicationArgs
from components.security_baseline import recorder_here
from model.config import DrMode, Role, Severity, StackConfig
from model.loader import InconsistentStacksError
from model.regions import ROUTE53_METRICS_REGION
from stacks.common import (
    Traffic,
    bucket_outputs,
    compose_region,
    compose_security,
    compose_traffic,
    continuous_backup,
    database_outputs,
    enhanced_monitoring_logs,
    enhanced_monitoring_role,
    finish_monitoring,
    name_prefix,
    recovery_output,
    route53_alarms,
    serving_gate,
    stack_tags,
    tagged_provider,
)
from stacks.kubernetes import export_kubernetes


def _expect(ref_name: str, key: str, expected: object) -> Callable[[Any], Any]:
    def check(actual: Any) -> Any:
        if actual != expected:
            raise InconsistentStacksError(
                f"primary stack {ref_name} exports {key}={actual!r} but this stack's config "
                f"says {expected!r}: both stacks must describe the same system"
            )
        return actual

    return check


def _entry(output: pulumi.Output[Any], name: str) -> pulumi.Output[Any]:
    """`output[name]` of a primary output map."""
    return output.apply(lambda mapping: mapping[name])


def _field(output: pulumi.Output[Any], name: str, key: str) -> pulumi.Output[str]:
    """`output[name][key]` of a primary output map, as a string."""
    return output.apply(lambda mapping: str(mapping[name][key]))


def health_check_alarms_here(config: StackConfig) -> bool:
    """Whether this stack alarms on its health checks' status (published in us-east-1).
    Not in pilot-light: with no compute the DR endpoint is meant to be down. Not in active
    mode when us-east-1 is the primary region: the dr stack then makes no call there."""
    if config.dr.mode is DrMode.PILOT_LIGHT:
        return False
    return not (config.dr.mode is DrMode.ACTIVE and config.primary.region == ROUTE53_METRICS_REGION)


def _route53_alarms(
    config: StackConfig,
    prefix: str,
    *,
    base: RegionalFoundation,
    monitoring: RegionMonitoring,
    traffic: Traffic,
    primary: pulumi.StackReference,
    tags: pulumi.Input[dict[str, str]],
) -> HealthCheckAlarms:
    assert traffic.endpoints is not None
    if config.region == ROUTE53_METRICS_REGION:
        provider, topics = base.provider, dict(monitoring.escalation.topic_arns)
    else:
        provider = tagged_provider(f"{prefix}-route53-metrics", ROUTE53_METRICS_REGION, tags)
        # The primary stack keeps escalation topics in us-east-1 for exactly this.
        exported = primary.require_output("route53_alarm_topics")
        topics = {s: _entry(exported, s.value) for s in Severity}
    # Retained when dropped: switching to active must not call the primary region.
    retain = config.primary.region == ROUTE53_METRICS_REGION
    return route53_alarms(config, prefix, traffic.endpoints, provider, topics, retain=retain)


def program(config: StackConfig, stack: str) -> None:
    assert config.primary_stack is not None  # the loader requires it for role dr
    ref_name = config.primary_stack
    primary = pulumi.StackReference(ref_name)
    checks: list[pulumi.Output[Any]] = [
        primary.require_output(key).apply(_expect(ref_name, key, expected))
        for key, expected in (
            ("name", config.name),
            ("region", config.primary.region),
            ("dr_region", config.dr.region),
            ("services", [service.name for service in config.services]),
        )
    ]
    prefix = name_prefix(config)
    # ... and for the DR region's serving fact (model/serving.py): nothing is registered while
    # a failover is under way, or when this file would undo one.
    tags = stack_tags(config, stack)
    checks.append(serving_gate(config, prefix, tags))
    # The DR provider's tags wait for the checks: every resource depends on the provider, so
    # nothing is created until the primary is confirmed to be the one this stack expects.
    gated_tags = pulumi.Output.all(*checks).apply(lambda _: tags)
    base = RegionalFoundation(
        prefix,
        FoundationArgs(
            region=config.region,
            name_prefix=prefix,
            tags=gated_tags,
            key_deletion_window_days=config.kms.deletion_window_days,
            app_key="replica" if config.kms.app_key else None,
            app_key_primary_arn=(
                primary.require_output("app_key_arn") if config.kms.app_key else None
            ),
            config_delivery=recorder_here(config),
        ),
    )
    monitoring, _, data = compose_region(config, prefix, base)
    security = compose_security(config, prefix, base, monitoring, data)
    active = config.dr.mode is DrMode.ACTIVE
    primary_buckets = primary.require_output("data_buckets")
    replication_rules: dict[str, str] = {}
    if config.data_buckets and not active:
        # Replication is configured on the source buckets, in the primary region. In active
        # mode it leaves the program (retain_on_delete: no call to the primary region).
        source_provider = tagged_provider(
            f"{prefix}-replication-source", config.primary.region, gated_tags
        )
        replication = S3Replication(
            f"{prefix}-s3-replication",
            S3ReplicationArgs(
                buckets=config.data_buckets,
                source_buckets={
                    b.name: _field(primary_buckets, b.name, "bucket") for b in config.data_buckets
                },
                replica_buckets={n: b.bucket for n, b in data.buckets.items()},
                replica_versioning=[b.versioning for b in data.buckets.values()],
                source_region=config.primary.region,
                replica_region=config.region,
                source_provider=source_provider,
                replica_provider=base.provider,
                source_key_arn=primary.require_output("kms_key_arn"),
                replica_key_arn=base.key_arn,
                partition=base.partition,
            ),
        )
        replication_rules = replication.rule_ids
    if config.databases and config.network.dr is None:
        raise ValueError("databases need resilience:network.dr (the loader checks this)")
    primary_databases = primary.require_output("databases")
    os_metrics = enhanced_monitoring_logs(config, prefix, base)
    monitoring_role_arn = enhanced_monitoring_role(config, prefix, base)
    replicas = {
        db.name: replica_database(
            f"{prefix}-{db.name}",
            ReplicaDatabaseArgs(
                system=config.name,
                database=db,
                network=config.network.dr,  # type: ignore[arg-type]  # loader checks
                provider=base.provider,
                key_arn=base.key_arn,
                source=None,
                rpo_minutes=config.rpo_minutes_for(db.backup_class),
                monitoring_role_arn=monitoring_role_arn,
                continuous_backup=continuous_backup(config, db.backup_class),
                log_retention_days=config.logs.audit_retention_days,
                depends_on=os_metrics,
            ),
            None if active else _entry(primary_databases, db.name),
        )
        for db in config.databases
        if monitoring_role_arn is not None  # made whenever there are databases
    }
    primary_tables = primary.require_output("tables")
    table_replicas = {
        table.name: DynamoTableReplica(
            f"{prefix}-{table.name}",
            TableReplicaArgs(
                table=table,
                global_table_arn=_field(primary_tables, table.name, "arn"),
                provider=base.provider,
                key_arn=base.app_key_arn,  # type: ignore[arg-type]  # the loader requires it
                rpo_minutes=config.rpo_minutes_for(table.backup_class),
            ),
        ).replica
        for table in config.tables
    }
    traffic = compose_traffic(
        config,
        prefix,
        base,
        monitoring,
        routing_control_arn=(
            primary.require_output("recovery_controls").apply(
                lambda c: str(c["routing_controls"][Role.DR.value])
            )
            if config.failover is not None and config.failover.mechanism == "arc"
            else None
        ),
    )
    check_alarms = None
    if traffic.endpoints is not None and health_check_alarms_here(config):
        check_alarms = _route53_alarms(
            config,
            prefix,
            base=base,
            monitoring=monitoring,
            traffic=traffic,
            primary=primary,
            tags=gated_tags,
        )
    finish_monitoring(config, monitoring, traffic, check_alarms, security)
    export_kubernetes(config, prefix)
    pulumi.export("recovery", recovery_output(config, traffic))
    pulumi.export("tables", {n: {"arn": r.arn} for n, r in table_replicas.items()})
    pulumi.export("data_buckets", bucket_outputs(data))
    pulumi.export("replication_rule_ids", replication_rules)
    pulumi.export("databases", database_outputs(replicas))
    pulumi.export("role", config.role.value)
    pulumi.export("name", config.name)
    pulumi.export("region", config.region)
    pulumi.export("primary_region", config.primary.region)
    pulumi.export("dr_mode", config.dr.mode.value)
    pulumi.export("account_id", base.account_id)
    pulumi.export("kms_key_arn", base.key_arn)
    pulumi.export("app_key_arn", base.app_key_arn)
