"""The bootstrap program: validated config, then the state backend.

Config (`Pulumi.<stack>.yaml` in this directory), namespace `bootstrap`:
    bootstrap:name          system name (slug), e.g. reskflow
    bootstrap:region        where state lives; not the primary region (default stack: the DR
                            region)
    bootstrap:history_days  days of old state versions kept (default 90)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import Field, ValidationError

from components.state_backend import StateBackend, StateBackendArgs
from model.config import Region, Slug, Strict
from model.loader import ConfigError, Problem

NAMESPACE = "bootstrap"


class BootstrapConfig(Strict):
    name: Slug
    region: Region
    history_days: int = Field(default=90, ge=1, le=3650)


def load(values: Mapping[str, Any], source: str) -> BootstrapConfig:
    """All problems at once, each naming the file and key."""
    prefix = f"{NAMESPACE}:"
    mine = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
    try:
        return BootstrapConfig.model_validate(mine)
    except ValidationError as exc:
        problems = [
            Problem(source, prefix + ".".join(str(p) for p in error["loc"]), error["msg"])
            for error in exc.errors()
        ]
        raise ConfigError(problems) from None


def program(config: BootstrapConfig) -> None:
    backend = StateBackend(
        config.name,
        StateBackendArgs(name=config.name, region=config.region, history_days=config.history_days),
    )
    pulumi.export("backend_url", backend.backend_url)
    pulumi.export("secrets_provider", backend.secrets_provider)
    pulumi.export("state_bucket", backend.state.bucket.bucket)


def main() -> None:
    """Inside `pulumi up`: read this stack's config from the runtime."""
    raw = pulumi.Config(NAMESPACE)
    values: dict[str, Any] = {
        f"{NAMESPACE}:{key}": raw.get(key)
        for key in ("name", "region", "history_days")
        if raw.get(key) is not None
    }  # pydantic turns "90" into 90
    program(load(values, f"Pulumi.{pulumi.get_stack()}.yaml"))
