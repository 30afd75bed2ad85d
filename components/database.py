"""RDS PostgreSQL: the primary instance and its cross-region read replica.

Both are encrypted with their own region's key, private, Multi-AZ by default, TLS-only
(`rds.force_ssl`), deletion-protected, snapshot on delete, and Pulumi-protected.

The master password is generated (pulumi-random), kept secret in state and stored in a
Secrets Manager secret under the region's key, replicated to the DR region so the
application can still read it after a failover. RDS-managed master passwords
(`manage_master_user_password`) would be simpler, but RDS refuses to create a read replica
of an instance whose password it manages.

The replica keeps its own automated backups, so a promoted replica is never left without
them. In `active` DR mode the dr stack no longer names a source: `pulumi up` then promotes
the replica (or, after `resilience failover` promoted it, finds nothing to change), using
DR-region APIs only.

Log groups: RDS "continuously streams your DB instance log records to a log group [...]
`/aws/rds/instance/instance_name/log_type`" and "AWS retains log data published to
CloudWatch Logs for an indefinite time period unless you specify a retention period" (RDS
User Guide, Publishing database logs to Amazon CloudWatch Logs). Each exported log's group
is therefore created here first (the instance depends on it), with the audit retention and
the region's key, like every other log group of the bundle. Enhanced Monitoring writes to
`RDSOSMetrics`, one group per region for every instance: "By default, Enhanced Monitoring
metrics are stored for 30 days [...] change the retention for the RDSOSMetrics log group"
(RDS User Guide, Overview of Enhanced Monitoring); `EnhancedMonitoringLogs` creates it once
per stack when `logs.rds_os_metrics` is `managed`.

Engine versions: the parameter group family follows the major version and is in the group's
name (`<identifier>-postgres16`), so a major upgrade creates the new family's group before
the instance moves to it ("For major version upgrades, if a nondefault DB parameter group is
currently in use, a new DB parameter group in the DB parameter group family for the new
engine version must be specified", RDS API Reference, ModifyDBInstance, EngineVersion), and
the instance allows major upgrades. The replica follows its source: RDS upgrades read
replicas with their source ("If you're upgrading a DB instance that has in-Region read
replicas, Amazon RDS upgrades the replicas along with the primary DB instance", RDS User
Guide, Upgrades of the RDS for PostgreSQL DB engine) and a replica's own parameter group can
change "only after the upgrade completes by modifying the read replica" (How to perform a
major version upgrade for RDS for PostgreSQL), so its family comes from the version the
primary instance runs (its `engine_version` output), not from the config.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.iam import service_trust_policy
from model.config import Database, RegionNetwork
from model.tags import BACKUP_CLASS, RPO_MINUTES

PRIMARY_TYPE = "resilience:database:PostgresPrimary"
REPLICA_TYPE = "resilience:database:PostgresReplica"
LOG_EXPORTS = ["postgresql", "upgrade"]
# UTC. AWS Backup refuses RDS jobs in or near the automated backup window: the plans run
# at 02:00 + 4 h and at 05:00 (model.config.Frequency), clear of both windows.
BACKUP_WINDOW = "00:00-01:00"
MAINTENANCE_WINDOW = "sun:08:00-sun:09:00"
# PostgreSQL parameters of every instance and cluster: TLS only, connection and lock logs.
HARDENED_PARAMETERS = (("rds.force_ssl", "1"), ("log_connections", "1"), ("log_lock_waits", "1"))
PARAMETERS_DESCRIPTION = "{identifier}: TLS only, connection and lock logging"


def parameter_family(engine: str, major: str) -> str:
    """The DB parameter group family of an engine's major version (`postgres16`,
    `aurora-postgresql16`; RDS User Guide, Working with parameter groups)."""
    return f"{'aurora-postgresql' if engine == 'aurora-postgresql' else 'postgres'}{major}"


def parameter_group_name(identifier: str, family: str) -> str:
    """The family is part of the name: a family change replaces the group (the provider
    forces a new group for a new family), and a new name lets the new group exist before the
    instance leaves the old one (create before replace)."""
    return f"{identifier}-{family}"


def _network(
    name: str,
    parent: pulumi.Resource,
    *,
    provider: aws.Provider,
    network: RegionNetwork,
    identifier: str,
    major: pulumi.Input[str],
) -> tuple[aws.rds.SubnetGroup, aws.rds.ParameterGroup]:
    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    subnets = _subnet_group(name, identifier, network, opts)
    family = pulumi.Output.from_input(major).apply(lambda m: parameter_family("postgres", m))
    parameters = aws.rds.ParameterGroup(
        f"{name}-parameters",
        name=family.apply(lambda f: parameter_group_name(identifier, f)),
        family=family,
        description=PARAMETERS_DESCRIPTION.format(identifier=identifier),
        parameters=[
            aws.rds.ParameterGroupParameterArgs(name=key, value=value)
            for key, value in HARDENED_PARAMETERS
        ],
        # A major upgrade replaces the group, and the replaced one is deleted at the end of
        # the deploy; without apply_immediately the instance keeps it until the maintenance
        # window (ModifyDBInstance: the change "is applied during the next maintenance window
        # unless the ApplyImmediately parameter is enabled"), and a group "can't be
        # associated with any DB instances" to be deleted (DeleteDBParameterGroup): the old
        # group is left behind instead (delete it once the upgrade is done).
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)),
    )
    return subnets, parameters


def _subnet_group(
    name: str, identifier: str, network: RegionNetwork, opts: pulumi.ResourceOptions
) -> aws.rds.SubnetGroup:
    return aws.rds.SubnetGroup(
        f"{name}-subnets",
        name=identifier,
        description=f"private subnets of {identifier}",
        subnet_ids=network.subnet_ids,
        opts=opts,
    )


def _lifecycle(
    db: Database, identifier: str, *, replicating: bool, rpo_minutes: int
) -> dict[str, Any]:
    """Final snapshot and tags. RDS refuses a final snapshot of a read replica, and a
    replica that is still replicating is not backed up by the DR plans (the primary's
    backups and their copies cover its data): both start with the promotion. Both carry
    their data's RPO, which the RTO/RPO analysis (policies/rules/recovery.py) reads."""
    tags = {RPO_MINUTES: str(rpo_minutes)}
    if replicating:
        return {"skip_final_snapshot": True, "tags": tags}
    if db.backup_class:
        tags[BACKUP_CLASS] = db.backup_class
    return {
        "skip_final_snapshot": False,
        "final_snapshot_identifier": f"{identifier}-final",
        "tags": tags,
    }


