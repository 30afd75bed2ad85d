"""Offline evaluation of one stack's resource graph: every resource rule on every resource,
then every stack rule on the stack. `resilience check`, `resilience diff` and the benchmarks
call this; the CrossGuard pack calls the same rule functions through policies/pack.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policies.rules import ALL_RULES, STACK_RULES, Rule, StackRule
from policies.rules.core import Enforcement, Finding, evaluate_views
from policies.rules.stack import StackView, evaluate_stack, view_from_graph

AnyRule = Rule | StackRule


@dataclass(frozen=True)
class Evaluation:
    findings: list[Finding]
    # rule id -> resources it applied to (resource rules), 1 or 0 (stack rules)
    checked: dict[str, int]
    # The stack as the stack rules saw it (the RTO/RPO summary reads it too).
    view: StackView


def all_rules(
    rules: Sequence[Rule] = ALL_RULES, stack_rules: Sequence[StackRule] = STACK_RULES
) -> tuple[AnyRule, ...]:
    return (*rules, *stack_rules)


def evaluate_graph(
    graph: Mapping[str, Any],
    *,
    drill: Mapping[str, Any] | None = None,
    rules: Sequence[Rule] = ALL_RULES,
    stack_rules: Sequence[StackRule] = STACK_RULES,
    enforcement: Mapping[str, Enforcement] | None = None,
) -> Evaluation:
    view = view_from_graph(graph, drill)
    findings, checked = evaluate_views(view.stack, view.resources, rules, enforcement)
    stack_findings, applied = evaluate_stack(view, stack_rules, enforcement)
    checked.update(applied)
    return Evaluation(findings=sorted([*findings, *stack_findings]), checked=checked, view=view)
