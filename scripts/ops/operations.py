"""Failover, failback and their steps (the seeds' procedures: ReskFlow's DisasterRecoveryManager
and checklist, L414-537, and failback plan, L543-575; Light on Campus' recovery steps).

Failover to the DR region uses DR-region APIs, plus one best-effort call that stops the old
primary's compute if its region still answers. It never needs the Route 53 record-change
API: the failover records exist already and every fence alarm lives in the DR region
(components/dns_failover.py); traffic moves when the primary is fenced and the DR fence is
lifted, or when ARC routing controls flip through the ARC cluster's data plane.

Failover: readiness, drain-source, fence-source, promote-databases, enable-backups,
scale-target, wait-target-healthy, switch-traffic, verify-endpoint, write-config.
Failback: readiness, reverse-replication, wait-caught-up, drain-target, fence-source,
wait-in-sync, promote-databases, swap-identifiers, enable-backups, scale-target,
wait-target-healthy, switch-traffic, verify-endpoint, scale-source-to-standby, write-config.
"""

from __future__ import annotations

import json
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import ClientError

from components.dns_failover import fence_payload
from model.config import DrMode, Role
from model.serving import ServingState
from scripts.ops.aws import Clients, Waiter, call
from scripts.ops.facts import ComputeFacts, DatabaseFacts, SystemFacts
from scripts.ops.runner import Refused, Step, StepError

# A copy in the DR vault must be at most this old (the longest copy schedule is daily).
RECENT_COPY_HOURS = 26
# EC2 quota: Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, in vCPUs.
STANDARD_VCPU_QUOTA = ("ec2", "L-1216C47A")

Prober = Callable[[str, str], tuple[bool, str]]  # (host, path) -> (answers, detail)
Resolver = Callable[[str], set[str]]  # host -> its addresses


def resolve(host: str) -> set[str]:
    try:
        return set(socket.gethostbyname_ex(host)[2])
    except OSError:
        return set()