# Enhanced Monitoring every 60 s: OS metrics (memory, swap, processes) the CloudWatch engine
# metrics lack (AWS FSBP RDS.6).
MONITORING_INTERVAL_SECONDS = 60
MONITORING_POLICY = "iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
# The log group Enhanced Monitoring writes every instance's OS metrics of a region to.
OS_METRICS_LOG_GROUP = "RDSOSMetrics"
LOGS_TYPE = "resilience:database:EnhancedMonitoringLogs"
MONITORING_ROLE_TYPE = "resilience:database:EnhancedMonitoringRole"


def exported_log_group_name(
    scope: Literal["instance", "cluster"], identifier: str, log_type: str
) -> str:
    """Where RDS publishes an exported log: `/aws/rds/instance/<id>/<type>` for an instance,
    `/aws/rds/cluster/<id>/<type>` for an Aurora cluster (RDS and Aurora User Guides,
    Publishing database logs to Amazon CloudWatch Logs)."""
    return f"/aws/rds/{scope}/{identifier}/{log_type}"


def exported_log_groups(
    name: str,
    parent: pulumi.Resource,
    *,
    provider: aws.Provider,
    key_arn: pulumi.Input[str],
    scope: Literal["instance", "cluster"],
    identifier: str,
    exports: Sequence[str],
    retention_days: int,
) -> list[aws.cloudwatch.LogGroup]:
    """The groups RDS would otherwise create itself (kept forever, not under our key), made
    first so the instance or cluster that exports to them depends on them. The region's key
    policy lets CloudWatch Logs use it for every log group of the account in the region
    (components/foundation.py, `CloudWatchLogsEncryptsThisAccountsLogGroups`)."""
    return [
        aws.cloudwatch.LogGroup(
            f"{name}-{log_type}-logs",
            name=exported_log_group_name(scope, identifier, log_type),
            retention_in_days=retention_days,
            kms_key_id=key_arn,
            opts=pulumi.ResourceOptions(parent=parent, provider=provider, protect=True),
        )
        for log_type in exports
    ]


