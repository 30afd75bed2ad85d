"""Pieces both stack programs share: tags, names and the primary -> dr output contract."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pulumi
import pulumi_aws as aws

from components.autoscaling import Capacity, ServiceScaling, ServiceScalingArgs, capacity_for
from components.backup import RegionBackup, RegionBackupArgs
from components.cost import (
    BILLING_REGION,
    CostGuards,
    CostGuardsArgs,
    cost_guards_here,
    cost_publishers,
)
from components.database import (
    EnhancedMonitoringLogs,
    EnhancedMonitoringLogsArgs,
    EnhancedMonitoringRole,
    EnhancedMonitoringRoleArgs,
)
from components.dns_failover import (
    ALIAS_TTL_SECONDS,
    HealthCheckAlarms,
    HealthCheckAlarmsArgs,
    RegionEndpoints,
    RegionEndpointsArgs,
)
from components.foundation import RegionalFoundation
from components.monitoring import InventoryEntry, RegionMonitoring, RegionMonitoringArgs
from components.security_baseline import SecurityBaseline, SecurityBaselineArgs
from components.storage import DataBuckets, DataBucketsArgs
from model import tags as tag_keys
from model.config import DrMode, Role, Severity, StackConfig, StoreKind
from model.loader import InconsistentStacksError
from model.regions import ROUTE53_METRICS_REGION
from model.serving import conflict, parameter_path, state_from_parameters

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
    "route53_alarm_topics",
    "recovery_controls",
)


def tagged_provider(name: str, region: str, tags: pulumi.Input[Mapping[str, str]]) -> aws.Provider:
    """An extra explicit provider (another region) carrying the stack's default tags."""
    return aws.Provider(name, region=region, default_tags=aws.ProviderDefaultTagsArgs(tags=tags))


def serving_gate(config: StackConfig, prefix: str, tags: Mapping[str, str]) -> pulumi.Output[None]:
    """The DR region's fact of which region serves (model/serving.py), read before anything is
    registered: it fails with the reason when deploying this stack now would undo or fight a
    failover. Every provider's default tags wait for it, and every resource depends on a
    provider, so a refused deploy creates, updates and deletes nothing. Read through a
    provider of its own (the gated ones cannot read what gates them) with GetParametersByPath
    ("Retrieve information about one or more parameters under a specified level in a
    hierarchy", SSM API Reference), which answers an empty list, not an error, when no
    failover has ever written the parameter (GetParameter would fail: ParameterNotFound)."""
    # It registers nothing; it carries the stack's tags like every provider of the stack.
    reader = tagged_provider(f"{prefix}-serving-reader", config.dr.region, tags)
    found = aws.ssm.get_parameters_by_path_output(
        path=parameter_path(config.name),
        opts=pulumi.InvokeOutputOptions(provider=reader),
    )

    def judge(result: Any) -> None:
        state = state_from_parameters(config.name, result.names or [], result.values or [])
        problem = conflict(config, state)
        if problem is not None:
            raise InconsistentStacksError(problem)

    return found.apply(judge)


def gated(gate: pulumi.Output[Any], tags: Mapping[str, str]) -> pulumi.Output[dict[str, str]]:
    """Tags that resolve only once the gate has passed."""
    return gate.apply(lambda _: dict(tags))


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
            tag_keys.ROLE: config.role.value,
            tag_keys.STACK: stack,
            tag_keys.RTO_MINUTES: str(config.dr.rto_minutes),
            tag_keys.RPO_MINUTES: str(config.dr.rpo_minutes),
            tag_keys.PRIMARY_REGION: config.primary.region,
            tag_keys.DR_REGION: config.dr.region,
            tag_keys.DR_MODE: config.dr.mode.value,
            "managed-by": "pulumi",
        }
    )
    if config.dr.response_minutes is not None:
        tags[tag_keys.RESPONSE_MINUTES] = str(config.dr.response_minutes)
    if config.security.config_recorder.mode == "existing":
        # The stack declares that this region's AWS Config recorder is managed elsewhere
        # (policies/rules/security.py accepts it as the region's recorder).
        tags[tag_keys.CONFIG_RECORDER] = tag_keys.EXTERNAL
    return dict(sorted(tags.items()))


def finish_monitoring(
    config: StackConfig,
    monitoring: RegionMonitoring,
    traffic: Traffic,
    health_check_alarms: HealthCheckAlarms | None,
    security: SecurityBaseline | None = None,
) -> None:
    """The overview dashboard with every notifying alarm of this region, and the inventory
    of every alarm the stack made (monitoring, scaling, failover, the CIS alarms)."""
    here = [a for s in traffic.scaling.values() for a in s.notifying]
    extra = traffic.inventory()
    if security is not None:
        here += security.alarms
        extra += security.inventory
    if health_check_alarms is not None:
        extra += health_check_alarms.inventory
        if config.region == ROUTE53_METRICS_REGION:
            here += health_check_alarms.alarms
    monitoring.add_overview(here)
    export_monitoring(monitoring, extra)