def https_probe(host: str, path: str) -> tuple[bool, str]:
    """GET https://host/path: 2xx/3xx is healthy. Like Route 53's HTTPS checks, it does not
    validate the certificate (the ALB's certificate names the record, not the ALB)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(f"https://{host}{path}", method="GET")
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return 200 <= response.status < 400, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, str(exc)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: could not be checked (a warning, not a blocker)
    detail: str


@dataclass
class OpsContext:
    facts: SystemFacts
    clients: Clients
    source: Role  # the region traffic leaves
    target: Role  # the region that takes over
    dry_run: bool = False
    force: bool = False
    reason: str | None = None
    waiter: Waiter = field(default_factory=Waiter)
    prober: Prober = https_probe
    resolver: Resolver = resolve
    dr_stack_file: Path | None = None
    # Identifies one run (tags failback's database copy; set from the journal), and whether
    # the run resumes a journal.
    run_id: str = ""
    resumed: bool = False
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    checks: list[Check] = field(default_factory=list)

    def client(self, service: str, role: Role) -> Any:
        return self.clients(service, self.facts.region(role))


# -- readiness ---------------------------------------------------------------------------


def _replica_lag(
    ctx: OpsContext, db: DatabaseFacts, region_role: Role, ident: str, step: str = "readiness"
) -> tuple[float | None, str]:
    """(seconds of the newest lag datapoint of the last 10 minutes or None, metric name)."""
    cloudwatch = ctx.client("cloudwatch", region_role)
    if db.aurora:
        metric, dim, scale = "AuroraGlobalDBReplicationLag", "DBClusterIdentifier", 1000
    else:
        metric, dim, scale = "ReplicaLag", "DBInstanceIdentifier", 1
    now = ctx.now()
    stats = call(
        step,
        ident,
        cloudwatch.get_metric_statistics,
        Namespace="AWS/RDS",
        MetricName=metric,
        Dimensions=[{"Name": dim, "Value": ident}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )
    points = stats.get("Datapoints", [])
    if not points:
        return None, metric
    newest = max(points, key=lambda p: p["Timestamp"])
    return float(newest["Maximum"]) / scale, metric


def _lag_check(ctx: OpsContext, db: DatabaseFacts, region_role: Role, ident: str) -> Check:
    """Replica lag over the last 10 minutes against the RPO."""
    lag_s, metric = _replica_lag(ctx, db, region_role, ident)
    if lag_s is None:
        return Check(f"replica lag {ident}", False, f"no {metric} datapoints in 10 minutes")
    limit = ctx.facts.rpo_minutes * 60
    return Check(f"replica lag {ident}", lag_s <= limit, f"{lag_s:g} s (RPO {limit} s)")


def _database_checks(ctx: OpsContext) -> list[Check]:
    """Failover: each DR replica is available with its lag within the RPO (or already
    promoted). Failback: each DR writer, the source of the copy, is promoted and available."""
    checks = []
    rds = ctx.client("rds", Role.DR)
    for db in ctx.facts.databases:
        ident = db.replica_id
        describe = _describe_cluster if db.aurora else _describe_instance
        found = call("readiness", ident, describe, rds=rds, ident=ident)
        if found is None:
            checks.append(Check(f"database {ident}", False, f"not found in {ctx.facts.dr_region}"))
            continue
        promoted = not (
            found.get("GlobalClusterIdentifier")
            if db.aurora
            else found.get("ReadReplicaSourceDBInstanceIdentifier")
        )
        status = found.get("Status" if db.aurora else "DBInstanceStatus")
        checks.append(Check(f"database {ident}", status == "available", f"status {status}"))
        if ctx.target is Role.PRIMARY:
            checks.append(
                Check(
                    f"writer {ident}",
                    promoted,
                    "promoted" if promoted else "still a replica: nothing to fail back",
                )
            )
        elif promoted:
            # Promoted by this run before a crash, or never rebuilt after the last failback.
            checks.append(
                Check(
                    f"replica lag {ident}",
                    ctx.resumed,
                    "promoted by this failover"
                    if ctx.resumed
                    else "not replicating: rebuild the replica (`pulumi up -s dr` after a "
                    "failback) before failing over to it",
                )
            )
        else:
            checks.append(_lag_check(ctx, db, Role.DR, ident))
    return checks


def _vault_check(ctx: OpsContext) -> Check:
    vault = ctx.facts.vault(ctx.target)
    backup = ctx.client("backup", ctx.target)
    points: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        found = call(
            "readiness",
            vault,
            backup.list_recovery_points_by_backup_vault,
            BackupVaultName=vault,
            ByCreatedAfter=ctx.now() - timedelta(hours=RECENT_COPY_HOURS),
            **token,
        )
        points += [p for p in found.get("RecoveryPoints", []) if p.get("Status") == "COMPLETED"]
        if not found.get("NextToken"):
            break
        token = {"NextToken": found["NextToken"]}
    if not points:
        return Check(
            f"recent copy in {vault}",
            False,
            f"no completed recovery point in {RECENT_COPY_HOURS} h",
        )
    newest = max(p["CreationDate"] for p in points)
    return Check(
        f"recent copy in {vault}", True, f"{len(points)} points, newest {newest:%Y-%m-%d %H:%M}Z"
    )


def _compute_checks(ctx: OpsContext) -> list[Check]:
    checks = []
    vcpus_needed = 0
    unknown: list[str] = []
    for compute in ctx.facts.compute[ctx.target]:
        if compute.kind == "asg":
            groups = call(
                "readiness",
                compute.name,
                ctx.client("autoscaling", ctx.target).describe_auto_scaling_groups,
                AutoScalingGroupNames=[compute.name],
            )["AutoScalingGroups"]
            checks.append(
                Check(
                    f"group {compute.name}",
                    bool(groups),
                    "exists" if groups else f"not found in {ctx.facts.region(ctx.target)}",
                )
            )
            if groups:
                vcpus = _vcpus(ctx, groups[0])
                if vcpus is None:
                    unknown.append(compute.name)
                else:
                    vcpus_needed += compute.full.min * vcpus
        else:
            targets = call(
                "readiness",
                compute.name,
                ctx.client("application-autoscaling", ctx.target).describe_scalable_targets,
                ServiceNamespace="ecs",
                ResourceIds=[compute.name],
            )["ScalableTargets"]
            checks.append(
                Check(
                    f"ecs {compute.name}",
                    bool(targets),
                    "registered" if targets else "not registered",
                )
            )
    if unknown:
        checks.append(
            Check("EC2 vCPU quota", None, f"instance types of {', '.join(unknown)} unknown")
        )
    elif vcpus_needed:
        checks.append(_quota_check(ctx, vcpus_needed))
    return checks


def _vcpus(ctx: OpsContext, group: dict[str, Any]) -> int | None:
    """vCPUs of the group's launch-template instance type (None: not knowable, e.g. a
    mixed-instances group)."""
    template = group.get("LaunchTemplate") or {}
    if "LaunchTemplateName" not in template:
        return None
    ec2 = ctx.client("ec2", ctx.target)
    try:
        versions = ec2.describe_launch_template_versions(
            LaunchTemplateName=template["LaunchTemplateName"],
            Versions=[template.get("Version", "$Latest")],
        )["LaunchTemplateVersions"]
        itype = versions[0]["LaunchTemplateData"]["InstanceType"]
        info = ec2.describe_instance_types(InstanceTypes=[itype])["InstanceTypes"][0]
        return int(info["VCpuInfo"]["DefaultVCpus"])
    except (ClientError, KeyError, IndexError):
        return None


def _quota_check(ctx: OpsContext, needed: int) -> Check:
    service, code = STANDARD_VCPU_QUOTA
    quotas = ctx.client("service-quotas", ctx.target)
    try:
        value = quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"]
    except Exception as exc:
        return Check("EC2 vCPU quota", None, f"unknown ({type(exc).__name__}); need {needed}")
    return Check(
        "EC2 vCPU quota", value >= needed, f"{value:g} vCPUs for {needed} needed at minimum"
    )


def readiness(ctx: OpsContext) -> str:
    """Replica lag vs the RPO, a recent copy in the target's vault, target capacity and
    quotas. Refuses on a failed check unless forced (with a reason)."""
    checks = [_serving_check(ctx), *_database_checks(ctx), *_compute_checks(ctx)]
    if ctx.target is Role.DR:
        checks.append(_vault_check(ctx))
    ctx.checks = checks
    failed = [c for c in checks if c.ok is False]
    summary = f"{len(checks) - len(failed)}/{len(checks)} checks pass"
    if failed:
        reasons = "; ".join(f"{c.name}: {c.detail}" for c in failed)
        if not ctx.force:
            raise Refused(f"not ready: {reasons} (--force --reason '...' to go anyway)")
        return f"{summary}; forced ({ctx.reason}) past: {reasons}"
    return summary


# -- which region serves (model/serving.py) ----------------------------------------------


def _operation(ctx: OpsContext) -> str:
    return "failover" if ctx.target is Role.DR else "failback"


def read_serving(ctx: OpsContext, step: str) -> ServingState | None:
    """The serving fact in the DR region (None: no operation has ever written it)."""
    ssm = ctx.clients("ssm", ctx.facts.dr_region)
    name = ctx.facts.serving_parameter
    try:
        found = call(step, name, ssm.get_parameter, Name=name)
    except StepError as exc:
        if exc.code == "ParameterNotFound":
            return None
        raise
    try:
        return ServingState.from_json(str(found["Parameter"]["Value"]))
    except ValueError as exc:
        raise StepError(step, name, "UnreadableServingState", str(exc)) from None


def _serving_check(ctx: OpsContext) -> Check:
    """Failover starts from a serving primary, failback from a serving DR region; either
    resumes its own run. Another run under way refuses (two operators, or a lost journal)."""
    state = read_serving(ctx, "readiness") or ServingState(Role.PRIMARY)
    operation = _operation(ctx)
    name = f"serving {ctx.facts.serving_parameter}"
    if state.operation is not None:
        own = state.operation == operation and state.run == ctx.run_id
        detail = f"{state.operation} run {state.run} under way since {state.at}"
        return Check(name, own, detail + ("" if own else ": finish or clear that run first"))
    if state.serving is ctx.target and state.run == ctx.run_id and ctx.resumed:
        return Check(name, True, f"{state.serving.value} serves: recorded by this run")
    ok = state.serving is ctx.source
    return Check(
        name,
        ok,
        f"{state.serving.value} serves"
        + ("" if ok else f": nothing to {operation} (it already serves from {ctx.target.value})"),
    )


def _write_serving(ctx: OpsContext, step: str, wanted: ServingState) -> str:
    current = read_serving(ctx, step)
    same = current is not None and (current.serving, current.operation, current.run) == (
        wanted.serving,
        wanted.operation,
        wanted.run,
    )
    what = f"{wanted.operation} under way" if wanted.operation else f"{wanted.serving.value} serves"
    if same:
        return f"{ctx.facts.serving_parameter}: {what} already"
    if ctx.dry_run:
        return f"would write {ctx.facts.serving_parameter}: {what}"
    call(
        step,
        ctx.facts.serving_parameter,
        ctx.clients("ssm", ctx.facts.dr_region).put_parameter,
        Name=ctx.facts.serving_parameter,
        Value=wanted.to_json(),
        Type="String",
        Overwrite=True,
    )
    return f"{ctx.facts.serving_parameter}: {what} (deploys of both stacks check it)"


def announce(ctx: OpsContext) -> str:
    """Before anything changes: the DR region's serving fact says this run is under way, so
    no `pulumi up` of either stack fights it (they refuse until it ends)."""
    stamp = ctx.now().isoformat(timespec="seconds")
    state = ServingState(ctx.source, _operation(ctx), ctx.run_id, stamp)
    return _write_serving(ctx, "announce", state)


def record_serving(ctx: OpsContext) -> str:
    """The operation is complete: the target region serves. From now on a deploy of the
    primary is refused until failback, and the dr stack deploys only with `dr.mode: active`
    (failover) or its standby mode again (failback)."""
    stamp = ctx.now().isoformat(timespec="seconds")
    return _write_serving(ctx, "record-serving", ServingState(ctx.target, None, ctx.run_id, stamp))


# -- databases ---------------------------------------------------------------------------


def _describe_instance(rds: Any, ident: str) -> dict[str, Any] | None:
    try:
        return dict(rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0])
    except rds.exceptions.DBInstanceNotFoundFault:
        return None


def _describe_cluster(rds: Any, ident: str) -> dict[str, Any] | None:
    try:
        return dict(rds.describe_db_clusters(DBClusterIdentifier=ident)["DBClusters"][0])
    except rds.exceptions.DBClusterNotFoundFault:
        return None


def _wait_available(ctx: OpsContext, step: str, rds: Any, ident: str, cluster: bool) -> str:
    def check() -> tuple[bool, str]:
        found = call(
            step, ident, _describe_cluster if cluster else _describe_instance, rds=rds, ident=ident
        )
        status = (found or {}).get("Status" if cluster else "DBInstanceStatus", "missing")
        return status == "available", str(status)

    return ctx.waiter.until(step, ident, "status available", check)


def promote_databases(ctx: OpsContext) -> str:
    """RDS: promote the target region's replica; Aurora: detach the target cluster from the
    global database (an unplanned failover: the source region may be down). Done only when
    the database is writable: no source left and status available."""
    done = []
    rds = ctx.client("rds", ctx.target)
    for db in ctx.facts.databases:
        ident = _target_db(ctx, db)
        describe = _describe_cluster if db.aurora else _describe_instance
        found = call("promote-databases", ident, describe, rds=rds, ident=ident)
        if found is None:
            raise StepError("promote-databases", ident, "NotFound", "no such database")
        if not _replicating(db, found):
            done.append(f"{ident} already writable")
            continue
        if ctx.dry_run:
            done.append(f"would {'detach' if db.aurora else 'promote'} {ident}")
            continue

        def check(
            db: DatabaseFacts = db, ident: str = ident, describe: Any = describe
        ) -> tuple[bool, str]:
            current = call("promote-databases", ident, describe, rds=rds, ident=ident) or {}
            status = str(current.get("Status" if db.aurora else "DBInstanceStatus", "missing"))
            if not _replicating(db, current):
                return status == "available", status
            if status == "available":
                _promote(rds, db, ident, current)  # (again) until it takes
            return False, f"{status}, still replicating"

        ctx.waiter.until("promote-databases", ident, "a writable database", check)
        done.append(f"{ident} {'detached and writable' if db.aurora else 'promoted'}")
    return "; ".join(done) or "no databases"


def _replicating(db: DatabaseFacts, found: dict[str, Any]) -> bool:
    key = "GlobalClusterIdentifier" if db.aurora else "ReadReplicaSourceDBInstanceIdentifier"
    return bool(found.get(key))


def _promote(rds: Any, db: DatabaseFacts, ident: str, found: dict[str, Any]) -> None:
    try:
        if db.aurora:
            call(
                "promote-databases",
                ident,
                rds.remove_from_global_cluster,
                GlobalClusterIdentifier=found["GlobalClusterIdentifier"],
                DbClusterIdentifier=found["DBClusterArn"],
            )
        else:
            call(
                "promote-databases",
                ident,
                rds.promote_read_replica,
                DBInstanceIdentifier=ident,
                BackupRetentionPeriod=db.backup_retention_days,
            )
    except StepError as exc:
        # Already under way (the status lags the call): keep waiting.
        if exc.code not in ("InvalidDBInstanceState", "InvalidDBClusterStateFault"):
            raise


def _target_db(ctx: OpsContext, db: DatabaseFacts) -> str:
    """The database that becomes the writer: the DR replica, or on failback this run's copy
    (under the primary identifier once swapped)."""
    if ctx.target is Role.DR:
        return db.replica_id
    return db.primary_id if _swapped(ctx, db) else failback_copy(db)


def failback_copy(db: DatabaseFacts) -> str:
    """The primary-region replica of the DR writer that failback creates and promotes."""
    return f"{db.primary_id}-failback"


FAILBACK_TAG = "resilience-failback-run"


def _run_tag(rds: Any, instance: dict[str, Any] | None) -> str | None:
    if instance is None:
        return None
    tags = call(
        "failback",
        instance["DBInstanceIdentifier"],
        rds.list_tags_for_resource,
        ResourceName=instance["DBInstanceArn"],
    ).get("TagList", [])
    return next((t["Value"] for t in tags if t["Key"] == FAILBACK_TAG), None)


def _swapped(ctx: OpsContext, db: DatabaseFacts) -> bool:
    """Whether this run's copy already carries the primary identifier."""
    rds = ctx.client("rds", Role.PRIMARY)
    at_primary = call("failback", db.primary_id, _describe_instance, rds=rds, ident=db.primary_id)
    return ctx.run_id != "" and _run_tag(rds, at_primary) == ctx.run_id


