"""AWS-shaped identifiers for the offline engine.

Under `pulumi.runtime.set_mocks` no provider runs, so the engine computes what AWS would
return: physical names (Pulumi autonaming: `<logical>-<7 hex>`), ids and ARNs in the format
of each service, in the region of the resource's provider. Everything derives from a hash of
(type, logical name, region), so the same program always gives the same values.

A type without an entry still gets a well-formed ARN from the generic rule; an entry is
needed where AWS's format differs (global services, ids that are ARNs, URLs).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ACCOUNT_ID = "123456789012"  # the account id AWS uses in its own documentation
PARTITION = "aws"


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def stable_uuid(*parts: str) -> str:
    return str(uuid.UUID(digest(*parts)[:32]))


@dataclass(frozen=True)
class Ctx:
    """What a shape function knows about one resource."""

    typ: str
    name: str  # logical name
    region: str
    inputs: Mapping[str, Any]
    physical: str  # the resource's physical name (given or autonamed)

    @property
    def seed(self) -> str:
        return digest(self.typ, self.name, self.region)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT_ID}:{resource}"


# Shape: ctx -> (id, computed outputs). Outputs are merged over the inputs.
Shape = Callable[[Ctx], tuple[str, dict[str, Any]]]


def _kms_key(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    key_id = "mrk-" + ctx.seed[:32] if ctx.inputs.get("multiRegion") else stable_uuid(ctx.seed)
    return key_id, {"keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


def _kms_replica_key(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    # A replica has the primary's key id; only the region in its ARN differs.
    primary_arn = str(ctx.inputs.get("primaryKeyArn", ""))
    key_id = primary_arn.rsplit("/", 1)[-1] if "/" in primary_arn else "mrk-" + ctx.seed[:32]
    return key_id, {"keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


def _named(service: str, template: str, *, regional: bool = True, id_is_arn: bool = False) -> Shape:
    def shape(ctx: Ctx) -> tuple[str, dict[str, Any]]:
        arn = ctx.arn(
            service,
            template.format(name=ctx.physical, uuid=stable_uuid(ctx.seed)),
            regional=regional,
        )
        return (arn if id_is_arn else ctx.physical), {"arn": arn}

    return shape


def _s3_bucket(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    bucket = ctx.physical
    return bucket, {
        "arn": f"arn:{PARTITION}:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{ctx.region}.amazonaws.com",
        "hostedZoneId": "Z3AQBSTGFYJSTF",
        "region": ctx.region,
    }


def _sqs_queue(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    url = f"https://sqs.{ctx.region}.amazonaws.com/{ACCOUNT_ID}/{ctx.physical}"
    return url, {"arn": ctx.arn("sqs", ctx.physical), "url": url}


def _rds(kind: str, port: int) -> Shape:
    def shape(ctx: Ctx) -> tuple[str, dict[str, Any]]:
        host = f"{ctx.physical}.{ctx.seed[:12]}.{ctx.region}.rds.amazonaws.com"
        return ctx.physical, {
            "arn": ctx.arn("rds", f"{kind}:{ctx.physical}"),
            "address": host,
            "endpoint": f"{host}:{port}",
            "resourceId": f"{'cluster' if kind == 'cluster' else 'db'}-{ctx.seed[:26].upper()}",
            # The version it runs (DescribeDBInstances EngineVersion): the requested one; a
            # read replica runs its source's, which the offline engine does not know.
            **(
                {"engineVersionActual": ctx.inputs["engineVersion"]}
                if ctx.inputs.get("engineVersion")
                else {}
            ),
        }

    return shape


def _uuid_id(service: str, template: str) -> Shape:
    def shape(ctx: Ctx) -> tuple[str, dict[str, Any]]:
        ident = stable_uuid(ctx.seed)
        return ident, {"arn": ctx.arn(service, template.format(id=ident, name=ctx.physical))}

    return shape


def _schedule(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    group = str(ctx.inputs.get("groupName") or "default")
    return f"{group}/{ctx.physical}", {
        "arn": ctx.arn("scheduler", f"schedule/{group}/{ctx.physical}"),
        "groupName": group,
    }


def _route53_record(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    # The provider's id: zone, name, type and set identifier joined by "_".
    parts = [ctx.inputs.get(k, "") for k in ("zoneId", "name", "type", "setIdentifier")]
    return "_".join(str(p) for p in parts if p), {"fqdn": ctx.inputs.get("name", "")}


def _asg_group(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    resource = f"autoScalingGroup:{stable_uuid(ctx.seed)}:autoScalingGroupName/{ctx.physical}"
    return ctx.physical, {"arn": ctx.arn("autoscaling", resource)}


def _scaling_policy(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    owner = ctx.inputs.get("autoscalingGroupName") or ctx.inputs.get("resourceId", "")
    scope = "autoScalingGroupName" if ctx.inputs.get("autoscalingGroupName") else "resource"
    resource = f"scalingPolicy:{stable_uuid(ctx.seed)}:{scope}/{owner}:policyName/{ctx.physical}"
    return ctx.physical, {"arn": ctx.arn("autoscaling", resource)}


def _scalable_target(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    resource = f"scalable-target/{ctx.seed[:28]}"
    return str(ctx.inputs.get("resourceId", "")), {
        "arn": ctx.arn("application-autoscaling", resource)
    }


# ARC's control plane is global: its ARNs carry no region.
ARC_CLUSTER_REGIONS = ("ap-northeast-1", "ap-southeast-2", "eu-west-1", "us-east-1", "us-west-2")


def _arc(path: str) -> Shape:
    """Clusters and control panels are top-level; controls and rules live in a panel."""

    def shape(ctx: Ctx) -> tuple[str, dict[str, Any]]:
        panel = str(ctx.inputs.get("controlPanelArn", ""))
        if path in ("routingcontrol", "safetyrule") and panel:
            arn = f"{panel}/{path}/{ctx.seed[:16]}"
        else:
            arn = ctx.arn("route53-recovery-control", f"{path}/{ctx.seed[:32]}", regional=False)
        outputs: dict[str, Any] = {"arn": arn, "status": "DEPLOYED"}
        if path == "cluster":
            host = f"{ctx.seed[:8]}.route53-recovery-cluster"
            outputs["clusterEndpoints"] = [
                {"endpoint": f"https://{host}.{r}.amazonaws.com/v1", "region": r}
                for r in ARC_CLUSTER_REGIONS
            ]
        return arn, outputs

    return shape


def _guardduty_detector(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    detector = ctx.seed[:32]  # GuardDuty detector ids are 32 hex characters
    return detector, {"arn": ctx.arn("guardduty", f"detector/{detector}"), "accountId": ACCOUNT_ID}


def _global_billing(kind: str) -> Shape:
    """Cost Explorer (anomaly detection) ARNs carry no region; the id is the ARN."""

    def shape(ctx: Ctx) -> tuple[str, dict[str, Any]]:
        arn = ctx.arn("ce", f"{kind}/{stable_uuid(ctx.seed)}", regional=False)
        return arn, {"arn": arn}

    return shape


def _budget(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    arn = ctx.arn("budgets", f"budget/{ctx.physical}", regional=False)
    return f"{ACCOUNT_ID}:{ctx.physical}", {"arn": arn, "accountId": ACCOUNT_ID}


def _security_hub(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    return ACCOUNT_ID, {"arn": ctx.arn("securityhub", "hub/default")}


# Physical-name input of each type, where it is not `name`.
NAME_FIELDS: dict[str, str] = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:rds/instance:Instance": "identifier",
    "aws:rds/cluster:Cluster": "clusterIdentifier",
    "aws:rds/globalCluster:GlobalCluster": "globalClusterIdentifier",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": "alarmName",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
    "aws:accessanalyzer/analyzer:Analyzer": "analyzerName",
}

# Types whose physical name AWS derives from nothing the user names (no autonaming).
UNNAMED_TYPES = frozenset(
    {
        "aws:kms/key:Key",
        "aws:kms/replicaKey:ReplicaKey",
        "aws:route53/healthCheck:HealthCheck",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:guardduty/detector:Detector",
        "aws:securityhub/account:Account",
    }
)

SHAPES: dict[str, Shape] = {
    "aws:kms/key:Key": _kms_key,
    "aws:kms/replicaKey:ReplicaKey": _kms_replica_key,
    "aws:kms/alias:Alias": _named("kms", "{name}"),
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:sns/topic:Topic": _named("sns", "{name}", id_is_arn=True),
    "aws:sns/topicSubscription:TopicSubscription": _uuid_id("sns", "subscription:{id}"),
    "aws:sqs/queue:Queue": _sqs_queue,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named("cloudwatch", "alarm:{name}"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _named("cloudwatch", "alarm:{name}"),
    "aws:cloudwatch/dashboard:Dashboard": _named("cloudwatch", "dashboard/{name}", regional=False),
    "aws:cloudwatch/logGroup:LogGroup": _named("logs", "log-group:{name}"),
    "aws:iam/role:Role": _named("iam", "role/{name}", regional=False),
    "aws:iam/policy:Policy": _named("iam", "policy/{name}", regional=False, id_is_arn=True),
    "aws:backup/vault:Vault": _named("backup", "backup-vault:{name}"),
    "aws:backup/plan:Plan": _uuid_id("backup", "backup-plan:{id}"),
    "aws:rds/instance:Instance": _rds("db", 5432),
    "aws:rds/cluster:Cluster": _rds("cluster", 5432),
    "aws:dynamodb/table:Table": _named("dynamodb", "table/{name}"),
    "aws:lambda/function:Function": _named("lambda", "function:{name}"),
    "aws:route53/healthCheck:HealthCheck": _uuid_id("route53", "healthcheck/{id}"),
    # "arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>" (EventBridge Scheduler
    # API Reference, GetSchedule: Arn); the provider's id is "<group>/<name>".
    "aws:scheduler/schedule:Schedule": _schedule,
    "aws:route53/record:Record": _route53_record,
    "aws:autoscaling/group:Group": _asg_group,
    "aws:autoscaling/policy:Policy": _scaling_policy,
    "aws:appautoscaling/policy:Policy": _scaling_policy,
    "aws:appautoscaling/target:Target": _scalable_target,
    "aws:route53recoverycontrol/cluster:Cluster": _arc("cluster"),
    "aws:route53recoverycontrol/controlPanel:ControlPanel": _arc("controlpanel"),
    "aws:route53recoverycontrol/routingControl:RoutingControl": _arc("routingcontrol"),
    "aws:route53recoverycontrol/safetyRule:SafetyRule": _arc("safetyrule"),
    "aws:cloudtrail/trail:Trail": _named("cloudtrail", "trail/{name}", id_is_arn=True),
    # Service Authorization Reference, Amazon EventBridge, resource type rule-on-default-event-bus:
    # arn:${Partition}:events:${Region}:${Account}:rule/${RuleName} (the id is the name).
    "aws:cloudwatch/eventRule:EventRule": _named("events", "rule/{name}"),
    "aws:cfg/conformancePack:ConformancePack": _named(
        "config", "conformance-pack/{name}/conformance-pack-{uuid}"
    ),
    "aws:guardduty/detector:Detector": _guardduty_detector,
    "aws:accessanalyzer/analyzer:Analyzer": _named("access-analyzer", "analyzer/{name}"),
    "aws:securityhub/account:Account": _security_hub,
    "aws:budgets/budget:Budget": _budget,
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": _global_billing("anomalymonitor"),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": _global_billing(
        "anomalysubscription"
    ),
}


def _generic(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    # "aws:backup/vaultLockConfiguration:VaultLockConfiguration" -> service "backup".
    module = ctx.typ.split(":")[1].split("/")[0]
    kind = ctx.typ.rsplit(":", 1)[-1].lower()
    return ctx.physical, {"arn": ctx.arn(module, f"{kind}/{ctx.physical}")}


def autoname(typ: str, name: str, region: str) -> str:
    """Pulumi's autonaming: the logical name plus a 7-character random suffix."""
    return f"{name}-{digest('autoname', typ, name, region)[:7]}"


