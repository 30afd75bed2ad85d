"""Policy evaluation cost at scale, side by side with checkov on the same resources.

For each size (10 and 50 services: about 1,000 and 4,700 resources) the primary + dr pair
of benchmarks/synth_scaling.py is synthesized once; then, over both graphs:

- api: `aws-api-model` alone (botocore's service models, policies/rules/api_models.py), its
  median with the models already loaded, and the first run's time (loading the models);
- rules: `evaluate(graph, ALL_RULES)` (the single-resource rules), the median of
  `--repeat` runs, and the peak memory the evaluation allocates on top of the graphs it
  reads (tracemalloc, one extra run); and `evaluate_graph(graph)`, every rule with the
  stack rules (RTO/RPO analyzer, ...) and the per-rule counts the reports need: what
  `resilience check` runs;
- export: the graphs to Terraform plan JSON (scripts/export.py), median of the same runs;
- checkov: one `checkov --framework terraform_plan` run over the exported plans (what
  `resilience check --with-checkov` runs), its wall time and the peak RSS of its process
  tree, measured from a fresh child process; and checkov's fixed start-up on an empty plan.

The ratio is checkov's time over the time of all rules. Target (issue 7): full rule evaluation
on 1,000 resources under 1 s. Nothing here asserts a time.

    python benchmarks/policy_eval.py [--sizes 10 50] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.synth_scaling import config_pair  # noqa: E402
from model.loader import load_file  # noqa: E402
from policies.evaluate import evaluate_graph  # noqa: E402
from policies.rules import ALL_RULES, STACK_RULES  # noqa: E402
from policies.rules.api_models import RULES as API_MODEL_RULES  # noqa: E402
from policies.rules.core import evaluate, views_from_graph  # noqa: E402
from scripts import checkov  # noqa: E402
from scripts import graph as graph_io  # noqa: E402
from scripts.engine import synth_all  # noqa: E402
from scripts.export import to_terraform_plan  # noqa: E402


def _median_time(action: Any, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def checkov_child(directory: Path, files: list[str]) -> dict[str, Any]:
    """Runs in a fresh process: one checkov run, its wall time and its tree's peak RSS."""
    args = [a for name in files for a in ("--file", name)]
    started = time.perf_counter()
    reports = checkov.run_checkov(
        [*args, "--framework", "terraform_plan", "--compact", "--quiet"], cwd=directory
    )
    elapsed = time.perf_counter() - started
    summary = reports[0]["summary"] if reports else {}
    return {
        "checkov_s": elapsed,
        "checkov_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "checkov_resources": summary.get("resource_count", 0),
        "checkov_failed": summary.get("failed", 0),
    }