@dataclass(frozen=True)
class EnhancedMonitoringLogsArgs:
    provider: aws.Provider
    key_arn: pulumi.Input[str]
    retention_days: int


class EnhancedMonitoringLogs(pulumi.ComponentResource):
    """`RDSOSMetrics` of one region under the region's key, with the stack's retention.

    RDS documents only that the metrics go to this group, 30 days by default, and that its
    retention is changed on the group itself (RDS User Guide, Overview of Enhanced Monitoring);
    it does not document creating the group ahead of the instances, nor a key on it. A KMS
    key can be set on any log group ("Encryption using AWS KMS is enabled at the log group
    level, by associating a key with a log group, either when you create the log group or
    after it exists", CloudWatch Logs User Guide, Encrypt log data in CloudWatch Logs using
    AWS KMS). That Enhanced Monitoring keeps writing to a group it did not create, under a
    key, is not stated anywhere: an assumption (the monitoring role's managed policy allows
    logs:CreateLogGroup on `RDS*`, which an existing group makes moot). One stack per
    account and region may own it: `logs.rds_os_metrics: external` for the others."""

    log_group: aws.cloudwatch.LogGroup

    def __init__(
        self,
        name: str,
        args: EnhancedMonitoringLogsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(LOGS_TYPE, name, None, opts)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-os-metrics",
            name=OS_METRICS_LOG_GROUP,
            retention_in_days=args.retention_days,
            kms_key_id=args.key_arn,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, protect=True),
        )
        self.register_outputs({"name": self.log_group.name})


@dataclass(frozen=True)
class EnhancedMonitoringRoleArgs:
    provider: aws.Provider
    partition: pulumi.Input[str]


