"""The Kubernetes target: the shipped example (Pulumi.example-kubernetes.yaml) under mocks
carries the seeds' alert rules, the SLO burn-rate rules, the HPA and the PDB; promtool
checks the generated rules and its unit tests prove when the burn-rate and seed alerts fire;
checkov scans the manifests; the kubernetes rules fire on broken fixtures; bad config is
refused naming file, key and reason."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from model.loader import ConfigError, load_file
from model.prometheus import duration, le_matcher
from policies.evaluate import evaluate_graph
from policies.rules import ALL_RULES
from policies.rules.core import ResourceView
from scripts import checkov
from scripts.engine import SynthResult, synth_all
from tests.conftest import ROOT, ConfigWriter, read_stack_document

EXAMPLE = ROOT / "Pulumi.example-kubernetes.yaml"
RULES = {rule.id: rule for rule in ALL_RULES}
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
RELEASE = "kubernetes:helm.sh/v3:Release"
# The example's application series (metrics.selector) and its Deployment's pods.
APP = 'job="weburedno-app",namespace="uredno"'
POD = "web-7c9d5b8f6d-x2k4q"


@pytest.fixture(scope="session")
def example() -> SynthResult:
    (result,) = synth_all([load_file(EXAMPLE)])
    return result


def of_type(result: SynthResult, typ: str) -> list[dict[str, Any]]:
    return [r for r in result.graph["resources"] if r["type"] == typ]


def rule_objects(result: SynthResult) -> dict[str, dict[str, Any]]:
    """PrometheusRule name -> its spec (what the operator loads)."""
    return {
        r["inputs"]["metadata"]["name"]: r["inputs"]["spec"]
        for r in of_type(result, PROMETHEUS_RULE)
    }


def alerts_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in spec["groups"] for rule in group["rules"] if "alert" in rule]


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool not found: `make promtool` installs Debian's prometheus package "
            "(apt-get install --no-install-recommends prometheus), or put promtool on PATH"
        )
    return found


@pytest.fixture(scope="session")
def rule_files(example: SynthResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthesized PrometheusRules' groups as Prometheus rule files (<name>.yml)."""
    directory = tmp_path_factory.mktemp("rules")
    for name, spec in rule_objects(example).items():
        (directory / f"{name}.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return directory


# -- under mocks: the seed values -----------------------------------------------------------

# WebUredno's alert rules (004_*.txt): name -> (expression fragment, for, severity, line).
SEED_ALERTS = {
    "HighErrorRate": ('status=~"5.."}[5m])) / sum(rate(http_requests_total{', "5m", "critical"),
    "SlowResponseTime": ("histogram_quantile(0.95, sum by (le)", "10m", "warning"),
    "DatabaseConnectionPoolExhausted": ("(pg_settings_max_connections{", "5m", "critical"),
    "DatabaseDeadlocks": (
        'increase(pg_stat_database_deadlocks{job="postgres"}[1h]) > 5',
        "1m",
        "critical",
    ),
    "HighCPUUsage": ('resource="cpu"}) > 0.8', "15m", "warning"),
    "HighMemoryUsage": ('resource="memory"}) > 0.9', "10m", "critical"),
    "DiskSpaceLow": ("kubelet_volume_stats_capacity_bytes{", "5m", "critical"),
    "SSLCertificateExpiry": ("- time() < 7 * 86400", "15m", "warning"),
}
THRESHOLDS = {
    "HighErrorRate": "> 0.05",  # L874
    "SlowResponseTime": "> 2",  # L883
    "DatabaseConnectionPoolExhausted": "> 0.8",  # L903
    "DiskSpaceLow": "< 0.1",  # L944
}


def test_prometheus_rules_carry_the_seed_alerts(example: SynthResult) -> None:
    rules = rule_objects(example)
    assert set(rules) == {"web-slo", "web-alerts"}
    alerts = {a["alert"]: a for a in alerts_of(rules["web-alerts"])}
    assert list(alerts) == list(SEED_ALERTS)
    for name, (fragment, held, severity) in SEED_ALERTS.items():
        alert = alerts[name]
        assert fragment in alert["expr"], (name, alert["expr"])
        assert (alert["for"], alert["labels"]) == (held, {"severity": severity, "service": "web"})
        annotations = alert["annotations"]
        assert set(annotations) == {"summary", "description", "runbook_url"}
        assert annotations["runbook_url"].startswith("https://runbooks.example.com/uredno/web#")
        assert "WebUredno" in annotations["description"], "each alert cites its seed line"
    for name, threshold in THRESHOLDS.items():
        assert alerts[name]["expr"].endswith(threshold), name
    assert alerts["HighErrorRate"]["annotations"]["summary"] == "web: High error rate detected"
    assert "more than 5% of requests" in alerts["HighErrorRate"]["annotations"]["description"]
    # The series the example's config names: its app job, postgres_exporter, blackbox probes.
    assert f"http_requests_total{{{APP}}}" in alerts["HighErrorRate"]["expr"]
    assert 'pod=~"web-[a-z0-9]+-[a-z0-9]+",container="web"' in alerts["HighCPUUsage"]["expr"]
    assert (
        'probe_ssl_earliest_cert_expiry{job="blackbox"}' in alerts["SSLCertificateExpiry"]["expr"]
    )
    metadata = of_type(example, PROMETHEUS_RULE)[0]["inputs"]["metadata"]
    assert metadata["namespace"] == "uredno"
    assert metadata["labels"]["release"] == "kube-prometheus-stack"  # the operator's selector


def test_slo_rules_use_sloth_names_and_the_burn_rate_tiers(example: SynthResult) -> None:
    spec = rule_objects(example)["web-slo"]
    groups = {g["name"]: g["rules"] for g in spec["groups"]}
    assert list(groups) == [
        f"sloth-slo-{kind}-web-{slo}"
        for slo in ("availability", "latency-p95")
        for kind in ("sli-recordings", "meta-recordings", "alerts")
    ]
    sli = groups["sloth-slo-sli-recordings-web-availability"]
    assert [r["record"] for r in sli] == [
        f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
    ]
    assert sli[0]["labels"] == {
        "sloth_id": "web-availability",
        "sloth_service": "web",
        "sloth_slo": "availability",
        "sloth_window": "5m",
    }
    assert sli[0]["expr"] == (
        f'(sum(rate(http_requests_total{{{APP},status=~"5.."}}[5m]))) / '
        f"(sum(rate(http_requests_total{{{APP}}}[5m])))"
    )
    latency = groups["sloth-slo-sli-recordings-web-latency-p95"][0]["expr"]
    assert (
        'http_request_duration_seconds_bucket{job="weburedno-app",namespace="uredno",le=~"2|2\\\\.0"}'
        in latency
    )
    meta = {r["record"]: r["expr"] for r in groups["sloth-slo-meta-recordings-web-availability"]}
    assert meta["slo:objective:ratio"] == "vector(0.995)"
    assert meta["slo:error_budget:ratio"] == "vector(0.005)"
    assert meta["slo:time_period:days"] == "vector(30)"
    assert set(meta) >= {"slo:current_burn_rate:ratio", "slo:period_error_budget_remaining:ratio"}
    # The CloudWatch tiers (components/slo.py) on a 99.5 % objective: budget 0.005.
    tiers = [
        (
            a["labels"]["burn_tier"],
            a["labels"]["long_window"],
            a["labels"]["short_window"],
            a["labels"]["severity"],
            a["labels"]["sloth_severity"],
            a["for"],
        )
        for a in groups["sloth-slo-alerts-web-availability"]
    ]
    assert tiers == [
        ("page-1h", "1h", "5m", "critical", "page", "2m30s"),
        ("page-6h", "6h", "30m", "critical", "page", "15m"),
        ("ticket-1d", "1d", "2h", "warning", "ticket", "1h"),
        ("ticket-3d", "3d", "6h", "warning", "ticket", "3h"),
    ]
    page = groups["sloth-slo-alerts-web-availability"][0]
    ids = 'sloth_id="web-availability",sloth_service="web",sloth_slo="availability"'
    assert page["alert"] == "ErrorBudgetBurn"
    assert page["expr"] == (
        f"(max(slo:sli_error:ratio_rate1h{{{ids}}} > (14.4 * 0.005)) without (sloth_window) and "
        f"max(slo:sli_error:ratio_rate5m{{{ids}}} > (14.4 * 0.005)) without (sloth_window))"
    )
    assert (
        page["annotations"]["runbook_url"] == "https://runbooks.example.com/uredno/web#slo-page-1h"
    )
    factors = [
        a["expr"].split("(", 3)[3].split(" *")[0]
        for a in groups["sloth-slo-alerts-web-availability"]
    ]
    assert factors == ["14.4", "6", "3", "1"]


def test_hpa_and_pdb_carry_the_seed_values(example: SynthResult) -> None:
    (hpa,) = of_type(example, HPA)
    spec = hpa["inputs"]["spec"]
    assert (
        hpa["inputs"]["metadata"]["name"] == "web"
        and hpa["inputs"]["metadata"]["namespace"] == "uredno"
    )
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    # 2..10 (Light on Campus L1941-1960), CPU 70 % (ReskFlow L1201-1205, Light on Campus).
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        }
    ]
    # Scale in by 30 % (x0.7) at most every 10 minutes, on the highest recommendation of the
    # last 10 minutes; scale-up keeps the HPA's own default.
    assert spec["behavior"] == {
        "scaleDown": {
            "stabilizationWindowSeconds": 600,
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 30, "periodSeconds": 600}],
        }
    }
    (pdb,) = of_type(example, PDB)
    assert pdb["inputs"]["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
    }
    assert pdb["inputs"]["metadata"]["labels"]["app.kubernetes.io/name"] == "web"


