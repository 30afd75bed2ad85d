"""AWS's published prices (USD, us-east-1, per month), written down here as numbers, not
imported from components/pricing.py: the tests compare the code's estimates with them, so
a wrong price in the code fails a test.

Amazon CloudWatch pricing (https://aws.amazon.com/cloudwatch/pricing/), Alarms: a
standard-resolution metric alarm $0.10 per alarm metric, a high-resolution one $0.30 per
alarm metric, a composite alarm $0.50; Dashboards: $3.00 per dashboard. The AWS Price List
gives the same: infracost's golden test of aws_cloudwatch_metric_alarm
(internal/providers/terraform/aws/testdata/cloudwatch_metric_alarm_test) prices
"Standard resolution 1 alarm metrics $0.10", "High resolution 1 alarm metrics $0.30",
"Standard resolution 2 alarm metrics $0.20" for a two-metric expression, and its pull
request 235 "Dashboard 3.0000". The free tier ("10 Alarm metrics (only applicable to
Standard resolution alarms that list metrics directly ...)", "3 Custom Dashboards ...") is
the account's, not a stack's: it is not subtracted.

What an alarm is billed for, from the CloudWatch User Guide, "Analyzing, optimizing, and
reducing CloudWatch costs", Metric alarms:
- "a metric alarm that references one metric incurs one alarm-metric cost per hour";
- "If you create a metric alarm that contains a metric math expression, which references
  multiple metrics, you incur a cost for each alarm-metric that's referenced in the metric
  math expression" (the expressions themselves are not metrics);
- an anomaly detection alarm: "you incur a cost for each alarm-metric that's referenced in
  your alarm plus two additional metrics, one for the upper and lower band metrics that the
  anomaly detection model creates" (so one metric counts three);
- "Composite alarms incur a standard cost per hour, regardless of how many other alarms
  they evaluate. Alarms that composite alarms reference in rule expressions incur separate
  costs."
and from the CloudWatch API Reference, PutMetricAlarm, Period: "Specifying 10, 20, or 30
also sets this alarm as a high-resolution alarm, which has a higher charge than other
alarms" (for a metric math alarm, the period of its metrics).

Amazon Route 53 pricing (https://aws.amazon.com/route53/pricing/), Health checks: a basic
check $0.50 per month for an AWS endpoint ($0.75 for a non-AWS endpoint); each optional
feature (HTTPS, string matching, fast interval, latency measurement) $1.00 per month for an
AWS endpoint ($2.00 for a non-AWS endpoint); calculated and CloudWatch-alarm checks are
billed as basic checks (infracost bills every type one basic check). The Route 53
Developer Guide, "Values that you specify when you create or update health checks": "If
you specify a non-AWS endpoint, an additional charge applies. For more information,
including a definition of AWS endpoints, see 'Health Checks' on the Route 53 Pricing
page." The checks here probe each region's Application
Load Balancer, in the stack's own account: an AWS endpoint. The AWS Price List agrees
(infracost's golden test of aws_route53_health_check: "Health check 1 months $0.50",
"Optional features 1 months $1.00" for an HTTPS check; $0.75 and $2.00 with a non-AWS
endpoint). The pricing page itself is not in the stored sources: its figures are read here
from those copies (a risk the report lists). The first 50 checks of AWS endpoints are free
per account (the Price List's tier starts at 50): not subtracted either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# CloudWatch
STANDARD_ALARM_METRIC = 0.10
HIGH_RESOLUTION_ALARM_METRIC = 0.30
COMPOSITE_ALARM = 0.50
DASHBOARD = 3.00
ANOMALY_BAND_METRICS = 2  # "plus two additional metrics"

# Route 53, AWS endpoints
HEALTH_CHECK = 0.50
OPTIONAL_FEATURE = 1.00
# Route 53, non-AWS endpoints (not used by the stacks; kept to show which price is not ours)
NON_AWS_HEALTH_CHECK = 0.75
NON_AWS_OPTIONAL_FEATURE = 2.00

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
HEALTH_CHECK_TYPE = "aws:route53/healthCheck:HealthCheck"


def alarm_usd(resource: Mapping[str, Any]) -> float:
    """What CloudWatch bills a month for this alarm resource of the graph, read from its
    inputs: its metrics (a MetricStat each; expressions are free), two more with an anomaly
    detection band, at the high-resolution price if any period is 10, 20 or 30 s."""
    if resource["type"] == COMPOSITE:
        return COMPOSITE_ALARM
    assert resource["type"] == METRIC_ALARM, resource["type"]
    inputs = resource["inputs"]
    queries = inputs.get("metricQueries") or []
    if queries:
        stats = [q["metric"] for q in queries if "metric" in q]
        metrics = len(stats)
        periods = [s.get("period") for s in stats]
        bands = any("ANOMALY_DETECTION_BAND" in (q.get("expression") or "") for q in queries)
    else:
        metrics, periods, bands = 1, [inputs.get("period")], False
    metrics += ANOMALY_BAND_METRICS if bands else 0
    high = any(p in (10, 20, 30) for p in periods)
    unit = HIGH_RESOLUTION_ALARM_METRIC if high else STANDARD_ALARM_METRIC
    return round(unit * metrics, 2)


def health_check_usd(resource: Mapping[str, Any]) -> float:
    """What Route 53 bills a month for this health check of an AWS endpoint: basic, plus
    HTTPS, string matching, the 10-second interval and latency measurement, each."""
    assert resource["type"] == HEALTH_CHECK_TYPE, resource["type"]
    inputs = resource["inputs"]
    kind = str(inputs.get("type"))
    features = [
        kind.startswith("HTTPS"),
        kind.endswith("STR_MATCH"),
        bool(inputs.get("requestInterval") == 10),
        bool(inputs.get("measureLatency")),
    ]
    return HEALTH_CHECK + OPTIONAL_FEATURE * sum(features)