class EnhancedMonitoringRole(pulumi.ComponentResource):
    """The role RDS Enhanced Monitoring publishes every instance's OS metrics of the stack
    with: AWS's managed policy, nothing more ("Create an IAM role that permits Amazon RDS to
    communicate with the Amazon CloudWatch Logs service on your behalf" with the
    AmazonRDSEnhancedMonitoringRole policy, RDS User Guide, Setting up for and enabling
    Enhanced Monitoring). One per stack, named after the component (`<system>-<role>-rds-
    monitoring`, at most 51 characters): a role per database, autonamed `<system>-<role>-
    <database>-monitoring-role-<7 hex>`, passed IAM's 64 characters only for short system
    and database names (CreateRole, RoleName: "Maximum length of 64"; pulumi-aws autonames
    roles within 64 and fails past it, provider/resources.go `AutoName("name", 64)`). Roles
    are global; the name's role (primary, dr) keeps the two stacks' apart."""

    role: aws.iam.Role

    def __init__(
        self,
        name: str,
        args: EnhancedMonitoringRoleArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(MONITORING_ROLE_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=name,
            description="RDS Enhanced Monitoring publishes the stack's instances' OS metrics",
            assume_role_policy=service_trust_policy("monitoring.rds.amazonaws.com"),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-policy",
            role=self.role.name,
            policy_arn=pulumi.Output.concat("arn:", args.partition, f":{MONITORING_POLICY}"),
            opts=child,
        )
        self.register_outputs({"arn": self.role.arn})


def _hardened_instance(
    name: str,
    parent: pulumi.Resource,
    *,
    db: Database,
    identifier: str,
    network: RegionNetwork,
    provider: aws.Provider,
    key_arn: pulumi.Input[str],
    backup_retention_days: int,
    rpo_minutes: int,
    log_retention_days: int,
    major: pulumi.Input[str],
    monitoring_role_arn: pulumi.Input[str],
    depends_on: Sequence[pulumi.Resource] = (),
    replicating: bool = False,
    continuous_backup: bool = False,
    **role_specific: Any,
) -> aws.rds.Instance:
    """An instance with what primary and replica share: private, encrypted with the region's
    key, TLS only, deletion-protected, final snapshot, backups, logs (into groups made
    first), protected. `major` is the engine's major version it runs (its parameter group's
    family). An instance that owns its engine version (not a replica still replicating)
    allows major upgrades: "Major version upgrades must be allowed when specifying a value
    for the EngineVersion parameter that's a different major version than the DB instance's
    current version" (RDS API Reference, ModifyDBInstance, AllowMajorVersionUpgrade); the
    provider sends it only with an engine version change."""
    subnets, parameters = _network(
        name, parent, provider=provider, network=network, identifier=identifier, major=major
    )
    log_groups = exported_log_groups(
        name,
        parent,
        provider=provider,
        key_arn=key_arn,
        scope="instance",
        identifier=identifier,
        exports=LOG_EXPORTS,
        retention_days=log_retention_days,
    )
    return aws.rds.Instance(
        name,
        identifier=identifier,
        storage_type="gp3",
        storage_encrypted=True,
        kms_key_id=key_arn,
        multi_az=db.multi_az,
        db_subnet_group_name=subnets.name,
        vpc_security_group_ids=network.security_group_ids,
        parameter_group_name=parameters.name,
        publicly_accessible=False,
        backup_retention_period=backup_retention_days,
        backup_window=BACKUP_WINDOW,
        maintenance_window=MAINTENANCE_WINDOW,
        copy_tags_to_snapshot=True,
        deletion_protection=True,
        **_lifecycle(db, identifier, replicating=replicating, rpo_minutes=rpo_minutes),
        auto_minor_version_upgrade=True,
        allow_major_version_upgrade=None if replicating else True,
        apply_immediately=db.apply_immediately,
        enabled_cloudwatch_logs_exports=LOG_EXPORTS,
        performance_insights_enabled=True,
        performance_insights_kms_key_id=key_arn,
        monitoring_interval=MONITORING_INTERVAL_SECONDS,
        monitoring_role_arn=monitoring_role_arn,
        opts=pulumi.ResourceOptions(
            parent=parent,
            provider=provider,
            protect=True,
            ignore_changes=["backupWindow", "backupRetentionPeriod"] if continuous_backup else None,
            depends_on=[*log_groups, *depends_on],
        ),
        **role_specific,
    )


MASTER_USER = "resilience_admin"
# RDS refuses '/', '"', '@' and spaces in master passwords.
PASSWORD_SPECIALS = "!#$%^&*()-_=+[]{}:?"


Outputs = dict[str, pulumi.Output[str]]


def _instance_outputs(instance: aws.rds.Instance) -> Outputs:
    """What the failover automation needs of a database, the same for every kind, and the
    engine version it runs (the provider's `engine_version_actual`: what RDS reports, so a
    major upgrade waiting for the maintenance window still reads as the old version)."""
    return {
        "identifier": instance.identifier,
        "arn": instance.arn,
        "endpoint": instance.endpoint,
        "address": instance.address,
        "engine_version": instance.engine_version_actual,
    }


def _cluster_outputs(cluster: aws.rds.Cluster) -> Outputs:
    return {
        "identifier": cluster.cluster_identifier,
        "arn": cluster.arn,
        "endpoint": cluster.endpoint,
        "address": cluster.endpoint,
        "engine_version": cluster.engine_version_actual,
    }


def _master_secret(
    name: str, parent: pulumi.Resource, identifier: str, args: PrimaryDatabaseArgs
) -> tuple[pulumi.Output[str], aws.secretsmanager.Secret]:
    """A generated master password (secret in state) and the Secrets Manager secret that
    holds it, under the region's key and replicated to the DR region."""
    password = random.RandomPassword(
        f"{name}-master-password",
        length=32,
        special=True,
        override_special=PASSWORD_SPECIALS,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    secret = aws.secretsmanager.Secret(
        f"{name}-master",
        name=f"{identifier}/master",
        description=f"master credentials of {identifier}",
        kms_key_id=args.key_arn,
        recovery_window_in_days=30,
        # The replica uses the DR region's AWS managed key for Secrets Manager: every key of
        # ours in the DR region belongs to the dr stack, which is deployed after this one.
        replicas=[aws.secretsmanager.SecretReplicaArgs(region=args.dr_region)],
        opts=pulumi.ResourceOptions(parent=parent, provider=args.provider, protect=True),
    )
    aws.secretsmanager.SecretVersion(
        f"{name}-master-value",
        secret_id=secret.id,
        secret_string=pulumi.Output.json_dumps(
            {"engine": "postgres", "username": MASTER_USER, "password": password.result}
        ),
        opts=pulumi.ResourceOptions(parent=parent, provider=args.provider),
    )
    return password.result, secret


@dataclass(frozen=True)
class PrimaryDatabaseArgs:
    system: str
    database: Database
    network: RegionNetwork
    provider: aws.Provider
    key_arn: pulumi.Input[str]
    dr_region: str
    # The RPO of its data class (tagged on the instance for the RTO/RPO analysis).
    rpo_minutes: int
    # The stack's Enhanced Monitoring role (EnhancedMonitoringRole).
    monitoring_role_arn: pulumi.Input[str]
    # Its backup class has continuous backup: AWS Backup then manages the backup window
    # and retention, which Pulumi must not fight.
    continuous_backup: bool = False
    # Retention of its exported logs' groups (logs.audit_retention_days: connection logs).
    log_retention_days: int = 365
    # What its instances must wait for: the region's RDSOSMetrics group, when the stack owns it.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class PostgresPrimary(pulumi.ComponentResource):
    instance: aws.rds.Instance

    def __init__(
        self, name: str, args: PrimaryDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(PRIMARY_TYPE, name, None, opts)
        db = args.database
        identifier = db.primary_identifier(args.system)
        password, self.secret = _master_secret(name, self, identifier, args)
        self.instance = _hardened_instance(
            name,
            self,
            db=db,
            identifier=identifier,
            network=args.network,
            provider=args.provider,
            key_arn=args.key_arn,
            backup_retention_days=db.backup_retention_days,
            rpo_minutes=args.rpo_minutes,
            monitoring_role_arn=args.monitoring_role_arn,
            log_retention_days=args.log_retention_days,
            major=db.major_version,
            depends_on=args.depends_on,
            continuous_backup=args.continuous_backup,
            engine="postgres",
            engine_version=db.engine_version,
            instance_class=db.instance_class,
            allocated_storage=db.allocated_storage_gb,
            max_allocated_storage=db.max_allocated_storage_gb,
            username=MASTER_USER,
            password=password,
            iam_database_authentication_enabled=True,
        )
        self.outputs = _instance_outputs(self.instance)
        self.outputs["secret_arn"] = self.secret.arn
        self.register_outputs(dict(self.outputs))


@dataclass(frozen=True)
class ReplicaDatabaseArgs:
    system: str
    database: Database
    network: RegionNetwork
    provider: aws.Provider
    key_arn: pulumi.Input[str]
    # What it replicates: the primary instance's ARN (RDS) or the global cluster's id
    # (Aurora); None once the DR region is active (promoted, or detached).
    source: pulumi.Input[str] | None
    rpo_minutes: int  # of its data class, as on the primary
    monitoring_role_arn: pulumi.Input[str]  # the stack's EnhancedMonitoringRole
    continuous_backup: bool = False
    log_retention_days: int = 365
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    # The engine version its source runs (the primary's `engine_version` output); None when
    # promoted, or when the primary exports none (then the config's version).
    source_engine_version: pulumi.Input[str] | None = None


class PostgresReplica(pulumi.ComponentResource):
    instance: aws.rds.Instance

    def __init__(
        self, name: str, args: ReplicaDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(REPLICA_TYPE, name, None, opts)
        db = args.database
        promoted = args.source is None
        # While it replicates it runs its source's major version (and RDS upgrades it with
        # the source); once promoted, the config's.
        major: pulumi.Input[str] = db.major_version
        if not promoted and args.source_engine_version is not None:
            major = pulumi.Output.from_input(args.source_engine_version).apply(
                lambda version: (version or db.engine_version).split(".")[0]
            )
        self.instance = _hardened_instance(
            name,
            self,
            db=db,
            identifier=db.replica_identifier(args.system),
            network=args.network,
            provider=args.provider,
            key_arn=args.key_arn,
            # The replica's own backups: a promoted replica is never left without them. Once
            # promoted it is the writer and keeps the primary's retention, as `resilience
            # failover` sets it (enable-backups): a deploy in active mode must not undo that.
            backup_retention_days=(
                db.backup_retention_days if promoted else db.replica_backup_retention_days
            ),
            rpo_minutes=args.rpo_minutes,
            monitoring_role_arn=args.monitoring_role_arn,
            log_retention_days=args.log_retention_days,
            major=major,
            depends_on=args.depends_on,
            replicating=not promoted,
            continuous_backup=promoted and args.continuous_backup,
            replicate_source_db=args.source,
            max_allocated_storage=db.max_allocated_storage_gb,
            iam_database_authentication_enabled=True,
            # A replica inherits engine and version from its source; once promoted it is a
            # standalone PostgreSQL instance of the same version.
            engine="postgres" if promoted else None,
            engine_version=db.engine_version if promoted else None,
            instance_class=db.replica_instance_class or db.instance_class,
        )
        self.outputs = _instance_outputs(self.instance)
        self.register_outputs(dict(self.outputs))


AURORA_TYPE = "resilience:database:AuroraGlobal"
AURORA_LOG_EXPORTS = ["postgresql"]


def _aurora_cluster(
    name: str,
    parent: pulumi.Resource,
    *,
    db: Database,
    identifier: str,
    network: RegionNetwork,
    provider: aws.Provider,
    key_arn: pulumi.Input[str],
    backup_retention_days: int,
    instances: int,
    instance_class: str,
    rpo_minutes: int,
    monitoring_role_arn: pulumi.Input[str],
    log_retention_days: int = 365,
    depends_on: Sequence[pulumi.Resource] = (),
    replicating: bool = False,
    continuous_backup: bool = False,
    opts: pulumi.ResourceOptions | None = None,
    **role_specific: Any,
) -> aws.rds.Cluster:
    """An Aurora PostgreSQL cluster and its instances, hardened like the RDS instances, its
    exported logs in groups made first (`/aws/rds/cluster/<id>/postgresql`)."""
    child = pulumi.ResourceOptions(parent=parent, provider=provider)
    subnets = _subnet_group(name, identifier, network, child)
    family = parameter_family("aurora-postgresql", db.major_version)
    log_groups = exported_log_groups(
        name,
        parent,
        provider=provider,
        key_arn=key_arn,
        scope="cluster",
        identifier=identifier,
        exports=AURORA_LOG_EXPORTS,
        retention_days=log_retention_days,
    )
    parameters = aws.rds.ClusterParameterGroup(
        f"{name}-parameters",
        name=parameter_group_name(identifier, family),
        family=family,
        description=PARAMETERS_DESCRIPTION.format(identifier=identifier),
        parameters=[
            aws.rds.ClusterParameterGroupParameterArgs(name=key, value=value)
            for key, value in HARDENED_PARAMETERS
        ],
        opts=child,
    )
    cluster = aws.rds.Cluster(
        name,
        cluster_identifier=identifier,
        engine="aurora-postgresql",
        engine_version=db.engine_version,
        storage_encrypted=True,
        kms_key_id=key_arn,
        db_subnet_group_name=subnets.name,
        vpc_security_group_ids=network.security_group_ids,
        db_cluster_parameter_group_name=parameters.name,
        backup_retention_period=backup_retention_days,
        preferred_backup_window=BACKUP_WINDOW,
        preferred_maintenance_window=MAINTENANCE_WINDOW,
        copy_tags_to_snapshot=True,
        deletion_protection=True,
        **_lifecycle(db, identifier, replicating=replicating, rpo_minutes=rpo_minutes),
        enabled_cloudwatch_logs_exports=AURORA_LOG_EXPORTS,
        iam_database_authentication_enabled=True,
        opts=pulumi.ResourceOptions.merge(
            pulumi.ResourceOptions(
                parent=parent,
                provider=provider,
                protect=True,
                ignore_changes=["preferredBackupWindow", "backupRetentionPeriod"]
                if continuous_backup
                else None,
                depends_on=log_groups,
            ),
            opts,
        ),
        **role_specific,
    )
    for index in range(instances):
        aws.rds.ClusterInstance(
            f"{name}-{index + 1}",
            identifier=f"{identifier}-{index + 1}",
            cluster_identifier=cluster.id,
            engine=aws.rds.EngineType.AURORA_POSTGRESQL,
            engine_version=db.engine_version,
            instance_class=instance_class,
            db_subnet_group_name=subnets.name,
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key_arn,
            copy_tags_to_snapshot=True,
            monitoring_interval=MONITORING_INTERVAL_SECONDS,
            monitoring_role_arn=monitoring_role_arn,
            opts=pulumi.ResourceOptions(
                parent=parent, provider=provider, protect=True, depends_on=list(depends_on)
            ),
        )
    return cluster


class AuroraGlobalPrimary(pulumi.ComponentResource):
    """The global cluster and its primary (writer) cluster, in the primary region."""

    cluster: aws.rds.Cluster
    global_cluster: aws.rds.GlobalCluster

    def __init__(
        self, name: str, args: PrimaryDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(AURORA_TYPE, name, None, opts)
        db = args.database
        identifier = db.primary_identifier(args.system)
        self.global_cluster = aws.rds.GlobalCluster(
            f"{name}-global",
            global_cluster_identifier=f"{identifier}-global",
            engine="aurora-postgresql",
            engine_version=db.engine_version,
            storage_encrypted=True,
            deletion_protection=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, protect=True),
        )
        password, self.secret = _master_secret(name, self, identifier, args)
        self.cluster = _aurora_cluster(
            name,
            self,
            db=db,
            identifier=identifier,
            network=args.network,
            provider=args.provider,
            key_arn=args.key_arn,
            backup_retention_days=db.backup_retention_days,
            rpo_minutes=args.rpo_minutes,
            monitoring_role_arn=args.monitoring_role_arn,
            log_retention_days=args.log_retention_days,
            depends_on=args.depends_on,
            instances=db.instances,
            instance_class=db.instance_class,
            continuous_backup=args.continuous_backup,
            global_cluster_identifier=self.global_cluster.id,
            # Secrets Manager-managed passwords are not allowed in a global database.
            master_username=MASTER_USER,
            master_password=password,
        )
        self.outputs = _cluster_outputs(self.cluster)
        self.outputs["global_cluster_id"] = self.global_cluster.id
        self.outputs["secret_arn"] = self.secret.arn
        self.register_outputs(dict(self.outputs))


class AuroraGlobalSecondary(pulumi.ComponentResource):
    """The DR region's secondary cluster of the global database, with its own backups."""

    cluster: aws.rds.Cluster

    def __init__(
        self,
        name: str,
        args: ReplicaDatabaseArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(AURORA_TYPE, name, None, opts)
        db = args.database
        self.cluster = _aurora_cluster(
            name,
            self,
            db=db,
            identifier=db.replica_identifier(args.system),
            network=args.network,
            provider=args.provider,
            key_arn=args.key_arn,
            # Detached, it is the writer with the primary's retention (as the failover sets).
            backup_retention_days=(
                db.replica_backup_retention_days
                if args.source is not None
                else db.backup_retention_days
            ),
            rpo_minutes=args.rpo_minutes,
            monitoring_role_arn=args.monitoring_role_arn,
            log_retention_days=args.log_retention_days,
            depends_on=args.depends_on,
            instances=db.dr_instances,
            instance_class=db.replica_instance_class or db.instance_class,
            replicating=args.source is not None,
            continuous_backup=args.source is None and args.continuous_backup,
            # AWS sets the replication source of a secondary cluster itself.
            opts=pulumi.ResourceOptions(ignore_changes=["replicationSourceIdentifier"]),
            global_cluster_identifier=args.source,
        )
        self.outputs = _cluster_outputs(self.cluster)
        self.register_outputs(dict(self.outputs))


def primary_database(name: str, args: PrimaryDatabaseArgs) -> Outputs:
    """The primary side for the configured engine; its outputs for the dr stack."""
    if args.database.engine == "aurora-postgresql":
        return AuroraGlobalPrimary(name, args).outputs
    return PostgresPrimary(name, args).outputs


def replica_database(
    name: str, args: ReplicaDatabaseArgs, primary: pulumi.Output[Any] | None
) -> Outputs:
    """The DR side; `primary` is the primary's database outputs (None once active)."""
    aurora = args.database.engine == "aurora-postgresql"
    key = "global_cluster_id" if aurora else "arn"
    source = None if primary is None else primary.apply(lambda outputs: str(outputs[key]))
    version = (
        None
        if primary is None
        # A primary deployed before it exported its version: the config's.
        else primary.apply(lambda outputs: str(outputs.get("engine_version") or ""))
    )
    args = dataclasses.replace(args, source=source, source_engine_version=version)
    if aurora:
        return AuroraGlobalSecondary(name, args).outputs
    return PostgresReplica(name, args).outputs
