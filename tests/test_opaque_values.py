"""No rule reports a violation that rests on a value it cannot judge: one unknown until the
resources it comes from exist (`pulumi preview` of a new stack, where ids, ARNs and every
input built from them are unknown) or one kept secret (policies/rules/core.py `opaque`).

The check is systematic: every rule, on every resource it applies to (the shipped stacks,
the Kubernetes and Google Cloud examples, and every rule's compliant and broken fixtures from
the rule test modules), is run again with each value of the resource's inputs (every node
of the tree: a whole block, a list, one leaf) made "[unknown]", then "[secret]", in turn. A
violation the known values do not also produce (of a rule, on a resource) rests on the
opaque value: the test fails naming the rule, the resource and the path. Stack rules
are run the same way over the resources of the kinds they read, the shipped dr stack's view
of the primary's outputs, and the stack-rule fixtures of tests/test_stack_rules.py and
tests/test_constraints.py. A last test shows that every rule is covered by the sweep.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import pytest

from model.loader import load_file
from policies.rules import ALL_RULES, STACK_RULES, ResourceView, Rule, StackRule, StackView
from policies.rules.core import SECRET, UNKNOWN, evaluate_views, opaque
from policies.rules.stack import evaluate_stack, tag_map, view_from_graph
from scripts.engine import SynthResult, synth_all
from tests import test_constraints, test_gcp, test_k8s, test_rules, test_stack_rules
from tests.conftest import ROOT

MARKERS = (UNKNOWN, SECRET)
EXAMPLES = {
    "example-kubernetes": ROOT / "Pulumi.example-kubernetes.yaml",
    "light-on-campus": ROOT / "examples" / "light-on-campus" / "Pulumi.light-on-campus.yaml",
}

Path = tuple[str | int, ...]
Key = tuple[str, str, str]  # rule, urn, message


def node_paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every node below `value`: each mapping value and list item, depth first."""
    items: Sequence[tuple[str | int, Any]] = ()
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, item in items:
        yield (*prefix, key)
        yield from node_paths(item, (*prefix, key))


def at(value: Any, path: Path) -> Any:
    for key in path:
        value = value[key]
    return value


