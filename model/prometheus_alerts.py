"""The seed alert rules for services on Kubernetes: WebUredno's Prometheus alerts
(004_*.txt, L873-956), each with its source line, threshold, `for` and severity.

Pure data (no Pulumi, no config): the config validates overrides against ALERT_NAMES and
`model.prometheus` writes the rules. The expressions keep the seeds' numbers but fix what
would not work as written, and say so in `note`:
- HighErrorRate (L874) compares the *rate* of 5xx responses per second with 0.05; its
  description (L880) means a ratio ("above 5%"), which is what is alerted on here;
- SlowResponseTime (L883) takes a quantile of raw cumulative buckets (no `rate`, no `le`
  aggregation), which measures the process's whole life; here it is over 5 minutes;
- DatabaseConnectionPoolExhausted (L903) divides per-database backends by a series without
  the `datname` label, which matches nothing; here backends are summed per server;
- CPU, memory and disk move from the host's process and node metrics (L927-949) to the
  pods' containers (cAdvisor, kube-state-metrics) and the workload's volumes (kubelet),
  what a Kubernetes workload has;
- DatabaseDeadlocks and SSLCertificateExpiry (L918-923, L951-956) state no `for`; every
  alert here has one (one evaluation never pages), 1 and 15 minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from model.enums import Severity

Needs = Literal["app", "workload", "volumes", "postgres", "blackbox"]


@dataclass(frozen=True)
class Selectors:
    """PromQL selectors (with braces) of one service's series, and its metric names."""

    requests: str  # counter name
    histogram: str  # histogram name (without _bucket)
    app: str  # {job="web",namespace="shop"}
    app_errors: str  # the same plus the error matcher
    pods: str  # {namespace="shop",pod=~"web-...",container="web"}
    pods_cpu_requests: str  # pods plus resource="cpu"
    pods_memory_limits: str  # pods plus resource="memory"
    volumes: str  # {namespace="shop"[,persistentvolumeclaim=~...]}
    postgres: str
    blackbox: str


def num(value: float) -> str:
    """A number as PromQL and the descriptions write it (0.05, 2, 604800)."""
    return f"{value:.12g}"


@dataclass(frozen=True)
class PromAlertSpec:
    name: str
    needs: Needs  # which series it reads (postgres / blackbox only when configured)
    summary: str  # the seed's summary
    description: str  # with {threshold} and {for_}
    severity: Severity
    threshold: float  # in the expression's unit
    for_: str
    source: str
    expression: Callable[[Selectors, float], str]
    unit: Literal["ratio", "seconds", "count", "days"] = "ratio"
    note: str = ""

    def threshold_text(self, value: float) -> str:
        """The threshold as a description says it: 5% for a ratio, else the number."""
        return f"{num(value * 100)}%" if self.unit == "ratio" else num(value)


def _error_ratio(s: Selectors, t: float) -> str:
    return (
        f"sum(rate({s.requests}{s.app_errors}[5m])) / sum(rate({s.requests}{s.app}[5m])) > {num(t)}"
    )


def _p95(s: Selectors, t: float) -> str:
    return (
        f"histogram_quantile(0.95, sum by (le) (rate({s.histogram}_bucket{s.app}[5m]))) > {num(t)}"
    )


def _pool(s: Selectors, t: float) -> str:
    return (
        f"sum by (instance) (pg_stat_database_numbackends{s.postgres}) / max by (instance) "
        f"(pg_settings_max_connections{s.postgres}) > {num(t)}"
    )


def _deadlocks(s: Selectors, t: float) -> str:
    return f"increase(pg_stat_database_deadlocks{s.postgres}[1h]) > {num(t)}"


def _cpu(s: Selectors, t: float) -> str:
    return (
        f"sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{s.pods}[5m])) / "
        f"sum by (namespace, pod) (kube_pod_container_resource_requests{s.pods_cpu_requests})"
        f" > {num(t)}"
    )


def _memory(s: Selectors, t: float) -> str:
    return (
        f"sum by (namespace, pod) (container_memory_working_set_bytes{s.pods}) / "
        f"sum by (namespace, pod) (kube_pod_container_resource_limits{s.pods_memory_limits})"
        f" > {num(t)}"
    )


def _disk(s: Selectors, t: float) -> str:
    return (
        f"kubelet_volume_stats_available_bytes{s.volumes} / "
        f"kubelet_volume_stats_capacity_bytes{s.volumes} < {num(t)}"
    )


def _certificate(s: Selectors, t: float) -> str:
    return f"probe_ssl_earliest_cert_expiry{s.blackbox} - time() < {num(t)} * 86400"


