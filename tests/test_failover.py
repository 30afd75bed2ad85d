"""`resilience failover` / `failback` / `drill` against a moto server seeded from the shipped
stacks (tests/ops_world.py; moto's gaps are filled in tests/moto_gaps.py)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import replace
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
from tests.ops_world import Fault, World, make_world, rebuild_dr_replica, seed, set_lag

pytestmark = pytest.mark.moto

READ_ONLY = ("Describe", "Get", "List")


@pytest.fixture
def facts(shipped: dict[str, LoadedConfig]) -> SystemFacts:
    return system_facts(shipped["primary"].aws, shipped["dr"].aws)


def reset(endpoint: str) -> None:
    urllib.request.urlopen(
        urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    ).close()


@pytest.fixture
def clean_moto(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The session's moto server, emptied before and after: other moto tests share it."""
    reset(moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    yield moto_endpoint
    reset(moto_endpoint)


@pytest.fixture
def world(clean_moto: str, facts: SystemFacts) -> World:
    world = make_world(clean_moto, facts)
    seed(world)
    return world


def options(world: World, tmp_path: Path, write_config: ConfigWriter, **kw: Any) -> Options:
    return Options(
        journal_dir=tmp_path / "journals",
        dr_stack_file=write_config(base="dr", name="dr"),
        waiter=world.waiter(),
        prober=world.prober,
        resolver=world.resolver,
        **kw,
    )


def quiet() -> Console:
    return Console(file=open("/dev/null", "w"), width=120)


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
    assert [s.status for s in journal.steps] == ["done"] * 10
    details = {s.name: s.detail for s in journal.steps}
    assert "us-east-1 did not answer" in details["drain-source"]
    assert details["fence-source"].startswith("us-east-1 fenced")  # in us-west-2
    # The replica is a writer with the primary's backups; the DR groups run full capacity.
    assert not replica(world).get("ReadReplicaSourceDBInstanceIdentifier")
    assert replica(world)["BackupRetentionPeriod"] == 35
    for name in ("reskflow-orders-dr", "reskflow-users-dr", "reskflow-tracking-dr"):
        assert group(world, "us-west-2", name) == (2, 10)
    assert world.serving() is Role.DR
    assert "us-west-2" in details["verify-endpoint"]
    dr_file = opts.dr_stack_file
    assert dr_file is not None
    assert load_file(dr_file).aws.dr.mode is DrMode.ACTIVE

    # The primary region is back: fail back.
    world.down.clear()
    # The region comes back: still fenced (its fence lives in us-west-2), it gets no traffic.
    assert world.serving() is Role.DR
    set_lag(world, Role.PRIMARY, "reskflow-db-failback", 0.0)
    back = run_operation("failback", world.facts, world.clients(), opts, quiet()).journal
    assert back.status == "done", [(s.name, s.status, s.error) for s in back.steps]
    rds = world.client("rds", "us-east-1")
    names = {d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]}
    assert "reskflow-db" in names
    assert any(n.startswith("reskflow-db-pre-failback-2") for n in names)  # kept, per run
    assert "reskflow-db-failback" not in names
    writer = rds.describe_db_instances(DBInstanceIdentifier="reskflow-db")["DBInstances"][0]
    assert not writer.get("ReadReplicaSourceDBInstanceIdentifier")
    assert world.serving() is Role.PRIMARY
    assert not world.fenced(Role.PRIMARY)
    assert world.fenced(Role.DR)  # standing by again
    assert group(world, "us-east-1", "reskflow-orders") == (2, 10)
    assert group(world, "us-west-2", "reskflow-orders-dr") == (0, 0)  # pilot light again
    assert load_file(dr_file).aws.dr.mode is DrMode.PILOT_LIGHT


def _mutating(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.split(".", 1)[1].startswith(READ_ONLY)]


