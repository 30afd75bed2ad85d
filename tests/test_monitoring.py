"""Monitoring under mocks: seed thresholds, burn-rate math, alarm hygiene, escalation,
overrides, renames, context-aware monitors, DR modes, dashboards and the inventory."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from model.alarms import BY_ID, CATALOG
from model.burn_rate import TIERS, compile_objective
from model.loader import load_file
from scripts.engine import SynthResult, synth, synth_all
from tests import aws_prices
from tests.conftest import ConfigWriter, resources

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"


def alarms(result: SynthResult) -> dict[str, dict[str, Any]]:
    """Metric alarms by logical name without the `<system>-<role>-monitoring-` prefix."""
    prefix = f"{result.loaded.config.name}-{result.loaded.config.role.value}-monitoring-"
    return {r["name"].removeprefix(prefix): r for r in resources(result, ALARM)}


def topic_of(result: SynthResult, severity: str) -> str:
    return str(result.outputs["alarm_topics"][severity])


def composite_inputs(result: SynthResult) -> set[str]:
    rules = " ".join(r["inputs"]["alarmRule"] for r in resources(result, COMPOSITE))
    return {r["urn"] for r in resources(result, ALARM) if r["computed"]["arn"] in rules}


# (stack, alarm, threshold, comparison, period, evaluation periods, severity)
SEED_ALARMS: list[tuple[str, str, float, str, int, int, str]] = [
    # ReskFlow high_cpu > 80% 5m warning; memory_pressure > 85% 10m warning;
    # disk_space > 90% 1m critical; high_error_rate > 5% 2m critical;
    # slow_response p95 > 2000 ms 5m warning.
    # EC2 basic monitoring: one 5-minute datapoint is "for 5m".
    ("primary", "orders-api-asg-cpu-high", 80, "GreaterThanThreshold", 300, 1, "warning"),
    ("primary", "orders-api-asg-memory-high", 85, "GreaterThanThreshold", 60, 10, "warning"),
    ("primary", "orders-api-asg-disk-high", 90, "GreaterThanThreshold", 60, 1, "critical"),
    ("primary", "orders-api-alb-5xx-rate", 5, "GreaterThanThreshold", 60, 2, "critical"),
    ("primary", "orders-api-alb-target-5xx-rate", 5, "GreaterThanThreshold", 60, 5, "critical"),
    ("primary", "orders-api-alb-latency-p95", 2, "GreaterThanThreshold", 60, 5, "warning"),
    ("primary", "orders-api-alb-latency-p99", 5, "GreaterThanThreshold", 60, 5, "warning"),
    # WebUredno: connection pool > 80% of max (500) for 5m critical; disk < 10% critical.
    (
        "primary",
        "orders-api-rds-connections-high-reskflow-db",
        400,
        "GreaterThanThreshold",
        60,
        5,
        "critical",
    ),
    (
        "primary",
        "orders-api-rds-free-storage-low-reskflow-db",
        0.1 * 5000 * 1024**3,
        "LessThanThreshold",
        60,
        5,
        "critical",
    ),
    # WebUredno SSLCertificateExpiry < 7 days, warning.
    (
        "primary",
        "orders-api-acm-certificate-expiry-0f6b2c1e",
        7,
        "LessThanThreshold",
        86400,
        2,
        "warning",
    ),
    # S3 replication latency vs the 5-minute RPO.
    (
        "primary",
        "s3-replication-latency-uploads-to-us-west-2",
        300,
        "GreaterThanThreshold",
        60,
        5,
        "error",
    ),
    # Skafu: Lambda timeout 30 s -> p99 duration above 80 % of it.
    (
        "primary",
        "tracking-api-lambda-duration-near-timeout-reskflow-tracking-ingest",
        24_000,
        "GreaterThanThreshold",
        60,
        5,
        "warning",
    ),
    (
        "primary",
        "tracking-api-lambda-error-rate-reskflow-tracking-ingest",
        2,
        "GreaterThanThreshold",
        60,
        5,
        "error",
    ),
    # Overridden in systems/reskflow.yaml: 2 s instead of the 5 s default.
    ("primary", "tracking-api-alb-latency-p99", 2, "GreaterThanThreshold", 60, 5, "warning"),
    # Replica lag in the DR region: 50 % of the 5-minute RPO for 2 minutes, so the page
    # comes at 270 s of lag, within the RPO (resilience-rpo-achievable holds it there).
    (
        "dr",
        "orders-api-rds-replica-lag-reskflow-db-dr",
        150,
        "GreaterThanThreshold",
        60,
        2,
        "error",
    ),
    ("primary", "backup-job-failed", 0, "GreaterThanThreshold", 300, 1, "warning"),
]


@pytest.mark.parametrize("case", SEED_ALARMS, ids=[c[1] for c in SEED_ALARMS])
def test_seed_thresholds_in_the_synthesized_alarms(
    synthesized: dict[str, SynthResult], case: tuple[str, str, float, str, int, int, str]
) -> None:
    stack, alarm, threshold, comparison, period, evaluations, severity = case
    result = synthesized[stack]
    inputs = alarms(result)[alarm]["inputs"]
    assert inputs["threshold"] == pytest.approx(threshold)
    assert inputs["comparisonOperator"] == comparison
    assert inputs["evaluationPeriods"] == evaluations
    assert {q["metric"]["period"] for q in inputs["metricQueries"] if "metric" in q} == {period}
    assert inputs["alarmActions"] == inputs["okActions"] == [topic_of(result, severity)]


def test_every_catalog_default_reaches_its_alarm(synthesized: dict[str, SynthResult]) -> None:
    """Apart from the one override, each inventory threshold is the catalog's (or the
    catalog's percentage applied to the resource)."""
    inventory = synthesized["primary"].outputs["alarms"]
    absolute = [e for e in inventory if e["id"] in BY_ID and BY_ID[e["id"]].basis == "absolute"]
    assert len(absolute) > 20
    for entry in absolute:
        expected = BY_ID[entry["id"]].threshold
        if entry["alarm"].endswith("tracking-api-alb-latency-p99"):
            expected = 2
        assert entry["threshold"] == expected, entry["alarm"]
        assert entry["severity"] == BY_ID[entry["id"]].severity.value