def test_every_object_goes_through_the_clusters_explicit_provider(example: SynthResult) -> None:
    (provider,) = of_type(example, "pulumi:providers:kubernetes")
    assert provider["inputs"] == {"context": "uredno-primary"}
    ref = provider["urn"]
    kubernetes = [r for r in example.graph["resources"] if r["type"].startswith("kubernetes:")]
    assert len(kubernetes) == 5 and all(r["provider"] == ref for r in kubernetes)
    (release,) = of_type(example, RELEASE)
    inputs = release["inputs"]
    assert (inputs["name"], inputs["chart"], inputs["version"]) == (
        "kube-prometheus-stack",
        "kube-prometheus-stack",
        "75.15.0",
    )
    assert inputs["namespace"] == "monitoring" and inputs["createNamespace"] is True
    assert inputs["repositoryOpts"] == {
        "repo": "https://prometheus-community.github.io/helm-charts"
    }
    # ReskFlow's Prometheus (L1034-1037): 15 s, 15 days, 100 GB.
    prometheus = inputs["values"]["prometheus"]["prometheusSpec"]
    assert (prometheus["scrapeInterval"], prometheus["retention"]) == ("15s", "15d")
    storage = prometheus["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]
    assert storage == {"requests": {"storage": "100Gi"}}
    # The rules wait for the release that installs the PrometheusRule CRD.
    for rules in of_type(example, PROMETHEUS_RULE):
        assert {"from": rules["urn"], "kind": "depends_on", "to": release["urn"]} in example.graph[
            "edges"
        ]


def test_the_stack_exports_what_it_put_on_kubernetes(example: SynthResult) -> None:
    output = example.outputs["kubernetes"]
    assert output["context"] == "uredno-primary"
    assert output["kube_prometheus_stack"] == {
        "chart_version": "75.15.0",
        "namespace": "monitoring",
    }
    web = output["services"]["web"]
    assert web["prometheus_rules"] == ["web-alerts", "web-slo"]
    assert web["hpa"] == {"min": 2, "max": 10, "cpu_target_percent": 70}
    assert web["pdb"] == {"maxUnavailable": 1} and web["slo_alerting"] is True
    assert "ErrorBudgetBurn:web-availability:page-1h" in web["alerts"]
    assert len(web["alerts"]) == 16  # 2 objectives x 4 tiers + 8 seed alerts


def test_the_example_passes_every_rule(example: SynthResult) -> None:
    evaluation = evaluate_graph(example.graph)
    assert evaluation.findings == []
    for rule_id in (
        *(r for r in RULES if r.startswith("kubernetes-")),
        "kubernetes-hpa-workload-has-pdb",
    ):
        assert evaluation.checked[rule_id] >= 1, rule_id


def test_shipped_aws_stacks_have_nothing_on_kubernetes(synthesized: dict[str, SynthResult]) -> None:
    for result in synthesized.values():
        assert not [
            r
            for r in result.graph["resources"]
            if r["type"].startswith(("kubernetes:", "pulumi:providers:kubernetes"))
        ]
        assert "kubernetes" not in result.outputs


def _pair(tmp_path: Path, mode: str) -> list[SynthResult]:
    """The example as a primary and a dr stack in `mode`, with a DR cluster."""
    document = read_stack_document("example-kubernetes")
    config = document["config"]
    config["resilience:kubernetes"]["clusters"]["dr"] = {"context": "uredno-dr"}
    config["resilience:services"][0]["kubernetes"]["hpa"] = {"min_replicas": 4}
    primary = tmp_path / "Pulumi.k8s-primary.yaml"
    primary.write_text(yaml.safe_dump(document, sort_keys=False))
    dr = copy.deepcopy(document)
    dr["config"]["resilience:role"] = "dr"
    dr["config"]["resilience:primary_stack"] = "k8s-primary"
    dr["config"]["resilience:dr"]["mode"] = mode
    path = tmp_path / "Pulumi.k8s-dr.yaml"
    path.write_text(yaml.safe_dump(dr, sort_keys=False))
    return synth_all([load_file(primary), load_file(path)])


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("pilot-light", None),  # the DR cluster runs none of the service
        ("warm-standby", (2, ["web-alerts"])),  # 50 % of 4; no SLO alerting on standby
        ("active", (4, ["web-alerts", "web-slo"])),  # the primary's full minimum
    ],
)
def test_dr_stack_composes_kubernetes_when_its_region_serves(
    tmp_path: Path, mode: str, expected: tuple[int, list[str]] | None
) -> None:
    primary, dr = _pair(tmp_path, mode)
    assert primary.outputs["kubernetes"]["services"]["web"]["hpa"]["min"] == 4
    if expected is None:
        assert "kubernetes" not in dr.outputs
        assert not [r for r in dr.graph["resources"] if r["type"].startswith("kubernetes:")]
        return
    web = dr.outputs["kubernetes"]["services"]["web"]
    assert dr.outputs["kubernetes"]["context"] == "uredno-dr"
    assert (web["hpa"]["min"], web["prometheus_rules"]) == expected
    kubernetes = [
        f for f in evaluate_graph(dr.graph).findings if f.rule_id.startswith("kubernetes-")
    ]
    assert kubernetes == []


