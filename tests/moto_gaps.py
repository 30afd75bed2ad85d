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