def test_context_aware_monitors(synthesized: dict[str, SynthResult]) -> None:
    names = alarms(synthesized["primary"])
    credit = {n for n in names if "asg-cpu-credits-low" in n}
    assert credit == {"users-api-asg-cpu-credits-low"}  # t3.large only, not m6i/c6i
    assert not any("rds-deadlocks" in n for n in names)  # PostgreSQL RDS has no metric
    assert not any("rds-replica-lag" in n for n in names)  # the primary is no replica
    assert "orders-api-sqs-dlq-not-empty-reskflow-order-events-dlq" in names
    dr_names = alarms(synthesized["dr"])
    assert "orders-api-rds-replica-lag-reskflow-db-dr" in dr_names
    assert not any("s3-replication" in n for n in dr_names)  # metrics live in the source region


def test_aurora_databases_get_the_deadlock_alarm(write_config: ConfigWriter) -> None:
    def aurora(config: dict[str, Any]) -> None:
        db = config["resilience:services"][0]["resources"]["primary"]["databases"][0]
        db.update(engine="aurora-postgresql", allocated_storage_gb=None)

    names = alarms(synth(load_file(write_config(aurora))))
    deadlocks = names["orders-api-rds-deadlocks-reskflow-db"]["inputs"]
    assert deadlocks["threshold"] == 5
    assert deadlocks["metricQueries"][-1]["expression"] == "deadlocks * PERIOD(deadlocks)"
    assert "orders-api-rds-free-storage-low-reskflow-db" not in names  # Aurora storage grows


def is_scaling_trigger(alarm: dict[str, Any]) -> bool:
    """An alarm whose only actions are scaling policies (it notifies no one)."""
    actions = alarm["inputs"].get("alarmActions") or []
    return bool(actions) and all(":scalingPolicy:" in a for a in actions)


def test_every_alarm_notifies_on_alarm_and_ok_and_links_a_runbook(
    synthesized: dict[str, SynthResult],
) -> None:
    for result in synthesized.values():
        inputs_of_composites = composite_inputs(result)
        topics = set(result.outputs["alarm_topics"].values())
        for alarm in [*resources(result, ALARM), *resources(result, COMPOSITE)]:
            inputs = alarm["inputs"]
            assert "Runbook: https://" in inputs["alarmDescription"], alarm["name"]
            if alarm["type"] == ALARM:
                # Never `ignore`: a state kept between datapoints means nothing to Route 53 (it
                # reads the data stream) and hides a metric that stopped.
                assert inputs["treatMissingData"] in {"breaching", "notBreaching", "missing"}, (
                    alarm["name"]
                )
            if alarm["urn"] in inputs_of_composites:
                assert "alarmActions" not in inputs, alarm["name"]
                continue
            if inputs.get("actionsEnabled") is False:  # the failover fence: a health check's
                assert alarm["name"].endswith("-dns-fence")
                continue
            if is_scaling_trigger(alarm):
                continue
            assert inputs["alarmActions"] == inputs["okActions"], alarm["name"]
            assert len(inputs["alarmActions"]) == 1
            assert set(inputs["alarmActions"]) <= topics