# -- promtool: the rules load, and fire when they should ------------------------------------


def run_promtool(*args: str, cwd: Path) -> str:
    proc = subprocess.run(
        [promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_promtool_checks_the_generated_rules(rule_files: Path) -> None:
    out = run_promtool("check", "rules", "web-slo.yml", "web-alerts.yml", cwd=rule_files)
    # 2 objectives x (8 SLI + 7 meta recordings + 4 alerts), 8 seed alerts.
    assert "SUCCESS: 38 rules found" in out and "SUCCESS: 8 rules found" in out


def counter(*segments: tuple[float, int]) -> str:
    """promtool's expanding notation of a counter growing `per_step` for `steps` samples,
    segment after segment, from 0."""
    parts, value = [], 0.0
    for i, (per_step, steps) in enumerate(segments):
        start = value if i == 0 else value + per_step
        parts.append(f"{start:g}+{per_step:g}x{steps if i == 0 else steps - 1}")
        value += per_step * steps
    return " ".join(parts)


STEP = 2  # minutes between samples (and rule evaluations) in the burn-rate tests


def requests(*segments: tuple[float, int], step: int = 1) -> list[dict[str, str]]:
    """10,000 requests a minute, a sample every `step` minutes; `segments` give the share
    of 5xx responses and how many minutes it lasts."""
    total = 10_000 * step

    def series(share: Callable[[float], float]) -> str:
        return counter(*((total * share(s), minutes // step) for s, minutes in segments))

    return [
        {"series": f'http_requests_total{{{APP},status="200"}}', "values": series(lambda s: 1 - s)},
        {"series": f'http_requests_total{{{APP},status="500"}}', "values": series(lambda s: s)},
    ]


def expanded(annotations: dict[str, str], labels: dict[str, str]) -> dict[str, str]:
    """Annotations as Prometheus renders them for an alert with these labels."""
    return {
        k: re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], v)
        for k, v in annotations.items()
    }


def burn_alerts(spec: dict[str, Any], *tiers: str) -> list[dict[str, Any]]:
    """The expected firing ErrorBudgetBurn alerts of the availability SLO's `tiers`."""
    out = []
    group = next(g for g in spec["groups"] if g["name"] == "sloth-slo-alerts-web-availability")
    for rule in group["rules"]:
        if rule["labels"]["burn_tier"] in tiers:
            labels = {
                **rule["labels"],
                "sloth_id": "web-availability",
                "sloth_service": "web",
            }
            out.append({"exp_labels": labels, "exp_annotations": rule["annotations"]})
    return out


DAY = 1440


def test_promtool_burn_rate_alerts_fire_at_the_right_time(
    example: SynthResult, rule_files: Path
) -> None:
    """Against a 99.5 % objective (budget 0.5 %), 10,000 requests a minute after a clean day
    (a sample and an evaluation every 2 minutes):
    - 10 % errors (20x): page-1h once the 1h ratio passes 14.4 x 0.5 % (43 min) and its `for`
      (2m30s) has passed, not before; page-6h once the 6h ratio passes 6 x 0.5 % (108 min)
      plus 15 min; no ticket yet (the 1d ratio passes 1.5 % only after 216 min);
    - 0.45 % errors (0.9x) for a day: nothing, ever;
    - 2 % errors (4x): never a page; ticket-1d once the 1d ratio passes 3 x 0.5 % (18 h)
      plus 1 h; ticket-3d once its window (one clean day and the burn) passes 0.5 %
      (8 h) plus 3 h."""
    spec = rule_objects(example)["web-slo"]

    def at(minutes: int, *tiers: str) -> dict[str, Any]:
        return {
            "eval_time": f"{minutes}m",
            "alertname": "ErrorBudgetBurn",
            "exp_alerts": burn_alerts(spec, *tiers),
        }

    tests = [
        {
            "name": "fast burn pages",
            "input_series": requests((0.0, DAY), (0.10, 130), step=STEP),
            "alert_rule_test": [
                at(DAY + 40),
                at(DAY + 50, "page-1h"),
                at(DAY + 110, "page-1h"),
                at(DAY + 130, "page-1h", "page-6h"),
            ],
        },
        {
            "name": "under budget stays silent",
            "input_series": requests((0.0045, DAY), step=STEP),
            "alert_rule_test": [at(m) for m in (30, 120, 360, 720, DAY)],
        },
        {
            "name": "slow burn tickets",
            "input_series": requests((0.0, DAY), (0.02, 1200), step=STEP),
            "alert_rule_test": [
                at(DAY + 60),
                at(DAY + 420),
                at(DAY + 720, "ticket-3d"),
                at(DAY + 1050, "ticket-3d"),
                at(DAY + 1200, "ticket-1d", "ticket-3d"),
            ],
        },
    ]
    for test in tests:
        test["interval"] = f"{STEP}m"
    # The availability SLO's groups as generated (the latency SLO's have the same shape and
    # no series here; promtool checks them above): half the evaluation work.
    groups = [g for g in spec["groups"] if g["name"].endswith("-web-availability")]
    (rule_files / "web-slo-availability.yml").write_text(yaml.safe_dump({"groups": groups}))
    document = {
        "rule_files": ["web-slo-availability.yml"],
        "evaluation_interval": f"{STEP}m",
        "tests": tests,
    }
    (rule_files / "slo-test.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    out = run_promtool("test", "rules", "slo-test.yml", cwd=rule_files)
    assert "SUCCESS" in out


def test_promtool_seed_alerts_fire_after_their_for(example: SynthResult, rule_files: Path) -> None:
    """Each seed alert with series that break its threshold: silent before its `for` has
    passed, firing after; and a series on the right side of the threshold stays silent."""
    rules = {a["alert"]: a for a in alerts_of(rule_objects(example)["web-alerts"])}
    pod = f'namespace="uredno",pod="{POD}",container="web"'
    pvc = 'namespace="uredno",persistentvolumeclaim="data-web"'
    db = 'job="postgres",instance="db:9187"'

    def firing(name: str, minutes: int, labels: dict[str, str]) -> dict[str, Any]:
        rule = rules[name]
        full = {**labels, **rule["labels"]}
        return {
            "eval_time": f"{minutes}m",
            "alertname": name,
            "exp_alerts": [
                {"exp_labels": full, "exp_annotations": expanded(rule["annotations"], full)}
            ],
        }

    def silent(name: str, minutes: int) -> dict[str, Any]:
        return {"eval_time": f"{minutes}m", "alertname": name, "exp_alerts": []}

    buckets = [
        {
            "series": f'http_request_duration_seconds_bucket{{{APP},le="{le}"}}',
            "values": counter((count, 30)),
        }
        for le, count in (("0.5", 0), ("1", 0), ("2", 0), ("5", 100), ("+Inf", 100))
    ]
    tests: list[dict[str, Any]] = [
        {  # 10 % 5xx: pending from the first rate (1m), firing 5 minutes later
            "input_series": requests((0.10, 30)),
            "alert_rule_test": [silent("HighErrorRate", 4), firing("HighErrorRate", 7, {})],
        },
        {"input_series": requests((0.04, 30)), "alert_rule_test": [silent("HighErrorRate", 30)]},
        {  # every request between 2 and 5 s: p95 4.85 s
            "input_series": buckets,
            "alert_rule_test": [silent("SlowResponseTime", 9), firing("SlowResponseTime", 12, {})],
        },
        {  # 90 of 100 connections
            "input_series": [
                {
                    "series": f'pg_stat_database_numbackends{{{db},datname="uredno"}}',
                    "values": "50x30",
                },
                {
                    "series": f'pg_stat_database_numbackends{{{db},datname="postgres"}}',
                    "values": "40x30",
                },
                {"series": f"pg_settings_max_connections{{{db}}}", "values": "100x30"},
            ],
            "alert_rule_test": [
                silent("DatabaseConnectionPoolExhausted", 4),
                firing("DatabaseConnectionPoolExhausted", 6, {"instance": "db:9187"}),
            ],
        },
        {  # a deadlock a minute: more than 5 within the hour after 6 minutes
            "input_series": [
                {
                    "series": f'pg_stat_database_deadlocks{{{db},datname="uredno"}}',
                    "values": counter((1, 30)),
                }
            ],
            "alert_rule_test": [
                silent("DatabaseDeadlocks", 3),
                firing(
                    "DatabaseDeadlocks",
                    10,
                    {"job": "postgres", "instance": "db:9187", "datname": "uredno"},
                ),
            ],
        },
        {  # 0.9 of a one-core request for 15 minutes
            "input_series": [
                {
                    "series": f"container_cpu_usage_seconds_total{{{pod}}}",
                    "values": counter((54, 30)),
                },
                {
                    "series": f'kube_pod_container_resource_requests{{{pod},resource="cpu"}}',
                    "values": "1x30",
                },
            ],
            # (a 5-minute rate reaches 0.9 once its window is full: pending from 4m)
            "alert_rule_test": [
                silent("HighCPUUsage", 18),
                firing("HighCPUUsage", 21, {"namespace": "uredno", "pod": POD}),
            ],
        },
        {  # 950 MiB of a 1 GiB limit
            "input_series": [
                {
                    "series": f"container_memory_working_set_bytes{{{pod}}}",
                    "values": f"{950 * 2**20}x30",
                },
                {
                    "series": f'kube_pod_container_resource_limits{{{pod},resource="memory"}}',
                    "values": f"{2**30}x30",
                },
            ],
            "alert_rule_test": [
                silent("HighMemoryUsage", 9),
                firing("HighMemoryUsage", 11, {"namespace": "uredno", "pod": POD}),
            ],
        },
        {  # 5 of 100 GB free
            "input_series": [
                {"series": f"kubelet_volume_stats_available_bytes{{{pvc}}}", "values": "5x30"},
                {"series": f"kubelet_volume_stats_capacity_bytes{{{pvc}}}", "values": "100x30"},
            ],
            "alert_rule_test": [
                silent("DiskSpaceLow", 4),
                firing(
                    "DiskSpaceLow", 6, {"namespace": "uredno", "persistentvolumeclaim": "data-web"}
                ),
            ],
        },
        {  # a certificate that expires 5 days after the epoch (the test's time 0)
            "input_series": [
                {
                    "series": 'probe_ssl_earliest_cert_expiry{job="blackbox",instance="https://uredno.example.com"}',
                    "values": f"{5 * 86400}x30",
                },
            ],
            "alert_rule_test": [
                silent("SSLCertificateExpiry", 14),
                firing(
                    "SSLCertificateExpiry",
                    16,
                    {"job": "blackbox", "instance": "https://uredno.example.com"},
                ),
            ],
        },
        {  # ten days left: silent
            "input_series": [
                {
                    "series": 'probe_ssl_earliest_cert_expiry{job="blackbox",instance="x"}',
                    "values": f"{10 * 86400}x30",
                },
            ],
            "alert_rule_test": [silent("SSLCertificateExpiry", 30)],
        },
    ]
    for i, test in enumerate(tests):
        test.update(name=f"seed alert {i}", interval="1m")
    document = {"rule_files": ["web-alerts.yml"], "evaluation_interval": "1m", "tests": tests}
    (rule_files / "alerts-test.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    assert "SUCCESS" in run_promtool("test", "rules", "alerts-test.yml", cwd=rule_files)


def test_promtool_fails_a_rule_that_fires_too_early(example: SynthResult, rule_files: Path) -> None:
    """The unit tests can fail: page-1h is not firing 40 minutes into a 20x burn."""
    spec = rule_objects(example)["web-slo"]
    test = {
        "interval": f"{STEP}m",
        "input_series": requests((0.0, 360), (0.10, 40), step=STEP),
        "alert_rule_test": [
            {
                "eval_time": "400m",
                "alertname": "ErrorBudgetBurn",
                "exp_alerts": burn_alerts(spec, "page-1h"),
            }
        ],
    }
    document = {"rule_files": ["web-slo.yml"], "evaluation_interval": f"{STEP}m", "tests": [test]}
    (rule_files / "early-test.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    proc = subprocess.run(
        [promtool(), "test", "rules", "early-test.yml"],
        cwd=rule_files,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "FAILED" in proc.stdout + proc.stderr


def test_durations_and_bucket_matchers() -> None:
    assert [duration(s) for s in (150, 900, 3600, 10800, 86400, 90)] == [
        "2m30s",
        "15m",
        "1h",
        "3h",
        "1d",
        "1m30s",
    ]
    assert le_matcher(2) == 'le=~"2|2\\\\.0"'
    assert le_matcher(0.5) == 'le=~"0.5"'


# -- checkov on the manifests ----------------------------------------------------------------


def test_checkov_scans_the_manifests(example: SynthResult, tmp_path: Path) -> None:
    """checkov 3.3.30's kubernetes checks are about workloads (containers, pods, RBAC,
    services): it has none for HorizontalPodAutoscaler, PodDisruptionBudget or
    PrometheusRule. Scanned next to a Deployment with the same labels, in one run, checkov
    judges the Deployment (and the Pod it derives from it) and nothing of ours."""
    export = checkov.export_stack(example.graph, tmp_path)
    assert export.manifest_file == "example-kubernetes.k8s.yaml"
    kinds = [m["kind"] for m in export.manifests.manifests]
    assert sorted(kinds) == [
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "PrometheusRule",
        "PrometheusRule",
    ]
    # The Helm release is no Kubernetes object (the provider renders and installs its chart).
    assert export.manifests.skipped == {RELEASE: 1}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "uredno"},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
                "spec": {"containers": [{"name": "web", "image": "uredno/web:1.0"}]},
            },
        },
    }
    (tmp_path / "deployment.yaml").write_text(yaml.safe_dump(deployment))
    reports = checkov.run_checkov(
        ["--file", export.manifest_file, "--file", "deployment.yaml", "--framework", "kubernetes"],
        cwd=tmp_path,
    )
    (report,) = reports
    results = report["results"]
    checked = {
        c["resource"].split(".")[0] for c in results["passed_checks"] + results["failed_checks"]
    }
    files = {Path(c["file_path"]).name for c in results["passed_checks"] + results["failed_checks"]}
    assert checked == {"Deployment", "Pod"} and files == {"deployment.yaml"}
    assert results["failed_checks"], "checkov did judge the Deployment"


# -- config --------------------------------------------------------------------------------


def _service(config: dict[str, Any]) -> dict[str, Any]:
    service: dict[str, Any] = config["resilience:services"][0]["kubernetes"]
    return service


def _second_service(config: dict[str, Any]) -> None:
    other = copy.deepcopy(config["resilience:services"][0])
    other["name"] = "admin"
    config["resilience:services"].append(other)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda c: c["resilience:kubernetes"].pop("clusters"),
            "Pulumi.bad.yaml: resilience:kubernetes.clusters.primary: required by "
            "services[0].kubernetes: the primary stack creates its objects through an explicit "
            "provider for this cluster (a context)",
        ),
        (
            lambda c: _service(c).update(pdb={"min_available": 1, "max_unavailable": 1}),
            "Pulumi.bad.yaml: resilience:services[0].kubernetes.pdb: set min_available or "
            "max_unavailable, not both",
        ),
        (
            lambda c: _service(c).update(pdb={"max_unavailable": "120%"}),
            "Pulumi.bad.yaml: resilience:services[0].kubernetes.pdb.max_unavailable",
        ),
        (
            lambda c: _service(c).update(hpa={"min_replicas": 5, "max_replicas": 3}),
            "Pulumi.bad.yaml: resilience:services[0].kubernetes.hpa: max_replicas (3) must be "
            ">= min_replicas (5)",
        ),
        (
            lambda c: _service(c).update(hpa={"min_replica": 3}),
            "Pulumi.bad.yaml: resilience:services[0].kubernetes.hpa.min_replica: unknown key "
            "(did you mean 'min_replicas'?)",
        ),
        (
            lambda c: _service(c).update(alerts={"HighErorRate": {"threshold": 0.1}}),
            "Pulumi.bad.yaml: resilience:services[0].kubernetes.alerts.HighErorRate: unknown "
            "Prometheus alert 'HighErorRate'",
        ),
        (
            lambda c: _service(c).update(alerts={"HighErrorRate": {"for": "five minutes"}}),
            "Pulumi.bad.yaml: resilience:services[0].kubernetes.alerts.HighErrorRate.for: "
            "'five minutes' is not a Prometheus duration",
        ),
        (
            lambda c: _service(c)["metrics"].update(errors="status=5xx"),
            "Pulumi.bad.yaml: resilience:services[0].kubernetes.metrics.errors: 'status=5xx' is "
            "not one PromQL label matcher",
        ),
        (
            lambda c: _service(c)["workload"].update(name="Web_App"),
            "Pulumi.bad.yaml: resilience:services[0].kubernetes.workload.name: 'Web_App' is not "
            "a Kubernetes name",
        ),
        (
            lambda c: c["resilience:kubernetes"].update(rule_labels={"team": "web"}),
            "Pulumi.bad.yaml: resilience:kubernetes.rule_labels: must include release: "
            "kube-prometheus-stack",
        ),
        (
            _second_service,
            "Pulumi.bad.yaml: resilience:services[1].kubernetes.workload.name: Deployment "
            "uredno/web is also services[0]'s workload",
        ),
        (
            lambda c: _service(c).update(enabled=False),
            "Pulumi.bad.yaml: resilience:services[0].resources.primary: the SLO needs a source "
            "of request metrics: add an alb, functions or kubernetes",
        ),
    ],
)
def test_bad_config_names_file_key_and_reason(
    write_config: ConfigWriter, edit: Callable[[dict[str, Any]], None], expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_file(write_config(edit, base="example-kubernetes"))
    assert any(str(p).startswith(expected) for p in info.value.problems), str(info.value)


def test_a_pilot_light_dr_stack_needs_no_dr_cluster(write_config: ConfigWriter) -> None:
    def dr(config: dict[str, Any]) -> None:
        config.update({"resilience:role": "dr", "resilience:primary_stack": "example-kubernetes"})

    assert load_file(write_config(dr, base="example-kubernetes")).config.role.value == "dr"

    def warm(config: dict[str, Any]) -> None:
        dr(config)
        config["resilience:dr"]["mode"] = "warm-standby"

    with pytest.raises(ConfigError) as info:
        load_file(write_config(warm, base="example-kubernetes"))
    assert "resilience:kubernetes.clusters.dr: required by services[0].kubernetes" in str(
        info.value
    )


def test_overrides_change_and_remove_seed_alerts(write_config: ConfigWriter) -> None:
    def edit(config: dict[str, Any]) -> None:
        _service(config)["alerts"] = {
            "HighErrorRate": {"threshold": 0.02, "for": "2m", "severity": "error"},
            "DiskSpaceLow": {"enabled": False},
        }
        _service(config)["metrics"].pop("postgres")

    (result,) = synth_all([load_file(write_config(edit, base="example-kubernetes", name="k8s"))])
    alerts = {a["alert"]: a for a in alerts_of(rule_objects(result)["web-alerts"])}
    assert list(alerts) == [
        "HighErrorRate",
        "SlowResponseTime",
        "HighCPUUsage",
        "HighMemoryUsage",
        "SSLCertificateExpiry",
    ]
    error_rate = alerts["HighErrorRate"]
    assert error_rate["expr"].endswith("> 0.02") and error_rate["for"] == "2m"
    assert error_rate["labels"]["severity"] == "error"
    assert "more than 2% of requests" in error_rate["annotations"]["description"]


# -- rules ---------------------------------------------------------------------------------


def k8s_view(
    typ: str, props: dict[str, Any], provider: str | None = "urn:k8s::provider"
) -> ResourceView:
    return ResourceView(
        type=typ,
        name="r",
        urn=f"urn:pulumi:s::p::{typ}::r",
        props=props,
        protect=False,
        provider_urn=provider,
        region=None,
    )


ALERT_OK = {
    "alert": "HighErrorRate",
    "expr": "x > 0.05",
    "for": "5m",
    "labels": {"severity": "critical"},
    "annotations": {"summary": "s", "description": "d", "runbook_url": "https://runbooks/x"},
}


def rules_with(**changes: Any) -> dict[str, Any]:
    alert = {k: v for k, v in {**ALERT_OK, **changes}.items() if v is not None}
    recording = {"record": "slo:sli_error:ratio_rate5m", "expr": "x"}
    return {"spec": {"groups": [{"name": "g", "rules": [recording, alert]}]}}


def hpa(minimum: int | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "maxReplicas": 10,
    }
    if minimum is not None:
        spec["minReplicas"] = minimum
    return {"spec": spec}


K8S_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], list[str]]] = [
    (
        "kubernetes-prometheus-alert-documented",
        PROMETHEUS_RULE,
        rules_with(),
        rules_with(annotations={"summary": "s", "description": "d"}),
        ["r: alert HighErrorRate in group g links no runbook (runbook_url annotation)"],
    ),
    (
        "kubernetes-prometheus-alert-documented",
        PROMETHEUS_RULE,
        rules_with(),
        rules_with(annotations={"runbook_url": "http://runbooks/x", "summary": " "}),
        [
            "r: alert HighErrorRate in group g has no summary annotation",
            "r: alert HighErrorRate in group g has no description annotation",
            "r: alert HighErrorRate in group g links no runbook (runbook_url annotation)",
        ],
    ),
    (
        "kubernetes-prometheus-alert-has-for-and-severity",
        PROMETHEUS_RULE,
        rules_with(),
        rules_with(**{"for": None}),
        [
            "r: alert HighErrorRate in group g fires on a single evaluation (no `for`): one "
            "scrape can page someone"
        ],
    ),
    (
        "kubernetes-prometheus-alert-has-for-and-severity",
        PROMETHEUS_RULE,
        rules_with(**{"for": "1h30m"}),
        rules_with(**{"for": "0s"}, labels={"severity": "page", "burn_tier": "page-1h"}),
        [
            "r: alert HighErrorRate [page-1h] in group g fires on a single evaluation (no "
            "`for`): one scrape can page someone",
            "r: alert HighErrorRate [page-1h] in group g has no severity label (critical, "
            "error, warning, info): Alertmanager cannot route it",
        ],
    ),
    (
        "kubernetes-hpa-min-replicas-at-least-2",
        HPA,
        hpa(2),
        hpa(1),
        [
            "r: minReplicas 1; one pod is a single point of failure (a crash or a node drain "
            "takes the service down): keep at least 2"
        ],
    ),
    (
        "kubernetes-hpa-min-replicas-at-least-2",
        HPA,
        hpa(3),
        hpa(None),  # the API's default is 1
        [
            "r: minReplicas 1; one pod is a single point of failure (a crash or a node drain "
            "takes the service down): keep at least 2"
        ],
    ),
    (
        "kubernetes-pdb-allows-eviction",
        PDB,
        {"spec": {"maxUnavailable": 1}},
        {"spec": {"maxUnavailable": 0}},
        [
            "r: maxUnavailable 0 allows no voluntary eviction: node drains and cluster "
            "upgrades block on it"
        ],
    ),
    (
        "kubernetes-pdb-allows-eviction",
        PDB,
        {"spec": {"minAvailable": "50%"}},
        {"spec": {"minAvailable": "100%"}},
        [
            "r: minAvailable 100% allows no voluntary eviction: node drains and cluster "
            "upgrades block on it"
        ],
    ),
]


