"""The fences, health checks and failover records both stacks declare, created through the
AWS APIs (a moto server, tests/declared.py) and read back: the APIs accept them, the two
stacks' records form one PRIMARY/SECONDARY pair per name, and under the time-stepped model of
Route 53's documented evaluation (tests/route53_model.py) the pair fails over when the
primary's endpoint fails or its fence is raised, and never towards a failing DR region.

A round trip proves wiring, not validity: moto stores what it is sent. Each is paired with a
case AWS would refuse or that would silently not work, and the rule that catches it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from policies.evaluate import evaluate_graph
from scripts.engine import SynthResult
from tests.conftest import resources
from tests.declared import HC, RECORD, SCHEDULE, Declared, create_dns
from tests.route53_model import Route53Model, SimClock

pytestmark = pytest.mark.moto

# The rules of policies/rules/failover.py whose failing cases are below (the coverage tests
# of test_rules and test_stack_rules count them).
RULE_CASES = {"aws-route53-health-check-settings-valid", "aws-scheduler-schedule-valid"}
STACK_RULE_CASES = {"aws-route53-alarm-check-followable", "resilience-fence-holds"}


@pytest.fixture
def declared(
    synthesized: dict[str, SynthResult], moto_clients: Callable[[str, str], Any]
) -> tuple[Declared, Callable[[str, str], Any]]:
    dns = create_dns(moto_clients, (synthesized["primary"], synthesized["dr"]), "example.com")
    return dns, moto_clients


def test_declared_checks_round_trip_with_their_cloudwatch_and_fence_settings(
    synthesized: dict[str, SynthResult], declared: tuple[Declared, Callable[[str, str], Any]]
) -> None:
    dns, client = declared
    route53 = client("route53", "us-east-1")
    for result in (synthesized["primary"], synthesized["dr"]):
        for check in resources(result, HC):
            stored = route53.get_health_check(HealthCheckId=dns.checks[check["id"]])
            config = stored["HealthCheck"]["HealthCheckConfig"]
            assert config["Type"] == check["inputs"]["type"]
            if config["Type"] == "CLOUDWATCH_METRIC":
                assert config["AlarmIdentifier"] == {
                    "Region": "us-west-2",  # every fence lives in the DR region
                    "Name": check["inputs"]["cloudwatchAlarmName"],
                }
                assert config["InsufficientDataHealthStatus"] == "LastKnownStatus"
    scheduler = client("scheduler", "us-west-2")
    names = sorted(s["Name"] for s in scheduler.list_schedules()["Schedules"])
    assert names == ["reskflow-fence-us-east-1", "reskflow-fence-us-west-2"]
    for name, value in (("reskflow-fence-us-east-1", 0), ("reskflow-fence-us-west-2", 1)):
        schedule = scheduler.get_schedule(Name=name, GroupName="default")
        assert schedule["ScheduleExpression"] == "rate(1 minute)"
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        assert schedule["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:cloudwatch:putMetricData"
        request = json.loads(schedule["Target"]["Input"])
        assert request["Namespace"] == "Resilience/Failover"
        assert request["MetricData"][0]["Value"] == value


def test_declared_records_fail_over_as_a_pair_in_time(
    synthesized: dict[str, SynthResult], declared: tuple[Declared, Callable[[str, str], Any]]
) -> None:
    dns, client = declared
    primary, dr = synthesized["primary"], synthesized["dr"]
    sets = client("route53", "us-east-1").list_resource_record_sets(HostedZoneId=dns.zone_id)
    failover = [s for s in sets["ResourceRecordSets"] if s.get("Failover")]
    assert len(failover) == 6  # three names, two records each
    for stack, role in ((primary, "PRIMARY"), (dr, "SECONDARY")):
        for endpoint in stack.outputs["recovery"]["dns"]["endpoints"].values():
            (record,) = [
                s
                for s in failover
                if s["Name"] == endpoint["record"] + "." and s["Failover"] == role
            ]
            assert record["SetIdentifier"] == endpoint["set_identifier"]
            assert record["HealthCheckId"] == dns.checks[endpoint["health_check_id"]]

    def target(stack: SynthResult, service: str) -> str:
        (record,) = [
            r for r in resources(stack, RECORD) if r["name"].endswith(f"-{service}-record")
        ]
        return str(record["inputs"]["aliases"][0]["name"])

    dark: set[str] = set()  # regions whose load balancers do not answer

    def up(host: str) -> bool:
        return not any(host.endswith(f".{region}.elb.amazonaws.com") for region in dark)

    clock = SimClock(datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3))
    model = Route53Model(client, clock, endpoint_up=up, scheduler_regions=["us-west-2"])
    model.load()
    name = "orders.api.reskflow.example.com"

    def answer() -> str:
        return model.answer(dns.zone_id, name, up).target

    clock.advance(5 * 60)  # as after a deploy: the schedules have published for a while
    assert answer() == target(primary, "orders-api")
    # The primary's endpoint stops answering: after its failure threshold (3 x 10 s) Route 53
    # answers with... the primary still, since the DR region is fenced while it stands by.
    dark.add("us-east-1")
    clock.advance(60)
    assert answer() == target(primary, "orders-api")
    # The operations lift the DR fence (the schedule's payload and a datapoint): DNS moves
    # to the DR region with no record change, once the lift's minute is complete.
    scheduler = client("scheduler", "us-west-2")
    fence = scheduler.get_schedule(Name="reskflow-fence-us-west-2", GroupName="default")
    lifted = copy.deepcopy(fence["Target"])
    lifted["Input"] = lifted["Input"].replace('"Value": 1', '"Value": 0')
    scheduler.update_schedule(
        Name="reskflow-fence-us-west-2",
        ScheduleExpression=fence["ScheduleExpression"],
        FlexibleTimeWindow=fence["FlexibleTimeWindow"],
        State="ENABLED",
        Target=lifted,
    )
    model._schedule_cache = None  # the model reads schedules again (no change counter here)
    clock.advance(3 * 60)
    assert answer() == target(dr, "orders-api")
    # Other names follow their own checks: users-api's primary endpoint is dark too.
    assert model.answer(dns.zone_id, "users.api.reskflow.example.com", up).target == target(
        dr, "users-api"
    )
    # Never towards a failing DR: with both down Route 53 answers with the primary.
    dark.add("us-west-2")
    clock.advance(60)
    assert answer() == target(primary, "orders-api")


# -- what moto accepts and AWS refuses (or does differently), and the rule that catches it --


def _rules_on(graph: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f.rule_id, f.urn.rsplit("::", 1)[-1]) for f in evaluate_graph(graph).findings}


def _variant(
    result: SynthResult, typ: str, name: str, change: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    graph = copy.deepcopy(result.graph)
    (resource,) = [r for r in graph["resources"] if r["type"] == typ and r["name"] == name]
    change(resource)
    return graph


def test_the_shipped_fences_and_checks_pass_the_failover_rules(
    synthesized: dict[str, SynthResult],
) -> None:
    for stack in ("primary", "dr"):
        found = _rules_on(synthesized[stack].graph)
        assert not {f for f in found if f[0].startswith(("aws-route53", "resilience-fence"))}


def test_moto_takes_an_interval_route53_would_not_and_the_rule_refuses_it(
    synthesized: dict[str, SynthResult], declared: tuple[Declared, Callable[[str, str], Any]]
) -> None:
    """moto stores a 20-second interval; Route 53 checks every 10 or every 30 seconds."""
    _, client = declared
    created = client("route53", "us-east-1").create_health_check(
        CallerReference="twenty",
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": "example.com",
            "RequestInterval": 20,
        },
    )
    assert created["HealthCheck"]["HealthCheckConfig"]["RequestInterval"] == 20
    name = "reskflow-primary-dns-orders-api-https"
    graph = _variant(
        synthesized["primary"], HC, name, lambda r: r["inputs"].update(requestInterval=20)
    )
    assert ("aws-route53-health-check-settings-valid", name) in _rules_on(graph)


def test_a_calculated_threshold_above_its_children_is_refused(
    synthesized: dict[str, SynthResult],
) -> None:
    """ "If you specify a number greater than the number of child health checks, Route 53
    always considers this health check to be unhealthy" (HealthThreshold)."""
    name = "reskflow-primary-dns-orders-api-health"
    graph = _variant(
        synthesized["primary"], HC, name, lambda r: r["inputs"].update(childHealthThreshold=3)
    )
    assert ("aws-route53-health-check-settings-valid", name) in _rules_on(graph)


