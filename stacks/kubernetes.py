"""The Kubernetes half of a stack: for the services with `kubernetes` in this stack's role,
their PrometheusRules, HPA and PDB in the role's cluster, through one explicit provider.

The primary composes every enabled service. The dr stack composes them only when its region
serves: in warm-standby (HPA minimum at `warm_standby_percent`, at least two; the seed
alerts, no SLO alerting) and in active mode (everything, like the primary). In pilot-light
the DR cluster runs none of the service, so nothing is created there."""

from __future__ import annotations

from typing import Any

import pulumi

from components.k8s.cluster import ClusterPlatform, ClusterPlatformArgs
from components.k8s.rules import ServiceRules, ServiceRulesArgs
from components.k8s.workload import WorkloadAvailability, WorkloadAvailabilityArgs, replicas_for
from model.config import DrMode, Role, StackConfig


def kubernetes_services(config: StackConfig) -> list[str]:
    """The services this stack composes on Kubernetes."""
    if config.role is Role.DR and config.dr.mode is DrMode.PILOT_LIGHT:
        return []
    return [s.name for s in config.services if s.kubernetes and s.kubernetes.enabled]


def compose_kubernetes(config: StackConfig, prefix: str) -> dict[str, Any] | None:
    """Build the objects and return the stack's `kubernetes` output (None: nothing here)."""
    names = kubernetes_services(config)
    settings = config.kubernetes
    serving = config.role is Role.PRIMARY or config.dr.mode is not DrMode.PILOT_LIGHT
    release = settings.kube_prometheus_stack if settings.kube_prometheus_stack.enabled else None
    if not names and (release is None or not serving):
        return None
    cluster = getattr(settings.clusters, config.role.value)
    if cluster is None:
        raise ValueError(f"kubernetes.clusters.{config.role.value} is missing (the loader checks)")
    platform = ClusterPlatform(
        f"{prefix}-k8s", ClusterPlatformArgs(cluster=cluster, kube_prometheus_stack=release)
    )
    slo_alerting = config.role is Role.PRIMARY or config.dr.mode is DrMode.ACTIVE
    outputs: dict[str, Any] = {}
    for name in names:
        service = config.service(name)
        spec = service.kubernetes
        assert spec is not None
        rules = ServiceRules(
            f"{prefix}-{name}-k8s-rules",
            ServiceRulesArgs(
                service=service,
                system=config.name,
                provider=platform.provider,
                rule_labels=settings.rule_labels,
                slo_alerting=slo_alerting,
                depends_on=[platform.release] if platform.release else [],
            ),
        )
        minimum = (
            replicas_for(spec.hpa, config.role, config.dr.mode, config.dr.warm_standby_percent)
            if spec.hpa
            else None
        )
        WorkloadAvailability(
            f"{prefix}-{name}-k8s-workload",
            WorkloadAvailabilityArgs(
                service=name,
                system=config.name,
                spec=spec,
                provider=platform.provider,
                min_replicas=minimum,
            ),
        )
        outputs[name] = {
            "namespace": spec.namespace,
            "workload": f"{spec.workload.kind}/{spec.workload.name}",
            "prometheus_rules": sorted(rules.groups),
            "alerts": rules.alerts,
            "slo_alerting": slo_alerting,
            "hpa": (
                {
                    "min": minimum,
                    "max": spec.hpa.max_replicas,
                    "cpu_target_percent": spec.hpa.cpu_target_percent,
                }
                if spec.hpa
                else None
            ),
            "pdb": spec.pdb.spec if spec.pdb else None,
        }
    return {
        "context": cluster.context,
        "kube_prometheus_stack": (
            {"chart_version": release.chart_version, "namespace": release.namespace}
            if release
            else None
        ),
        "services": outputs,
    }


def export_kubernetes(config: StackConfig, prefix: str) -> None:
    """Compose and export `kubernetes` when the stack has anything on Kubernetes."""
    output = compose_kubernetes(config, prefix)
    if output is not None:
        pulumi.export("kubernetes", output)