def put(value: Any, path: Path, new: Any) -> Any:
    """A copy of `value` with the node at `path` replaced (the rest shared)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, Mapping):
        return {**value, head: put(value[head], rest, new)}
    items = list(value)
    assert isinstance(head, int)
    items[head] = put(items[head], rest, new)
    return items


@dataclass(frozen=True)
class Mutation:
    marker: str
    path: str  # shown as a.b.0.c


def mutations(props: Mapping[str, Any]) -> Iterator[tuple[Mutation, dict[str, Any]]]:
    """Each node made opaque in turn (one already opaque stays), with the props it gives."""
    for path in node_paths(props):
        if opaque(at(props, path)):
            continue
        shown = ".".join(str(k) for k in path)
        for marker in MARKERS:
            yield Mutation(marker, shown), put(props, path, marker)


def keys(findings: Sequence[Any]) -> Counter[Key]:
    return Counter((f.rule_id, f.urn, f.message) for f in findings)


def added(before: Counter[Key], after: Counter[Key]) -> list[Key]:
    """Findings the opaque value adds to those of the known one: a violation of a rule on a
    resource where the known values have none, or more of them. A message may say less with
    a value it cannot show (a label, a list of the settings known to be off): it is the same
    violation. A stack rule may attribute a violation it still finds, with the same message,
    to another of the resources it is about (one whose value is opaque drops out)."""

    def per_resource(found: Counter[Key]) -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        for (rule, urn, _), n in found.items():
            counts[(rule, urn)] += n
        return counts

    def per_message(found: Counter[Key]) -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        for (rule, _, message), n in found.items():
            counts[(rule, message)] += n
        return counts

    more = per_resource(after) - per_resource(before)
    kept, now = per_message(before), per_message(after)
    new = []
    for rule, urn, message in sorted((after - before).elements()):
        if not more[(rule, urn)]:
            continue
        if kept[(rule, message)] >= now[(rule, message)]:
            continue  # the same violation, attributed to another resource
        more[(rule, urn)] -= 1
        new.append((rule, urn, message))
    return new


@dataclass
class Report:
    """What made a finding of its own, one line per rule, resource and path."""

    problems: list[str] = field(default_factory=list)

    def note(self, where: str, change: Mutation, new: list[Key], prefix: str = "") -> None:
        for rule, urn, message in new:
            name = urn.rsplit("::", 1)[-1]
            path = f"{prefix}{change.path}"
            self.problems.append(f"{rule} on {where}/{name}, {path} = {change.marker}: {message}")

    def check(self) -> None:
        shown = self.problems[:40]
        more = len(self.problems) - len(shown)
        assert not self.problems, "\n".join(shown) + (f"\n... {more} more" if more else "")


# -- resource rules ---------------------------------------------------------------------------


def applicable(typ: str) -> list[Rule]:
    return [rule for rule in ALL_RULES if rule.applies_to(typ)]


def sweep_resources(where: str, views: Sequence[ResourceView], report: Report) -> None:
    for view in views:
        rules = applicable(view.type)
        if not rules:
            continue
        before = keys(evaluate_views(where, [view], rules)[0])
        for change, props in mutations(view.props):
            after = keys(evaluate_views(where, [replace(view, props=props)], rules)[0])
            report.note(where, change, added(before, after))


def graph_views(graph: Mapping[str, Any]) -> list[ResourceView]:
    return list(view_from_graph(graph).resources)


@pytest.fixture(scope="module")
def examples() -> dict[str, SynthResult]:
    return {r.stack: r for r in synth_all([load_file(path) for path in EXAMPLES.values()])}


def shipped_graphs(
    synthesized: Mapping[str, SynthResult], examples: Mapping[str, SynthResult]
) -> dict[str, Mapping[str, Any]]:
    return {name: r.graph for name, r in {**synthesized, **examples}.items()}


def test_resource_rules_never_judge_an_opaque_value_of_the_shipped_stacks(
    synthesized: dict[str, SynthResult], examples: dict[str, SynthResult]
) -> None:
    report = Report()
    for name, graph in shipped_graphs(synthesized, examples).items():
        sweep_resources(name, graph_views(graph), report)
    report.check()


def fixture_views() -> list[tuple[str, ResourceView]]:
    """Each rule's compliant and broken fixtures, built as their test modules build them."""
    found: list[tuple[str, ResourceView]] = []
    for rule_id, typ, good, bad, _ in test_rules.CASES:
        found += [
            (f"{rule_id}:good", test_rules.view(typ, **good)),
            (f"{rule_id}:bad", test_rules.view(typ, **{**good, **bad})),
        ]
    for rule_id, typ, good, bad, _ in test_constraints.CASES:
        found += [
            (f"{rule_id}:good", test_constraints.view(typ, good)),
            (f"{rule_id}:bad", test_constraints.view(typ, {**good, **bad})),
        ]
    for rule_id, typ, good, bad, _ in test_gcp.GCP_CASES:
        broken = {k: v for k, v in {**good, **bad}.items() if v is not None}
        found += [
            (f"{rule_id}:good", test_gcp.gcp_view(typ, good)),
            (f"{rule_id}:bad", test_gcp.gcp_view(typ, broken)),
        ]
    for rule_id, typ, good, bad, _ in test_k8s.K8S_CASES:
        found += [
            (f"{rule_id}:good", test_k8s.k8s_view(typ, good)),
            (f"{rule_id}:bad", test_k8s.k8s_view(typ, bad)),
        ]
    found.append(("kms-key", test_rules.key()))
    return found


def test_resource_rules_never_judge_an_opaque_value_of_their_fixtures() -> None:
    """The broken fixtures too: a violation the known values make stays, none is added."""
    report = Report()
    for label, view in fixture_views():
        sweep_resources(label, [view], report)
    report.check()


# -- stack rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading(StackView):
    """A stack view that records the kinds a rule asks it for, and whether it reads the
    primary's outputs."""

    asked: set[str] = field(default_factory=set, compare=False)

    def of_type(self, *types: str) -> list[ResourceView]:
        self.asked.update(types)
        return super().of_type(*types)

    def primary_outputs(self) -> Mapping[str, Any]:
        self.asked.add("primary outputs")
        return Outputs(super().primary_outputs(), self.asked)