def export_monitoring(monitoring: RegionMonitoring, extra: Sequence[InventoryEntry] = ()) -> None:
    """The alarm inventory (severity, threshold, cost of each alarm) and its total, with the
    alarms other components made (health-check status) and their running costs."""
    inventory = [*monitoring.inventory, *extra]
    pulumi.export("alarms", [entry.as_output() for entry in inventory])
    pulumi.export("alarm_count", len(inventory))
    total = monitoring.monthly_usd + sum(e.monthly_usd for e in extra)
    pulumi.export("monitoring_monthly_usd", round(total, 2))
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
            topic_publishers=cost_publishers(config),
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
            rpo_minutes={
                b.name: config.rpo_minutes_for(b.backup_class) for b in config.data_buckets
            },
        ),
    )
    pulumi.export("backup_vault_arn", backup.vault_arn)
    pulumi.export("backup_copy_target_arn", backup.peer_vault_arn)
    pulumi.export("backup_plan_ids", {name: plan.id for name, plan in backup.plans.items()})
    pulumi.export("access_log_bucket", data.log_bucket.bucket.id)
    return monitoring, backup, data


def compose_security(
    config: StackConfig,
    prefix: str,
    base: RegionalFoundation,
    monitoring: RegionMonitoring,
    data: DataBuckets,
) -> SecurityBaseline:
    """The region's security and audit baseline (trail in the primary only), alerting
    through the region's escalation topics; exported as `security`."""
    security = SecurityBaseline(
        f"{prefix}-security",
        SecurityBaselineArgs(
            config=config,
            name_prefix=prefix,
            provider=base.provider,
            key_arn=base.key_arn,
            account_id=base.account_id,
            partition=base.partition,
            topic_arns=monitoring.escalation.topic_arns,
            access_log_bucket=data.log_bucket.bucket.id,
        ),
    )
    pulumi.export("security", security.outputs())
    return security


def compose_cost(
    config: StackConfig,
    tags: pulumi.Input[Mapping[str, str]],
    prefix: str,
    base: RegionalFoundation,
    monitoring: RegionMonitoring,
) -> CostGuards | None:
    """Budgets and anomaly detection (primary only; their APIs are global, in us-east-1),
    alerting the warning topic; exported as `cost`."""
    if not cost_guards_here(config):
        pulumi.export("cost", None)
        return None
    provider = (
        base.provider
        if config.region == BILLING_REGION
        else tagged_provider(f"{prefix}-billing", BILLING_REGION, tags)
    )
    guards = CostGuards(
        f"{prefix}-cost",
        CostGuardsArgs(
            system=config.name,
            cost=config.cost,
            provider=provider,
            topic_arn=monitoring.escalation.topic_arns[Severity.WARNING],
        ),
    )
    pulumi.export("cost", guards.outputs())
    return guards


def enhanced_monitoring_logs(
    config: StackConfig, prefix: str, base: RegionalFoundation
) -> list[pulumi.Resource]:
    """The region's `RDSOSMetrics` group, before any database writes Enhanced Monitoring to
    it (what the database instances depend on): none without databases, or when another
    stack owns it (`logs.rds_os_metrics: external`)."""
    if not config.databases or config.logs.rds_os_metrics != "managed":
        return []
    logs = EnhancedMonitoringLogs(
        f"{prefix}-rds-os-metrics",
        EnhancedMonitoringLogsArgs(
            provider=base.provider,
            key_arn=base.key_arn,
            retention_days=config.logs.app_retention_days,
        ),
    )
    return [logs.log_group]


def enhanced_monitoring_role(
    config: StackConfig, prefix: str, base: RegionalFoundation
) -> pulumi.Output[str] | None:
    """The ARN of the role every database of the stack publishes Enhanced Monitoring with
    (`<prefix>-rds-monitoring`); None without databases."""
    if not config.databases:
        return None
    role = EnhancedMonitoringRole(
        f"{prefix}-rds-monitoring",
        EnhancedMonitoringRoleArgs(provider=base.provider, partition=base.partition),
    )
    return role.role.arn


def continuous_backup(config: StackConfig, backup_class: str | None) -> bool:
    """Whether a resource's backup class takes continuous (point-in-time) backups."""
    data_class = config.backup.classes.get(backup_class) if backup_class else None
    return data_class is not None and data_class.continuous_days is not None


