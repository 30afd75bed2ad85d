"""The DR region's program. It reads the primary's outputs through a StackReference and
creates resources only with the DR region's provider, so `pulumi up` on this stack works
while the primary region is down."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from components.foundation import FoundationArgs, RegionalFoundation
from model.config import StackConfig
from model.loader import InconsistentStacksError
from stacks.common import compose_region, name_prefix, stack_tags


def _expect(ref_name: str, key: str, expected: object) -> Callable[[Any], Any]:
    def check(actual: Any) -> Any:
        if actual != expected:
            raise InconsistentStacksError(
                f"primary stack {ref_name} exports {key}={actual!r} but this stack's config "
                f"says {expected!r}: both stacks must describe the same system"
            )
        return actual

    return check


def program(config: StackConfig, stack: str) -> None:
    assert config.primary_stack is not None  # the loader requires it for role dr
    ref_name = config.primary_stack
    primary = pulumi.StackReference(ref_name)
    checks: list[pulumi.Output[Any]] = [
        primary.require_output(key).apply(_expect(ref_name, key, expected))
        for key, expected in (
            ("name", config.name),
            ("region", config.primary.region),
            ("dr_region", config.dr.region),
            ("services", [service.name for service in config.services]),
        )
    ]
    prefix = name_prefix(config)
    # The DR provider's tags wait for the checks: every resource depends on the provider, so
    # nothing is created until the primary is confirmed to be the one this stack expects.
    tags = stack_tags(config, stack)
    gated_tags = pulumi.Output.all(*checks).apply(lambda _: tags)
    base = RegionalFoundation(
        prefix,
        FoundationArgs(
            region=config.region,
            name_prefix=prefix,
            tags=gated_tags,
            key_deletion_window_days=config.kms.deletion_window_days,
            app_key="replica" if config.kms.app_key else None,
            app_key_primary_arn=(
                primary.require_output("app_key_arn") if config.kms.app_key else None
            ),
        ),
    )
    compose_region(config, prefix, base)
    pulumi.export("role", config.role.value)
    pulumi.export("name", config.name)
    pulumi.export("region", config.region)
    pulumi.export("primary_region", config.primary.region)
    pulumi.export("dr_mode", config.dr.mode.value)
    pulumi.export("account_id", base.account_id)
    pulumi.export("kms_key_arn", base.key_arn)
    pulumi.export("app_key_arn", base.app_key_arn)
