"""DNS failover, health checks, scaling and DR-mode capacity, as the stacks declare them."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from components.autoscaling import in_peak, peak_factor
from model.config import PeakSchedule
from model.loader import ConfigError, load_file
from scripts.engine import SynthResult, synth_all
from tests.conftest import ConfigWriter, only, resources

HC = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
GROUP = "aws:autoscaling/group:Group"
POLICY = "aws:autoscaling/policy:Policy"
SCHEDULE = "aws:autoscaling/schedule:Schedule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SERVICES = ("orders-api", "users-api", "tracking-api")


def pair(
    write_config: ConfigWriter, edit: Any = None, mode: str | None = None
) -> tuple[SynthResult, SynthResult]:
    """Primary and dr synthesized from the shipped files with `edit` applied to both."""

    def both(config: dict[str, Any]) -> None:
        if edit is not None:
            edit(config)
        if mode is not None:
            config["resilience:dr"]["mode"] = mode

    primary, dr = synth_all(
        [
            load_file(write_config(both, name="primary")),
            load_file(write_config(both, base="dr", name="dr")),
        ]
    )
    return primary, dr


def checks_by_id(result: SynthResult) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in resources(result, HC)}


# -- DNS failover --------------------------------------------------------------------------


def test_failover_records_pair_across_the_two_stacks(synthesized: dict[str, SynthResult]) -> None:
    primary, dr = synthesized["primary"], synthesized["dr"]
    for stack, role, region, zone in (
        (primary, "PRIMARY", "us-east-1", "Z35SXDOTRQ7X7K"),
        (dr, "SECONDARY", "us-west-2", "Z1H1FL5HABSF5"),
    ):
        records = resources(stack, RECORD)
        assert {r["inputs"]["name"] for r in records} == {
            f"{s.split('-')[0]}.api.reskflow.example.com" for s in SERVICES
        }
        checks = checks_by_id(stack)
        for record in records:
            inputs = record["inputs"]
            assert record["region"] == region  # created with the stack's own provider
            assert inputs["zoneId"] == "Z1234567890ABC"
            assert inputs["type"] == "A"
            assert inputs["failoverRoutingPolicies"] == [{"type": role}]
            assert "ttl" not in inputs  # an alias answers with the load balancer's TTL
            (alias,) = inputs["aliases"]
            assert alias["evaluateTargetHealth"] is True
            assert alias["zoneId"] == zone
            assert alias["name"].endswith(f".{region}.elb.amazonaws.com")
            # The record follows this region's calculated health check.
            followed = checks[inputs["healthCheckId"]]
            assert followed["inputs"]["type"] == "CALCULATED"
    ids = {
        stack: {r["inputs"]["name"]: r["inputs"]["setIdentifier"] for r in resources(s, RECORD)}
        for stack, s in (("primary", primary), ("dr", dr))
    }
    for name, identifier in ids["primary"].items():
        assert identifier == "reskflow-primary-us-east-1"
        assert ids["dr"][name] == "reskflow-dr-us-west-2"
    for stack in (primary, dr):
        recovery = stack.outputs["recovery"]
        assert recovery["dns_ttl_seconds"] == 60
        assert recovery["detection_seconds"] == 30  # 10 s x 3
        assert recovery["mechanism"] == "health-check"


def test_health_checks_follow_config(synthesized: dict[str, SynthResult]) -> None:
    result = synthesized["primary"]
    checks = checks_by_id(result)
    https = [c for c in checks.values() if c["inputs"]["type"] == "HTTPS"]
    assert len(https) == 3
    for check in https:
        inputs = check["inputs"]
        assert inputs["requestInterval"] == 10
        assert inputs["failureThreshold"] == 3
        assert inputs["resourcePath"] == "/health"
        assert inputs["port"] == 443
        assert inputs["enableSni"] is True
        assert inputs["fqdn"].endswith(".us-east-1.elb.amazonaws.com")
    (fence,) = [c for c in checks.values() if c["name"].endswith("-dns-fence")]
    assert fence["inputs"]["type"] == "CLOUDWATCH_METRIC"
    # A minute without a fence datapoint keeps the last decision (Route 53 API Reference,
    # HealthCheckConfig: "LastKnownStatus: Route 53 uses the status of the health check from
    # the last time that CloudWatch had sufficient data to determine the alarm state").
    assert fence["inputs"]["insufficientDataHealthStatus"] == "LastKnownStatus"
    fence_alarm = only(result, ALARM, "dns-fence")
    assert fence["inputs"]["cloudwatchAlarmName"] == fence_alarm["computed"]["name"]
    assert fence_alarm["inputs"]["dimensions"] == {"System": "reskflow", "Region": "us-east-1"}
    # It lives in the DR region: a failover fences the primary with DR-region APIs only.
    assert fence_alarm["region"] == fence["inputs"]["cloudwatchAlarmRegion"] == "us-west-2"
    assert fence_alarm["inputs"]["actionsEnabled"] is False
    # Route 53 reads the data stream, not the alarm's state: its missing-data setting is the
    # default, informational.
    assert fence_alarm["inputs"]["treatMissingData"] == "missing"
    assert (fence_alarm["inputs"]["period"], fence_alarm["inputs"]["statistic"]) == (60, "Maximum")
    for calculated in (c for c in checks.values() if c["inputs"]["type"] == "CALCULATED"):
        children = calculated["inputs"]["childHealthchecks"]
        # Healthy only if every child is: the endpoint answers and the region is not fenced.
        assert calculated["inputs"]["childHealthThreshold"] == len(children) == 2
        assert {checks[c]["inputs"]["type"] for c in children} == {"HTTPS", "CLOUDWATCH_METRIC"}
        assert fence["id"] in children


@pytest.mark.parametrize(
    ("mode", "fenced"), [("pilot-light", True), ("warm-standby", True), ("active", False)]
)
def test_the_dr_region_is_fenced_while_it_stands_by(
    write_config: ConfigWriter, mode: str, fenced: bool
) -> None:
    """Route 53 alone never sends traffic to a DR region whose database is a replica: its
    fence schedule republishes 1 every minute until `resilience failover` lifts it (0 in
    active mode), and the primary's republishes 0. Each schedule lives in the DR region."""
    primary, dr = pair(write_config, mode=mode)
    (fence,) = [c for c in resources(dr, HC) if c["name"].endswith("-dns-fence")]
    assert fence["inputs"]["insufficientDataHealthStatus"] == "LastKnownStatus"
    alarm = only(dr, ALARM, "dns-fence")
    assert alarm["region"] == "us-west-2"
    assert alarm["inputs"]["dimensions"] == {"System": "reskflow", "Region": "us-west-2"}
    for stack, region, value in ((dr, "us-west-2", 1 if fenced else 0), (primary, "us-east-1", 0)):
        (schedule,) = resources(stack, "aws:scheduler/schedule:Schedule")
        inputs = schedule["inputs"]
        assert schedule["region"] == "us-west-2"
        assert inputs["name"] == f"reskflow-fence-{region}"
        assert inputs["scheduleExpression"] == "rate(1 minute)"
        assert inputs["flexibleTimeWindow"] == {"mode": "OFF"}
        assert inputs["target"]["arn"] == "arn:aws:scheduler:::aws-sdk:cloudwatch:putMetricData"
        assert json.loads(inputs["target"]["input"]) == {
            "Namespace": "Resilience/Failover",
            "MetricData": [
                {
                    "MetricName": "Fenced",
                    "Dimensions": [
                        {"Name": "System", "Value": "reskflow"},
                        {"Name": "Region", "Value": region},
                    ],
                    "Value": value,
                }
            ],
        }
        # A deploy writes the value (no ignore_changes: Pulumi would resend a stale one).
        assert schedule["options"]["ignore_changes"] == []


