"""Load a stack config and report every problem in it at once.

Errors read `<file>: <key path>: <reason>`, for example
`Pulumi.dr.yaml: resilience:dr.region: must differ from primary region us-east-1`.
Nothing here touches Pulumi's engine, so a bad file fails before any resource is registered.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from model.config import NAMESPACE, SECRET_PLACEHOLDER, Role, StackConfig

# Keys outside our namespace that a stack file may carry.
ALLOWED_FOREIGN_KEYS = frozenset({"pulumi:disable-default-providers", "pulumi:tags"})


@dataclass(frozen=True, order=True)
class Problem:
    source: str
    key: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.source}: {self.key}: {self.message}"
            if self.key
            else (f"{self.source}: {self.message}")
        )


class ConfigError(Exception):
    """One or more problems in a stack config. `str()` lists them one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class InconsistentStacksError(Exception):
    """A stack's config disagrees with a stack it references (raised while the program runs,
    when the referenced stack's outputs are known)."""


@dataclass(frozen=True)
class LoadedConfig:
    config: StackConfig
    source: str  # the file name used in messages
    stack: str  # the Pulumi stack name


def stack_name_from_path(path: Path) -> str:
    """`Pulumi.dr.yaml` -> `dr`. Any other file name is used without its suffix."""
    name = path.name
    for suffix in (".yaml", ".yml"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.removeprefix("Pulumi.")


def load_file(path: Path | str, stack: str | None = None) -> LoadedConfig:
    """Read and validate one `Pulumi.<stack>.yaml` file."""
    path = Path(path)
    source = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), "", "file not found")]) from None
    except OSError as exc:
        raise ConfigError([Problem(str(path), "", f"cannot read: {exc.strerror}")]) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        reason = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError([Problem(source, "", f"invalid YAML{where}: {reason}")]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError([Problem(source, "config", "the file needs a 'config:' mapping")])
    config = load_mapping(document["config"], source)
    return LoadedConfig(config, source, stack or stack_name_from_path(path))


def load_mapping(raw: Mapping[str, Any], source: str) -> StackConfig:
    """Validate a flat mapping of namespaced keys (`resilience:dr`, `pulumi:...`)."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    prefix = f"{NAMESPACE}:"
    for raw_key, value in raw.items():
        key = str(raw_key)
        if key.startswith(prefix):
            values[key[len(prefix) :]] = _unwrap_secrets(value)
        elif key.startswith("aws:"):
            problems.append(
                Problem(
                    source,
                    key,
                    "not used: every resource gets an explicit aws.Provider whose region comes "
                    f"from {prefix}primary.region / {prefix}dr.region; remove this key",
                )
            )
        elif key not in ALLOWED_FOREIGN_KEYS and ":" not in key:
            problems.append(
                Problem(source, key, f"key has no namespace: did you mean '{prefix}{key}'?")
            )
    problems.extend(_cross_checks(values, source))
    try:
        config = StackConfig.model_validate(values)
    except ValidationError as exc:
        problems.extend(_problems_from_validation(exc, source))
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return config


def load_from_runtime() -> LoadedConfig:
    """Inside `pulumi up`/`preview`: read this stack's config from the Pulumi runtime.

    Structured values arrive JSON-encoded and secrets arrive decrypted, exactly as the
    engine hands them to the program.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    stack = pulumi.get_stack()
    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    raw: dict[str, Any] = {}
    for key, value in merged.items():
        raw[key] = _decode_runtime_value(value)
    return LoadedConfig(load_mapping(raw, f"Pulumi.{stack}.yaml"), f"Pulumi.{stack}.yaml", stack)


def _decode_runtime_value(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _unwrap_secrets(value: Any) -> Any:
    """Replace `{secure: ...}` ciphertexts (undecryptable offline) with a marker."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


def _key_path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic marks an invalid mapping key this way
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else f"{NAMESPACE}:{part}"
    return out


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class whose fields are valid at `loc` (for 'did you mean' hints)."""
    current: Any = StackConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _problems_from_validation(exc: ValidationError, source: str) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        if kind == "missing":
            message = "required key is missing"
        elif kind == "extra_forbidden":
            message = "unknown key"
            parent = _model_at(loc[:-1])
            if parent is not None:
                close = difflib.get_close_matches(str(loc[-1]), list(parent.model_fields), 1)
                if close:
                    message += f" (did you mean '{close[0]}'?)"
                else:
                    message += f" (allowed: {', '.join(parent.model_fields)})"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = f"must be a mapping of keys, got {_shown(error.get('input'))}"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            message = message.replace("Input should be", "must be")
            message = message.replace("List should have", "must have")
            given = error.get("input")
            if kind != "value_error" and not isinstance(given, dict | list):
                message += f", got {_shown(given)}"
        problems.append(Problem(source, _key_path(loc), message))
    return problems


def _shown(value: Any) -> str:
    return "nothing" if value is None else repr(value)


def _cross_checks(values: Mapping[str, Any], source: str) -> list[Problem]:
    """Rules spanning several keys. They read raw values defensively so that they run even
    when other keys are invalid: the user sees every problem in one pass."""
    problems = []
    primary = values.get("primary")
    dr = values.get("dr")
    primary_region = primary.get("region") if isinstance(primary, dict) else None
    dr_region = dr.get("region") if isinstance(dr, dict) else None
    if isinstance(primary_region, str) and primary_region and primary_region == dr_region:
        problems.append(
            Problem(
                source,
                f"{NAMESPACE}:dr.region",
                f"must differ from primary region {primary_region}",
            )
        )
    if values.get("role") == Role.DR.value and isinstance(dr, dict) and not dr.get("primary_stack"):
        problems.append(
            Problem(
                source,
                f"{NAMESPACE}:dr.primary_stack",
                f"required when {NAMESPACE}:role is dr (the stack whose outputs it reads)",
            )
        )
    services = values.get("services")
    if isinstance(services, list):
        seen: dict[str, int] = {}
        for index, service in enumerate(services):
            if not isinstance(service, dict):
                continue
            name = service.get("name")
            if isinstance(name, str):
                if name in seen:
                    problems.append(
                        Problem(
                            source,
                            f"{NAMESPACE}:services[{index}].name",
                            f"duplicate service name '{name}' (also services[{seen[name]}])",
                        )
                    )
                else:
                    seen[name] = index
            slo = service.get("slo")
            if isinstance(slo, dict):
                p95, p99 = slo.get("latency_p95_ms"), slo.get("latency_p99_ms")
                if isinstance(p95, int) and isinstance(p99, int) and p99 < p95:
                    problems.append(
                        Problem(
                            source,
                            f"{NAMESPACE}:services[{index}].slo.latency_p99_ms",
                            f"must be >= latency_p95_ms ({p95}): a p99 is never below the p95",
                        )
                    )
    return problems
