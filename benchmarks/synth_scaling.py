"""Synth cost by number of services, measured side by side in one run.

For each size (1, 10, 50 services) a fresh Python process loads a primary + dr config pair
derived from the shipped ReskFlow stacks and synthesizes both offline, `--repeat` times,
once as the foundation alone (provider and keys) and once as the full stack programs
(monitoring included), side by side;
it reports resources, the median synth time (config load + both programs + graphs), the
process's wall time including interpreter start and imports, and its peak RSS. A fresh
process per size keeps peak RSS honest. The shipped stacks (`resilience check`'s synth) are
measured the same way.

Targets (issue 2): shipped stacks under 10 s together on a 2-core machine; 50 services at
most 60x the 1-service time. The ratios are printed; nothing here asserts a time.

    python benchmarks/synth_scaling.py [--sizes 1 10 50] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _numbered(template: dict[str, Any], i: int) -> dict[str, Any]:
    """A copy of a service with its own name, DNS record and owned group names."""
    service = {**copy.deepcopy(template), "name": f"svc-{i:03d}"}
    if service.get("dns"):
        service["dns"]["record"] = f"svc-{i:03d}.{service['dns']['record']}"
    for resources in service.get("resources", {}).values():
        if resources.get("asg"):
            resources["asg"]["name"] = f"{resources['asg']['name']}-{i:03d}"
    return service


def config_pair(services: int, directory: Path) -> list[Path]:
    """Pulumi.primary.yaml / Pulumi.dr.yaml with `services` services, each a copy of the
    first shipped one (ALB, ASG, database, queue, certificate, S3 replication)."""
    from model.loader import INCLUDE_KEY, with_includes

    paths = []
    for stack in ("primary", "dr"):
        document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        document["config"], _ = with_includes(document["config"], ROOT, stack)
        document["config"].pop(INCLUDE_KEY)
        template = document["config"]["resilience:services"][0]
        document["config"]["resilience:services"] = [
            _numbered(template, i) for i in range(services)
        ]
        path = directory / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        paths.append(path)
    return paths


def _foundation_only(paths: list[Path]) -> int:
    """The foundation component alone for each config: the baseline the rest adds to."""
    from components.foundation import FoundationArgs, RegionalFoundation
    from model.loader import load_file
    from scripts.engine import run_offline

    count = 0
    for path in paths:
        loaded = load_file(path)
        config = loaded.config

        def program(config: Any = config) -> None:
            RegionalFoundation(
                "base", FoundationArgs(region=config.region, name_prefix=config.name)
            )

        run = run_offline(program, stack=loaded.stack)
        count += sum(1 for r in run.registrations if r.type != "pulumi:pulumi:Stack")
    return count


def measure_in_this_process(paths: list[Path], repeat: int, program: str) -> dict[str, Any]:
    from model.loader import load_file
    from scripts.engine import synth_all

    timings, resources = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        if program == "foundation":
            resources = _foundation_only(paths)
        else:
            results = synth_all([load_file(p) for p in paths])
            resources = sum(r.resource_count for r in results)
        timings.append(time.perf_counter() - started)
    return {
        "resources": resources,
        "synth_s": statistics.median(timings),
        "synth_runs_s": timings,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(label: str, paths: list[Path], repeat: int, program: str = "full") -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", program, str(repeat), *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{label}: the measuring process failed:\n{done.stderr}")
    row: dict[str, Any] = json.loads(done.stdout)
    row["label"] = label
    row["process_s"] = time.perf_counter() - started
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        program, repeat, *paths = args.child
        print(json.dumps(measure_in_this_process([Path(p) for p in paths], int(repeat), program)))
        return

    rows = []
    shipped = [ROOT / f"Pulumi.{s}.yaml" for s in ("primary", "dr", "example-minimal")]
    rows.append(measure("shipped stacks (3)", shipped, args.repeat))
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            directory = Path(tmp) / str(size)
            directory.mkdir()
            pair = config_pair(size, directory)
            rows.append(measure(f"{size} svc x 2, foundation", pair, args.repeat, "foundation"))
            rows.append(measure(f"{size} svc x 2, full", pair, args.repeat))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    base = next((r for r in rows if r["label"] == f"{args.sizes[0]} svc x 2, full"), rows[0])
    print(
        f"{'config':<30}{'resources':>10}{'synth s':>10}{'process s':>11}{'peak RSS MB':>13}"
        f"{'x smallest':>12}"
    )
    for row in rows:
        ratio = row["synth_s"] / base["synth_s"]
        print(
            f"{row['label']:<30}{row['resources']:>10}{row['synth_s']:>10.3f}"
            f"{row['process_s']:>11.2f}{row['peak_rss_mb']:>13.0f}{ratio:>12.2f}"
        )
    largest = rows[-1]
    print(
        f"\nshipped stacks synth: {rows[0]['synth_s']:.3f} s (target < 10 s); "
        f"{largest['label']} / {base['label']}: {largest['synth_s'] / base['synth_s']:.2f}x "
        f"(target <= 60x); {largest['synth_s'] / largest['resources'] * 1000:.2f} ms per "
        f"resource at {largest['resources']} resources vs "
        f"{base['synth_s'] / base['resources'] * 1000:.2f} ms at {base['resources']}"
    )


if __name__ == "__main__":
    main()
