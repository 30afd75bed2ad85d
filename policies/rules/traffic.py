"""Rules for traffic and capacity: failover records follow a health check, Auto Scaling
groups survive a zone and are judged by their load balancer, scaling triggers act."""

from __future__ import annotations

from collections.abc import Iterator

from policies.rules.core import Framework, ResourceView, Rule, Severity, holds_opaque, opaque

RECORD = "aws:route53/record:Record"
GROUP = "aws:autoscaling/group:Group"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"


def _failover_health_check(resource: ResourceView) -> Iterator[str]:
    if not resource.props.get("failoverRoutingPolicies"):
        return
    if not resource.props.get("healthCheckId"):
        yield (
            f"{resource.name}: a failover record without a health check never fails over "
            "(Route 53 treats it as always healthy)"
        )


# Clients and resolvers keep an answer this long; a failover takes at least that.
MAX_FAILOVER_TTL = 60


def _failover_ttl(resource: ResourceView) -> Iterator[str]:
    if not resource.props.get("failoverRoutingPolicies") or resource.props.get("aliases"):
        return  # an alias answers with its target's TTL (60 s for load balancers)
    ttl = resource.props.get("ttl")
    if opaque(ttl):
        return
    if not isinstance(ttl, int) or ttl > MAX_FAILOVER_TTL:
        yield f"{resource.name}: TTL {ttl} s; a failover waits that long in resolvers (<= 60 s)"


def _elb_health_check(resource: ResourceView) -> Iterator[str]:
    health_check = resource.props.get("healthCheckType")
    if opaque(health_check):
        return
    if resource.props.get("targetGroupArns") and health_check != "ELB":
        yield (
            f"{resource.name}: behind a load balancer but replaces instances on EC2 status "
            "only; use the ELB health check"
        )


def _zones(resource: ResourceView) -> Iterator[str]:
    subnets = resource.props.get("vpcZoneIdentifiers") or []
    zones = resource.props.get("availabilityZones") or []
    if holds_opaque(subnets) or holds_opaque(zones):
        return  # subnets or zones not known yet cannot be counted apart
    if len(set(subnets)) < 2 and len(set(zones)) < 2:
        yield f"{resource.name}: launches into one subnet/zone; a zone outage takes it down"


def _launch_template(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("launchConfiguration") or not (
        resource.props.get("launchTemplate") or resource.props.get("mixedInstancesPolicy")
    ):
        yield f"{resource.name}: does not use an EC2 launch template"


def _https_check_interval(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("type") not in ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH"):
        return
    interval = resource.props.get("requestInterval", 30)
    threshold = resource.props.get("failureThreshold", 3)  # an opaque one is not an int
    if isinstance(interval, int) and isinstance(threshold, int) and interval * threshold > 90:
        yield (
            f"{resource.name}: needs {interval * threshold} s of failures to notice an outage "
            "(interval x threshold); keep it within 90 s"
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="aws-route53-failover-record-has-health-check",
        description="Every Route 53 failover record follows a health check.",
        severity=Severity.HIGH,
        remediation="Set health_check_id on both records of the pair (components/dns_failover).",
        url="https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-configuring.html",
        check=_failover_health_check,
        resource_types=(RECORD,),
        frameworks=(Framework("AWS Well-Architected", "REL10-BP03"), Framework("SOC 2", "A1.2")),
    ),
    Rule(
        id="aws-route53-failover-record-ttl-at-most-60s",
        description="Failover records that are not aliases have a TTL of at most 60 seconds.",
        severity=Severity.MEDIUM,
        remediation="Use an alias record (as components/dns_failover.py does) or ttl <= 60.",
        url="https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-configuring.html",
        check=_failover_ttl,
        resource_types=(RECORD,),
        frameworks=(Framework("AWS Well-Architected", "REL10-BP03"),),
    ),
    Rule(
        id="aws-route53-health-check-detects-within-90s",
        description="Endpoint health checks notice an outage within 90 seconds.",
        severity=Severity.MEDIUM,
        remediation="Lower failover.health_check.interval_seconds (10) or failure_threshold.",
        url="https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html",
        check=_https_check_interval,
        resource_types=(HEALTH_CHECK,),
        frameworks=(Framework("AWS Well-Architected", "REL11-BP01"),),
    ),
    Rule(
        id="aws-autoscaling-group-elb-health-check",
        description="Auto Scaling groups behind a load balancer use ELB health checks.",
        severity=Severity.MEDIUM,
        remediation="Set health_check_type='ELB' (the bundle does when a target group is set).",
        url="https://docs.aws.amazon.com/securityhub/latest/userguide/autoscaling-controls.html",
        check=_elb_health_check,
        resource_types=(GROUP,),
        frameworks=(Framework("AWS FSBP", "AutoScaling.1"), Framework("SOC 2", "A1.2")),
    ),
    Rule(
        id="aws-autoscaling-group-multi-az",
        description="Auto Scaling groups span at least two subnets (zones).",
        severity=Severity.MEDIUM,
        remediation="List two or more subnets in asg.subnet_ids or resilience:network.",
        url="https://docs.aws.amazon.com/securityhub/latest/userguide/autoscaling-controls.html",
        check=_zones,
        resource_types=(GROUP,),
        frameworks=(
            Framework("AWS FSBP", "AutoScaling.2"),
            Framework("AWS Well-Architected", "REL10-BP01"),
        ),
    ),
    Rule(
        id="aws-autoscaling-group-launch-template",
        description="Auto Scaling groups launch from EC2 launch templates.",
        severity=Severity.MEDIUM,
        remediation="Set asg.launch_template; launch configurations are retired by AWS.",
        url="https://docs.aws.amazon.com/securityhub/latest/userguide/autoscaling-controls.html",
        check=_launch_template,
        resource_types=(GROUP,),
        frameworks=(Framework("AWS FSBP", "AutoScaling.9"),),
    ),
)
