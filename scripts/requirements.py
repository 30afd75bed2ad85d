"""The requirements traceability matrix: `requirements.yaml` (one row per concrete
requirement of the operations manuals, with what implements it and the test that proves it)
validated against the repository and rendered to `docs/requirements.md`."""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from model.alarms import BY_ID
from model.loader import ConfigError, Problem
from policies.evaluate import all_rules

STATUSES = ("implemented", "partial", "open")
FIELDS = ("id", "manual", "source", "requirement", "numbers", "implemented_by", "tests", "status")


@dataclass(frozen=True)
class Requirement:
    id: str
    manual: str
    source: str
    requirement: str
    numbers: str
    implemented_by: tuple[str, ...]
    tests: tuple[str, ...]
    status: str
    note: str = ""


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def load(path: Path) -> tuple[dict[str, str], list[Requirement]]:
    """Rows checked against the repository at `path.parent`; every problem at once."""
    root, source = path.parent, path.name
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError([Problem(source, "", f"cannot be read: {exc}")]) from None
    manuals = document.get("manuals") or {}
    rows = document.get("requirements") or []
    problems: list[Problem] = []
    rules = {rule.id for rule in all_rules()}
    tests: dict[Path, set[str]] = {}
    out: list[Requirement] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        key = f"requirements[{index}]"
        if not isinstance(row, dict):
            problems.append(Problem(source, key, "must be a mapping"))
            continue
        missing = [f for f in FIELDS if f not in row]
        if missing:
            problems.append(Problem(source, key, f"missing {', '.join(missing)}"))
            continue
        key = f"{key} ({row['id']})"
        if row["id"] in seen:
            problems.append(Problem(source, key, "duplicate id"))
        seen.add(row["id"])
        if row["manual"] not in manuals:
            problems.append(Problem(source, f"{key}.manual", f"unknown manual {row['manual']!r}"))
        if row["status"] not in STATUSES:
            problems.append(Problem(source, f"{key}.status", f"one of {', '.join(STATUSES)}"))
        if row["status"] != "implemented" and not row.get("note"):
            problems.append(Problem(source, f"{key}.note", "say what is missing, or where"))
        if row["status"] != "open" and not (row["implemented_by"] and row["tests"]):
            problems.append(
                Problem(source, key, "implemented_by and tests are required unless open")
            )
        for item in row["implemented_by"] or []:
            kind, _, name = str(item).partition(":")
            if kind == "rule" and name:
                if name not in rules:
                    problems.append(Problem(source, f"{key}.implemented_by", f"no rule {name}"))
            elif kind == "alarm" and name:
                if name not in BY_ID:
                    problems.append(Problem(source, f"{key}.implemented_by", f"no alarm {name}"))
            elif not (root / str(item)).exists():
                problems.append(Problem(source, f"{key}.implemented_by", f"no file {item}"))
        for test in row["tests"] or []:
            file, _, function = str(test).partition("::")
            test_path = root / file
            if not test_path.is_file():
                problems.append(Problem(source, f"{key}.tests", f"no test file {file}"))
                continue
            if test_path not in tests:
                tests[test_path] = _test_functions(test_path)
            if function not in tests[test_path]:
                problems.append(Problem(source, f"{key}.tests", f"no test {function} in {file}"))
        out.append(
            Requirement(
                id=str(row["id"]),
                manual=str(row["manual"]),
                source=str(row["source"]),
                requirement=str(row["requirement"]),
                numbers=str(row["numbers"]),
                implemented_by=tuple(str(i) for i in row["implemented_by"] or []),
                tests=tuple(str(t) for t in row["tests"] or []),
                status=str(row["status"]),
                note=str(row.get("note") or ""),
            )
        )
    if problems:
        raise ConfigError(problems)
    return {str(k): str(v) for k, v in manuals.items()}, out


def coverage(rows: list[Requirement]) -> Counter[str]:
    return Counter(row.status for row in rows)


def render(manuals: dict[str, str], rows: list[Requirement]) -> str:
    counts = coverage(rows)
    lines = [
        "# Requirements traceability",
        "",
        "Generated from `requirements.yaml` by `resilience requirements`; do not edit by hand.",
        "Each row: a concrete requirement of one operations manual (`../shared/seeds/`, line",
        "numbers of that file), what in this repository meets it, and the test that proves it.",
        "",
        f"{len(rows)} requirements: {counts['implemented']} implemented, "
        f"{counts['partial']} partial, {counts['open']} open.",
        "",
    ]
    for manual, file in manuals.items():
        mine = [r for r in rows if r.manual == manual]
        if not mine:
            continue
        lines += [
            f"## {manual} (`{file}`)",
            "",
            "| id | lines | requirement | numbers | implemented by | proved by | status |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in mine:
            implemented = "<br>".join(f"`{i}`" for i in r.implemented_by) or "—"
            proved = "<br>".join(f"`{t.split('::')[-1]}`" for t in r.tests) or "—"
            status = r.status + (f": {r.note}" if r.note else "")
            lines.append(
                f"| {r.id} | {r.source} | {r.requirement} | {r.numbers} | {implemented} | "
                f"{proved} | {status} |"
            )
        lines.append("")
    return "\n".join(lines)


def rows_of(document: Any) -> list[Any]:
    return list((document or {}).get("requirements") or [])