def test_dry_run_makes_no_mutating_call(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    opts = options(world, tmp_path, write_config, dry_run=True)
    before = Path(opts.dr_stack_file or "").read_text()
    world.calls.clear()
    result = run_operation("failover", world.facts, world.clients(), opts, quiet())
    assert result.journal.status == "dry-run"
    assert world.calls, "the dry run reads state"
    assert _mutating(world.calls) == []  # every call a Describe/Get/List, seen by botocore
    details = {s.name: s.detail for s in result.journal.steps}
    assert details["promote-databases"] == "would promote reskflow-db-dr"
    assert "would set reskflow-orders-dr to 2..10" in details["scale-target"]
    assert replica(world).get("ReadReplicaSourceDBInstanceIdentifier")
    assert group(world, "us-west-2", "reskflow-orders-dr") == (0, 0)
    assert not (tmp_path / "journals").exists()  # not even a journal
    assert Path(opts.dr_stack_file or "").read_text() == before


def end_state(world: World, dr_file: Path) -> dict[str, Any]:
    return {
        "replica_source": replica(world).get("ReadReplicaSourceDBInstanceIdentifier"),
        "retention": replica(world)["BackupRetentionPeriod"],
        "groups": [
            group(world, "us-west-2", f"reskflow-{s}-dr") for s in ("orders", "users", "tracking")
        ],
        "serving": world.serving(),
        "fenced": world.fenced(Role.PRIMARY),
        "mode": load_file(dr_file).aws.dr.mode,
    }


@pytest.mark.parametrize("crash_after", range(10))
def test_a_rerun_after_a_crash_at_any_step_converges(
    world: World,
    tmp_path: Path,
    write_config: ConfigWriter,
    crash_after: int,
) -> None:
    """A crash right after a step did its work, before the journal says so: the rerun redoes
    that step (idempotent) and finishes with the same end state as an uninterrupted run."""
    from scripts.ops import operations

    steps = operations.failover_steps()
    crashed = steps[crash_after]

    def crash(context: Any) -> str:
        crashed.run(context)
        raise KeyboardInterrupt

    broken = [*steps[:crash_after], replace(crashed, run=crash), *steps[crash_after + 1 :]]
    opts = options(world, tmp_path, write_config)
    with pytest.raises(KeyboardInterrupt):
        run_operation("failover", world.facts, world.clients(), opts, quiet(), steps=broken)
    journal = Journal.load(tmp_path / "journals" / "reskflow-failover.journal.json")
    assert journal.status == "interrupted"
    assert [s.status for s in journal.steps[:crash_after]] == ["done"] * crash_after
    assert journal.steps[crash_after].status == "running"

    rerun = run_operation("failover", world.facts, world.clients(), opts, quiet())
    assert rerun.resumed and rerun.journal.status == "done"
    assert end_state(world, opts.dr_stack_file or Path()) == {
        "replica_source": None,
        "retention": 35,
        "groups": [(2, 10)] * 3,
        "serving": Role.DR,
        "fenced": True,
        "mode": DrMode.ACTIVE,
    }
    # Running it once more is refused, with no call at all: it is complete.
    world.calls.clear()
    with pytest.raises(Refused, match="is complete; the next one comes after a failback"):
        run_operation("failover", world.facts, world.clients(), opts, quiet())
    assert world.calls == []


def test_throttling_is_retried(world: World, tmp_path: Path, write_config: ConfigWriter) -> None:
    fault = Fault("rds.PromoteReadReplica", 400, "Throttling", times=2)
    world.faults.append(fault)
    result = run_operation(
        "failover", world.facts, world.clients(), options(world, tmp_path, write_config), quiet()
    )
    assert result.journal.status == "done"
    assert fault.seen == 2  # standard retry mode absorbed both
    assert not replica(world).get("ReadReplicaSourceDBInstanceIdentifier")


def test_a_persistent_5xx_stops_at_its_step_with_nothing_half_applied(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    world.faults.append(Fault("auto-scaling.UpdateAutoScalingGroup", 503, "ServiceUnavailable", -1))
    opts = options(world, tmp_path, write_config)
    with pytest.raises(StepError) as info:
        run_operation("failover", world.facts, world.clients(), opts, quiet())
    assert (info.value.step, info.value.resource, info.value.code) == (
        "scale-target",
        "reskflow-orders-dr",
        "ServiceUnavailable",
    )
    journal = Journal.load(tmp_path / "journals" / "reskflow-failover.journal.json")
    statuses = {s.name: s.status for s in journal.steps}
    assert statuses["promote-databases"] == "done"
    assert statuses["scale-target"] == "failed"
    assert statuses["switch-traffic"] == "pending"
    assert group(world, "us-west-2", "reskflow-orders-dr") == (0, 0)
    assert world.serving() is Role.PRIMARY  # no traffic moved
    world.faults.clear()
    rerun = run_operation("failover", world.facts, world.clients(), opts, quiet())
    assert rerun.resumed and rerun.journal.status == "done"


def test_a_promotion_that_never_finishes_times_out_before_anything_else(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    from tests.moto_gaps import STUCK_PROMOTIONS

    STUCK_PROMOTIONS.add("reskflow-db-dr")
    try:
        with pytest.raises(StepError) as info:
            run_operation(
                "failover",
                world.facts,
                world.clients(),
                options(world, tmp_path, write_config),
                quiet(),
            )
    finally:
        STUCK_PROMOTIONS.clear()
    assert (info.value.step, info.value.resource, info.value.code) == (
        "promote-databases",
        "reskflow-db-dr",
        "Timeout",
    )
    assert "last state: modifying" in str(info.value)
    assert group(world, "us-west-2", "reskflow-orders-dr") == (0, 0)


def test_replica_lag_above_the_rpo_refuses_unless_forced_with_a_reason(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    set_lag(world, Role.DR, "reskflow-db-dr", 900)
    opts = options(world, tmp_path, write_config)
    world.calls.clear()
    with pytest.raises(Refused, match=r"replica lag reskflow-db-dr: 900 s \(RPO 300 s\)"):
        run_operation("failover", world.facts, world.clients(), opts, quiet())
    assert _mutating(world.calls) == []
    with pytest.raises(Refused, match="--force needs --reason"):
        run_operation("failover", world.facts, world.clients(), replace(opts, force=True), quiet())
    forced = replace(opts, force=True, reason="us-east-1 outage, lag accepted by the IC")
    result = run_operation("failover", world.facts, world.clients(), forced, quiet())
    assert result.journal.status == "done"
    assert result.journal.reason == "us-east-1 outage, lag accepted by the IC"
    assert "forced" in result.journal.steps[0].detail


def test_a_failing_dr_region_never_gets_the_traffic(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    world.broken.add(Role.DR)  # DR load balancers answer 5xx
    with pytest.raises(StepError) as info:
        run_operation(
            "failover",
            world.facts,
            world.clients(),
            options(world, tmp_path, write_config),
            quiet(),
        )
    assert (info.value.step, info.value.code) == ("wait-target-healthy", "Timeout")
    journal = Journal.load(tmp_path / "journals" / "reskflow-failover.journal.json")
    assert {s.name: s.status for s in journal.steps}["switch-traffic"] == "pending"
    # The primary is fenced, the DR unhealthy: Route 53 keeps answering with the primary.
    assert world.fenced(Role.PRIMARY)
    assert world.serving() is Role.PRIMARY


def test_arc_switches_routing_controls_only_once_dr_is_healthy(
    clean_moto: str, write_config: ConfigWriter, tmp_path: Path
) -> None:
    from scripts.engine import synth_all

    def arc(config: dict[str, Any]) -> None:
        config["resilience:failover"]["mechanism"] = "arc"

    primary = load_file(write_config(arc, name="primary"))
    dr = load_file(write_config(arc, base="dr", name="dr"))
    outputs = synth_all([primary, dr])[0].outputs
    facts = system_facts(primary.aws, dr.aws, outputs)
    world = make_world(clean_moto, facts)
    seed(world)
    controls = facts.routing_controls
    world.gaps.routing_controls = {controls[Role.PRIMARY]: "On", controls[Role.DR]: "Off"}
    opts = Options(
        journal_dir=tmp_path / "journals",
        dr_stack_file=tmp_path / "Pulumi.dr.yaml",
        waiter=world.waiter(),
        prober=world.prober,
        resolver=world.resolver,
    )
    world.calls.clear()
    result = run_operation("failover", facts, world.clients(), opts, quiet())
    assert result.journal.status == "done"
    details = {s.name: s.detail for s in result.journal.steps}
    assert details["fence-source"].startswith("ARC:")
    assert world.gaps.arc_calls == [
        [
            {"RoutingControlArn": controls[Role.DR], "RoutingControlState": "On"},
            {"RoutingControlArn": controls[Role.PRIMARY], "RoutingControlState": "Off"},
        ]
    ]
    assert world.serving() is Role.DR
    assert "PutMetricData" not in " ".join(world.calls)  # no fences with ARC


def test_arc_needs_the_primary_outputs(write_config: ConfigWriter) -> None:
    from scripts.ops.facts import FactsError

    def arc(config: dict[str, Any]) -> None:
        config["resilience:failover"]["mechanism"] = "arc"

    primary = load_file(write_config(arc, name="primary")).aws
    dr = load_file(write_config(arc, base="dr", name="dr")).aws
    with pytest.raises(FactsError, match="pass the primary stack's outputs"):
        system_facts(primary, dr)


def test_drill_reports_step_durations_and_the_measured_rto(
    clean_moto: str, write_config: ConfigWriter, tmp_path: Path
) -> None:
    def staging(config: dict[str, Any]) -> None:
        config["resilience:environment"] = "staging"

    primary = load_file(write_config(staging, name="primary")).aws
    dr_file = write_config(staging, base="dr", name="dr")
    facts = system_facts(primary, load_file(dr_file).aws)
    world = make_world(clean_moto, facts)
    seed(world)
    set_lag(world, Role.PRIMARY, "reskflow-db-failback", 0.0)
    opts = Options(
        journal_dir=tmp_path / "journals",
        dr_stack_file=dr_file,
        waiter=world.waiter(),
        prober=world.prober,
        resolver=world.resolver,
    )
    report = run_drill(facts, world.clients(), opts, quiet(), report_dir=tmp_path / "drills")
    assert report["rto_target_seconds"] == 900
    assert report["measured_rto_seconds"] is not None and report["rto_met"] is True
    assert [s["step"] for s in report["operations"]["failover"]][:3] == [
        "readiness",
        "drain-source",
        "fence-source",
    ]
    assert all(s["status"] == "done" for op in report["operations"].values() for s in op)
    assert all(s["duration_s"] is not None for s in report["operations"]["failback"])
    written = sorted(p.name for p in (tmp_path / "drills").iterdir())
    assert "last-drill.json" in written
    assert any(n.endswith(".md") for n in written)
    markdown = next((tmp_path / "drills").glob("drill-*.md")).read_text()
    assert "| promote-databases | done |" in markdown
    assert not list((tmp_path / "journals").glob("*.json"))  # a finished drill leaves none
    assert world.serving() is Role.PRIMARY
    assert load_file(dr_file).aws.dr.mode is DrMode.PILOT_LIGHT


def test_drills_refuse_production(world: World, tmp_path: Path, write_config: ConfigWriter) -> None:
    world.calls.clear()
    with pytest.raises(Refused, match="production system"):
        run_drill(
            world.facts,
            world.clients(),
            options(world, tmp_path, write_config),
            quiet(),
            report_dir=tmp_path / "drills",
        )
    assert world.calls == []  # refused before any call


def test_cli_dry_run_exit_codes_and_confirmation(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from typer.testing import CliRunner

    from scripts import cli
    from tests.conftest import ROOT

    project = tmp_path / "project"
    project.mkdir()
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, project / path.name)
    shutil.copytree(ROOT / "systems", project / "systems")
    monkeypatch.setattr(cli, "Clients", world.clients)
    runner = CliRunner()
    common = ["--project-dir", str(project), "--journal-dir", str(tmp_path / "j")]

    world.calls.clear()
    dry = runner.invoke(cli.app, ["failover", "--dry-run", *common])
    assert dry.exit_code == 0, dry.output
    assert "would promote reskflow-db-dr" in dry.output
    assert "readiness" in dry.output and "recent copy in reskflow-dr" in dry.output
    assert world.calls and _mutating(world.calls) == []

    unattended = runner.invoke(cli.app, ["failover", *common])
    assert unattended.exit_code == 2
    assert "pass --yes" in unattended.output

    wrong = runner.invoke(cli.app, ["failover", "--to", "primary", "--yes", *common])
    assert wrong.exit_code == 2
    assert "resilience failback" in wrong.output

    world.faults.append(Fault("rds.PromoteReadReplica", 500, "InternalFailure", -1))
    failed = runner.invoke(cli.app, ["failover", "--yes", *common])
    assert failed.exit_code == 1
    assert "step promote-databases: reskflow-db-dr: InternalFailure" in failed.output
    assert "rerun to resume" in failed.output
    world.faults.clear()

    set_lag(world, Role.DR, "reskflow-db-dr", 900)
    fresh = ["--project-dir", str(project), "--journal-dir", str(tmp_path / "j2")]
    refused = runner.invoke(cli.app, ["failover", "--yes", *fresh])
    assert refused.exit_code == 2
    assert "not ready" in refused.output
    assert replica(world).get("ReadReplicaSourceDBInstanceIdentifier")  # nothing done


def test_failover_scales_an_ecs_worker_through_application_auto_scaling(
    clean_moto: str, write_config: ConfigWriter, tmp_path: Path
) -> None:
    from tests.test_traffic import _worker

    primary = load_file(write_config(_worker, name="primary")).aws
    dr_file = write_config(_worker, base="dr", name="dr")
    facts = system_facts(primary, load_file(dr_file).aws)
    (worker,) = [c for c in facts.compute[Role.DR] if c.kind == "ecs"]
    assert (worker.name, worker.standby.max, worker.full.max) == (
        "service/reskflow-dr/order-worker",
        0,
        5,
    )
    world = make_world(clean_moto, facts)
    seed(world)
    ecs = world.client("ecs", "us-west-2")

    def running() -> int:
        found = ecs.describe_services(cluster="reskflow-dr", services=["order-worker"])
        return int(found["services"][0]["runningCount"])

    assert running() == 0  # pilot light
    opts = Options(
        journal_dir=tmp_path / "journals",
        dr_stack_file=dr_file,
        waiter=world.waiter(),
        prober=world.prober,
        resolver=world.resolver,
    )
    result = run_operation("failover", facts, world.clients(), opts, quiet())
    assert result.journal.status == "done"
    target = world.client("application-autoscaling", "us-west-2").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[worker.name]
    )["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 5)
    assert running() == 1  # waited for: wait-target-healthy counts running tasks
    details = {s.name: s.detail for s in result.journal.steps}
    assert "service/reskflow-dr/order-worker 1/1 in service" in details["wait-target-healthy"]


def test_a_second_cycle_replicates_again(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    """Each failback run tags its copy and archives the old primary under its own name, so
    the next cycle cannot mistake the last one's work for its own."""
    opts = options(world, tmp_path, write_config)
    set_lag(world, Role.PRIMARY, "reskflow-db-failback", 0.0)
    copies = []
    for cycle in range(2):
        if cycle:
            # Without `pulumi up -s dr` the DR database still is the old writer: refused.
            with pytest.raises(Refused, match="rebuild the replica"):
                run_operation("failover", world.facts, world.clients(), opts, quiet())
            (tmp_path / "journals" / "reskflow-failover.journal.json").unlink()
            rebuild_dr_replica(world)
        # A finished failback made the last failover's journal history.
        assert not (tmp_path / "journals" / "reskflow-failover.journal.json").exists()
        run_operation("failover", world.facts, world.clients(), opts, quiet())
        back = run_operation("failback", world.facts, world.clients(), opts, quiet()).journal
        assert back.status == "done"
        copies.append({s.name: s.detail for s in back.steps}["reverse-replication"])
    assert all("replicating from reskflow-db-dr" in c for c in copies)
    rds = world.client("rds", "us-east-1")
    names = [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]]
    assert len([n for n in names if n.startswith("reskflow-db-pre-failback-")]) == 2
    assert world.serving() is Role.PRIMARY
