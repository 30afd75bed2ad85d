"""The buckets and the replication rule the stacks declare, applied through the S3 API
(moto server, two regions) and read back: the declared values are ones the API accepts."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from policies.rules import constraints
from policies.rules.core import evaluate
from policies.rules.stack import evaluate_stack, view_from_graph
from scripts.engine import SynthResult
from tests.conftest import aws_client, resources

pytestmark = pytest.mark.moto


def api_replication_rule(declared: dict[str, Any]) -> dict[str, Any]:
    """A graph replication rule (Pulumi's names) as S3's ReplicationRule."""
    destination = declared["destination"]
    return {
        "ID": declared["id"],
        "Priority": declared["priority"],
        "Status": declared["status"],
        "Filter": {"Prefix": declared["filter"]["prefix"]},
        "DeleteMarkerReplication": {"Status": declared["deleteMarkerReplication"]["status"]},
        "SourceSelectionCriteria": {
            "SseKmsEncryptedObjects": {
                "Status": declared["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"]
            }
        },
        "Destination": {
            "Bucket": destination["bucket"],
            "StorageClass": destination["storageClass"],
            "EncryptionConfiguration": {
                "ReplicaKmsKeyID": destination["encryptionConfiguration"]["replicaKmsKeyId"]
            },
            "ReplicationTime": {
                "Status": destination["replicationTime"]["status"],
                "Time": {"Minutes": destination["replicationTime"]["time"]["minutes"]},
            },
            "Metrics": {
                "Status": destination["metrics"]["status"],
                "EventThreshold": {"Minutes": destination["metrics"]["eventThreshold"]["minutes"]},
            },
        },
    }


def _create_bucket(s3: Any, name: str, region: str) -> None:
    config = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=name, **config)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def test_declared_replication_round_trips_through_the_api(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    primary, dr = synthesized["primary"], synthesized["dr"]
    east = aws_client(moto_endpoint, "s3", "us-east-1")
    west = aws_client(moto_endpoint, "s3", "us-west-2")
    source = primary.outputs["data_buckets"]["uploads"]["bucket"]
    replica = dr.outputs["data_buckets"]["uploads"]["bucket"]
    _create_bucket(east, source, "us-east-1")
    _create_bucket(west, replica, "us-west-2")
    (declared,) = resources(dr, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    role = next(r for r in resources(dr, "aws:iam/role:Role") if "s3-replication" in r["name"])
    rules = [api_replication_rule(rule) for rule in declared["inputs"]["rules"]]
    east.put_bucket_replication(
        Bucket=declared["inputs"]["bucket"],
        ReplicationConfiguration={"Role": role["computed"]["arn"], "Rules": rules},
    )
    stored = east.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]
    assert stored["Role"] == role["computed"]["arn"]
    (rule,) = stored["Rules"]
    assert rule["ID"] == "uploads-to-us-west-2"
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{replica}"
    assert rule["Destination"]["ReplicationTime"]["Time"]["Minutes"] == 15
    assert rule["DeleteMarkerReplication"]["Status"] == "Disabled"
    assert west.get_bucket_location(Bucket=replica)["LocationConstraint"] == "us-west-2"


def test_declared_bucket_hygiene_round_trips_through_the_api(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    result = synthesized["primary"]
    s3 = aws_client(moto_endpoint, "s3", "us-east-1")
    name = "reskflow-access-logs-us-east-1-123456789012"
    _create_bucket(s3, name, "us-east-1")
    block = next(
        r["inputs"]
        for r in resources(result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        if "access-logs" in r["name"]
    )
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": block["blockPublicAcls"],
            "IgnorePublicAcls": block["ignorePublicAcls"],
            "BlockPublicPolicy": block["blockPublicPolicy"],
            "RestrictPublicBuckets": block["restrictPublicBuckets"],
        },
    )
    policy = next(
        r["inputs"]["policy"]
        for r in resources(result, "aws:s3/bucketPolicy:BucketPolicy")
        if "access-logs" in r["name"]
    )
    s3.put_bucket_policy(Bucket=name, Policy=policy)
    read = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(read.values())
    assert s3.get_bucket_policy(Bucket=name)["Policy"]


def test_declared_data_bucket_encryption_and_lifecycle_round_trip(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    result = synthesized["primary"]
    s3 = aws_client(moto_endpoint, "s3", "us-east-1")
    name = "reskflow-uploads-us-east-1-123456789012-x"  # its own bucket in the emulator
    _create_bucket(s3, name, "us-east-1")
    encryption = next(
        r["inputs"]
        for r in resources(
            result,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        )
        if "uploads" in r["name"]
    )
    (rule,) = encryption["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": default["sseAlgorithm"],
                        "KMSMasterKeyID": default["kmsMasterKeyId"],
                    },
                    "BucketKeyEnabled": rule["bucketKeyEnabled"],
                }
            ]
        },
    )
    lifecycle = next(
        r["inputs"]
        for r in resources(
            result, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
        )
        if "uploads" in r["name"]
    )
    (declared,) = lifecycle["rules"]
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": declared["id"],
                    "Status": declared["status"],
                    "Filter": {"Prefix": declared["filter"]["prefix"]},
                    "Transitions": [
                        {"Days": t["days"], "StorageClass": t["storageClass"]}
                        for t in declared["transitions"]
                    ],
                    "NoncurrentVersionExpiration": {
                        "NoncurrentDays": declared["noncurrentVersionExpiration"]["noncurrentDays"]
                    },
                    "AbortIncompleteMultipartUpload": {
                        "DaysAfterInitiation": declared["abortIncompleteMultipartUpload"][
                            "daysAfterInitiation"
                        ]
                    },
                }
            ]
        },
    )
    stored = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    assert stored["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    (read,) = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert read["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    assert read["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90


# -- what the emulator accepts and AWS refuses ------------------------------------------------
# Each round trip above proves only that the declared values are wired to the right API
# fields: moto accepts whatever it is sent. Each case below is a change AWS refuses (or one
# that silently stops working), which moto accepts all the same, and which the documented
# constraints (policies/rules/constraints.py) catch before `pulumi up`.

REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def constraint_findings(graph: dict[str, Any]) -> list[tuple[str, str]]:
    found = evaluate(graph, constraints.RULES)
    stack, _ = evaluate_stack(view_from_graph(graph), constraints.STACK_RULES)
    return sorted((f.rule_id, f.message) for f in [*found, *stack])


def changed_replication(dr: SynthResult, change: Callable[[dict[str, Any]], None]) -> Any:
    """The dr graph with its replication rule changed by `change`."""
    graph = copy.deepcopy(dr.graph)
    (config,) = (r for r in graph["resources"] if r["type"] == REPLICATION)
    change(config["inputs"]["rules"][0])
    return graph, config


def put_replication(s3: Any, config: dict[str, Any], role: str) -> None:
    s3.put_bucket_replication(
        Bucket=config["inputs"]["bucket"],
        ReplicationConfiguration={
            "Role": role,
            "Rules": [api_replication_rule(rule) for rule in config["inputs"]["rules"]],
        },
    )


def test_moto_accepts_replication_time_control_of_7_minutes_the_rule_refuses(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    """S3 API Reference, ReplicationTimeValue, Minutes: "Valid value: 15"."""
    dr = synthesized["dr"]
    east = aws_client(moto_endpoint, "s3", "us-east-1")
    source = synthesized["primary"].outputs["data_buckets"]["uploads"]["bucket"]
    _create_bucket(east, source, "us-east-1")

    def seven(rule: dict[str, Any]) -> None:
        rule["destination"]["replicationTime"]["time"]["minutes"] = 7

    graph, config = changed_replication(dr, seven)
    put_replication(east, config, "arn:aws:iam::123456789012:role/replication")
    stored = east.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]
    assert stored["Rules"][0]["Destination"]["ReplicationTime"]["Time"]["Minutes"] == 7
    assert constraint_findings(graph) == [
        (
            "aws-s3-replication-rules-valid",
            "reskflow-dr-s3-replication-uploads: rule uploads-to-us-west-2: Replication Time "
            "Control of 7 minutes (only 15 exists)",
        )
    ]


def test_moto_accepts_a_destination_no_stack_creates_the_stack_rule_refuses(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    """S3 replication failure reasons: "DstBucketNotFound: Amazon S3 is unable to find the
    destination bucket that's specified in the replication configuration"."""
    dr = synthesized["dr"]
    east = aws_client(moto_endpoint, "s3", "us-east-1")
    source = synthesized["primary"].outputs["data_buckets"]["uploads"]["bucket"]
    _create_bucket(east, source, "us-east-1")

    def elsewhere(rule: dict[str, Any]) -> None:
        rule["destination"]["bucket"] = "arn:aws:s3:::reskflow-uploads-nowhere"

    graph, config = changed_replication(dr, elsewhere)
    put_replication(east, config, "arn:aws:iam::123456789012:role/replication")
    assert constraint_findings(graph) == [
        (
            "aws-s3-replication-destination-ready",
            "reskflow-dr-s3-replication-uploads: destination bucket reskflow-uploads-nowhere is "
            "created by no resource of this stack",
        )
    ]


def test_moto_accepts_an_unversioned_destination_the_stack_rule_refuses(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    """S3 replication failure reasons: "DstBucketUnversioned: Versioning is not enabled for
    the S3 destination bucket". (moto checks the source's versioning only.)"""
    dr = synthesized["dr"]
    east = aws_client(moto_endpoint, "s3", "us-east-1")
    west = aws_client(moto_endpoint, "s3", "us-west-2")
    source = synthesized["primary"].outputs["data_buckets"]["uploads"]["bucket"]
    _create_bucket(east, source, "us-east-1")
    replica = "reskflow-uploads-unversioned-us-west-2"
    west.create_bucket(
        Bucket=replica, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )

    def unversioned(rule: dict[str, Any]) -> None:
        rule["destination"]["bucket"] = f"arn:aws:s3:::{replica}"

    graph, config = changed_replication(dr, unversioned)
    # The dr stack declares the bucket but no versioning for it.
    graph["resources"].append(
        {
            **next(r for r in graph["resources"] if r["type"] == "aws:s3/bucket:Bucket"),
            "urn": "urn:pulumi:dr::resilience::aws:s3/bucket:Bucket::unversioned",
            "name": "unversioned",
            "inputs": {"bucket": replica},
        }
    )
    put_replication(east, config, "arn:aws:iam::123456789012:role/replication")
    assert "Status" not in west.get_bucket_versioning(Bucket=replica)
    assert constraint_findings(graph) == [
        (
            "aws-s3-replication-destination-ready",
            f"reskflow-dr-s3-replication-uploads: destination bucket {replica} has versioning "
            "not enabled",
        )
    ]


def test_moto_refuses_an_unversioned_source_as_aws_does(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    """The one replication constraint moto does model ("Versioning must be 'Enabled' on the
    bucket to apply a replication configuration"); the stacks version every source bucket
    (SecureBucket) and the stack rule finds the source among the primary's data buckets."""
    dr = synthesized["dr"]
    east = aws_client(moto_endpoint, "s3", "us-east-1")
    name = "reskflow-uploads-unversioned-us-east-1"
    east.create_bucket(Bucket=name)

    def unversioned_source(rule: dict[str, Any]) -> None:
        rule["destination"]["bucket"] = "arn:aws:s3:::reskflow-uploads-us-west-2-123456789012"

    graph, config = changed_replication(dr, unversioned_source)
    config["inputs"]["bucket"] = name
    with pytest.raises(botocore.exceptions.ClientError, match="Versioning must be 'Enabled'"):
        put_replication(east, config, "arn:aws:iam::123456789012:role/replication")
    assert constraint_findings(graph) == [
        (
            "aws-s3-replication-destination-ready",
            f"reskflow-dr-s3-replication-uploads: source bucket {name} is not a data bucket of "
            "the primary stack (its versioning is not known)",
        )
    ]


def test_moto_accepts_kms_replication_without_selecting_kms_objects_the_rule_refuses(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    """S3 API Reference, PutBucketReplication: "By default, Amazon S3 doesn't replicate objects
    that are stored at rest using server-side encryption with KMS keys" (SseKmsEncryptedObjects
    and ReplicaKmsKeyID together): a replica key without the selection replicates nothing of a
    KMS-encrypted bucket, silently; the selection without a replica key is refused."""
    dr = synthesized["dr"]
    east = aws_client(moto_endpoint, "s3", "us-east-1")
    source = synthesized["primary"].outputs["data_buckets"]["uploads"]["bucket"]
    _create_bucket(east, source, "us-east-1")

    def without_selection(rule: dict[str, Any]) -> None:
        rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] = "Disabled"

    graph, config = changed_replication(dr, without_selection)
    put_replication(east, config, "arn:aws:iam::123456789012:role/replication")
    assert constraint_findings(graph) == [
        (
            "aws-s3-replication-rules-valid",
            "reskflow-dr-s3-replication-uploads: rule uploads-to-us-west-2: a replica key but "
            "SSE-KMS objects not selected: S3 skips every KMS-encrypted object",
        )
    ]

    def without_key(rule: dict[str, Any]) -> None:
        del rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"]

    graph, _ = changed_replication(dr, without_key)
    assert constraint_findings(graph) == [
        (
            "aws-s3-replication-rules-valid",
            "reskflow-dr-s3-replication-uploads: rule uploads-to-us-west-2: replicates SSE-KMS "
            "objects without a replica KMS key",
        )
    ]


def test_moto_accepts_a_7_day_standard_ia_transition_the_rule_refuses(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    """S3 User Guide: "Before you transition objects to S3 Standard-IA or S3 One Zone-IA, you
    must store them for at least 30 days in Amazon S3"."""
    s3 = aws_client(moto_endpoint, "s3", "us-east-1")
    name = "reskflow-uploads-ia-7-days"
    _create_bucket(s3, name, "us-east-1")
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "resilience",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Transitions": [{"Days": 7, "StorageClass": "STANDARD_IA"}],
                }
            ]
        },
    )
    graph = copy.deepcopy(synthesized["primary"].graph)
    lifecycle = next(
        r
        for r in graph["resources"]
        if r["type"] == "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
        and "uploads" in r["name"]
    )
    lifecycle["inputs"]["rules"][0]["transitions"] = [{"days": 7, "storageClass": "STANDARD_IA"}]
    assert constraint_findings(graph) == [
        (
            "aws-s3-lifecycle-rules-valid",
            f"{lifecycle['name']}: rule resilience: Standard-IA/One Zone-IA after 7 days (at "
            "least 30)",
        )
    ]


