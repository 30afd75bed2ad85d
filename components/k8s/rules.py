"""A service's PrometheusRule objects (prometheus-operator, monitoring.coreos.com/v1):
`<service>-slo` with the SLO burn-rate recording rules and alerts (sloth's naming) and
`<service>-alerts` with the seed alerts, both compiled by model/prometheus.py and labelled
for the operator's ruleSelector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from model.config import Service
from model.prometheus import alert_names, alert_rule_group, slo_rule_groups

COMPONENT_TYPE = "resilience:k8s:ServiceRules"
API_VERSION = "monitoring.coreos.com/v1"
KIND = "PrometheusRule"


@dataclass(frozen=True)
class ServiceRulesArgs:
    service: Service
    system: str
    provider: k8s.Provider
    rule_labels: Mapping[str, str]
    # SLO alerting where the traffic is: the primary, the DR region once active.
    slo_alerting: bool = True
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class ServiceRules(pulumi.ComponentResource):
    rules: list[k8s.apiextensions.CustomResource]
    groups: dict[str, list[dict[str, Any]]]  # object name -> its rule groups
    alerts: list[str]

    def __init__(
        self, name: str, args: ServiceRulesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        service = args.service
        spec = service.kubernetes
        if spec is None:
            raise ValueError(f"service {service.name} has no kubernetes section")
        self.groups = {}
        if args.slo_alerting:
            slo = slo_rule_groups(service, spec)
            for omitted in slo.omitted:
                pulumi.log.warn(f"{service.name} {omitted}: tier omitted", resource=self)
            self.groups[f"{service.name}-slo"] = slo.groups
        self.groups[f"{service.name}-alerts"] = [alert_rule_group(service, spec)]
        labels = {
            **args.rule_labels,
            "app.kubernetes.io/part-of": args.system,
            "app.kubernetes.io/managed-by": "pulumi",
            "resilience-service": service.name,
        }
        self.rules = [
            k8s.apiextensions.CustomResource(
                f"{name}-{object_name.removeprefix(service.name + '-')}",
                api_version=API_VERSION,
                kind=KIND,
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=object_name, namespace=spec.namespace, labels=labels
                ),
                spec={"groups": groups},
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.provider, depends_on=list(args.depends_on)
                ),
            )
            for object_name, groups in self.groups.items()
        ]
        self.alerts = alert_names(g for groups in self.groups.values() for g in groups)
        self.register_outputs({"alerts": self.alerts})
