"""S3 cross-region replication, owned by the dr stack (one-way dependency: the primary
never reads the dr stack).

The dr stack creates the replica buckets (DR key), a least-privilege replication role, and
the replication configuration on each source bucket. The configuration lives on the source
bucket, so it is registered with a source-region provider; it is `retain_on_delete`, so
switching the dr stack to `active` mode (the primary region may be down) drops it from
the program without any call to the primary region.

Every rule has Replication Time Control (99.99 % of objects within 15 minutes) and
replication metrics on; delete-marker replication follows config.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy
from model.config import DataBucket

COMPONENT_TYPE = "resilience:replication:S3Replication"
RTC_MINUTES = 15  # the only value S3 Replication Time Control accepts


def rule_id(bucket: str, dr_region: str) -> str:
    return f"{bucket}-to-{dr_region}"


def replication_policy(
    sources: Sequence[str],
    destinations: Sequence[str],
    *,
    source_key_arn: str,
    replica_key_arn: str,
    source_region: str,
    replica_region: str,
    replicate_deletes: bool,
) -> str:
    """Read the source buckets' versions, write replicas, use each side's key only through
    S3 in its region and only for these buckets."""

    def objects(arns: Sequence[str]) -> list[str]:
        return [f"{arn}/*" for arn in arns]

    def via_s3(region: str, arns: Sequence[str]) -> dict[str, Any]:
        return {
            "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [*arns, *objects(arns)]},
        }

    write = ["s3:ReplicateObject", "s3:ReplicateTags"]
    if replicate_deletes:
        write.append("s3:ReplicateDelete")
    statements = [
        {
            "Sid": "ReadSourceConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": list(sources),
        },
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            # No GetObjectVersionAcl: ownership is enforced, ACLs are off.
            "Action": [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": objects(sources),
        },
        {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": sorted(write),
            "Resource": objects(destinations),
        },
        {
            "Sid": "DecryptWithSourceKey",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": source_key_arn,
            "Condition": via_s3(source_region, sources),
        },
        {
            "Sid": "EncryptWithReplicaKey",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": replica_key_arn,
            "Condition": via_s3(replica_region, destinations),
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


@dataclass(frozen=True)
class S3ReplicationArgs:
    buckets: Sequence[DataBucket]
    source_buckets: Mapping[str, pulumi.Input[str]]  # data bucket name -> source bucket name
    replica_buckets: Mapping[str, aws.s3.Bucket]
    replica_versioning: Sequence[pulumi.Resource]
    source_region: str
    replica_region: str
    source_provider: aws.Provider
    replica_provider: aws.Provider
    source_key_arn: pulumi.Input[str]
    replica_key_arn: pulumi.Input[str]
    partition: pulumi.Input[str]


class S3Replication(pulumi.ComponentResource):
    rule_ids: dict[str, str]
    role: aws.iam.Role

    def __init__(
        self, name: str, args: S3ReplicationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        iam = pulumi.ResourceOptions(parent=self, provider=args.replica_provider)
        self.role = aws.iam.Role(
            f"{name}-role",
            description="S3 cross-region replication to the DR region",
            assume_role_policy=service_trust_policy("s3.amazonaws.com"),
            opts=iam,
        )
        names = [b.name for b in args.buckets]
        source_arns = [
            pulumi.Output.concat("arn:", args.partition, ":s3:::", args.source_buckets[n])
            for n in names
        ]
        replica_arns = [args.replica_buckets[n].arn for n in names]
        deletes = any(b.replicate_deletes for b in args.buckets)
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.all(
                pulumi.Output.all(*source_arns),
                pulumi.Output.all(*replica_arns),
                args.source_key_arn,
                args.replica_key_arn,
            ).apply(
                lambda v: replication_policy(
                    v[0],
                    v[1],
                    source_key_arn=v[2],
                    replica_key_arn=v[3],
                    source_region=args.source_region,
                    replica_region=args.replica_region,
                    replicate_deletes=deletes,
                )
            ),
            opts=iam,
        )
        self.rule_ids = {}
        for spec in args.buckets:
            rid = rule_id(spec.name, args.replica_region)
            aws.s3.BucketReplicationConfig(
                f"{name}-{spec.name}",
                bucket=args.source_buckets[spec.name],
                role=self.role.arn,
                rules=[
                    aws.s3.BucketReplicationConfigRuleArgs(
                        id=rid,
                        status="Enabled",
                        priority=1,
                        filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                        delete_marker_replication=(
                            aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                                status="Enabled" if spec.replicate_deletes else "Disabled"
                            )
                        ),
                        source_selection_criteria=(
                            aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                                sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                                    status="Enabled"
                                )
                            )
                        ),
                        destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                            bucket=args.replica_buckets[spec.name].arn,
                            storage_class="STANDARD",
                            encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                                replica_kms_key_id=args.replica_key_arn
                            ),
                            replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                                status="Enabled",
                                time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                                    minutes=RTC_MINUTES
                                ),
                            ),
                            metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                                status="Enabled",
                                event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                                    minutes=RTC_MINUTES
                                ),
                            ),
                        ),
                    )
                ],
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=args.source_provider,
                    retain_on_delete=True,
                    depends_on=[policy, *args.replica_versioning],
                ),
            )
            self.rule_ids[spec.name] = rid
        self.register_outputs({"rule_ids": self.rule_ids})