def test_alarm_health_checks_join_the_calculated_check(write_config: ConfigWriter) -> None:
    def alarms(config: dict[str, Any]) -> None:
        config["resilience:failover"]["health_check"]["alarms"] = ["alb-unhealthy-hosts"]
        config["resilience:failover"]["health_check"]["regions"] = [
            "us-east-1",
            "us-west-2",
            "eu-west-1",
        ]
        # The service's override applies to the alarm the health check follows too.
        config["resilience:services"][0]["alarms"] = {"alb-unhealthy-hosts": {"threshold": 3}}

    primary, _ = pair(write_config, alarms)
    checks = checks_by_id(primary)
    names = {a["computed"]["name"]: a for a in resources(primary, ALARM)}
    for service in SERVICES:
        (check,) = [
            c for c in checks.values() if c["name"].endswith(f"{service}-alb-unhealthy-hosts")
        ]
        assert check["inputs"]["cloudwatchAlarmRegion"] == "us-east-1"
        signal = names[check["inputs"]["cloudwatchAlarmName"]]
        inputs = signal["inputs"]
        # Route 53 follows only one-metric alarms with a basic statistic, no metric queries.
        assert "metricQueries" not in inputs
        assert (inputs["namespace"], inputs["metricName"], inputs["statistic"]) == (
            "AWS/ApplicationELB",
            "UnHealthyHostCount",
            "Maximum",
        )
        assert set(inputs["dimensions"]) == {"LoadBalancer", "TargetGroup"}
        assert inputs["threshold"] == (3 if service == "orders-api" else 1)
        assert inputs["actionsEnabled"] is False
        (calculated,) = [c for c in checks.values() if c["name"].endswith(f"{service}-health")]
        assert check["id"] in calculated["inputs"]["childHealthchecks"]
        assert calculated["inputs"]["childHealthThreshold"] == 3
    https = [c for c in checks.values() if c["inputs"]["type"] == "HTTPS"]
    assert all(c["inputs"]["regions"] == ["us-east-1", "us-west-2", "eu-west-1"] for c in https)
    ids = {e["id"] for e in primary.outputs["alarms"]}
    assert "failover:alb-unhealthy-hosts" in ids  # in the inventory, with its cost