def test_moto_keeps_a_bare_account_principal_aws_rewrites_the_rule_refuses(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    """pulumi-aws, aws.sns.TopicPolicy: an account ID as principal is converted to the root ARN
    by AWS, "causing future deployments to differ"; moto stores it verbatim."""
    s3 = aws_client(moto_endpoint, "s3", "us-east-1")
    name = "reskflow-bare-principal"
    _create_bucket(s3, name, "us-east-1")
    graph = copy.deepcopy(synthesized["primary"].graph)
    declared = next(
        r
        for r in graph["resources"]
        if r["type"] == "aws:s3/bucketPolicy:BucketPolicy" and "access-logs" in r["name"]
    )
    document = json.loads(declared["inputs"]["policy"])
    document["Statement"].append(
        {
            "Sid": "Reader",
            "Effect": "Allow",
            "Principal": {"AWS": "123456789012"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{name}/*",
        }
    )
    declared["inputs"]["policy"] = json.dumps(document)
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(document))
    stored = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    assert stored["Statement"][-1]["Principal"] == {"AWS": "123456789012"}
    assert constraint_findings(graph) == [
        (
            "aws-policy-principal-full-arn",
            f"{declared['name']}: statement Reader names account 123456789012; write "
            "arn:aws:iam::123456789012:root (AWS stores the ARN: a diff on every preview)",
        )
    ]


def test_moto_accepts_a_key_of_another_region_the_rule_refuses(
    synthesized: dict[str, SynthResult], moto_endpoint: str
) -> None:
    """KMS keys are Regional: a bucket encrypts with a key of its own region."""
    s3 = aws_client(moto_endpoint, "s3", "us-east-1")
    name = "reskflow-key-elsewhere"
    _create_bucket(s3, name, "us-east-1")
    west_key = synthesized["dr"].outputs["kms_key_arn"]
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": west_key,
                    }
                }
            ]
        },
    )
    graph = copy.deepcopy(synthesized["primary"].graph)
    encryption = next(
        r
        for r in graph["resources"]
        if r["type"].startswith("aws:s3/bucketServerSideEncryptionConfiguration")
        and "uploads" in r["name"]
    )
    encryption["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] = (
        west_key
    )
    assert constraint_findings(graph) == [
        (
            "aws-kms-key-in-resource-region",
            f"{encryption['name']}: in us-east-1, encrypted with a key of us-west-2",
        )
    ]
