"""Rule model and the offline evaluator over a resource graph."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# What a rule sees where a value cannot be judged: one the engine does not know yet (a
# preview, before the resources it comes from exist) or one kept secret. The offline graph
# (scripts/graph.py) and the pack (policies/pack.py `plain`) write the same markers.
UNKNOWN = "[unknown]"
SECRET = "[secret]"
OPAQUE: tuple[str, ...] = (UNKNOWN, SECRET)


def opaque(value: Any) -> bool:
    """Whether a rule cannot judge this value: unknown until the resources it is built from
    exist (`pulumi preview` of a new stack: their ids, ARNs and every input made from them), or
    secret (a rule never sees the plaintext, in the pack as offline).

    A rule never reports a violation that rests on such a value, neither as the value nor as
    its absence. An unknown value is judged by the update, which knows it: "ResourceValidation
    Policy and StackValidationPolicy both run during previews and updates", the first on a
    resource's inputs "before the resource is created or modified", the second on every
    output "after all resources have been created or modified" (Pulumi blog, Policy as Code
    for Python, pulumi/docs#3597). A secret value is never judged. pulumi_policy makes a
    policy that reads an unknown value skip the resource ("This allows us to skip running a
    policy when it accesses an unknown value", pulumi/pulumi-policy#218); the rules decide
    value by value instead, so that the rest of a resource, and of a stack, is still judged
    (tests/test_opaque_values.py runs every rule with each value made opaque in turn)."""
    return isinstance(value, str) and value in OPAQUE


def holds_opaque(value: Any) -> bool:
    """Whether a value is opaque or holds an opaque value anywhere inside."""
    if isinstance(value, str):
        return value in OPAQUE
    if isinstance(value, dict | Mapping):
        value = value.values()
    elif not isinstance(value, list | tuple):
        return False
    return any(holds_opaque(v) for v in value)


def dig(value: Any, *path: str | int) -> Any:
    """The value at `path` in nested mappings and lists: None where there is none, and the
    opaque value itself where the path runs into one (a whole block can be unknown)."""
    for key in path:
        if opaque(value):
            return value
        if isinstance(key, int):
            inside = isinstance(value, list) and -len(value) <= key < len(value)
            value = value[key] if inside else None
        else:
            value = value.get(key) if isinstance(value, Mapping) else None
    return value


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Enforcement(StrEnum):
    ADVISORY = "advisory"
    MANDATORY = "mandatory"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Framework:
    """A control a rule provides evidence for, e.g. Framework("AWS FSBP", "KMS.4")."""

    name: str
    control: str


@dataclass(frozen=True)
class ResourceView:
    """What a rule sees of one resource, the same offline (graph) and in the pack (engine)."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool
    provider_urn: str | None
    region: str | None
    # String values of other resources' outputs that this resource's inputs carry (offline:
    # the outputs of the resources its inputs depend on). Rules that judge values the
    # program wrote skip them: under `pulumi preview` they are unknown or AWS's own.
    derived: frozenset[str] = frozenset()
    # The resource option: properties Pulumi leaves as they are once the resource exists.
    ignore_changes: tuple[str, ...] = ()

    @property
    def provider_is_default(self) -> bool:
        """Pulumi names the providers it creates implicitly `default` or `default_<version>`."""
        if self.provider_urn is None:
            return True
        return self.provider_urn.rsplit("::", 1)[-1].startswith("default")


Check = Callable[[ResourceView], Iterable[str]]


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    severity: Severity
    remediation: str
    url: str
    check: Check
    # Type tokens the rule applies to; a prefix ending in ':' matches a whole provider.
    resource_types: tuple[str, ...]
    frameworks: tuple[Framework, ...] = field(default_factory=tuple)
    enforcement: Enforcement = Enforcement.MANDATORY

    def applies_to(self, resource_type: str) -> bool:
        return any(
            resource_type.startswith(t) if t.endswith(":") else resource_type == t
            for t in self.resource_types
        )


@dataclass(frozen=True, order=True)
class Finding:
    stack: str
    rule_id: str
    urn: str
    resource_type: str
    severity: Severity
    enforcement: Enforcement
    message: str
    remediation: str

    def as_dict(self) -> dict[str, str]:
        return {
            "stack": self.stack,
            "rule": self.rule_id,
            "urn": self.urn,
            "type": self.resource_type,
            "severity": self.severity.value,
            "enforcement": self.enforcement.value,
            "message": self.message,
            "remediation": self.remediation,
        }


def statements(policy: Any) -> list[dict[str, Any]]:
    """The statements of an IAM-style policy document (JSON text or parsed)."""
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except json.JSONDecodeError:
            return []
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in statements if isinstance(s, dict)]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _derived(graph: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Per resource, the string outputs of the resources its inputs depend on (the graph's
    `input:<property>` edges)."""
    depends: dict[str, set[str]] = {}
    for edge in graph.get("edges", ()):
        if edge["kind"].startswith("input:"):
            depends.setdefault(edge["from"], set()).add(edge["to"])
    if not depends:
        return {}
    by_urn = {r["urn"]: r for r in graph["resources"]}
    outputs: dict[str, frozenset[str]] = {}

    def of(urn: str) -> frozenset[str]:
        if urn not in outputs:
            resource = by_urn.get(urn) or {}
            found = set(_strings(resource.get("computed")))
            if resource.get("id"):
                found.add(str(resource["id"]))
            outputs[urn] = frozenset(found)
        return outputs[urn]

    return {urn: frozenset().union(*(of(d) for d in deps)) for urn, deps in depends.items()}


def views_from_graph(graph: Mapping[str, Any]) -> Iterator[ResourceView]:
    """Custom resources of a graph as rule views (providers and reads are not checked)."""
    derived = _derived(graph)
    for resource in graph["resources"]:
        if not resource["custom"] or resource.get("read"):
            continue
        if resource["type"].startswith("pulumi:"):
            continue
        yield ResourceView(
            type=resource["type"],
            name=resource["name"],
            urn=resource["urn"],
            props=resource["inputs"],
            protect=bool(resource["options"].get("protect")),
            provider_urn=resource["provider"],
            region=resource["region"],
            derived=derived.get(resource["urn"], frozenset()),
            ignore_changes=tuple(resource["options"].get("ignore_changes") or ()),
        )


def evaluate(
    graph: Mapping[str, Any],
    rules: Iterable[Rule],
    enforcement: Mapping[str, Enforcement] | None = None,
) -> list[Finding]:
    """Run every applicable rule on every resource of a graph."""
    findings, _ = evaluate_views(str(graph["stack"]), views_from_graph(graph), rules, enforcement)
    return findings


def evaluate_views(
    stack: str,
    views: Iterable[ResourceView],
    rules: Iterable[Rule],
    enforcement: Mapping[str, Enforcement] | None = None,
) -> tuple[list[Finding], dict[str, int]]:
    """Every applicable rule on every resource: the findings, and per rule how many
    resources it applied to (disabled rules counted too: the reports say what they cover)."""
    overrides = enforcement or {}
    rules = list(rules)
    checked = {rule.id: 0 for rule in rules}
    findings = []
    for view in views:
        for rule in rules:
            if not rule.applies_to(view.type):
                continue
            checked[rule.id] += 1
            level = overrides.get(rule.id, rule.enforcement)
            if level is Enforcement.DISABLED:
                continue
            for message in rule.check(view):
                findings.append(
                    Finding(
                        stack=stack,
                        rule_id=rule.id,
                        urn=view.urn,
                        resource_type=view.type,
                        severity=rule.severity,
                        enforcement=level,
                        message=message,
                        remediation=rule.remediation,
                    )
                )
    return sorted(findings), checked
