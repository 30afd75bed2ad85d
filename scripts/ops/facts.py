"""What a failover needs to know about a system, from its two stack files (and, for ARC, the
primary stack's outputs). Physical names are derived the way the stacks derive them, so a
failover works from the config alone while the primary region and its state are gone."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.autoscaling import Capacity, capacity_for
from components.backup import vault_name
from components.dns_failover import (
    FENCE_METRIC,
    FENCE_NAMESPACE,
    fence_dimensions,
    fence_schedule_name,
)
from model.config import DrMode, Role, StackConfig


class FactsError(Exception):
    """The stack files or outputs cannot drive a failover (exit code 2)."""


@dataclass(frozen=True)
class DatabaseFacts:
    name: str
    engine: str  # postgres | aurora-postgresql
    primary_id: str  # RDS instance or Aurora cluster identifier in the primary region
    replica_id: str  # ... in the DR region
    backup_retention_days: int
    global_cluster_id: str | None = None
    multi_az: bool = True
    # The primary region's security groups (the failback copy joins them; its subnet and
    # parameter groups are named after the primary identifier, as the stacks name them).
    security_groups: tuple[str, ...] = ()

    @property
    def aurora(self) -> bool:
        return self.engine == "aurora-postgresql"


@dataclass(frozen=True)
class ComputeFacts:
    """A service's scalable compute in one region."""

    service: str
    kind: str  # asg | ecs
    name: str  # group name, or ECS resource id service/<cluster>/<service>
    full: Capacity  # the primary's capacity: what a region taking all traffic runs
    standby: Capacity  # what the dr stack's configured mode runs


