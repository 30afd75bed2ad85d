"""CloudWatch list prices used for the monitoring cost estimate (USD per month, us-east-1,
https://aws.amazon.com/cloudwatch/pricing/, read 2026-11). Other regions differ by a few
percent; free-tier allowances (10 alarm metrics, 3 dashboards) are not subtracted."""

from __future__ import annotations

STANDARD_ALARM_METRIC = 0.10  # per metric in a standard-resolution alarm (metric math: each)
HIGH_RESOLUTION_ALARM_METRIC = 0.30  # period under 60 s
COMPOSITE_ALARM = 0.50
DASHBOARD = 3.00


def metric_alarm(metric_count: int, period_seconds: int) -> float:
    """A metric alarm is billed per metric it reads, expressions excluded."""
    unit = HIGH_RESOLUTION_ALARM_METRIC if period_seconds < 60 else STANDARD_ALARM_METRIC
    return round(unit * metric_count, 2)