def bucket_outputs(data: DataBuckets) -> dict[str, dict[str, pulumi.Output[str]]]:
    return {name: {"bucket": b.bucket.id, "arn": b.bucket.arn} for name, b in data.buckets.items()}


def data_protection(
    config: StackConfig,
    databases: Mapping[str, Mapping[str, pulumi.Output[str]]],
    data: DataBuckets,
    tables: Mapping[str, aws.dynamodb.Table],
) -> dict[str, dict[str, object]]:
    """Every data store of the primary with its class, RPO and how old its newest copy in the
    DR vault can be (and why): what the dr stack's policies hold its replicas to (DR parity,
    RPO)."""

    def entry(kind: StoreKind, backup_class: str | None, **link: object) -> dict[str, object]:
        # How often AWS Backup really copies this kind of store to the DR vault (RDS under
        # continuous backup: once a day, whatever the plan says; model.config.backup_copy).
        copy = config.backup_copy(backup_class, kind)
        return {
            "kind": kind,
            "class": backup_class,
            "rpo_minutes": config.rpo_minutes_for(backup_class),
            "copy_interval_minutes": copy.minutes if copy else None,
            "copy_basis": copy.basis if copy else None,
            **link,
        }

    stores: dict[str, dict[str, object]] = {}
    for db in config.databases:
        outputs = databases[db.name]
        stores[f"database:{db.name}"] = entry(
            "aurora" if db.engine == "aurora-postgresql" else "rds",
            db.backup_class,
            arn=outputs["arn"],
            identifier=outputs["identifier"],
            global_cluster_id=outputs.get("global_cluster_id"),
        )
    for spec in config.data_buckets:
        stores[f"bucket:{spec.name}"] = entry(
            "s3", spec.backup_class, bucket=data.buckets[spec.name].bucket.id
        )
    for table in config.tables:
        stores[f"table:{table.name}"] = entry(
            "dynamodb", table.backup_class, arn=tables[table.name].arn
        )
    return stores


def database_outputs(
    databases: Mapping[str, Mapping[str, pulumi.Output[str]]],
) -> dict[str, dict[str, pulumi.Output[str]]]:
    return {name: dict(outputs) for name, outputs in databases.items()}


def today() -> date:
    """The date peak schedules are judged against: UTC today, or `RESILIENCE_TODAY`
    (YYYY-MM-DD) for a reproducible synthesis."""
    given = os.environ.get("RESILIENCE_TODAY")
    if given:
        try:
            return date.fromisoformat(given)
        except ValueError:
            raise ValueError(f"RESILIENCE_TODAY={given!r} is not a YYYY-MM-DD date") from None
    return datetime.now(UTC).date()


@dataclass
class Traffic:
    """What `compose_traffic` built: scaling per service and the region's endpoints."""

    scaling: dict[str, ServiceScaling]
    capacity: dict[str, tuple[Capacity, Capacity]]  # service -> (this stack's, full)
    endpoints: RegionEndpoints | None
    health_checks_monthly_usd: float

    def inventory(self) -> list[InventoryEntry]:
        """Alarms of scaling and of the fence: they join the stack's alarm inventory."""
        entries = [e for s in self.scaling.values() for e in s.inventory]
        return entries + (self.endpoints.inventory if self.endpoints else [])