@dataclass(frozen=True)
class EndpointFacts:
    service: str
    record: str
    path: str
    # Load balancer name per role (from its `app/<name>/<id>` dimension).
    load_balancers: dict[Role, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SystemFacts:
    system: str
    environment: str
    primary_region: str
    dr_region: str
    rto_minutes: int
    rpo_minutes: int
    mode: DrMode  # the dr stack's standby mode (what it runs outside a failover)
    mechanism: str | None  # health-check | arc | None (no DNS failover)
    databases: tuple[DatabaseFacts, ...]
    compute: dict[Role, tuple[ComputeFacts, ...]]
    endpoints: tuple[EndpointFacts, ...]
    # ARC: routing control ARN per role, the cluster's data-plane endpoints (region, url).
    routing_controls: dict[Role, str] = field(default_factory=dict)
    cluster_endpoints: tuple[tuple[str, str], ...] = ()

    def region(self, role: Role) -> str:
        return self.primary_region if role is Role.PRIMARY else self.dr_region

    def vault(self, role: Role) -> str:
        return vault_name(self.system, role)

    def fence(self, role: Role) -> tuple[str, str, dict[str, str]]:
        """(namespace, metric, dimensions) of the fence of a role's region. Every fence is
        published in `fence_region`."""
        return FENCE_NAMESPACE, FENCE_METRIC, fence_dimensions(self.system, self.region(role))

    def fence_schedule(self, role: Role) -> str:
        """The schedule (in `fence_region`, group `default`) whose payload is the fence of a
        role's region."""
        return fence_schedule_name(self.system, self.region(role))

    @property
    def fence_region(self) -> str:
        """Where every fence lives: the DR region (components/dns_failover.py)."""
        return self.dr_region

    @property
    def serving_parameter(self) -> str:
        """The SSM parameter, in the DR region, that says which region serves
        (model/serving.py); the stacks read it before every deploy."""
        from model.serving import parameter_name

        return parameter_name(self.system)


def standby_mode(config: StackConfig) -> DrMode:
    """The DR mode outside a failover: after `resilience failover` wrote `mode: active`, the
    `standby_mode` it kept."""
    if config.dr.mode is DrMode.ACTIVE and config.dr.standby_mode is not None:
        return DrMode(config.dr.standby_mode)
    return config.dr.mode


def _compute(config: StackConfig, role: Role) -> tuple[ComputeFacts, ...]:
    out = []
    for service in config.services:
        resources = service.resources.primary if role is Role.PRIMARY else service.resources.dr
        if service.scaling is None:
            continue
        if resources.ecs is not None:
            kind, name = "ecs", resources.ecs.resource_id
        elif resources.asg is not None and resources.asg.owned:
            kind, name = "asg", resources.asg.name
        else:
            continue
        full = capacity_for(service.scaling, Role.PRIMARY, config.dr.mode, 100)
        standby = capacity_for(
            service.scaling, role, standby_mode(config), config.dr.warm_standby_percent
        )
        out.append(ComputeFacts(service.name, kind, name, full, standby))
    return tuple(out)


def read_outputs(path: Path) -> dict[str, Any]:
    """Stack outputs from `pulumi stack output --json` or from a resilience graph."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise FactsError(f"{path}: cannot read stack outputs: {exc}") from None
    if isinstance(document, dict) and document.get("schema", "").startswith("resilience-graph"):
        outputs = document.get("outputs", {})
    else:
        outputs = document
    if not isinstance(outputs, dict):
        raise FactsError(f"{path}: expected a JSON object of stack outputs")
    return outputs


def system_facts(
    primary: StackConfig, dr: StackConfig, primary_outputs: dict[str, Any] | None = None
) -> SystemFacts:
    """Facts from the primary and dr stack configs; they must describe one system."""
    if primary.role is not Role.PRIMARY or dr.role is not Role.DR:
        raise FactsError("expected a primary stack file and a dr stack file")
    if (primary.name, primary.primary.region, primary.dr.region) != (
        dr.name,
        dr.primary.region,
        dr.dr.region,
    ):
        raise FactsError(
            f"the stack files describe different systems: {primary.name} "
            f"{primary.primary.region}->{primary.dr.region} and {dr.name} "
            f"{dr.primary.region}->{dr.dr.region}"
        )
    databases = tuple(
        DatabaseFacts(
            name=db.name,
            engine=db.engine,
            primary_id=db.primary_identifier(dr.name),
            replica_id=db.replica_identifier(dr.name),
            backup_retention_days=db.backup_retention_days,
            global_cluster_id=(
                f"{db.primary_identifier(dr.name)}-global" if db.engine != "postgres" else None
            ),
            multi_az=db.multi_az,
            security_groups=tuple(primary.network.primary.security_group_ids)
            if primary.network.primary
            else (),
        )
        for db in dr.databases
    )
    endpoints = tuple(
        EndpointFacts(
            s.name,
            s.dns.record,
            s.dns.health_check_path or (dr.failover.health_check.path if dr.failover else "/"),
            {
                role: resources.alb.load_balancer.split("/")[1]
                for role, resources in (
                    (Role.PRIMARY, s.resources.primary),
                    (Role.DR, s.resources.dr),
                )
                if resources.alb is not None
            },
        )
        for s in dr.services
        if s.dns is not None
    )
    mechanism = dr.failover.mechanism if dr.failover else None
    controls: dict[Role, str] = {}
    cluster: tuple[tuple[str, str], ...] = ()
    if mechanism == "arc":
        recovery = (primary_outputs or {}).get("recovery_controls")
        if not isinstance(recovery, dict):
            raise FactsError(
                "failover.mechanism is arc: pass the primary stack's outputs (--primary-outputs "
                "FILE, from `pulumi stack output --json -s primary`) for the routing controls"
            )
        try:
            controls = {Role(k): str(v) for k, v in recovery["routing_controls"].items()}
            cluster = tuple((e["region"], e["endpoint"]) for e in recovery["cluster_endpoints"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FactsError(
                f"the primary outputs' recovery_controls are incomplete ({exc!r}): expected "
                "routing_controls {primary, dr} and cluster_endpoints [{region, endpoint}]"
            ) from None
    return SystemFacts(
        system=dr.name,
        environment=dr.environment,
        primary_region=dr.primary.region,
        dr_region=dr.dr.region,
        rto_minutes=dr.dr.rto_minutes,
        rpo_minutes=dr.dr.rpo_minutes,
        mode=standby_mode(dr),
        mechanism=mechanism,
        databases=databases,
        compute={Role.PRIMARY: _compute(primary, Role.PRIMARY), Role.DR: _compute(dr, Role.DR)},
        endpoints=endpoints,
        routing_controls=controls,
        cluster_endpoints=cluster,
    )
