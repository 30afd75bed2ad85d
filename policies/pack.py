"""Adapter from the rule functions to Pulumi CrossGuard policies.

Importable without starting anything: `policies/__main__.py` builds the pack from
`build_policies()`, tests call the policies' validate functions directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy import Severity as PackSeverity

from policies.rules import ALL_RULES, Enforcement, ResourceView, Rule

PACK_NAME = "resilience"


def view_from_args(args: ResourceValidationArgs) -> ResourceView:
    provider = args.provider
    region = None
    if provider is not None:
        value = provider.props.get("region")
        region = value if isinstance(value, str) else None
    return ResourceView(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=args.props,
        protect=bool(args.opts.protect),
        provider_urn=provider.urn if provider is not None else None,
        region=region,
    )


def _policy(rule: Rule, enforcement: Enforcement) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        for message in rule.check(view_from_args(args)):
            report_violation(message, args.urn)

    # CrossGuard carries one framework per policy; the full list is in the rule metadata
    # and in the offline reports.
    first = rule.frameworks[0] if rule.frameworks else None
    return ResourceValidationPolicy(
        name=rule.id,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel(enforcement.value),
        severity=PackSeverity(rule.severity.value),
        framework=(
            PolicyComplianceFramework(name=first.name, reference=first.control) if first else None
        ),
        remediation_steps=rule.remediation,
        url=rule.url,
        tags=sorted({f.name for f in rule.frameworks}),
    )


def build_policies(
    rules: Iterable[Rule] = ALL_RULES,
    enforcement: Mapping[str, Enforcement] | None = None,
) -> list[Policy]:
    overrides = enforcement or {}
    return [_policy(rule, overrides.get(rule.id, rule.enforcement)) for rule in rules]
