"""A service's Prometheus rules, compiled from its config: the SLO burn-rate rules and the
seed alerts (model/prometheus_alerts.py). Pure data (no Pulumi): components/k8s/ puts the
groups into PrometheusRule objects, the tests hand the same groups to promtool.

SLO rules use the same burn-rate tiers as the CloudWatch alarms (model/burn_rate.py: 1h/5m
at 14.4x and 6h/30m at 6x page, 1d/2h at 3x and 3d/6h at 1x ticket, for 30 days) and
sloth's naming, so sloth's Grafana dashboards read them:

- `slo:sli_error:ratio_rate<window>` per window (5m ... 3d, and the SLO period from the 5m
  ratio), labels `sloth_id` (`<service>-<slo>`), `sloth_service`, `sloth_slo`,
  `sloth_window`, in group `sloth-slo-sli-recordings-<sloth_id>`;
- `slo:objective:ratio`, `slo:error_budget:ratio`, `slo:time_period:days`,
  `slo:current_burn_rate:ratio`, `slo:period_burn_rate:ratio`,
  `slo:period_error_budget_remaining:ratio` and `sloth_slo_info` in
  `sloth-slo-meta-recordings-<sloth_id>`;
- one `ErrorBudgetBurn` alert per tier in `sloth-slo-alerts-<sloth_id>`: the long and the
  short window both above `factor x budget`, labels `severity` (critical pages, warning
  tickets), `sloth_severity` (page | ticket), `burn_tier`, `long_window`, `short_window`,
  `service`. `for` is half the short window (2m30s, 15m, 1h, 3h): one evaluation does not
  page, and a recovered burn still stops alerting within the short window. A tier that
  could never fire (threshold >= 1) is left out, as on CloudWatch. Suppressing a slower
  tier while a faster one fires is Alertmanager's job (an inhibit rule on `sloth_id`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from model.burn_rate import DAY, TIERS, BurnTier, compile_objective, window_label
from model.config import Service
from model.kubernetes import ServiceKubernetes
from model.prometheus_alerts import ALERTS, PromAlertSpec, Selectors, num

SLI_RECORD = "slo:sli_error:ratio_rate"
BURN_ALERT = "ErrorBudgetBurn"
Rule = dict[str, Any]
Group = dict[str, Any]


def matchers(labels: Mapping[str, str], *extra: str) -> str:
    """`{a="x",b="y",<extra>}` (sorted, so the rules are stable), or "" when empty."""
    parts = [f'{k}="{v}"' for k, v in sorted(labels.items())] + list(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def duration(seconds: int) -> str:
    """A Prometheus duration: 150 -> 2m30s, 3600 -> 1h, 259200 -> 3d."""
    if seconds % DAY == 0:
        return f"{seconds // DAY}d"
    out = ""
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


def le_matcher(seconds: float) -> str:
    """A matcher of the bucket at `seconds`: client libraries write le="2" or le="2.0"
    (and Prometheus 3 normalizes to the latter), so both are accepted."""
    text = num(seconds)
    regex = text if "." in text or "e" in text else f"{text}|{text}\\.0"
    return 'le=~"' + regex.replace("\\", "\\\\") + '"'


def app_selector(k8s: ServiceKubernetes) -> dict[str, str]:
    """The application's series: the configured matchers, else namespace and job."""
    return dict(k8s.metrics.selector) or {"namespace": k8s.namespace, "job": k8s.workload.name}


def selectors(k8s: ServiceKubernetes) -> Selectors:
    workload = k8s.workload
    name_regex = (
        f"{workload.name}-[0-9]+"
        if workload.kind == "StatefulSet"
        else f"{workload.name}-[a-z0-9]+-[a-z0-9]+"
    )
    container = (
        [f'container="{workload.container}"']
        if workload.container
        else ['container!=""', 'container!="POD"']
    )
    ns = {"namespace": k8s.namespace}
    pods = [f'pod=~"{name_regex}"', *container]
    claims = (
        [f'persistentvolumeclaim=~".+-{workload.name}-[0-9]+"']
        if workload.kind == "StatefulSet"
        else []
    )
    app = app_selector(k8s)
    return Selectors(
        requests=k8s.metrics.requests,
        histogram=k8s.metrics.latency_histogram,
        app=matchers(app),
        app_errors=matchers(app, k8s.metrics.errors),
        pods=matchers(ns, *pods),
        pods_cpu_requests=matchers(ns, *pods, 'resource="cpu"'),
        pods_memory_limits=matchers(ns, *pods, 'resource="memory"'),
        volumes=matchers(ns, *claims),
        postgres=matchers(k8s.metrics.postgres or {}),
        blackbox=matchers(k8s.metrics.blackbox or {}),
    )


