"""What moto does not emulate, filled in for the tests in one visible place.

- Route 53 health checks: moto drops a check's AlarmIdentifier, InsufficientDataHealthStatus
  and RoutingControlArn (the CLOUDWATCH_METRIC and RECOVERY_CONTROL settings) and reports
  every check as "Success". `patch_route53_health_checks` keeps the settings, so that they
  round-trip through the API as Route 53 stores them; their *status* comes from the
  time-stepped model of the documented evaluation in tests/route53_model.py, which also
  answers DNS queries (moto has no TestDNSAnswer) and runs EventBridge Scheduler's schedules
  (moto stores schedules but never invokes them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

# HealthCheckConfig members moto's model does not keep (Route 53 API Reference,
# HealthCheckConfig), with the attribute the patch stores each in.
_KEPT = {
    "AlarmIdentifier": "resilience_alarm_identifier",
    "InsufficientDataHealthStatus": "resilience_insufficient_data",
    "RoutingControlArn": "resilience_routing_control_arn",
}


def patch_route53_health_checks() -> None:
    """Keep the CLOUDWATCH_METRIC / RECOVERY_CONTROL settings of created health checks and
    return them in HealthCheckConfig (idempotent)."""
    from moto.route53 import models, responses

    original_create = responses.Route53.create_health_check
    if getattr(original_create, "_resilience_patched", False):
        return
    original_config: Any = models.HealthCheck.__dict__["health_check_config"]  # a property

    def create(self: Any) -> Any:
        config = self._get_param("HealthCheckConfig") or {}
        result = original_create(self)
        check = cast(dict[str, Any], result.result)["HealthCheck"]
        for member, attribute in _KEPT.items():
            if config.get(member) is not None:
                setattr(check, attribute, config[member])
        return result

    def health_check_config(self: Any) -> dict[str, Any]:
        config: dict[str, Any] = original_config.fget(self)
        for member, attribute in _KEPT.items():
            if getattr(self, attribute, None) is not None:
                config[member] = getattr(self, attribute)
        return config

    create._resilience_patched = True  # type: ignore[attr-defined]
    responses.Route53.create_health_check = create  # type: ignore[method-assign]
    models.HealthCheck.health_check_config = property(health_check_config)  # type: ignore[assignment,method-assign]


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


def install_api_gaps(
    session: Any,
    state: GapState,
    *,
    inside: Any = None,
    observe: Callable[[str], None] = lambda _operation: None,
) -> None:
    """Register the gap answers on a boto3 session's event system (the gaps' own calls go
    through `inside`, so that they are not taken for the code's). botocore runs the handlers
    of the most specific event first, so a gap that answers a call tells `observe` about it
    (a recorder on the generic before-call event never sees that call)."""
    events = session._session.get_component("event_emitter")

    def recovery_points(params: dict[str, Any], **_: Any) -> Any:
        """ "ByCreatedAfter: Returns only recovery points that were created after the
        specified timestamp" (AWS Backup API Reference, ListRecoveryPointsByBackupVault)."""
        from datetime import datetime

        observe("backup.ListRecoveryPointsByBackupVault")
        body = params.get("url_path", "")
        vault = body.split("/backup-vaults/")[-1].split("/")[0] if "/backup-vaults/" in body else ""
        points = state.recovery_points.get(vault, [])
        after = (params.get("query_string") or {}).get("createdAfter")
        if after:
            since = datetime.fromisoformat(str(after).replace("Z", "+00:00"))
            points = [p for p in points if p["CreationDate"] > since]
        return _ok({"RecoveryPoints": points})

    def quota(**_: Any) -> Any:
        if state.vcpu_quota is None:  # the call goes on to moto: the generic recorder sees it
            return None  # let the call go to moto, which refuses it
        observe("service-quotas.GetServiceQuota")
        return _ok({"Quota": {"Value": state.vcpu_quota, "QuotaCode": "L-1216C47A"}})

    def update_controls(params: dict[str, Any], **_: Any) -> Any:
        import json

        observe("route53-recovery-cluster.UpdateRoutingControlStates")
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
        ecs = (inside or session).client("ecs", region_name=request_signer._region_name)
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