def enable_backups(ctx: OpsContext) -> str:
    """The new writer keeps the primary's backup retention."""
    done = []
    rds = ctx.client("rds", ctx.target)
    for db in ctx.facts.databases:
        ident = db.replica_id if ctx.target is Role.DR else db.primary_id
        cluster = db.aurora
        found = call(
            "enable-backups",
            ident,
            _describe_cluster if cluster else _describe_instance,
            rds=rds,
            ident=ident,
        )
        if found is None:
            raise StepError("enable-backups", ident, "NotFound", "no such database")
        if found.get("BackupRetentionPeriod") == db.backup_retention_days:
            done.append(f"{ident} keeps {db.backup_retention_days} d")
            continue
        if ctx.dry_run:
            done.append(f"would set {ident} backups to {db.backup_retention_days} d")
            continue
        if cluster:
            call(
                "enable-backups",
                ident,
                rds.modify_db_cluster,
                DBClusterIdentifier=ident,
                BackupRetentionPeriod=db.backup_retention_days,
                ApplyImmediately=True,
            )
        else:
            call(
                "enable-backups",
                ident,
                rds.modify_db_instance,
                DBInstanceIdentifier=ident,
                BackupRetentionPeriod=db.backup_retention_days,
                ApplyImmediately=True,
            )
        done.append(f"{ident} backups {db.backup_retention_days} d")
    return "; ".join(done) or "no databases"


