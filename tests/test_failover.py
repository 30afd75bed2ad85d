"""`resilience failover` / `failback` / `drill` against a moto server seeded from the shipped
stacks (tests/ops_world.py), with Route 53 and EventBridge Scheduler as the time-stepped model
of their documented behaviour (tests/route53_model.py) over simulated time."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from model.config import DrMode, Role
from model.loader import LoadedConfig, load_file
from model.serving import ServingState
from scripts.engine import SynthResult, synth_all
from scripts.ops.commands import Options, run_drill, run_operation
from scripts.ops.facts import SystemFacts, system_facts
from scripts.ops.runner import Journal, Refused, StepError
from tests.conftest import ConfigWriter
from tests.declared import fence_value
from tests.ops_world import (
    READ_ONLY,
    Fault,
    World,
    make_world,
    rebuild_dr_replica,
    seed,
    set_lag,
)

pytestmark = pytest.mark.moto

FAILOVER_STEPS = [
    "readiness",
    "announce",
    "drain-source",
    "fence-source",
    "promote-databases",
    "enable-backups",
    "scale-target",
    "wait-target-healthy",
    "switch-traffic",
    "verify-endpoint",
    "record-serving",
    "write-config",
]


@pytest.fixture
def facts(shipped: dict[str, LoadedConfig]) -> SystemFacts:
    return system_facts(shipped["primary"].aws, shipped["dr"].aws)


@pytest.fixture
def graphs(synthesized: dict[str, SynthResult]) -> tuple[SynthResult, SynthResult]:
    return synthesized["primary"], synthesized["dr"]


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
def world(clean_moto: str, facts: SystemFacts, graphs: tuple[SynthResult, SynthResult]) -> World:
    world = make_world(clean_moto, facts)
    seed(world, graphs)
    return world


def options(world: World, tmp_path: Path, write_config: ConfigWriter, **kw: Any) -> Options:
    return Options(
        journal_dir=tmp_path / "journals",
        dr_stack_file=kw.pop("dr_stack_file", None) or write_config(base="dr", name="dr"),
        waiter=world.waiter(),
        prober=world.prober,
        resolver=world.resolver,
        clock=world.clock,
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


def serving_state(world: World) -> ServingState | None:
    ssm = world.client("ssm", "us-west-2")
    try:
        value = ssm.get_parameter(Name="/resilience/reskflow/serving")["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return ServingState.from_json(value)


def fences(world: World) -> dict[str, float]:
    """The fence value each region's schedule republishes (us-west-2 holds both)."""
    return {
        region: fence_value(world.client, "us-west-2", f"reskflow-fence-{region}")
        for region in ("us-east-1", "us-west-2")
    }


def test_the_stacks_stand_with_the_dr_region_fenced(world: World) -> None:
    """As deployed: each fence schedule republishes its region's standing value, Route 53
    reads the datapoints, the primary answers and the DR region stays fenced, for hours."""
    assert fences(world) == {"us-east-1": 0.0, "us-west-2": 1.0}
    assert world.fenced(Role.DR) and not world.fenced(Role.PRIMARY)
    assert world.soak(2, expect=Role.PRIMARY) == []
    published = {(name, value) for name, _, value in world.model.invocations}
    assert published == {("reskflow-fence-us-east-1", 0), ("reskflow-fence-us-west-2", 1)}
    assert len(world.model.invocations) >= 2 * 2 * 60  # two schedules, every minute


