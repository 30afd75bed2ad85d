"""Plaintext secrets in committed stack files.

A value stored with `pulumi config set --secret` is `{secure: <ciphertext>}` in the file and
is never flagged. Any other value that looks like a credential is: webhook URLs that carry
their token (Slack, PagerDuty integration keys), AWS access keys, private keys, and values
under keys named like passwords or tokens. `resilience check` refuses a stack file with one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from model.loader import Problem

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Slack webhook URL", re.compile(r"https://hooks\.slack\.com/services/\S+")),
    (
        "a PagerDuty integration key",
        re.compile(r"https://events\.pagerduty\.com/integration/[0-9a-z]{32}"),
    ),
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)
SECRET_KEYS = re.compile(r"(password|passwd|secret|token|api[_-]?key|private[_-]?key)$", re.I)


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return  # encrypted by Pulumi
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path, value


def scan_file(path: Path) -> list[Problem]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        return [Problem(str(path), "", f"cannot be read: {exc}")]
    problems = []
    for key, value in _walk(document.get("config") or {}, ""):
        if not isinstance(value, str) or not value:
            continue
        leaf = re.split(r"[.:\[]", key.rstrip("]"))[-1]
        for what, pattern in PATTERNS:
            if pattern.search(value):
                problems.append(Problem(str(path), key, f"holds {what} in plain text"))
                break
        else:
            if SECRET_KEYS.search(leaf):
                problems.append(Problem(str(path), key, "holds a secret in plain text"))
    return [
        Problem(p.source, p.key, f"{p.message}: store it with `pulumi config set --secret`")
        for p in problems
    ]


def scan(paths: list[Path]) -> list[Problem]:
    """Every stack file and the system files it includes."""
    seen: dict[Path, None] = {}
    for path in paths:
        seen[path.resolve()] = None
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        includes = (document.get("config") or {}).get("resilience:include") or []
        for include in [includes] if isinstance(includes, str) else includes:
            seen[(path.parent / str(include)).resolve()] = None
    return [p for path in seen if path.is_file() for p in scan_file(path)]