class Outputs(dict[str, Any]):
    """The primary's outputs, recording which of them a rule reads."""

    def __init__(self, outputs: Mapping[str, Any], asked: set[str]) -> None:
        super().__init__(outputs)
        self.asked = asked

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(f"output {key}")
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.asked.add(f"output {key}")
        return super().__getitem__(key)


def reading(view: StackView) -> Reading:
    return Reading(**{f.name: getattr(view, f.name) for f in fields(StackView)})


class Props(dict[str, Any]):
    """A resource's props, recording which of them a rule reads ("*": all of them)."""

    def __init__(self, props: Mapping[str, Any], read: set[str]) -> None:
        super().__init__(props)
        self.read = read

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self.read.add("*")
        return super().__iter__()

    def keys(self) -> Any:
        self.read.add("*")
        return super().keys()

    def values(self) -> Any:
        self.read.add("*")
        return super().values()

    def items(self) -> Any:
        self.read.add("*")
        return super().items()


def stack_keys(view: StackView, rule: StackRule) -> Counter[Key]:
    return keys(evaluate_stack(view, [rule])[0])


def kinds_read(view: StackView, rule: StackRule) -> set[str]:
    seen = reading(view)
    evaluate_stack(seen, [rule])
    return seen.asked


def props_read(view: StackView, rule: StackRule) -> dict[str, set[str]]:
    """Per resource, the props the rule reads on this view (its tags always: the view's
    tags, which the rule reads apart from the props, are made from them). A value the rule
    does not read on the known view cannot change what it finds when it alone is opaque."""
    read: dict[str, set[str]] = {r.urn: {"tags"} for r in view.resources}
    resources = [replace(r, props=Props(r.props, read[r.urn])) for r in view.resources]
    evaluate_stack(replace(view, resources=resources), [rule])
    return read


Rebuild = Callable[[ResourceView, dict[str, Any]], StackView]


def sweep_stack(where: str, view: StackView, rebuild: Rebuild, report: Report) -> None:
    """Each stack rule, with each value of each resource of the kinds it reads made opaque.
    `rebuild(resource, props)` is the view with that resource's props replaced (and the
    tags they carry)."""
    for rule in STACK_RULES:
        before = stack_keys(view, rule)
        kinds = kinds_read(view, rule)
        read = props_read(view, rule)
        for resource in view.resources:
            if resource.type not in kinds:
                continue
            wanted = read[resource.urn]
            for change, props in mutations(resource.props):
                if "*" not in wanted and change.path.split(".", 1)[0] not in wanted:
                    continue
                after = stack_keys(rebuild(resource, props), rule)
                report.note(where, change, added(before, after), f"{resource.name}.")


def graph_rebuild(graph: Mapping[str, Any], view: StackView) -> Rebuild:
    """Views of `graph` with one resource's props replaced: tags are the provider's under the
    resource's own, as view_from_graph makes them."""
    bare = copy.deepcopy(dict(graph))
    for resource in bare["resources"]:
        resource["inputs"].pop("tags", None)
    provider_tags = view_from_graph(bare).tags

    def rebuild(resource: ResourceView, props: dict[str, Any]) -> StackView:
        resources = [
            replace(r, props=props) if r.urn == resource.urn else r for r in view.resources
        ]
        tags = dict(view.tags)
        tags[resource.urn] = {**provider_tags[resource.urn], **tag_map(props.get("tags"))}
        return replace(view, resources=resources, tags=tags)

    return rebuild


def test_stack_rules_never_judge_an_opaque_value_of_the_shipped_stacks(
    synthesized: dict[str, SynthResult], examples: dict[str, SynthResult]
) -> None:
    report = Report()
    for name, graph in shipped_graphs(synthesized, examples).items():
        view = view_from_graph(graph)
        sweep_stack(name, view, graph_rebuild(graph, view), report)
    report.check()


