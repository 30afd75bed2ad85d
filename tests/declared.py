"""The DNS-failover resources two stacks declare, created through the AWS APIs (a moto server)
from their resource graphs: the fences (execution roles, alarms, schedules), the health
checks (leaves first) and the failover records. What is read back afterwards is what Route 53,
CloudWatch and EventBridge Scheduler store, and what tests/route53_model.py evaluates."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from scripts.engine import SynthResult

HC = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SCHEDULE = "aws:scheduler/schedule:Schedule"
FENCE = "resilience:dns:Fence"

Client = Callable[[str, str], Any]


def resources(result: SynthResult, typ: str) -> list[dict[str, Any]]:
    return [r for r in result.graph["resources"] if r["type"] == typ]


def _physical(resource: dict[str, Any], key: str = "name") -> str:
    return str(resource["inputs"].get(key) or resource["computed"].get(key) or resource["id"])


def fence_parts(result: SynthResult) -> list[dict[str, Any]]:
    """The resources of a stack's fence components (children of resilience:dns:Fence)."""
    fences = {r["urn"] for r in resources(result, FENCE)}
    return [r for r in result.graph["resources"] if r.get("parent") in fences]


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
    if kind == "RECOVERY_CONTROL":
        return {"Type": kind, "RoutingControlArn": inputs["routingControlArn"]}
    raise AssertionError(f"unexpected health check type {kind}")


@dataclass
class Declared:
    """What was created: declared id -> API id of each health check, the zone."""

    zone_id: str
    checks: dict[str, str] = field(default_factory=dict)
    fence_checks: dict[str, str] = field(default_factory=dict)  # stack -> its fence's check


def create_fences(client: Client, result: SynthResult) -> None:
    """A stack's fences: each execution role with its inline policy, alarm and schedule."""
    parts = fence_parts(result)
    iam = client("iam", "us-east-1")
    roles = {}
    for role in (r for r in parts if r["type"] == ROLE):
        name = _physical(role)
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=role["inputs"]["assumeRolePolicy"],
            Description=role["inputs"].get("description", ""),
        )
        roles[role["id"]] = name
    for policy in (r for r in parts if r["type"] == ROLE_POLICY):
        iam.put_role_policy(
            RoleName=roles[policy["inputs"]["role"]],
            PolicyName=_physical(policy),
            PolicyDocument=policy["inputs"]["policy"],
        )
    for alarm in (r for r in parts if r["type"] == ALARM):
        inputs = alarm["inputs"]
        client("cloudwatch", alarm["region"]).put_metric_alarm(
            AlarmName=_physical(alarm),
            AlarmDescription=inputs.get("alarmDescription", ""),
            ActionsEnabled=bool(inputs.get("actionsEnabled", True)),
            Namespace=inputs["namespace"],
            MetricName=inputs["metricName"],
            Dimensions=[{"Name": k, "Value": v} for k, v in inputs["dimensions"].items()],
            Statistic=inputs["statistic"],
            Period=int(inputs["period"]),
            EvaluationPeriods=int(inputs["evaluationPeriods"]),
            Threshold=float(inputs["threshold"]),
            ComparisonOperator=inputs["comparisonOperator"],
            TreatMissingData=inputs.get("treatMissingData", "missing"),
        )
    for schedule in (r for r in parts if r["type"] == SCHEDULE):
        inputs = schedule["inputs"]
        target = inputs["target"]
        retry = target.get("retryPolicy", {})
        client("scheduler", schedule["region"]).create_schedule(
            Name=inputs["name"],
            GroupName=inputs.get("groupName", "default"),
            Description=inputs.get("description", ""),
            ScheduleExpression=inputs["scheduleExpression"],
            FlexibleTimeWindow={"Mode": inputs["flexibleTimeWindow"]["mode"]},
            State=inputs.get("state", "ENABLED"),
            Target={
                "Arn": target["arn"],
                "RoleArn": target["roleArn"],
                "Input": target["input"],
                "RetryPolicy": {
                    "MaximumEventAgeInSeconds": retry.get("maximumEventAgeInSeconds", 86400),
                    "MaximumRetryAttempts": retry.get("maximumRetryAttempts", 185),
                },
            },
        )


def create_dns(
    client: Client, results: Iterable[SynthResult], zone_name: str, *, fences: bool = True
) -> Declared:
    """Both stacks' fences, health checks and failover records, in one hosted zone (the
    config's zone id is mapped to the one created here)."""
    route53 = client("route53", "us-east-1")
    zone = route53.create_hosted_zone(Name=zone_name, CallerReference=f"tests-{zone_name}")
    declared = Declared(zone["HostedZone"]["Id"])
    for result in results:
        if fences:
            create_fences(client, result)
        stack_ids: dict[str, str] = {}
        checks = resources(result, HC)
        for check in sorted(checks, key=lambda c: c["inputs"]["type"] == "CALCULATED"):
            created = route53.create_health_check(
                CallerReference=check["urn"], HealthCheckConfig=api_check(check, stack_ids)
            )["HealthCheck"]
            stack_ids[check["id"]] = created["Id"]
            if check["name"].endswith("-dns-fence"):
                declared.fence_checks[result.stack] = created["Id"]
        declared.checks.update(stack_ids)
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
                        "HealthCheckId": stack_ids[inputs["healthCheckId"]],
                        "AliasTarget": {
                            "HostedZoneId": alias["zoneId"],
                            "DNSName": alias["name"],
                            "EvaluateTargetHealth": alias["evaluateTargetHealth"],
                        },
                    },
                }
            )
        if changes:
            route53.change_resource_record_sets(
                HostedZoneId=declared.zone_id, ChangeBatch={"Changes": changes}
            )
    return declared


def fence_value(client: Client, region: str, name: str) -> float:
    """The fence value a schedule republishes, read back from EventBridge Scheduler."""
    schedule = client("scheduler", region).get_schedule(Name=name, GroupName="default")
    return float(json.loads(schedule["Target"]["Input"])["MetricData"][0]["Value"])
