"""The `resilience` command.

Exit codes: 0 all good, 1 findings (a mandatory policy violation), 2 bad input or usage
(invalid config, unknown stack, missing file), 3 an internal error (a bug: please report).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from model.loader import ConfigError, LoadedConfig, Problem, load_file
from policies.rules import ALL_RULES, Enforcement, Finding
from policies.rules.core import evaluate
from scripts import graph as graph_io
from scripts.engine import StackInputError, SynthError, SynthResult, synth_all

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

app = typer.Typer(
    name="resilience",
    help="Synthesize and check the resilience bundle's stacks offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


class InputError(Exception):
    """Bad command-line input; exit code 2."""


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def find_project_dir(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / "Pulumi.yaml").is_file():
            return directory
    raise InputError(f"no Pulumi.yaml in {start} or any parent: pass --project-dir")


def stack_files(project_dir: Path) -> dict[str, Path]:
    """Every `Pulumi.<stack>.yaml` of the project, by stack name."""
    files = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        files[name] = path
    return files


def resolve_configs(
    project_dir: Path,
    stacks: Sequence[str],
    config_files: Sequence[Path],
    all_stacks: bool,
) -> tuple[list[LoadedConfig], list[LoadedConfig]]:
    """(requested, extra): `extra` are primaries loaded only to answer a StackReference."""
    available = stack_files(project_dir)
    paths: list[Path] = []
    if all_stacks or (not stacks and not config_files):
        paths.extend(available.values())
    for name in stacks:
        if name not in available:
            known = ", ".join(available) or "none"
            raise InputError(f"unknown stack '{name}' (stacks in {project_dir}: {known})")
        paths.append(available[name])
    paths.extend(config_files)

    problems: list[Problem] = []
    requested: dict[str, LoadedConfig] = {}
    for path in dict.fromkeys(paths):  # keep order, drop repeats
        try:
            loaded = load_file(path)
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        if loaded.stack in requested:
            raise InputError(
                f"two config files for stack '{loaded.stack}': {path} and "
                f"{requested[loaded.stack].source}"
            )
        requested[loaded.stack] = loaded
    if problems:
        raise ConfigError(problems)

    extra: list[LoadedConfig] = []
    for loaded in list(requested.values()):
        ref = loaded.config.primary_stack if loaded.config.role.value == "dr" else None
        short = ref.rsplit("/", 1)[-1] if ref else None
        if short is None or short in requested or any(e.stack == short for e in extra):
            continue
        if short not in available:
            raise InputError(
                f"{loaded.source}: resilience:primary_stack: stack '{short}' has no "
                f"Pulumi.{short}.yaml in {project_dir}, so its outputs cannot be computed offline"
            )
        extra.append(load_file(available[short]))
    return list(requested.values()), extra


def run_synth(
    project_dir: Path | None,
    stacks: Sequence[str],
    config_files: Sequence[Path],
    all_stacks: bool,
) -> list[SynthResult]:
    """Load, validate and synthesize; exits with code 2 on bad input."""
    try:
        directory = (project_dir or find_project_dir(Path.cwd())).resolve()
        requested, extra = resolve_configs(directory, stacks, config_files, all_stacks)
        results = synth_all([*extra, *requested])
    except ConfigError as error:
        err.print(f"[bold red]invalid stack config[/] ({len(error.problems)} problems):")
        for problem in error.problems:
            err.print(f"  {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    except (InputError, StackInputError) as error:
        fail(str(error))
    except SynthError as error:
        fail(f"synthesis failed: {error}", EXIT_INTERNAL)
    wanted = {c.stack for c in requested}
    return [r for r in results if r.stack in wanted]


def summary_table(result: SynthResult) -> Table:
    counts: Counter[tuple[str, str]] = Counter()
    for resource in result.graph["resources"]:
        if resource["type"] == "pulumi:pulumi:Stack":
            continue
        counts[(resource["type"], resource["region"] or "-")] += 1
    table = Table(
        title=f"stack {result.stack} ({result.loaded.source}, role "
        f"{result.loaded.config.role.value}, {result.loaded.config.region})"
    )
    table.add_column("type")
    table.add_column("region")
    table.add_column("count", justify="right")
    for (typ, region), count in sorted(counts.items()):
        table.add_row(typ, region, str(count))
    table.add_section()
    table.add_row("total", "", str(sum(counts.values())))
    return table


StacksOpt = Annotated[
    list[str] | None,
    typer.Option("--stack", "-s", help="Stack name (Pulumi.<name>.yaml); repeatable."),
]
ConfigOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--config-file",
        "-c",
        help="Any stack config file, checked without renaming it; "
        "repeatable. The stack name is taken from the file name.",
    ),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every Pulumi.<stack>.yaml of the project.")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Directory for the output files.")]
ProjectOpt = Annotated[
    Path | None,
    typer.Option("--project-dir", help="Directory of Pulumi.yaml (default: found from cwd)."),
]


@app.command()
def synth(
    stack: StacksOpt = None,
    config_file: ConfigOpt = None,
    all_stacks: AllOpt = False,
    out_dir: OutOpt = Path("out"),
    project_dir: ProjectOpt = None,
) -> None:
    """Run stack programs offline and write DIR/<stack>.graph.json for each.

    Without --stack/--config-file every stack of the project is synthesized.
    """
    started = time.perf_counter()
    results = run_synth(project_dir, stack or [], config_file or [], all_stacks)
    for result in results:
        path = graph_io.write(result.graph, out_dir)
        out.print(summary_table(result))
        out.print(f"wrote {path}", highlight=False)
    out.print(f"{len(results)} stack(s) in {time.perf_counter() - started:.2f} s")


def findings_table(findings: Sequence[Finding]) -> Table:
    table = Table(title=f"{len(findings)} finding(s)")
    for column in ("stack", "rule", "severity", "enforcement", "resource", "message"):
        table.add_column(column, overflow="fold")
    for f in findings:
        table.add_row(
            f.stack,
            f.rule_id,
            f.severity.value,
            f.enforcement.value,
            f.urn.rsplit("::", 1)[-1],
            f.message,
        )
    return table


@app.command()
def check(
    stack: StacksOpt = None,
    config_file: ConfigOpt = None,
    all_stacks: AllOpt = False,
    out_dir: OutOpt = Path("out"),
    project_dir: ProjectOpt = None,
) -> None:
    """The main job: synthesize the stacks (all shipped stacks by default), run every policy
    rule on their graphs, write graphs and findings.json to DIR. Exit 1 on a mandatory
    violation."""
    started = time.perf_counter()
    results = run_synth(project_dir, stack or [], config_file or [], all_stacks)
    findings: list[Finding] = []
    for result in results:
        graph_io.write(result.graph, out_dir)
        findings.extend(evaluate(result.graph, ALL_RULES))
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "stacks": {
            r.stack: {"source": r.loaded.source, "resources": r.resource_count} for r in results
        },
        "rules": [rule.id for rule in ALL_RULES],
        "findings": [f.as_dict() for f in findings],
    }
    (out_dir / "findings.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    table = Table(title="resilience check")
    for column in ("stack", "source", "resources", "findings"):
        table.add_column(column)
    for result in results:
        count = sum(1 for f in findings if f.stack == result.stack)
        table.add_row(result.stack, result.loaded.source, str(result.resource_count), str(count))
    out.print(table)
    if findings:
        out.print(findings_table(findings))
    mandatory = [f for f in findings if f.enforcement is Enforcement.MANDATORY]
    elapsed = time.perf_counter() - started
    out.print(
        f"{len(results)} stack(s), {len(ALL_RULES)} rules, {len(findings)} finding(s) "
        f"({len(mandatory)} mandatory) in {elapsed:.2f} s; wrote {out_dir}/",
        highlight=False,
    )
    raise typer.Exit(EXIT_FINDINGS if mandatory else EXIT_OK)


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # a bug, not bad input: say so, keep the traceback
        err.print_exception()
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}")
        raise SystemExit(EXIT_INTERNAL) from exc
