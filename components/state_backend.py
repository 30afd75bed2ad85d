"""The Pulumi state backend the stacks live in: an S3 bucket for state and a KMS key as the
stacks' secrets provider (`awskms://`). Deployed once, before any stack, by the `bootstrap/`
program with a local backend (a chicken-and-egg: the state bucket cannot hold its own state).

Put it in a region other than the primary (the shipped default: the DR region): the dr
stack's StackReference and every `pulumi up` during a regional outage need the backend.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.storage import SecureBucket, SecureBucketArgs
from model.config import BucketLifecycle

COMPONENT_TYPE = "resilience:bootstrap:StateBackend"


def state_bucket_name(name: str, region: str, account_id: str) -> str:
    return f"{name}-pulumi-state-{region}-{account_id}"


def secrets_key_policy(account_id: str, partition: str) -> str:
    """The account administers and uses the key through IAM (no wildcard principal): the
    engineers and CI roles that run `pulumi` need kms:Encrypt/Decrypt on it in IAM."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersKeyThroughIam",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class StateBackendArgs:
    name: str
    region: str
    tags: Mapping[str, str] = field(default_factory=dict)
    # How long old state versions are kept (every `pulumi up` writes one).
    history_days: int = 90
    key_deletion_window_days: int = 30


class StateBackend(pulumi.ComponentResource):
    """State bucket (versioned, CMK-encrypted, public access blocked, TLS-only, protected)
    and the secrets-provider key (rotated, protected)."""

    backend_url: pulumi.Output[str]
    secrets_provider: pulumi.Output[str]

    def __init__(
        self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.provider = aws.Provider(
            f"{name}-aws",
            region=args.region,
            default_tags=aws.ProviderDefaultTagsArgs(
                tags={**args.tags, "managed-by": "pulumi", "purpose": "pulumi-state"}
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        invoke = pulumi.InvokeOutputOptions(parent=self, provider=self.provider)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        self.key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"Pulumi secrets provider of the {args.name} stacks",
            enable_key_rotation=True,
            deletion_window_in_days=args.key_deletion_window_days,
            policy=pulumi.Output.all(account_id, partition).apply(
                lambda v: secrets_key_policy(v[0], v[1])
            ),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)),
        )
        alias = f"alias/pulumi/{args.name}-secrets"
        aws.kms.Alias(
            f"{name}-secrets-alias", name=alias, target_key_id=self.key.key_id, opts=child
        )
        self.state = SecureBucket(
            f"{name}-state",
            SecureBucketArgs(
                bucket=account_id.apply(lambda a: state_bucket_name(args.name, args.region, a)),
                provider=self.provider,
                account_id=account_id,
                key_arn=self.key.arn,
                lifecycle=BucketLifecycle(noncurrent_expiration_days=args.history_days),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.backend_url = self.state.bucket.bucket.apply(
            lambda b: f"s3://{b}?region={args.region}&awssdk=v2"
        )
        self.secrets_provider = pulumi.Output.from_input(f"awskms://{alias}?region={args.region}")
        self.register_outputs(
            {"backend_url": self.backend_url, "secrets_provider": self.secrets_provider}
        )
