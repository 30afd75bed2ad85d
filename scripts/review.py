"""The per-kind review record: one `docs/review/<kind>.yaml` per resource kind the stacks
create (what was read, each documented constraint or behaviour checked, and what enforces
it), validated against the repository and rendered to `docs/kind-review.md` with a coverage
summary over the kinds of the shipped and example graphs.

The file format is the shared one (see the README's "Per-kind review" section):

    kind: aws:rds/instance:Instance
    reviewed: 2026-12-02
    sources: ["RDS API Reference: ModifyDBInstance", ...]
    checks:
      - what: "..."
        source: "..."
        enforced_by: "rule:<id>" | "config:resilience:<key.path>" | "api-model"
                     | "code:<path>" | "none: <why>"
"""

from __future__ import annotations

import contextlib
import datetime
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from model.config import StackConfig
from model.loader import ConfigError, Problem

REVIEW_DIR = Path("docs") / "review"
PAGE = Path("docs") / "kind-review.md"
FIELDS = ("kind", "reviewed", "sources", "checks")
CHECK_FIELDS = ("what", "source", "enforced_by")
CONFIG_NAMESPACE = "resilience:"


@dataclass(frozen=True)
class Check:
    what: str
    source: str
    enforced_by: str


@dataclass(frozen=True)
class KindReview:
    kind: str
    reviewed: str
    sources: tuple[str, ...]
    checks: tuple[Check, ...]
    file: str


def file_name(kind: str) -> str:
    """`aws:rds/instance:Instance` -> `aws.rds.instance.Instance.yaml`."""
    return kind.replace(":", ".").replace("/", ".") + ".yaml"


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation allows (Optional, unions and Annotated removed)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                out.extend(_unwrap(arg))
        return out
    return [annotation]


def config_path_error(path: str) -> str | None:
    """Why `resilience:<a.b[].c.*.d>` names no key of the typed config (StackConfig), or
    None when it does. `name[]` steps into a list's items, `*` into a mapping's values."""
    if not path.startswith(CONFIG_NAMESPACE):
        return f"config path {path!r} must start with {CONFIG_NAMESPACE}"
    candidates: list[Any] = [StackConfig]
    walked: list[str] = []
    for part in path.removeprefix(CONFIG_NAMESPACE).split("."):
        items = part.endswith("[]")
        name = part.removesuffix("[]")
        found: list[Any] = []
        for candidate in candidates:
            if name == "*":
                if typing.get_origin(candidate) is dict:
                    found.extend(_unwrap(typing.get_args(candidate)[1]))
                continue
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                field = candidate.model_fields.get(name)
                if field is not None:
                    found.extend(_unwrap(field.annotation))
        if items:
            found = [
                item
                for candidate in found
                if typing.get_origin(candidate) is list
                for item in _unwrap(typing.get_args(candidate)[0])
            ]
        if not found:
            where = CONFIG_NAMESPACE + ".".join(walked) if walked else "the config"
            return f"config path {path!r}: {where} has no key {part!r}"
        candidates = found
        walked.append(part)
    return None


def _enforcer_error(value: str, root: Path, rule_ids: set[str]) -> str | None:
    """The reference is the first word after the kind; what follows it is a note (which
    function, which test)."""
    kind, _, rest = value.partition(":")
    if kind != "none":
        rest = rest.strip().split(" ", 1)[0] if rest.strip() else ""
    if value == "api-model" or value.startswith("api-model "):
        return None
    if kind == "rule":
        return None if rest in rule_ids else f"no rule {rest!r} in ALL_RULES or STACK_RULES"
    if kind == "config":
        return config_path_error(rest)
    if kind == "code":
        path = rest.split("::", 1)[0]
        return None if path and (root / path).exists() else f"no file {path!r}"
    if kind == "none":
        return None if rest.strip() else "say why it is not enforced (none: <why>)"
    return "enforced_by is rule:<id>, config:<key path>, api-model, code:<path> or none: <why>"


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def load(root: Path, rule_ids: Iterable[str]) -> list[KindReview]:
    """Every review file under `root/docs/review`, checked; every problem at once."""
    directory = root / REVIEW_DIR
    ids = set(rule_ids)
    problems: list[Problem] = []
    out: list[KindReview] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        source = str(path.relative_to(root))
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            problems.append(Problem(source, "", f"cannot be read: {exc}"))
            continue
        if not isinstance(document, dict):
            problems.append(Problem(source, "", "must be a mapping"))
            continue
        missing = [f for f in FIELDS if f not in document]
        if missing:
            problems.append(Problem(source, "", f"missing {', '.join(missing)}"))
            continue
        kind = document["kind"]
        if not _text(kind):
            problems.append(Problem(source, "kind", "must be a type token"))
            continue
        if path.name != file_name(kind):
            problems.append(Problem(source, "kind", f"{kind} belongs in {file_name(kind)}"))
        if kind in seen:
            problems.append(Problem(source, "kind", f"also reviewed in {seen[kind]}"))
        seen[kind] = source
        reviewed = document["reviewed"]
        if isinstance(reviewed, str):
            with contextlib.suppress(ValueError):
                reviewed = datetime.date.fromisoformat(reviewed)
        if not isinstance(reviewed, datetime.date):
            problems.append(Problem(source, "reviewed", "must be a date (YYYY-MM-DD)"))
        sources = document["sources"]
        if not isinstance(sources, list) or not sources or not all(map(_text, sources)):
            problems.append(Problem(source, "sources", "must be a non-empty list of titles"))
            sources = []
        checks = document["checks"]
        if not isinstance(checks, list) or not checks:
            problems.append(Problem(source, "checks", "must be a non-empty list"))
            checks = []
        parsed: list[Check] = []
        for index, check in enumerate(checks):
            key = f"checks[{index}]"
            if not isinstance(check, dict):
                problems.append(Problem(source, key, "must be a mapping"))
                continue
            absent = [f for f in CHECK_FIELDS if not _text(check.get(f))]
            if absent:
                problems.append(Problem(source, key, f"missing {', '.join(absent)}"))
                continue
            error = _enforcer_error(str(check["enforced_by"]).strip(), root, ids)
            if error is not None:
                problems.append(Problem(source, f"{key}.enforced_by", error))
            parsed.append(
                Check(
                    what=str(check["what"]).strip(),
                    source=str(check["source"]).strip(),
                    enforced_by=str(check["enforced_by"]).strip(),
                )
            )
        out.append(
            KindReview(
                kind=str(kind),
                reviewed=str(reviewed),
                sources=tuple(str(s) for s in sources),
                checks=tuple(parsed),
                file=source,
            )
        )
    if problems:
        raise ConfigError(problems)
    return out