# -- SLO burn-rate rules -----------------------------------------------------------------


@dataclass(frozen=True)
class SloObjective:
    """An SLI as a bad-event ratio over a window, and its target."""

    key: str  # availability | latency-p95 | latency-p99
    description: str
    error_budget: float
    objective_percent: float
    error_ratio: Callable[[str], str]  # window ("5m") -> PromQL of the bad-event ratio


def slo_objectives(service: Service, k8s: ServiceKubernetes) -> list[SloObjective]:
    """Availability (non-5xx requests) and latency (p95 -> 95 % of requests within the
    target, p99 -> 99 %), the same objectives the CloudWatch alarms measure."""
    s = selectors(k8s)
    slo = service.slo

    def availability(window: str) -> str:
        return (
            f"(sum(rate({s.requests}{s.app_errors}[{window}]))) / "
            f"(sum(rate({s.requests}{s.app}[{window}])))"
        )

    objectives = [
        SloObjective(
            key="availability",
            description=f"availability {num(slo.availability)}% (non-5xx responses)",
            error_budget=slo.error_budget,
            objective_percent=slo.availability,
            error_ratio=availability,
        )
    ]
    app = app_selector(k8s)
    for key, target_ms, budget in (
        ("latency-p95", slo.latency_p95_ms, 0.05),
        ("latency-p99", slo.latency_p99_ms, 0.01),
    ):
        if target_ms is None:
            continue
        fast = matchers(app, le_matcher(target_ms / 1000))

        def latency(window: str, fast: str = fast) -> str:
            total = f"sum(rate({s.histogram}_count{s.app}[{window}]))"
            return f"({total} - sum(rate({s.histogram}_bucket{fast}[{window}]))) / {total}"

        objectives.append(
            SloObjective(
                key=key,
                description=f"{1 - budget:.0%} of requests within {target_ms} ms",
                error_budget=budget,
                objective_percent=round(100 * (1 - budget), 6),
                error_ratio=latency,
            )
        )
    return objectives


def _sli_windows() -> list[int]:
    """Every window of every tier, shortest first (sloth records all of them)."""
    return sorted({w for t in TIERS for w in (t.long_window_s, t.short_window_s)})


def _tier_kind(tier: BurnTier) -> str:
    return "page" if tier.name.startswith("page") else "ticket"


@dataclass(frozen=True)
class SloRules:
    groups: list[Group]
    omitted: list[str]  # "<slo> <tier>: needs a bad-event ratio of ..." (never fires)


