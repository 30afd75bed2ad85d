"""Stack rules: checks over a whole stack rather than one resource (CrossGuard's
StackValidationPolicy), e.g. "every data store is in a backup selection" or "the DR region
can meet the RTO".

A stack rule sees a `StackView`: every resource of one stack with its effective tags (the
provider's default tags under the resource's own), the outputs of the stacks it references
(the dr stack reads the primary through a StackReference) and the last drill's measurements.
The pack builds the view from `StackValidationArgs`, `resilience check` from the resource
graph; the rule functions are the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import tags as tag_keys
from policies.rules.core import (
    Enforcement,
    Finding,
    Framework,
    ResourceView,
    Severity,
    views_from_graph,
)

STACK_REFERENCE = "pulumi:pulumi:StackReference"
PROVIDER_PREFIX = "pulumi:providers:"
DRILL_FILE = Path("drills") / "last-drill.json"


@dataclass(frozen=True)
class Violation:
    message: str
    urn: str | None = None  # the resource it is about; None for the stack as a whole


@dataclass(frozen=True)
class StackView:
    stack: str
    resources: Sequence[ResourceView]
    # urn -> effective tags (provider default tags, then the resource's own)
    tags: Mapping[str, Mapping[str, str]]
    # The default tags the stack's providers agree on: system, role, objectives, regions.
    stack_tags: Mapping[str, str]
    # StackReference name -> that stack's outputs
    references: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # The last drill's report (`resilience drill`), when it is of this system.
    drill: Mapping[str, Any] | None = None
    # urn -> the urns it waits for (depends_on and the resources its inputs come from).
    dependencies: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def of_type(self, *types: str) -> list[ResourceView]:
        return [r for r in self.resources if r.type in types]

    def tags_of(self, resource: ResourceView) -> Mapping[str, str]:
        return self.tags.get(resource.urn, {})

    def waits_for(self, resource: ResourceView, other: ResourceView) -> bool:
        """Whether `resource` is created only once `other` is (directly, or through the
        resources it waits for)."""
        seen: set[str] = set()
        pending = [resource.urn]
        while pending:
            urn = pending.pop()
            for dependency in self.dependencies.get(urn, frozenset()):
                if dependency == other.urn:
                    return True
                if dependency not in seen:
                    seen.add(dependency)
                    pending.append(dependency)
        return False

    @property
    def role(self) -> str | None:
        return self.stack_tags.get(tag_keys.ROLE)

    def minutes(self, key: str, resource: ResourceView | None = None) -> int | None:
        """An objective in minutes from the resource's tags (else the stack's)."""
        source = self.tags_of(resource) if resource is not None else self.stack_tags
        value = source.get(key, self.stack_tags.get(key))
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    def primary_outputs(self) -> Mapping[str, Any]:
        """The outputs of the primary stack, as the dr stack reads them (empty elsewhere)."""
        for outputs in self.references.values():
            if outputs.get("role") == "primary":
                return outputs
        return {}


StackCheck = Callable[[StackView], Iterable[Violation]]
Applies = Callable[[StackView], bool]


def _always(_: StackView) -> bool:
    return True


@dataclass(frozen=True)
class StackRule:
    id: str
    description: str
    severity: Severity
    remediation: str
    url: str
    check: StackCheck
    frameworks: tuple[Framework, ...] = field(default_factory=tuple)
    enforcement: Enforcement = Enforcement.MANDATORY
    # Whether the rule has anything to judge in this stack (reports say "not applicable").
    applies: Applies = _always


# -- building views ----------------------------------------------------------------------


def tag_map(value: Any) -> dict[str, str]:
    if isinstance(value, str):  # provider state carries nested config as JSON text
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str | int | float)}


def default_tags(provider_props: Mapping[str, Any]) -> dict[str, str]:
    raw = provider_props.get("defaultTags")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return {}
    if isinstance(raw, list):  # a list of one block in some provider versions
        raw = raw[0] if raw else {}
    return tag_map(raw.get("tags")) if isinstance(raw, Mapping) else {}


def agreed_tags(tag_sets: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The tags every provider carries with the same value (a bootstrap provider in another
    region still says the same system, role and objectives)."""
    sets = [dict(s) for s in tag_sets if s]
    if not sets:
        return {}
    common = sets[0]
    for other in sets[1:]:
        common = {k: v for k, v in common.items() if other.get(k) == v}
    return common