def graph_kinds(graphs: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Resource type -> the stacks that create it (custom resources; reads and Pulumi's own
    types are not kinds the stacks create)."""
    kinds: dict[str, set[str]] = {}
    for graph in graphs:
        for resource in graph["resources"]:
            if not resource["custom"] or resource.get("read"):
                continue
            if resource["type"].startswith("pulumi:"):
                continue
            kinds.setdefault(resource["type"], set()).add(str(graph["stack"]))
    return {kind: sorted(stacks) for kind, stacks in sorted(kinds.items())}


def unreviewed(kinds: Iterable[str], reviews: Sequence[KindReview]) -> list[str]:
    done = {r.kind for r in reviews}
    return sorted(k for k in kinds if k not in done)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _enforcer(value: str) -> str:
    kind, _, rest = value.partition(":")
    if kind in ("rule", "config", "code"):
        return f"{kind}: `{rest}`"
    return _cell(value)


def summary(kinds: Mapping[str, Sequence[str]], reviews: Sequence[KindReview]) -> str:
    missing = unreviewed(kinds, reviews)
    return (
        f"{len(kinds)} kinds in the shipped and example graphs: "
        f"{len(kinds) - len(missing)} reviewed, {len(missing)} not yet"
    )


def render(kinds: Mapping[str, Sequence[str]], reviews: Sequence[KindReview]) -> str:
    by_kind = {r.kind: r for r in reviews}
    stacks = sorted({s for names in kinds.values() for s in names})
    lines = [
        "# Per-kind review",
        "",
        "Generated from `docs/review/*.yaml` by `resilience review`; do not edit by hand.",
        "For each resource kind the stacks create: what was read (the AWS guide and API",
        "reference, the provider's documentation and source), each documented constraint or",
        "behaviour that was checked, and what enforces it: a policy rule (`rule:`), a config",
        "check (`config:`), the botocore model check (`api-model`), the component itself with",
        "a test (`code:`), or nothing, and why (`none:`).",
        "",
        "## Coverage",
        "",
        f"{summary(kinds, reviews)} ({len(stacks)} graphs: {', '.join(stacks)}).",
        "",
        "| kind | graphs | reviewed | checks |",
        "|---|---|---|---|",
    ]
    for kind, names in kinds.items():
        review = by_kind.get(kind)
        done = f"{review.reviewed}" if review else "**no**"
        checks = str(len(review.checks)) if review else "—"
        anchor = _anchor(kind)
        title = f"[`{kind}`](#{anchor})" if review else f"`{kind}`"
        lines.append(f"| {title} | {len(names)} | {done} | {checks} |")
    extra = [r for r in reviews if r.kind not in kinds]
    if extra:
        lines += [
            "",
            "Reviewed kinds that the shipped and example graphs do not create (they appear "
            "with other config, e.g. a Slack contact, a DynamoDB table, an ECS service with "
            "peaks):",
            "",
        ]
        lines += [f"- [`{r.kind}`](#{_anchor(r.kind)})" for r in extra]
    for review in sorted(reviews, key=lambda r: r.kind):
        lines += [
            "",
            f"## {review.kind}",
            "",
            f"Reviewed {review.reviewed} (`{review.file}`). Read: "
            + "; ".join(_cell(s) for s in review.sources)
            + ".",
            "",
            "| what was checked | source | enforced by |",
            "|---|---|---|",
        ]
        for check in review.checks:
            lines.append(
                f"| {_cell(check.what)} | {_cell(check.source)} | {_enforcer(check.enforced_by)} |"
            )
    lines.append("")
    return "\n".join(lines)


def _anchor(kind: str) -> str:
    """GitHub's heading anchor: lowercased, punctuation other than '-' and '_' dropped."""
    return "".join(c for c in kind.lower() if c.isalnum() or c in "-_ ").replace(" ", "-")
