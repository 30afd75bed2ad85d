"""List prices used for the monitoring and failover cost estimates (USD per month, us-east-1).
Other regions differ by a few percent; free-tier allowances (10 alarm metrics, 3 dashboards,
the first 50 health checks of AWS endpoints) are the account's and are not subtracted.
tests/aws_prices.py writes the published figures down independently and tests/test_pricing.py
holds these to them."""

from __future__ import annotations

# Amazon CloudWatch pricing (https://aws.amazon.com/cloudwatch/pricing/), Alarms: $0.10 per
# alarm metric at standard resolution, $0.30 at high resolution, $0.50 per composite alarm;
# $3.00 per dashboard. What is billed (CloudWatch User Guide, "Analyzing, optimizing, and
# reducing CloudWatch costs"): "a metric alarm that references one metric incurs one
# alarm-metric cost per hour"; with metric math "you incur a cost for each alarm-metric
# that's referenced in the metric math expression"; "Composite alarms incur a standard cost
# per hour, regardless of how many other alarms they evaluate."
STANDARD_ALARM_METRIC = 0.10
HIGH_RESOLUTION_ALARM_METRIC = 0.30
COMPOSITE_ALARM = 0.50
DASHBOARD = 3.00


def metric_alarm(metric_count: int, period_seconds: int) -> float:
    """A metric alarm is billed per metric it reads, expressions excluded, at the
    high-resolution price when its period is under a minute (PutMetricAlarm, Period:
    "Specifying 10, 20, or 30 also sets this alarm as a high-resolution alarm, which has a
    higher charge than other alarms"). An anomaly detection alarm would count two more
    metrics ("plus two additional metrics, one for the upper and lower band metrics"); the
    bundle creates none."""
    unit = HIGH_RESOLUTION_ALARM_METRIC if period_seconds < 60 else STANDARD_ALARM_METRIC
    return round(unit * metric_count, 2)


# Amazon Route 53 pricing (https://aws.amazon.com/route53/pricing/), Health checks, per check
# per month for AWS endpoints: a basic check $0.50 (calculated and CloudWatch-alarm checks
# are billed as basic), plus $1.00 for each optional feature (HTTPS, string matching, the
# 10-second fast interval, latency measurement); a non-AWS endpoint costs $0.75 plus $2.00
# per feature. The checks here probe the stack's own load balancers: AWS endpoints (Route 53
# Developer Guide, health check values: "If you specify a non-AWS endpoint, an additional
# charge applies"). Not found in the stored sources: what a RECOVERY_CONTROL (ARC routing
# control) check costs; it is counted as a basic check.
ROUTE53_HEALTH_CHECK = 0.50
ROUTE53_OPTIONAL_FEATURE = 1.00
# Route 53 ARC: a cluster costs USD 2.50 an hour, whatever its routing controls.
ARC_CLUSTER = round(2.50 * 730, 2)


def https_health_check(interval_seconds: int) -> float:
    """An HTTPS check of an AWS endpoint: basic, plus HTTPS, plus the fast interval when it
    checks every 10 s (Route 53 allows 10 or 30)."""
    features = 1 + (1 if interval_seconds < 30 else 0)
    return ROUTE53_HEALTH_CHECK + features * ROUTE53_OPTIONAL_FEATURE


# A fence republished every minute (components/dns_failover.py): 43,800 EventBridge Scheduler
# invocations a month at USD 1.00 per million (https://aws.amazon.com/eventbridge/pricing/,
# read 2026-12: "$1.00/million scheduled invocations", after 14 million free a month) and as
# many CloudWatch PutMetricData requests at USD 0.01 per 1,000 (CloudWatch pricing, "API
# requests"; the first million a month free). Free tiers are not subtracted.
FENCE_INVOCATIONS_PER_MONTH = 60 * 730
FENCE_REPUBLISH = round(FENCE_INVOCATIONS_PER_MONTH * (1.00 / 1_000_000 + 0.01 / 1_000), 2)