def test_disabling_an_alarm_removes_only_that_alarm(
    synthesized: dict[str, SynthResult], write_config: ConfigWriter
) -> None:
    def disable(config: dict[str, Any]) -> None:
        config["resilience:services"][0]["alarms"] = {"asg-cpu-high": {"enabled": False}}

    before = set(alarms(synthesized["primary"]))
    after = set(alarms(synth(load_file(write_config(disable)))))
    assert before - after == {"orders-api-asg-cpu-high"}
    assert after - before == set()


def test_override_changes_only_what_it_names(write_config: ConfigWriter) -> None:
    def override(config: dict[str, Any]) -> None:
        config["resilience:services"][0]["alarms"] = {
            "asg-cpu-high": {"threshold": 70, "severity": "critical", "evaluation_periods": 10},
            "rds-connections-high": {"threshold": 90},
        }

    result = synth(load_file(write_config(override)))
    cpu = alarms(result)["orders-api-asg-cpu-high"]["inputs"]
    assert cpu["threshold"] == 70
    assert cpu["evaluationPeriods"] == 10
    assert cpu["datapointsToAlarm"] == 1  # unchanged default
    assert cpu["alarmActions"] == [topic_of(result, "critical")]
    assert (
        alarms(result)["orders-api-rds-connections-high-reskflow-db"]["inputs"]["threshold"] == 450
    )


# An SLO window alarm looks at its whole window: one period of the window's length, or whole
# days for a window over a day, every one of them breaching: (period s, evaluation periods).
SLO_WINDOW_EVALUATION = {
    "5m": (300, 1),
    "30m": (1_800, 1),
    "1h": (3_600, 1),
    "2h": (7_200, 1),
    "6h": (21_600, 1),
    "1d": (86_400, 1),
    "3d": (86_400, 3),
}


def test_burn_rate_thresholds_are_budget_times_factor(synthesized: dict[str, SynthResult]) -> None:
    result = synthesized["primary"]
    factors = {"page-1h": 14.4, "page-6h": 6.0, "ticket-1d": 3.0, "ticket-3d": 1.0}
    budgets = {"availability": 0.0001, "latency-p95": 0.05, "latency-p99": 0.01}
    seen = 0
    for name, alarm in alarms(result).items():
        if "-slo-" not in name:
            continue
        _, rest = name.split("-slo-")
        objective = next(o for o in budgets if rest.startswith(o))
        tier = next(t for t in factors if f"-{t}-" in rest)
        window = rest.rsplit("-", 1)[-1]
        inputs = alarm["inputs"]
        assert inputs["threshold"] == pytest.approx(budgets[objective] * factors[tier]), name
        period, evaluations = SLO_WINDOW_EVALUATION[window]
        assert inputs["evaluationPeriods"] == inputs["datapointsToAlarm"] == evaluations
        assert {q["metric"]["period"] for q in inputs["metricQueries"] if "metric" in q} == {period}
        # CloudWatch API Reference, PutMetricAlarm, Period: "Period multiplied by
        # EvaluationPeriods can't be more than 604,800 seconds. For alarms with a period of
        # less than one hour (3,600 seconds), the total evaluation period can't be longer
        # than one day (86,400 seconds)"; "Valid values are 10, 20, 30, and any multiple of 60".
        assert period * evaluations <= (86_400 if period < 3_600 else 604_800), name
        assert period % 60 == 0, name
        seen += 1
    # 3 services x 3 objectives x 4 tiers x 2 windows
    assert seen == 72


def test_composites_pair_long_and_short_windows_and_suppress_slower_tiers(
    synthesized: dict[str, SynthResult],
) -> None:
    result = synthesized["primary"]
    by_arn = {r["computed"]["arn"]: r["name"] for r in resources(result, ALARM)}
    composites = {r["inputs"]["alarmName"]: r["inputs"] for r in resources(result, COMPOSITE)}
    orders = {
        k: v
        for k, v in composites.items()
        if k.startswith("reskflow-primary-orders-api-availability-")
    }
    assert sorted(orders) == sorted(
        f"reskflow-primary-orders-api-availability-{t.name}" for t in TIERS
    )
    for tier, (long_w, short_w) in zip(
        TIERS, (("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h")), strict=True
    ):
        inputs = orders[f"reskflow-primary-orders-api-availability-{tier.name}"]
        arns = [part.split('"')[1] for part in inputs["alarmRule"].split(" AND ")]
        assert [by_arn[a].rsplit("-", 1)[-1] for a in arns] == [long_w, short_w]
        assert inputs["alarmActions"] == [topic_of(result, tier.severity.value)]
    assert "actionsSuppressor" not in orders["reskflow-primary-orders-api-availability-page-1h"]
    for faster, slower in itertools.pairwise(TIERS):
        suppressor = orders[f"reskflow-primary-orders-api-availability-{slower.name}"][
            "actionsSuppressor"
        ]
        assert suppressor["alarm"] == f"reskflow-primary-orders-api-availability-{faster.name}"


