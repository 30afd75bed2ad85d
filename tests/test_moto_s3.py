"""The buckets and the replication rule the stacks declare, applied through the S3 API
(moto server, two regions) and read back: the declared values are ones the API accepts."""

from __future__ import annotations

from typing import Any

import pytest

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
