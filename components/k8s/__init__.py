"""The Kubernetes target (pulumi-kubernetes): one ComponentResource per concern.

- `cluster.ClusterPlatform`: the explicit provider of a role's cluster and the optional,
  pinned kube-prometheus-stack Helm release;
- `rules.ServiceRules`: a service's PrometheusRule objects (SLO burn-rate recording rules
  and alerts, the seed alerts), compiled by model/prometheus.py;
- `workload.WorkloadAvailability`: a workload's HorizontalPodAutoscaler (autoscaling/v2)
  and PodDisruptionBudget (policy/v1).

stacks/kubernetes.py composes them for the services with `kubernetes` in the stack's role.
"""
