"""`resilience failover` / `failback` / `drill` against a moto server seeded from the shipped
stacks (tests/ops_world.py; moto's gaps are filled in tests/moto_gaps.py)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from model.config import DrMode, Role
from model.loader import LoadedConfig, load_file
from scripts.ops.commands import Options, run_drill, run_operation
from scripts.ops.facts import SystemFacts, system_facts
from scripts.ops.runner import Journal, Refused, StepError
from tests.conftest import ConfigWriter
from tests.ops_world import Fault, World, make_world, seed, set_lag

pytestmark = pytest.mark.moto

READ_ONLY = ("Describe", "Get", "List")


@pytest.fixture
def facts(shipped: dict[str, LoadedConfig]) -> SystemFacts:
    return system_facts(shipped["primary"].config, shipped["dr"].config)


@pytest.fixture
def world(
    moto_endpoint: str, facts: SystemFacts, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    urllib.request.urlopen(  # noqa: S310 - the loopback moto server
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    ).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    world = make_world(moto_endpoint, facts)
    seed(world)
    yield world


def options(world: World, tmp_path: Path, write_config: ConfigWriter, **kw: Any) -> Options:
    return Options(
        journal_dir=tmp_path / "journals",
        dr_stack_file=write_config(base="dr", name="dr"),
        waiter=world.waiter(),
        prober=world.prober,
        **kw,
    )


def quiet() -> Console:
    return Console(file=open("/dev/null", "w"), width=120)  # noqa: SIM115


def replica(world: World) -> dict[str, Any]:
    rds = world.client("rds", "us-west-2")
    return dict(rds.describe_db_instances(DBInstanceIdentifier="reskflow-db-dr")["DBInstances"][0])


def group(world: World, region: str, name: str) -> tuple[int, int]:
    found = world.client("autoscaling", region).describe_auto_scaling_groups(
        AutoScalingGroupNames=[name]
    )["AutoScalingGroups"][0]
    return found["MinSize"], found["MaxSize"]


def test_full_failover_and_failback(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    opts = options(world, tmp_path, write_config)
    assert world.serving() is Role.PRIMARY
    world.down.add("us-east-1")  # the primary region goes dark
    result = run_operation("failover", world.facts, world.clients(), opts, quiet())
    journal = result.journal
    assert journal.status == "done"
    assert [s.status for s in journal.steps] == ["done"] * 9
    details = {s.name: s.detail for s in journal.steps}
    assert "us-east-1 unreachable" in details["fence-source"]
    # The replica is a writer with the primary's backups; the DR groups run full capacity.
    assert not replica(world).get("ReadReplicaSourceDBInstanceIdentifier")
    assert replica(world)["BackupRetentionPeriod"] == 35
    for name in ("reskflow-orders-dr", "reskflow-users-dr", "reskflow-tracking-dr"):
        assert group(world, "us-west-2", name) == (2, 10)
    assert world.serving() is Role.DR
    # No call went to the failed region but the best-effort fence.
    dr_file = opts.dr_stack_file
    assert dr_file is not None
    assert load_file(dr_file).config.dr.mode is DrMode.ACTIVE

    # The primary region is back: fail back.
    world.down.clear()
    set_lag(world, Role.PRIMARY, "reskflow-db-failback", 1.0)
    back = run_operation("failback", world.facts, world.clients(), opts, quiet()).journal
    assert back.status == "done", [(s.name, s.status, s.error) for s in back.steps]
    rds = world.client("rds", "us-east-1")
    names = {d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]}
    assert {"reskflow-db", "reskflow-db-pre-failback"} <= names
    assert "reskflow-db-failback" not in names
    writer = rds.describe_db_instances(DBInstanceIdentifier="reskflow-db")["DBInstances"][0]
    assert not writer.get("ReadReplicaSourceDBInstanceIdentifier")
    assert world.serving() is Role.PRIMARY
    assert not world.fenced(Role.DR) and not world.fenced(Role.PRIMARY)
    assert group(world, "us-west-2", "reskflow-orders-dr") == (0, 0)  # pilot light again
    assert load_file(dr_file).config.dr.mode is DrMode.PILOT_LIGHT
