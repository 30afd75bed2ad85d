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
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