def test_health_check_status_alarms_are_critical_in_us_east_1(
    synthesized: dict[str, SynthResult], write_config: ConfigWriter
) -> None:
    primary, dr = synthesized["primary"], synthesized["dr"]
    critical = primary.outputs["alarm_topics"]["critical"]
    status = [a for a in resources(primary, ALARM) if "health-check-alarms" in a["name"]]
    assert len(status) == 3
    checks = checks_by_id(primary)
    for alarm in status:
        assert alarm["region"] == "us-east-1"
        assert alarm["inputs"]["alarmActions"] == [critical]
        (query,) = alarm["inputs"]["metricQueries"]
        assert query["metric"]["metricName"] == "HealthCheckStatus"
        # The endpoint's own check: the calculated one is down while a region is fenced.
        check = checks[query["metric"]["dimensions"]["HealthCheckId"]]
        assert check["inputs"]["type"] == "HTTPS"
    assert primary.outputs["route53_alarm_topics"] == primary.outputs["alarm_topics"]
    # Pilot light: no compute, so the DR endpoint is meant to be down; no alarm on it.
    assert not [a for a in resources(dr, ALARM) if "health-check-alarms" in a["name"]]
    # Warm standby: the dr stack alarms in us-east-1 through the primary's topics, and
    # leaves the alarms in place when it later drops them (switching to active).
    _, warm = pair(write_config, mode="warm-standby")
    status = [a for a in resources(warm, ALARM) if "health-check-alarms" in a["name"]]
    assert len(status) == 3
    for alarm in status:
        assert alarm["region"] == "us-east-1"
        assert alarm["inputs"]["alarmActions"] == [critical]
    assert all(a["options"]["retain_on_delete"] is True for a in status)
    # The primary's own alarms are ordinary ones.
    assert not any(
        a["options"]["retain_on_delete"]
        for a in resources(primary, ALARM)
        if "health-check-alarms" in a["name"]
    )


