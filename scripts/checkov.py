"""checkov, run in its own isolated environment: a second opinion on what the bundle exports.

checkov pins old versions of packages Pulumi needs newer (packaging, boto3), so it never
enters the project's virtualenv: `uv tool run --from checkov==CHECKOV_VERSION` installs it
once into uv's cache (from PyPI, on first use) and runs it from there.

uv is found in this order: `$RESILIENCE_UV`, `uv` on PATH, `.tools/bin/uv` in the project
(the pinned uv the Makefile bootstraps).

Offline, checkov logs a traceback while it fetches its guideline list from its vendor's API;
`BC_SKIP_MAPPING=TRUE` skips exactly that call (it only maps BC_* ids, which we do not use).
Nothing else is filtered: checkov's stderr is passed through, a non-zero exit or output
that is not JSON raises CheckovError.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

from scripts.export import (
    ManifestExport,
    PlanExport,
    manifests_yaml,
    to_kubernetes_manifests,
    to_terraform_plan,
)

CHECKOV_VERSION = "3.3.30"
# checkov 3.3.30 supports Python 3.9 to 3.12; uv picks (or fetches) a matching interpreter.
CHECKOV_PYTHON = ">=3.10,<3.13"
UV_ENV = "RESILIENCE_UV"
PROJECT_DIR = Path(__file__).resolve().parents[1]
# Only what stops the vendor guideline download (and its offline traceback).
QUIET_ENV = {"BC_SKIP_MAPPING": "TRUE"}
DEFAULT_TIMEOUT_S = 1800.0


class CheckovError(Exception):
    """checkov could not run, failed, or printed something that is not its JSON report."""


def find_uv() -> str:
    """The uv executable: $RESILIENCE_UV, then `uv` on PATH, then the project's .tools/bin/uv."""
    override = os.environ.get(UV_ENV)
    if override:
        if shutil.which(override) is None:
            raise CheckovError(f"${UV_ENV}={override}: not an executable")
        return override
    on_path = shutil.which("uv")
    if on_path:
        return on_path
    local = PROJECT_DIR / ".tools" / "bin" / "uv"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    raise CheckovError(
        f"uv not found (set ${UV_ENV}, put uv on PATH, or run `make sync` to install the "
        f"pinned uv into {PROJECT_DIR / '.tools'}): checkov runs through `uv tool run`"
    )


def checkov_command(args: Sequence[str]) -> list[str]:
    """The full command line: checkov's own arguments plus JSON output and --soft-fail."""
    return [
        find_uv(),
        "tool",
        "run",
        "--quiet",
        "--python",
        CHECKOV_PYTHON,
        "--from",
        f"checkov=={CHECKOV_VERSION}",
        "checkov",
        *args,
        "--output",
        "json",
        "--soft-fail",
    ]


def parse_output(stdout: str) -> list[dict[str, Any]]:
    """checkov's JSON output as a list of per-framework reports.

    checkov prints one object for one framework, a list for several, and a bare summary
    (no `check_type`) when nothing was scanned: that is an empty list here.
    """
    try:
        document = json.loads(stdout)
    except json.JSONDecodeError as error:
        head = stdout.strip()[:300] or "(nothing)"
        raise CheckovError(f"checkov printed no JSON report ({error}): {head}") from None
    reports = document if isinstance(document, list) else [document]
    if not all(isinstance(r, dict) for r in reports):
        raise CheckovError("checkov's JSON report is not an object or a list of objects")
    return [r for r in reports if "check_type" in r]


