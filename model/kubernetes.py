"""Typed config of the Kubernetes target: a service's `kubernetes` section (its workload,
the metrics its SLIs and alerts read, the HorizontalPodAutoscaler and PodDisruptionBudget)
and the stack's `kubernetes` section (the cluster of each role, the labels the Prometheus
operator selects rules on, an optional kube-prometheus-stack Helm release).

Defaults come from the two manuals that run on Prometheus (docs/seed-numbers.md): WebUredno's
metric names and alert rules (004, L873-956), ReskFlow's Prometheus settings (003,
L1034-1037) and horizontal scaling trigger (L1201-1205), Light on Campus' scaling bounds and
scale-in cooldown (000, L1941-1960).

Pure data: no Pulumi here. `model.config` puts these sections on `Service` and
`StackConfig`; `model.prometheus` compiles the rules; `components/k8s/` creates the objects.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from model.enums import Severity
from model.prometheus_alerts import ALERT_NAMES

# Kubernetes names: an RFC 1123 label (namespaces, workloads, containers).
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# A Kubernetes label key: an optional DNS-subdomain prefix and a name of up to 63 characters.
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
# Prometheus: label and metric names, a label value without quotes or backslashes (so it can
# be written into a PromQL string as is), one label matcher, a duration.
_PROM_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_PROM_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_PROM_VALUE = re.compile(r'^[^"\\\n]*$')
_PROM_MATCHER = re.compile(r'^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"[^"\\\n]*"$')
_PROM_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
_PERCENT = re.compile(r"^(100|[1-9]?[0-9])%$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


class _Strict(BaseModel):
    """Unknown keys are errors (the same base as model.config.Strict)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"'{value}' is not {what}")
        return value

    return AfterValidator(check)


def _alert_name(name: str) -> str:
    if name not in ALERT_NAMES:
        raise ValueError(f"unknown Prometheus alert '{name}' (known: {', '.join(ALERT_NAMES)})")
    return name


DnsLabel = Annotated[str, _check(_DNS_LABEL, "a Kubernetes name (RFC 1123 label)")]
LabelKey = Annotated[str, _check(_LABEL_KEY, "a Kubernetes label key")]
LabelValue = Annotated[str, _check(_LABEL_VALUE, "a Kubernetes label value")]
PromLabel = Annotated[str, _check(_PROM_LABEL, "a Prometheus label name")]
PromMetric = Annotated[str, _check(_PROM_METRIC, "a Prometheus metric name")]
PromValue = Annotated[str, _check(_PROM_VALUE, 'a label value without " or \\')]
PromMatcher = Annotated[str, _check(_PROM_MATCHER, 'one PromQL label matcher, like status=~"5.."')]
PromDuration = Annotated[str, _check(_PROM_DURATION, "a Prometheus duration (5m, 1h30m)")]
PromSelector = dict[PromLabel, PromValue]
AlertName = Annotated[str, AfterValidator(_alert_name)]
IntOrPercent = int | Annotated[str, _check(_PERCENT, "a count or a percentage like 50%")]


class Workload(_Strict):
    """The application's own Deployment or StatefulSet: the bundle scales and protects it
    (HPA, PDB), it does not create it."""

    kind: Literal["Deployment", "StatefulSet"] = "Deployment"
    name: DnsLabel
    # The pod labels of the workload (its selector): the PodDisruptionBudget selects them.
    match_labels: dict[LabelKey, LabelValue] = Field(min_length=1)
    # The application container (CPU and memory alerts); default: every container of its pods.
    container: DnsLabel | None = None


class Metrics(_Strict):
    """Where the SLIs and alerts find their series. Defaults: WebUredno's alert rules
    (L873-889: `http_requests_total{status=~"5.."}`, `http_request_duration_seconds`)."""

    # Label matchers of the application's series; default: namespace and job = the workload
    # name (a ServiceMonitor's job is its Service's name).
    selector: PromSelector = Field(default_factory=dict)
    requests: PromMetric = "http_requests_total"
    errors: PromMatcher = 'status=~"5.."'
    # A histogram in seconds; the latency SLO needs a bucket at its target (e.g. le="2").
    latency_histogram: PromMetric = "http_request_duration_seconds"
    # postgres_exporter's series (WebUredno scrapes job 'postgres', L845-847): connection
    # pool and deadlock alerts. None: no database alerts.
    postgres: PromSelector | None = None
    # blackbox_exporter's probes of the service's endpoints: certificate expiry. None: none.
    blackbox: PromSelector | None = None


