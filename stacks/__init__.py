"""Stack programs. `run(config)` is what `__main__.py` and the offline engine both call."""

from __future__ import annotations

from model.config import Role, StackConfig


def run(config: StackConfig, stack: str) -> None:
    """Build the program for the stack's role. Must run inside a Pulumi runtime (real or mocked)."""
    if config.role is Role.PRIMARY:
        from stacks.primary import program as primary_program

        primary_program(config, stack)
    else:
        from stacks.dr import program as dr_program

        dr_program(config, stack)