# -- compute -----------------------------------------------------------------------------


def _scale(
    ctx: OpsContext,
    step: str,
    role: Role,
    capacity: Callable[[ComputeFacts], tuple[int, int]],
    *,
    best_effort: bool = False,
) -> str:
    """Set each group's or ECS service's bounds in a role's region, reading first. With
    `best_effort`: one attempt, short timeouts, and a missing group is nothing to do."""
    done = []
    region = ctx.facts.region(role)
    for compute in ctx.facts.compute[role]:
        low, high = capacity(compute)
        if compute.kind == "asg":
            autoscaling = ctx.clients("autoscaling", region, best_effort=best_effort)
            groups = call(
                step,
                compute.name,
                autoscaling.describe_auto_scaling_groups,
                AutoScalingGroupNames=[compute.name],
            )["AutoScalingGroups"]
            if not groups and best_effort:
                done.append(f"{compute.name} absent")
                continue
            if not groups:
                raise StepError(step, compute.name, "NotFound", "no such Auto Scaling group")
            group = groups[0]
            if (group["MinSize"], group["MaxSize"]) == (low, high):
                done.append(f"{compute.name} at {low}..{high}")
                continue
            if ctx.dry_run:
                done.append(f"would set {compute.name} to {low}..{high}")
                continue
            call(
                step,
                compute.name,
                autoscaling.update_auto_scaling_group,
                AutoScalingGroupName=compute.name,
                MinSize=low,
                MaxSize=high,
            )
        else:
            scaling = ctx.clients("application-autoscaling", region, best_effort=best_effort)
            targets = call(
                step,
                compute.name,
                scaling.describe_scalable_targets,
                ServiceNamespace="ecs",
                ResourceIds=[compute.name],
            )["ScalableTargets"]
            if targets and (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) == (low, high):
                done.append(f"{compute.name} at {low}..{high}")
                continue
            if ctx.dry_run:
                done.append(f"would set {compute.name} to {low}..{high}")
                continue
            call(
                step,
                compute.name,
                scaling.register_scalable_target,
                ServiceNamespace="ecs",
                ResourceId=compute.name,
                ScalableDimension="ecs:service:DesiredCount",
                MinCapacity=low,
                MaxCapacity=high,
            )
        done.append(f"{compute.name} -> {low}..{high}")
    return "; ".join(done) or "no scalable compute"


