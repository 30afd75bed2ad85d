"""Shared fixtures: the shipped stack configs, config files derived from them, and one
offline synth of the shipped stacks reused by every test that only reads graphs."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from model.loader import INCLUDE_KEY, LoadedConfig, load_file, with_includes
from scripts.engine import SynthResult, synth_all

ROOT = Path(__file__).resolve().parent.parent

# Peak schedules depend on the date (a `pulumi up` in a peak keeps the peak's bounds); the
# suite synthesizes as of a fixed day outside every shipped peak. Tests of peaks set their own.
os.environ["RESILIENCE_TODAY"] = "2026-06-15"


def read_stack_document(stack: str) -> dict[str, Any]:
    """A shipped stack file with its included system file merged in: one self-contained
    config, so a test can edit any key and the problems name the file it writes."""
    document: dict[str, Any] = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    merged, _ = with_includes(document["config"], ROOT, f"Pulumi.{stack}.yaml")
    merged.pop(INCLUDE_KEY, None)
    document["config"] = merged
    return document


ConfigWriter = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> ConfigWriter:
    """Write a variant of a shipped stack file: `write_config(edit, base="primary",
    name="bad")` calls `edit(config_mapping)` on a copy and returns the new file's path."""

    def write(
        edit: Callable[[dict[str, Any]], None] | None = None,
        *,
        base: str = "primary",
        name: str = "bad",
    ) -> Path:
        document = copy.deepcopy(read_stack_document(base))
        if edit is not None:
            edit(document["config"])
        path = tmp_path / f"Pulumi.{name}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return write


@pytest.fixture(scope="session")
def shipped() -> dict[str, LoadedConfig]:
    return {s: load_file(ROOT / f"Pulumi.{s}.yaml") for s in ("primary", "dr", "example-minimal")}


@pytest.fixture(scope="session")
def synthesized(shipped: dict[str, LoadedConfig]) -> dict[str, SynthResult]:
    from tests.synth_cache import cached_synth

    loaded = [shipped["primary"], shipped["dr"], shipped["example-minimal"]]
    return {r.stack: r for r in cached_synth("shipped", loaded, synth_all)}


@pytest.fixture(scope="session")
def every_stack() -> list[SynthResult]:
    """The shipped stacks (`resilience check --all`) and every example's, synthesized once
    per test process for every module that reads them all."""
    from scripts import cli
    from tests.synth_cache import cached_synth

    requested, extra = cli.resolve_configs(ROOT, [], cli.example_configs(ROOT), True)
    results = cached_synth("every-stack", [*extra, *requested], synth_all)
    wanted = {c.stack for c in requested}
    return [r for r in results if r.stack in wanted]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server (AWS API emulator) on loopback for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def aws_client(endpoint: str, service: str, region: str) -> Any:
    """A boto3 client against the moto server, with throwaway credentials."""
    import boto3

    make: Any = boto3.client  # typed per literal service name; ours is a variable
    return make(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def moto_clients(moto_endpoint: str) -> Callable[[str, str], Any]:
    """The session's moto server, emptied, with the Route 53 settings it drops kept
    (tests/moto_gaps.py); one cached client per (service, region)."""
    import urllib.request

    from tests.moto_gaps import patch_route53_health_checks

    patch_route53_health_checks()
    urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    ).close()
    made: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str) -> Any:
        if (service, region) not in made:
            made[service, region] = aws_client(moto_endpoint, service, region)
        return made[service, region]

    return client


def resources(result: SynthResult, typ: str) -> list[dict[str, Any]]:
    return [r for r in result.graph["resources"] if r["type"] == typ]


def only(result: SynthResult, typ: str, local_name: str | None = None) -> dict[str, Any]:
    """The one resource of `typ` (named `<system>-<role>-<local_name>` when given)."""
    config = result.loaded.config
    prefix = f"{config.name}-{config.role.value}-"
    matches = [
        r for r in resources(result, typ) if local_name is None or r["name"] == prefix + local_name
    ]
    assert len(matches) == 1, f"expected one {typ} {local_name or ''}, found {len(matches)}"
    return matches[0]
