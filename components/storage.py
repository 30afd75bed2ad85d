"""Buckets with the hygiene every one of them needs: versioned, encrypted (the region's CMK,
bucket keys on), public access blocked, object ownership enforced, TLS-only, access-logged,
lifecycle from config, protected.

Bucket names follow a contract both stacks compute (`<system>-<bucket>-<region>-<account>`),
so the primary's replication alarms can name the DR bucket without reading the dr stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from model.config import BucketLifecycle, DataBucket
from model.tags import BACKUP_CLASS, RPO_MINUTES

COMPONENT_TYPE = "resilience:storage:SecureBucket"
DATA_COMPONENT_TYPE = "resilience:storage:DataBuckets"


def data_bucket_name(system: str, bucket: str, region: str, account_id: str) -> str:
    return f"{system}-{bucket}-{region}-{account_id}"


def access_log_bucket_name(system: str, region: str, account_id: str) -> str:
    return f"{system}-access-logs-{region}-{account_id}"


# More bucket policy statements, from (bucket ARN, account id): e.g. CloudTrail's delivery.
PolicyStatements = Callable[[str, str], list[dict[str, Any]]]


def bucket_policy(
    bucket_arn: str,
    account_id: str,
    *,
    log_delivery: bool = False,
    extra: PolicyStatements | None = None,
) -> str:
    """TLS only; an access-log bucket also lets S3 log delivery of this account write."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if log_delivery:
        statements.append(
            {
                "Sid": "S3ServerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        )
    if extra is not None:
        statements += extra(bucket_arn, account_id)
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


@dataclass(frozen=True)
class SecureBucketArgs:
    bucket: pulumi.Input[str]
    provider: aws.Provider
    account_id: pulumi.Input[str]
    # None: SSE-S3. S3 server access logs can only be delivered to SSE-S3 buckets, so the
    # access-log bucket is the one bucket without a CMK.
    key_arn: pulumi.Input[str] | None
    log_bucket: pulumi.Input[str] | None = None  # where this bucket's access logs go
    log_delivery: bool = False  # this bucket receives access logs
    lifecycle: BucketLifecycle | None = None
    expire_current_after_days: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    # S3 Object Lock in compliance mode: no one, root included, deletes or overwrites an
    # object version for this many days. Irreversible: a bucket never loses Object Lock, and
    # a compliance-mode retention cannot be shortened or removed.
    object_lock_days: int | None = None
    policy_statements: PolicyStatements | None = None


class SecureBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    # The last configuration step (policy, logging or lifecycle): what writers wait for.
    ready: pulumi.Resource

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)

        def after(previous: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[previous]
            )

        self.bucket = aws.s3.Bucket(
            name,
            bucket=args.bucket,
            force_destroy=False,
            object_lock_enabled=True if args.object_lock_days is not None else None,
            tags=dict(args.tags) or None,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)),
        )
        bucket_id = self.bucket.id
        # S3 rejects concurrent configuration calls on one bucket (OperationAborted): each
        # step waits for the previous one.
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=after(ownership),
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket_id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=after(public_access),
        )
        configured: pulumi.Resource = self.versioning
        if args.object_lock_days is not None:
            retention = aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                mode="COMPLIANCE", days=args.object_lock_days
            )
            configured = aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock",
                bucket=bucket_id,
                object_lock_enabled="Enabled",
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(default_retention=retention),
                opts=pulumi.ResourceOptions.merge(
                    after(self.versioning), pulumi.ResourceOptions(protect=True)
                ),
            )
        by_default = (
            aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs
        )
        default = (
            by_default(sse_algorithm="aws:kms", kms_master_key_id=args.key_arn)
            if args.key_arn is not None
            else by_default(sse_algorithm="AES256")
        )
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=default,
                    bucket_key_enabled=args.key_arn is not None,
                )
            ],
            opts=after(configured),
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket_id,
            policy=pulumi.Output.all(self.bucket.arn, args.account_id).apply(
                lambda v: bucket_policy(
                    v[0], v[1], log_delivery=args.log_delivery, extra=args.policy_statements
                )
            ),
            opts=after(encryption),
        )
        last: pulumi.Resource = policy
        if args.log_bucket is not None:
            last = aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=bucket_id,
                target_bucket=args.log_bucket,
                target_prefix=pulumi.Output.concat(bucket_id, "/"),
                opts=after(last),
            )
        rules = lifecycle_rules(args.lifecycle, args.expire_current_after_days)
        if rules:
            last = aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=bucket_id,
                rules=rules,
                opts=after(last),
            )
        self.ready = last
        self.register_outputs({"bucket": bucket_id, "arn": self.bucket.arn})


