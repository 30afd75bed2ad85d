"""A workload's availability on Kubernetes: a HorizontalPodAutoscaler (autoscaling/v2) on
CPU with a stabilized, stepped scale-down, and a PodDisruptionBudget (policy/v1) so node
drains and upgrades never take it below its budget. The workload itself (Deployment or
StatefulSet) belongs to the application; both objects are named after it and carry
`app.kubernetes.io/name: <workload>` (the policy pack pairs them by it)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from model.config import DrMode, Role
from model.kubernetes import Hpa, ServiceKubernetes

COMPONENT_TYPE = "resilience:k8s:WorkloadAvailability"
# A Kubernetes warm standby keeps at least this many replicas: one pod is not a standby
# that survives a node drain (and the policy pack holds every HPA to it).
MIN_STANDBY_REPLICAS = 2


def replicas_for(hpa: Hpa, role: Role, mode: DrMode, warm_standby_percent: int) -> int:
    """The HPA's minimum in this stack: full in the primary and an active DR region; in warm
    standby `warm_standby_percent` of it, at least two (never above the full minimum)."""
    if role is Role.PRIMARY or mode is DrMode.ACTIVE:
        return hpa.min_replicas
    share = math.ceil(hpa.min_replicas * warm_standby_percent / 100)
    return min(hpa.min_replicas, max(MIN_STANDBY_REPLICAS, share))


@dataclass(frozen=True)
class WorkloadAvailabilityArgs:
    service: str
    system: str
    spec: ServiceKubernetes
    provider: k8s.Provider
    min_replicas: int | None = None  # this stack's HPA minimum; None: the configured one


class WorkloadAvailability(pulumi.ComponentResource):
    hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler | None
    pdb: k8s.policy.v1.PodDisruptionBudget | None

    def __init__(
        self, name: str, args: WorkloadAvailabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        spec, workload = args.spec, args.spec.workload
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name=workload.name,
            namespace=spec.namespace,
            labels={
                "app.kubernetes.io/name": workload.name,
                "app.kubernetes.io/part-of": args.system,
                "app.kubernetes.io/managed-by": "pulumi",
                "resilience-service": args.service,
            },
        )
        in_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.hpa = None
        hpa = spec.hpa
        if hpa is not None:
            v2 = k8s.autoscaling.v2
            self.hpa = v2.HorizontalPodAutoscaler(
                f"{name}-hpa",
                metadata=metadata,
                spec=v2.HorizontalPodAutoscalerSpecArgs(
                    scale_target_ref=v2.CrossVersionObjectReferenceArgs(
                        api_version="apps/v1", kind=workload.kind, name=workload.name
                    ),
                    min_replicas=args.min_replicas or hpa.min_replicas,
                    max_replicas=hpa.max_replicas,
                    metrics=[
                        v2.MetricSpecArgs(
                            type="Resource",
                            resource=v2.ResourceMetricSourceArgs(
                                name="cpu",
                                target=v2.MetricTargetArgs(
                                    type="Utilization",
                                    average_utilization=hpa.cpu_target_percent,
                                ),
                            ),
                        )
                    ],
                    behavior=v2.HorizontalPodAutoscalerBehaviorArgs(
                        scale_down=v2.HPAScalingRulesArgs(
                            stabilization_window_seconds=hpa.scale_down_stabilization_seconds,
                            select_policy="Max",
                            policies=[
                                v2.HPAScalingPolicyArgs(
                                    type="Percent",
                                    value=hpa.scale_down_percent,
                                    period_seconds=hpa.scale_down_period_seconds,
                                )
                            ],
                        )
                    ),
                ),
                opts=in_cluster,
            )
        self.pdb = None
        if spec.pdb is not None:
            budget = spec.pdb.spec
            self.pdb = k8s.policy.v1.PodDisruptionBudget(
                f"{name}-pdb",
                metadata=metadata,
                spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                    min_available=budget.get("minAvailable"),
                    max_unavailable=budget.get("maxUnavailable"),
                    selector=k8s.meta.v1.LabelSelectorArgs(
                        match_labels=dict(workload.match_labels)
                    ),
                ),
                opts=in_cluster,
            )
        self.register_outputs({})
