"""Adapter from the rule functions to Pulumi CrossGuard policies.

Importable without starting anything: `policies/__main__.py` builds the pack from
`build_policies()`, tests call the policies' validate functions directly.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyProviderResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import Severity as PackSeverity
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY
from pulumi_policy.proxy import _is_unknown

from policies.rules import ALL_RULES, STACK_RULES, Enforcement, ResourceView, Rule, StackRule
from policies.rules.core import SECRET, UNKNOWN
from policies.rules.stack import (
    PROVIDER_PREFIX,
    STACK_REFERENCE,
    StackView,
    agreed_tags,
    default_tags,
    drill_for,
    load_drill,
    tag_map,
)

PACK_NAME = "resilience"


# What a value the engine does not know yet (preview) and a secret read as: UNKNOWN and
# SECRET (policies/rules/core.py), the markers the offline graph writes (scripts/graph.py), so
# rules see the same thing in both places and judge neither (core.opaque).


def plain(value: Any) -> Any:
    """The engine's values as plain data, as the resource graph records them. pulumi_policy
    hands rules read-only proxies that are Mappings and Sequences but not dicts and lists,
    and raise on values unknown during a preview; rules are written for plain JSON data, so
    the adapter unwraps the proxies and turns unknowns into UNKNOWN. Every number reaches
    the pack as a protobuf double (the engine marshals numbers as `NumberValue`,
    sdk/go/common/resource/plugin/rpc.go), so an integral one becomes an int again, as in
    the graph: rules compare with `isinstance(x, int)` and print the value."""
    if isinstance(value, str):
        return UNKNOWN if _is_unknown(value) else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        raw = value["__target"] if _is_proxy(value) else value
        return {str(k): plain(raw[k]) for k in raw}
    if isinstance(value, Sequence):
        raw = value["__target"] if _is_proxy(value) else value  # type: ignore[call-overload]
        return [plain(item) for item in raw]
    return value


def _is_proxy(value: Any) -> bool:
    return type(value).__name__ in ("_DictProxy", "_ListProxy")


def mark_secrets(value: Any) -> Any:
    """Wire properties (the engine's JSON form) with every secret replaced by SECRET."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return SECRET
        return {k: mark_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mark_secrets(v) for v in value]
    return value


def keep_secrets_secret() -> None:
    """Make the running pack show rules a secret as SECRET, as the offline graph does.

    The engine sends secrets wrapped (`{"4dabf18193072939515e22adb298388d":
    "1b47061264138c4ac30d75fd1eb44270", "value": ...}`: Analyze and AnalyzeStack marshal with
    KeepSecrets, pkg/resource/plugin/analyzer_plugin.go), but pulumi_policy's Analyze and
    AnalyzeStack unwrap them to the plaintext before a policy runs
    (`deserialize_properties(..., proxy_secrets=False)`, pulumi_policy/deserialize.py). Rules
    would then judge (and could print into the preview's output) values `resilience check`
    never sees. pulumi_policy offers no hook, so its module's deserializer is wrapped to
    replace secrets first; Remediate (`proxy_secrets=True`) is left as it is. Called by
    policies/__main__.py only; tests/test_pack_grpc.py checks it over the real protocol."""
    module: Any = importlib.import_module("pulumi_policy.policy")
    original = getattr(module, "deserialize_properties", None)
    if not callable(original):
        raise RuntimeError(
            "pulumi_policy.policy.deserialize_properties is gone: secrets would reach the "
            "rules in plaintext; adapt policies/pack.py to this pulumi_policy version"
        )
    if getattr(original, "__wrapped__", None) is not None:
        return  # already installed

    @functools.wraps(original)
    def deserialize(props: dict[str, Any], proxy_secrets: bool = False) -> Any:
        return original(props if proxy_secrets else mark_secrets(props), proxy_secrets)

    module.deserialize_properties = deserialize


def _view(
    resource_type: str,
    name: str,
    urn: str,
    props: Any,
    *,
    protect: bool,
    provider: PolicyProviderResource | None,
    ignore_changes: Sequence[str] = (),
) -> ResourceView:
    """A resource as the rules see it, from what the engine hands the pack."""
    region = plain(provider.props).get("region") if provider is not None else None
    return ResourceView(
        type=resource_type,
        name=name,
        urn=urn,
        props=plain(props),
        protect=protect,
        provider_urn=provider.urn if provider is not None else None,
        region=region if isinstance(region, str) else None,
        ignore_changes=tuple(ignore_changes),
    )


def view_from_args(args: ResourceValidationArgs) -> ResourceView:
    return _view(
        args.resource_type,
        args.name,
        args.urn,
        args.props,
        protect=bool(args.opts.protect),
        provider=args.provider,
        ignore_changes=args.opts.ignore_changes or (),
    )


def stack_view_from_args(
    args: StackValidationArgs, stack: str, drill: Mapping[str, Any] | None
) -> StackView:
    """The stack as the stack rules see it, from what the engine hands the pack."""
    views: list[ResourceView] = []
    tags: dict[str, dict[str, str]] = {}
    provider_tags: list[dict[str, str]] = []
    references: dict[str, dict[str, Any]] = {}
    for resource in args.resources:
        if resource.resource_type.startswith(PROVIDER_PREFIX):
            provider_tags.append(default_tags(plain(resource.props)))
            continue
        if resource.resource_type == STACK_REFERENCE:
            props = plain(resource.props)
            outputs = props.get("outputs")
            name = str(props.get("name", resource.name))
            references[name] = dict(outputs) if isinstance(outputs, Mapping) else {}
            continue
        if resource.resource_type.startswith("pulumi:"):
            continue
        provider = resource.provider
        views.append(
            _view(
                resource.resource_type,
                resource.name,
                resource.urn,
                resource.props,
                protect=bool(resource.opts.protect),
                provider=provider,
                ignore_changes=resource.opts.ignore_changes or (),
            )
        )
        tags[resource.urn] = {
            **(default_tags(plain(provider.props)) if provider is not None else {}),
            **tag_map(views[-1].props.get("tags")),
        }
    agreed = agreed_tags(provider_tags)
    return StackView(
        stack=stack,
        resources=views,
        tags=tags,
        stack_tags=agreed,
        references=references,
        drill=drill_for(drill, agreed),
        dependencies={
            r.urn: frozenset(d.urn for d in r.dependencies or []) for r in args.resources
        },
    )


def _metadata(rule: Rule | StackRule, enforcement: Enforcement) -> dict[str, Any]:
    """What a policy says of itself, for either kind of rule. CrossGuard carries one
    framework per policy; the full list is in the rule metadata and the offline reports."""
    first = rule.frameworks[0] if rule.frameworks else None
    return {
        "name": rule.id,
        "description": rule.description,
        "enforcement_level": EnforcementLevel(enforcement.value),
        "severity": PackSeverity(rule.severity.value),
        "framework": (
            PolicyComplianceFramework(name=first.name, reference=first.control) if first else None
        ),
        "remediation_steps": rule.remediation,
        "url": rule.url,
        "tags": sorted({f.name for f in rule.frameworks}),
    }


def _stack_name(args: StackValidationArgs) -> str:
    """The stack's name, from a URN (`urn:pulumi:<stack>::<project>::...`)."""
    for resource in args.resources:
        head = resource.urn.split("::", 1)[0]
        if head.startswith("urn:pulumi:"):
            return head.removeprefix("urn:pulumi:")
    return "stack"


def _stack_policy(
    rule: StackRule, enforcement: Enforcement, drill: Mapping[str, Any] | None
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        view = stack_view_from_args(args, _stack_name(args), drill)
        if not rule.applies(view):
            args.not_applicable(f"nothing in stack {view.stack} for {rule.id} to judge")
            return
        for violation in rule.check(view):
            report_violation(violation.message, violation.urn)

    return StackValidationPolicy(validate=validate, **_metadata(rule, enforcement))


def _policy(rule: Rule, enforcement: Enforcement) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        for message in rule.check(view_from_args(args)):
            report_violation(message, args.urn)

    return ResourceValidationPolicy(validate=validate, **_metadata(rule, enforcement))


def build_policies(
    rules: Iterable[Rule] = ALL_RULES,
    enforcement: Mapping[str, Enforcement] | None = None,
    *,
    stack_rules: Iterable[StackRule] = STACK_RULES,
    project_dir: Path | None = None,
) -> list[Policy]:
    """The pack's policies: one per resource rule and one per stack rule. The RTO analysis
    reads the last drill of `project_dir` (the pack's parent folder) when there is one."""
    overrides = enforcement or {}
    drill = load_drill(project_dir) if project_dir is not None else None
    policies: list[Policy] = [
        _policy(rule, overrides.get(rule.id, rule.enforcement)) for rule in rules
    ]
    policies += [
        _stack_policy(rule, overrides.get(rule.id, rule.enforcement), drill) for rule in stack_rules
    ]
    return policies
