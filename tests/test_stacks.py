"""The stack programs under mocks: providers, keys, protection, tags, and the one-way
primary -> dr wiring through StackReference."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.foundation import FoundationArgs, key_policy
from model.config import StackConfig
from model.loader import load_file
from scripts.engine import StackInputError, SynthResult, synth, synth_all
from stacks.common import PRIMARY_CONTRACT
from tests.conftest import ConfigWriter, only, resources


def aws_resources(result: SynthResult) -> list[dict[str, Any]]:
    return [r for r in result.graph["resources"] if r["type"].startswith("aws:")]


def only_named(result: SynthResult, typ: str, name: str) -> dict[str, Any]:
    (match,) = [r for r in resources(result, typ) if r["name"] == name]
    return match


def main_provider(result: SynthResult) -> dict[str, Any]:
    prefix = f"{result.loaded.config.name}-{result.loaded.config.role.value}"
    return only_named(result, "pulumi:providers:aws", f"{prefix}-aws")


# In pilot-light and warm-standby the dr stack configures replication on the source buckets,
# which only the source region's API accepts; nothing else leaves the DR region.
SOURCE_REGION_TYPES = {"aws:s3/bucketReplicationConfig:BucketReplicationConfig"}


@pytest.mark.parametrize(("stack", "region"), [("primary", "us-east-1"), ("dr", "us-west-2")])
def test_explicit_providers_and_every_resource_in_the_stack_region(
    synthesized: dict[str, SynthResult], stack: str, region: str
) -> None:
    result = synthesized[stack]
    provider = main_provider(result)
    assert provider["inputs"]["region"] == region
    providers = resources(result, "pulumi:providers:aws")
    assert not any(p["name"].startswith("default") for p in providers)
    for resource in aws_resources(result):
        if resource["type"] in SOURCE_REGION_TYPES:
            assert stack == "dr"
            assert resource["region"] == "us-east-1"
            assert resource["options"]["retain_on_delete"] is True
            continue
        if stack == "primary" and "resilience:dns:Fence$" in resource["urn"]:
            # The primary's fence (alarm, schedule, its role) lives in the DR region, where
            # a failover can raise it.
            assert resource["region"] == "us-west-2", resource["urn"]
            continue
        assert resource["provider"] == provider["urn"], resource["urn"]
        assert resource["region"] == region, resource["urn"]


def test_default_tags_come_from_config_and_stack(synthesized: dict[str, SynthResult]) -> None:
    for stack, role in (("primary", "primary"), ("dr", "dr")):
        tags = main_provider(synthesized[stack])["inputs"]["defaultTags"]["tags"]
        assert tags == {
            "compliance": "gdpr+pci-dss+soc2",
            "cost-center": "reskflow-platform",
            "data-classification": "confidential",
            "environment": "production",
            "managed-by": "pulumi",
            "owner": "platform-team",
            "resilience-role": role,
            "resilience-stack": stack,
            "system": "reskflow",
            # The objectives and regions, read by the RTO/RPO rules (policies/rules/recovery).
            "resilience-rto-minutes": "15",
            "resilience-rpo-minutes": "5",
            "resilience-primary-region": "us-east-1",
            "resilience-dr-region": "us-west-2",
            "resilience-dr-mode": "pilot-light",
        }
    # Tags are set in one place: a resource's own tags only add what selects it (a backup
    # class), its data's RPO, what an alarm watches, or the name the Route 53 console lists
    # health checks by; never the stack tags.
    data = {"backup-policy", "resilience-rpo-minutes"}
    alarm = {"resilience-alarm", "service"}
    own = {
        "aws:s3/bucket:Bucket": data,
        "aws:rds/instance:Instance": data,
        "aws:route53/healthCheck:HealthCheck": {"Name"},
        "aws:cloudwatch/metricAlarm:MetricAlarm": alarm,
        "aws:cloudwatch/compositeAlarm:CompositeAlarm": alarm,
    }
    for result in synthesized.values():
        tagged = [r for r in aws_resources(result) if "tags" in r["inputs"]]
        # Owned Auto Scaling groups carry tags for the instances they launch (default tags
        # do not reach instances): tests/test_traffic.py checks them.
        tagged = [r for r in tagged if r["type"] != "aws:autoscaling/group:Group"]
        assert {t["type"] for t in tagged} <= set(own)
        for resource in tagged:
            assert set(resource["inputs"]["tags"]) <= own[resource["type"]], resource["name"]
            if resource["type"] in ("aws:s3/bucket:Bucket", "aws:rds/instance:Instance"):
                assert "resilience-rpo-minutes" in resource["inputs"]["tags"]


@pytest.mark.parametrize("stack", ["primary", "dr", "example-minimal"])
def test_region_key_rotates_is_protected_and_has_its_regions_policy(
    synthesized: dict[str, SynthResult], stack: str
) -> None:
    result = synthesized[stack]
    key = only(result, "aws:kms/key:Key", "key")
    assert key["inputs"]["enableKeyRotation"] is True
    assert key["inputs"]["rotationPeriodInDays"] == 365
    assert key["inputs"]["deletionWindowInDays"] == 30
    assert key["inputs"].get("multiRegion") in (None, False)
    assert key["options"]["protect"] is True
    policy = json.loads(key["inputs"]["policy"])
    region = result.graph["region"]
    config = result.loaded.config
    assert isinstance(config, StackConfig)
    # Written from each service's documented key policy statement (see
    # documented_key_statements), not from components/foundation.py.
    expected = documented_key_statements(
        region,
        # The system's trail, `<name>-audit`, lives in the primary's region.
        trail=(
            f"{config.name}-audit"
            if config.role.value == "primary" and config.security.trail.enabled
            else None
        ),
        config_delivery=config.security.config_recorder.mode == "create",
        cost_publishers=config.role.value == "primary" and config.cost.anomaly.enabled,
    )
    assert sorted(policy["Statement"], key=lambda s: s["Sid"]) == sorted(
        expected, key=lambda s: s["Sid"]
    )
    alias = only(result, "aws:kms/alias:Alias", "key-alias")
    assert alias["inputs"]["targetKeyId"] == key["computed"]["keyId"]
    assert {"from": alias["urn"], "to": key["urn"], "kind": "input:targetKeyId"} in result.graph[
        "edges"
    ]


def documented_key_statements(
    region: str, *, trail: str | None, config_delivery: bool, cost_publishers: bool
) -> list[dict[str, Any]]:
    """The region key's statements as each service's guide prints them, for account
    123456789012 in the aws partition."""
    statements: list[dict[str, Any]] = [
        # AWS KMS Developer Guide, "Default key policy": the account root, so IAM policies
        # can grant the key.
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        # Amazon SNS Developer Guide, "Enable compatibility between event sources from AWS
        # services and encrypted topics": "kms:GenerateDataKey*" and "kms:Decrypt" for the
        # service principal, with aws:SourceAccount against confused deputies.
        {
            "Sid": "AlarmAndServicePublishersUseKeyForSns",
            "Effect": "Allow",
            "Principal": {
                "Service": [
                    "backup.amazonaws.com",
                    "cloudwatch.amazonaws.com",
                    *(
                        ("budgets.amazonaws.com", "costalerts.amazonaws.com")
                        if cost_publishers
                        else ()
                    ),
                ]
            },
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        },
        # The same page: "Adding the aws:SourceAccount, aws:SourceArn, and aws:SourceOrgID to
        # a AWS KMS policy is not supported for EventBridge-to-encrypted topics." Scoped by
        # the topic ARN SNS puts in the encryption context instead.
        {
            "Sid": "EventBridgeRulesUseKeyForThisAccountsTopics",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:sns:topicArn": (
                        f"arn:aws:sns:{region}:123456789012:*"
                    )
                }
            },
        },
        # CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS".
        {
            "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": [
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:aws:logs:{region}:123456789012:log-group:*"
                    )
                }
            },
        },
    ]
    if trail is not None:
        # AWS CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail": "Allow
        # CloudTrail to encrypt logs" and "Enable CloudTrail to describe KMS key properties",
        # under the trail's ARN: "As a security best practice, add an aws:SourceArn condition
        # key to the KMS key policy" ("The aws:SourceAccount condition key is also supported,
        # but not recommended").
        source_arn = {"aws:SourceArn": f"arn:aws:cloudtrail:{region}:123456789012:trail/{trail}"}
        statements += [
            {
                "Sid": "CloudTrailEncryptsTheTrailsLogs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": source_arn,
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            "arn:aws:cloudtrail:*:123456789012:trail/*"
                        )
                    },
                },
            },
            {
                "Sid": "CloudTrailDescribesKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": source_arn},
            },
        ]
    if config_delivery:
        # AWS Config Developer Guide, "Permissions for the KMS Key for the AWS Config Delivery
        # Channel", Granting AWS Config access to the AWS KMS Key.
        statements.append(
            {
                "Sid": "AWSConfigKMSPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"}},
            }
        )
    return statements


def test_key_policy_lets_alarms_and_events_publish_to_encrypted_topics() -> None:
    """Without these grants CloudWatch alarms and EventBridge rules fail, silently, to
    publish into the KMS-encrypted SNS topics; EventBridge's may not depend on aws:Source*."""
    policy = json.loads(key_policy("111122223333", "aws", "eu-west-1"))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    publishers = by_sid["AlarmAndServicePublishersUseKeyForSns"]
    assert publishers["Principal"]["Service"] == [
        "backup.amazonaws.com",
        "cloudwatch.amazonaws.com",
    ]
    assert publishers["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}
    events = by_sid["EventBridgeRulesUseKeyForThisAccountsTopics"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert set(events["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert events["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:eu-west-1:111122223333:*"
        }
    }
    assert "aws:source" not in json.dumps(events).lower()


def test_key_policy_grants_no_wildcard_principal() -> None:
    policy = json.loads(key_policy("111122223333", "aws", "eu-west-1"))
    for statement in policy["Statement"]:
        principal = statement["Principal"]
        assert principal != "*"
        assert "*" not in json.dumps(principal)
        if "Service" in principal:
            assert statement["Condition"], statement["Sid"]


def test_primary_creates_the_multi_region_app_key(synthesized: dict[str, SynthResult]) -> None:
    primary = synthesized["primary"]
    app_key = only(primary, "aws:kms/key:Key", "app-key")
    assert app_key["inputs"]["multiRegion"] is True
    assert app_key["inputs"]["enableKeyRotation"] is True
    assert app_key["options"]["protect"] is True
    assert app_key["id"].startswith("mrk-")
    assert primary.outputs["app_key_arn"] == app_key["computed"]["arn"]
    assert primary.outputs["app_key_arn"].startswith("arn:aws:kms:us-east-1:123456789012:key/mrk-")
    assert not resources(synthesized["example-minimal"], "aws:kms/replicaKey:ReplicaKey")
    assert len(resources(synthesized["example-minimal"], "aws:kms/key:Key")) == 1


def test_primary_exports_the_contract_the_dr_stack_reads(
    synthesized: dict[str, SynthResult],
) -> None:
    outputs = synthesized["primary"].outputs
    assert set(PRIMARY_CONTRACT) <= set(outputs)
    assert outputs["region"] == "us-east-1"
    assert outputs["dr_region"] == "us-west-2"
    assert outputs["kms_key_arn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert (outputs["rto_minutes"], outputs["rpo_minutes"]) == (15, 5)


def test_primary_never_reads_the_dr_stack(synthesized: dict[str, SynthResult]) -> None:
    for stack in ("primary", "example-minimal"):
        assert not resources(synthesized[stack], "pulumi:pulumi:StackReference")


def test_dr_replicates_the_primary_app_key_through_the_stack_reference(
    synthesized: dict[str, SynthResult],
) -> None:
    dr, primary = synthesized["dr"], synthesized["primary"]
    (ref,) = resources(dr, "pulumi:pulumi:StackReference")
    assert ref["name"] == "organization/resilience/primary"
    assert ref["read"] is True
    replica = only(dr, "aws:kms/replicaKey:ReplicaKey")
    assert replica["inputs"]["primaryKeyArn"] == primary.outputs["app_key_arn"]
    assert replica["options"]["protect"] is True
    assert replica["region"] == "us-west-2"
    # Same key material id, DR region in the ARN.
    assert dr.outputs["app_key_arn"] == primary.outputs["app_key_arn"].replace(
        "us-east-1", "us-west-2"
    )
    edge = {"from": replica["urn"], "to": ref["urn"], "kind": "input:primaryKeyArn"}
    assert edge in dr.graph["edges"]


def test_dr_provider_waits_for_the_primary_checks(synthesized: dict[str, SynthResult]) -> None:
    """Every DR resource depends on the provider, whose tags depend on the StackReference:
    nothing is created before the primary has been checked against this config."""
    dr = synthesized["dr"]
    (ref,) = resources(dr, "pulumi:pulumi:StackReference")
    providers = {p["name"]: p for p in resources(dr, "pulumi:providers:aws")}
    # The DR region's and the replication source region's wait for the checks; the serving
    # fact's reader (model/serving.py) reads what gates them and registers nothing.
    assert set(providers) == {
        "reskflow-dr-aws",
        "reskflow-dr-replication-source",
        "reskflow-dr-serving-reader",
    }
    for name in ("reskflow-dr-aws", "reskflow-dr-replication-source"):
        edge = {"from": providers[name]["urn"], "to": ref["urn"], "kind": "input:defaultTags"}
        assert edge in dr.graph["edges"], name
    reader = providers["reskflow-dr-serving-reader"]
    assert not [r for r in dr.graph["resources"] if r["provider"] == reader["urn"]]


def test_dr_reaches_the_primary_region_only_for_replication(
    synthesized: dict[str, SynthResult],
) -> None:
    outside = {
        r["type"]
        for r in synthesized["dr"].graph["resources"]
        if r["region"] not in (None, "us-west-2")
    }
    assert outside == {"pulumi:providers:aws", *SOURCE_REGION_TYPES}


def test_active_dr_registers_nothing_with_a_primary_region_provider(
    shipped: dict[str, Any], write_config: ConfigWriter
) -> None:
    """Switching the dr stack to active is the IaC half of a failover: it must work while the
    primary region is down, so nothing in its program may need that region's API."""
    active = load_file(
        write_config(lambda c: c["resilience:dr"].update(mode="active"), base="dr", name="dr")
    )
    result = synth_all([shipped["primary"], active])[1]
    regions = {r["region"] for r in result.graph["resources"] if r["region"]}
    assert regions == {"us-west-2"}
    replica = only_named(result, "aws:rds/instance:Instance", "reskflow-dr-orders-db")
    assert "replicateSourceDb" not in replica["inputs"]  # promoted, or promoted by this update
    assert replica["inputs"]["engine"] == "postgres"
    assert result.outputs["replication_rule_ids"] == {}


def test_dr_alone_needs_the_primary_outputs(shipped: dict[str, Any]) -> None:
    with pytest.raises(
        StackInputError,
        match="StackReference 'organization/resilience/primary' has no offline outputs",
    ):
        synth(shipped["dr"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c.update({"resilience:name": "other"}),
            "primary stack organization/resilience/primary exports name='reskflow' but this "
            "stack's config says 'other'",
        ),
        (
            lambda c: (
                c["resilience:primary"].update(region="us-east-2"),
                [
                    s["resources"]["primary"].pop("certificates", None)
                    for s in c["resilience:services"]
                ],
            ),
            "exports region='us-east-1' but this stack's config says 'us-east-2'",
        ),
        (
            lambda c: c["resilience:services"].pop(),
            "exports services=['orders-api', 'users-api', 'tracking-api'] but this stack's "
            "config says ['orders-api', 'users-api']",
        ),
    ],
)
def test_dr_refuses_a_primary_that_describes_another_system(
    shipped: dict[str, Any], write_config: ConfigWriter, edit: Any, message: str
) -> None:
    dr = load_file(write_config(edit, base="dr", name="dr"))
    with pytest.raises(StackInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        synth_all([shipped["primary"], dr])


def test_foundation_args_reject_inconsistent_app_key_settings() -> None:
    with pytest.raises(ValueError, match="app_key_primary_arn is required exactly when"):
        FoundationArgs(region="us-west-2", name_prefix="x-dr", app_key="replica")
    with pytest.raises(ValueError, match="must be None, 'primary' or 'replica'"):
        FoundationArgs(region="us-west-2", name_prefix="x-dr", app_key="secondary")


def test_deletion_window_from_config(write_config: ConfigWriter) -> None:
    loaded = load_file(write_config(lambda c: c["resilience:kms"].update(deletion_window_days=7)))
    result = synth(loaded)
    for key in resources(result, "aws:kms/key:Key"):
        assert key["inputs"]["deletionWindowInDays"] == 7