@pytest.mark.parametrize(
    ("rule_id", "typ", "good", "bad", "expected"),
    K8S_CASES,
    ids=[f"{c[0]}:{i}" for i, c in enumerate(K8S_CASES)],
)
def test_kubernetes_rules(
    rule_id: str, typ: str, good: dict[str, Any], bad: dict[str, Any], expected: list[str]
) -> None:
    rule = RULES[rule_id]
    assert rule.applies_to(typ)
    assert list(rule.check(k8s_view(typ, good))) == []
    assert list(rule.check(k8s_view(typ, bad))) == expected


def test_objects_on_the_default_provider_are_flagged() -> None:
    rule = RULES["kubernetes-resource-explicit-provider"]
    assert list(rule.check(k8s_view(PDB, {}))) == []
    assert list(rule.check(k8s_view(PDB, {}, provider=None))) == [
        "r uses the default Kubernetes provider: its cluster would be the current context of "
        "whatever kubeconfig the environment has, not the stack config"
    ]
    default = "urn:pulumi:s::p::pulumi:providers:kubernetes::default_4_34_2"
    assert list(rule.check(k8s_view(HPA, hpa(2), provider=default)))


def test_every_kubernetes_rule_has_a_failing_case() -> None:
    covered = {c[0] for c in K8S_CASES} | {"kubernetes-resource-explicit-provider"}
    assert covered == {r for r in RULES if r.startswith("kubernetes-")}
    # The stack rule's cases: tests/test_stack_rules.py (k8s-hpa-without-pdb, ...).


def test_the_example_without_its_pdb_fails_the_stack_rule(example: SynthResult) -> None:
    graph = copy.deepcopy(example.graph)
    graph["resources"] = [r for r in graph["resources"] if r["type"] != PDB]
    findings = evaluate_graph(graph).findings
    assert [(f.rule_id, f.urn.rsplit("::", 1)[-1]) for f in findings] == [
        ("kubernetes-hpa-workload-has-pdb", "uredno-primary-web-k8s-workload-hpa")
    ]
