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


# Route 53 (https://aws.amazon.com/route53/pricing/, read 2026-11), per health check per month
# for AWS endpoints: a basic check (calculated and CloudWatch-alarm checks are billed as
# basic), plus each optional feature (HTTPS, the 10-second fast interval).
ROUTE53_HEALTH_CHECK = 0.50
ROUTE53_OPTIONAL_FEATURE = 1.00
# Route 53 ARC: a cluster costs USD 2.50 an hour, whatever its routing controls.
ARC_CLUSTER = round(2.50 * 730, 2)


def https_health_check(interval_seconds: int) -> float:
    features = 1 + (1 if interval_seconds < 30 else 0)
    return ROUTE53_HEALTH_CHECK + features * ROUTE53_OPTIONAL_FEATURE


# A fence republished every minute (components/dns_failover.py): 43,800 EventBridge Scheduler
# invocations a month at USD 1.00 per million (https://aws.amazon.com/eventbridge/pricing/,
# read 2026-12: "$1.00/million scheduled invocations", after 14 million free a month) and as
# many CloudWatch PutMetricData requests at USD 0.01 per 1,000 (CloudWatch pricing, "API
# requests"; the first million a month free). Free tiers are not subtracted.
FENCE_INVOCATIONS_PER_MONTH = 60 * 730
FENCE_REPUBLISH = round(FENCE_INVOCATIONS_PER_MONTH * (1.00 / 1_000_000 + 0.01 / 1_000), 2)