def test_full_failover_and_failback(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    opts = options(world, tmp_path, write_config)
    assert world.serving() is Role.PRIMARY
    world.down.add("us-east-1")  # the primary region goes dark
    result = run_operation("failover", world.facts, world.clients(), opts, quiet())
    journal = result.journal
    assert journal.status == "done"
    assert [s.name for s in journal.steps] == FAILOVER_STEPS
    assert [s.status for s in journal.steps] == ["done"] * len(FAILOVER_STEPS)
    details = {s.name: s.detail for s in journal.steps}
    assert "us-east-1 did not answer" in details["drain-source"]
    assert details["fence-source"].startswith("us-east-1 fenced from")
    assert "schedule reskflow-fence-us-east-1" in details["fence-source"]
    # The replica is a writer with the primary's backups; the DR groups run full capacity.
    assert not replica(world).get("ReadReplicaSourceDBInstanceIdentifier")
    assert replica(world)["BackupRetentionPeriod"] == 35
    for name in ("reskflow-orders-dr", "reskflow-users-dr", "reskflow-tracking-dr"):
        assert group(world, "us-west-2", name) == (2, 10)
    assert world.serving() is Role.DR
    assert "us-west-2" in details["verify-endpoint"]
    assert fences(world) == {"us-east-1": 1.0, "us-west-2": 0.0}
    state = serving_state(world)
    assert state is not None and (state.serving, state.operation) == (Role.DR, None)
    dr_file = opts.dr_stack_file
    assert dr_file is not None
    assert load_file(dr_file).aws.dr.mode is DrMode.ACTIVE

    # The primary region comes back: its fence, republished in us-west-2, keeps it out.
    world.down.clear()
    assert world.soak(1, expect=Role.DR) == []
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
    assert fences(world) == {"us-east-1": 0.0, "us-west-2": 1.0}
    assert group(world, "us-east-1", "reskflow-orders") == (2, 10)
    assert group(world, "us-west-2", "reskflow-orders-dr") == (0, 0)  # pilot light again
    assert load_file(dr_file).aws.dr.mode is DrMode.PILOT_LIGHT
    state = serving_state(world)
    assert state is not None and (state.serving, state.operation) == (Role.PRIMARY, None)
    # ... and the primary keeps the traffic, with nobody at a keyboard.
    assert world.soak(6, expect=Role.PRIMARY) == []


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
    assert details["fence-source"] == ("would fence us-east-1 (schedule reskflow-fence-us-east-1)")
    assert details["announce"] == "would write /resilience/reskflow/serving: failover under way"
    assert replica(world).get("ReadReplicaSourceDBInstanceIdentifier")
    assert group(world, "us-west-2", "reskflow-orders-dr") == (0, 0)
    assert not (tmp_path / "journals").exists()  # not even a journal
    assert Path(opts.dr_stack_file or "").read_text() == before
    assert serving_state(world) is None


def end_state(world: World, dr_file: Path) -> dict[str, Any]:
    return {
        "replica_source": replica(world).get("ReadReplicaSourceDBInstanceIdentifier"),
        "retention": replica(world)["BackupRetentionPeriod"],
        "groups": [
            group(world, "us-west-2", f"reskflow-{s}-dr") for s in ("orders", "users", "tracking")
        ],
        "serving": world.serving(),
        "fenced": world.fenced(Role.PRIMARY),
        "fences": fences(world),
        "mode": load_file(dr_file).aws.dr.mode,
    }


@pytest.mark.parametrize("crash_after", range(len(FAILOVER_STEPS)))
def test_a_crash_after_any_step_resumes_and_the_dr_region_keeps_the_traffic(
    world: World,
    tmp_path: Path,
    write_config: ConfigWriter,
    crash_after: int,
) -> None:
    """A crash right after a step did its work, before the journal says so: the rerun redoes
    that step (idempotent) and finishes with the same end state as an uninterrupted run. Then
    nobody touches anything for six simulated hours, the primary region coming back halfway:
    Route 53 answers with the DR region at every tick of its health checkers."""
    from scripts.ops import operations

    steps = operations.failover_steps()
    assert [s.name for s in steps] == FAILOVER_STEPS
    crashed = steps[crash_after]

    def crash(context: Any) -> str:
        crashed.run(context)
        raise KeyboardInterrupt

    broken = [*steps[:crash_after], replace(crashed, run=crash), *steps[crash_after + 1 :]]
    world.down.add("us-east-1")
    opts = options(world, tmp_path, write_config)
    with pytest.raises(KeyboardInterrupt):
        run_operation("failover", world.facts, world.clients(), opts, quiet(), steps=broken)
    journal = Journal.load(tmp_path / "journals" / "reskflow-failover.journal.json")
    assert journal.status == "interrupted"
    assert [s.status for s in journal.steps[:crash_after]] == ["done"] * crash_after
    assert journal.steps[crash_after].status == "running"
    world.clock.advance(10 * 60)  # the on-call reruns it ten minutes later

    rerun = run_operation("failover", world.facts, world.clients(), opts, quiet())
    assert rerun.resumed and rerun.journal.status == "done"
    assert end_state(world, opts.dr_stack_file or Path()) == {
        "replica_source": None,
        "retention": 35,
        "groups": [(2, 10)] * 3,
        "serving": Role.DR,
        "fenced": True,
        "fences": {"us-east-1": 1.0, "us-west-2": 0.0},
        "mode": DrMode.ACTIVE,
    }
    assert world.soak(3, expect=Role.DR) == []
    world.down.clear()  # the primary region is back, healthy, and stays out of DNS
    assert world.soak(3, expect=Role.DR) == []
    # Running it once more is refused, with no call at all: it is complete.
    world.calls.clear()
    with pytest.raises(Refused, match="is complete; the next one comes after a failback"):
        run_operation("failover", world.facts, world.clients(), opts, quiet())
    assert world.calls == []


def test_a_missed_minute_of_the_fence_schedule_keeps_the_decision(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    """EventBridge Scheduler may fail an invocation: the health checks take their last known
    status for the minutes without a datapoint, and the decision holds."""
    world.down.add("us-east-1")
    run_operation(
        "failover", world.facts, world.clients(), options(world, tmp_path, write_config), quiet()
    )
    start = world.clock.now()

    def lost(_schedule: str, when: Any) -> bool:  # twenty minutes without any invocation
        return bool((when - start).total_seconds() < 20 * 60)

    world.model.failed_invocations = lost
    world.down.clear()
    assert world.soak(1, expect=Role.DR) == []


def test_routine_deploys_are_refused_while_the_dr_region_serves(
    world: World, tmp_path: Path, write_config: ConfigWriter, shipped: dict[str, LoadedConfig]
) -> None:
    """The serving fact the failover writes in us-west-2 is what both stack programs read
    before they register anything: a deploy of the primary, or of the dr stack from a file
    that still says pilot-light, is refused; the file the failover wrote deploys, and its
    graph is the shape the failover left the DR region in."""
    from scripts.engine import StackInputError, synth

    opts = options(world, tmp_path, write_config)
    world.down.add("us-east-1")
    run_operation("failover", world.facts, world.clients(), opts, quiet())
    ssm = world.client("ssm", "us-west-2")
    parameters = {
        p["Name"]: p["Value"]
        for p in ssm.get_parameters_by_path(Path="/resilience/reskflow")["Parameters"]
    }
    primary = synth_all([shipped["primary"]])[0]
    references = {"primary": primary.outputs, "organization/resilience/primary": primary.outputs}
    with pytest.raises(StackInputError, match="deploying the primary would bring back"):
        synth(shipped["primary"], parameters=parameters)
    with pytest.raises(StackInputError, match=r"says dr\.mode: pilot-light"):
        synth(shipped["dr"], references=references, parameters=parameters)

    # `pulumi up -s dr` with the file the failover wrote: the promoted region at full shape.
    written = load_file(opts.dr_stack_file or Path())
    active = synth(written, references=references, parameters=parameters)
    graph = active.graph["resources"]
    declared_groups = {
        r["inputs"]["name"]: (r["inputs"]["minSize"], r["inputs"]["maxSize"])
        for r in graph
        if r["type"] == "aws:autoscaling/group:Group"
    }
    live = {name: group(world, "us-west-2", name) for name in declared_groups}
    assert declared_groups == live == dict.fromkeys(live, (2, 10))
    (database,) = [r for r in graph if r["type"] == "aws:rds/instance:Instance"]
    assert "replicateSourceDb" not in database["inputs"]  # a writer, as promoted
    assert database["inputs"]["backupRetentionPeriod"] == replica(world)["BackupRetentionPeriod"]
    assert not [
        r for r in graph if r["type"] == "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
    ]
    # Nothing in the failed region: only DR-region APIs.
    assert {r["region"] for r in graph if r["type"].startswith("aws:")} == {"us-west-2"}


def test_an_operation_under_way_refuses_deploys_and_another_operator(
    world: World, tmp_path: Path, write_config: ConfigWriter, shipped: dict[str, LoadedConfig]
) -> None:
    from scripts.engine import StackInputError, synth
    from scripts.ops import operations

    steps = operations.failover_steps()
    at = FAILOVER_STEPS.index("promote-databases")

    def crash(context: Any) -> str:
        steps[at].run(context)
        raise KeyboardInterrupt

    broken = [*steps[:at], replace(steps[at], run=crash), *steps[at + 1 :]]
    opts = options(world, tmp_path, write_config)
    with pytest.raises(KeyboardInterrupt):
        run_operation("failover", world.facts, world.clients(), opts, quiet(), steps=broken)
    parameters = {
        p["Name"]: p["Value"]
        for p in world.client("ssm", "us-west-2").get_parameters_by_path(
            Path="/resilience/reskflow"
        )["Parameters"]
    }
    with pytest.raises(StackInputError, match="a failover is under way"):
        synth(shipped["primary"], parameters=parameters)
    # Another operator, with another journal, is refused before changing anything.
    other = replace(opts, journal_dir=tmp_path / "elsewhere")
    world.calls.clear()
    with pytest.raises(Refused, match=r"failover run \d+ under way"):
        run_operation("failover", world.facts, world.clients(), other, quiet())
    assert _mutating(world.calls) == []


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
    # No traffic moved: the primary is fenced and the DR region too, and with every record
    # unhealthy Route 53 answers with the primary.
    assert world.soak(0.5, expect=Role.PRIMARY) == []
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
                replace(options(world, tmp_path, write_config), waiter=world.waiter(600)),
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


def test_a_vcpu_quota_below_the_full_dr_capacity_refuses(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    """Three services at a minimum of 2 m6i.large instances (2 vCPUs each: EC2 instance
    types, m6i.large) need 12 vCPUs of the Standard On-Demand quota."""
    world.gaps.vcpu_quota = 8.0
    world.calls.clear()
    with pytest.raises(Refused, match="EC2 vCPU quota: 8 vCPUs for 12 needed at minimum"):
        run_operation(
            "failover",
            world.facts,
            world.clients(),
            options(world, tmp_path, write_config),
            quiet(),
        )
    assert _mutating(world.calls) == []


def test_an_unreadable_quota_is_a_warning_not_a_refusal(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    import io

    world.gaps.vcpu_quota = None  # Service Quotas does not answer
    opts = options(world, tmp_path, write_config, dry_run=True)
    printed = io.StringIO()
    result = run_operation(
        "failover", world.facts, world.clients(), opts, Console(file=printed, width=200)
    )
    assert result.journal.status == "dry-run"  # not refused
    (row,) = [line for line in printed.getvalue().splitlines() if "EC2 vCPU quota" in line]
    assert "unknown" in row and "need 12" in row


def test_no_recent_copy_in_the_dr_vault_refuses(
    clean_moto: str,
    facts: SystemFacts,
    graphs: tuple[SynthResult, SynthResult],
    tmp_path: Path,
    write_config: ConfigWriter,
) -> None:
    """The newest completed recovery point in reskflow-dr is 30 hours old: the readiness
    window is 26 hours (the daily copy plus its completion window)."""
    world = make_world(clean_moto, facts)
    seed(world, graphs, copy_age_hours=30)
    with pytest.raises(Refused, match="recent copy in reskflow-dr: no completed recovery point"):
        run_operation(
            "failover",
            world.facts,
            world.clients(),
            options(world, tmp_path, write_config),
            quiet(),
        )


def test_a_failing_dr_region_never_gets_the_traffic(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    world.broken.add(Role.DR)  # DR load balancers answer 5xx
    with pytest.raises(StepError) as info:
        run_operation(
            "failover",
            world.facts,
            world.clients(),
            replace(options(world, tmp_path, write_config), waiter=world.waiter(300)),
            quiet(),
        )
    assert (info.value.step, info.value.code) == ("wait-target-healthy", "Timeout")
    journal = Journal.load(tmp_path / "journals" / "reskflow-failover.journal.json")
    assert {s.name: s.status for s in journal.steps}["switch-traffic"] == "pending"
    # The primary is fenced, the DR unhealthy: Route 53 keeps answering with the primary.
    assert world.fenced(Role.PRIMARY)
    assert world.soak(1, expect=Role.PRIMARY) == []


def _arc_world(clean_moto: str, write_config: ConfigWriter) -> tuple[World, SystemFacts]:
    def arc(config: dict[str, Any]) -> None:
        config["resilience:failover"]["mechanism"] = "arc"

    primary = load_file(write_config(arc, name="primary"))
    dr = load_file(write_config(arc, base="dr", name="dr"))
    results = synth_all([primary, dr])
    facts = system_facts(primary.aws, dr.aws, results[0].outputs)
    world = make_world(clean_moto, facts)
    controls = facts.routing_controls
    world.gaps.routing_controls = {controls[Role.PRIMARY]: "On", controls[Role.DR]: "Off"}
    seed(world, (results[0], results[1]))
    return world, facts


def test_arc_switches_routing_controls_only_once_dr_is_healthy(
    clean_moto: str, write_config: ConfigWriter, tmp_path: Path
) -> None:
    world, facts = _arc_world(clean_moto, write_config)
    controls = facts.routing_controls
    assert world.serving() is Role.PRIMARY
    opts = Options(
        journal_dir=tmp_path / "journals",
        dr_stack_file=tmp_path / "Pulumi.dr.yaml",
        waiter=world.waiter(),
        prober=world.prober,
        resolver=world.resolver,
        clock=world.clock,
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
    assert world.soak(6, expect=Role.DR) == []


def test_arc_needs_the_primary_outputs(write_config: ConfigWriter) -> None:
    from scripts.ops.facts import FactsError

    def arc(config: dict[str, Any]) -> None:
        config["resilience:failover"]["mechanism"] = "arc"

    primary = load_file(write_config(arc, name="primary")).aws
    dr = load_file(write_config(arc, base="dr", name="dr")).aws
    with pytest.raises(FactsError, match="pass the primary stack's outputs"):
        system_facts(primary, dr)


# What each operation calls, every mechanism: DR-region APIs, one best-effort call to the
# failed region's compute, and never a Route 53 control-plane write (ChangeResourceRecordSets,
# health-check changes: the control plane is in us-east-1) nor ARC's control plane.
HEALTH_CHECK_FAILOVER = {
    "auto-scaling.DescribeAutoScalingGroups",
    "auto-scaling.UpdateAutoScalingGroup",
    "backup.ListRecoveryPointsByBackupVault",
    "cloudwatch.GetMetricStatistics",
    "cloudwatch.PutMetricData",
    "ec2.DescribeInstanceTypes",
    "ec2.DescribeLaunchTemplateVersions",
    "elastic-load-balancing-v2.DescribeLoadBalancers",
    "rds.DescribeDBInstances",
    "rds.PromoteReadReplica",
    "scheduler.GetSchedule",
    "scheduler.UpdateSchedule",
    "service-quotas.GetServiceQuota",
    "ssm.GetParameter",
    "ssm.PutParameter",
}
HEALTH_CHECK_FAILBACK = {
    "auto-scaling.DescribeAutoScalingGroups",
    "auto-scaling.UpdateAutoScalingGroup",
    "cloudwatch.GetMetricStatistics",
    "cloudwatch.PutMetricData",
    "ec2.DescribeInstanceTypes",
    "ec2.DescribeLaunchTemplateVersions",
    "elastic-load-balancing-v2.DescribeLoadBalancers",
    "rds.CreateDBInstanceReadReplica",
    "rds.DescribeDBInstances",
    "rds.ListTagsForResource",
    "rds.ModifyDBInstance",
    "rds.PromoteReadReplica",
    "scheduler.GetSchedule",
    "scheduler.UpdateSchedule",
    "service-quotas.GetServiceQuota",
    "ssm.GetParameter",
    "ssm.PutParameter",
}
ARC_ONLY = {"route53-recovery-cluster.UpdateRoutingControlStates"}
ROUTE53_CONTROL_PLANE = ("route53.", "route53-recovery-control-config.", "route53domains.")


def _operations(calls: list[str]) -> set[str]:
    assert not [c for c in calls if c.startswith(ROUTE53_CONTROL_PLANE)]
    return set(calls)


def test_failover_and_failback_call_no_route53_control_plane(
    world: World, tmp_path: Path, write_config: ConfigWriter
) -> None:
    opts = options(world, tmp_path, write_config)
    world.down.add("us-east-1")
    world.calls.clear()
    run_operation("failover", world.facts, world.clients(), opts, quiet())
    # The dark region answers no call: the best-effort drain is attempted and fails.
    assert _operations(world.calls) == HEALTH_CHECK_FAILOVER
    world.down.clear()
    set_lag(world, Role.PRIMARY, "reskflow-db-failback", 0.0)
    world.calls.clear()
    run_operation("failback", world.facts, world.clients(), opts, quiet())
    assert _operations(world.calls) == HEALTH_CHECK_FAILBACK


def test_arc_failover_and_failback_call_no_route53_control_plane(
    clean_moto: str, write_config: ConfigWriter, tmp_path: Path
) -> None:
    world, facts = _arc_world(clean_moto, write_config)
    opts = Options(
        journal_dir=tmp_path / "journals",
        dr_stack_file=write_config(base="dr", name="dr"),
        waiter=world.waiter(),
        prober=world.prober,
        resolver=world.resolver,
        clock=world.clock,
    )
    world.calls.clear()
    run_operation("failover", facts, world.clients(), opts, quiet())
    # With ARC the routing controls are the fence: no schedule, no fence datapoint.
    fence_calls = {"cloudwatch.PutMetricData", "scheduler.UpdateSchedule", "scheduler.GetSchedule"}
    assert _operations(world.calls) == (HEALTH_CHECK_FAILOVER - fence_calls) | ARC_ONLY
    set_lag(world, Role.PRIMARY, "reskflow-db-failback", 0.0)
    world.calls.clear()
    run_operation("failback", facts, world.clients(), opts, quiet())
    assert _operations(world.calls) == (HEALTH_CHECK_FAILBACK - fence_calls) | ARC_ONLY


def _staging_world(
    clean_moto: str, write_config: ConfigWriter, graphs: tuple[SynthResult, SynthResult]
) -> tuple[World, Path]:
    def staging(config: dict[str, Any]) -> None:
        config["resilience:environment"] = "staging"

    primary = load_file(write_config(staging, name="primary")).aws
    dr_file = write_config(staging, base="dr", name="dr")
    facts = system_facts(primary, load_file(dr_file).aws)
    world = make_world(clean_moto, facts)
    seed(world, graphs)  # the environment changes no DNS resource
    set_lag(world, Role.PRIMARY, "reskflow-db-failback", 0.0)
    return world, dr_file


def test_drill_reports_step_durations_and_the_measured_rto(
    clean_moto: str,
    write_config: ConfigWriter,
    tmp_path: Path,
    graphs: tuple[SynthResult, SynthResult],
) -> None:
    world, dr_file = _staging_world(clean_moto, write_config, graphs)
    opts = options(world, tmp_path, write_config, dr_stack_file=dr_file)
    world.calls.clear()
    report = run_drill(world.facts, world.clients(), opts, quiet(), report_dir=tmp_path / "drills")
    # A drill is a failover and a failback: the same operations, no control-plane call.
    assert _operations(world.calls) == HEALTH_CHECK_FAILOVER | HEALTH_CHECK_FAILBACK
    assert report["rto_target_seconds"] == 900
    # In simulated time: the lift is stamped at the next minute and read once its period is
    # complete, and resolvers keep the old answer for the alias's 60 s.
    assert 60 <= report["measured_rto_seconds"] <= 900 and report["rto_met"] is True
    assert [s["step"] for s in report["operations"]["failover"]][:4] == [
        "readiness",
        "announce",
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


def test_a_drill_with_a_slow_promotion_misses_its_rto(
    clean_moto: str,
    write_config: ConfigWriter,
    tmp_path: Path,
    graphs: tuple[SynthResult, SynthResult],
) -> None:
    """The promotion takes 20 simulated minutes (RDS gives no bound: "The promotion process
    can take several minutes or longer to complete, depending on the size of the read
    replica", RDS User Guide, "Promoting a read replica"): the measured RTO exceeds the
    15-minute target and the drill says so."""
    world, dr_file = _staging_world(clean_moto, write_config, graphs)
    world.slow_promotions["reskflow-db-dr"] = 20 * 60
    opts = options(world, tmp_path, write_config, dr_stack_file=dr_file)
    report = run_drill(world.facts, world.clients(), opts, quiet(), report_dir=tmp_path / "drills")
    assert report["measured_rto_seconds"] > 20 * 60
    assert report["rto_met"] is False
    markdown = next((tmp_path / "drills").glob("drill-*.md")).read_text()
    assert "NOT met" in markdown
    saved = json.loads((tmp_path / "drills" / "last-drill.json").read_text())
    assert saved["rto_met"] is False


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


def _cli_project(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped project for the CLI, its operations in the world's time."""
    import shutil

    from scripts import cli
    from tests.conftest import ROOT

    project = tmp_path / "project"
    project.mkdir()
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, project / path.name)
    shutil.copytree(ROOT / "systems", project / "systems")
    monkeypatch.setattr(cli, "Clients", world.clients)
    made = cli._options

    def in_the_world(*args: Any) -> Options:
        return replace(
            made(*args),
            clock=world.clock,
            waiter=world.waiter(),
            prober=world.prober,
            resolver=world.resolver,
        )

    monkeypatch.setattr(cli, "_options", in_the_world)
    return project


def test_cli_dry_run_exit_codes_and_confirmation(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from scripts import cli

    project = _cli_project(world, tmp_path, monkeypatch)
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


def test_cli_refuses_a_failover_that_is_not_ready(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from scripts import cli

    project = _cli_project(world, tmp_path, monkeypatch)
    set_lag(world, Role.DR, "reskflow-db-dr", 900)
    fresh = ["--project-dir", str(project), "--journal-dir", str(tmp_path / "j2")]
    refused = CliRunner().invoke(cli.app, ["failover", "--yes", *fresh])
    assert refused.exit_code == 2
    assert "not ready" in refused.output
    assert replica(world).get("ReadReplicaSourceDBInstanceIdentifier")  # nothing done


def test_cli_serving_says_which_stack_may_deploy(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_config: ConfigWriter
) -> None:
    """What deploy.yml reads before the primary's update: deployable until a failover, then
    the primary is not (the dr stack neither, from a file that still says pilot-light)."""
    from typer.testing import CliRunner

    from scripts import cli

    project = _cli_project(world, tmp_path, monkeypatch)
    runner = CliRunner()

    def ask(stack: str) -> dict[str, Any]:
        result = runner.invoke(
            cli.app, ["serving", "--stack", stack, "--json", "--project-dir", str(project)]
        )
        assert result.exit_code == 0, result.output
        return dict(json.loads(result.output))

    assert ask("primary") == {
        "stack": "primary",
        "parameter": "/resilience/reskflow/serving",
        "region": "us-west-2",
        "serving": "primary",
        "operation": None,
        "run": None,
        "at": None,
        "deployable": True,
        "reason": None,
    }
    world.calls.clear()
    world.down.add("us-east-1")
    opts = options(world, tmp_path, write_config, dr_stack_file=project / "Pulumi.dr.yaml")
    run_operation("failover", world.facts, world.clients(), opts, quiet())
    primary = ask("primary")
    assert (primary["serving"], primary["deployable"]) == ("dr", False)
    assert "fail back first" in primary["reason"]
    assert ask("dr")["deployable"] is True  # the failover wrote dr.mode: active into its file
    bad = runner.invoke(cli.app, ["serving", "--project-dir", str(project)])
    assert bad.exit_code == 2 and "name one stack" in bad.output


def test_cli_drill_that_misses_its_rto_exits_1(
    clean_moto: str,
    write_config: ConfigWriter,
    tmp_path: Path,
    graphs: tuple[SynthResult, SynthResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from scripts import cli

    world, _ = _staging_world(clean_moto, write_config, graphs)
    project = _cli_project(world, tmp_path, monkeypatch)
    for name in ("Pulumi.primary.yaml", "Pulumi.dr.yaml"):
        text = (project / name).read_text()
        (project / name).write_text(text + "  resilience:environment: staging\n")
    world.slow_promotions["reskflow-db-dr"] = 20 * 60
    drills = tmp_path / "drills"
    result = CliRunner().invoke(
        cli.app,
        [
            "drill",
            "--yes",
            "--project-dir",
            str(project),
            "--report-dir",
            str(drills),
            "--journal-dir",
            str(tmp_path / "j"),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "exceeds the target of 900 s" in result.output
    assert json.loads((drills / "last-drill.json").read_text())["rto_met"] is False


def test_failover_scales_an_ecs_worker_through_application_auto_scaling(
    clean_moto: str,
    write_config: ConfigWriter,
    tmp_path: Path,
    graphs: tuple[SynthResult, SynthResult],
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
    seed(world, graphs)  # the worker has no public name: the DNS resources are the shipped ones
    ecs = world.client("ecs", "us-west-2")

    def running() -> int:
        found = ecs.describe_services(cluster="reskflow-dr", services=["order-worker"])
        return int(found["services"][0]["runningCount"])

    assert running() == 0  # pilot light
    opts = options(world, tmp_path, write_config, dr_stack_file=dr_file)
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
        set_lag(world, Role.DR, "reskflow-db-dr", 2.0)
        run_operation("failover", world.facts, world.clients(), opts, quiet())
        set_lag(world, Role.PRIMARY, "reskflow-db-failback", 0.0)
        back = run_operation("failback", world.facts, world.clients(), opts, quiet()).journal
        assert back.status == "done"
        copies.append({s.name: s.detail for s in back.steps}["reverse-replication"])
    assert all("replicating from reskflow-db-dr" in c for c in copies)
    rds = world.client("rds", "us-east-1")
    names = [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]]
    assert len([n for n in names if n.startswith("reskflow-db-pre-failback-")]) == 2
    assert world.serving() is Role.PRIMARY