def run_checkov_measured(directory: Path, files: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--checkov-child", str(directory), *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"checkov measurement failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def measure(size: int, repeat: int, directory: Path) -> dict[str, Any]:
    paths = config_pair(size, directory)
    started = time.perf_counter()
    graphs = [r.graph for r in synth_all([load_file(p) for p in paths])]
    synth_s = time.perf_counter() - started
    checked = sum(1 for g in graphs for _ in views_from_graph(g))

    def rules() -> None:
        for graph in graphs:
            evaluate(graph, ALL_RULES)

    def everything() -> None:
        for graph in graphs:
            evaluate_graph(graph)

    def api_model() -> None:
        for graph in graphs:
            evaluate(graph, API_MODEL_RULES)

    started = time.perf_counter()
    api_model()
    api_first_s = time.perf_counter() - started
    api_s = _median_time(api_model, repeat)
    rules_s = _median_time(rules, repeat)
    all_s = _median_time(everything, repeat)
    tracemalloc.start()
    loaded = [json.loads(graph_io.dumps(g)) for g in graphs]  # what the rules read
    graph_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del loaded
    tracemalloc.start()
    rules()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    export_s = _median_time(lambda: [to_terraform_plan(g) for g in graphs], repeat)

    out = directory / "out"
    exports = [checkov.export_stack(g, out) for g in graphs]
    row = {
        "label": f"{size} svc x 2",
        "resources": checkov_resources(exports),
        "graph_resources": sum(len(g["resources"]) for g in graphs),
        "checked": checked,
        "synth_s": synth_s,
        "api_s": api_s,
        "api_first_s": api_first_s,
        "rules_s": rules_s,
        "rules_ms_per_1000": rules_s / checked * 1000 * 1000,
        "all_s": all_s,
        "all_ms_per_1000": all_s / checked * 1000 * 1000,
        "rules_peak_kb": peak / 1024,
        "graphs_mb": graph_bytes / 2**20,
        "export_s": export_s,
        **run_checkov_measured(out, [e.plan_file for e in exports]),
    }
    row["ratio"] = row["checkov_s"] / row["all_s"]
    return row


def net_of_startup(rows: list[dict[str, Any]], base: dict[str, Any]) -> None:
    for row in rows:
        row["checkov_net_s"] = row["checkov_s"] - base["checkov_s"]
        row["ratio_net"] = row["checkov_net_s"] / row["all_s"]


def checkov_resources(exports: list[checkov.StackExport]) -> int:
    return sum(len(e.plan.addresses) for e in exports)


def startup(directory: Path) -> dict[str, Any]:
    """checkov on a plan with no resources: the fixed cost of every run."""
    empty = {"resources": [], "edges": [], "stack": "empty", "outputs": {}}
    export = checkov.export_stack(empty, directory)
    return run_checkov_measured(directory, [export.plan_file])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--checkov-child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.checkov_child:
        directory, *files = args.checkov_child
        print(json.dumps(checkov_child(Path(directory), files)))
        return

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = startup(Path(tmp) / "empty")
        for size in args.sizes:
            directory = Path(tmp) / str(size)
            directory.mkdir()
            rows.append(measure(size, args.repeat, directory))
    net_of_startup(rows, base)
    if args.json:
        print(json.dumps({"checkov_startup": base, "rows": rows}, indent=2))
        return
    print(
        f"{'config':<13}{'resources':>10}{'graphs MB':>10}{'api s':>7}{'rules s':>9}{'all s':>7}"
        f"{'ms/1k':>7}"
        f"{'rules KB':>9}{'export s':>9}{'checkov s':>10}{'checkov MB':>11}{'ratio':>7}"
        f"{'net ratio':>10}"
    )
    for row in rows:
        print(
            f"{row['label']:<13}{row['checked']:>10}{row['graphs_mb']:>10.1f}"
            f"{row['api_s']:>7.3f}{row['rules_s']:>9.3f}{row['all_s']:>7.3f}{row['all_ms_per_1000']:>7.1f}"
            f"{row['rules_peak_kb']:>9.0f}"
            f"{row['export_s']:>9.3f}{row['checkov_s']:>10.1f}{row['checkov_rss_mb']:>11.0f}"
            f"{row['ratio']:>6.0f}x{row['ratio_net']:>9.0f}x"
        )
    print(
        f"\napi s: aws-api-model alone, models loaded (the first run, loading them: "
        f"{rows[0]['api_first_s']:.2f} s); "
        f"rules s: the {len(ALL_RULES)} single-resource rules (aws-api-model included); all s: all "
        f"{len(ALL_RULES) + len(STACK_RULES)} rules (ms/1k is theirs); resources = custom "
        f"resources the rules see (providers and "
        f"reads excluded); graphs MB: the graphs in memory; rules KB: what evaluating them "
        f"allocates on top (peak); ratio: checkov's wall time over all rules', net: without "
        f"checkov's start-up; checkov read {', '.join(str(r['checkov_resources']) for r in rows)} "
        f"exported resources; checkov start-up on an empty plan: {base['checkov_s']:.1f} s, "
        f"{base['checkov_rss_mb']:.0f} MB. Target: rules on 1,000 resources under 1 s "
        f"({rows[0]['all_ms_per_1000']:.0f} ms per 1,000 at {rows[0]['checked']})."
    )


if __name__ == "__main__":
    main()