def test_health_check_alerting_outside_us_east_1_gets_its_own_topics(
    write_config: ConfigWriter,
) -> None:
    def europe(config: dict[str, Any]) -> None:
        config["resilience:primary"]["region"] = "eu-west-1"
        config["resilience:dr"]["region"] = "eu-central-1"
        for service in config["resilience:services"]:
            for role in ("primary", "dr"):
                service["resources"][role].pop("certificates", None)
        config["resilience:dr"]["mode"] = "active"

    primary, dr = pair(write_config, europe)
    topics = primary.outputs["route53_alarm_topics"]
    assert topics["critical"].startswith("arn:aws:sns:us-east-1:")
    assert topics != primary.outputs["alarm_topics"]
    for stack in (primary, dr):
        status = [a for a in resources(stack, ALARM) if "health-check-alarms" in a["name"]]
        assert len(status) == 3
        assert all(a["region"] == "us-east-1" for a in status)
        assert all(a["inputs"]["alarmActions"] == [topics["critical"]] for a in status)
    # Active, yet us-east-1 is not the primary region: the dr stack may keep its alarms.
    assert {r["region"] for r in dr.graph["resources"] if r["region"]} == {
        "eu-central-1",
        "us-east-1",
    }


def test_arc_routing_controls_gate_both_records(write_config: ConfigWriter) -> None:
    def arc(config: dict[str, Any]) -> None:
        config["resilience:failover"]["mechanism"] = "arc"

    primary, dr = pair(write_config, arc)
    controls = primary.outputs["recovery_controls"]
    assert set(controls["routing_controls"]) == {"primary", "dr"}
    assert [e["region"] for e in controls["cluster_endpoints"]]  # the data plane to flip with
    (rule,) = resources(primary, "aws:route53recoverycontrol/safetyRule:SafetyRule")
    assert rule["inputs"]["ruleConfig"] == {"inverted": False, "threshold": 1, "type": "ATLEAST"}
    assert sorted(rule["inputs"]["assertedControls"]) == sorted(
        controls["routing_controls"].values()
    )
    for typ in (
        "aws:route53recoverycontrol/cluster:Cluster",
        "aws:route53recoverycontrol/controlPanel:ControlPanel",
        "aws:route53recoverycontrol/routingControl:RoutingControl",
    ):
        assert {r["region"] for r in resources(primary, typ)} == {"us-west-2"}  # control plane
    for stack, role in ((primary, "primary"), (dr, "dr")):
        checks = checks_by_id(stack)
        for record in resources(stack, RECORD):
            followed = checks[record["inputs"]["healthCheckId"]]["inputs"]
            assert followed["type"] == "RECOVERY_CONTROL"
            assert followed["routingControlArn"] == controls["routing_controls"][role]
        # The calculated checks stay, for alarms and the failover's readiness step.
        assert len([c for c in checks.values() if c["inputs"]["type"] == "CALCULATED"]) == 3
    assert primary.outputs["recovery"]["recovery_controls_monthly_usd"] == 1825.0


# -- scaling -------------------------------------------------------------------------------