def test_tiers_are_the_workbook_tiers() -> None:
    """The shares and windows themselves, written down once here (the property test below
    derives everything else from them)."""
    assert [
        (t.name, t.budget_share, t.long_window_s, t.short_window_s, t.severity.value) for t in TIERS
    ] == [
        ("page-1h", 0.02, 3_600, 300, "critical"),
        ("page-6h", 0.05, 21_600, 1_800, "critical"),
        ("ticket-1d", 0.10, 86_400, 7_200, "warning"),
        ("ticket-3d", 0.10, 259_200, 21_600, "warning"),
    ]


@given(
    availability=st.floats(min_value=90.0, max_value=99.999, exclude_min=True),
    window_days=st.integers(min_value=7, max_value=90),
)
@example(availability=99.9, window_days=30)
@example(availability=99.99, window_days=30)
def test_burn_rate_factor_math(availability: float, window_days: int) -> None:
    budget = 1 - availability / 100
    compiled = compile_objective(budget, window_days)
    assert [tier.name for tier, _, _ in compiled] == [t.name for t in TIERS]
    for tier, long_alarm, short_alarm in compiled:
        expected = tier.budget_share * window_days * 24 / (tier.long_window_s / 3600)
        assert long_alarm.factor == pytest.approx(expected)
        assert long_alarm.threshold == pytest.approx(budget * expected)
        assert short_alarm.threshold == long_alarm.threshold
        assert short_alarm.window_s * 12 == long_alarm.window_s
        for alarm in (long_alarm, short_alarm):
            assert alarm.period_s * alarm.evaluation_periods == alarm.window_s
            assert alarm.period_s <= 86_400
        # Burning at exactly the factor for the whole long window spends exactly the share.
        spent = long_alarm.factor * budget * tier.long_window_s / (window_days * 86_400)
        assert spent == pytest.approx(tier.budget_share * budget)
    if window_days == 30:
        assert [round(a.factor, 9) for _, a, _ in compiled] == [14.4, 6.0, 3.0, 1.0]
        assert [round(a.threshold / budget, 9) for _, a, _ in compiled] == [14.4, 6.0, 3.0, 1.0]


def test_compile_rejects_an_impossible_budget() -> None:
    with pytest.raises(ValueError, match=r"error budget must be in \(0, 1\)"):
        compile_objective(0.0, 30)


def test_escalation_topics_are_encrypted_and_subscribed_from_config(
    synthesized: dict[str, SynthResult],
) -> None:
    for stack in ("primary", "dr"):
        result = synthesized[stack]
        topics = resources(result, "aws:sns/topic:Topic")
        assert len(topics) == 4
        assert {t["inputs"]["kmsMasterKeyId"] for t in topics} == {result.outputs["kms_key_arn"]}
        subscriptions = resources(result, "aws:sns/topicSubscription:TopicSubscription")
        by_topic: dict[str, list[tuple[str, str]]] = {}
        for sub in subscriptions:
            by_topic.setdefault(sub["inputs"]["topic"], []).append(
                (sub["inputs"]["protocol"], sub["inputs"]["endpoint"])
            )
        assert sorted(by_topic[topic_of(result, "critical")]) == [
            ("email", "incident-response@reskflow.example.com"),
            ("sms", "+15555550100"),
        ]
        assert by_topic[topic_of(result, "warning")] == [
            ("email", "platform-alerts@reskflow.example.com")
        ]
        for policy in resources(result, "aws:sns/topicPolicy:TopicPolicy"):
            statements = json.loads(policy["inputs"]["policy"])["Statement"]
            deny = next(s for s in statements if s["Effect"] == "Deny")
            assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            services = next(s for s in statements if "Service" in s["Principal"])
            assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


PAGER = "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue"
SLACK = "https://hooks.slack.com/services/T0000000/B0000000/abcdefghijklmnop"


