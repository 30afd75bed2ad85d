"""Export a resource graph for other tools: AWS (and random) resources as a Terraform plan
JSON (`terraform show -json` of a plan that creates everything), Kubernetes resources as
manifests. checkov reads both (scripts/checkov.py); so can anyone else.

Terraform plan JSON: `planned_values.root_module.resources[]` (address, type, name, values),
`resource_changes[]` (create, with `after_unknown`) and `configuration` (the providers with
their regions, and per resource the `expressions` that reference other resources).

Pulumi's input names are Terraform's attributes in camelCase; Pulumi flattens blocks that
hold one item into an object (Terraform: a list of one block) and pluralises the names of
repeated blocks (`rules` for Terraform's `rule`). TYPES maps every type the bundle creates
(tests/test_checkov.py fails on an AWS type without a mapping): its Terraform type and the
names that do not follow those rules. Map-valued inputs (tags, alarm dimensions, ...) stay
maps: MAP_FIELDS.

References: where an input took another resource's output (the graph's `input:<property>`
edges) and the value is that resource's id, ARN or another output, the value is written the
way Terraform plans a reference to a resource it has yet to create: unknown in the planned
values, `after_unknown` in the change, `references` in the configuration. That is how
checkov links a bucket to its separate encryption, versioning and public access block
resources for its graph checks (CKV2_*).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from scripts.graph import SECRET, UNKNOWN

TERRAFORM_VERSION = "1.9.8"  # the plan format checkov expects; no Terraform runs here
PLAN_FORMAT_VERSION = "1.2"
PROVIDERS = {
    "aws": "registry.terraform.io/hashicorp/aws",
    "random": "registry.terraform.io/hashicorp/random",
}


@dataclass(frozen=True)
class TfType:
    """How one Pulumi type maps to Terraform: the type name and the input paths (dotted
    Pulumi names from the resource's root) whose Terraform names break the rules."""

    name: str
    renames: Mapping[str, str] = field(default_factory=dict)
    # Input paths under which every object is a block, whatever its name (`tags` and
    # `dimensions` in the filter expressions of budgets and cost anomaly subscriptions).
    block_scopes: tuple[str, ...] = ()

    def in_block_scope(self, path: str) -> bool:
        return any(path.startswith(f"{scope}.") for scope in self.block_scopes)


def _t(tf_type: str, /, *, block_scopes: tuple[str, ...] = (), **renames: str) -> TfType:
    """A mapping; renames as keyword arguments, `__` for a dot in the path."""
    return TfType(
        tf_type, {path.replace("__", "."): tf for path, tf in renames.items()}, block_scopes
    )


# Pulumi type token -> Terraform type (and the names that are not camelCase + plural).
TYPES: dict[str, TfType] = {
    "aws:accessanalyzer/analyzer:Analyzer": _t("aws_accessanalyzer_analyzer"),
    "aws:appautoscaling/policy:Policy": _t("aws_appautoscaling_policy"),
    "aws:appautoscaling/scheduledAction:ScheduledAction": _t("aws_appautoscaling_scheduled_action"),
    "aws:appautoscaling/target:Target": _t("aws_appautoscaling_target"),
    "aws:autoscaling/group:Group": _t(
        "aws_autoscaling_group", vpcZoneIdentifiers="vpc_zone_identifier"
    ),
    "aws:autoscaling/policy:Policy": _t("aws_autoscaling_policy"),
    "aws:autoscaling/schedule:Schedule": _t("aws_autoscaling_schedule"),
    "aws:backup/plan:Plan": _t("aws_backup_plan"),
    "aws:backup/regionSettings:RegionSettings": _t("aws_backup_region_settings"),
    "aws:backup/selection:Selection": _t("aws_backup_selection"),
    "aws:backup/vault:Vault": _t("aws_backup_vault"),
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": _t(
        "aws_backup_vault_lock_configuration"
    ),
    "aws:backup/vaultNotifications:VaultNotifications": _t("aws_backup_vault_notifications"),
    "aws:backup/vaultPolicy:VaultPolicy": _t("aws_backup_vault_policy"),
    "aws:budgets/budget:Budget": _t("aws_budgets_budget", block_scopes=("filterExpression",)),
    "aws:cfg/conformancePack:ConformancePack": _t("aws_config_conformance_pack"),
    "aws:cfg/deliveryChannel:DeliveryChannel": _t("aws_config_delivery_channel"),
    "aws:cfg/recorder:Recorder": _t("aws_config_configuration_recorder"),
    "aws:cfg/recorderStatus:RecorderStatus": _t("aws_config_configuration_recorder_status"),
    "aws:cloudtrail/trail:Trail": _t("aws_cloudtrail"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _t("aws_cloudwatch_composite_alarm"),
    "aws:cloudwatch/dashboard:Dashboard": _t("aws_cloudwatch_dashboard"),
    "aws:cloudwatch/eventRule:EventRule": _t("aws_cloudwatch_event_rule"),
    "aws:cloudwatch/eventTarget:EventTarget": _t("aws_cloudwatch_event_target"),
    "aws:cloudwatch/logGroup:LogGroup": _t("aws_cloudwatch_log_group"),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": _t("aws_cloudwatch_log_metric_filter"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _t("aws_cloudwatch_metric_alarm"),
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": _t("aws_ce_anomaly_monitor"),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": _t(
        "aws_ce_anomaly_subscription",
        block_scopes=("thresholdExpression",),
        monitorArnLists="monitor_arn_list",
    ),
    "aws:dynamodb/table:Table": _t("aws_dynamodb_table"),
    "aws:dynamodb/tableReplica:TableReplica": _t("aws_dynamodb_table_replica"),
    "aws:guardduty/detector:Detector": _t("aws_guardduty_detector"),
    "aws:guardduty/detectorFeature:DetectorFeature": _t("aws_guardduty_detector_feature"),
    "aws:iam/role:Role": _t("aws_iam_role"),
    "aws:iam/rolePolicy:RolePolicy": _t("aws_iam_role_policy"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _t("aws_iam_role_policy_attachment"),
    "aws:kms/alias:Alias": _t("aws_kms_alias"),
    "aws:kms/key:Key": _t("aws_kms_key"),
    "aws:kms/replicaKey:ReplicaKey": _t("aws_kms_replica_key"),
    "aws:lambda/function:Function": _t("aws_lambda_function", name="function_name"),
    "aws:lambda/permission:Permission": _t("aws_lambda_permission", function="function_name"),
    "aws:rds/cluster:Cluster": _t("aws_rds_cluster"),
    "aws:rds/clusterInstance:ClusterInstance": _t("aws_rds_cluster_instance"),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": _t("aws_rds_cluster_parameter_group"),
    "aws:rds/globalCluster:GlobalCluster": _t("aws_rds_global_cluster"),
    "aws:rds/instance:Instance": _t("aws_db_instance"),
    "aws:rds/parameterGroup:ParameterGroup": _t("aws_db_parameter_group"),
    "aws:rds/subnetGroup:SubnetGroup": _t("aws_db_subnet_group"),
    "aws:route53/healthCheck:HealthCheck": _t("aws_route53_health_check"),
    "aws:route53/record:Record": _t("aws_route53_record"),
    "aws:route53recoverycontrol/cluster:Cluster": _t("aws_route53recoverycontrolconfig_cluster"),
    "aws:route53recoverycontrol/controlPanel:ControlPanel": _t(
        "aws_route53recoverycontrolconfig_control_panel"
    ),
    "aws:route53recoverycontrol/routingControl:RoutingControl": _t(
        "aws_route53recoverycontrolconfig_routing_control"
    ),
    "aws:route53recoverycontrol/safetyRule:SafetyRule": _t(
        "aws_route53recoverycontrolconfig_safety_rule"
    ),
    "aws:scheduler/schedule:Schedule": _t("aws_scheduler_schedule"),
    "aws:s3/bucket:Bucket": _t("aws_s3_bucket"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _t(
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketLogging:BucketLogging": _t("aws_s3_bucket_logging"),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": _t(
        "aws_s3_bucket_object_lock_configuration"
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _t(
        "aws_s3_bucket_ownership_controls"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _t("aws_s3_bucket_policy"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _t(
        "aws_s3_bucket_public_access_block"
    ),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _t(
        "aws_s3_bucket_replication_configuration"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _t(
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _t("aws_s3_bucket_versioning"),
    "aws:secretsmanager/secret:Secret": _t("aws_secretsmanager_secret"),
    "aws:secretsmanager/secretVersion:SecretVersion": _t("aws_secretsmanager_secret_version"),
    "aws:securityhub/account:Account": _t("aws_securityhub_account"),
    "aws:securityhub/standardsSubscription:StandardsSubscription": _t(
        "aws_securityhub_standards_subscription"
    ),
    "aws:sns/topic:Topic": _t("aws_sns_topic"),
    "aws:sns/topicPolicy:TopicPolicy": _t("aws_sns_topic_policy"),
    "aws:sns/topicSubscription:TopicSubscription": _t(
        "aws_sns_topic_subscription", topic="topic_arn"
    ),
    "aws:sqs/queue:Queue": _t("aws_sqs_queue"),
    "aws:sqs/queuePolicy:QueuePolicy": _t("aws_sqs_queue_policy"),
    "random:index/randomPassword:RandomPassword": _t("random_password"),
}

# Inputs whose value is a map (keys kept as written), wherever they occur.
MAP_FIELDS = frozenset(
    {
        "tags",
        "tagsAll",
        "dimensions",  # metric alarms and their metric queries
        "variables",  # Lambda environment
        "recoveryPointTags",  # backup plan rules
        "backupOptions",  # backup plan advanced settings
        "resourceTypeManagementPreference",
        "resourceTypeOptInPreference",
        "headerParameters",  # EventBridge targets
        "queryStringParameters",
        "inputPaths",
        "triggers",  # Route 53 health checks
        "keepers",  # random
    }
)
# Repeated blocks Terraform itself names in the plural (custom metrics of scaling policies).
PLURAL_BLOCKS = frozenset({"dimensions", "metrics"})
# Plural Pulumi names of repeated blocks whose singular is not the name minus "s"/"ies".
_IRREGULAR_SINGULAR = {
    "aliases": "alias",
    "indexes": "index",
    "statuses": "status",
    "addresses": "address",
    "accesses": "access",
}


def snake(name: str) -> str:
    """Pulumi's camelCase input name -> Terraform's snake_case attribute."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def singular(name: str) -> str:
    """The Terraform name of a repeated block from Pulumi's plural (snake_case)."""
    head, _, last = name.rpartition("_")
    if last in _IRREGULAR_SINGULAR:
        last = _IRREGULAR_SINGULAR[last]
    elif last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("sses", "xes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return f"{head}_{last}" if head else last


def tf_name(key: str, value: Any, path: str, tf_type: TfType) -> str:
    if path in tf_type.renames:
        return tf_type.renames[path]
    name = snake(key)
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return name if key in PLURAL_BLOCKS else singular(name)
    return name


# -- references --------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A resource an input may point at: its address and outputs by value."""

    address: str
    values: Mapping[str, str]  # output value -> Terraform attribute (id, arn, name, ...)


def _output_values(resource: Mapping[str, Any]) -> dict[str, str]:
    """A resource's attributes another input may take, by value: its id, ARN, other
    outputs (not the region, which many resources share) and name."""
    computed = resource["computed"]
    candidates: list[tuple[str, Any]] = [("id", resource.get("id")), ("arn", computed.get("arn"))]
    candidates += [(snake(k), v) for k, v in sorted(computed.items()) if k not in ("arn", "region")]
    candidates.append(("name", resource["inputs"].get("name")))
    by_value: dict[str, str] = {}
    for attribute, value in candidates:
        if isinstance(value, str) and value not in (SECRET, UNKNOWN, "") and value not in by_value:
            by_value[value] = attribute
    return by_value


# -- conversion --------------------------------------------------------------------------


@dataclass
class Converted:
    values: dict[str, Any]
    expressions: dict[str, Any]
    unknown: dict[str, Any]


def _convert_object(
    obj: Mapping[str, Any],
    *,
    prefix: str,
    tf_type: TfType,
    targets: Mapping[str, list[Target]],
) -> Converted:
    out = Converted({}, {}, {})
    for key, value in obj.items():
        path = f"{prefix}{key}"
        name = tf_name(key, value, path, tf_type)
        refs = targets.get(path.split(".", 1)[0], [])
        if value == UNKNOWN:
            out.unknown[name] = True
            continue
        if isinstance(value, dict) and key in MAP_FIELDS and not tf_type.in_block_scope(path):
            out.values[name] = value
        elif isinstance(value, dict):
            inner = _convert_object(value, prefix=f"{path}.", tf_type=tf_type, targets=targets)
            out.values[name] = [inner.values]
            if inner.expressions:
                out.expressions[name] = [inner.expressions]
            if inner.unknown:
                out.unknown[name] = [inner.unknown]
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            items = [
                _convert_object(v, prefix=f"{path}.", tf_type=tf_type, targets=targets)
                for v in value
                if isinstance(v, dict)
            ]
            out.values[name] = [i.values for i in items]
            if any(i.expressions for i in items):
                out.expressions[name] = [i.expressions for i in items]
            if any(i.unknown for i in items):
                out.unknown[name] = [i.unknown for i in items]
        elif isinstance(value, list):
            found = [_reference(v, refs) for v in value]
            if any(found):
                out.values[name] = [None if f else v for v, f in zip(value, found, strict=True)]
                out.expressions[name] = {"references": [r for f in found if f for r in f]}
                out.unknown[name] = [bool(f) for f in found]
            else:
                out.values[name] = value
        else:
            ref = _reference(value, refs)
            if ref:
                out.expressions[name] = {"references": ref}
                out.unknown[name] = True
            else:
                out.values[name] = value
    return out


def _reference(value: Any, targets: list[Target]) -> list[str] | None:
    """Terraform's `references` for a value that is another resource's output."""
    if not isinstance(value, str):
        return None
    # `"${aws_cloudwatch_log_group.x.arn}:*"`: a log group ARN with the streams wildcard.
    candidates = (value, value.removesuffix(":*")) if value.endswith(":*") else (value,)
    for candidate in candidates:
        for target in targets:
            attribute = target.values.get(candidate)
            if attribute:
                return [f"{target.address}.{attribute}", target.address]
    return None


# -- the plan ----------------------------------------------------------------------------


@dataclass
class PlanExport:
    """A graph's Terraform plan, which resource each address is, and what was left out."""

    plan: dict[str, Any]
    addresses: dict[str, str]  # Terraform address -> URN
    types: dict[str, str]  # Terraform address -> Pulumi type
    unmapped: dict[str, int]  # Pulumi type without a mapping -> resources left out


def exportable(resource: Mapping[str, Any]) -> bool:
    """Custom resources that exist in the cloud (no providers, reads or components)."""
    return (
        bool(resource["custom"])
        and not resource.get("read")
        and ":" in resource["type"]
        and (not resource["type"].startswith("pulumi:"))
    )


def _address_names(resources: list[Mapping[str, Any]]) -> dict[str, str]:
    """URN -> Terraform resource name, unique per Terraform type."""
    taken: set[tuple[str, str]] = set()
    names: dict[str, str] = {}
    for resource in resources:
        tf_type = TYPES[resource["type"]].name
        base = re.sub(r"[^A-Za-z0-9_-]", "_", resource["name"]) or "resource"
        if not re.match(r"[A-Za-z_]", base):
            base = f"r_{base}"
        name, n = base, 1
        while (tf_type, name) in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add((tf_type, name))
        names[resource["urn"]] = name
    return names


def _provider_keys(graph: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Pulumi provider URN -> Terraform provider config key, and `configuration.provider_config`."""
    keys: dict[str, str] = {}
    config: dict[str, Any] = {}
    for resource in graph["resources"]:
        kind = resource["type"].removeprefix("pulumi:providers:")
        if kind == resource["type"] or kind not in PROVIDERS:
            continue
        alias = re.sub(r"[^A-Za-z0-9_-]", "_", resource["name"])
        key = f"{kind}.{alias}"
        keys[resource["urn"]] = key
        entry: dict[str, Any] = {"name": kind, "full_name": PROVIDERS[kind], "alias": alias}
        region = resource["inputs"].get("region")
        if isinstance(region, str):
            entry["expressions"] = {"region": {"constant_value": region}}
        config[key] = entry
    return keys, config


def to_terraform_plan(graph: Mapping[str, Any]) -> PlanExport:
    """The graph's AWS and random resources as a Terraform plan JSON that creates them."""
    resources = [r for r in graph["resources"] if exportable(r)]
    unmapped: dict[str, int] = {}
    mapped = []
    for resource in resources:
        if resource["type"] in TYPES:
            mapped.append(resource)
        elif not resource["type"].startswith("kubernetes:"):
            unmapped[resource["type"]] = unmapped.get(resource["type"], 0) + 1
    names = _address_names(mapped)
    by_urn = {r["urn"]: r for r in mapped}
    address = {urn: f"{TYPES[by_urn[urn]['type']].name}.{name}" for urn, name in names.items()}
    output_values = {urn: _output_values(r) for urn, r in by_urn.items()}
    targets: dict[str, dict[str, list[Target]]] = {}
    for edge in graph["edges"]:
        kind: str = edge["kind"]
        if kind.startswith("input:") and edge["from"] in by_urn and edge["to"] in by_urn:
            prop = kind.removeprefix("input:")
            target = Target(address[edge["to"]], output_values[edge["to"]])
            targets.setdefault(edge["from"], {}).setdefault(prop, []).append(target)
    provider_keys, provider_config = _provider_keys(graph)

    planned, changes, configured = [], [], []
    for resource in mapped:
        tf_type = TYPES[resource["type"]]
        converted = _convert_object(
            resource["inputs"], prefix="", tf_type=tf_type, targets=targets.get(resource["urn"], {})
        )
        provider = resource["type"].split(":", 1)[0]
        head = {
            "address": address[resource["urn"]],
            "mode": "managed",
            "type": tf_type.name,
            "name": names[resource["urn"]],
            "provider_name": PROVIDERS[provider],
        }
        sensitive = {k: True for k, v in converted.values.items() if v == SECRET}
        planned.append(
            {**head, "schema_version": 0, "values": converted.values, "sensitive_values": sensitive}
        )
        changes.append(
            {
                **head,
                "change": {
                    "actions": ["create"],
                    "before": None,
                    "after": converted.values,
                    "after_unknown": converted.unknown,
                    "before_sensitive": False,
                    "after_sensitive": sensitive,
                },
            }
        )
        configured.append(
            {
                "address": head["address"],
                "mode": "managed",
                "type": tf_type.name,
                "name": head["name"],
                "provider_config_key": provider_keys.get(resource["provider"] or "", provider),
                "expressions": converted.expressions,
                "schema_version": 0,
            }
        )
    plan = {
        "format_version": PLAN_FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": provider_config,
            "root_module": {"resources": configured},
        },
    }
    return PlanExport(
        plan=plan,
        addresses={a: urn for urn, a in address.items()},
        types={address[urn]: by_urn[urn]["type"] for urn in address},
        unmapped=dict(sorted(unmapped.items())),
    )


# -- Kubernetes --------------------------------------------------------------------------


def kubernetes_kind(token: str) -> tuple[str, str] | None:
    """`kubernetes:apps/v1:Deployment` -> ("apps/v1", "Deployment"); core is "v1"."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes" or "/" not in parts[1]:
        return None
    group, version = parts[1].split("/", 1)
    return (version if group == "core" else f"{group}/{version}"), parts[2]


# Resources of Pulumi's Kubernetes provider that are not Kubernetes objects: a Helm release
# is rendered and installed by the provider (its chart's objects are not in the graph).
NOT_OBJECTS = ("kubernetes:helm.sh/",)


@dataclass
class ManifestExport:
    manifests: list[dict[str, Any]]
    urns: dict[tuple[str, str, str], str]  # (kind, namespace, name) -> URN
    skipped: dict[str, int] = field(default_factory=dict)  # type -> resources not exported


def to_kubernetes_manifests(graph: Mapping[str, Any]) -> ManifestExport:
    """Every Kubernetes resource of the graph as a manifest: apiVersion and kind from the
    type, metadata (the resource's name when it sets none), spec and the other inputs."""
    manifests: list[dict[str, Any]] = []
    urns: dict[tuple[str, str, str], str] = {}
    skipped: dict[str, int] = {}
    for resource in graph["resources"]:
        kind = kubernetes_kind(resource["type"]) if exportable(resource) else None
        if kind is None:
            continue
        if kind[1].endswith("List") or resource["type"].startswith(NOT_OBJECTS):
            skipped[resource["type"]] = skipped.get(resource["type"], 0) + 1
            continue
        inputs = dict(resource["inputs"])
        metadata = dict(inputs.pop("metadata", None) or {})
        metadata.setdefault("name", resource["name"])
        inputs.pop("apiVersion", None)
        inputs.pop("kind", None)
        manifest = {"apiVersion": kind[0], "kind": kind[1], "metadata": metadata, **inputs}
        manifests.append(manifest)
        namespace = str(metadata.get("namespace", "default"))
        urns[(kind[1], namespace, str(metadata["name"]))] = resource["urn"]
    return ManifestExport(manifests, urns, dict(sorted(skipped.items())))


def manifests_yaml(manifests: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(manifests, sort_keys=False, default_flow_style=False)


def iter_types(graph: Mapping[str, Any]) -> Iterator[str]:
    """The type of every exportable resource of a graph."""
    for resource in graph["resources"]:
        if exportable(resource):
            yield resource["type"]