def compose_traffic(
    config: StackConfig,
    prefix: str,
    base: RegionalFoundation,
    monitoring: RegionMonitoring,
    *,
    routing_control_arn: pulumi.Input[str] | None = None,
    fence_provider: aws.Provider | None = None,
) -> Traffic:
    """Scaling of each service's compute at this stack's capacity (its role and DR mode) and
    this region's half of every failover record pair."""
    role, mode = config.role, config.dr.mode
    network = config.network.primary if role is Role.PRIMARY else config.network.dr
    when = today()
    scaling: dict[str, ServiceScaling] = {}
    capacity: dict[str, tuple[Capacity, Capacity]] = {}
    usd = 0.0
    for service in config.services:
        resources = service.resources.primary if role is Role.PRIMARY else service.resources.dr
        compute = resources.ecs or (
            resources.asg if resources.asg is not None and resources.asg.owned else None
        )
        if service.scaling is None or compute is None:
            continue
        here = capacity_for(service.scaling, role, mode, config.dr.warm_standby_percent)
        full = capacity_for(service.scaling, Role.PRIMARY, mode, config.dr.warm_standby_percent)
        subnets = list(resources.asg.subnet_ids) if resources.asg else []
        if not subnets and network is not None:
            subnets = list(network.subnet_ids)
        component = ServiceScaling(
            f"{prefix}-{service.name}-scaling",
            ServiceScalingArgs(
                service=service.name,
                scaling=service.scaling,
                capacity=here,
                compute=compute,
                alb=resources.alb,
                region=config.region,
                provider=base.provider,
                account_id=base.account_id,
                partition=base.partition,
                subnet_ids=subnets,
                warning_topic_arn=monitoring.escalation.topic_arns[Severity.WARNING],
                runbook_url=service.runbook_url,
                today=when,
                previous_names=[f"{prefix}-{old}-scaling" for old in service.previous_names],
                instance_tags={
                    **config.tags,
                    "system": config.name,
                    "environment": config.environment,
                    "service": service.name,
                    tag_keys.ROLE: config.role.value,
                },
            ),
        )
        scaling[service.name] = component
        capacity[service.name] = (here, full)
    endpoints = None
    named = [s for s in config.services if s.dns is not None]
    if config.failover is not None and named:
        endpoints = RegionEndpoints(
            f"{prefix}-dns",
            RegionEndpointsArgs(
                system=config.name,
                role=role,
                region=config.region,
                failover=config.failover,
                services=named,
                provider=base.provider,
                account_id=base.account_id,
                partition=base.partition,
                config=config,
                runbook_url=config.monitoring.runbook_url or config.services[0].runbook_url,
                fence_provider=fence_provider or base.provider,
                fence_region=config.dr.region,
                standby_fenced=role is Role.DR and mode is not DrMode.ACTIVE,
                routing_control_arn=routing_control_arn,
            ),
        )
        usd += endpoints.monthly_usd
    return Traffic(scaling, capacity, endpoints, round(usd, 2))


def route53_alarms(
    config: StackConfig,
    prefix: str,
    endpoints: RegionEndpoints,
    provider: aws.Provider,
    topics: Mapping[Severity, pulumi.Input[str]],
    *,
    retain: bool = False,
) -> HealthCheckAlarms:
    """Critical alarms on this region's health checks, in us-east-1 (where Route 53
    publishes their status)."""
    return HealthCheckAlarms(
        f"{prefix}-health-check-alarms",
        HealthCheckAlarmsArgs(
            config=config,
            # The endpoint itself: the calculated check is also down while a region is fenced
            # (the DR region in standby, the primary after a failover), which pages no one.
            health_checks={n: e.https_check.id for n, e in endpoints.endpoints.items()},
            provider=provider,
            topic_arns=topics,
            region_label=f"{config.region} endpoints, status in {ROUTE53_METRICS_REGION}",
            retain_on_delete=retain,
        ),
    )


def promotion_methods(config: StackConfig) -> dict[str, str]:
    """How each data store becomes writable in the DR region."""
    methods = {
        db.name: (
            "aurora-global-failover"
            if db.engine == "aurora-postgresql"
            else "rds-promote-read-replica"
        )
        for db in config.databases
    }
    table = "none: a global table accepts writes in both regions"
    methods.update({t.name: table for t in config.tables})
    return methods


def recovery_output(
    config: StackConfig, traffic: Traffic, controls: object | None = None
) -> dict[str, object]:
    """The numbers the RTO analysis needs: how fast DNS notices and moves, what must be
    scaled and how each data store is promoted."""
    failover = config.failover
    settings = failover.health_check if failover else None
    return {
        "role": config.role.value,
        "dr_mode": config.dr.mode.value,
        "rto_minutes": config.dr.rto_minutes,
        "rpo_minutes": config.dr.rpo_minutes,
        "mechanism": failover.mechanism if failover else None,
        "health_check_interval_seconds": settings.interval_seconds if settings else None,
        "health_check_failure_threshold": settings.failure_threshold if settings else None,
        "detection_seconds": (
            settings.interval_seconds * settings.failure_threshold if settings else None
        ),
        "dns_ttl_seconds": ALIAS_TTL_SECONDS if traffic.endpoints else None,
        "capacity": {
            name: {
                "now": here.as_output()
                | {
                    "min": traffic.scaling[name].bounds[0],
                    "max": traffic.scaling[name].bounds[1],
                    "peak_factor": traffic.scaling[name].peak_factor,
                },
                "full": full.as_output(),
            }
            for name, (here, full) in traffic.capacity.items()
        },
        "promotion": promotion_methods(config),
        "dns": traffic.endpoints.outputs() if traffic.endpoints else None,
        "recovery_controls": controls,
        "health_checks_monthly_usd": traffic.health_checks_monthly_usd,
        "fence_monthly_usd": traffic.endpoints.fence_monthly_usd if traffic.endpoints else None,
    }