class Hpa(_Strict):
    """autoscaling/v2 HorizontalPodAutoscaler on CPU. Seeds: scale at 70 % CPU (ReskFlow
    L1201-1205, Light on Campus L1941-1960), 2..10 replicas, scale in by 30 % (x0.7) at most
    every 10 minutes (Light on Campus' scale-in step and cooldown). Scale-up keeps the HPA's
    default (target tracking sizes the step, like the AWS path)."""

    min_replicas: int = Field(default=2, ge=1, le=1000)
    max_replicas: int = Field(default=10, ge=1, le=1000)
    cpu_target_percent: int = Field(default=70, ge=1, le=100)
    scale_down_stabilization_seconds: int = Field(default=600, ge=0, le=3600)
    scale_down_percent: int = Field(default=30, ge=1, le=100)
    scale_down_period_seconds: int = Field(default=600, ge=1, le=1800)

    @model_validator(mode="after")
    def _bounds(self) -> Hpa:
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"max_replicas ({self.max_replicas}) must be >= min_replicas ({self.min_replicas})"
            )
        return self


class Pdb(_Strict):
    """policy/v1 PodDisruptionBudget: exactly one of min_available / max_unavailable (a count
    or a percentage). Default: one pod at a time may be evicted (node drains proceed, the
    service keeps the rest)."""

    min_available: IntOrPercent | None = None
    max_unavailable: IntOrPercent | None = None

    @model_validator(mode="after")
    def _one(self) -> Pdb:
        given = [v for v in (self.min_available, self.max_unavailable) if v is not None]
        if len(given) > 1:
            raise ValueError("set min_available or max_unavailable, not both")
        return self

    @property
    def spec(self) -> dict[str, int | str]:
        if self.min_available is not None:
            return {"minAvailable": self.min_available}
        return {"maxUnavailable": 1 if self.max_unavailable is None else self.max_unavailable}


class AlertOverride(_Strict):
    """Changes to one of the seed alerts (model/prometheus_alerts.py) for one service.
    `threshold` is in the expression's unit (a ratio, seconds, a count, days)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    enabled: bool = True
    threshold: float | None = Field(default=None, ge=0)
    for_: PromDuration | None = Field(default=None, alias="for")
    severity: Severity | None = None


class ServiceKubernetes(_Strict):
    """A service that runs on Kubernetes: its rules, autoscaler and disruption budget."""

    enabled: bool = True
    namespace: DnsLabel
    workload: Workload
    metrics: Metrics = Field(default_factory=Metrics)
    hpa: Hpa | None = Field(default_factory=Hpa)
    pdb: Pdb | None = Field(default_factory=Pdb)
    alerts: dict[AlertName, AlertOverride] = Field(default_factory=dict)


class Cluster(_Strict):
    """The cluster of one role: a context of a kubeconfig (the file in `kubeconfig`, else
    the usual KUBECONFIG / ~/.kube/config). Every Kubernetes object goes through an explicit
    provider built from it, never the ambient current context."""

    context: str = Field(min_length=1, max_length=253)
    kubeconfig: str | None = Field(default=None, min_length=1)


class Clusters(_Strict):
    primary: Cluster | None = None
    dr: Cluster | None = None


class KubePrometheusStack(_Strict):
    """The prometheus-community kube-prometheus-stack chart (Prometheus operator, Prometheus,
    Alertmanager, Grafana), pinned. Prometheus settings from ReskFlow (L1034-1037): scrape
    every 15 s (WebUredno too, L836-837), 15 days of retention, 100 GB of storage."""

    enabled: bool = False
    chart_version: Annotated[str, _check(_SEMVER, "a pinned chart version (x.y.z)")] = "75.15.0"
    repository: str = Field(
        default="https://prometheus-community.github.io/helm-charts", pattern=r"^https://\S+$"
    )
    namespace: DnsLabel = "monitoring"
    release_name: DnsLabel = "kube-prometheus-stack"
    scrape_interval: PromDuration = "15s"
    retention: PromDuration = "15d"
    storage_gb: int = Field(default=100, ge=1, le=65_536)


class KubernetesConfig(_Strict):
    clusters: Clusters = Field(default_factory=Clusters)
    # Labels on every PrometheusRule: the operator's ruleSelector picks rules by them
    # (kube-prometheus-stack selects `release: <its release name>`).
    rule_labels: dict[LabelKey, LabelValue] = Field(
        default_factory=lambda: {"release": "kube-prometheus-stack"}
    )
    kube_prometheus_stack: KubePrometheusStack = Field(default_factory=KubePrometheusStack)