def test_pager_and_chat_reach_critical_and_stay_secret(write_config: ConfigWriter) -> None:
    """Seeds: critical -> pager + email + chat. PagerDuty's CloudWatch integration takes SNS
    directly; Slack webhooks go through the relay function."""

    def pager_and_chat(config: dict[str, Any]) -> None:
        config["resilience:escalation"]["critical"] += [
            {"kind": "pagerduty", "endpoint": PAGER},
            {"kind": "slack", "endpoint": SLACK},
        ]

    result = synth(load_file(write_config(pager_and_chat)))
    text = json.dumps(result.graph)
    assert "events.pagerduty.com" not in text
    assert "hooks.slack.com" not in text
    critical = topic_of(result, "critical")
    subscriptions = [
        s["inputs"]
        for s in resources(result, "aws:sns/topicSubscription:TopicSubscription")
        if s["inputs"]["topic"] == critical
    ]
    relay = next(
        f
        for f in resources(result, "aws:lambda/function:Function")
        if f["name"].endswith("slack-relay")
    )
    assert sorted((s["protocol"], s["endpoint"]) for s in subscriptions) == sorted(
        [
            ("email", "incident-response@reskflow.example.com"),
            ("sms", "+15555550100"),
            ("https", "[secret]"),
            ("lambda", relay["computed"]["arn"]),
        ]
    )
    pager = next(s for s in subscriptions if s["protocol"] == "https")
    assert pager["endpointAutoConfirms"] is True
    assert relay["inputs"]["environment"]["variables"]["SLACK_ROUTES"] == "[secret]"
    assert relay["inputs"]["kmsKeyArn"] == result.outputs["kms_key_arn"]
    assert relay["inputs"]["runtime"] == "python3.12"
    (permission,) = resources(result, "aws:lambda/permission:Permission")
    assert permission["inputs"]["principal"] == "sns.amazonaws.com"
    assert permission["inputs"]["sourceArn"] == critical
    # With Slack configured as the README documents, every rule still passes (the relay's
    # log group is protected like every other one).
    from policies.evaluate import evaluate_graph

    assert evaluate_graph(result.graph).findings == []


def test_the_slack_relay_posts_alarms_readably(monkeypatch: pytest.MonkeyPatch) -> None:
    from components.relay import slack_relay

    posted: list[tuple[str, str]] = []
    monkeypatch.setattr(slack_relay, "post", lambda url, text: posted.append((url, text)))
    monkeypatch.setenv("SLACK_ROUTES", json.dumps({"arn:topic:critical": [SLACK]}))
    alarm = {
        "AlarmName": "orders-api-alb-5xx-rate",
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 2 datapoints [7.1, 6.3] > 5",
        "AlarmDescription": "[critical] orders-api (us-east-1): ... Runbook: https://r/x",
        "Region": "US East (N. Virginia)",
    }
    event = {
        "Records": [
            {"Sns": {"TopicArn": "arn:topic:critical", "Message": json.dumps(alarm)}},
            {"Sns": {"TopicArn": "arn:topic:info", "Message": "not routed"}},
        ]
    }
    assert slack_relay.handler(event, None) == {"sent": 1}
    ((url, text),) = posted
    assert url == SLACK
    assert text.splitlines() == [
        ":rotating_light: *ALARM* orders-api-alb-5xx-rate (US East (N. Virginia))",
        "Threshold Crossed: 2 datapoints [7.1, 6.3] > 5",
        "[critical] orders-api (us-east-1): ... Runbook: https://r/x",
    ]
    assert slack_relay.format_message({"Subject": "Backup", "Message": "plain"}) == (
        "*Backup*\n```plain```"
    )


def test_log_groups_have_configured_retention_and_the_region_key(
    synthesized: dict[str, SynthResult],
) -> None:
    result = synthesized["primary"]
    groups = {g["inputs"]["name"]: g for g in resources(result, "aws:cloudwatch/logGroup:LogGroup")}
    assert {name: g["inputs"]["retentionInDays"] for name, g in groups.items()} == {
        "/reskflow/production/orders-api/app": 30,
        "/reskflow/production/users-api/app": 30,
        "/reskflow/production/tracking-api/app": 30,
        "/reskflow/production/audit": 365,
        "/reskflow/production/platform": 365,
        "/reskflow/production/cloudtrail": 365,  # the trail's, at the audit retention
        # RDS's own groups, made first (else RDS creates them: no expiry, no CMK; RDS User
        # Guide, "Publishing database logs to Amazon CloudWatch Logs"): the exported logs at
        # the audit retention, Enhanced Monitoring at the application's.
        "/aws/rds/instance/reskflow-db/postgresql": 365,
        "/aws/rds/instance/reskflow-db/upgrade": 365,
        "RDSOSMetrics": 30,
    }
    for group in groups.values():
        assert group["inputs"]["kmsKeyId"] == result.outputs["kms_key_arn"]
        assert group["options"]["protect"] is True