def test_stack_rules_never_judge_an_opaque_output_of_the_primary(
    synthesized: dict[str, SynthResult],
) -> None:
    """The dr stack reads the primary's outputs through its StackReference (a read: known
    during a preview); an output the primary keeps secret reads as "[secret]". Both markers
    are swept, as everywhere, over the outputs the rules read."""
    view = view_from_graph(synthesized["dr"].graph)
    ((name, outputs),) = view.references.items()
    read = {rule.id: kinds_read(view, rule) for rule in STACK_RULES}
    rules = [r for r in STACK_RULES if "primary outputs" in read[r.id]]
    assert {r.id for r in rules} >= {"resilience-rpo-achievable", "resilience-dr-parity"}
    # The outputs they read, and the role that makes the outputs the primary's.
    wanted = {"role"} | {k.removeprefix("output ") for r in rules for k in read[r.id]}
    report = Report()
    before = keys(evaluate_stack(view, rules)[0])
    for key in sorted(wanted & set(outputs)):
        for change, value in mutations({key: outputs[key]}):
            changed = {**outputs, **value}
            after = keys(evaluate_stack(replace(view, references={name: changed}), rules)[0])
            report.note("dr", change, added(before, after), "primary output ")
    report.check()


def spec_rebuild(spec: Mapping[str, Any], view: StackView) -> Rebuild:
    """Views of a stack-rule fixture with one resource's props replaced; its tags, where the
    fixture gives resources tags (tests/test_stack_rules.py build), are the stack's under
    the resource's own."""
    stack_tags = spec.get("stack_tags")

    def rebuild(resource: ResourceView, props: dict[str, Any]) -> StackView:
        resources = [
            replace(r, props=props) if r.urn == resource.urn else r for r in view.resources
        ]
        tags = dict(view.tags)
        if stack_tags is not None:
            tags[resource.urn] = {**stack_tags, **tag_map(props.get("tags"))}
        return replace(view, resources=resources, tags=tags)

    return rebuild


def stack_fixtures() -> list[tuple[str, dict[str, Any], Callable[[Any], StackView]]]:
    """Every stack-rule fixture: the baselines and each case's broken variant."""
    found: list[tuple[str, dict[str, Any], Callable[[Any], StackView]]] = []
    for label, baseline, edit, _ in test_stack_rules.CASES:
        spec = copy.deepcopy(baseline())
        edit(spec)
        found.append((label, spec, test_stack_rules.build))
    for label, edit, _ in test_constraints.STACK_CASES:
        spec = copy.deepcopy(test_constraints.dr_stack())
        edit(spec)
        found.append((label, spec, test_constraints.build))
    found += [
        ("dr-baseline", test_stack_rules.dr_baseline(), test_stack_rules.build),
        ("primary-baseline", test_stack_rules.primary_baseline(), test_stack_rules.build),
        ("constraints-baseline", test_constraints.dr_stack(), test_constraints.build),
    ]
    return found


def test_stack_rules_never_judge_an_opaque_value_of_their_fixtures() -> None:
    report = Report()
    for label, spec, build in stack_fixtures():
        view = build(spec)
        sweep_stack(label, view, spec_rebuild(spec, view), report)
    report.check()


# -- the sweep covers every rule ---------------------------------------------------------------


def test_the_sweep_covers_every_rule(
    synthesized: dict[str, SynthResult], examples: dict[str, SynthResult]
) -> None:
    """Each resource rule applies to a swept resource with inputs to make opaque; each stack
    rule applies to a swept stack and reads a kind of resource it holds."""
    views = [v for g in shipped_graphs(synthesized, examples).values() for v in graph_views(g)]
    views += [v for _, v in fixture_views()]
    swept = {r.id for v in views if v.props for r in applicable(v.type)}
    assert {r.id for r in ALL_RULES} - swept == set()
    stacks = [view_from_graph(g) for g in shipped_graphs(synthesized, examples).values()]
    stacks += [build(spec) for _, spec, build in stack_fixtures()]
    judged = {
        rule.id
        for view in stacks
        for rule in STACK_RULES
        if rule.applies(view) and any(r.type in kinds_read(view, rule) for r in view.resources)
    }
    assert {r.id for r in STACK_RULES} - judged == set()