def test_seed_scaling_policies_with_exact_thresholds(synthesized: dict[str, SynthResult]) -> None:
    result = synthesized["primary"]
    group = only(result, GROUP, "orders-api-scaling-group")["inputs"]
    assert (group["minSize"], group["maxSize"]) == (2, 10)
    assert group["name"] == "reskflow-orders"
    assert group["launchTemplate"] == {"name": "reskflow-orders", "version": "$Latest"}
    assert group["healthCheckType"] == "ELB"
    assert group["targetGroupArns"] == [
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
        "targetgroup/reskflow-orders/8f2e6a4c1b3d5e70"
    ]
    assert group["defaultInstanceWarmup"] == 300
    assert "desiredCapacity" not in group  # scaling owns it
    assert "GroupMaxSize" in group["enabledMetrics"]
    cpu = only(result, POLICY, "orders-api-scaling-cpu")["inputs"]
    assert cpu["policyType"] == "TargetTrackingScaling"
    assert cpu["estimatedInstanceWarmup"] == 300  # scale-out cooldown 5 min
    tracking = cpu["targetTrackingConfiguration"]
    assert tracking["targetValue"] == 70
    assert tracking["disableScaleIn"] is True
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == (
        "ASGAverageCPUUtilization"
    )
    scale_in = only(result, POLICY, "orders-api-scaling-cpu-scale-in")
    inputs = scale_in["inputs"]
    assert (inputs["policyType"], inputs["adjustmentType"]) == (
        "SimpleScaling",
        "PercentChangeInCapacity",
    )
    assert inputs["scalingAdjustment"] == -30  # x0.7
    assert inputs["cooldown"] == 600  # 10 min
    low = only(result, ALARM, "orders-api-scaling-cpu-low")["inputs"]
    assert low["comparisonOperator"] == "LessThanThreshold"
    assert low["threshold"] == 30
    # EC2 basic monitoring publishes every 5 minutes: 10 minutes are two 300 s periods.
    assert (low["period"], low["evaluationPeriods"], low["datapointsToAlarm"]) == (300, 2, 2)
    assert low["alarmActions"] == [scale_in["computed"]["arn"]]
    requests = only(result, POLICY, "orders-api-scaling-requests")["inputs"]
    spec = requests["targetTrackingConfiguration"]
    assert spec["targetValue"] == 4800  # 80 % of 6,000 a minute
    assert spec["predefinedMetricSpecification"]["resourceLabel"] == (
        "app/reskflow-orders/5d1b0c7e9a3f4b21/targetgroup/reskflow-orders/8f2e6a4c1b3d5e70"
    )
    at_max = only(result, ALARM, "orders-api-scaling-at-max")["inputs"]
    assert at_max["metricQueries"][-1]["expression"] == "IF(desired >= maxsize, 1, 0)"
    assert (at_max["evaluationPeriods"], at_max["datapointsToAlarm"]) == (15, 15)
    assert at_max["alarmActions"] == [result.outputs["alarm_topics"]["warning"]]


