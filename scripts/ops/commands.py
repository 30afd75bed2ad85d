"""`resilience failover`, `failback` and `drill`: build the context, run the plan, report.

Exit codes: 0 done, 1 a step failed (the journal says which; rerun to resume), 2 refused or
bad input (not ready, production drill, unreadable files), 130 interrupted (journal kept).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from model.config import Role
from scripts.ops.aws import Clients, Waiter
from scripts.ops.facts import SystemFacts
from scripts.ops.operations import (
    OpsContext,
    Prober,
    Resolver,
    failback_steps,
    failover_steps,
    https_probe,
    resolve,
)
from scripts.ops.runner import (
    REAL_CLOCK,
    Clock,
    Journal,
    Refused,
    RunResult,
    Step,
    StepError,
    run_plan,
)

EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 2, 130
# The first failover step that changes anything, and the last: the window a drill times
# against the RTO.
RTO_FROM, RTO_TO = "drain-source", "verify-endpoint"


@dataclass
class Options:
    dry_run: bool = False
    force: bool = False
    reason: str | None = None
    journal_dir: Path = Path(".resilience")
    dr_stack_file: Path | None = None
    waiter: Waiter = field(default_factory=Waiter)
    prober: Prober = https_probe
    resolver: Resolver = resolve
    # Wall time and sleeping for the steps' timestamps, waits and measured durations (the
    # waiter's own clock should be the same one).
    clock: Clock = REAL_CLOCK


def journal_path(options: Options, facts: SystemFacts, operation: str) -> Path:
    return options.journal_dir / f"{facts.system}-{operation}.journal.json"


def _context(facts: SystemFacts, clients: Clients, options: Options, target: Role) -> OpsContext:
    return OpsContext(
        facts=facts,
        clients=clients,
        source=Role.DR if target is Role.PRIMARY else Role.PRIMARY,
        target=target,
        dry_run=options.dry_run,
        force=options.force,
        reason=options.reason,
        waiter=options.waiter,
        prober=options.prober,
        resolver=options.resolver,
        dr_stack_file=options.dr_stack_file,
        now=options.clock.now,
    )


def run_operation(
    operation: str,
    facts: SystemFacts,
    clients: Clients,
    options: Options,
    console: Console,
    *,
    steps: Sequence[Step] | None = None,
) -> RunResult:
    """Run `failover` (to the DR region) or `failback` (to the primary region); `steps`
    replaces the standard plan (tests and benchmarks wrap its steps)."""
    if options.force and not options.reason:
        raise Refused("--force needs --reason: the journal and the drill report record it")
    target = Role.DR if operation == "failover" else Role.PRIMARY
    if steps is None:
        steps = failover_steps() if operation == "failover" else failback_steps()
    context = _context(facts, clients, options, target)
    path = journal_path(options, facts, operation)
    if path.exists() and not options.dry_run:
        last = Journal.load(path)
        if last.status == "done":
            other = "failback" if operation == "failover" else "failover"
            raise Refused(
                f"the {operation} started {last.started} is complete; the next one comes after "
                f"a {other} (its journal: {path})"
            )

    def start(journal: Journal) -> None:
        # One id per run (kept on resume): it tags what the run creates.
        context.run_id = "".join(c for c in journal.started if c.isdigit())[:14]
        context.resumed = any(step.status != "pending" for step in journal.steps)

    result = run_plan(
        operation,
        facts.system,
        steps,
        context,
        journal_path=path,
        dry_run=options.dry_run,
        reason=options.reason,
        console=console,
        on_start=start,
        clock=options.clock,
    )
    if result.journal.status == "done":
        # The other direction's unfinished journal is stale now: never resume it.
        other = "failback" if operation == "failover" else "failover"
        journal_path(options, facts, other).unlink(missing_ok=True)
    if context.checks:
        console.print(readiness_table(context))
    if not options.dry_run:
        console.print(f"journal: {path}", highlight=False)
    return result


def readiness_table(context: OpsContext) -> Table:
    table = Table(title="readiness")
    for column in ("check", "result", "detail"):
        table.add_column(column)
    for check in context.checks:
        verdict = {True: "[green]pass[/]", False: "[red]fail[/]", None: "[yellow]unknown[/]"}
        table.add_row(check.name, verdict[check.ok], check.detail)
    return table


# -- drills ------------------------------------------------------------------------------


def measured_rto_seconds(journal: Journal) -> float | None:
    """Seconds from the first changing step to the end of verification (the sum of the
    steps' monotonic durations in that window)."""
    names = [s.name for s in journal.steps]
    if RTO_FROM not in names or RTO_TO not in names:
        return None
    window = journal.steps[names.index(RTO_FROM) : names.index(RTO_TO) + 1]
    if any(s.duration_s is None for s in window):
        return None
    return round(sum(s.duration_s or 0.0 for s in window), 3)


def drill_report(
    facts: SystemFacts, failover: Journal, failback: Journal, finished: datetime
) -> dict[str, Any]:
    rto = measured_rto_seconds(failover)
    return {
        "schema": "resilience-drill/1",
        "system": facts.system,
        "environment": facts.environment,
        "regions": {"primary": facts.primary_region, "dr": facts.dr_region},
        "mechanism": facts.mechanism,
        "finished": finished.isoformat(timespec="seconds"),
        "rto_target_seconds": facts.rto_minutes * 60,
        "measured_rto_seconds": rto,
        "rto_met": rto is not None and rto <= facts.rto_minutes * 60,
        "operations": {
            name: [
                {"step": s.name, "status": s.status, "duration_s": s.duration_s, "detail": s.detail}
                for s in journal.steps
            ]
            for name, journal in (("failover", failover), ("failback", failback))
        },
    }


def drill_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Drill: {report['system']} ({report['environment']})",
        "",
        f"{report['regions']['primary']} -> {report['regions']['dr']} and back, "
        f"DNS by {report['mechanism'] or 'none'}, finished {report['finished']}.",
        "",
        f"Measured RTO: **{report['measured_rto_seconds']:.1f} s** against a target of "
        f"{report['rto_target_seconds']} s: {'met' if report['rto_met'] else 'NOT met'}.",
        "",
    ]
    for operation, steps in report["operations"].items():
        lines += [
            f"## {operation}",
            "",
            "| step | status | seconds | detail |",
            "|---|---|---|---|",
        ]
        for step in steps:
            detail = str(step["detail"]).replace("|", "\\|")
            lines.append(
                f"| {step['step']} | {step['status']} | {step['duration_s'] or 0:.2f} | {detail} |"
            )
        lines.append("")
    return "\n".join(lines)