def lifecycle_rules(
    lifecycle: BucketLifecycle | None, expire_current_after_days: int | None = None
) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    if lifecycle is None and expire_current_after_days is None:
        return []
    rule: dict[str, Any] = {
        "id": "resilience",
        "status": "Enabled",
        "filter": aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
    }
    if lifecycle is not None:
        rule["abort_incomplete_multipart_upload"] = (
            aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=lifecycle.abort_incomplete_multipart_days
            )
        )
        transitions = [
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=days, storage_class=cls)
            for days, cls in (
                (lifecycle.transition_to_ia_days, "STANDARD_IA"),
                (lifecycle.archive_after_days, "GLACIER"),
            )
            if days is not None
        ]
        if transitions:
            rule["transitions"] = transitions
        if lifecycle.noncurrent_expiration_days is not None:
            rule["noncurrent_version_expiration"] = (
                aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=lifecycle.noncurrent_expiration_days,
                    newer_noncurrent_versions=lifecycle.noncurrent_versions_kept,
                )
            )
        if lifecycle.expire_after_days is not None:
            expire_current_after_days = min(
                lifecycle.expire_after_days,
                expire_current_after_days or lifecycle.expire_after_days,
            )
    if expire_current_after_days is not None:
        rule["expiration"] = aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
            days=expire_current_after_days
        )
    return [aws.s3.BucketLifecycleConfigurationRuleArgs(**rule)]


@dataclass(frozen=True)
class DataBucketsArgs:
    system: str
    region: str
    buckets: Sequence[DataBucket]
    provider: aws.Provider
    key_arn: pulumi.Input[str]
    account_id: pulumi.Output[str]
    access_log_retention_days: int
    # Tag the buckets for their backup class. A DR replica bucket is not backed up while
    # replicating (the primary's backups and copies cover the data), only once active.
    backup_tags: bool = True
    # Bucket name -> the RPO of its data class (tagged for the RTO/RPO analysis).
    rpo_minutes: Mapping[str, int] = field(default_factory=dict)


class DataBuckets(pulumi.ComponentResource):
    """The region's access-log bucket and its data buckets (sources in the primary,
    replicas in the DR region)."""

    buckets: dict[str, SecureBucket]
    log_bucket: SecureBucket

    def __init__(
        self, name: str, args: DataBucketsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(DATA_COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.log_bucket = SecureBucket(
            f"{name}-access-logs",
            SecureBucketArgs(
                bucket=args.account_id.apply(
                    lambda a: access_log_bucket_name(args.system, args.region, a)
                ),
                provider=args.provider,
                account_id=args.account_id,
                key_arn=None,
                log_delivery=True,
                expire_current_after_days=args.access_log_retention_days,
                lifecycle=BucketLifecycle(noncurrent_expiration_days=30),
            ),
            opts=child,
        )
        self.buckets = {}
        for spec in args.buckets:
            tags = (
                {BACKUP_CLASS: spec.backup_class} if spec.backup_class and args.backup_tags else {}
            )
            if spec.name in args.rpo_minutes:
                tags[RPO_MINUTES] = str(args.rpo_minutes[spec.name])
            self.buckets[spec.name] = SecureBucket(
                f"{name}-{spec.name}",
                SecureBucketArgs(
                    bucket=self._bucket_name(args, spec.name),
                    provider=args.provider,
                    account_id=args.account_id,
                    key_arn=args.key_arn,
                    log_bucket=self.log_bucket.bucket.id,
                    lifecycle=spec.lifecycle,
                    tags=tags,
                ),
                opts=child,
            )
        self.register_outputs({})

    @staticmethod
    def _bucket_name(args: DataBucketsArgs, bucket: str) -> pulumi.Output[str]:
        return args.account_id.apply(
            lambda account: data_bucket_name(args.system, bucket, args.region, account)
        )