def view_from_graph(graph: Mapping[str, Any], drill: Mapping[str, Any] | None = None) -> StackView:
    providers: dict[str, dict[str, str]] = {}
    for r in graph["resources"]:
        if r["type"].startswith(PROVIDER_PREFIX):
            # A resource names its provider as `<urn>::<id>`, or by URN alone.
            providers[r["urn"]] = providers[f"{r['urn']}::{r['id']}"] = default_tags(r["inputs"])
    references = {
        str(r["inputs"].get("name", r["name"])): dict(r["computed"].get("outputs") or {})
        for r in graph["resources"]
        if r["type"] == STACK_REFERENCE
    }
    resources = list(views_from_graph(graph))
    tags = {
        r.urn: {**providers.get(r.provider_urn or "", {}), **tag_map(r.props.get("tags"))}
        for r in resources
    }
    stack_tags = agreed_tags(providers.values())
    dependencies: dict[str, set[str]] = {}
    for edge in graph.get("edges", []):
        if edge["kind"] == "depends_on" or edge["kind"].startswith("input"):
            dependencies.setdefault(edge["from"], set()).add(edge["to"])
    return StackView(
        stack=str(graph["stack"]),
        resources=resources,
        tags=tags,
        stack_tags=stack_tags,
        references=references,
        drill=drill_for(drill, stack_tags),
        dependencies={urn: frozenset(urns) for urn, urns in dependencies.items()},
    )


def drill_for(
    drill: Mapping[str, Any] | None, stack_tags: Mapping[str, str]
) -> Mapping[str, Any] | None:
    """The drill report if it is of this system (a drill of another system says nothing)."""
    if not drill or drill.get("schema") != "resilience-drill/1":
        return None
    return drill if drill.get("system") == stack_tags.get("system") else None


def load_drill(project_dir: Path) -> dict[str, Any] | None:
    """`drills/last-drill.json` of a project, if there is a readable one."""
    path = project_dir / DRILL_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


# -- evaluation ----------------------------------------------------------------------------


def evaluate_stack(
    view: StackView,
    rules: Iterable[StackRule],
    enforcement: Mapping[str, Enforcement] | None = None,
) -> tuple[list[Finding], dict[str, int]]:
    """Run the stack rules on one stack: its findings, and per rule whether it applied
    (1) or had nothing to judge (0)."""
    overrides = enforcement or {}
    stack_urn = stack_urn_of(view)
    findings: list[Finding] = []
    applied: dict[str, int] = {}
    for rule in rules:
        level = overrides.get(rule.id, rule.enforcement)
        if level is Enforcement.DISABLED or not rule.applies(view):
            applied[rule.id] = 0
            continue
        applied[rule.id] = 1
        types = {r.urn: r.type for r in view.resources}
        for violation in rule.check(view):
            urn = violation.urn or stack_urn
            findings.append(
                Finding(
                    stack=view.stack,
                    rule_id=rule.id,
                    urn=urn,
                    resource_type=types.get(urn, "pulumi:pulumi:Stack"),
                    severity=rule.severity,
                    enforcement=level,
                    message=violation.message,
                    remediation=rule.remediation,
                )
            )
    return sorted(findings), applied


def stack_urn_of(view: StackView) -> str:
    """The URN of the stack itself (findings about the whole stack point at it)."""
    for resource in view.resources:
        parts = resource.urn.split("::")
        if len(parts) >= 2 and parts[0].startswith("urn:pulumi:"):
            project = parts[1]
            return f"{parts[0]}::{project}::pulumi:pulumi:Stack::{project}-{view.stack}"
    return f"urn:pulumi:{view.stack}::resilience::pulumi:pulumi:Stack::resilience-{view.stack}"
