"""Typed config of a Google Cloud stack (`resilience:platform: gcp`).

Light on Campus runs on Firebase (Firestore, Cloud Storage, Cloud Run behind Firebase App
Hosting) with one SLO table for all its services; this is the same service description as
the AWS stacks (services with SLOs, escalation per severity, data classes with retention)
compiled into Cloud Monitoring, Firestore and Cloud Storage. A GCP stack is one stack: its
data is multi-regional by construction (Firestore `nam5`, dual-region buckets with turbo
replication), so there is no separate dr stack.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from model.config import ContactKind, Escalation, Slo, Slug, Strict
from model.enums import Role

# Cloud Run / Cloud Scheduler regions the bundle accepts (a typo is an error, not a deploy
# that fails half-way).
GCP_REGIONS = frozenset(
    {
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "southamerica-east1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-north1",
        "europe-central2",
        "europe-southwest1",
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "me-west1",
    }
)
# Predefined dual-regions of Cloud Storage (turbo replication needs a dual-region) and the
# Cloud KMS location a CMEK for them must live in (the same dual-region).
DUAL_REGIONS = {"nam4": "nam4", "eur4": "eur4", "asia1": "asia1"}
# Firestore multi-region locations and the Cloud KMS multi-region their CMEK must be in.
FIRESTORE_LOCATIONS = {"nam5": "us", "eur3": "europe"}

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


def _gcp_region(value: str) -> str:
    if value not in GCP_REGIONS:
        raise ValueError(f"unknown Google Cloud region '{value}'")
    return value


def _project(value: str) -> str:
    if not _PROJECT.match(value):
        raise ValueError(
            f"'{value}' is not a project id (6-30 lowercase letters, digits and '-', starting "
            "with a letter)"
        )
    return value


GcpRegion = Annotated[str, AfterValidator(_gcp_region)]
# Google Cloud labels: lowercase letters, digits, '_' and '-', keys starting with a letter.
LabelKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")]
LabelValue = Annotated[str, Field(pattern=r"^[a-z0-9_-]{0,63}$")]
UptimeRegion = Literal["USA", "EUROPE", "SOUTH_AMERICA", "ASIA_PACIFIC"]
DEFAULT_UPTIME_REGIONS: tuple[UptimeRegion, ...] = ("USA", "EUROPE", "ASIA_PACIFIC")
ProjectId = Annotated[str, AfterValidator(_project)]


class GcpProject(Strict):
    project: ProjectId
    # The project number names the Google service agents (Cloud Storage, Firestore) that
    # must be allowed to use the CMEKs; `gcloud projects describe <project>` prints it.
    project_number: str = Field(pattern=r"^[0-9]{6,20}$")
    region: GcpRegion = "us-central1"
    # Where the dual-region buckets (and their key) live.
    dual_region: Literal["nam4", "eur4", "asia1"] = "nam4"
    firestore_location: Literal["nam5", "eur3"] = "nam5"
    # Checker regions of the uptime checks (Cloud Monitoring needs three checker locations;
    # USA alone has three).
    uptime_regions: list[UptimeRegion] = Field(
        default_factory=lambda: list(DEFAULT_UPTIME_REGIONS), min_length=1
    )


class CloudRunSource(Strict):
    """Where a service's SLIs come from: its Cloud Run service (Firebase App Hosting runs
    Next.js on Cloud Run)."""

    service: str = Field(pattern=r"^[a-z][a-z0-9-]{0,48}[a-z0-9]$")
    region: GcpRegion | None = None  # default: the project's region


class UptimeCheck(Strict):
    host: str = Field(pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")
    path: str = Field(default="/api/health", pattern=r"^/\S*$")
    period_seconds: Literal[60, 300, 600, 900] = 60
    timeout_seconds: int = Field(default=10, ge=1, le=60)


class LogAlert(Strict):
    """An alert on a log-based metric: the seed rules that watch what only the application
    logs (AI service failures, database connection errors)."""

    name: Slug
    summary: str = Field(min_length=1)
    severity: Literal["critical", "error", "warning", "info"]
    filter: str = Field(min_length=1)  # Cloud Logging query of the bad events
    total_filter: str | None = None  # with it, the alert is on a ratio (bad / total)
    threshold: float = Field(gt=0)
    duration_seconds: int = Field(ge=60, le=86_400)
    source: str = ""


class GcpService(Strict):
    name: Slug
    description: str | None = None
    slo: Slo
    runbook_url: str = Field(pattern=r"^https://\S+$")
    cloud_run: CloudRunSource
    uptime_check: UptimeCheck | None = None
    log_alerts: list[LogAlert] = Field(default_factory=list)
    # The seeds' request alerts (Light on Campus L221-247): error rate above 5 % for 5
    # minutes pages; p95 above 2 s for 10 minutes warns.
    error_rate_threshold: float = Field(default=0.05, gt=0, lt=1)
    slow_p95_ms: int | None = Field(default=2000, gt=0)

    @field_validator("slo")
    @classmethod
    def _cloud_monitoring_limits(cls, slo: Slo) -> Slo:
        """What Cloud Monitoring accepts: goals up to 0.999, rolling windows up to 30 days,
        one latency objective (the p95)."""
        if slo.availability > 99.9:
            raise ValueError(
                f"availability {slo.availability}: Cloud Monitoring SLO goals go up to 99.9 %"
            )
        if slo.window_days > 30:
            raise ValueError(
                f"window_days {slo.window_days}: Cloud Monitoring rolling windows are 1 to 30 days"
            )
        if slo.latency_p99_ms is not None:
            raise ValueError("latency_p99_ms: a Google Cloud stack compiles one latency SLO, p95")
        return slo


class FirestoreBackups(Strict):
    """Light on Campus firestore_database (L1274-1285): daily, kept 7 days; weekly 4; monthly
    12; yearly 3. Firestore's own schedules keep up to 14 weeks (daily and weekly); monthly
    and yearly copies are managed exports to the backup bucket."""

    daily_days: int = Field(default=7, ge=1, le=98)
    weekly_weeks: int = Field(default=4, ge=0, le=14)
    monthly_months: int = Field(default=12, ge=0, le=120)
    yearly_years: int = Field(default=3, ge=0, le=30)


class FirestoreConfig(Strict):
    database: str = Field(default="(default)", pattern=r"^(\(default\)|[a-z][a-z0-9-]{2,62})$")
    point_in_time_recovery: bool = True
    backups: FirestoreBackups = Field(default_factory=FirestoreBackups)


class GcpBucket(Strict):
    """A dual-region Cloud Storage bucket with CMEK. `noncurrent_days` keeps overwritten and
    deleted versions (Light on Campus user_uploads: daily copies kept 30 days)."""

    name: Slug
    turbo_replication: bool = True  # RPO 15 minutes between the two regions
    noncurrent_days: int = Field(default=30, ge=1, le=3_650)
    soft_delete_days: int = Field(default=7, ge=7, le=90)


class GcpLogs(Strict):
    # Light on Campus application_logs: daily, 14 days (L1313-1322); audit evidence a year.
    application_retention_days: int = Field(default=14, ge=1, le=3_650)
    audit_retention_days: int = Field(default=365, ge=1, le=3_650)


class GcpStackConfig(Strict):
    platform: Literal["gcp"]
    include: list[str] = Field(default_factory=list)
    name: Slug
    environment: Slug = "production"
    role: Literal[Role.PRIMARY] = Role.PRIMARY
    gcp: GcpProject
    escalation: Escalation
    services: list[GcpService] = Field(min_length=1)
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    firestore: FirestoreConfig | None = None
    buckets: list[GcpBucket] = Field(default_factory=list)
    logs: GcpLogs = Field(default_factory=GcpLogs)

    @property
    def region(self) -> str:
        return self.gcp.region

    @property
    def primary_stack(self) -> None:
        return None

    @field_validator("escalation")
    @classmethod
    def _no_slack_webhooks(cls, escalation: Escalation) -> Escalation:
        for severity in ("critical", "error", "warning", "info"):
            for contact in getattr(escalation, severity):
                if contact.kind == ContactKind.SLACK:
                    raise ValueError(
                        f"{severity}: Cloud Monitoring cannot post to a Slack incoming webhook; "
                        "connect Slack as a notification channel in the console (it needs "
                        "Slack's OAuth) or use kind https with a relay"
                    )
        return escalation

    @model_validator(mode="after")
    def _unique_names(self) -> GcpStackConfig:
        for what, names in (
            ("services", [s.name for s in self.services]),
            ("buckets", [b.name for b in self.buckets]),
        ):
            seen = {n for n in names if names.count(n) > 1}
            if seen:
                raise ValueError(f"{what}: duplicate name(s) {', '.join(sorted(seen))}")
        return self