def test_slo_alerting_follows_the_traffic(
    synthesized: dict[str, SynthResult], write_config: ConfigWriter
) -> None:
    assert not resources(synthesized["dr"], COMPOSITE)  # pilot-light: no traffic in DR
    active = load_file(
        write_config(lambda c: c["resilience:dr"].update(mode="active"), base="dr", name="dr")
    )
    primary = load_file(
        write_config(lambda c: c["resilience:dr"].update(mode="active"), name="primary")
    )
    result = synth_all([primary, active])[1]
    names = {c["inputs"]["alarmName"] for c in resources(result, COMPOSITE)}
    assert "reskflow-dr-orders-api-availability-page-1h" in names
    assert len(names) == 36


def test_a_rename_keeps_alarm_identity(
    synthesized: dict[str, SynthResult], write_config: ConfigWriter
) -> None:
    def rename(config: dict[str, Any]) -> None:
        service = config["resilience:services"][0]
        service["previous_names"] = [service["name"]]
        service["name"] = "checkout-api"

    renamed = synth(load_file(write_config(rename)))
    before, after = alarms(synthesized["primary"]), alarms(renamed)
    cpu = after["checkout-api-asg-cpu-high"]
    assert cpu["options"]["aliases"] == ["name=reskflow-primary-monitoring-orders-api-asg-cpu-high"]
    assert "name" not in cpu["inputs"]  # autonamed: the alias keeps the physical name
    assert len(before) == len(after)
    old_names = {c["inputs"]["alarmName"] for c in resources(synthesized["primary"], COMPOSITE)}
    new_names = {c["inputs"]["alarmName"] for c in resources(renamed, COMPOSITE)}
    assert old_names == new_names  # explicit names keep the service's first name
    logs = {g["inputs"]["name"] for g in resources(renamed, "aws:cloudwatch/logGroup:LogGroup")}
    assert "/reskflow/production/orders-api/app" in logs
    for typ in (
        ALARM,
        COMPOSITE,
        "aws:cloudwatch/dashboard:Dashboard",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:autoscaling/group:Group",
        "aws:autoscaling/policy:Policy",
        "aws:autoscaling/schedule:Schedule",
        "aws:route53/healthCheck:HealthCheck",
        "aws:route53/record:Record",
    ):
        for resource in resources(renamed, typ):
            if "checkout-api" in resource["name"]:
                assert resource["options"]["aliases"], resource["name"]


def test_dashboards_are_valid_and_show_every_alarm(synthesized: dict[str, SynthResult]) -> None:
    result = synthesized["primary"]
    dashboards = {
        d["inputs"]["dashboardName"]: json.loads(d["inputs"]["dashboardBody"])
        for d in resources(result, "aws:cloudwatch/dashboard:Dashboard")
    }
    assert set(dashboards) == {
        "reskflow-primary-overview",
        "reskflow-primary-orders-api",
        "reskflow-primary-users-api",
        "reskflow-primary-tracking-api",
    }
    overview_alarms = {
        arn
        for widget in dashboards["reskflow-primary-overview"]["widgets"]
        if widget["type"] == "alarm"
        for arn in widget["properties"]["alarms"]
    }
    notifying = {
        r["computed"]["arn"]
        for r in resources(result, ALARM)
        if r["urn"] not in composite_inputs(result)
        and r["inputs"].get("actionsEnabled") is not False
        and not is_scaling_trigger(r)
        and ":us-east-1:" in r["computed"]["arn"]  # the dashboard's region
    }
    composites = {r["computed"]["arn"] for r in resources(result, COMPOSITE)}
    assert overview_alarms == notifying | composites
    orders = dashboards["reskflow-primary-orders-api"]["widgets"]
    titles = [w["properties"].get("title", "") for w in orders]
    assert "Error budget burn rate (1h)" in titles
    overview = dashboards["reskflow-primary-overview"]["widgets"]
    (replication,) = [w for w in overview if w["properties"].get("title", "").startswith("DR")]
    assert replication["properties"]["metrics"] == [
        [
            "AWS/S3",
            "ReplicationLatency",
            "SourceBucket",
            "reskflow-uploads-us-east-1-123456789012",
            "DestinationBucket",
            "reskflow-uploads-us-west-2-123456789012",
            "RuleId",
            "uploads-to-us-west-2",
        ]
    ]
    dr_orders = {
        d["inputs"]["dashboardName"]: json.loads(d["inputs"]["dashboardBody"])
        for d in resources(synthesized["dr"], "aws:cloudwatch/dashboard:Dashboard")
    }["reskflow-dr-orders-api"]["widgets"]
    lag = next(w for w in dr_orders if w["properties"].get("title", "").startswith("DR"))
    assert lag["properties"]["metrics"] == [
        ["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", "reskflow-db-dr"]
    ]
    assert all(w["properties"].get("region", "us-east-1") == "us-east-1" for w in orders)