def scale_target(ctx: OpsContext) -> str:
    """The target region's compute to the primary's full capacity (the `active` mode)."""
    return _scale(ctx, "scale-target", ctx.target, lambda c: (c.full.min, c.full.max))


def _in_service(ctx: OpsContext, compute: ComputeFacts) -> tuple[bool, str]:
    if compute.kind == "asg":
        groups = call(
            "wait-target-healthy",
            compute.name,
            ctx.client("autoscaling", ctx.target).describe_auto_scaling_groups,
            AutoScalingGroupNames=[compute.name],
        )["AutoScalingGroups"]
        count = sum(
            1
            for i in (groups[0]["Instances"] if groups else [])
            if i["LifecycleState"] == "InService"
        )
    else:
        _, cluster, service = compute.name.split("/")
        services = call(
            "wait-target-healthy",
            compute.name,
            ctx.client("ecs", ctx.target).describe_services,
            cluster=cluster,
            services=[service],
        )["services"]
        count = int(services[0]["runningCount"]) if services else 0
    return count >= compute.full.min, f"{compute.name} {count}/{compute.full.min} in service"


def _load_balancer_host(ctx: OpsContext, role: Role, name: str) -> str:
    found = call(
        "wait-target-healthy", name, ctx.client("elbv2", role).describe_load_balancers, Names=[name]
    )
    return str(found["LoadBalancers"][0]["DNSName"])


def _target_hosts(ctx: OpsContext) -> dict[str, str]:
    """Service -> DNS name of its load balancer in the target region."""
    return {
        e.service: _load_balancer_host(ctx, ctx.target, e.load_balancers[ctx.target])
        for e in ctx.facts.endpoints
        if ctx.target in e.load_balancers
    }


def wait_target_healthy(ctx: OpsContext) -> str:
    """Compute in service and every endpoint answering at the target's load balancer:
    traffic never moves to a region that does not answer."""
    if ctx.dry_run:
        return "would wait for the target's compute and load balancers"
    states: list[str] = []
    hosts = _target_hosts(ctx)  # load balancers keep their names: look them up once

    def check() -> tuple[bool, str]:
        states.clear()
        ok = True
        for compute in ctx.facts.compute[ctx.target]:
            ready, state = _in_service(ctx, compute)
            ok &= ready
            states.append(state)
        for endpoint in ctx.facts.endpoints:
            host = hosts.get(endpoint.service)
            if host is None:
                continue
            answers, detail = ctx.prober(host, endpoint.path)
            ok &= answers
            states.append(f"{endpoint.service} {detail}")
        return ok, ", ".join(states)

    return ctx.waiter.until(
        "wait-target-healthy", ctx.facts.region(ctx.target), "a healthy target region", check
    )


# -- traffic -----------------------------------------------------------------------------


# UpdateSchedule replaces the whole schedule ("EventBridge Scheduler uses all values,
# including empty values, specified in the request and overrides the existing schedule",
# EventBridge Scheduler API Reference, UpdateSchedule): every field GetSchedule returns is
# sent back, with only the target's Input changed.
_SCHEDULE_FIELDS = (
    "GroupName",
    "Description",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "EndDate",
    "State",
    "KmsKeyArn",
    "FlexibleTimeWindow",
    "ActionAfterCompletion",
)


def _fence_value(schedule: dict[str, Any]) -> float | None:
    """The fence value a schedule republishes (its target's PutMetricData Input)."""
    try:
        return float(json.loads(schedule["Target"]["Input"])["MetricData"][0]["Value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _fence(ctx: OpsContext, step: str, role: Role, value: int) -> str:
    """Set a region's fence (1 fences, 0 lifts) in the fence region (the DR region, so a
    failover never needs the failed region for it): the fence schedule's payload, which it
    republishes every minute for as long as it stands, and datapoints at once (a raise for
    this minute and the next two, a lift for the next minute: see below)."""
    namespace, metric, dims = ctx.facts.fence(role)
    fenced = ctx.facts.region(role)
    name = ctx.facts.fence_schedule(role)
    scheduler = ctx.clients("scheduler", ctx.facts.fence_region)
    try:
        schedule = call(step, name, scheduler.get_schedule, Name=name, GroupName="default")
    except StepError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
        raise StepError(
            step,
            name,
            "NoFenceSchedule",
            f"no fence schedule {name} in {ctx.facts.fence_region}: deploy the stacks first",
        ) from None
    if _fence_value(schedule) == value and schedule.get("State") == "ENABLED":
        return f"{fenced} {'fenced' if value else 'unfenced'} already (schedule {name})"
    if ctx.dry_run:
        return f"would {'fence' if value else 'lift the fence of'} {fenced} (schedule {name})"
    target = dict(schedule["Target"])
    target["Input"] = fence_payload(ctx.facts.system, fenced, value)
    fields = {k: schedule[k] for k in _SCHEDULE_FIELDS if schedule.get(k) is not None}
    fields["State"] = "ENABLED"
    start = fields.get("StartDate")
    if isinstance(start, datetime) and start < ctx.now() - timedelta(minutes=5):
        # "The StartDate you specify cannot be earlier than 5 minutes ago" (CreateSchedule,
        # StartDate): a schedule that has started is sent without it and keeps invoking.
        del fields["StartDate"]
    call(step, name, scheduler.update_schedule, Name=name, Target=target, **fields)
    minute = ctx.now().replace(second=0, microsecond=0)
    # No page says when an update reaches the schedule's next invocation. A raise is
    # published for this minute and the next two (timestamps "as much as 2 hours after" are
    # accepted, CloudWatch API Reference, PutMetricData): an invocation still sending 0 in
    # them cannot lift the fence (the alarm reads maxima). A lift is stamped at the next
    # minute only, so a raise of this minute cannot merge with it; a late invocation still
    # sending 1 only delays it.
    stamps = (
        [ctx.now(), *(minute + timedelta(minutes=k) for k in (1, 2))]
        if value
        else [minute + timedelta(minutes=1)]
    )
    call(
        step,
        f"{namespace} {metric} {fenced}",
        ctx.clients("cloudwatch", ctx.facts.fence_region).put_metric_data,
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Value": float(value),
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                "Timestamp": stamp,
            }
            for stamp in stamps
        ],
    )
    stamp = stamps[0]
    return f"{fenced} {'fenced' if value else 'unfenced'} from {stamp:%H:%M}Z (schedule {name})"