def run_drill(
    facts: SystemFacts,
    clients: Clients,
    options: Options,
    console: Console,
    *,
    report_dir: Path,
    allow_production: bool = False,
) -> dict[str, Any]:
    """Failover and failback in a non-production system; writes the drill report (JSON and
    Markdown) and `last-drill.json`, which the RTO analysis reads."""
    if facts.environment == "production" and not allow_production:
        raise Refused(
            f"{facts.system} is a production system: drills run on a non-production copy "
            "(or pass --allow-production on a planned game day)"
        )
    failover = run_operation("failover", facts, clients, options, console).journal
    failback = run_operation("failback", facts, clients, options, console).journal
    finished = options.clock.now()
    report = drill_report(facts, failover, failback, finished)
    report_dir.mkdir(parents=True, exist_ok=True)
    stamp = finished.strftime("%Y%m%dT%H%M%SZ")
    base = report_dir / f"drill-{facts.system}-{stamp}"
    text = json.dumps(report, indent=2) + "\n"
    base.with_suffix(".json").write_text(text)
    base.with_suffix(".md").write_text(drill_markdown(report))
    (report_dir / "last-drill.json").write_text(text)
    for operation in ("failover", "failback"):
        # A finished drill starts the next from scratch.
        journal_path(options, facts, operation).unlink(missing_ok=True)
    console.print(f"drill report: {base.with_suffix('.md')}", highlight=False)
    return report


__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "Options",
    "Refused",
    "StepError",
    "run_drill",
    "run_operation",
]
