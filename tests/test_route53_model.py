"""The test layer's model of Route 53 and EventBridge Scheduler (tests/route53_model.py) on
small purpose-made setups in moto: each documented rule it implements, and the defect it
exists to show (a fence raised with one datapoint lapses a minute later)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.route53_model import Route53Model, SimClock

pytestmark = pytest.mark.moto

REGION = "us-west-2"
DIMS = [{"Name": "System", "Value": "demo"}, {"Name": "Region", "Value": "us-east-1"}]
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@pytest.fixture
def client(moto_clients: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    return moto_clients


def start() -> SimClock:
    return SimClock(datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=8))


def fence_alarm(client: Callable[[str, str], Any], *, treat_missing: str = "missing") -> None:
    client("cloudwatch", REGION).put_metric_alarm(
        AlarmName="fence",
        Namespace="Resilience/Failover",
        MetricName="Fenced",
        Dimensions=DIMS,
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData=treat_missing,
    )


def fence_check(client: Callable[[str, str], Any], insufficient: str) -> str:
    created = client("route53", "us-east-1").create_health_check(
        CallerReference=f"fence-{insufficient}",
        HealthCheckConfig={
            "Type": "CLOUDWATCH_METRIC",
            "AlarmIdentifier": {"Region": REGION, "Name": "fence"},
            "InsufficientDataHealthStatus": insufficient,
        },
    )
    return str(created["HealthCheck"]["Id"])


def publish(client: Callable[[str, str], Any], value: float, when: datetime) -> None:
    client("cloudwatch", REGION).put_metric_data(
        Namespace="Resilience/Failover",
        MetricData=[
            {"MetricName": "Fenced", "Dimensions": DIMS, "Value": value, "Timestamp": when}
        ],
    )


def schedule(client: Callable[[str, str], Any], value: int, *, allowed: bool = True) -> None:
    iam = client("iam", "us-east-1")
    iam.create_role(RoleName="publisher", AssumeRolePolicyDocument=json.dumps(TRUST))
    if allowed:
        iam.put_role_policy(
            RoleName="publisher",
            PolicyName="publish",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "cloudwatch:PutMetricData",
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"cloudwatch:namespace": "Resilience/Failover"}
                            },
                        }
                    ],
                }
            ),
        )
    request = {
        "Namespace": "Resilience/Failover",
        "MetricData": [{"MetricName": "Fenced", "Dimensions": DIMS, "Value": value}],
    }
    client("scheduler", REGION).create_schedule(
        Name="republish",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="ENABLED",
        Target={
            "Arn": "arn:aws:scheduler:::aws-sdk:cloudwatch:putMetricData",
            "RoleArn": "arn:aws:iam::123456789012:role/publisher",
            "Input": json.dumps(request),
        },
    )


def model(client: Callable[[str, str], Any], clock: SimClock, **kw: Any) -> Route53Model:
    built = Route53Model(
        client, clock, endpoint_up=lambda _: True, scheduler_regions=[REGION], **kw
    )
    built.load()
    return built


def healthy_over(clock: SimClock, r53: Route53Model, check: str, minutes: int) -> list[bool]:
    seen = []
    for _ in range(minutes):
        clock.advance(60)
        seen.append(r53.status(check))
    return seen


def test_one_datapoint_fences_for_a_minute_then_lapses(client: Callable[[str, str], Any]) -> None:
    """The design this model replaced: `resilience failover` published one datapoint of 1 and
    the primary's fence check counted insufficient data as Healthy. Route 53 reads the data
    stream, so once the datapoint's period is past the check is healthy again."""
    clock = start()
    fence_alarm(client, treat_missing="ignore")  # the alarm's state would hold; Route 53's not
    check = fence_check(client, "Healthy")
    r53 = model(client, clock)
    publish(client, 1, clock.now())
    assert healthy_over(clock, r53, check, 4) == [False, True, True, True]


def test_a_dr_fence_lifted_by_one_datapoint_falls_back_to_unhealthy(
    client: Callable[[str, str], Any],
) -> None:
    """... and the DR region's fence (insufficient data: Unhealthy) reads fenced again a
    minute after its lifting datapoint: both regions unhealthy, Route 53 answers with the
    dead primary."""
    clock = start()
    fence_alarm(client, treat_missing="ignore")
    check = fence_check(client, "Unhealthy")
    r53 = model(client, clock)
    publish(client, 0, clock.now())
    assert healthy_over(clock, r53, check, 3) == [True, False, False]


def test_a_republished_fence_holds_for_six_hours(client: Callable[[str, str], Any]) -> None:
    clock = start()
    fence_alarm(client)
    check = fence_check(client, "LastKnownStatus")
    schedule(client, 1)
    r53 = model(client, clock)
    clock.advance(120)  # the first invocation and its complete period
    assert not r53.status(check)
    changes: list[bool] = []
    r53.observers.append(lambda _: changes.append(r53.status(check)))
    clock.advance(6 * 3600)
    assert set(changes) == {False}  # unhealthy (fenced) at every tick
    assert len([i for i in r53.invocations if i[0] == "republish"]) >= 6 * 60


def test_last_known_status_bridges_minutes_without_data(
    client: Callable[[str, str], Any],
) -> None:
    """ "LastKnownStatus: Route 53 uses the status of the health check from the last time that
    CloudWatch had sufficient data": twenty minutes of failed invocations change nothing."""
    clock = start()
    fence_alarm(client)
    check = fence_check(client, "LastKnownStatus")
    schedule(client, 1)
    began = clock.now()
    r53 = model(
        client,
        clock,
        failed_invocations=lambda _n, when: (
            timedelta(minutes=5) <= when - began < timedelta(minutes=25)
        ),
    )
    assert healthy_over(clock, r53, check, 40)[2:] == [False] * 38


def test_a_new_check_without_data_is_healthy(client: Callable[[str, str], Any]) -> None:
    """ "For new health checks that have no last known status, the default status for the
    health check is healthy": a schedule whose role may not publish leaves it so."""
    clock = start()
    fence_alarm(client)
    check = fence_check(client, "LastKnownStatus")
    schedule(client, 1, allowed=False)
    r53 = model(client, clock)
    assert healthy_over(clock, r53, check, 5) == [True] * 5
    assert r53.invocations == []  # every invocation refused: no permission to call the API


@pytest.mark.parametrize(("interval", "threshold", "seconds"), [(10, 3, 30), (30, 3, 90)])
def test_an_endpoint_check_fails_after_its_threshold_of_probes(
    client: Callable[[str, str], Any], interval: int, threshold: int, seconds: int
) -> None:
    """ "Whether the endpoint responds to a number of consecutive health checks that you
    specify (the failure threshold)", every `interval` seconds."""
    up = {"value": True}
    created = client("route53", "us-east-1").create_health_check(
        CallerReference=f"https-{interval}",
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": "lb.us-east-1.elb.amazonaws.com",
            "Port": 443,
            "ResourcePath": "/health",
            "RequestInterval": interval,
            "FailureThreshold": threshold,
        },
    )
    check = created["HealthCheck"]["Id"]
    clock = start()
    r53 = Route53Model(client, clock, endpoint_up=lambda _: up["value"])
    r53.load()
    clock.advance(60)
    assert r53.status(check)
    up["value"] = False
    clock.advance(seconds - interval)  # one probe short
    assert r53.status(check)
    clock.advance(interval)
    assert not r53.status(check)
    up["value"] = True
    clock.advance(seconds)  # as many passing probes bring it back
    assert r53.status(check)