def fence_source(ctx: OpsContext) -> str:
    """Take the source region out of DNS. Health-check mechanism: raise its fence (in the
    DR region). ARC: the routing controls move in switch-traffic, once the target is
    healthy."""
    if ctx.facts.mechanism == "health-check":
        return _fence(ctx, "fence-source", ctx.source, 1)
    if ctx.facts.mechanism == "arc":
        return "ARC: the routing controls switch once the target is healthy"
    return "no DNS failover configured"


def _drain(ctx: OpsContext, step: str, role: Role, *, best_effort: bool) -> str:
    """Stop a region's compute (groups and ECS services to 0), so that no application there
    writes to a database that is about to be left behind."""
    try:
        return _scale(ctx, step, role, lambda _: (0, 0), best_effort=best_effort)
    except StepError as exc:
        if not best_effort:
            raise
        # The region is down or failing: its compute serves no one either way.
        return f"{ctx.facts.region(role)} did not answer ({exc.code}); nothing to stop"


def drain_source(ctx: OpsContext) -> str:
    """Best effort: if the old primary's region still answers, stop its compute (it would
    keep writing to the old database). One attempt, short timeouts: a dark region costs
    seconds, not minutes."""
    return _drain(ctx, "drain-source", ctx.source, best_effort=True)


def drain_target(ctx: OpsContext) -> str:
    """Failback: the primary region's compute stops until its database is the copy: it
    must not serve from the old primary left behind at failover."""
    return _drain(ctx, "drain-target", ctx.target, best_effort=False)


def switch_traffic(ctx: OpsContext) -> str:
    """Health checks: lift the target's fence (Route 53 then answers with it: the source
    is fenced). ARC: target on and source off in one call to the cluster's data plane."""
    if ctx.facts.mechanism == "health-check":
        return _fence(ctx, "switch-traffic", ctx.target, 0)
    if ctx.facts.mechanism != "arc":
        return "no DNS failover configured"
    controls = ctx.facts.routing_controls
    updates = [
        {"RoutingControlArn": controls[ctx.target], "RoutingControlState": "On"},
        {"RoutingControlArn": controls[ctx.source], "RoutingControlState": "Off"},
    ]
    if ctx.dry_run:
        return f"would set {ctx.target.value} On and {ctx.source.value} Off"
    errors = []
    # Any of the cluster's regional endpoints will do; try them in turn.
    for region, endpoint in ctx.facts.cluster_endpoints:
        client = ctx.clients("route53-recovery-cluster", region, endpoint_url=endpoint)
        try:
            call(
                "switch-traffic",
                f"routing controls via {region}",
                client.update_routing_control_states,
                UpdateRoutingControlStateEntries=updates,
            )
            return f"{ctx.target.value} On, {ctx.source.value} Off (via {region})"
        except StepError as exc:
            errors.append(str(exc))
    raise StepError("switch-traffic", "ARC cluster", "AllEndpointsFailed", " | ".join(errors))


def verify_endpoint(ctx: OpsContext) -> str:
    """Each public name resolves to the target's load balancer and answers."""
    if ctx.dry_run:
        return "would probe " + ", ".join(e.record for e in ctx.facts.endpoints)
    if not ctx.facts.endpoints:
        return "no public names"
    results: list[str] = []
    targets = _target_hosts(ctx)

    def check() -> tuple[bool, str]:
        results.clear()
        ok = True
        for endpoint in ctx.facts.endpoints:
            host = targets.get(endpoint.service)
            there = host is not None and bool(ctx.resolver(endpoint.record) & ctx.resolver(host))
            answers, detail = ctx.prober(endpoint.record, endpoint.path)
            ok &= there and answers
            where = ctx.facts.region(ctx.target) if there else "elsewhere"
            results.append(f"{endpoint.record} -> {where} {detail}")
        return ok, ", ".join(results)

    return ctx.waiter.until("verify-endpoint", "public names", "every name answering", check)