def test_holiday_peak_schedules_and_a_deploy_inside_the_peak(
    write_config: ConfigWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, _ = pair(write_config)
    schedules = {
        s["name"].rsplit("scaling-", 1)[1]: s["inputs"]
        for s in resources(primary, SCHEDULE)
        if "orders-api" in s["name"]
    }
    assert schedules["holiday-season-start"]["recurrence"] == "0 0 1 11 *"
    assert (
        schedules["holiday-season-start"]["minSize"],
        schedules["holiday-season-start"]["maxSize"],
    ) == (6, 30)
    assert schedules["holiday-season-end"]["recurrence"] == "0 0 1 1 *"
    assert (
        schedules["holiday-season-end"]["minSize"],
        schedules["holiday-season-end"]["maxSize"],
    ) == (2, 10)
    assert all(s["timeZone"] == "Etc/UTC" for s in schedules.values())
    # Unset, the provider would send a desired capacity of 0, refused above a minimum of 0
    # (aws.autoscaling.Schedule: "Set to `-1` if you don't want to change the desired
    # capacity at the scheduled time. Defaults to `0`."): scaling keeps it.
    assert all(s["desiredCapacity"] == -1 for s in schedules.values())
    # `pulumi up` on 23 November keeps the peak's bounds instead of undoing the schedule.
    monkeypatch.setenv("RESILIENCE_TODAY", "2026-11-23")
    peak, _ = pair(write_config)
    group = only(peak, GROUP, "orders-api-scaling-group")["inputs"]
    assert (group["minSize"], group["maxSize"]) == (6, 30)
    assert peak.outputs["recovery"]["capacity"]["orders-api"]["now"]["peak_factor"] == 3


@pytest.mark.parametrize(
    ("today", "expected"),
    [("2026-10-31", False), ("2026-11-01", True), ("2026-12-31", True), ("2027-01-01", False)],
)
def test_a_peak_may_span_new_year(today: str, expected: bool) -> None:
    peak = PeakSchedule(name="holiday-season", start="11-01", end="01-01", factor=3)
    assert in_peak(peak, date.fromisoformat(today)) is expected
    assert peak_factor([peak], date.fromisoformat(today)) == (3 if expected else 1)


@pytest.mark.parametrize(
    ("mode", "bounds", "at_max"),
    [("pilot-light", (0, 0), False), ("warm-standby", (1, 10), True), ("active", (2, 10), True)],
)
def test_each_dr_mode_sets_its_capacity(
    write_config: ConfigWriter, mode: str, bounds: tuple[int, int], at_max: bool
) -> None:
    primary, dr = pair(write_config, mode=mode)
    for service in SERVICES:
        group = only(dr, GROUP, f"{service}-scaling-group")
        assert (group["inputs"]["minSize"], group["inputs"]["maxSize"]) == bounds
        assert group["region"] == "us-west-2"
        assert group["inputs"]["name"] == f"reskflow-{service.split('-')[0]}-dr"
        alarms = {a["name"] for a in resources(dr, ALARM)}
        assert (f"reskflow-dr-{service}-scaling-at-max" in alarms) is at_max
        capacity = dr.outputs["recovery"]["capacity"][service]
        assert (capacity["now"]["min"], capacity["now"]["max"]) == bounds
        assert capacity["full"] == {"min": 2, "max": 10, "mode": "full"}
    # Peaks apply only where the region runs full capacity.
    assert bool(resources(dr, SCHEDULE)) is (mode == "active")
    # The primary never changes with the DR mode.
    group = only(primary, GROUP, "orders-api-scaling-group")["inputs"]
    assert (group["minSize"], group["maxSize"]) == (2, 10)
    assert dr.outputs["recovery"]["promotion"] == {"orders-db": "rds-promote-read-replica"}


def test_warm_standby_share_rounds_up(write_config: ConfigWriter) -> None:
    def share(config: dict[str, Any]) -> None:
        config["resilience:dr"].update(mode="warm-standby", warm_standby_percent=25)
        config["resilience:services"][0]["scaling"]["min"] = 6

    _, dr = pair(write_config, share)
    group = only(dr, GROUP, "orders-api-scaling-group")["inputs"]
    assert (group["minSize"], group["maxSize"]) == (2, 10)  # ceil(6 x 25 %)


def _worker(config: dict[str, Any]) -> None:
    """An ECS worker on the orders queue (Light on Campus ai_workers: 1-5, 10 messages)."""
    config["resilience:services"].append(
        {
            "name": "order-worker",
            "tier": "worker",
            "slo": {"availability": 99.9},
            "runbook_url": "https://runbooks.reskflow.example.com/order-worker",
            "resources": {
                "primary": {
                    "ecs": {"cluster": "reskflow", "service": "order-worker"},
                    "queues": [{"queue_name": "reskflow-order-events"}],
                },
                "dr": {"ecs": {"cluster": "reskflow-dr", "service": "order-worker"}},
            },
            "scaling": {
                "min": 1,
                "max": 5,
                "cpu": None,
                "queue": {"queue_name": "reskflow-order-events"},
            },
        }
    )


def test_ecs_worker_scales_on_queue_depth(write_config: ConfigWriter) -> None:
    primary, dr = pair(write_config, _worker, mode="warm-standby")
    target = only(primary, "aws:appautoscaling/target:Target", "order-worker-scaling-target")
    inputs = target["inputs"]
    assert inputs["resourceId"] == "service/reskflow/order-worker"
    assert inputs["scalableDimension"] == "ecs:service:DesiredCount"
    assert (inputs["minCapacity"], inputs["maxCapacity"]) == (1, 5)
    policies = {
        p["name"].rsplit("scaling-", 1)[1]: p["inputs"]
        for p in resources(primary, "aws:appautoscaling/policy:Policy")
        if "order-worker" in p["name"]
    }
    assert set(policies) == {"queue-backlog", "queue-empty"}  # cpu: None
    out = policies["queue-backlog"]["stepScalingPolicyConfiguration"]
    assert out["adjustmentType"] == "PercentChangeInCapacity"
    assert out["stepAdjustments"] == [{"metricIntervalLowerBound": "0", "scalingAdjustment": 100}]
    assert out["cooldown"] == 180
    drain = policies["queue-empty"]["stepScalingPolicyConfiguration"]
    assert drain["stepAdjustments"] == [{"metricIntervalUpperBound": "0", "scalingAdjustment": -1}]
    backlog = only(primary, ALARM, "order-worker-scaling-queue-backlog")["inputs"]
    assert backlog["threshold"] == 10
    assert backlog["comparisonOperator"] == "GreaterThanThreshold"
    assert backlog["dimensions"] == {"QueueName": "reskflow-order-events"}
    empty = only(primary, ALARM, "order-worker-scaling-queue-empty")["inputs"]
    assert (empty["threshold"], empty["evaluationPeriods"]) == (0, 15)
    dr_target = only(dr, "aws:appautoscaling/target:Target", "order-worker-scaling-target")
    assert (dr_target["inputs"]["minCapacity"], dr_target["inputs"]["maxCapacity"]) == (1, 5)


# -- config errors -------------------------------------------------------------------------


def _problems(write_config: ConfigWriter, edit: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_file(write_config(edit))
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda c: c["resilience:services"][1]["resources"]["primary"]["asg"].pop(
                "launch_template"
            ),
            "Pulumi.bad.yaml: resilience:services[1].resources.primary.asg.launch_template: "
            "required by resilience:services[1].scaling: the bundle sets the capacity only of a "
            "group it owns (asg with launch_template) or of an ecs service",
            id="scaling-needs-owned-compute",
        ),
        pytest.param(
            lambda c: c.pop("resilience:failover"),
            "Pulumi.bad.yaml: resilience:failover: required by resilience:services[0].dns: the "
            "hosted zone and health-check settings",
            id="dns-needs-failover",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["resources"]["dr"]["alb"].pop("target_group"),
            "Pulumi.bad.yaml: resilience:services[0].resources.dr.alb.target_group: required by "
            "resilience:services[0].scaling.request_limit_per_target: request-count tracking "
            "reads the target group's RequestCountPerTarget",
            id="requests-need-target-group",
        ),
        pytest.param(
            lambda c: c["resilience:failover"]["health_check"].update(alarms=["rds-cpu-high"]),
            "Pulumi.bad.yaml: resilience:failover.health_check.alarms[0]: 'rds-cpu-high' watches "
            "a rds; a failover health check can follow only alarms on the service's load balancer",
            id="health-check-alarm-off-the-alb",
        ),
        pytest.param(
            lambda c: c["resilience:failover"]["health_check"].update(alarms=["alb-5xx-rate"]),
            "Pulumi.bad.yaml: resilience:failover.health_check.alarms[0]: 'alb-5xx-rate' uses "
            "metric math or a percentile; Route 53 follows only alarms on one metric with a "
            "basic statistic (alb-unhealthy-hosts)",
            id="health-check-alarm-route53-cannot-follow",
        ),
        pytest.param(
            lambda c: (
                c["resilience:failover"]["health_check"].update(alarms=["alb-unhealthy-hosts"]),
                c["resilience:services"][2]["alarms"].update(
                    {"alb-unhealthy-hosts": {"enabled": False}}
                ),
            ),
            "Pulumi.bad.yaml: resilience:services[2].alarms.alb-unhealthy-hosts.enabled: the "
            "failover health check follows alb-unhealthy-hosts (failover.health_check.alarms): "
            "it cannot be disabled for a service with dns",
            id="health-check-alarm-disabled",
        ),
        pytest.param(
            lambda c: c["resilience:services"][1]["dns"].update(
                record="orders.api.reskflow.example.com"
            ),
            "Pulumi.bad.yaml: resilience:services[1].dns.record: "
            "'orders.api.reskflow.example.com' is also services[0]'s record",
            id="duplicate-record",
        ),
        pytest.param(
            lambda c: c["resilience:services"][1]["resources"]["dr"]["asg"].update(
                name="reskflow-orders-dr"
            ),
            "Pulumi.bad.yaml: resilience:services[1].resources.dr.asg.name: "
            "'reskflow-orders-dr' is also owned by services[0]",
            id="group-owned-twice",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["scaling"]["peaks"][0].update(end="11-01"),
            "Pulumi.bad.yaml: resilience:services[0].scaling.peaks[0].end: must differ from start",
            id="empty-peak",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["scaling"]["peaks"].append(
                {"name": "black-friday", "start": "11-20", "end": "12-02", "factor": 4}
            ),
            "Pulumi.bad.yaml: resilience:services[0].scaling: peaks holiday-season and "
            "black-friday overlap",
            id="overlapping-peaks",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["scaling"]["peaks"][0].update(start="02-29"),
            "Pulumi.bad.yaml: resilience:services[0].scaling.peaks[0].start: '02-29' is not a "
            "date every year has, as MM-DD",
            id="leap-day-peak",
        ),
        pytest.param(
            lambda c: (
                c["resilience:failover"]["health_check"].update(alarms=["alb-unhealthy-hosts"]),
                c["resilience:services"][1]["resources"]["dr"]["alb"].pop("target_group"),
            ),
            "Pulumi.bad.yaml: resilience:services[1].resources.dr.alb.target_group: required: "
            "the failover health check follows alb-unhealthy-hosts, which watches the target "
            "group",
            id="health-check-alarm-needs-target-group",
        ),
        pytest.param(
            lambda c: (
                c["resilience:failover"]["health_check"].update(alarms=["alb-unhealthy-hosts"]),
                c["resilience:services"][1]["alarms"].update(
                    {"alb-unhealthy-hosts": {"period_seconds": 10}}
                )
                if "alarms" in c["resilience:services"][1]
                else c["resilience:services"][1].update(
                    alarms={"alb-unhealthy-hosts": {"period_seconds": 10}}
                ),
            ),
            "Pulumi.bad.yaml: resilience:services[1].alarms.alb-unhealthy-hosts.period_seconds: "
            "the failover health check follows alb-unhealthy-hosts: Route 53 cannot follow "
            "high-resolution alarms (periods under 60 s)",
            id="health-check-alarm-high-resolution",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["scaling"].update(min=12),
            "Pulumi.bad.yaml: resilience:services[0].scaling: max (10) must be >= min (12)",
            id="max-below-min",
        ),
        pytest.param(
            lambda c: c["resilience:failover"]["health_check"].update(
                regions=["us-east-1", "us-west-2"]
            ),
            "Pulumi.bad.yaml: resilience:failover.health_check.regions: Route 53 needs at least "
            "three distinct checker regions",
            id="too-few-checker-regions",
        ),
        pytest.param(
            lambda c: c["resilience:failover"]["health_check"].update(interval_seconds=15),
            "Pulumi.bad.yaml: resilience:failover.health_check.interval_seconds: ",
            id="interval-10-or-30",
        ),
    ],
)
def test_traffic_config_errors(write_config: ConfigWriter, edit: Any, expected: str) -> None:
    problems = _problems(write_config, edit)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]


def test_owned_groups_tag_the_instances_they_launch(synthesized: dict[str, SynthResult]) -> None:
    """Provider default tags reach the group, not the instances it launches: the group
    propagates the system's and the service's tags (cost allocation, checkov CKV_AWS_153)."""
    for stack in ("primary", "dr"):
        groups = resources(synthesized[stack], "aws:autoscaling/group:Group")
        assert len(groups) == 3
        for group in groups:
            tags = {t["key"]: (t["value"], t["propagateAtLaunch"]) for t in group["inputs"]["tags"]}
            assert tags["system"] == ("reskflow", True)
            assert tags["resilience-role"] == (stack, True)
            assert tags["owner"] == ("platform-team", True)
            service = tags["service"][0]
            assert group["inputs"]["name"].startswith(f"reskflow-{service.removesuffix('-api')}")
