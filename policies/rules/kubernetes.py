"""Rules for Kubernetes objects: every PrometheusRule alert is documented (summary,
description, runbook) and states its `for` and severity; an HPA keeps at least two pods; a
PodDisruptionBudget lets drains proceed; objects go through an explicit provider; and (a
stack rule) every workload an HPA scales has a PodDisruptionBudget."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from policies.rules.core import Framework, ResourceView, Rule, Severity, dig, holds_opaque, opaque
from policies.rules.stack import StackRule, StackView, Violation

PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
HPA_TYPES = (
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
)
PDB_TYPES = ("kubernetes:policy/v1:PodDisruptionBudget",)
SEVERITIES = ("critical", "error", "warning", "info")
MIN_REPLICAS = 2
NAME_LABEL = "app.kubernetes.io/name"
_DURATION = re.compile(r"^([0-9]+)(ms|s|m|h|d|w|y)")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _alerts(resource: ResourceView) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, rule) of every alerting rule: `alert <name> [<tier>] in group <group>`."""
    for raw_group in _dict(resource.props.get("spec")).get("groups") or []:
        group = _dict(raw_group)
        for raw_rule in group.get("rules") or []:
            rule = _dict(raw_rule)
            if "alert" not in rule:
                continue  # a recording rule
            tier = dig(rule, "labels", "burn_tier")
            name = f"{rule['alert']} [{tier}]" if tier and not opaque(tier) else str(rule["alert"])
            yield f"alert {name} in group {group.get('name')}", rule


def _seconds(duration: Any) -> float | None:
    """A Prometheus duration in seconds (None when it is not one)."""
    if not isinstance(duration, str) or not duration:
        return None
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_536_000}
    total, rest = 0.0, duration
    while rest:
        match = _DURATION.match(rest)
        if match is None:
            return None
        total += int(match.group(1)) * units[match.group(2)]
        rest = rest[match.end() :]
    return total


def _documented(resource: ResourceView) -> Iterator[str]:
    for where, rule in _alerts(resource):
        if opaque(rule.get("annotations")):
            continue
        annotations = _dict(rule.get("annotations"))
        for key in ("summary", "description"):
            if not str(annotations.get(key) or "").strip():
                yield f"{resource.name}: {where} has no {key} annotation"
        runbook = annotations.get("runbook_url")
        if opaque(runbook):
            continue
        if not isinstance(runbook, str) or not runbook.startswith("https://"):
            yield f"{resource.name}: {where} links no runbook (runbook_url annotation)"


def _for_and_severity(resource: ResourceView) -> Iterator[str]:
    for where, rule in _alerts(resource):
        held = _seconds(rule.get("for"))
        if not held and not opaque(rule.get("for")):
            yield (
                f"{resource.name}: {where} fires on a single evaluation (no `for`): one "
                "scrape can page someone"
            )
        severity = dig(rule, "labels", "severity")
        if not opaque(severity) and severity not in SEVERITIES:
            yield (
                f"{resource.name}: {where} has no severity label ({', '.join(SEVERITIES)}): "
                "Alertmanager cannot route it"
            )


def _min_replicas(resource: ResourceView) -> Iterator[str]:
    if opaque(resource.props.get("spec")):
        return
    spec = _dict(resource.props.get("spec"))
    minimum = spec.get("minReplicas", 1)  # the API's default
    if isinstance(minimum, int) and minimum < MIN_REPLICAS:
        yield (
            f"{resource.name}: minReplicas {minimum}; one pod is a single point of failure "
            f"(a crash or a node drain takes the service down): keep at least {MIN_REPLICAS}"
        )


def _allows_eviction(resource: ResourceView) -> Iterator[str]:
    spec = _dict(resource.props.get("spec"))
    if spec.get("maxUnavailable") in (0, "0%"):
        yield (
            f"{resource.name}: maxUnavailable {spec['maxUnavailable']} allows no voluntary "
            "eviction: node drains and cluster upgrades block on it"
        )
    if spec.get("minAvailable") == "100%":
        yield (
            f"{resource.name}: minAvailable 100% allows no voluntary eviction: node drains "
            "and cluster upgrades block on it"
        )