def source_standby(ctx: OpsContext) -> str:
    """After failback the DR region stands by again: compute at its standby capacity, and
    fenced unless its standby mode is active."""
    scaled = _scale(
        ctx, "scale-source-to-standby", ctx.source, lambda c: (c.standby.min, c.standby.max)
    )
    if ctx.facts.mechanism == "health-check" and ctx.facts.mode is DrMode.ACTIVE:
        return f"{scaled}; {_fence(ctx, 'scale-source-to-standby', ctx.source, 0)}"
    return scaled


# -- failback databases ------------------------------------------------------------------


def reverse_replication(ctx: OpsContext) -> str:
    """A replica of the DR writer in the primary region (this run's failback copy), in the
    primary database's network, parameter group and key."""
    done = []
    source_rds, rds = ctx.client("rds", Role.DR), ctx.client("rds", Role.PRIMARY)
    for db in ctx.facts.databases:
        if db.aurora:
            raise Refused(
                f"{db.name}: Aurora failback is not automated: re-create the primary region's "
                "cluster as a secondary of a new global database, then switch over with "
                "`aws rds switchover-global-cluster`"
            )
        copy = failback_copy(db)
        if _swapped(ctx, db):
            done.append(f"{db.primary_id} is already this run's copy")
            continue
        existing = call("reverse-replication", copy, _describe_instance, rds=rds, ident=copy)
        if existing is not None:
            if _run_tag(rds, existing) != ctx.run_id:
                raise StepError(
                    "reverse-replication",
                    copy,
                    "ForeignCopy",
                    "a failback copy from another run exists: resume that run or delete it",
                )
            done.append(f"{copy} exists")
            continue
        writer = call(
            "reverse-replication",
            db.replica_id,
            _describe_instance,
            rds=source_rds,
            ident=db.replica_id,
        )
        if writer is None or writer.get("ReadReplicaSourceDBInstanceIdentifier"):
            raise StepError(
                "reverse-replication",
                db.replica_id,
                "NotWriter",
                "the DR database is not a promoted writer: fail over first",
            )
        if ctx.dry_run:
            done.append(f"would create {copy} from {db.replica_id}")
            continue
        encryption = (
            {"KmsKeyId": f"alias/{ctx.facts.system}-primary/data"}
            if writer.get("StorageEncrypted")
            else {}
        )
        network = {"VpcSecurityGroupIds": list(db.security_groups)} if db.security_groups else {}
        call(
            "reverse-replication",
            copy,
            rds.create_db_instance_read_replica,
            DBInstanceIdentifier=copy,
            SourceDBInstanceIdentifier=writer["DBInstanceArn"],
            DBInstanceClass=writer["DBInstanceClass"],
            SourceRegion=ctx.facts.dr_region,
            DBSubnetGroupName=db.primary_id,
            DBParameterGroupName=db.primary_id,
            MultiAZ=db.multi_az,
            DeletionProtection=True,
            Tags=[{"Key": FAILBACK_TAG, "Value": ctx.run_id}],
            **encryption,
            **network,
        )
        _wait_available(ctx, "reverse-replication", rds, copy, cluster=False)
        done.append(f"{copy} replicating from {db.replica_id}")
    return "; ".join(done) or "no databases"


def archived(db: DatabaseFacts, run_id: str) -> str:
    """Where failback moves the old primary (one name per run: archives never collide)."""
    return f"{db.primary_id}-pre-failback-{run_id}"[:63]


def _wait_lag(ctx: OpsContext, step: str, limit_s: float) -> str:
    if ctx.dry_run:
        return f"would wait for the failback copies' lag to reach {limit_s:g} s"
    done = []
    for db in ctx.facts.databases:
        copy = failback_copy(db)
        if _swapped(ctx, db):
            done.append(f"{db.primary_id} already switched")
            continue

        def check(db: DatabaseFacts = db, copy: str = copy) -> tuple[bool, str]:
            lag_s, metric = _replica_lag(ctx, db, Role.PRIMARY, copy, step)
            if lag_s is None:
                return False, f"no {metric} datapoints"
            return lag_s <= limit_s, f"{lag_s:g} s"

        done.append(f"{copy} {ctx.waiter.until(step, copy, f'lag of {limit_s:g} s', check)}")
    return "; ".join(done) or "no databases"


def wait_caught_up(ctx: OpsContext) -> str:
    """The copy's lag within the RPO before writes stop (shortens the stop)."""
    return _wait_lag(ctx, "wait-caught-up", ctx.facts.rpo_minutes * 60)


def wait_in_sync(ctx: OpsContext) -> str:
    """With the DR region fenced and writes stopped, the copy has every write (lag 0)."""
    return _wait_lag(ctx, "wait-in-sync", 0)


def swap_identifiers(ctx: OpsContext) -> str:
    """The old primary moves aside (`-pre-failback-<run>`, kept for inspection) and this
    run's copy takes the primary identifier, so the primary stack's state matches again
    after a refresh."""
    done = []
    rds = ctx.client("rds", Role.PRIMARY)
    for db in ctx.facts.databases:
        copy, old = failback_copy(db), archived(db, ctx.run_id)
        if _swapped(ctx, db):
            done.append(f"{db.primary_id} is this run's copy")
            continue
        if ctx.dry_run:
            done.append(f"would rename {db.primary_id} -> {old}, {copy} -> {db.primary_id}")
            continue
        current = call(
            "swap-identifiers", db.primary_id, _describe_instance, rds=rds, ident=db.primary_id
        )
        if current is not None:
            call(
                "swap-identifiers",
                db.primary_id,
                rds.modify_db_instance,
                DBInstanceIdentifier=db.primary_id,
                NewDBInstanceIdentifier=old,
                ApplyImmediately=True,
            )
            _wait_available(ctx, "swap-identifiers", rds, old, cluster=False)
        call(
            "swap-identifiers",
            copy,
            rds.modify_db_instance,
            DBInstanceIdentifier=copy,
            NewDBInstanceIdentifier=db.primary_id,
            ApplyImmediately=True,
        )
        _wait_available(ctx, "swap-identifiers", rds, db.primary_id, cluster=False)
        done.append(f"{copy} is now {db.primary_id}; the old primary is {old}")
    return "; ".join(done) or "no databases"


