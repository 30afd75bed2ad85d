"""The primary region's program: it never reads the dr stack (one-way dependency)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from components import pricing
from components.cost import cost_publishers
from components.database import PrimaryDatabaseArgs, primary_database
from components.dns_failover import ARC_CONTROL_PLANE_REGION, RecoveryControls, RecoveryControlsArgs
from components.dynamo import DynamoGlobalTable, GlobalTableArgs
from components.escalation import Escalation
from components.foundation import FoundationArgs, RegionalFoundation
from components.monitoring import RegionMonitoring, escalation_args
from components.replication import rule_id
from components.security_baseline import recorder_here, trail_here, trail_name
from components.storage import data_bucket_name
from model.config import Role, Severity, StackConfig
from model.regions import ROUTE53_METRICS_REGION
from stacks.common import (
    PRIMARY_CONTRACT,
    bucket_outputs,
    compose_cost,
    compose_region,
    compose_security,
    compose_traffic,
    continuous_backup,
    data_protection,
    database_outputs,
    enhanced_monitoring_logs,
    enhanced_monitoring_role,
    finish_monitoring,
    gated,
    name_prefix,
    recovery_output,
    route53_alarms,
    serving_gate,
    stack_tags,
    tagged_provider,
)
from stacks.kubernetes import export_kubernetes


def route53_alerting(
    config: StackConfig,
    tags: pulumi.Input[Mapping[str, str]],
    prefix: str,
    base: RegionalFoundation,
    monitoring: RegionMonitoring,
) -> tuple[aws.Provider, dict[Severity, pulumi.Output[str]]]:
    """A provider and escalation topics in us-east-1, where Route 53 publishes health-check
    status: this region's own when it is us-east-1, else a small slice there (key, topics).
    The dr stack alarms on its health checks through these topics too."""
    if config.region == ROUTE53_METRICS_REGION:
        return base.provider, monitoring.escalation.topic_arns
    slice_prefix = f"{prefix}-route53"
    foundation = RegionalFoundation(
        slice_prefix,
        FoundationArgs(
            region=ROUTE53_METRICS_REGION,
            name_prefix=slice_prefix,
            tags=tags,
            key_deletion_window_days=config.kms.deletion_window_days,
        ),
    )
    escalation = Escalation(
        f"{slice_prefix}-escalation",
        escalation_args(
            config, slice_prefix, foundation.key_arn, foundation.account_id, foundation.partition
        ),
        opts=pulumi.ResourceOptions(provider=foundation.provider),
    )
    return foundation.provider, escalation.topic_arns


def program(config: StackConfig, stack: str) -> None:
    prefix = name_prefix(config)
    # Every provider's tags wait for the DR region's serving fact: nothing is registered while
    # a failover is under way or the DR region serves (model/serving.py).
    plain_tags = stack_tags(config, stack)
    tags = gated(serving_gate(config, prefix, plain_tags), plain_tags)
    base = RegionalFoundation(
        prefix,
        FoundationArgs(
            region=config.region,
            name_prefix=prefix,
            tags=tags,
            key_deletion_window_days=config.kms.deletion_window_days,
            app_key="primary" if config.kms.app_key else None,
            sns_publishers=cost_publishers(config),
            cloudtrail=trail_name(config.name) if trail_here(config) else None,
            config_delivery=recorder_here(config),
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
    monitoring, _, data = compose_region(config, prefix, base, replications)
    security = compose_security(config, prefix, base, monitoring, data)
    compose_cost(config, tags, prefix, base, monitoring)
    if config.databases and config.network.primary is None:
        raise ValueError("databases need resilience:network.primary (the loader checks this)")
    os_metrics = enhanced_monitoring_logs(config, prefix, base)
    monitoring_role_arn = enhanced_monitoring_role(config, prefix, base)
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
                rpo_minutes=config.rpo_minutes_for(db.backup_class),
                monitoring_role_arn=monitoring_role_arn,
                continuous_backup=continuous_backup(config, db.backup_class),
                log_retention_days=config.logs.audit_retention_days,
                depends_on=os_metrics,
            ),
        )
        for db in config.databases
        if monitoring_role_arn is not None  # made whenever there are databases
    }
    tables = {
        table.name: DynamoGlobalTable(
            f"{prefix}-{table.name}",
            GlobalTableArgs(
                system=config.name,
                table=table,
                provider=base.provider,
                key_arn=base.app_key_arn,  # type: ignore[arg-type]  # the loader requires it
                rpo_minutes=config.rpo_minutes_for(table.backup_class),
            ),
        ).table
        for table in config.tables
    }
    controls = None
    if config.failover is not None and config.failover.mechanism == "arc":
        # ARC's control plane answers in one region only; the cluster itself spans five.
        arc_provider = (
            base.provider
            if config.region == ARC_CONTROL_PLANE_REGION
            else tagged_provider(f"{prefix}-arc-control-plane", ARC_CONTROL_PLANE_REGION, tags)
        )
        controls = RecoveryControls(
            f"{prefix}-arc",
            RecoveryControlsArgs(
                system=config.name,
                primary_region=config.region,
                dr_region=config.dr.region,
                provider=arc_provider,
            ),
        )
    # The primary's fence alarm lives in the DR region: a failover raises it there.
    fence_provider = (
        tagged_provider(f"{prefix}-fence", config.dr.region, tags)
        if config.failover is not None and any(s.dns for s in config.services)
        else None
    )
    traffic = compose_traffic(
        config,
        prefix,
        base,
        monitoring,
        routing_control_arn=controls.routing_controls[Role.PRIMARY].arn if controls else None,
        fence_provider=fence_provider,
    )
    check_alarms = None
    route53_topics = None
    if traffic.endpoints is not None:
        provider, topics = route53_alerting(config, tags, prefix, base, monitoring)
        check_alarms = route53_alarms(config, prefix, traffic.endpoints, provider, topics)
        route53_topics = {severity.value: arn for severity, arn in topics.items()}
    finish_monitoring(config, monitoring, traffic, check_alarms, security)
    export_kubernetes(config, prefix)
    recovery = recovery_output(config, traffic, controls.outputs() if controls else None)
    if controls is not None:
        recovery["recovery_controls_monthly_usd"] = pricing.ARC_CLUSTER
    pulumi.export("recovery", recovery)

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
        "route53_alarm_topics": route53_topics,
        "recovery_controls": controls.outputs() if controls else None,
    }
    assert tuple(outputs) == PRIMARY_CONTRACT
    for key, value in outputs.items():
        pulumi.export(key, value)
    pulumi.export("services", [service.name for service in config.services])
    pulumi.export("data_protection", data_protection(config, databases, data, tables))
    pulumi.export("rto_minutes", config.dr.rto_minutes)
    pulumi.export("rpo_minutes", config.dr.rpo_minutes)