ALERTS: tuple[PromAlertSpec, ...] = (
    PromAlertSpec(
        name="HighErrorRate",
        needs="app",
        summary="High error rate detected",
        description="more than {threshold} of requests failed with a 5xx response over 5 "
        "minutes, for {for_}",
        severity=Severity.CRITICAL,
        threshold=0.05,
        for_="5m",
        source="WebUredno HighErrorRate > 0.05 for 5m, critical (L873-880)",
        expression=_error_ratio,
        note="a ratio of 5xx responses, as the seed's description says (its expression "
        "compares a per-second rate)",
    ),
    PromAlertSpec(
        name="SlowResponseTime",
        needs="app",
        summary="Slow response times",
        description="the 95th percentile response time over 5 minutes is above {threshold} "
        "seconds, for {for_}",
        severity=Severity.WARNING,
        threshold=2,
        for_="10m",
        source="WebUredno SlowResponseTime p95 > 2 s for 10m, warning (L882-889)",
        expression=_p95,
        unit="seconds",
        note="the quantile of the buckets' 5-minute rates, aggregated by le",
    ),
    PromAlertSpec(
        name="DatabaseConnectionPoolExhausted",
        needs="postgres",
        summary="Database connection pool nearly exhausted",
        description="connections to {{ $labels.instance }} are above {threshold} of "
        "max_connections, for {for_}",
        severity=Severity.CRITICAL,
        threshold=0.8,
        for_="5m",
        source="WebUredno DatabaseConnectionPoolExhausted numbackends / max_connections > "
        "0.8 for 5m, critical (L902-908)",
        expression=_pool,
        note="backends summed per server (the seed's one-to-one division matches no series)",
    ),
    PromAlertSpec(
        name="DatabaseDeadlocks",
        needs="postgres",
        summary="Multiple database deadlocks detected",
        description="more than {threshold} deadlocks in database {{ $labels.datname }} "
        "within an hour",
        severity=Severity.CRITICAL,
        threshold=5,
        for_="1m",
        source="WebUredno DatabaseDeadlocks increase(deadlocks[1h]) > 5, critical (L918-923)",
        expression=_deadlocks,
        unit="count",
        note="the seed states no `for`; 1m (two evaluations)",
    ),
    PromAlertSpec(
        name="HighCPUUsage",
        needs="workload",
        summary="High CPU usage",
        description="pod {{ $labels.pod }} uses more than {threshold} of its CPU request, "
        "for {for_} (the HPA targets less: it cannot keep up or is at its maximum)",
        severity=Severity.WARNING,
        threshold=0.8,
        for_="15m",
        source="WebUredno HighCPUUsage > 0.8 for 15m, warning (L927-933)",
        expression=_cpu,
        note="the containers' CPU against their requests (the seed: process CPU seconds)",
    ),
    PromAlertSpec(
        name="HighMemoryUsage",
        needs="workload",
        summary="High memory usage",
        description="pod {{ $labels.pod }} uses more than {threshold} of its memory limit, "
        "for {for_} (it is close to being OOM-killed)",
        severity=Severity.CRITICAL,
        threshold=0.9,
        for_="10m",
        source="WebUredno HighMemoryUsage > 0.9 for 10m, critical (L935-941)",
        expression=_memory,
        note="the containers' working set against their limits (the seed: RSS / node memory)",
    ),
    PromAlertSpec(
        name="DiskSpaceLow",
        needs="volumes",
        summary="Disk space is running low",
        description="volume {{ $labels.persistentvolumeclaim }} has less than {threshold} "
        "of its space free, for {for_}",
        severity=Severity.CRITICAL,
        threshold=0.1,
        for_="5m",
        source="WebUredno DiskSpaceLow avail / size < 0.1 for 5m, critical (L943-949)",
        expression=_disk,
        note="the workload's persistent volumes (the seed: node filesystems)",
    ),
    PromAlertSpec(
        name="SSLCertificateExpiry",
        needs="blackbox",
        summary="SSL certificate expires soon",
        description="the certificate of {{ $labels.instance }} expires in less than "
        "{threshold} days",
        severity=Severity.WARNING,
        threshold=7,
        for_="15m",
        source="WebUredno SSLCertificateExpiry < 7 days, warning (L951-956)",
        expression=_certificate,
        unit="days",
        note="the seed states no `for`; 15m (probes of several endpoints may disagree)",
    ),
)

BY_NAME: dict[str, PromAlertSpec] = {a.name: a for a in ALERTS}
ALERT_NAMES: tuple[str, ...] = tuple(BY_NAME)