# -- config ------------------------------------------------------------------------------


DR_KEY = "resilience:dr"


def write_config(ctx: OpsContext) -> str:
    """Failover: the dr stack file says `dr.mode: active` (and `dr.standby_mode`: the mode
    before), so the next `pulumi up -s dr` reconciles (promoted replica, no replication)
    instead of recreating the database. Failback: back to the standby mode."""
    path = ctx.dr_stack_file
    if path is None:
        return "no dr stack file given: set resilience:dr.mode by hand"
    try:
        return _write_config(ctx, path)
    except (OSError, yaml.YAMLError) as exc:
        raise StepError("write-config", str(path), type(exc).__name__, str(exc)) from None


def _write_config(ctx: OpsContext, path: Path) -> str:
    document = yaml.safe_load(path.read_text()) or {}
    config = document.setdefault("config", {})
    current = config.get(DR_KEY)
    wanted = dict(current) if isinstance(current, dict) else _included_dr(path, config)
    if ctx.target is Role.DR:
        if wanted.get("mode") == "active":
            return f"{path.name} already says dr.mode active"
        wanted["standby_mode"] = wanted.get("mode", "pilot-light")
        wanted["mode"] = "active"
    else:
        if wanted.get("mode") != "active":
            return f"{path.name} already says dr.mode {wanted.get('mode', 'pilot-light')}"
        wanted["mode"] = wanted.pop("standby_mode", None) or "pilot-light"
    if ctx.dry_run:
        return f"would set {DR_KEY}.mode: {wanted['mode']} in {path.name}"
    config[DR_KEY] = wanted
    header = "".join(line + "\n" for line in path.read_text().splitlines() if line.startswith("#"))
    path.write_text(header + yaml.safe_dump(document, sort_keys=False))
    after = "`pulumi up -s dr`" + (
        "" if ctx.target is Role.DR else " and `pulumi refresh -s primary`"
    )
    return f"{path.name}: dr.mode {wanted['mode']}; run {after}"


def _included_dr(path: Path, config: dict[str, Any]) -> dict[str, Any]:
    from model.loader import with_includes

    merged, _ = with_includes(config, path.parent, path.name)
    found = merged.get(DR_KEY)
    if not isinstance(found, dict):
        raise StepError(
            "write-config", str(path), "NoDrConfig", f"no {DR_KEY} in the stack or its includes"
        )
    return dict(found)


# -- plans -------------------------------------------------------------------------------


def failover_steps() -> list[Step]:
    return [
        Step(
            "readiness",
            "replica lag, recent DR copy, DR capacity and quotas",
            readiness,
            mutates=False,
        ),
        Step("announce", "the DR region's serving fact: a failover is under way", announce),
        Step("drain-source", "stop the old primary's compute if its region answers", drain_source),
        Step("fence-source", "take the primary region out of DNS", fence_source),
        Step("promote-databases", "make the DR databases writable", promote_databases),
        Step("enable-backups", "the new writers keep the primary's backups", enable_backups),
        Step("scale-target", "DR compute to full capacity", scale_target),
        Step(
            "wait-target-healthy",
            "DR compute in service, load balancers answering",
            wait_target_healthy,
        ),
        Step("switch-traffic", "DNS to the DR region", switch_traffic),
        Step("verify-endpoint", "public names answer from the DR region", verify_endpoint),
        Step(
            "record-serving", "the DR region's serving fact: the DR region serves", record_serving
        ),
        Step("write-config", "dr.mode active in the dr stack file", write_config),
    ]


def failback_steps() -> list[Step]:
    return [
        Step("readiness", "the DR writers and the primary region", readiness, mutates=False),
        Step("announce", "the DR region's serving fact: a failback is under way", announce),
        Step(
            "reverse-replication",
            "replicate the DR writer to the primary region",
            reverse_replication,
        ),
        Step("wait-caught-up", "the copy's lag within the RPO", wait_caught_up),
        Step(
            "drain-target", "the primary region serves nothing from its old database", drain_target
        ),
        Step("fence-source", "take the DR region out of DNS: writes stop", fence_source),
        Step("wait-in-sync", "the copy has every write", wait_in_sync),
        Step("promote-databases", "make the failback copy writable", promote_databases),
        Step("swap-identifiers", "the copy takes the primary identifier", swap_identifiers),
        Step("enable-backups", "the primary writer's backups", enable_backups),
        Step("scale-target", "primary compute to full capacity", scale_target),
        Step(
            "wait-target-healthy",
            "primary compute in service, load balancers answering",
            wait_target_healthy,
        ),
        Step("switch-traffic", "DNS back to the primary region", switch_traffic),
        Step("verify-endpoint", "public names answer from the primary region", verify_endpoint),
        Step("scale-source-to-standby", "the DR region stands by again", source_standby),
        Step("record-serving", "the DR region's serving fact: the primary serves", record_serving),
        Step("write-config", "the dr stack file back to its standby mode", write_config),
    ]