def new_resource(
    typ: str, name: str, inputs: Mapping[str, Any], region: str
) -> tuple[str, dict[str, Any]]:
    """(id, outputs) for an AWS resource, as its provider would return them."""
    field = NAME_FIELDS.get(typ, "name")
    outputs = dict(inputs)
    given = inputs.get(field)
    if isinstance(given, str) and given:
        physical = given
    elif typ in UNNAMED_TYPES:
        physical = ""
    else:
        physical = autoname(typ, name, region)
        outputs[field] = physical
    ctx = Ctx(typ=typ, name=name, region=region, inputs=inputs, physical=physical)
    ident, computed = SHAPES.get(typ, _generic)(ctx)
    outputs.update(computed)
    outputs.setdefault("region", region)
    return ident, outputs


# Canonical hosted zone of Application Load Balancers per region (alias targets).
ELB_ZONE_IDS = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-1": "Z368ELLRRE2KJ0",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-central-1": "Z215JYRZR1TBD5",
}


def _load_balancer(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    arn = str(args.get("arn", ""))
    if ":loadbalancer/app/" not in arn:
        raise LookupError(f"getLoadBalancer needs an ALB ARN, got {arn!r}")
    name, _ = arn.split(":loadbalancer/app/", 1)[1].split("/")
    number = int(digest("elb", arn)[:8], 16) % 10**10
    return {
        "arn": arn,
        "name": name,
        "dnsName": f"{name}-{number:010d}.{region}.elb.amazonaws.com".lower(),
        "zoneId": ELB_ZONE_IDS.get(region, "Z" + digest("zone", region)[:13].upper()),
        "loadBalancerType": "application",
        "id": arn,
    }


# GuardDuty API Reference, CreateDetector: "All data sources are enabled in a new detector by
# default", "with an exception to RUNTIME_MONITORING". What a detector someone else created
# (a delegated administrator, the console) reports.
DEFAULT_DETECTOR_FEATURES = {
    "S3_DATA_EVENTS": "ENABLED",
    "EKS_AUDIT_LOGS": "ENABLED",
    "EBS_MALWARE_PROTECTION": "ENABLED",
    "RDS_LOGIN_EVENTS": "ENABLED",
    "LAMBDA_NETWORK_LOGS": "ENABLED",
    "RUNTIME_MONITORING": "DISABLED",
}


def _existing_detector(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The account's single detector in the region (GetDetector after ListDetectors)."""
    detector = str(args.get("id") or digest("existing-detector", region)[:32])
    return {
        "id": detector,
        "arn": f"arn:{PARTITION}:guardduty:{region}:{ACCOUNT_ID}:detector/{detector}",
        "status": "ENABLED",
        "findingPublishingFrequency": "SIX_HOURS",  # GuardDuty's default
        "serviceRoleArn": (
            f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/aws-service-role/"
            "guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty"
        ),
        "features": [
            {"name": name, "status": status, "additionalConfigurations": []}
            for name, status in DEFAULT_DETECTOR_FEATURES.items()
        ],
        "region": region,
        "tags": {},
    }


def _enabled_standards(region: str) -> dict[str, Any]:
    """Security Hub enabled by someone else with its defaults (EnableSecurityHub,
    EnableDefaultStandards: "AWS Foundational Security Best Practices" and "CIS AWS
    Foundations Benchmark v1.2.0"); GetEnabledStandards lists their subscriptions."""
    standards = [
        (
            f"arn:{PARTITION}:securityhub:{region}::standards/"
            "aws-foundational-security-best-practices/v/1.0.0",
            "aws-foundational-security-best-practices/v/1.0.0",
        ),
        (
            f"arn:{PARTITION}:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
            "cis-aws-foundations-benchmark/v/1.2.0",
        ),
    ]
    return {
        "standardsSubscriptions": [
            {
                "standardsArn": arn,
                "standardsSubscriptionArn": (
                    f"arn:{PARTITION}:securityhub:{region}:{ACCOUNT_ID}:subscription/{path}"
                ),
                "standardsStatus": "READY",
                "standardsControlsUpdatable": "READY_FOR_UPDATES",
                "standardsInputs": {},
                "standardsStatusReasons": [],
            }
            for arn, path in standards
        ],
        "region": region,
    }


def call(token: str, region: str, args: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Results of the data sources the components use. An unknown one is an error: a silent
    empty result would make a graph that AWS would never produce."""
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "accountId": ACCOUNT_ID,
            "arn": f"arn:{PARTITION}:sts::{ACCOUNT_ID}:assumed-role/resilience-offline/synth",
            "userId": "AROAOFFLINE00000000000:synth",
            "id": ACCOUNT_ID,
        }
    if token == "aws:index/getPartition:getPartition":
        return {
            "partition": PARTITION,
            "dnsSuffix": "amazonaws.com",
            "reverseDnsPrefix": "com.amazonaws",
            "id": PARTITION,
        }
    if token == "aws:index/getRegion:getRegion":
        return {
            "region": region,
            "name": region,
            "endpoint": f"ec2.{region}.amazonaws.com",
            "description": region,
            "id": region,
        }
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        names = [f"{region}{suffix}" for suffix in "abc"]
        return {
            "names": names,
            "zoneIds": [f"{region[:2]}{i}-az{i}" for i in (1, 2, 3)],
            "id": region,
        }
    if token == "aws:lb/getLoadBalancer:getLoadBalancer":
        return _load_balancer(region, args or {})
    if token == "aws:guardduty/getDetector:getDetector":
        return _existing_detector(region, args or {})
    if token == "aws:securityhub/getEnabledStandards:getEnabledStandards":
        return _enabled_standards(region)
    raise LookupError(f"the offline engine has no result for data source {token}")
