"""The health checks and failover records both stacks declare, created through the Route 53
API (moto server) and read back: the API accepts them, and the two stacks' records form one
PRIMARY/SECONDARY pair per name that fails over when the primary's checks fail.

moto reports every health check healthy and has no TestDNSAnswer; tests/moto_gaps.py fills
both in (health overrides, failover resolution over the API's own record sets)."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.engine import SynthResult
from tests.conftest import aws_client, resources
from tests.moto_gaps import HealthOverrides, answer

pytestmark = pytest.mark.moto

HC = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"


def api_check(declared: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    """A graph health check (Pulumi's names) as the API's HealthCheckConfig."""
    inputs = declared["inputs"]
    kind = inputs["type"]
    if kind == "HTTPS":
        config = {
            "Type": "HTTPS",
            "FullyQualifiedDomainName": inputs["fqdn"],
            "Port": inputs["port"],
            "ResourcePath": inputs["resourcePath"],
            "RequestInterval": inputs["requestInterval"],
            "FailureThreshold": inputs["failureThreshold"],
            "EnableSNI": inputs["enableSni"],
        }
        if inputs.get("regions"):
            config["Regions"] = inputs["regions"]
        return config
    if kind == "CLOUDWATCH_METRIC":
        return {
            "Type": kind,
            "AlarmIdentifier": {
                "Region": inputs["cloudwatchAlarmRegion"],
                "Name": inputs["cloudwatchAlarmName"],
            },
            "InsufficientDataHealthStatus": inputs["insufficientDataHealthStatus"],
        }
    if kind == "CALCULATED":
        return {
            "Type": kind,
            "ChildHealthChecks": [ids[c] for c in inputs["childHealthchecks"]],
            "HealthThreshold": inputs["childHealthThreshold"],
        }
    raise AssertionError(f"unexpected health check type {kind}")


def create_stack_dns(route53: Any, result: SynthResult, zones: dict[str, str]) -> dict[str, str]:
    """Create a stack's checks (leaves first) and records; declared id -> API id."""
    ids: dict[str, str] = {}
    declared = resources(result, HC)
    for check in sorted(declared, key=lambda c: c["inputs"]["type"] == "CALCULATED"):
        created = route53.create_health_check(
            CallerReference=check["urn"], HealthCheckConfig=api_check(check, ids)
        )["HealthCheck"]
        assert created["HealthCheckConfig"]["Type"] == check["inputs"]["type"]
        ids[check["id"]] = created["Id"]
    changes = []
    for record in resources(result, RECORD):
        inputs = record["inputs"]
        (alias,) = inputs["aliases"]
        (policy,) = inputs["failoverRoutingPolicies"]
        changes.append(
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": inputs["name"],
                    "Type": inputs["type"],
                    "SetIdentifier": inputs["setIdentifier"],
                    "Failover": policy["type"],
                    "HealthCheckId": ids[inputs["healthCheckId"]],
                    "AliasTarget": {
                        "HostedZoneId": alias["zoneId"],
                        "DNSName": alias["name"],
                        "EvaluateTargetHealth": alias["evaluateTargetHealth"],
                    },
                },
            }
        )
    zone = zones[resources(result, RECORD)[0]["inputs"]["zoneId"]]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
    return ids


def test_declared_records_fail_over_as_a_pair(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    route53 = aws_client(moto_endpoint, "route53", "us-east-1")
    zone = route53.create_hosted_zone(Name="reskflow.example.com", CallerReference="tests")
    zone_id = zone["HostedZone"]["Id"]
    zones = {"Z1234567890ABC": zone_id}  # the config's zone is the one created here
    primary, dr = synthesized["primary"], synthesized["dr"]
    ids = {stack.stack: create_stack_dns(route53, stack, zones) for stack in (primary, dr)}

    sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    failover = [s for s in sets if s.get("Failover")]
    assert len(failover) == 6  # three names, two records each
    for stack, role in ((primary, "PRIMARY"), (dr, "SECONDARY")):
        for endpoint in stack.outputs["recovery"]["dns"]["endpoints"].values():
            (record,) = [
                s
                for s in failover
                if s["Name"] == endpoint["record"] + "." and s["Failover"] == role
            ]
            assert record["SetIdentifier"] == endpoint["set_identifier"]
            assert record["HealthCheckId"] == ids[stack.stack][endpoint["health_check_id"]]

    def target(stack: SynthResult, service: str) -> str:
        (record,) = [
            r for r in resources(stack, RECORD) if r["name"].endswith(f"-{service}-record")
        ]
        return str(record["inputs"]["aliases"][0]["name"])

    name = "orders.api.reskflow.example.com"
    endpoints = {
        s.stack: s.outputs["recovery"]["dns"]["endpoints"]["orders-api"] for s in (primary, dr)
    }
    https = {stack: ids[stack][e["https_check_id"]] for stack, e in endpoints.items()}
    fence = {
        s.stack: ids[s.stack][
            next(c["id"] for c in resources(s, HC) if c["name"].endswith("-dns-fence"))
        ]
        for s in (primary, dr)
    }
    healthy = HealthOverrides()
    assert answer(route53, zone_id, name, healthy) == target(primary, "orders-api")
    # The primary endpoint stops answering: DNS moves to the DR region with no record change.
    down = HealthOverrides(failing={https["primary"]})
    assert answer(route53, zone_id, name, down) == target(dr, "orders-api")
    # `resilience failover` fences a healthy primary: same effect.
    fenced = HealthOverrides(failing={fence["primary"]})
    assert answer(route53, zone_id, name, fenced) == target(dr, "orders-api")
    # Never towards a failing DR: with both down Route 53 keeps answering with the primary.
    both = HealthOverrides(failing={https["primary"], https["dr"]})
    assert answer(route53, zone_id, name, both) == target(primary, "orders-api")
    # Other names are unaffected by the orders-api check.
    assert answer(route53, zone_id, "users.api.reskflow.example.com", down) == target(
        primary, "users-api"
    )
