"""Stack programs. `run(config)` is what `__main__.py` and the offline engine both call."""

from __future__ import annotations

from model.config import Role, StackConfig
from model.gcp import GcpStackConfig


def run(config: StackConfig | GcpStackConfig, stack: str) -> None:
    """Build the program for the stack's platform and role. Must run inside a Pulumi runtime
    (real or mocked)."""
    if isinstance(config, GcpStackConfig):
        from stacks.gcp import program as gcp_program

        gcp_program(config, stack)
    elif config.role is Role.PRIMARY:
        from stacks.primary import program as primary_program

        primary_program(config, stack)
    else:
        from stacks.dr import program as dr_program

        dr_program(config, stack)
