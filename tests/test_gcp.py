"""The Google Cloud target: Light on Campus (Firebase) from the same service description.
Under mocks the stack carries the seed's SLOs, burn-rate tiers, alert rules, Firestore and
bucket protection and log retention; the GCP rules fire on broken fixtures; bad config is
refused naming file, key and reason."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from model.gcp import GcpStackConfig
from model.loader import ConfigError, load_file
from policies.rules import ALL_RULES
from policies.rules.core import ResourceView
from scripts.engine import SynthResult, synth_all
from tests.conftest import ROOT
from tests.test_stack_rules import pack_violations

EXAMPLE = ROOT / "examples" / "light-on-campus" / "Pulumi.light-on-campus.yaml"
RULES = {rule.id: rule for rule in ALL_RULES}


@pytest.fixture(scope="module")
def campus() -> SynthResult:
    (result,) = synth_all([load_file(EXAMPLE)])
    return result


def of_type(result: SynthResult, typ: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in result.graph["resources"] if r["type"] == typ}


def inputs(result: SynthResult, typ: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = of_type(result, typ)[name]["inputs"]
    return found


def test_the_example_is_a_gcp_stack() -> None:
    config = load_file(EXAMPLE).config
    assert isinstance(config, GcpStackConfig)
    assert [s.name for s in config.services] == ["web-app", "api", "ai"]
    # The SLO table (L71-77).
    assert [(s.slo.availability, s.slo.latency_p95_ms) for s in config.services] == [
        (99.5, 3000),
        (99.9, 1000),
        (99.0, 30000),
    ]


def test_slos_and_burn_rate_policies_carry_the_seed_values(campus: SynthResult) -> None:
    slos = of_type(campus, "gcp:monitoring/slo:Slo")
    availability = slos["lightoncampus-api-availability"]["inputs"]
    assert availability["goal"] == 0.999 and availability["rollingPeriodDays"] == 30
    ratio = availability["requestBasedSli"]["goodTotalRatio"]
    assert 'resource.label."service_name"="lightoncampus-api"' in ratio["totalServiceFilter"]
    assert ratio["badServiceFilter"].endswith('metric.label."response_code_class"="5xx"')
    latency = slos["lightoncampus-ai-latency-p95"]["inputs"]
    assert latency["goal"] == 0.95
    assert latency["requestBasedSli"]["distributionCut"]["range"] == {"max": 30000}

    policies = of_type(campus, "gcp:monitoring/alertPolicy:AlertPolicy")
    burn = {
        name.removeprefix("lightoncampus-api-slo-availability-"): p["inputs"]
        for name, p in policies.items()
        if name.startswith("lightoncampus-api-slo-availability-")
    }
    # The same tiers as the CloudWatch alarms: 14.4x over 1h/5m and 6x over 6h/30m page,
    # 3x over 1d/2h and 1x over 3d/6h ticket.
    expected = {
        "page-1h": (14.4, ["3600s", "300s"], "CRITICAL"),
        "page-6h": (6.0, ["21600s", "1800s"], "CRITICAL"),
        "ticket-1d": (3.0, ["86400s", "7200s"], "WARNING"),
        "ticket-3d": (1.0, ["259200s", "21600s"], "WARNING"),
    }
    assert set(burn) == set(expected)
    for tier, (factor, windows, severity) in expected.items():
        policy = burn[tier]
        assert policy["combiner"] == "AND" and policy["severity"] == severity
        conditions = [c["conditionThreshold"] for c in policy["conditions"]]
        assert [c["thresholdValue"] for c in conditions] == [factor, factor]
        assert [c["filter"].rsplit('"', 2)[-2] for c in conditions] == windows
        assert all(
            "services/lightoncampus-api/serviceLevelObjectives/availability" in c["filter"]
            for c in conditions
        )
        assert (
            "Runbook: https://runbooks.lightoncampus.com/api#slo-"
            in (policy["documentation"]["content"])
        )


def test_seed_alert_rules(campus: SynthResult) -> None:
    policies = {
        name: p["inputs"]
        for name, p in of_type(campus, "gcp:monitoring/alertPolicy:AlertPolicy").items()
    }
    errors = policies["lightoncampus-api-high-error-rate"]
    (condition,) = errors["conditions"]
    promql = condition["conditionPrometheusQueryLanguage"]
    assert promql["query"].endswith("> 0.05") and promql["duration"] == "300s"
    assert errors["severity"] == "CRITICAL"
    slow = policies["lightoncampus-web-app-slow-response-time"]["conditions"][0]
    assert slow["conditionPrometheusQueryLanguage"]["query"].endswith("> 2000")
    assert slow["conditionPrometheusQueryLanguage"]["duration"] == "600s"
    ai = policies["lightoncampus-ai-slow-response-time"]["conditions"][0]
    assert ai["conditionPrometheusQueryLanguage"]["query"].endswith("> 30000")
    database = policies["lightoncampus-api-database-connection-errors"]
    query = database["conditions"][0]["conditionPrometheusQueryLanguage"]["query"]
    assert query == (
        "sum(increase(logging_googleapis_com:user_lightoncampus_api_database_connection_errors"
        "[120s])) > 10"
    )
    ai_failure = policies["lightoncampus-ai-ai-service-failure"]
    ratio = ai_failure["conditions"][0]["conditionPrometheusQueryLanguage"]["query"]
    assert "/ sum(rate(logging_googleapis_com:user_lightoncampus_ai_ai_service_failure_total" in (
        ratio
    )
    assert ratio.endswith("> 0.1") and ai_failure["severity"] == "ERROR"
    uptime = inputs(
        campus, "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig", "lightoncampus-api-uptime"
    )
    assert uptime["httpCheck"]["path"] == "/api/health" and uptime["httpCheck"]["useSsl"]
    assert uptime["selectedRegions"] == ["USA", "EUROPE", "ASIA_PACIFIC"]
    # Critical policies reach both critical channels; warnings the warning channel.
    channels = of_type(campus, "gcp:monitoring/notificationChannel:NotificationChannel")
    critical = sorted(
        c["computed"].get("name") or c["id"] for n, c in channels.items() if "-critical-" in n
    )
    assert sorted(errors["notificationChannels"]) == critical and len(critical) == 2
    for policy in policies.values():
        assert policy["notificationChannels"], policy["displayName"]


def test_firestore_backups_and_exports(campus: SynthResult) -> None:
    database = inputs(campus, "gcp:firestore/database:Database", "lightoncampus-data-firestore")
    assert database["pointInTimeRecoveryEnablement"] == "POINT_IN_TIME_RECOVERY_ENABLED"
    assert database["deleteProtectionState"] == "DELETE_PROTECTION_ENABLED"
    assert database["locationId"] == "nam5"
    assert "/locations/us/keyRings/" in database["cmekConfig"]["kmsKeyName"]
    schedules = of_type(campus, "gcp:firestore/backupSchedule:BackupSchedule")
    assert schedules["lightoncampus-data-firestore-daily"]["inputs"]["retention"] == "604800s"
    weekly = schedules["lightoncampus-data-firestore-weekly"]["inputs"]
    assert weekly["retention"] == f"{4 * 7 * 86400}s"
    assert weekly["weeklyRecurrence"] == {"day": "SUNDAY"}
    jobs = of_type(campus, "gcp:cloudscheduler/job:Job")
    assert {n: j["inputs"]["schedule"] for n, j in jobs.items()} == {
        "lightoncampus-data-firestore-monthly": "0 3 1 * *",
        "lightoncampus-data-firestore-yearly": "0 3 1 1 *",
    }
    monthly = jobs["lightoncampus-data-firestore-monthly"]["inputs"]["httpTarget"]
    assert monthly["uri"].endswith("/databases/(default):exportDocuments")
    # A bare bucket: Firestore writes each export under a new timestamped prefix (a path
    # would be overwritten by the next month's export).
    assert json.loads(base64.b64decode(monthly["body"])) == {
        "outputUriPrefix": "gs://lightoncampus-firestore-monthly-lightoncampus-prod"
    }
    buckets = of_type(campus, "gcp:storage/bucket:Bucket")
    expiry = {
        name.removeprefix("lightoncampus-data-firestore-"): [
            r["condition"]["age"] for r in b["inputs"]["lifecycleRules"] if "age" in r["condition"]
        ]
        for name, b in buckets.items()
        if name.startswith("lightoncampus-data-firestore-")
    }
    # Monthly copies kept 12 months, yearly 3 years.
    assert expiry == {"monthly": [12 * 31], "yearly": [3 * 366]}


def test_buckets_keys_and_logs(campus: SynthResult) -> None:
    uploads = inputs(campus, "gcp:storage/bucket:Bucket", "lightoncampus-data-user-uploads")
    assert (uploads["location"], uploads["rpo"]) == ("NAM4", "ASYNC_TURBO")
    assert "/locations/nam4/" in uploads["encryption"]["defaultKmsKeyName"]
    assert uploads["lifecycleRules"][0]["condition"] == {"daysSinceNoncurrentTime": 30}
    assert uploads["publicAccessPrevention"] == "enforced"
    keys = of_type(campus, "gcp:kms/cryptoKey:CryptoKey")
    assert {k["inputs"]["rotationPeriod"] for k in keys.values()} == {"7776000s"}
    members = {
        m["inputs"]["member"]
        for m in of_type(campus, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").values()
    }
    assert members == {
        "serviceAccount:service-401234567890@gs-project-accounts.iam.gserviceaccount.com",
        "serviceAccount:service-401234567890@gcp-sa-firestore.iam.gserviceaccount.com",
    }
    # Encrypting with a key waits for the service agent's grant on it.
    grants = {
        r["urn"] for r in of_type(campus, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").values()
    }
    for typ in ("gcp:storage/bucket:Bucket", "gcp:firestore/database:Database"):
        for resource in of_type(campus, typ).values():
            assert grants <= set(resource["options"]["depends_on"]), resource["name"]
    logs = of_type(campus, "gcp:logging/projectBucketConfig:ProjectBucketConfig")
    assert {r["inputs"]["bucketId"]: r["inputs"]["retentionDays"] for r in logs.values()} == {
        "lightoncampus-application-logs": 14,
        "lightoncampus-audit-logs": 365,
    }
    protected = [
        r["name"]
        for typ in ("gcp:storage/bucket:Bucket", "gcp:kms/cryptoKey:CryptoKey")
        for r in of_type(campus, typ).values()
        if not r["options"]["protect"]
    ]
    assert protected == []
    apis = {
        r["inputs"]["service"] for r in of_type(campus, "gcp:projects/service:Service").values()
    }
    assert {"monitoring.googleapis.com", "firestore.googleapis.com"} <= apis


def _variant(tmp_path: Path, edit: Any) -> Path:
    document = yaml.safe_load(EXAMPLE.read_text())
    edit(document["config"])
    path = tmp_path / "Pulumi.campus.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda c: c["resilience:escalation"]["critical"].append(
                {"kind": "slack", "endpoint": "https://hooks.slack.com/services/T/B/x"}
            ),
            "Pulumi.campus.yaml: resilience:escalation: critical: Cloud Monitoring cannot post "
            "to a Slack incoming webhook",
        ),
        (
            lambda c: c["resilience:gcp"].update(region="us-centrall1"),
            "Pulumi.campus.yaml: resilience:gcp.region: unknown Google Cloud region 'us-centrall1'",
        ),
        (
            lambda c: c["resilience:gcp"].pop("project_number"),
            "Pulumi.campus.yaml: resilience:gcp.project_number: required key is missing",
        ),
        (
            lambda c: c.update({"resilience:platform": "azure"}),
            "Pulumi.campus.yaml: resilience:platform: must be aws (the default) or gcp, got "
            "'azure'",
        ),
        (
            lambda c: c["resilience:services"][0]["slo"].update(availability=99.99),
            "Pulumi.campus.yaml: resilience:services[0].slo: availability 99.99: Cloud "
            "Monitoring SLO goals go up to 99.9 %",
        ),
        (
            lambda c: c["resilience:services"][0]["slo"].update(window_days=60),
            "Pulumi.campus.yaml: resilience:services[0].slo: window_days 60: Cloud Monitoring "
            "rolling windows are 1 to 30 days",
        ),
        (
            lambda c: c["resilience:firestore"]["backups"].update(weekly_weeks=20),
            "Pulumi.campus.yaml: resilience:firestore.backups.weekly_weeks: must be less than "
            "or equal to 14",
        ),
    ],
)
def test_bad_config_names_file_key_and_reason(tmp_path: Path, edit: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_file(_variant(tmp_path, edit))
    assert any(str(p).startswith(expected) for p in info.value.problems), str(info.value)


# -- rules --------------------------------------------------------------------------------

BUCKET_OK = {
    "encryption": {"defaultKmsKeyName": "projects/p/locations/nam4/keyRings/r/cryptoKeys/k"},
    "publicAccessPrevention": "enforced",
    "uniformBucketLevelAccess": True,
    "versioning": {"enabled": True},
}
ALERT_OK = {
    "notificationChannels": ["projects/p/notificationChannels/1"],
    "documentation": {"content": "x\n\nRunbook: https://runbooks/x"},
}
FIRESTORE_OK = {
    "pointInTimeRecoveryEnablement": "POINT_IN_TIME_RECOVERY_ENABLED",
    "deleteProtectionState": "DELETE_PROTECTION_ENABLED",
}
GCP_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    (
        "gcp-storage-bucket-cmek",
        "gcp:storage/bucket:Bucket",
        BUCKET_OK,
        {"encryption": None},
        "r: objects are encrypted with Google-managed keys, not a CMEK",
    ),
    (
        "gcp-storage-bucket-public-access-prevented",
        "gcp:storage/bucket:Bucket",
        BUCKET_OK,
        {"publicAccessPrevention": "inherited"},
        "r: public access prevention is not enforced",
    ),
    (
        "gcp-storage-bucket-public-access-prevented",
        "gcp:storage/bucket:Bucket",
        BUCKET_OK,
        {"uniformBucketLevelAccess": False},
        "r: object ACLs are on (uniform bucket-level access is off)",
    ),
    (
        "gcp-storage-bucket-versioning-enabled",
        "gcp:storage/bucket:Bucket",
        BUCKET_OK,
        {"versioning": {"enabled": False}},
        "r: versioning is off: an overwrite or delete loses the object",
    ),
    (
        "gcp-firestore-pitr-and-delete-protection",
        "gcp:firestore/database:Database",
        FIRESTORE_OK,
        {"pointInTimeRecoveryEnablement": "POINT_IN_TIME_RECOVERY_DISABLED"},
        "r: point-in-time recovery is off",
    ),
    (
        "gcp-firestore-pitr-and-delete-protection",
        "gcp:firestore/database:Database",
        FIRESTORE_OK,
        {"deleteProtectionState": "DELETE_PROTECTION_DISABLED"},
        "r: delete protection is off",
    ),
    (
        "gcp-kms-key-rotation-90-days",
        "gcp:kms/cryptoKey:CryptoKey",
        {"rotationPeriod": "7776000s"},
        {"rotationPeriod": "31536000s"},
        "r: rotation period 31536000s; rotate at least every 90 days",
    ),
    (
        "gcp-monitoring-alert-policy-notifies-with-runbook",
        "gcp:monitoring/alertPolicy:AlertPolicy",
        ALERT_OK,
        {"notificationChannels": []},
        "r: notifies no one (no notification channels)",
    ),
    (
        "gcp-monitoring-alert-policy-notifies-with-runbook",
        "gcp:monitoring/alertPolicy:AlertPolicy",
        ALERT_OK,
        {"documentation": {"content": "no link"}},
        "r: its documentation names no runbook",
    ),
    (
        "gcp-logging-bucket-retention",
        "gcp:logging/projectBucketConfig:ProjectBucketConfig",
        {"bucketId": "sys-audit-logs", "retentionDays": 365},
        {"retentionDays": 90},
        "r: audit logs kept 90 days; keep them a year",
    ),
    (
        "gcp-logging-bucket-retention",
        "gcp:logging/projectBucketConfig:ProjectBucketConfig",
        {"bucketId": "sys-application-logs", "retentionDays": 14},
        {"retentionDays": None},
        "r: no explicit retention (the default keeps logs 30 days)",
    ),
]


def gcp_view(typ: str, props: dict[str, Any], *, protect: bool = True) -> ResourceView:
    return ResourceView(
        type=typ,
        name="r",
        urn=f"urn:pulumi:s::p::{typ}::r",
        props=props,
        protect=protect,
        provider_urn="urn:pulumi:s::p::pulumi:providers:gcp::campus-gcp::id",
        region="us-central1",
    )


@pytest.mark.parametrize(
    ("rule_id", "typ", "good", "bad", "message"),
    GCP_CASES,
    ids=[f"{c[0]}:{next(iter(c[3]))}" for c in GCP_CASES],
)
def test_gcp_rules(
    rule_id: str, typ: str, good: dict[str, Any], bad: dict[str, Any], message: str
) -> None:
    rule = RULES[rule_id]
    assert rule.applies_to(typ)
    assert list(rule.check(gcp_view(typ, good))) == []
    broken = {k: v for k, v in {**good, **bad}.items() if v is not None}
    assert list(rule.check(gcp_view(typ, broken))) == [message]


def test_unprotected_gcp_state_is_flagged() -> None:
    rule = RULES["gcp-stateful-resource-protected"]
    bucket = gcp_view("gcp:storage/bucket:Bucket", copy.deepcopy(BUCKET_OK), protect=False)
    assert list(rule.check(bucket)) == [
        "r holds state but is not protected: `pulumi destroy` would delete it"
    ]


def test_a_webhook_url_is_kept_secret(tmp_path: Path) -> None:
    def webhook(config: dict[str, Any]) -> None:
        config["resilience:escalation"]["warning"].append(
            {"kind": "https", "endpoint": "https://relay.example.com/hook?token=abc"}
        )

    (result,) = synth_all([load_file(_variant(tmp_path, webhook))])
    channels = of_type(result, "gcp:monitoring/notificationChannel:NotificationChannel")
    (hook,) = [c for c in channels.values() if c["inputs"]["type"] == "webhook_tokenauth"]
    assert hook["inputs"]["labels"]["url"] == "[secret]"
    assert "token=abc" not in json.dumps(result.graph)


def test_the_pack_sees_what_the_offline_run_sees(campus: SynthResult) -> None:
    """The GCP rules fed proxied props, as the engine feeds a policy pack: no finding, as
    offline (nested blocks are Mappings there, not dicts)."""
    assert pack_violations(campus.graph) == []


def test_every_gcp_rule_has_a_failing_case() -> None:
    covered = {c[0] for c in GCP_CASES} | {"gcp-stateful-resource-protected"}
    assert covered == {r for r in RULES if r.startswith("gcp-")}
