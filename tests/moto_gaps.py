"""What moto does not emulate, filled in for the tests in one visible place.

- Route 53 health-check status: moto reports every check as "Success". `HealthOverrides`
  says which leaf checks (HTTPS, CloudWatch-alarm, routing-control) are failing; calculated
  checks are evaluated from their children as Route 53 does (healthy when at least
  `HealthThreshold` children are).
- Route 53 TestDNSAnswer (not implemented by moto): `answer` applies failover routing to the
  record sets and health-check configs read back from the moto API. For a failover pair,
  Route 53 answers with the PRIMARY if it is healthy, else the SECONDARY if that is healthy,
  else the PRIMARY (when every record is unhealthy, Route 53 treats them all as healthy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class HealthOverrides:
    """Leaf health checks that are failing (by id); every other leaf is healthy."""

    failing: set[str] = field(default_factory=set)


def healthy(route53: Any, check_id: str, overrides: HealthOverrides) -> bool:
    config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
    if config["Type"] == "CALCULATED":
        children = config.get("ChildHealthChecks", [])
        up = sum(healthy(route53, child, overrides) for child in children)
        return up >= int(config["HealthThreshold"])
    return check_id not in overrides.failing


def answer(route53: Any, zone_id: str, name: str, overrides: HealthOverrides) -> str:
    """The alias target Route 53 would answer `name` with."""
    fqdn = name if name.endswith(".") else name + "."
    sets = [
        s
        for s in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if s["Name"] == fqdn and s.get("Failover")
    ]
    by_role = {s["Failover"]: s for s in sets}
    if set(by_role) != {"PRIMARY", "SECONDARY"}:
        raise AssertionError(f"{name}: expected a PRIMARY/SECONDARY pair, got {sorted(by_role)}")

    def up(record: dict[str, Any]) -> bool:
        check = record.get("HealthCheckId")
        return check is None or healthy(route53, check, overrides)

    for role in ("PRIMARY", "SECONDARY"):
        if up(by_role[role]):
            return str(by_role[role]["AliasTarget"]["DNSName"])
    return str(by_role["PRIMARY"]["AliasTarget"]["DNSName"])


# -- what the failover tests need beyond moto ------------------------------------------------
#
# - RDS PromoteReadReplica: moto keeps ReadReplicaSourceDBInstanceIdentifier on the promoted
#   instance; `patch_rds_promotion` clears it, as RDS does.
# - AWS Backup ListRecoveryPointsByBackupVault, Service Quotas for EC2, and the Route 53 ARC
#   data plane (route53-recovery-cluster) are not implemented: `install_api_gaps` answers them
#   from a `GapState` through botocore `before-call` hooks on the session the code uses.
# - Application Auto Scaling registers an ECS target without moving the service's desired
#   count into the new bounds; `install_api_gaps` does that move, as AWS does.
# - A cross-region read replica's DB subnet group is looked up in the source's region;
#   tests/ops_world.py `seed` creates the group there as well (marked at the call).


# Instances whose promotion the tests make hang (status stays "modifying").
STUCK_PROMOTIONS: set[str] = set()


def patch_rds_promotion() -> None:
    """Make moto's promotion leave no source behind (idempotent to call twice)."""
    from moto.rds.models import RDSBackend

    original = RDSBackend.promote_read_replica
    if getattr(original, "_resilience_patched", False):
        return

    def promote(self: Any, db_kwargs: dict[str, Any]) -> Any:
        database = original(self, db_kwargs)
        database.source_db_instance_identifier = None
        if database.db_instance_identifier in STUCK_PROMOTIONS:
            database.status = "modifying"  # a promotion that never finishes
        return database

    promote._resilience_patched = True  # type: ignore[attr-defined]
    RDSBackend.promote_read_replica = promote  # type: ignore[method-assign]


@dataclass
class GapState:
    """The answers moto cannot give, as the tests set them."""

    recovery_points: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by vault
    vcpu_quota: float | None = 1000.0  # None: the quota API fails
    routing_controls: dict[str, str] = field(default_factory=dict)  # ARN -> On | Off
    arc_calls: list[list[dict[str, str]]] = field(default_factory=list)


def _ok(parsed: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    return AWSResponse("https://moto-gap", 200, HTTPHeaders(), None), parsed


def install_api_gaps(session: Any, state: GapState) -> None:
    """Register the gap answers on a boto3 session's event system."""
    events = session._session.get_component("event_emitter")

    def recovery_points(params: dict[str, Any], **_: Any) -> Any:
        body = params.get("url_path", "")
        vault = body.split("/backup-vaults/")[-1].split("/")[0] if "/backup-vaults/" in body else ""
        return _ok({"RecoveryPoints": state.recovery_points.get(vault, [])})

    def quota(**_: Any) -> Any:
        if state.vcpu_quota is None:
            return None  # let the call go to moto, which refuses it
        return _ok({"Quota": {"Value": state.vcpu_quota, "QuotaCode": "L-1216C47A"}})

    def update_controls(params: dict[str, Any], **_: Any) -> Any:
        import json

        entries = json.loads(params["body"])["UpdateRoutingControlStateEntries"]
        states = {**state.routing_controls}
        for entry in entries:
            states[entry["RoutingControlArn"]] = entry["RoutingControlState"]
        if "On" not in states.values():  # the safety rule: at least one region on
            from botocore.awsrequest import AWSResponse, HTTPHeaders

            return AWSResponse("https://moto-gap", 409, HTTPHeaders(), None), {
                "Error": {"Code": "ConflictException", "Message": "safety rule violated"}
            }
        state.routing_controls = states
        state.arc_calls.append(entries)
        return _ok({})

    def ecs_bounds(params: dict[str, Any], request_signer: Any, **_: Any) -> None:
        import json

        request = json.loads(params["body"])
        if request.get("ServiceNamespace") != "ecs":
            return
        _, cluster, service = request["ResourceId"].split("/")
        ecs = session.client("ecs", region_name=request_signer._region_name)
        found = ecs.describe_services(cluster=cluster, services=[service])["services"]
        if not found:
            return
        desired = found[0]["desiredCount"]
        clamped = min(max(desired, request["MinCapacity"]), request["MaxCapacity"])
        if clamped != desired:
            ecs.update_service(cluster=cluster, service=service, desiredCount=clamped)

    events.register("before-call.application-autoscaling.RegisterScalableTarget", ecs_bounds)
    events.register("before-call.backup.ListRecoveryPointsByBackupVault", recovery_points)
    events.register("before-call.service-quotas.GetServiceQuota", quota)
    events.register(
        "before-call.route53-recovery-cluster.UpdateRoutingControlStates", update_controls
    )
