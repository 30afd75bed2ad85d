"""Pieces both stack programs share: tags, names and the primary -> dr output contract."""

from __future__ import annotations

from model.config import StackConfig

# Outputs of the primary stack that the dr stack reads through its StackReference. The primary
# exports exactly these names; a test holds both sides to this tuple.
PRIMARY_CONTRACT: tuple[str, ...] = (
    "role",
    "name",
    "region",
    "dr_region",
    "account_id",
    "kms_key_arn",
    "app_key_arn",
)


def name_prefix(config: StackConfig) -> str:
    """Physical name prefix: `<system>-<role>`, e.g. `reskflow-primary`."""
    return f"{config.name}-{config.role.value}"


def stack_tags(config: StackConfig, stack: str) -> dict[str, str]:
    """Provider default tags. Config tags win over nothing: the bundle's own keys are fixed."""
    tags = dict(config.tags)
    tags.update(
        {
            "system": config.name,
            "environment": config.environment,
            "resilience-role": config.role.value,
            "resilience-stack": stack,
            "managed-by": "pulumi",
        }
    )
    return dict(sorted(tags.items()))
