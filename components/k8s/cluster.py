"""A role's cluster: the explicit Kubernetes provider every object of the stack goes through
(never the ambient current context) and, optionally, the kube-prometheus-stack release."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from model.kubernetes import Cluster, KubePrometheusStack

COMPONENT_TYPE = "resilience:k8s:ClusterPlatform"
CHART = "kube-prometheus-stack"


@dataclass(frozen=True)
class ClusterPlatformArgs:
    cluster: Cluster
    # The Helm release to install, None for a cluster that already runs the operator.
    kube_prometheus_stack: KubePrometheusStack | None = None


def kube_prometheus_values(settings: KubePrometheusStack) -> dict[str, object]:
    """Chart values: ReskFlow's Prometheus settings (scrape every 15 s, 15 days, 100 GB;
    L1034-1037). Rules are selected by the chart's default, `release: <release name>`."""
    return {
        "prometheus": {
            "prometheusSpec": {
                "scrapeInterval": settings.scrape_interval,
                "evaluationInterval": settings.scrape_interval,
                "retention": settings.retention,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{settings.storage_gb}Gi"}},
                        }
                    }
                },
            }
        }
    }


class ClusterPlatform(pulumi.ComponentResource):
    provider: k8s.Provider
    release: k8s.helm.v3.Release | None

    def __init__(
        self, name: str, args: ClusterPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.provider = k8s.Provider(
            f"{name}-provider",
            context=args.cluster.context,
            kubeconfig=args.cluster.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.release = None
        settings = args.kube_prometheus_stack
        if settings is not None:
            self.release = k8s.helm.v3.Release(
                f"{name}-{CHART}",
                k8s.helm.v3.ReleaseArgs(
                    # An explicit name: the chart's operator selects rules labelled with it.
                    name=settings.release_name,
                    chart=CHART,
                    version=settings.chart_version,
                    repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=settings.repository),
                    namespace=settings.namespace,
                    create_namespace=True,
                    atomic=True,
                    timeout=900,
                    values=kube_prometheus_values(settings),
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
            )
        self.register_outputs({"context": args.cluster.context})
