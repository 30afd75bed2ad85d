"""Cloud Monitoring for one service: SLOs with burn-rate alert policies, an uptime check, the
seed's request alerts and its log-based alerts.

- SLOs: a Cloud Monitoring custom service with a request-based availability SLO (5xx of
  Cloud Run's request count) and, with a latency objective, a distribution-cut SLO on
  Cloud Run's request latencies, over the same rolling window as the AWS SLOs.
- Burn rate: the same tiers as the CloudWatch alarms (model/burn_rate.py): per tier one
  policy whose two conditions (`select_slo_burn_rate` over the long and the short window)
  must both hold, routed to the tier's severity.
- Uptime: an HTTPS check of the health endpoint from three or more regions; the policy
  fires when two regions fail (one region's network trouble is not an outage).
- Seed alerts (Light on Campus L221-271): error rate > 5 % for 5 minutes (critical), p95 >
  2 s for 10 minutes (warning), as PromQL conditions on Cloud Run's metrics; the log-based
  ones (AI service failures, database connection errors) on log-based metrics.
Every policy has notification channels and documentation with its runbook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.gcp import child_options
from model.burn_rate import compile_objective, window_label
from model.enums import Severity
from model.gcp import GcpService, LogAlert

COMPONENT_TYPE = "resilience:gcp:ServiceMonitoring"
CLOUD_RUN = 'resource.type="cloud_run_revision"'
POLICY_SEVERITY = {
    Severity.CRITICAL: "CRITICAL",
    Severity.ERROR: "ERROR",
    Severity.WARNING: "WARNING",
    Severity.INFO: None,
}

# An incident nobody closes closes itself after 7 days.
AUTO_CLOSE: Any = {"auto_close": "604800s"}

Channels = Callable[[Severity], Sequence[pulumi.Input[str]]]


@dataclass(frozen=True)
class GcpServiceMonitoringArgs:
    system: str
    project: str
    region: str
    service: GcpService
    channels: Channels
    uptime_regions: Sequence[str]
    provider: gcp.Provider
    # Resources to wait for (the project's APIs being enabled).
    depends_on: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class Objective:
    slo_id: str
    description: str
    goal: float


def _documentation(service: GcpService, summary: str, anchor: str) -> Any:
    return {
        "content": f"{summary}\n\nRunbook: {service.runbook_url}#{anchor}",
        "mime_type": "text/markdown",
    }


class GcpServiceMonitoring(pulumi.ComponentResource):
    policies: list[gcp.monitoring.AlertPolicy]
    objectives: list[Objective]

    def __init__(
        self, name: str, args: GcpServiceMonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.args = args
        self.name = name
        self.policies = []
        self.objectives = []
        service = args.service
        run_service = service.cloud_run.service
        self.run_filter = f'{CLOUD_RUN} resource.label."service_name"="{run_service}"'
        self.promql_selector = (
            f'monitored_resource="cloud_run_revision",service_name="{run_service}"'
        )
        self.service_id = f"{args.system}-{service.name}"
        custom = gcp.monitoring.CustomService(
            f"{name}-service",
            service_id=self.service_id,
            display_name=f"{args.system} {service.name}",
            project=args.project,
            opts=self._opts(),
        )
        self._slos(custom)
        if service.uptime_check is not None:
            self._uptime(service)
        self._request_alerts(service)
        for alert in service.log_alerts:
            self._log_alert(alert)
        self.register_outputs(
            {
                "service_id": self.service_id,
                "slos": [o.slo_id for o in self.objectives],
                "policies": [p.display_name for p in self.policies],
            }
        )

    def _opts(self, **extra: Any) -> pulumi.ResourceOptions:
        return child_options(self, self.args.provider, self.args.depends_on, **extra)

    # -- SLOs --------------------------------------------------------------------------------

    def _slos(self, custom: gcp.monitoring.CustomService) -> None:
        slo = self.args.service.slo
        requests = f'metric.type="run.googleapis.com/request_count" {self.run_filter}'
        self._slo(
            custom,
            Objective(
                "availability",
                f"availability {slo.availability}% (non-5xx responses)",
                round(slo.availability / 100, 6),
            ),
            {
                "good_total_ratio": {
                    "total_service_filter": requests,
                    "bad_service_filter": f'{requests} metric.label."response_code_class"="5xx"',
                }
            },
        )
        if slo.latency_p95_ms is not None:
            self._slo(
                custom,
                Objective("latency-p95", f"95% of requests within {slo.latency_p95_ms} ms", 0.95),
                {
                    "distribution_cut": {
                        "distribution_filter": (
                            f'metric.type="run.googleapis.com/request_latencies" {self.run_filter}'
                        ),
                        "range": {"max": slo.latency_p95_ms},
                    }
                },
            )
        for objective in self.objectives:
            self._burn_rate(objective, custom)

    def _slo(self, custom: gcp.monitoring.CustomService, objective: Objective, sli: Any) -> None:
        """One request-based SLO over the service's rolling window."""
        gcp.monitoring.Slo(
            f"{self.name}-{objective.slo_id}",
            service=custom.service_id,
            slo_id=objective.slo_id,
            display_name=f"{self.args.service.name}: {objective.description}",
            goal=objective.goal,
            rolling_period_days=self.args.service.slo.window_days,
            request_based_sli=sli,
            project=self.args.project,
            opts=self._opts(),
        )
        self.objectives.append(objective)

    def slo_path(self, objective: Objective) -> str:
        return (
            f"projects/{self.args.project}/services/{self.service_id}/"
            f"serviceLevelObjectives/{objective.slo_id}"
        )

    def _burn_rate(self, objective: Objective, custom: gcp.monitoring.CustomService) -> None:
        service = self.args.service
        budget = round(1 - objective.goal, 12)
        for tier, long_alarm, short_alarm in compile_objective(budget, service.slo.window_days):
            conditions = [
                {
                    "display_name": f"burn rate over {alarm.label} > {alarm.factor:.3g}x",
                    "condition_threshold": {
                        "filter": (
                            f'select_slo_burn_rate("{self.slo_path(objective)}", '
                            f'"{alarm.window_s}s")'
                        ),
                        "comparison": "COMPARISON_GT",
                        "threshold_value": round(alarm.factor, 6),
                        "duration": "0s",
                    },
                }
                for alarm in (long_alarm, short_alarm)
            ]
            summary = (
                f"[{tier.severity.value}] {service.name}: {objective.description} is burning "
                f"its error budget {long_alarm.factor:.3g}x faster than sustainable "
                f"({tier.budget_share:.0%} of the {service.slo.window_days}-day budget within "
                f"{window_label(tier.long_window_s)})."
            )
            self._policy(
                f"slo-{objective.slo_id}-{tier.name}",
                summary=summary,
                severity=tier.severity,
                conditions=conditions,
                anchor=f"slo-{tier.name}",
                depends_on=[custom],
            )

    # -- uptime and request alerts -----------------------------------------------------------

    def _uptime(self, service: GcpService) -> None:
        check = service.uptime_check
        assert check is not None
        uptime = gcp.monitoring.UptimeCheckConfig(
            f"{self.name}-uptime",
            display_name=f"{self.args.system} {service.name} https://{check.host}{check.path}",
            http_check={
                "path": check.path,
                "port": 443,
                "use_ssl": True,
                "validate_ssl": True,
                "request_method": "GET",
                "accepted_response_status_codes": [{"status_class": "STATUS_CLASS_2XX"}],
            },
            monitored_resource={
                "type": "uptime_url",
                "labels": {"project_id": self.args.project, "host": check.host},
            },
            period=f"{check.period_seconds}s",
            timeout=f"{check.timeout_seconds}s",
            selected_regions=list(self.args.uptime_regions),
            project=self.args.project,
            opts=self._opts(),
        )
        self._policy(
            "uptime",
            summary=(
                f"[critical] {service.name}: https://{check.host}{check.path} fails its health "
                "check from two or more checker locations."
            ),
            severity=Severity.CRITICAL,
            conditions=[
                {
                    "display_name": "failing from two or more checker locations",
                    "condition_threshold": {
                        "filter": uptime.uptime_check_id.apply(
                            lambda check_id: (
                                'metric.type="monitoring.googleapis.com/uptime_check/check_passed"'
                                f' resource.type="uptime_url" metric.label."check_id"="{check_id}"'
                            )
                        ),
                        "aggregations": [
                            {
                                "alignment_period": "60s",
                                "per_series_aligner": "ALIGN_NEXT_OLDER",
                                "cross_series_reducer": "REDUCE_COUNT_FALSE",
                                "group_by_fields": ["resource.label.host"],
                            }
                        ],
                        "comparison": "COMPARISON_GT",
                        "threshold_value": 1,
                        "duration": "60s",
                    },
                }
            ],
            anchor="uptime",
        )

    def _request_alerts(self, service: GcpService) -> None:
        requests = f"run_googleapis_com:request_count{{{self.promql_selector}}}"
        errors = (
            f'run_googleapis_com:request_count{{{self.promql_selector},response_code_class="5xx"}}'
        )
        percent = f"{service.error_rate_threshold:.0%}"
        self._policy(
            "high-error-rate",
            summary=(
                f"[critical] {service.name}: more than {percent} of requests fail (5xx) for 5 "
                "minutes (Light on Campus 'High Error Rate', L221-235)."
            ),
            severity=Severity.CRITICAL,
            conditions=[
                {
                    "display_name": f"5xx ratio > {percent} for 5 minutes",
                    "condition_prometheus_query_language": {
                        "query": (
                            f"sum(rate({errors}[5m])) / sum(rate({requests}[5m])) > "
                            f"{service.error_rate_threshold:g}"
                        ),
                        "duration": "300s",
                        "evaluation_interval": "60s",
                    },
                }
            ],
            anchor="high-error-rate",
        )
        if service.slow_p95_ms is None:
            return
        latencies = f"run_googleapis_com:request_latencies_bucket{{{self.promql_selector}}}"
        self._policy(
            "slow-response-time",
            summary=(
                f"[warning] {service.name}: p95 response time above {service.slow_p95_ms} ms "
                "for 10 minutes (Light on Campus 'Slow Response Time', L237-246)."
            ),
            severity=Severity.WARNING,
            conditions=[
                {
                    "display_name": f"p95 > {service.slow_p95_ms} ms for 10 minutes",
                    "condition_prometheus_query_language": {
                        "query": (
                            f"histogram_quantile(0.95, sum by (le) (rate({latencies}[5m]))) > "
                            f"{service.slow_p95_ms}"
                        ),
                        "duration": "600s",
                        "evaluation_interval": "60s",
                    },
                }
            ],
            anchor="slow-response-time",
        )

    def _log_alert(self, alert: LogAlert) -> None:
        def metric(suffix: str, log_filter: str) -> str:
            metric_name = f"{self.service_id}-{alert.name}{suffix}"
            gcp.logging.Metric(
                f"{self.name}-{alert.name}{suffix}",
                name=metric_name,
                filter=log_filter,
                metric_descriptor={"metric_kind": "DELTA", "value_type": "INT64", "unit": "1"},
                project=self.args.project,
                opts=self._opts(),
            )
            return f"logging_googleapis_com:user_{metric_name.replace('-', '_')}"

        bad = metric("", alert.filter)
        window = f"{alert.duration_seconds}s"
        if alert.total_filter is not None:
            total = metric("-total", alert.total_filter)
            query = (
                f"sum(rate({bad}[{window}])) / sum(rate({total}[{window}])) > {alert.threshold:g}"
            )
        else:
            query = f"sum(increase({bad}[{window}])) > {alert.threshold:g}"
        severity = Severity(alert.severity)
        self._policy(
            alert.name,
            summary=f"[{severity.value}] {self.args.service.name}: {alert.summary}. {alert.source}",
            severity=severity,
            conditions=[
                {
                    "display_name": alert.summary,
                    "condition_prometheus_query_language": {
                        "query": query,
                        "duration": "0s",
                        "evaluation_interval": "60s",
                    },
                }
            ],
            anchor=alert.name,
        )

    # -- one policy ----------------------------------------------------------------------------

    def _policy(
        self,
        alarm_id: str,
        *,
        summary: str,
        severity: Severity,
        conditions: Sequence[Any],
        anchor: str,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> None:
        service = self.args.service
        policy = gcp.monitoring.AlertPolicy(
            f"{self.name}-{alarm_id}",
            display_name=f"{self.args.system} {service.name}: {alarm_id}",
            combiner="AND",
            conditions=list(conditions),
            notification_channels=list(self.args.channels(severity)),
            severity=POLICY_SEVERITY[severity],
            documentation=_documentation(service, summary, anchor),
            user_labels={"service": service.name, "resilience-alarm": alarm_id},
            alert_strategy=AUTO_CLOSE,
            project=self.args.project,
            opts=self._opts(depends_on=list(depends_on)),
        )
        self.policies.append(policy)