def _explicit_provider(resource: ResourceView) -> Iterator[str]:
    if resource.provider_is_default:
        yield (
            f"{resource.name} uses the default Kubernetes provider: its cluster would be the "
            "current context of whatever kubeconfig the environment has, not the stack config"
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="kubernetes-prometheus-alert-documented",
        description="Every PrometheusRule alert has a summary, a description and a runbook URL.",
        severity=Severity.LOW,
        remediation="Give each alert annotations summary, description and runbook_url "
        "(https://); the bundle's rules take the service's runbook_url.",
        url="https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/",
        check=_documented,
        resource_types=(PROMETHEUS_RULE,),
        frameworks=(Framework("SOC 2", "CC7.4"), Framework("ISO 27001", "A.5.26")),
    ),
    Rule(
        id="kubernetes-prometheus-alert-has-for-and-severity",
        description="Every PrometheusRule alert holds for a while before firing (`for`) and "
        "carries a severity label Alertmanager routes on.",
        severity=Severity.MEDIUM,
        remediation="Set `for` (e.g. 5m) and labels.severity to critical, error, warning or info.",
        url="https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/",
        check=_for_and_severity,
        resource_types=(PROMETHEUS_RULE,),
        frameworks=(Framework("SOC 2", "CC7.2"),),
    ),
    Rule(
        id="kubernetes-hpa-min-replicas-at-least-2",
        description=f"HorizontalPodAutoscalers keep at least {MIN_REPLICAS} replicas.",
        severity=Severity.HIGH,
        remediation="Set kubernetes.hpa.min_replicas to 2 or more.",
        url="https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/",
        check=_min_replicas,
        resource_types=HPA_TYPES,
        frameworks=(Framework("SOC 2", "A1.2"), Framework("ISO 27001", "A.8.14")),
    ),
    Rule(
        id="kubernetes-pdb-allows-eviction",
        description="PodDisruptionBudgets let at least one pod be evicted, so node drains "
        "and cluster upgrades can proceed.",
        severity=Severity.MEDIUM,
        remediation="Use max_unavailable 1 (the default) or a min_available below the "
        "replica count.",
        url="https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
        check=_allows_eviction,
        resource_types=PDB_TYPES,
        frameworks=(Framework("SOC 2", "A1.2"), Framework("ISO 27001", "A.8.32")),
    ),
    Rule(
        id="kubernetes-resource-explicit-provider",
        description="Every Kubernetes object is created through an explicit provider for the "
        "stack's cluster.",
        severity=Severity.HIGH,
        remediation="Create it with opts=ResourceOptions(provider=...) (components/k8s "
        "ClusterPlatform); keep `pulumi:disable-default-providers: [kubernetes]` in the "
        "stack file.",
        url="https://www.pulumi.com/docs/iac/concepts/resources/providers/#explicit-provider-configuration",
        check=_explicit_provider,
        resource_types=("kubernetes:",),
        frameworks=(Framework("SOC 2", "CC8.1"), Framework("ISO 27001", "A.8.32")),
    ),
)


# -- stack rule: every HPA'd workload has a PDB -----------------------------------------


def _namespace(resource: ResourceView) -> str:
    return str(_dict(resource.props.get("metadata")).get("namespace") or "default")


def _pdb_names(pdb: ResourceView) -> set[str]:
    """The workload names a PDB stands for: its own name and its app.kubernetes.io/name."""
    metadata = _dict(pdb.props.get("metadata"))
    names = {str(metadata.get("name") or pdb.name)}
    label = _dict(metadata.get("labels")).get(NAME_LABEL)
    return names | ({str(label)} if label else set())


def _hpa_pdb_check(view: StackView) -> Iterator[Violation]:
    covered: set[tuple[str | None, str, str]] = set()
    # Clusters with a PDB whose namespace or names are not known yet: it may be the one.
    unsure: set[str | None] = set()
    for pdb in view.of_type(*PDB_TYPES):
        if holds_opaque(pdb.props.get("metadata")):
            unsure.add(pdb.provider_urn)
            continue
        for name in _pdb_names(pdb):
            covered.add((pdb.provider_urn, _namespace(pdb), name))
    for hpa in view.of_type(*HPA_TYPES):
        name = dig(hpa.props, "spec", "scaleTargetRef", "name")
        if (
            hpa.provider_urn in unsure
            or opaque(name)
            or opaque(dig(hpa.props, "metadata", "namespace"))
        ):
            continue
        target = _dict(_dict(hpa.props.get("spec")).get("scaleTargetRef"))
        name = str(target.get("name"))
        if (hpa.provider_urn, _namespace(hpa), name) not in covered:
            yield Violation(
                f"{hpa.name}: {target.get('kind', 'workload')} {_namespace(hpa)}/{name} is "
                "autoscaled but has no PodDisruptionBudget: a node drain may evict all its "
                "pods at once",
                hpa.urn,
            )


STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        id="kubernetes-hpa-workload-has-pdb",
        description="Every workload a HorizontalPodAutoscaler scales has a "
        "PodDisruptionBudget in the same cluster and namespace.",
        severity=Severity.HIGH,
        remediation="Keep kubernetes.pdb on the service (max_unavailable 1 by default); a "
        "PDB covers the workload whose name it or its app.kubernetes.io/name label carries.",
        url="https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
        check=_hpa_pdb_check,
        frameworks=(Framework("SOC 2", "A1.2"), Framework("ISO 27001", "A.8.14")),
        applies=lambda view: bool(view.of_type(*HPA_TYPES)),
    ),
)
