"""The cost estimates against AWS's published prices (tests/aws_prices.py quotes the pages):
CloudWatch alarms and dashboards, Route 53 health checks. The expected figures are literal
numbers, so a wrong price in components/pricing.py fails here."""

from __future__ import annotations

from typing import Any

import pytest

from components import pricing
from model.loader import load_file
from scripts.engine import SynthResult, synth
from tests import aws_prices
from tests.conftest import ConfigWriter, resources


@pytest.mark.parametrize(
    ("metrics", "period", "usd"),
    [
        (1, 60, 0.10),  # one metric, standard resolution
        (1, 300, 0.10),
        (2, 60, 0.20),  # metric math over 2 metrics: each is billed
        (3, 3_600, 0.30),
        (10, 60, 1.00),  # the most metrics one metric-math alarm can read
        (1, 10, 0.30),  # "Specifying 10, 20, or 30 also sets this alarm as a high-resolution alarm"
        (1, 30, 0.30),
        (2, 20, 0.60),
    ],
)
def test_a_metric_alarm_costs_its_metrics_at_its_resolution(
    metrics: int, period: int, usd: float
) -> None:
    assert pricing.metric_alarm(metrics, period) == usd


def test_composite_alarms_dashboards_and_health_checks_cost_the_published_prices() -> None:
    assert pricing.COMPOSITE_ALARM == 0.50
    assert pricing.DASHBOARD == 3.00
    # Route 53, an AWS endpoint: basic $0.50; HTTPS is an optional feature ($1.00), and so
    # is the fast (10-second) interval.
    assert pricing.ROUTE53_HEALTH_CHECK == 0.50
    assert pricing.https_health_check(30) == 1.50
    assert pricing.https_health_check(10) == 2.50


def test_the_test_prices_are_the_published_ones() -> None:
    """The figures the other tests price resources with, once more as plain numbers."""
    assert (
        aws_prices.STANDARD_ALARM_METRIC,
        aws_prices.HIGH_RESOLUTION_ALARM_METRIC,
        aws_prices.COMPOSITE_ALARM,
        aws_prices.DASHBOARD,
        aws_prices.HEALTH_CHECK,
        aws_prices.OPTIONAL_FEATURE,
    ) == (0.10, 0.30, 0.50, 3.00, 0.50, 1.00)
    band = {
        "type": aws_prices.METRIC_ALARM,
        "inputs": {
            "metricQueries": [
                {"id": "ad1", "expression": "ANOMALY_DETECTION_BAND(m1, 2)"},
                {"id": "m1", "metric": {"metricName": "CPUUtilization", "period": 60}},
            ]
        },
    }
    # "plus two additional metrics": one metric, 3 alarm metrics.
    assert aws_prices.alarm_usd(band) == 0.30


def health_checks(result: SynthResult) -> list[dict[str, Any]]:
    return resources(result, aws_prices.HEALTH_CHECK_TYPE)


def test_health_checks_cost_what_route53_bills(synthesized: dict[str, SynthResult]) -> None:
    """ReskFlow's primary: per service, an HTTPS check of its load balancer every 10 s
    ($0.50 + $1.00 HTTPS + $1.00 fast interval) and a calculated check ($0.50); one fence
    check on a CloudWatch alarm ($0.50). The ALBs are in the stack's own account: AWS
    endpoints, not the $0.75 + $2.00-per-feature price of a non-AWS endpoint."""
    result = synthesized["primary"]
    checks = health_checks(result)
    kinds = sorted((c["inputs"]["type"], c["inputs"].get("requestInterval")) for c in checks)
    assert kinds == [
        ("CALCULATED", None),
        ("CALCULATED", None),
        ("CALCULATED", None),
        ("CLOUDWATCH_METRIC", None),
        ("HTTPS", 10),
        ("HTTPS", 10),
        ("HTTPS", 10),
    ]
    assert result.outputs["recovery"]["health_checks_monthly_usd"] == 9.50  # 3 x 2.50 + 4 x 0.50
    for stack in ("primary", "dr"):
        outputs = synthesized[stack].outputs["recovery"]
        billed = sum(aws_prices.health_check_usd(c) for c in health_checks(synthesized[stack]))
        assert outputs["health_checks_monthly_usd"] == pytest.approx(billed), stack


def test_a_fence_costs_its_schedule_and_its_datapoints(synthesized: dict[str, SynthResult]) -> None:
    """Every minute of a 730-hour month, one EventBridge Scheduler invocation ("$1.00/million
    scheduled invocations", Amazon EventBridge pricing) and one PutMetricData request
    ("$0.01 per 1,000 requests", Amazon CloudWatch pricing, API requests): 43,800 of each,
    $0.0438 + $0.438, free tiers not subtracted."""
    for stack in ("primary", "dr"):
        assert synthesized[stack].outputs["recovery"]["fence_monthly_usd"] == 0.48


def test_a_30_second_check_drops_the_fast_interval_feature(write_config: ConfigWriter) -> None:
    def slower(config: dict[str, Any]) -> None:
        config["resilience:failover"]["health_check"]["interval_seconds"] = 30

    result = synth(load_file(write_config(slower)))
    https = [c for c in health_checks(result) if c["inputs"]["type"] == "HTTPS"]
    assert {c["inputs"]["requestInterval"] for c in https} == {30}
    # 3 x ($0.50 + $1.00 HTTPS) + 4 basic checks x $0.50
    assert result.outputs["recovery"]["health_checks_monthly_usd"] == 6.50