def run_checkov(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[dict[str, Any]]:
    """Run checkov CHECKOV_VERSION with `args` and return its parsed JSON reports.

    `args` are checkov's own arguments, e.g. `["-d", ".github/workflows", "--framework",
    "github_actions"]` or `["-f", "out/primary.tfplan.json", "--framework",
    "terraform_plan"]`; `--output json --soft-fail` are appended (so do not pass another
    --output). `cwd` is the working directory (relative paths and file paths in the
    result are relative to it); `env` adds environment variables.

    Returns one dict per framework that scanned something, as checkov prints it:
    `{"check_type": "terraform_plan", "results": {"failed_checks": [...], "passed_checks":
    [...], "skipped_checks": [...], "parsing_errors": [...]}, "summary": {"passed",
    "failed", "skipped", "parsing_errors", "resource_count", "checkov_version"}}`; each
    check has `check_id` (CKV_*/CKV2_*), `check_name`, `resource`, `file_path`, ...
    An empty list means checkov found nothing to scan.

    Failed checks do not fail the call (--soft-fail). Raises CheckovError when uv is
    missing, checkov exits non-zero (its stderr is in the message) or prints no JSON.
    checkov's stderr on success is passed through to ours.
    """
    command = checkov_command(args)
    try:
        proc = subprocess.run(
            command,
            cwd=cwd,
            env={**os.environ, **QUIET_ENV, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CheckovError(f"checkov did not finish within {timeout:.0f} s") from None
    except OSError as error:
        raise CheckovError(f"could not start {command[0]}: {error}") from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-20:]) or proc.stdout.strip()[-2000:]
        raise CheckovError(f"checkov exited with {proc.returncode}: {tail}")
    if proc.stderr.strip():
        sys.stderr.write(proc.stderr)
    return parse_output(proc.stdout)


# -- scanning exported stacks -------------------------------------------------------------

EXCEPTIONS_FILE = PROJECT_DIR / "policies" / "checkov-exceptions.yaml"
FRAMEWORKS = ("terraform_plan", "kubernetes")
_CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")


@dataclass(frozen=True)
class StackExport:
    """One stack's export, as written to the out directory."""

    stack: str
    source: str  # the stack file
    plan_file: str  # file names inside the out directory
    manifest_file: str | None
    plan: PlanExport
    manifests: ManifestExport

    @property
    def resources(self) -> int:
        return len(self.plan.addresses) + len(self.manifests.manifests)


def export_stack(graph: Mapping[str, Any], out_dir: Path, *, source: str = "") -> StackExport:
    """Write DIR/<stack>.tfplan.json (always) and DIR/<stack>.k8s.yaml (when the stack has
    Kubernetes resources), for checkov here and for anyone who wants to run it by hand."""
    stack = str(graph["stack"])
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = to_terraform_plan(graph)
    plan_file = f"{stack}.tfplan.json"
    (out_dir / plan_file).write_text(json.dumps(plan.plan, indent=1) + "\n", encoding="utf-8")
    manifests = to_kubernetes_manifests(graph)
    manifest_file = None
    if manifests.manifests:
        manifest_file = f"{stack}.k8s.yaml"
        (out_dir / manifest_file).write_text(manifests_yaml(manifests.manifests), encoding="utf-8")
    return StackExport(
        stack=stack,
        source=source or str(graph.get("source") or f"Pulumi.{stack}.yaml"),
        plan_file=plan_file,
        manifest_file=manifest_file,
        plan=plan,
        manifests=manifests,
    )


@dataclass(frozen=True)
class CheckovException:
    """A reviewed false positive: a check id, optionally narrowed to a Terraform (or
    Kubernetes) resource type and to resource names (globs), and why it does not apply."""

    check: str
    reason: str
    resource_type: str | None = None
    resources: tuple[str, ...] = ()

    def matches(self, finding: CheckovFinding) -> bool:
        if finding.check_id != self.check:
            return False
        if self.resource_type is not None and finding.tf_type != self.resource_type:
            return False
        return not self.resources or any(fnmatch(finding.name, g) for g in self.resources)

    def describe(self) -> str:
        scope = self.resource_type or "any type"
        if self.resources:
            scope += " named " + ", ".join(self.resources)
        return f"{self.check} on {scope}"


def load_exceptions(path: Path = EXCEPTIONS_FILE) -> list[CheckovException]:
    """The reviewed exceptions file: `exceptions: [{check, reason, resource_type?,
    resources?}]`. Every entry needs a check id and a reason; unknown keys are errors."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CheckovError(f"{path}: {error}") from None
    entries = document.get("exceptions", []) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise CheckovError(f"{path}: expected a mapping with an `exceptions` list")
    problems: list[str] = []
    exceptions: list[CheckovException] = []
    allowed = {"check", "reason", "resource_type", "resources"}
    for i, entry in enumerate(entries):
        where = f"{path.name}: exceptions[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not a mapping")
            continue
        unknown = sorted(set(entry) - allowed)
        check, reason = entry.get("check"), entry.get("reason")
        resources = entry.get("resources") or []
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
        if not isinstance(check, str) or not _CHECK_ID.match(check):
            problems.append(f"{where}: check must be a checkov id like CKV_AWS_18, got {check!r}")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{where}: a reason is required")
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            problems.append(f"{where}: resources must be a list of name globs")
        if not problems:
            exceptions.append(
                CheckovException(
                    check=str(check),
                    reason=" ".join(str(reason).split()),
                    resource_type=entry.get("resource_type"),
                    resources=tuple(resources),
                )
            )
    if problems:
        raise CheckovError("invalid checkov exceptions:\n  " + "\n  ".join(problems))
    return exceptions


@dataclass(frozen=True, order=True)
class CheckovFinding:
    """A failed checkov check on one exported resource; `excepted` is the reason of the
    reviewed exception that covers it (shown as excepted, never dropped)."""

    stack: str
    check_id: str
    resource: str  # checkov's resource id: Terraform address or Kind.namespace.name
    check_name: str
    urn: str | None
    resource_type: str  # the Pulumi type, or checkov's when unknown
    tf_type: str  # the exported type (Terraform type or Kubernetes kind)
    framework: str
    excepted: str | None = None

    @property
    def name(self) -> str:
        """The Pulumi resource name (from the URN), else checkov's resource name."""
        if self.urn:
            return self.urn.rsplit("::", 1)[-1]
        return self.resource.rsplit(".", 1)[-1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "check": self.check_id,
            "name": self.check_name,
            "resource": self.resource,
            "urn": self.urn,
            "type": self.resource_type,
            "framework": self.framework,
            "excepted": self.excepted,
        }


@dataclass(frozen=True)
class CheckovStack:
    stack: str
    source: str
    plan_file: str
    manifest_file: str | None
    resources: int  # exported
    unmapped: Mapping[str, int]  # Pulumi type -> resources not exported (no mapping, Helm)
    passed: Mapping[str, int]  # check id -> passed resources


@dataclass(frozen=True)
class CheckovReport:
    """checkov's findings on every checked stack's export: advisory, never an exit code."""

    version: str
    stacks: Sequence[CheckovStack]
    findings: Sequence[CheckovFinding]  # failed checks, excepted ones included
    check_names: Mapping[str, str]
    exceptions: Sequence[CheckovException]

    @property
    def open(self) -> list[CheckovFinding]:
        return [f for f in self.findings if f.excepted is None]

    @property
    def excepted(self) -> list[CheckovFinding]:
        return [f for f in self.findings if f.excepted is not None]

    def of(self, stack: str) -> list[CheckovFinding]:
        return [f for f in self.findings if f.stack == stack]

    def stale_exceptions(self) -> list[CheckovException]:
        """Exceptions that covered no finding of this run."""
        return [e for e in self.exceptions if not any(e.matches(f) for f in self.findings)]


def _resolve(export: StackExport, framework: str, resource: str) -> tuple[str | None, str, str]:
    """(URN, Pulumi type, exported type) of a checkov resource id."""
    if framework == "kubernetes":
        kind, _, rest = resource.partition(".")
        namespace, _, name = rest.partition(".")
        urn = export.manifests.urns.get((kind, namespace, name))
        if urn is None:  # a Pod checkov derives from a workload's template: `<name>.<suffix>`
            urn = next(
                (
                    u
                    for (_, ns, owner), u in sorted(export.manifests.urns.items())
                    if ns == namespace and name.startswith(f"{owner}.")
                ),
                None,
            )
        return urn, (urn.split("::")[-2].rsplit("$", 1)[-1] if urn else kind), kind
    tf_type = resource.split(".", 1)[0]
    return export.plan.addresses.get(resource), export.plan.types.get(resource, tf_type), tf_type


def scan(
    exports: Sequence[StackExport],
    out_dir: Path,
    *,
    exceptions: Sequence[CheckovException] | None = None,
) -> CheckovReport:
    """One checkov run over every export in `out_dir`; findings mapped back to URNs and
    matched against the reviewed exceptions. Raises CheckovError when checkov fails or
    cannot parse a file it was given."""
    known = list(load_exceptions() if exceptions is None else exceptions)
    files: dict[str, StackExport] = {}
    for export in exports:
        files[export.plan_file] = export
        if export.manifest_file:
            files[export.manifest_file] = export
    args: list[str] = []
    for name in files:
        args += ["--file", name]
    reports = run_checkov([*args, "--framework", *FRAMEWORKS, "--compact"], cwd=out_dir)
    findings: list[CheckovFinding] = []
    names: dict[str, str] = {}
    passed: dict[str, Counter[str]] = {e.stack: Counter() for e in exports}
    version = CHECKOV_VERSION
    plan_resources = 0
    for report in reports:
        framework = str(report["check_type"])
        summary = report.get("summary", {})
        version = str(summary.get("checkov_version", version))
        results = report.get("results", {})
        if framework == "terraform_plan":
            plan_resources += int(summary.get("resource_count", 0))
        if summary.get("parsing_errors") or results.get("parsing_errors"):
            raise CheckovError(
                f"checkov could not parse {results.get('parsing_errors') or 'its input'}"
            )
        for check in results.get("passed_checks", []):
            export = files[Path(check["file_path"]).name]
            passed[export.stack][check["check_id"]] += 1
            names[check["check_id"]] = check["check_name"]
        for check in results.get("failed_checks", []):
            export = files[Path(check["file_path"]).name]
            urn, pulumi_type, tf_type = _resolve(export, framework, check["resource"])
            names[check["check_id"]] = check["check_name"]
            finding = CheckovFinding(
                stack=export.stack,
                check_id=check["check_id"],
                resource=check["resource"],
                check_name=check["check_name"],
                urn=urn,
                resource_type=pulumi_type,
                tf_type=tf_type,
                framework=framework,
            )
            reason = next((e.reason for e in known if e.matches(finding)), None)
            findings.append(replace(finding, excepted=reason))
    expected = sum(len(e.plan.addresses) for e in exports)
    if plan_resources != expected:
        raise CheckovError(
            f"checkov read {plan_resources} of the {expected} resources in "
            f"{', '.join(e.plan_file for e in exports)}"
        )
    return CheckovReport(
        version=version,
        stacks=[
            CheckovStack(
                stack=e.stack,
                source=e.source,
                plan_file=e.plan_file,
                manifest_file=e.manifest_file,
                resources=e.resources,
                unmapped={**e.plan.unmapped, **e.manifests.skipped},
                passed=dict(sorted(passed[e.stack].items())),
            )
            for e in exports
        ],
        findings=sorted(set(findings)),
        check_names=dict(sorted(names.items())),
        exceptions=known,
    )