def test_inventory_lists_every_alarm_with_cost(synthesized: dict[str, SynthResult]) -> None:
    """Each alarm's cost is what CloudWatch bills for the alarm as created (its metrics and
    resolution read from the resource), at AWS's published prices (tests/aws_prices.py);
    the stack's total is every alarm and dashboard in its graph at those prices."""
    for stack, result in synthesized.items():
        inventory = result.outputs["alarms"]
        created = {r["name"]: r for r in [*resources(result, ALARM), *resources(result, COMPOSITE)]}
        assert len(inventory) == result.outputs["alarm_count"] == len(created)
        for entry in inventory:
            billed = aws_prices.alarm_usd(created[entry["alarm"]])
            assert entry["monthly_usd"] == pytest.approx(billed), (stack, entry["alarm"])
        dashboards = len(resources(result, "aws:cloudwatch/dashboard:Dashboard"))
        total = sum(aws_prices.alarm_usd(r) for r in created.values())
        total += aws_prices.DASHBOARD * dashboards
        assert result.outputs["monitoring_monthly_usd"] == pytest.approx(total), stack
    listed = synthesized["primary"].outputs["alarms"]
    primary = {e["id"]: e for e in listed}
    # The 1-hour availability window: the load balancer's 5xx, its targets' 5xx and the
    # requests (3 metrics, 1-hour periods): 3 x $0.10.
    assert primary["slo:availability:page-1h:1h"]["monthly_usd"] == 0.30
    # Its composite: $0.50, whatever it evaluates.
    assert primary["slo:availability:page-1h"]["monthly_usd"] == 0.50
    # A 5xx rate (errors / requests, 2 metrics): 2 x $0.10.
    assert {e["monthly_usd"] for e in listed if e["id"] == "alb-5xx-rate"} == {0.20}
    # The fence (one metric, 60 s): $0.10.
    assert primary["failover:fence"]["monthly_usd"] == 0.10


def test_catalog_ids_are_unique_and_cite_a_source() -> None:
    assert len(BY_ID) == len(CATALOG)
    for spec in CATALOG:
        assert spec.source
        assert spec.datapoints_to_alarm <= spec.evaluation_periods
        assert spec.treat_missing_data in {"breaching", "notBreaching", "missing", "ignore"}


def test_health_checks_in_us_east_1_are_watched(write_config: ConfigWriter) -> None:
    def with_check(config: dict[str, Any]) -> None:
        config["resilience:services"][0]["resources"]["primary"]["health_checks"] = [
            "6e2d9b4a-1c3f-4e7a-8b5d-0a9c7e3f1b22"
        ]

    result = synth(load_file(write_config(with_check)))
    inputs = alarms(result)["orders-api-route53-health-check-failed-6e2d9b4a"]["inputs"]
    assert (inputs["threshold"], inputs["comparisonOperator"]) == (1, "LessThanThreshold")
    assert inputs["treatMissingData"] == "breaching"
    assert inputs["alarmActions"] == [topic_of(result, "critical")]
    (query,) = inputs["metricQueries"]
    assert query["metric"]["dimensions"] == {
        "HealthCheckId": "6e2d9b4a-1c3f-4e7a-8b5d-0a9c7e3f1b22"
    }


def test_a_tier_that_could_never_fire_is_left_out(write_config: ConfigWriter) -> None:
    """At 91 % over 30 days the page-1h tier would need 9 % x 14.4 = 130 % bad events."""

    def loose(config: dict[str, Any]) -> None:
        service = config["resilience:services"][1]
        service["slo"] = {"availability": 91.0}

    result = synth(load_file(write_config(loose)))
    names = {c["inputs"]["alarmName"] for c in resources(result, COMPOSITE)}
    users = {n.removeprefix("reskflow-primary-users-api-") for n in names if "users-api" in n}
    assert users == {"availability-page-6h", "availability-ticket-1d", "availability-ticket-3d"}
    page_6h = next(
        c
        for c in resources(result, COMPOSITE)
        if c["inputs"]["alarmName"].endswith("users-api-availability-page-6h")
    )
    assert "actionsSuppressor" not in page_6h["inputs"]  # the faster tier does not exist