def slo_rule_groups(service: Service, k8s: ServiceKubernetes) -> SloRules:
    window_days = service.slo.window_days
    period = window_label(window_days * DAY)
    groups: list[Group] = []
    omitted: list[str] = []
    for objective in slo_objectives(service, k8s):
        sloth_id = f"{service.name}-{objective.key}"
        ids = {"sloth_id": sloth_id, "sloth_service": service.name, "sloth_slo": objective.key}
        ids_sel = matchers(ids)
        sli: list[Rule] = [
            {
                "record": f"{SLI_RECORD}{window_label(w)}",
                "expr": objective.error_ratio(window_label(w)),
                "labels": {**ids, "sloth_window": window_label(w)},
            }
            for w in _sli_windows()
        ]
        sli.append(
            {
                "record": f"{SLI_RECORD}{period}",
                "expr": (
                    f"sum_over_time({SLI_RECORD}5m{ids_sel}[{period}]) / ignoring (sloth_window) "
                    f"count_over_time({SLI_RECORD}5m{ids_sel}[{period}])"
                ),
                "labels": {**ids, "sloth_window": period},
            }
        )
        on = "on (sloth_id, sloth_slo, sloth_service) group_left"
        meta: list[Rule] = [
            {
                "record": "slo:objective:ratio",
                "expr": f"vector({num(objective.objective_percent / 100)})",
                "labels": ids,
            },
            {
                "record": "slo:error_budget:ratio",
                "expr": f"vector({num(objective.error_budget)})",
                "labels": ids,
            },
            {"record": "slo:time_period:days", "expr": f"vector({window_days})", "labels": ids},
            {
                "record": "slo:current_burn_rate:ratio",
                "expr": f"{SLI_RECORD}5m{ids_sel} / {on} slo:error_budget:ratio{ids_sel}",
                "labels": ids,
            },
            {
                "record": "slo:period_burn_rate:ratio",
                "expr": f"{SLI_RECORD}{period}{ids_sel} / {on} slo:error_budget:ratio{ids_sel}",
                "labels": ids,
            },
            {
                "record": "slo:period_error_budget_remaining:ratio",
                "expr": f"1 - slo:period_burn_rate:ratio{ids_sel}",
                "labels": ids,
            },
            {
                "record": "sloth_slo_info",
                "expr": "vector(1)",
                "labels": {**ids, "sloth_objective": num(objective.objective_percent)},
            },
        ]
        alerts: list[Rule] = []
        for tier, long_alarm, short_alarm in compile_objective(objective.error_budget, window_days):
            if long_alarm.threshold >= 1:
                omitted.append(
                    f"{objective.key} {tier.name}: it would need a bad-event ratio of "
                    f"{long_alarm.threshold:.3g}"
                )
                continue
            factor, budget = num(round(long_alarm.factor, 9)), num(objective.error_budget)
            long_w, short_w = long_alarm.label, short_alarm.label
            expr = " and ".join(
                f"max({SLI_RECORD}{w}{ids_sel} > ({factor} * {budget})) without (sloth_window)"
                for w in (long_w, short_w)
            )
            alerts.append(
                {
                    "alert": BURN_ALERT,
                    "expr": f"({expr})",
                    "for": duration(short_alarm.window_s // 2),
                    "labels": {
                        "severity": tier.severity.value,
                        "sloth_slo": objective.key,
                        "sloth_severity": _tier_kind(tier),
                        "burn_tier": tier.name,
                        "long_window": long_w,
                        "short_window": short_w,
                        "service": service.name,
                    },
                    "annotations": {
                        "summary": f"{service.name}: {objective.key} error budget burning "
                        f"{num(round(long_alarm.factor, 3))}x too fast",
                        "description": f"{service.name}: {objective.description}; the "
                        f"bad-event ratio is above {num(round(long_alarm.threshold, 9))} "
                        f"({factor} x the budget {budget}) over both {long_w} and {short_w}: "
                        f"{tier.budget_share:.0%} of the {window_days}-day error budget gone "
                        f"within {long_w}.",
                        "runbook_url": f"{service.runbook_url}#slo-{tier.name}",
                    },
                }
            )
        groups += [
            {"name": f"sloth-slo-sli-recordings-{sloth_id}", "rules": sli},
            {"name": f"sloth-slo-meta-recordings-{sloth_id}", "rules": meta},
        ]
        if alerts:
            groups.append({"name": f"sloth-slo-alerts-{sloth_id}", "rules": alerts})
    return SloRules(groups, omitted)


# -- the seed alerts ---------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedAlert:
    spec: PromAlertSpec
    threshold: float
    for_: str
    severity: str


def resolved_alerts(k8s: ServiceKubernetes) -> list[ResolvedAlert]:
    """The seed alerts this service gets (database and certificate alerts only with their
    exporters configured), with its overrides."""
    available = {"app", "workload", "volumes"}
    if k8s.metrics.postgres is not None:
        available.add("postgres")
    if k8s.metrics.blackbox is not None:
        available.add("blackbox")
    out = []
    for spec in ALERTS:
        override = k8s.alerts.get(spec.name)
        if spec.needs not in available or (override is not None and not override.enabled):
            continue
        out.append(
            ResolvedAlert(
                spec=spec,
                threshold=spec.threshold
                if override is None or override.threshold is None
                else override.threshold,
                for_=spec.for_ if override is None or override.for_ is None else override.for_,
                severity=(
                    override.severity if override and override.severity else spec.severity
                ).value,
            )
        )
    return out


def alert_rule_group(service: Service, k8s: ServiceKubernetes) -> Group:
    s = selectors(k8s)
    rules: list[Rule] = []
    for alert in resolved_alerts(k8s):
        spec = alert.spec
        description = spec.description.replace(
            "{threshold}", spec.threshold_text(alert.threshold)
        ).replace("{for_}", alert.for_)
        rules.append(
            {
                "alert": spec.name,
                "expr": spec.expression(s, alert.threshold),
                "for": alert.for_,
                "labels": {"severity": alert.severity, "service": service.name},
                "annotations": {
                    "summary": f"{service.name}: {spec.summary}",
                    "description": f"{service.name} ({k8s.namespace}): {description}. "
                    f"Source: {spec.source}",
                    "runbook_url": f"{service.runbook_url}#{_kebab(spec.name)}",
                },
            }
        )
    return {"name": f"resilience-{service.name}-alerts", "rules": rules}


def _kebab(name: str) -> str:
    """HighCPUUsage -> high-cpu-usage (the runbook anchor)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


def alert_names(groups: Iterable[Group]) -> list[str]:
    """Every alert of the groups (with its tier for burn-rate alerts), for outputs."""
    names = []
    for group in groups:
        for rule in group["rules"]:
            if "alert" in rule:
                tier = rule["labels"].get("burn_tier")
                slo = group["name"].removeprefix("sloth-slo-alerts-")
                names.append(f"{rule['alert']}:{slo}:{tier}" if tier else rule["alert"])
    return names
