"""Regional foundation: the explicit AWS provider of one region and its customer-managed keys.

Every other component receives `provider` and `key` from here, so no resource ever falls back
to an ambient default region, and every encrypted resource uses the key of its own region.

Keys:
- `key`: a single-region CMK for the resources of this region (buckets, vaults, logs, topics).
- `app_key` (optional): a multi-Region key for application-level (envelope) encryption. Data
  encrypted with it in the primary region and replicated (database rows, objects) can still be
  decrypted in the DR region after a failover, because the dr stack holds its replica. This is
  the one place replication *needs* a multi-Region key; resource encryption does not (S3, RDS,
  Backup and DynamoDB re-encrypt under the destination region's key).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

COMPONENT_TYPE = "resilience:foundation:RegionalFoundation"


@dataclass(frozen=True)
class FoundationArgs:
    region: str
    # Physical name prefix, e.g. "reskflow-primary".
    name_prefix: str
    # Provider default tags: the one place tags are set for this region's resources.
    tags: pulumi.Input[Mapping[str, str]] = field(default_factory=dict)
    key_deletion_window_days: int = 30
    # "primary": create a multi-Region primary app key; "replica": replicate `app_key_primary_arn`.
    app_key: str | None = None
    app_key_primary_arn: pulumi.Input[str] | None = None
    # Key grants for the security and cost baseline: services that publish into this region's
    # encrypted topics besides alarms, rules and vaults (AWS Budgets, Cost Anomaly Detection),
    # and whether CloudTrail encrypts this account's trail logs with the key.
    sns_publishers: tuple[str, ...] = ()
    # The name of the trail in this region that encrypts its log files with the key (the
    # system's, components/security_baseline.py `trail_name`); None: no trail uses it.
    cloudtrail: str | None = None
    # AWS Config delivers this region's configuration history encrypted with the key.
    config_delivery: bool = False

    def __post_init__(self) -> None:
        if self.app_key not in (None, "primary", "replica"):
            raise ValueError(f"app_key must be None, 'primary' or 'replica', not {self.app_key!r}")
        if (self.app_key == "replica") != (self.app_key_primary_arn is not None):
            raise ValueError("app_key_primary_arn is required exactly when app_key is 'replica'")


def cloudtrail_arn(partition: str, region: str, account_id: str, trail: str) -> str:
    """A trail's ARN, `arn:<partition>:cloudtrail:<home region>:<account>:trail/<name>`
    (CloudTrail API Reference, Trail, TrailARN)."""
    return f"arn:{partition}:cloudtrail:{region}:{account_id}:trail/{trail}"


def key_policy(
    account_id: str,
    partition: str,
    region: str,
    *,
    sns_publishers: tuple[str, ...] = (),
    cloudtrail: str | None = None,
    config_delivery: bool = False,
) -> str:
    """Key policy for a region's CMK.

    The account root statement keeps the key manageable through IAM (no lockout) without a
    wildcard principal. Service principals get only what they need, each under the narrowest
    condition its service documents and supplies:
    - CloudWatch alarms, AWS Backup (and the cost guards' services) publish into the encrypted
      topics, scoped to this account (aws:SourceAccount);
    - EventBridge rules publish into them too, but EventBridge supplies no aws:Source* key to
      KMS, so its grant is scoped by the topic ARN SNS binds to the data key instead;
    - CloudWatch Logs encrypts this account's log groups in the region;
    - with `cloudtrail` (a trail's name), CloudTrail encrypts that trail's log files only;
    - with `config_delivery`, AWS Config encrypts the configuration history it delivers.
    """
    root = f"arn:{partition}:iam::{account_id}:root"
    same_account = {"StringEquals": {"aws:SourceAccount": account_id}}
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministersKeyThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        },
        # Amazon SNS Developer Guide, "Enable compatibility between event sources from AWS
        # services and encrypted topics": "allow the AWS service to have the
        # kms:GenerateDataKey* and kms:Decrypt permissions", and "Add the aws:SourceAccount and
        # aws:SourceArn condition keys to the KMS resource policy to further protect the KMS
        # key from confused deputy attacks" (cloudwatch.amazonaws.com is in its table; Backup,
        # Budgets and Cost Anomaly Detection publish as their service principals).
        {
            "Sid": "AlarmAndServicePublishersUseKeyForSns",
            "Effect": "Allow",
            "Principal": {
                "Service": [
                    "backup.amazonaws.com",
                    "cloudwatch.amazonaws.com",
                    *sns_publishers,
                ]
            },
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": same_account,
        },
        # The same guide, Important: "Adding the aws:SourceAccount, aws:SourceArn, and
        # aws:SourceOrgID to a AWS KMS policy is not supported for EventBridge-to-encrypted
        # topics." What still narrows the grant is the encryption context SNS puts on the data
        # key of a topic, aws:sns:topicArn (the condition key
        # kms:EncryptionContext:aws:sns:topicArn, used for SNS topics in the Amazon GameLift
        # Servers FlexMatch guide, "Set up an SNS topic with server-side encryption"): this
        # account's topics in this region only. Who may publish (this account's rules) is
        # the topic policy's job (components/escalation.py).
        {
            "Sid": "EventBridgeRulesUseKeyForThisAccountsTopics",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:sns:topicArn": (
                        f"arn:{partition}:sns:{region}:{account_id}:*"
                    )
                }
            },
        },
        # CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS":
        # the regional principal logs.<region>.amazonaws.com with "kms:Encrypt*",
        # "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*" under
        # "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:region:account-id:..."}.
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
                        f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                    )
                }
            },
        },
    ]
    if cloudtrail is not None:
        # AWS CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail":
        # "Allow CloudTrail to encrypt logs" (kms:GenerateDataKey* with StringLike
        # kms:EncryptionContext:aws:cloudtrail:arn "arn:aws:cloudtrail:*:account-id:trail/*")
        # and "Enable CloudTrail to describe KMS key properties" (kms:DescribeKey), each for
        # the one trail: "As a security best practice, add an aws:SourceArn condition key to
        # the KMS key policy. [...] The value of aws:SourceArn is always the trail ARN (or
        # array of trail ARNs) that is using the KMS key." ("The aws:SourceAccount condition
        # key is also supported, but not recommended.") The trail lives in this region, the
        # primary's, and is the management account's for an organization trail.
        trails = f"arn:{partition}:cloudtrail:*:{account_id}:trail/*"
        this_trail = {"aws:SourceArn": cloudtrail_arn(partition, region, account_id, cloudtrail)}
        statements += [
            {
                "Sid": "CloudTrailEncryptsTheTrailsLogs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": this_trail,
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails},
                },
            },
            {
                "Sid": "CloudTrailDescribesKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": this_trail},
            },
        ]
    if config_delivery:
        # AWS Config Developer Guide, "Permissions for the KMS Key for the AWS Config Delivery
        # Channel": when the recorder's role lacks access, "AWS Config sends the information
        # again, this time as the AWS Config service principal", which needs the statement
        # "AWSConfigKMSPolicy" (config.amazonaws.com, "kms:Decrypt", "kms:GenerateDataKey",
        # "AWS:SourceAccount"). The recorder's role has the same rights through IAM.
        statements.append(
            {
                "Sid": "AWSConfigKMSPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"AWS:SourceAccount": account_id}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class RegionalFoundation(pulumi.ComponentResource):
    """Provider, account facts and customer-managed keys for one region."""

    provider: aws.Provider
    key: aws.kms.Key
    key_arn: pulumi.Output[str]
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    app_key_arn: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: FoundationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.region = args.region
        self.provider = aws.Provider(
            f"{name}-aws",
            region=args.region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_region = pulumi.InvokeOutputOptions(parent=self, provider=self.provider)
        identity = aws.get_caller_identity_output(opts=on_region)
        self.account_id = identity.account_id
        self.partition = aws.get_partition_output(opts=on_region).partition
        policy = pulumi.Output.all(self.account_id, self.partition).apply(
            lambda v: key_policy(
                v[0],
                v[1],
                args.region,
                sns_publishers=args.sns_publishers,
                cloudtrail=args.cloudtrail,
                config_delivery=args.config_delivery,
            )
        )
        # The application key is for envelope encryption only: none of the service grants.
        app_policy = pulumi.Output.all(self.account_id, self.partition).apply(
            lambda v: key_policy(v[0], v[1], args.region)
        )
        stateful = pulumi.ResourceOptions(parent=self, provider=self.provider, protect=True)
        in_region = pulumi.ResourceOptions(parent=self, provider=self.provider)

        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{args.name_prefix} {args.region}: encryption of stateful resources",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.key_deletion_window_days,
            policy=policy,
            opts=stateful,
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{args.name_prefix}/data",
            target_key_id=self.key.key_id,
            opts=in_region,
        )
        self.key_arn = self.key.arn

        self.app_key_arn = None
        if args.app_key == "primary":
            app_key = aws.kms.Key(
                f"{name}-app-key",
                description=f"{args.name_prefix}: application envelope encryption (multi-Region)",
                multi_region=True,
                enable_key_rotation=True,
                rotation_period_in_days=365,
                deletion_window_in_days=args.key_deletion_window_days,
                policy=app_policy,
                opts=stateful,
            )
            self.app_key_arn = app_key.arn
            app_key_id: pulumi.Output[str] = app_key.key_id
        elif args.app_key == "replica":
            assert args.app_key_primary_arn is not None  # checked in FoundationArgs
            replica = aws.kms.ReplicaKey(
                f"{name}-app-key",
                description=f"{args.name_prefix}: replica of the multi-Region application key",
                primary_key_arn=args.app_key_primary_arn,
                deletion_window_in_days=args.key_deletion_window_days,
                policy=app_policy,
                opts=stateful,
            )
            self.app_key_arn = replica.arn
            app_key_id = replica.key_id
        if args.app_key is not None:
            aws.kms.Alias(
                f"{name}-app-key-alias",
                name=f"alias/{args.name_prefix}/app",
                target_key_id=app_key_id,
                opts=in_region,
            )

        self.register_outputs(
            {
                "region": args.region,
                "key_arn": self.key_arn,
                "app_key_arn": self.app_key_arn,
                "account_id": self.account_id,
            }
        )
