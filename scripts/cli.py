"""The `resilience` command.

Exit codes: 0 all good, 1 findings (a mandatory policy violation), 2 bad input or usage
(invalid config, unknown stack, missing file), 3 an internal error (a bug: please report).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from model.loader import ConfigError, LoadedConfig, Problem, load_file
from policies.evaluate import all_rules, evaluate_graph
from policies.rules import ALL_RULES, STACK_RULES, Enforcement, Finding
from policies.rules.recovery import summary as recovery_summary
from policies.rules.stack import load_drill
from scripts import checkov, reports, secret_scan
from scripts import graph as graph_io
from scripts import preflight as preflight_checks
from scripts import requirements as traceability
from scripts import review as kind_review
from scripts.diff import WORKTREE, DiffError, markdown, run_diff
from scripts.engine import StackInputError, SynthError, SynthResult, synth_all
from scripts.ops.aws import Clients
from scripts.ops.commands import EXIT_FAILED, Options, run_drill, run_operation
from scripts.ops.facts import FactsError, SystemFacts, read_outputs, system_facts
from scripts.ops.runner import Refused, StepError

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

app = typer.Typer(
    name="resilience",
    help="Synthesize and check the resilience bundle's stacks offline; fail over, fail back "
    "and drill them for real.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


class InputError(Exception):
    """Bad command-line input; exit code 2."""


def problems_count(problems: Sequence[object]) -> str:
    """The count of problems, singular for one: `1 problem`, `2 problems`."""
    return f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"


def invalid(error: ConfigError, what: str) -> NoReturn:
    """Every problem of an invalid input, one a line, and exit 2."""
    err.print(f"[bold red]invalid {what}[/] ({problems_count(error.problems)}):")
    for problem in error.problems:
        err.print(f"  {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_INPUT) from None


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
        invalid(error, "stack config")
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


def checkov_second_opinion(results: Sequence[SynthResult], out_dir: Path) -> checkov.CheckovReport:
    """Export every checked stack into DIR and run checkov once over the exports."""
    out.print(f"checkov {checkov.CHECKOV_VERSION} (its own environment; the first run installs it)")
    try:
        exports = [
            checkov.export_stack(r.graph, out_dir, source=Path(r.loaded.source).name)
            for r in results
        ]
        return checkov.scan(exports, out_dir)
    except checkov.CheckovError as error:
        fail(f"checkov: {error}")


def checkov_table(report: checkov.CheckovReport) -> Table:
    table = Table(
        title=f"checkov {report.version}: {len(report.open)} finding(s), {len(report.excepted)} "
        "excepted with reasons (advisory: not in the exit code)"
    )
    for column in ("stack", "check", "name", "resource"):
        table.add_column(column, overflow="fold")
    for f in report.open:
        table.add_row(f.stack, f.check_id, f.check_name, f.resource)
    return table


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
    *,
    stack: StacksOpt = None,
    config_file: ConfigOpt = None,
    all_stacks: AllOpt = False,
    out_dir: OutOpt = Path("out"),
    project_dir: ProjectOpt = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="Reports to write, comma-separated: json (always), md, html, sarif, junit.",
        ),
    ] = "json",
    with_checkov: Annotated[
        bool,
        typer.Option(
            "--with-checkov",
            help="Also write DIR/<stack>.tfplan.json (and .k8s.yaml) and run checkov on them in "
            "its own environment (uv tool run); its findings, CKV ids and reviewed exceptions "
            "go into every report but are advisory: they never change the exit code.",
        ),
    ] = False,
) -> None:
    """The main job: synthesize the stacks (all shipped stacks by default), run every policy
    rule on their graphs, write graphs and findings.json to DIR. Exit 1 on a mandatory
    violation (checkov's findings, with --with-checkov, are advisory)."""
    formats = [f.strip() for f in output_format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in reports.FORMATS]
    if unknown:
        fail(f"--format: unknown {', '.join(unknown)} (choose from {', '.join(reports.FORMATS)})")
    started = time.perf_counter()
    results = run_synth(project_dir, stack or [], config_file or [], all_stacks)
    leaks = secret_scan.scan([r.loaded.path for r in results if r.loaded.path is not None])
    if leaks:
        err.print(f"[bold red]plaintext secrets[/] ({len(leaks)}):")
        for problem in leaks:
            err.print(f"  {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT)
    findings: list[Finding] = []
    stacks: list[reports.StackResult] = []
    # The RTO analysis uses the last drill's measured durations when there is one.
    drill = load_drill((project_dir or find_project_dir(Path.cwd())).resolve())
    recovery_lines: list[str] = []
    for result in results:
        graph_io.write(result.graph, out_dir)
        evaluation = evaluate_graph(
            result.graph, drill=drill, rules=ALL_RULES, stack_rules=STACK_RULES
        )
        findings.extend(evaluation.findings)
        recovery_line = recovery_summary(evaluation.view)
        if recovery_line:
            recovery_lines.append(recovery_line)
        stacks.append(
            reports.StackResult(
                stack=result.stack,
                source=Path(result.loaded.source).name,
                resources=result.resource_count,
                checked=evaluation.checked,
            )
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    rules = all_rules(ALL_RULES, STACK_RULES)
    second = checkov_second_opinion(results, out_dir) if with_checkov else None
    report = reports.Report(stacks=stacks, rules=rules, findings=sorted(findings), checkov=second)
    for name in dict.fromkeys(["json", *formats]):  # findings.json always
        path = out_dir / reports.FILES[name]
        path.write_text(reports.RENDER[name](report), encoding="utf-8")

    table = Table(title="resilience check")
    for column in ("stack", "source", "resources", "findings"):
        table.add_column(column)
    for result in results:
        count = sum(1 for f in findings if f.stack == result.stack)
        table.add_row(result.stack, result.loaded.source, str(result.resource_count), str(count))
    out.print(table)
    if findings:
        out.print(findings_table(findings))
    if second is not None:
        out.print(checkov_table(second))
    mandatory = [f for f in findings if f.enforcement is Enforcement.MANDATORY]
    for line in recovery_lines:
        out.print(line, highlight=False, soft_wrap=True)
    out.print(requirements_coverage(project_dir), highlight=False)
    elapsed = time.perf_counter() - started
    out.print(
        f"{len(results)} stack(s), {len(rules)} rules, {len(findings)} finding(s) "
        f"({len(mandatory)} mandatory) in {elapsed:.2f} s; wrote {out_dir}/",
        highlight=False,
    )
    raise typer.Exit(EXIT_FINDINGS if mandatory else EXIT_OK)


PrimaryStackOpt = Annotated[
    str, typer.Option("--primary-stack", help="Name of the primary stack (Pulumi.<name>.yaml).")
]
DrStackOpt = Annotated[
    str, typer.Option("--dr-stack", help="Name of the dr stack (Pulumi.<name>.yaml).")
]
OutputsOpt = Annotated[
    Path | None,
    typer.Option(
        "--primary-outputs",
        help="The primary stack's outputs (`pulumi stack output --json`, or a graph from "
        "`resilience synth`); needed with failover.mechanism arc.",
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Read state and print the plan; change nothing.")
]
YesOpt = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Go on although readiness checks fail (needs --reason).")
]
ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Why: recorded in the journal and reports.")
]
JournalOpt = Annotated[
    Path, typer.Option("--journal-dir", help="Where journals are kept (resume from them).")
]


def _operation_inputs(
    project_dir: Path | None, primary_stack: str, dr_stack: str, primary_outputs: Path | None
) -> tuple[SystemFacts, Path]:
    directory = (project_dir or find_project_dir(Path.cwd())).resolve()
    files = stack_files(directory)
    for name in (primary_stack, dr_stack):
        if name not in files:
            raise InputError(f"unknown stack '{name}' (stacks in {directory}: {', '.join(files)})")
    problems: list[Problem] = []
    loaded = {}
    for name in (primary_stack, dr_stack):
        try:
            loaded[name] = load_file(files[name])
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    outputs = read_outputs(primary_outputs) if primary_outputs else None
    facts = system_facts(loaded[primary_stack].aws, loaded[dr_stack].aws, outputs)
    return facts, files[dr_stack]


def _run_ops(action: Callable[[], object], dry_run: bool, yes: bool, what: str) -> None:
    if not dry_run and not yes:
        if not sys.stdin.isatty():
            fail(f"{what} changes real infrastructure: pass --yes (or --dry-run first)")
        if not typer.confirm(f"{what}: go ahead?"):
            raise typer.Exit(EXIT_INPUT)
    try:
        action()
    except ConfigError as error:
        invalid(error, "stack config")
    except (InputError, FactsError, Refused) as error:
        fail(str(error))
    except StepError as error:
        hint = "" if dry_run else " (the journal records it; rerun to resume)"
        fail(f"{error}{hint}", EXIT_FAILED)
    except KeyboardInterrupt:
        fail("interrupted: the journal records the finished steps; rerun to resume", 130)


def _options(
    journal_dir: Path, dr_file: Path, dry_run: bool, force: bool, reason: str | None
) -> Options:
    return Options(
        dry_run=dry_run, force=force, reason=reason, journal_dir=journal_dir, dr_stack_file=dr_file
    )


@app.command()
def failover(
    *,
    to: Annotated[str, typer.Option("--to", help="The region to fail over to: dr.")] = "dr",
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    force: ForceOpt = False,
    reason: ReasonOpt = None,
    primary_stack: PrimaryStackOpt = "primary",
    dr_stack: DrStackOpt = "dr",
    primary_outputs: OutputsOpt = None,
    journal_dir: JournalOpt = Path(".resilience"),
    project_dir: ProjectOpt = None,
) -> None:
    """Move traffic and writes to the DR region with DR-region APIs: readiness, stop the old
    primary's compute if its region answers (best effort), fence it, promote the databases,
    keep their backups, scale DR compute, wait until it is healthy, lift its fence, verify,
    and set dr.mode active in the dr stack file. Resumes from its journal after a crash."""
    if to != "dr":
        fail("--to dr is the only failover direction; use `resilience failback` to return")

    def action() -> None:
        facts, dr_file = _operation_inputs(project_dir, primary_stack, dr_stack, primary_outputs)
        options = _options(journal_dir, dr_file, dry_run, force, reason)
        run_operation("failover", facts, Clients(), options, out)

    _run_ops(action, dry_run, yes, "failover to the DR region")


@app.command()
def failback(
    *,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    force: ForceOpt = False,
    reason: ReasonOpt = None,
    primary_stack: PrimaryStackOpt = "primary",
    dr_stack: DrStackOpt = "dr",
    primary_outputs: OutputsOpt = None,
    journal_dir: JournalOpt = Path(".resilience"),
    project_dir: ProjectOpt = None,
) -> None:
    """Return to the primary region after a failover: replicate the DR writer back, switch
    over with the DR region fenced, give the copy the primary's identifier, switch traffic,
    and put the DR region back in its standby mode."""

    def action() -> None:
        facts, dr_file = _operation_inputs(project_dir, primary_stack, dr_stack, primary_outputs)
        options = _options(journal_dir, dr_file, dry_run, force, reason)
        run_operation("failback", facts, Clients(), options, out)

    _run_ops(action, dry_run, yes, "failback to the primary region")


@app.command()
def drill(
    *,
    report_dir: Annotated[
        Path, typer.Option("--report-dir", help="Where drill reports are written.")
    ] = Path("drills"),
    allow_production: Annotated[
        bool, typer.Option("--allow-production", help="Drill a production system (game day).")
    ] = False,
    yes: YesOpt = False,
    reason: ReasonOpt = None,
    primary_stack: PrimaryStackOpt = "primary",
    dr_stack: DrStackOpt = "dr",
    primary_outputs: OutputsOpt = None,
    journal_dir: JournalOpt = Path(".resilience"),
    project_dir: ProjectOpt = None,
) -> None:
    """Failover and failback of a non-production system, with a report of every step's
    duration and the measured RTO (DIR/last-drill.json feeds the RTO analysis)."""

    def action() -> None:
        facts, dr_file = _operation_inputs(project_dir, primary_stack, dr_stack, primary_outputs)
        options = _options(journal_dir, dr_file, False, False, reason)
        report = run_drill(
            facts,
            Clients(),
            options,
            out,
            report_dir=report_dir,
            allow_production=allow_production,
        )
        if not report["rto_met"]:
            # A drill that misses the recovery time objective is a failed drill.
            measured = report["measured_rto_seconds"]
            fail(
                f"drill: measured RTO {measured} s exceeds the target of "
                f"{report['rto_target_seconds']} s (see the drill report)",
                EXIT_FAILED,
            )

    _run_ops(action, False, yes, "drill (failover and failback)")


def _preflight_inputs(
    project_dir: Path | None, stack: str | None, config_file: Path | None
) -> tuple[Path, LoadedConfig, SynthResult]:
    """The one stack to preflight, validated and synthesized (its primary too, for a dr
    stack's StackReference)."""
    directory, loaded, extra = _one_stack(project_dir, stack, config_file)
    results = synth_all([*extra, loaded])
    return directory, loaded, next(r for r in results if r.stack == loaded.stack)


OneStackOpt = Annotated[
    str | None, typer.Option("--stack", "-s", help="Stack name (Pulumi.<name>.yaml).")
]
OneConfigOpt = Annotated[
    Path | None, typer.Option("--config-file", "-c", help="A stack config file.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object on stdout (for CI).")]


def _one_stack(
    project_dir: Path | None, stack: str | None, config_file: Path | None
) -> tuple[Path, LoadedConfig, list[LoadedConfig]]:
    """The one AWS stack a command is about (--stack or --config-file), validated, with the
    stacks it references."""
    if (stack is None) == (config_file is None):
        raise InputError("name one stack: --stack NAME or --config-file FILE")
    directory = (project_dir or find_project_dir(Path.cwd())).resolve()
    requested, extra = resolve_configs(
        directory, [stack] if stack else [], [config_file] if config_file else [], False
    )
    loaded = requested[0]
    loaded.aws  # noqa: B018 - raises ConfigError naming the file for a Google Cloud stack
    return directory, loaded, extra


@app.command()
def serving(
    *,
    stack: OneStackOpt = None,
    config_file: OneConfigOpt = None,
    project_dir: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Which region serves (the DR region's fact that failover and failback write) and
    whether the stack may be deployed now: the check its program runs before it registers
    anything. Read-only. Exit 0 either way (the answer is `deployable`), 1 when the fact
    cannot be read, 2 on bad input."""
    from botocore.exceptions import BotoCoreError, ClientError

    from model.serving import ServingState, conflict, parameter_name

    try:
        _, loaded, _ = _one_stack(project_dir, stack, config_file)
        config = loaded.aws
    except ConfigError as error:
        invalid(error, "stack config")
    except InputError as error:
        fail(str(error))
    name = parameter_name(config.name)
    ssm = Clients()("ssm", config.dr.region)
    state: ServingState | None = None
    try:
        state = ServingState.from_json(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ParameterNotFound":
            fail(f"{name} in {config.dr.region}: {error}", EXIT_FAILED)
    except (BotoCoreError, ValueError) as error:
        fail(f"{name} in {config.dr.region}: {error}", EXIT_FAILED)
    reason = conflict(config, state)
    document = {
        "stack": loaded.stack,
        "parameter": name,
        "region": config.dr.region,
        "serving": (state.serving.value if state else "primary"),
        "operation": state.operation if state else None,
        "run": state.run if state else None,
        "at": state.at if state else None,
        "deployable": reason is None,
        "reason": reason,
    }
    if as_json:
        out.print(json.dumps(document, indent=2), markup=False, highlight=False, soft_wrap=True)
        return
    if document["operation"]:
        what = f"a {document['operation']} is under way"
    else:
        what = f"the {document['serving']} region serves"
    out.print(f"{loaded.stack}: {what} ({name} in {config.dr.region})", highlight=False)
    out.print(
        "deployable" if reason is None else f"not deployable: {reason}",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def preflight(
    *,
    stack: OneStackOpt = None,
    config_file: OneConfigOpt = None,
    project_dir: ProjectOpt = None,
    as_json: JsonOpt = False,
    backend_url: Annotated[
        str | None,
        typer.Option(
            "--backend-url",
            envvar="PULUMI_BACKEND_URL",
            help="The state backend (default: PULUMI_BACKEND_URL, else bootstrap/'s bucket).",
        ),
    ] = None,
    secrets_provider: Annotated[
        str | None,
        typer.Option(
            "--secrets-provider",
            help="awskms://... (default: the stack file's secretsprovider, else bootstrap/'s).",
        ),
    ] = None,
    deploy_role_arn: Annotated[
        str | None,
        typer.Option(
            "--deploy-role-arn",
            envvar="AWS_DEPLOY_ROLE_ARN",
            help="The role deploy.yml assumes (its trust of the repository is checked).",
        ),
    ] = None,
    repository: Annotated[
        str | None,
        typer.Option(
            "--repository", envvar="GITHUB_REPOSITORY", help="OWNER/REPO of the CI workflows."
        ),
    ] = None,
) -> None:
    """Ask the stack's account and region, read-only, what would collide or fail before the
    first `pulumi up`: account singletons, SMS sandbox and origination numbers, service quotas
    for the stack's resources, the caller's KMS permissions, the state backend, GitHub OIDC.
    Exit 1 when a check fails (warnings and unknowns do not), 2 on bad input."""

    def bad(message: str, problems: Sequence[str] = ()) -> NoReturn:
        if as_json:
            document = {"stack": stack or (config_file and config_file.name), "error": message}
            out.print(
                json.dumps({**document, "problems": list(problems)}, indent=2),
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        for problem in problems:
            err.print(f"  {problem}", highlight=False, soft_wrap=True)
        fail(message)

    try:
        directory, loaded, result = _preflight_inputs(project_dir, stack, config_file)
        inputs = preflight_checks.Inputs(
            stack=loaded.stack,
            config=loaded.aws,
            graph=result.graph,
            backend_url=backend_url,
            secrets_provider=secrets_provider,
            project_dir=directory,
            stack_file=loaded.path,
            ci=preflight_checks.ci_target(directory, deploy_role_arn, repository),
        )
        report = preflight_checks.run_preflight(inputs, Clients())
    except ConfigError as error:
        bad(
            f"invalid stack config ({problems_count(error.problems)})",
            [str(p) for p in error.problems],
        )
    except (InputError, StackInputError, preflight_checks.PreflightError) as error:
        bad(str(error))
    except SynthError as error:
        fail(f"synthesis failed: {error}", EXIT_INTERNAL)
    if as_json:
        text = json.dumps(report.as_json(), indent=2)
        out.print(text, markup=False, highlight=False, soft_wrap=True)
    else:
        table = Table(title=preflight_checks.summary(report))
        for column in ("check", "status", "detail"):
            table.add_column(column, overflow="fold")
        colour = {"pass": "green", "fail": "bold red", "warn": "yellow", "unknown": "magenta"}
        for check_id, status, text in preflight_checks.render_lines(report):
            table.add_row(check_id, f"[{colour[status]}]{status}[/]", text)
        out.print(table)
    raise typer.Exit(report.exit_code)


def requirements_coverage(project_dir: Path | None) -> str:
    """One line on how many of the manuals' requirements the bundle meets."""
    try:
        directory = (project_dir or find_project_dir(Path.cwd())).resolve()
        _, rows = traceability.load(directory / "requirements.yaml")
    except (ConfigError, InputError) as error:
        return f"requirements: not checked ({str(error).splitlines()[0]})"
    counts = traceability.coverage(rows)
    return (
        f"requirements: {counts['implemented']}/{len(rows)} implemented, "
        f"{counts['partial']} partial, {counts['open']} open (docs/requirements.md)"
    )


@app.command()
def requirements(
    *,
    check_only: Annotated[
        bool, typer.Option("--check", help="Fail if docs/requirements.md is out of date.")
    ] = False,
    project_dir: ProjectOpt = None,
) -> None:
    """Validate requirements.yaml (every file, rule, alarm and test it names exists) and
    render the traceability matrix to docs/requirements.md."""
    try:
        directory = (project_dir or find_project_dir(Path.cwd())).resolve()
        manuals, rows = traceability.load(directory / "requirements.yaml")
    except ConfigError as error:
        invalid(error, "requirements")
    except InputError as error:
        fail(str(error))
    text = traceability.render(manuals, rows)
    target = directory / "docs" / "requirements.md"
    counts = traceability.coverage(rows)
    summary = (
        f"{len(rows)} requirements: {counts['implemented']} implemented, "
        f"{counts['partial']} partial, {counts['open']} open"
    )
    if check_only:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            fail(f"{target} is out of date: run `resilience requirements`")
        out.print(f"{summary}; {target.name} is up to date", highlight=False)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    out.print(f"{summary}; wrote {target}", highlight=False)


def example_configs(project_dir: Path) -> list[Path]:
    """The stack files of the examples (one system per operations manual)."""
    return sorted(project_dir.glob("examples/*/Pulumi.*.yaml"))


@app.command()
def review(
    *,
    check_only: Annotated[
        bool, typer.Option("--check", help="Fail if docs/kind-review.md is out of date.")
    ] = False,
    project_dir: ProjectOpt = None,
) -> None:
    """Validate docs/review/*.yaml (every rule, config key and file a check names exists),
    synthesize the shipped stacks and the examples, and render the per-kind review with its
    coverage (kinds the graphs create, reviewed or not) to docs/kind-review.md."""
    directory = (project_dir or find_project_dir(Path.cwd())).resolve()
    try:
        rule_ids = [r.id for r in ALL_RULES] + [r.id for r in STACK_RULES]
        reviews = kind_review.load(directory, rule_ids)
    except ConfigError as error:
        invalid(error, "review records")
    results = run_synth(directory, [], example_configs(directory), True)
    kinds = kind_review.graph_kinds(r.graph for r in results)
    text = kind_review.render(kinds, reviews)
    target = directory / kind_review.PAGE
    line = kind_review.summary(kinds, reviews)
    if check_only:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            fail(f"{target} is out of date: run `resilience review`")
        out.print(f"{line}; {target.name} is up to date", highlight=False)
        return
    target.write_text(text, encoding="utf-8")
    out.print(f"{line}; wrote {target}", highlight=False)


@app.command()
def diff(
    *,
    base: Annotated[str, typer.Option("--base", help="Git ref to compare from.")],
    head: Annotated[
        str,
        typer.Option("--head", help="Git ref to compare to (default: the working tree)."),
    ] = WORKTREE,
    output_format: Annotated[
        str, typer.Option("--format", help="md (a PR comment) or json.")
    ] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the report here, not to stdout.")
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option("--cache-dir", help="Keep each commit's graphs here and reuse them."),
    ] = None,
    project_dir: ProjectOpt = None,
) -> None:
    """What a change does to every stack, offline: resources added, removed, replaced and
    changed, policy findings that appear or disappear, recovery numbers. Each ref is
    synthesized in a temporary git worktree with its own code. Exit 2 on an unknown ref or
    when the head side does not synthesize (the report still says why)."""
    if output_format not in ("md", "json"):
        fail(f"--format must be md or json, not {output_format!r}")
    try:
        directory = (project_dir or find_project_dir(Path.cwd())).resolve()
        result = run_diff(directory, base, head, cache_dir)
    except (DiffError, InputError) as error:
        fail(str(error))
    text = (
        json.dumps(result.as_json(), indent=2) + "\n"
        if output_format == "json"
        else markdown(result)
    )
    if output is None:
        out.print(text, markup=False, highlight=False, soft_wrap=True, end="")
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output}", highlight=False)
    raise typer.Exit(EXIT_INPUT if result.head.error else EXIT_OK)


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # a bug, not bad input: say so, keep the traceback
        err.print_exception()
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}")
        raise SystemExit(EXIT_INTERNAL) from exc
