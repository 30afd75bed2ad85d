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
from collections.abc import Iterable, Mapping
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
