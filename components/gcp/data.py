"""Data protection on Google Cloud: Firestore with point-in-time recovery and backups per the
seed's retention, dual-region buckets with CMEK, and log buckets with retention.

- Firestore (Light on Campus firestore_database, L1274-1285): PITR (7 days of versions),
  delete protection, CMEK; Firestore's own backup schedules for the daily (7 days) and
  weekly (4 weeks) copies; monthly (12) and yearly (3) copies as managed exports, started
  by Cloud Scheduler under a service account that may only export, each period into its own
  bucket (every export under a new timestamped prefix) whose lifecycle deletes exports after
  that period's retention (Firestore's own backups are kept 14 weeks at most).
- Buckets: dual-region (two regions, one bucket) with turbo replication (15-minute RPO
  between them), CMEK, versioning with noncurrent versions kept `noncurrent_days` (user
  uploads: 30), soft delete, public access prevented, uniform access, protected.
- Logs: a log bucket per class with its retention (application logs 14 days, L1313-1322;
  audit logs a year) and a sink routing into each.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.gcp import child_options
from model.gcp import FirestoreConfig, GcpBucket, GcpLogs

COMPONENT_TYPE = "resilience:gcp:DataProtection"
DAY = 86_400
EXPORT_ROLE = "roles/datastore.importExportAdmin"
# Cron (UTC) of the managed exports: 03:00 on the 1st of each month / of January.
EXPORT_SCHEDULES = {"monthly": "0 3 1 * *", "yearly": "0 3 1 1 *"}


@dataclass(frozen=True)
class GcpDataArgs:
    system: str
    project: str
    region: str  # Cloud Scheduler's region
    dual_region: str
    firestore_location: str
    firestore: FirestoreConfig | None
    buckets: Sequence[GcpBucket]
    logs: GcpLogs
    # Cloud KMS location -> key id
    keys: Mapping[str, pulumi.Input[str]]
    firestore_key_location: str
    provider: gcp.Provider
    # Resources to wait for (the project's APIs being enabled).
    depends_on: Sequence[pulumi.Resource] = ()


def bucket_name(system: str, bucket: str, project: str) -> str:
    """Bucket names are global: the system, the bucket and the project make it unique."""
    return f"{system}-{bucket}-{project}"[:63]


def _export_body(bucket: str) -> str:
    """The exportDocuments request (base64, as Cloud Scheduler sends bodies). A bare bucket
    makes Firestore write each export under a new timestamped prefix; a path would be
    overwritten by the next export."""
    document = {"outputUriPrefix": f"gs://{bucket}"}
    return base64.b64encode(json.dumps(document).encode()).decode()


def export_retention_days(firestore: FirestoreConfig) -> dict[str, int]:
    """Days each managed export period is kept (a month counted as 31 days, a year 366)."""
    backups = firestore.backups
    keep = {"monthly": backups.monthly_months * 31, "yearly": backups.yearly_years * 366}
    return {period: days for period, days in keep.items() if days}


class GcpDataProtection(pulumi.ComponentResource):
    buckets: dict[str, gcp.storage.Bucket]
    database: gcp.firestore.Database | None

    def __init__(
        self, name: str, args: GcpDataArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.args = args
        self.name = name
        self.buckets = {}
        for spec in args.buckets:
            self.buckets[spec.name] = self._bucket(spec.name, spec)
        self.database = None
        if args.firestore is not None:
            # One bucket per export period, each deleting its exports after that period's
            # retention (monthly copies 12 months, yearly 3 years).
            exports = {
                period: self._bucket(
                    f"firestore-{period}",
                    GcpBucket(name=f"firestore-{period}", turbo_replication=False),
                    lifecycle=[{"action": {"type": "Delete"}, "condition": {"age": days}}],
                )
                for period, days in export_retention_days(args.firestore).items()
            }
            self.buckets.update({f"firestore-{p}": b for p, b in exports.items()})
            self.database = self._firestore(args.firestore, exports)
        self._logs(args.logs)
        self.register_outputs(
            {
                "buckets": {n: b.name for n, b in self.buckets.items()},
                "database": self.database.name if self.database else None,
            }
        )

    def _opts(self, **extra: Any) -> pulumi.ResourceOptions:
        return child_options(self, self.args.provider, self.args.depends_on, **extra)

    def _bucket(
        self,
        key: str,
        spec: GcpBucket,
        *,
        lifecycle: Sequence[Any] = (),
    ) -> gcp.storage.Bucket:
        args = self.args
        return gcp.storage.Bucket(
            f"{self.name}-{key}",
            name=bucket_name(args.system, key, args.project),
            location=args.dual_region.upper(),
            rpo="ASYNC_TURBO" if spec.turbo_replication else "DEFAULT",
            storage_class="STANDARD",
            encryption={"default_kms_key_name": args.keys[args.dual_region]},
            versioning={"enabled": True},
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            soft_delete_policy={"retention_duration_seconds": spec.soft_delete_days * DAY},
            lifecycle_rules=[
                {
                    "action": {"type": "Delete"},
                    "condition": {"days_since_noncurrent_time": spec.noncurrent_days},
                },
                *lifecycle,
            ],
            force_destroy=False,
            project=args.project,
            opts=self._opts(protect=True),
        )

    def _firestore(
        self, spec: FirestoreConfig, exports: Mapping[str, gcp.storage.Bucket]
    ) -> gcp.firestore.Database:
        args = self.args
        database = gcp.firestore.Database(
            f"{self.name}-firestore",
            name=spec.database,
            location_id=args.firestore_location,
            type="FIRESTORE_NATIVE",
            point_in_time_recovery_enablement=(
                "POINT_IN_TIME_RECOVERY_ENABLED"
                if spec.point_in_time_recovery
                else "POINT_IN_TIME_RECOVERY_DISABLED"
            ),
            delete_protection_state="DELETE_PROTECTION_ENABLED",
            deletion_policy="ABANDON",
            cmek_config={"kms_key_name": args.keys[args.firestore_key_location]},
            project=args.project,
            opts=self._opts(protect=True),
        )
        schedule = spec.backups
        gcp.firestore.BackupSchedule(
            f"{self.name}-firestore-daily",
            database=spec.database,
            daily_recurrence={},
            retention=f"{schedule.daily_days * DAY}s",
            project=args.project,
            opts=self._opts(depends_on=[database]),
        )
        if schedule.weekly_weeks:
            gcp.firestore.BackupSchedule(
                f"{self.name}-firestore-weekly",
                database=spec.database,
                weekly_recurrence={"day": "SUNDAY"},
                retention=f"{schedule.weekly_weeks * 7 * DAY}s",
                project=args.project,
                opts=self._opts(depends_on=[database]),
            )
        if exports:
            self._exports(spec, database, exports)
        return database

    def _exports(
        self,
        spec: FirestoreConfig,
        database: gcp.firestore.Database,
        exports: Mapping[str, gcp.storage.Bucket],
    ) -> None:
        args = self.args
        account = gcp.serviceaccount.Account(
            f"{self.name}-exporter",
            account_id=f"{args.system}-fs-export"[:30],
            display_name=f"{args.system} Firestore exports (Cloud Scheduler)",
            project=args.project,
            opts=self._opts(),
        )
        gcp.projects.IAMMember(
            f"{self.name}-exporter-role",
            project=args.project,
            role=EXPORT_ROLE,
            member=account.member,
            opts=self._opts(),
        )
        for period, bucket in exports.items():
            gcp.storage.BucketIAMMember(
                f"{self.name}-exporter-writes-{period}",
                bucket=bucket.name,
                role="roles/storage.objectAdmin",
                member=account.member,
                opts=self._opts(),
            )
        uri = (
            f"https://firestore.googleapis.com/v1/projects/{args.project}/databases/"
            f"{spec.database}:exportDocuments"
        )
        for period, bucket in exports.items():
            body = bucket.name.apply(_export_body)
            gcp.cloudscheduler.Job(
                f"{self.name}-firestore-{period}",
                name=f"{args.system}-firestore-{period}-export",
                description=f"{period} managed export of Firestore {spec.database}",
                schedule=EXPORT_SCHEDULES[period],
                time_zone="Etc/UTC",
                region=args.region,
                attempt_deadline="320s",
                retry_config={"retry_count": 3, "min_backoff_duration": "300s"},
                http_target={
                    "http_method": "POST",
                    "uri": uri,
                    "body": body,
                    "headers": {"Content-Type": "application/json"},
                    "oauth_token": {
                        "service_account_email": account.email,
                        "scope": "https://www.googleapis.com/auth/cloud-platform",
                    },
                },
                project=args.project,
                opts=self._opts(depends_on=[database]),
            )

    def _logs(self, logs: GcpLogs) -> None:
        args = self.args
        for bucket_id, days, log_filter in (
            (
                "application-logs",
                logs.application_retention_days,
                'resource.type="cloud_run_revision"',
            ),
            ("audit-logs", logs.audit_retention_days, 'logName:"cloudaudit.googleapis.com"'),
        ):
            bucket = gcp.logging.ProjectBucketConfig(
                f"{self.name}-{bucket_id}",
                bucket_id=f"{args.system}-{bucket_id}",
                location="global",
                retention_days=days,
                description=f"{args.system} {bucket_id.replace('-', ' ')}, kept {days} days",
                project=args.project,
                opts=self._opts(protect=True),
            )
            gcp.logging.ProjectSink(
                f"{self.name}-{bucket_id}-sink",
                name=f"{args.system}-{bucket_id}",
                destination=(
                    f"logging.googleapis.com/projects/{args.project}/locations/global/buckets/"
                    f"{args.system}-{bucket_id}"
                ),
                filter=log_filter,
                unique_writer_identity=True,
                project=args.project,
                opts=self._opts(depends_on=[bucket]),
            )