def test_moto_takes_a_percentile_alarm_route53_cannot_follow_and_the_rule_refuses_it(
    synthesized: dict[str, SynthResult], declared: tuple[Declared, Callable[[str, str], Any]]
) -> None:
    _, client = declared
    client("cloudwatch", "us-west-2").put_metric_alarm(
        AlarmName="p99",
        MetricName="TargetResponseTime",
        Namespace="AWS/ApplicationELB",
        ExtendedStatistic="p99",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    created = client("route53", "us-east-1").create_health_check(
        CallerReference="p99",
        HealthCheckConfig={
            "Type": "CLOUDWATCH_METRIC",
            "AlarmIdentifier": {"Region": "us-west-2", "Name": "p99"},
        },
    )
    assert created["HealthCheck"]["Id"]  # accepted
    fence = "reskflow-dr-dns-fence"

    def percentile(alarm: dict[str, Any]) -> None:
        del alarm["inputs"]["statistic"]
        alarm["inputs"]["extendedStatistic"] = "p99"

    graph = _variant(synthesized["dr"], "aws:cloudwatch/metricAlarm:MetricAlarm", fence, percentile)
    assert ("aws-route53-alarm-check-followable", fence) in _rules_on(graph)


def test_the_old_single_datapoint_fence_is_refused(synthesized: dict[str, SynthResult]) -> None:
    """The design this issue replaced: a fence check that counts missing data as Healthy (or
    Unhealthy) and no schedule republishing the value. Its lapse is shown on the model in
    tests/test_route53_model.py; statically, the rule refuses both halves."""
    graph = _variant(
        synthesized["primary"],
        HC,
        "reskflow-primary-dns-fence",
        lambda r: r["inputs"].update(insufficientDataHealthStatus="Healthy"),
    )
    graph["resources"] = [r for r in graph["resources"] if r["type"] != SCHEDULE]
    found = _rules_on(graph)
    assert {f for f in found if f[0] == "resilience-fence-holds"} == {
        ("resilience-fence-holds", "reskflow-primary-dns-fence")
    }
    messages = [
        f.message for f in evaluate_graph(graph).findings if f.rule_id == "resilience-fence-holds"
    ]
    assert any("use LastKnownStatus" in m for m in messages)
    assert any("no schedule in us-west-2 republishes" in m for m in messages)


def test_a_fence_schedule_a_deploy_would_lift_is_refused(
    synthesized: dict[str, SynthResult],
) -> None:
    """The dr stack in pilot light leaves the DR fence raised: a schedule publishing 0 would
    let a deploy lift it."""
    schedule = "reskflow-dr-dns-fence-republish"

    def lifted(resource: dict[str, Any]) -> None:
        target = resource["inputs"]["target"]
        target["input"] = target["input"].replace('"Value": 1', '"Value": 0')

    graph = _variant(synthesized["dr"], SCHEDULE, schedule, lifted)
    assert ("resilience-fence-holds", schedule) in _rules_on(graph)


def test_moto_takes_a_read_only_universal_target_and_the_rule_refuses_it(
    synthesized: dict[str, SynthResult], declared: tuple[Declared, Callable[[str, str], Any]]
) -> None:
    """ "EventBridge Scheduler does not support read-only API actions ... that begin with"
    get, describe, list, ... (User Guide, "Using universal targets")."""
    _, client = declared
    client("scheduler", "us-west-2").create_schedule(
        Name="reads",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:scheduler:::aws-sdk:cloudwatch:getMetricData",
            "RoleArn": "arn:aws:iam::123456789012:role/x",
            "Input": "{}",
        },
    )
    schedule = "reskflow-dr-dns-fence-republish"

    def read_only(resource: dict[str, Any]) -> None:
        resource["inputs"]["target"]["arn"] = "arn:aws:scheduler:::aws-sdk:cloudwatch:getMetricData"

    found = _rules_on(_variant(synthesized["dr"], SCHEDULE, schedule, read_only))
    assert ("aws-scheduler-schedule-valid", schedule) in found
    assert ("resilience-fence-holds", "reskflow-dr-dns-fence") in found  # nothing republishes


@pytest.mark.parametrize(
    ("expression", "valid"),
    [
        ("rate(1 minute)", True),
        ("rate(5 minutes)", True),
        ("cron(0 12 * * ? *)", True),
        ("at(2026-12-24T18:00:00)", True),
        ("rate(0 minutes)", False),
        ("rate(1 second)", False),
        ("cron(0 12 * * ?)", False),
        ("every minute", False),
    ],
)
def test_schedule_expressions(
    synthesized: dict[str, SynthResult], expression: str, valid: bool
) -> None:
    schedule = "reskflow-dr-dns-fence-republish"
    graph = _variant(
        synthesized["dr"],
        SCHEDULE,
        schedule,
        lambda r: r["inputs"].update(scheduleExpression=expression),
    )
    assert (("aws-scheduler-schedule-valid", schedule) in _rules_on(graph)) is not valid