@pytest.mark.parametrize(
    ("stack", "alarm", "namespace", "metric", "stat", "dimensions"),
    [
        (
            "primary",
            "orders-api-asg-cpu-high",
            "AWS/EC2",
            "CPUUtilization",
            "Average",
            {"AutoScalingGroupName": "reskflow-orders"},
        ),
        (
            "primary",
            "orders-api-asg-disk-high",
            "CWAgent",
            "disk_used_percent",
            "Maximum",
            {"AutoScalingGroupName": "reskflow-orders", "path": "/"},
        ),
        (
            "primary",
            "orders-api-alb-latency-p95",
            "AWS/ApplicationELB",
            "TargetResponseTime",
            "p95",
            {"LoadBalancer": "app/reskflow-orders/5d1b0c7e9a3f4b21"},
        ),
        (
            "primary",
            "orders-api-alb-unhealthy-hosts",
            "AWS/ApplicationELB",
            "UnHealthyHostCount",
            "Maximum",
            {
                "LoadBalancer": "app/reskflow-orders/5d1b0c7e9a3f4b21",
                "TargetGroup": "targetgroup/reskflow-orders/8f2e6a4c1b3d5e70",
            },
        ),
        (
            "dr",
            "orders-api-rds-replica-lag-reskflow-db-dr",
            "AWS/RDS",
            "ReplicaLag",
            "Maximum",
            {"DBInstanceIdentifier": "reskflow-db-dr"},
        ),
        (
            "primary",
            "backup-copy-job-failed",
            "AWS/Backup",
            "NumberOfCopyJobsFailed",
            "Sum",
            {"BackupVaultName": "reskflow-primary"},
        ),
        (
            "primary",
            "s3-replication-latency-uploads-to-us-west-2",
            "AWS/S3",
            "ReplicationLatency",
            "Maximum",
            {
                "SourceBucket": "reskflow-uploads-us-east-1-123456789012",
                "DestinationBucket": "reskflow-uploads-us-west-2-123456789012",
                "RuleId": "uploads-to-us-west-2",
            },
        ),
    ],
)
def test_alarms_read_the_right_metric(
    synthesized: dict[str, SynthResult],
    stack: str,
    alarm: str,
    namespace: str,
    metric: str,
    stat: str,
    dimensions: dict[str, str],
) -> None:
    (query,) = alarms(synthesized[stack])[alarm]["inputs"]["metricQueries"]
    assert query["returnData"] is True
    assert query["metric"]["namespace"] == namespace
    assert query["metric"]["metricName"] == metric
    assert query["metric"]["stat"] == stat
    assert query["metric"]["dimensions"] == dimensions


def test_error_ratios_count_requests_rejected_before_a_target(
    synthesized: dict[str, SynthResult],
) -> None:
    """With no healthy target the load balancer answers 503 itself: those requests are only
    in HTTPCode_ELB_5XX_Count, so they must be in the denominator too (a total outage is
    100 % errors, not 'no data')."""
    names = alarms(synthesized["primary"])
    rate = names["orders-api-alb-5xx-rate"]["inputs"]["metricQueries"][-1]["expression"]
    assert rate == "100 * FILL(elb5xx, 0) / (FILL(requests, 0) + FILL(elb5xx, 0))"
    window = names["orders-api-slo-availability-page-1h-1h"]["inputs"]["metricQueries"][-1]
    assert window["expression"] == (
        "(FILL(elb5xx, 0) + FILL(target5xx, 0)) / (FILL(requests, 0) + FILL(elb5xx, 0))"
    )


def test_a_service_measured_at_its_functions_gets_slo_and_golden_signal_widgets(
    write_config: ConfigWriter,
) -> None:
    def serverless(config: dict[str, Any]) -> None:
        service = config["resilience:services"][2]  # tracking-api: drop its load balancer
        service["resources"]["primary"].pop("alb")
        service["alarms"] = {}
        service.pop("dns")  # no load balancer, no failover record

    result = synth(load_file(write_config(serverless)))
    dashboards = {
        d["inputs"]["dashboardName"]: json.loads(d["inputs"]["dashboardBody"])
        for d in resources(result, "aws:cloudwatch/dashboard:Dashboard")
    }
    widgets = dashboards["reskflow-primary-tracking-api"]["widgets"]
    titles = [w["properties"].get("title", "") for w in widgets]
    assert "Error budget burn rate (1h)" in titles
    assert "Duration" in titles
    burn = next(w for w in widgets if w["properties"].get("title") == "Error budget burn rate (1h)")
    assert burn["properties"]["metrics"][-1][0]["expression"] == (
        "((FILL(e0,0))/(FILL(i0,0)))/0.0001"
    )
    names = {c["inputs"]["alarmName"] for c in resources(result, COMPOSITE)}
    assert "reskflow-primary-tracking-api-availability-page-1h" in names
