"""The failover tooling's own overhead per step, measured side by side in one run.

A simulated failover and failback of the shipped ReskFlow stacks run against an in-process
moto server (the test world of tests/ops_world.py: the same seeding and gap fills), in
simulated time: waits poll every 10 simulated seconds and cost no wall time, but each poll
lets the test layer's model of Route 53 and EventBridge Scheduler catch up, which is counted
in the step. For each step it reports the median wall time over `--repeat` runs and the AWS
API calls it made: against moto every call is local, so the time is the tooling's own cost
plus moto's (and the model's), an upper bound of what the steps add to a real failover
beyond AWS's own latency (promotions, instance launches, Route 53's evaluation).

Side by side, the runner alone: a plan of no-op steps with the journal written after every
step against the same plan without a journal, to show what resumability costs per step.

    python benchmarks/failover_overhead.py [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _simulated(repeat: int) -> dict[str, dict[str, Any]]:
    from moto.server import ThreadedMotoServer
    from rich.console import Console

    from model.config import Role
    from model.loader import load_file
    from scripts.engine import synth_all
    from scripts.ops import operations
    from scripts.ops.commands import Options, run_operation
    from scripts.ops.facts import system_facts
    from scripts.ops.runner import Step
    from tests.ops_world import make_world, seed, set_lag

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per moto request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    primary = load_file(ROOT / "Pulumi.primary.yaml").aws
    dr_config = load_file(ROOT / "Pulumi.dr.yaml").aws
    facts = system_facts(primary, dr_config)
    graphs = synth_all(
        [load_file(ROOT / "Pulumi.primary.yaml"), load_file(ROOT / "Pulumi.dr.yaml")]
    )
    times: dict[str, list[float]] = defaultdict(list)
    calls: dict[str, list[int]] = defaultdict(list)
    try:
        for _ in range(repeat):
            urllib.request.urlopen(
                urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
            ).close()
            world = make_world(endpoint, facts)
            seed(world, (graphs[0], graphs[1]))
            set_lag(world, Role.PRIMARY, "reskflow-db-failback", 0.0)

            def measured(operation: str, steps: list[Step], world: Any = world) -> list[Step]:
                def wrap(step: Step) -> Step:
                    def run(context: Any, world: Any = world) -> str:
                        before, began = len(world.calls), time.perf_counter()
                        detail = step.run(context)
                        times[f"{operation}:{step.name}"].append(time.perf_counter() - began)
                        calls[f"{operation}:{step.name}"].append(len(world.calls) - before)
                        return detail

                    return Step(step.name, step.description, run, step.mutates)

                return [wrap(s) for s in steps]

            with tempfile.TemporaryDirectory() as scratch:
                dr_file = Path(scratch) / "Pulumi.dr.yaml"
                dr_file.write_text((ROOT / "Pulumi.dr.yaml").read_text())
                (Path(scratch) / "systems").symlink_to(ROOT / "systems")
                options = Options(
                    journal_dir=Path(scratch) / "journals",
                    dr_stack_file=dr_file,
                    waiter=world.waiter(),
                    prober=world.prober,
                    resolver=world.resolver,
                    clock=world.clock,
                )
                quiet = Console(file=open(os.devnull, "w"))  # noqa: SIM115
                world.down.add(facts.primary_region)
                plan = measured("failover", operations.failover_steps())
                run_operation("failover", facts, world.clients(), options, quiet, steps=plan)
                world.down.clear()
                plan = measured("failback", operations.failback_steps())
                run_operation("failback", facts, world.clients(), options, quiet, steps=plan)
    finally:
        server.stop()
    return {
        name: {"median_s": statistics.median(values), "api_calls": statistics.median(calls[name])}
        for name, values in times.items()
    }


def _runner(steps: int, repeat: int) -> dict[str, float]:
    from rich.console import Console

    from scripts.ops.runner import Step, run_plan

    plan = [Step(f"step-{i}", "no-op", lambda _: "ok") for i in range(steps)]
    quiet = Console(file=open(os.devnull, "w"))  # noqa: SIM115
    results: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as scratch:
            for label, path in (
                ("without journal", None),
                ("with journal", Path(scratch) / "j.json"),
            ):
                began = time.perf_counter()
                run_plan(
                    "bench",
                    "bench",
                    plan,
                    None,
                    journal_path=path,
                    dry_run=False,
                    reason=None,
                    console=quiet,
                )
                results[label].append((time.perf_counter() - began) / steps)
    return {label: statistics.median(values) for label, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    simulated = _simulated(args.repeat)
    runner = _runner(50, args.repeat)
    if args.json:
        print(json.dumps({"steps": simulated, "runner_per_step_s": runner}, indent=2))
        return
    print(f"{'step':44} {'median ms':>10} {'API calls':>10}")
    for name, row in simulated.items():
        print(f"{name:44} {row['median_s'] * 1000:10.1f} {row['api_calls']:10.0f}")
    total = sum(r["median_s"] for r in simulated.values())
    api = sum(r["api_calls"] for r in simulated.values())
    print(f"{'total (failover + failback)':44} {total * 1000:10.1f} {api:10.0f}")
    bare, journaled = runner["without journal"], runner["with journal"]
    print()
    print(
        f"runner per step: {bare * 1000:.2f} ms without journal, {journaled * 1000:.2f} ms with "
        f"(x{journaled / bare:.1f}); per API call against moto: {total / max(api, 1) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
