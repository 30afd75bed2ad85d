"""Rules for the foundation: explicit regional providers, protected state, key hygiene."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.rules.core import Framework, ResourceView, Rule, Severity, opaque, statements

# Types that hold data or keys: losing one loses data. Later components add theirs here.
STATEFUL_TYPES: tuple[str, ...] = (
    "aws:kms/key:Key",
    "aws:kms/replicaKey:ReplicaKey",
    "aws:s3/bucket:Bucket",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:rds/globalCluster:GlobalCluster",
    "aws:dynamodb/table:Table",
    "aws:backup/vault:Vault",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:efs/fileSystem:FileSystem",
    "aws:secretsmanager/secret:Secret",
    "aws:dynamodb/tableReplica:TableReplica",
    "aws:rds/clusterInstance:ClusterInstance",
    # Shortening or removing an audit bucket's lock would be refused in compliance mode;
    # protection keeps `pulumi destroy` from trying.
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
)


def _explicit_provider(resource: ResourceView) -> Iterator[str]:
    if resource.provider_is_default:
        yield (
            f"{resource.name} uses the default AWS provider: its region would come from the "
            "environment (AWS_REGION, aws:region) instead of the stack config"
        )


def _protected(resource: ResourceView) -> Iterator[str]:
    if not resource.protect:
        yield f"{resource.name} holds state but is not protected: `pulumi destroy` would delete it"


def _rotation(resource: ResourceView) -> Iterator[str]:
    spec = resource.props.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT")
    if spec != "SYMMETRIC_DEFAULT":
        return  # AWS rotates only symmetric encryption keys (an opaque spec is not known)
    rotation = resource.props.get("enableKeyRotation")
    if not opaque(rotation) and rotation is not True:
        yield f"{resource.name}: automatic key rotation is off"


def _is_wildcard(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        values = aws if isinstance(aws, list) else [aws]
        return "*" in values
    return False


def _no_wildcard_principal(resource: ResourceView) -> Iterator[str]:
    policy = resource.props.get("policy")
    if policy in (None, ""):
        return  # the AWS default key policy names the account root only
    for index, statement in enumerate(statements(policy)):
        allows_anyone = statement.get("Effect") == "Allow" and _is_wildcard(
            statement.get("Principal")
        )
        if allows_anyone and not statement.get("Condition"):
            sid = statement.get("Sid", f"#{index}")
            yield f"{resource.name}: key policy statement {sid} allows any principal ('*')"


RULES: tuple[Rule, ...] = (
    Rule(
        id="aws-resource-explicit-regional-provider",
        description="Every AWS resource is created through an explicit, regional aws.Provider.",
        severity=Severity.HIGH,
        remediation=(
            "Pass opts=ResourceOptions(provider=...) with the region's provider from "
            "RegionalFoundation; keep `pulumi:disable-default-providers: [aws]` in the stack file."
        ),
        url="https://www.pulumi.com/docs/iac/concepts/resources/providers/#explicit-provider-configuration",
        check=_explicit_provider,
        resource_types=("aws:",),
        frameworks=(Framework("SOC 2", "CC8.1"), Framework("ISO 27001", "A.8.32")),
    ),
    Rule(
        id="aws-stateful-resource-protected",
        description="Resources that hold data or keys are protected from deletion by Pulumi.",
        severity=Severity.HIGH,
        remediation="Create the resource with opts=ResourceOptions(protect=True).",
        url="https://www.pulumi.com/docs/iac/concepts/options/protect/",
        check=_protected,
        resource_types=STATEFUL_TYPES,
        frameworks=(
            Framework("SOC 2", "A1.2"),
            Framework("ISO 27001", "A.8.13"),
            Framework("PCI DSS 4.0", "12.10.1"),
        ),
    ),
    Rule(
        id="aws-kms-key-rotation-enabled",
        description="Customer-managed symmetric KMS keys rotate automatically.",
        severity=Severity.MEDIUM,
        remediation="Set enable_key_rotation=True (and rotation_period_in_days <= 365).",
        url="https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
        check=_rotation,
        resource_types=("aws:kms/key:Key",),
        frameworks=(
            Framework("CIS AWS 3.0", "3.6"),
            Framework("AWS FSBP", "KMS.4"),
            Framework("PCI DSS 4.0", "3.7.4"),
            Framework("SOC 2", "CC6.1"),
            Framework("ISO 27001", "A.8.24"),
        ),
    ),
    Rule(
        id="aws-kms-key-no-wildcard-principal",
        description="KMS key policies do not grant access to any principal ('*').",
        severity=Severity.CRITICAL,
        remediation=(
            "Name the account root or specific roles as principals, or add a Condition "
            "(aws:PrincipalOrgID, aws:SourceAccount) to the statement."
        ),
        url="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html",
        check=_no_wildcard_principal,
        resource_types=("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"),
        frameworks=(
            Framework("AWS FSBP", "KMS.5"),
            Framework("PCI DSS 4.0", "7.2.1"),
            Framework("SOC 2", "CC6.3"),
            Framework("ISO 27001", "A.5.15"),
        ),
    ),
)
