"""The resource graph: the one artifact every offline tool reads.

Shape (`schema` = resilience-graph/1):
    {
      "schema", "project", "stack", "source", "role", "region",
      "resources": [ {urn, type, name, custom, read, parent, provider, region, id,
                      inputs, computed, options: {protect, retain_on_delete, depends_on,
                      delete_before_replace, ignore_changes, replace_on_changes,
                      additional_secret_outputs, aliases, deleted_with, import_id}} ],
      "edges": [ {from, to, kind} ],   kind: parent | provider | depends_on | input:<property>
      "outputs": { stack outputs }
    }
Resources are sorted by URN and keys are sorted, so the same config gives byte-identical JSON.
Secret values are written as "[secret]"; nothing secret reaches the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GRAPH_SCHEMA = "resilience-graph/1"
SECRET = "[secret]"
UNKNOWN = "[unknown]"

# Signature keys of Pulumi's wire format (pulumi/sdk/go/common/resource/sig).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SIG_SECRET = "1b47061264138c4ac30d75fd1eb44270"
_SIG_RESOURCE = "5cf8f73096256a8f31e491e813e4eb8e"
_SIG_ASSET = "c44067f5952c0a294b673a41bacd8c17"
_SIG_ARCHIVE = "0def7320c3a5731c473e5ecbe6d01bc7"
_UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass
class Registration:
    """One resource as the engine saw it, with protobuf already turned into plain data."""

    urn: str
    id: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str  # "<provider urn>::<provider id>" or ""
    inputs: dict[str, Any]
    computed: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    options: dict[str, Any]
    read: bool = False  # a `get`/read resource (StackReference, imported lookups)


def clean(value: Any) -> Any:
    """Wire value -> plain JSON: secrets redacted, references as URNs, integral floats as ints
    (protobuf structs carry every number as a double)."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SIG_SECRET:
            return SECRET
        if sig == _SIG_RESOURCE:
            return value.get("urn", "")
        if sig in (_SIG_ASSET, _SIG_ARCHIVE):
            return _asset(value)
        return {k: clean(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN_VALUE:
        return UNKNOWN
    return value


_OPTION_DEFAULTS: dict[str, Any] = {
    "protect": False,
    "retain_on_delete": False,
    "delete_before_replace": False,
    "ignore_changes": [],
    "replace_on_changes": [],
    "additional_secret_outputs": [],
    "aliases": [],
    "deleted_with": None,
    "import_id": None,
}


def _asset(value: Mapping[str, Any]) -> dict[str, Any]:
    """Assets by content hash (inline text) or path/URI, archives by their members."""
    if isinstance(value.get("assets"), dict):
        return {"archive": {k: clean(v) for k, v in sorted(value["assets"].items())}}
    if "text" in value:
        return {"asset": "sha256:" + hashlib.sha256(str(value["text"]).encode()).hexdigest()}
    return {"asset": value.get("path") or value.get("uri") or "[unknown]"}


def _redacted(computed: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs the resource declares secret (additional_secret_outputs: a generated
    password, a provider's credentials) reach the engine in clear: redact them here."""
    secret = set(options.get("additional_secret_outputs", ()))
    return {k: SECRET if k in secret else v for k, v in computed.items()}


def _explicit_depends_on(reg: Registration) -> list[str]:
    """`depends_on` as written: all dependencies minus those implied by an input."""
    implied = {urn for urns in reg.property_dependencies.values() for urn in urns}
    return sorted(set(reg.dependencies) - implied)


def _provider_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Provider config reaches the engine JSON-encoded ("defaultTags": "{...}", "true")."""
    return {key: _decode_json_text(value) for key, value in inputs.items()}


def _decode_json_text(value: Any) -> Any:
    if isinstance(value, str) and (value[:1] in "[{" or value in ("true", "false")):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


PROVIDER_PREFIX = "pulumi:providers:"
# The engine creates a package's default provider itself (`default` or `default_<version>`);
# the program never registers it.
DEFAULT_PROVIDER_NAME = "default"


@dataclass(frozen=True, order=True)
class IntegrityProblem:
    """One registration the Pulumi engine refuses, in the engine's words."""

    urn: str  # the resource whose registration is refused
    message: str


def integrity_problems(registrations: Sequence[Registration]) -> list[IntegrityProblem]:
    """What `pulumi preview` refuses in these registrations (in the order they reached the
    monitor), as pulumi/pulumi's engine words it:

    - a URN registered twice: `stepGenerator.generateURN` (pkg/resource/deploy/
      step_generator.go) bails with diag 2001 (sdk/go/common/diag/errors.go),
      "Duplicate resource URN '%v'; try giving it a unique name";
    - a parent never registered: `stepGenerator.checkParent`, "could not find parent
      resource %v" (an empty parent is the root stack);
    - a provider reference (`<urn>::<id>`) to no registered provider: diag 2007,
      "unknown provider '%v' for resource '%v'" (a package's default provider is the
      engine's own and is never registered by the program);
    - a dependency (`depends_on`, an input's property dependency, `deleted_with`) on a
      resource that is missing or registered later: `Snapshot.VerifyIntegrity`
      (pkg/resource/deploy/snapshot.go), "resource %s's dependency %s refers to missing
      resource" / "... comes after it": the engine writes resources in registration order
      and refuses a state whose references point forwards, so a cycle of parent, provider
      and dependency edges, which must point forwards somewhere, is refused too (the
      Python SDK would wait for ever on it: each resource awaits its dependencies' URNs).

    Aliases are not checked: the engine refuses an alias only against resources of the
    previous deployment's state ("Duplicate resource URN '%v' conflicting with alias on
    resource with URN '%v'"), which an offline run does not have; the config loader
    refuses the renames that would collide (model/loader.py)."""
    problems: set[IntegrityProblem] = set()
    first: dict[str, int] = {}
    for index, reg in enumerate(registrations):
        if reg.urn in first:
            problems.add(
                IntegrityProblem(
                    reg.urn, f"Duplicate resource URN '{reg.urn}'; try giving it a unique name"
                )
            )
        else:
            first[reg.urn] = index
    providers = {
        f"{reg.urn}::{reg.id}": first[reg.urn]
        for reg in registrations
        if reg.type.startswith(PROVIDER_PREFIX)
    }
    edges: dict[str, set[str]] = {}
    late: list[tuple[str, str, str]] = []  # (urn, what, referenced urn)
    for index, reg in enumerate(registrations):
        targets = edges.setdefault(reg.urn, set())
        if reg.parent:
            if reg.parent not in first:
                problems.add(
                    IntegrityProblem(reg.urn, f"could not find parent resource {reg.parent}")
                )
            else:
                targets.add(reg.parent)
                if first[reg.parent] > index:
                    late.append((reg.urn, "parent", reg.parent))
        if reg.provider:
            provider_urn = reg.provider.rsplit("::", 1)[0]
            if reg.provider in providers:
                targets.add(provider_urn)
                if providers[reg.provider] > index:
                    late.append((reg.urn, "provider", provider_urn))
            elif not _is_default_provider(provider_urn):
                problems.add(
                    IntegrityProblem(
                        reg.urn, f"unknown provider '{reg.provider}' for resource '{reg.urn}'"
                    )
                )
        deleted_with = reg.options.get("deleted_with")
        dependencies = {
            *reg.dependencies,
            *(urn for urns in reg.property_dependencies.values() for urn in urns),
            *([deleted_with] if isinstance(deleted_with, str) and deleted_with else []),
        }
        for dep in sorted(dependencies):
            if dep not in first:
                problems.add(
                    IntegrityProblem(
                        reg.urn, f"resource {reg.urn}'s dependency {dep} refers to missing resource"
                    )
                )
                continue
            targets.add(dep)
            if first[dep] > index:
                late.append((reg.urn, "dependency", dep))
    cycles = _cycles(edges)
    in_cycle = {urn for cycle in cycles for urn in cycle}
    for cycle in cycles:
        path = " -> ".join([*cycle, cycle[0]])
        problems.add(
            IntegrityProblem(
                cycle[0],
                f"resource {cycle[0]}'s dependencies form a cycle: {path} (each resource's "
                "parent, provider and dependencies must be registered before it)",
            )
        )
    for urn, what, target in late:
        if urn in in_cycle and target in in_cycle:
            continue
        problems.add(IntegrityProblem(urn, LATE[what].format(urn=urn, target=target)))
    return sorted(problems)


# Snapshot.VerifyIntegrity's words for a reference to a resource written after it.
LATE = {
    "parent": "child resource {urn}'s parent {target} comes after it",
    "provider": "resource {urn} refers to unknown provider {target}",
    "dependency": "resource {urn}'s dependency {target} comes after it",
}


def _is_default_provider(urn: str) -> bool:
    parts = urn.split("::")
    return (
        len(parts) == 4
        and parts[2].startswith(PROVIDER_PREFIX)
        and parts[3].split("_", 1)[0] == DEFAULT_PROVIDER_NAME
    )


def _cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The cycles a depth-first search closes (iterative, so that a long chain of parents
    cannot exhaust Python's recursion limit), each from its smallest URN, so that the
    report is the same on every run."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(edges):
        if root in state:
            continue
        path: list[str] = []
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges.get(root, ()))))]
        state[root] = 1
        path.append(root)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            if state.get(child) == 1:
                cycle = path[path.index(child) :]
                start = cycle.index(min(cycle))
                found.append(cycle[start:] + cycle[:start])
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return sorted(found)


def build_graph(
    registrations: Iterable[Registration],
    provider_regions: Mapping[str, str],
    *,
    meta: Mapping[str, Any],
    outputs: Mapping[str, Any],
) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []
    for reg in sorted(registrations, key=lambda r: r.urn):
        # A provider reference is "<provider urn>::<provider id>".
        provider_urn = reg.provider.rsplit("::", 1)[0] if reg.provider else None
        is_provider = reg.type.startswith("pulumi:providers:")
        inputs = clean(reg.inputs)
        if is_provider:
            inputs = _provider_inputs(inputs)
        region = None
        if is_provider:
            region = inputs.get("region")
        elif reg.custom and reg.provider:
            region = provider_regions.get(reg.provider)
        depends_on = _explicit_depends_on(reg)
        resources.append(
            {
                "urn": reg.urn,
                "type": reg.type,
                "name": reg.name,
                "custom": reg.custom,
                "read": reg.read,
                "parent": reg.parent or None,
                "provider": provider_urn,
                "region": region or None,
                "id": reg.id or None,
                "inputs": inputs,
                "computed": _redacted(clean(reg.computed), reg.options),
                "options": {**_OPTION_DEFAULTS, **reg.options, "depends_on": depends_on},
            }
        )
        if reg.parent:
            edges.append({"from": reg.urn, "to": reg.parent, "kind": "parent"})
        if provider_urn:
            edges.append({"from": reg.urn, "to": provider_urn, "kind": "provider"})
        for dep in depends_on:
            edges.append({"from": reg.urn, "to": dep, "kind": "depends_on"})
        for prop, deps in reg.property_dependencies.items():
            for dep in deps:
                edges.append({"from": reg.urn, "to": dep, "kind": f"input:{prop}"})
    edges.sort(key=lambda e: (e["from"], e["kind"], e["to"]))
    unique_edges = [e for i, e in enumerate(edges) if i == 0 or e != edges[i - 1]]
    return {
        **dict(meta),
        "resources": resources,
        "edges": unique_edges,
        "outputs": clean(dict(outputs)),
    }


def dumps(graph: Mapping[str, Any]) -> str:
    return json.dumps(graph, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(graph: Mapping[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{graph['stack']}.graph.json"
    path.write_text(dumps(graph), encoding="utf-8")
    return path


def load(path: Path) -> dict[str, Any]:
    graph: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if graph.get("schema") != GRAPH_SCHEMA:
        raise ValueError(f"{path}: not a {GRAPH_SCHEMA} resource graph")
    return graph
