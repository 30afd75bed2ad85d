"""The primary region's program: it never reads the dr stack (one-way dependency)."""

from __future__ import annotations

import pulumi

from components.foundation import FoundationArgs, RegionalFoundation
from model.config import StackConfig
from stacks.common import PRIMARY_CONTRACT, compose_region, name_prefix, stack_tags


def program(config: StackConfig, stack: str) -> None:
    prefix = name_prefix(config)
    base = RegionalFoundation(
        prefix,
        FoundationArgs(
            region=config.region,
            name_prefix=prefix,
            tags=stack_tags(config, stack),
            key_deletion_window_days=config.kms.deletion_window_days,
            app_key="primary" if config.kms.app_key else None,
        ),
    )
    compose_region(config, prefix, base)
    outputs: dict[str, pulumi.Input[object] | None] = {
        "role": config.role.value,
        "name": config.name,
        "region": config.region,
        "dr_region": config.dr.region,
        "account_id": base.account_id,
        "kms_key_arn": base.key_arn,
        "app_key_arn": base.app_key_arn,
    }
    assert tuple(outputs) == PRIMARY_CONTRACT
    for key, value in outputs.items():
        pulumi.export(key, value)
    pulumi.export("services", [service.name for service in config.services])
    pulumi.export("rto_minutes", config.dr.rto_minutes)
    pulumi.export("rpo_minutes", config.dr.rpo_minutes)
