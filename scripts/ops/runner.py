"""Run an operation as a plan of named steps, with a journal that makes it resumable.

- Every step is idempotent: it reads the current state first and does only what is missing,
  so running a finished step again changes nothing.
- The journal (JSON) records each step's status, start, duration and detail as it goes. A
  crash or Ctrl-C leaves it behind; the next run of the same operation skips the steps that
  finished and redoes the one that was running.
- A dry run runs every step in read-only mode: steps read state and say what they would do;
  nothing is written, not even the journal.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

JOURNAL_SCHEMA = "resilience-journal/1"


class Clock:
    """Wall time, a monotonic clock and sleeping: the real ones. Tests pass a simulated clock
    so that waits, timestamps and measured durations follow simulated time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


REAL_CLOCK = Clock()


class StepError(Exception):
    """A step failed: names the step, the resource and the AWS error code."""

    def __init__(self, step: str, resource: str, code: str, message: str) -> None:
        super().__init__(f"step {step}: {resource}: {code}: {message}")
        self.step, self.resource, self.code, self.message = step, resource, code, message


class Refused(Exception):
    """The operation will not start (readiness failed, wrong environment, ...)."""


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    run: Callable[[Any], str]  # (context) -> detail; reads first, changes only what is missing
    mutates: bool = True


@dataclass
class StepRecord:
    name: str
    status: str = "pending"  # pending | running | done | failed | skipped
    started: str | None = None
    finished: str | None = None
    duration_s: float | None = None
    detail: str = ""
    error: str | None = None


@dataclass
class Journal:
    operation: str
    system: str
    started: str
    reason: str | None = None
    status: str = "running"  # running | done | failed | interrupted
    steps: list[StepRecord] = field(default_factory=list)

    def record(self, name: str) -> StepRecord:
        for step in self.steps:
            if step.name == name:
                return step
        step = StepRecord(name)
        self.steps.append(step)
        return step

    def as_json(self) -> str:
        document = {"schema": JOURNAL_SCHEMA, **asdict(self)}
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path) -> Journal:
        try:
            document = json.loads(path.read_text())
            steps = [StepRecord(**s) for s in document.pop("steps")]
            document.pop("schema", None)
            return cls(**document, steps=steps)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise Refused(
                f"{path}: unreadable journal ({exc}); move it aside to start over"
            ) from None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(self.as_json())
        os.replace(temporary, path)  # atomic: a crash never leaves half a journal


def _stamp(clock: Clock) -> str:
    return clock.now().isoformat(timespec="seconds")


@dataclass
class RunResult:
    journal: Journal
    resumed: bool


def run_plan(
    operation: str,
    system: str,
    steps: Sequence[Step],
    context: Any,
    *,
    journal_path: Path | None,
    dry_run: bool,
    reason: str | None,
    console: Console,
    on_start: Callable[[Journal], None] | None = None,
    clock: Clock = REAL_CLOCK,
) -> RunResult:
    """Run `steps` in order. Raises StepError (journal saved as failed) or KeyboardInterrupt
    (journal saved as interrupted). `on_start` sees the journal (new or resumed) first."""
    journal = Journal(operation, system, _stamp(clock), reason)
    resumed = False
    if journal_path is not None and journal_path.exists() and not dry_run:
        previous = Journal.load(journal_path)
        if previous.operation != operation or previous.system != system:
            raise Refused(
                f"{journal_path} holds an unfinished {previous.operation} of {previous.system}; "
                "finish it or move the journal aside"
            )
        if previous.status != "done":
            journal, resumed = previous, True
            journal.reason = reason or journal.reason
            journal.status = "running"
            console.print(f"resuming the {operation} started {previous.started} from its journal")
    for step in steps:
        journal.record(step.name)
    if on_start is not None:
        on_start(journal)

    def save() -> None:
        if journal_path is not None and not dry_run:
            journal.save(journal_path)

    save()
    try:
        for index, step in enumerate(steps, 1):
            record = journal.record(step.name)
            label = f"[{index}/{len(steps)}] {step.name}"
            if record.status == "done" and step.mutates:
                console.print(f"{label}: done earlier ({record.detail})", highlight=False)
                continue
            # A step that only reads (readiness) runs again on resume: the world moved on.
            record.status, record.started, record.error = "running", _stamp(clock), None
            save()
            began = clock.monotonic()
            with console.status(f"{label}: {step.description}"):
                try:
                    record.detail = step.run(context)
                except (StepError, Refused) as exc:
                    record.status, record.error = "failed", str(exc)
                    record.duration_s = round(clock.monotonic() - began, 3)
                    journal.status = "failed"
                    save()
                    raise
            record.duration_s = round(clock.monotonic() - began, 3)
            record.status = "done" if not dry_run else "skipped"
            record.finished = _stamp(clock)
            save()
            console.print(
                f"{label}: {record.detail} [dim]({record.duration_s:.1f} s)[/]", highlight=False
            )
    except KeyboardInterrupt:
        journal.status = "interrupted"
        save()
        raise
    journal.status = "done" if not dry_run else "dry-run"
    save()
    return RunResult(journal, resumed)
