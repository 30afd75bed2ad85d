"""Rules for Google Cloud resources: CMEK and public-access prevention on buckets, versions
kept, Firestore recoverable, keys rotated, alert policies that reach someone with a runbook,
log retention, stateful resources protected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.rules.core import Framework, ResourceView, Rule, Severity, opaque

BUCKET = "gcp:storage/bucket:Bucket"
FIRESTORE = "gcp:firestore/database:Database"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_RING = "gcp:kms/keyRing:KeyRing"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
LOG_BUCKET = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
STATEFUL = (BUCKET, FIRESTORE, CRYPTO_KEY, KEY_RING, LOG_BUCKET)
MAX_ROTATION_SECONDS = 90 * 86_400  # CIS GCP 1.10
AUDIT_RETENTION_DAYS = 365  # PCI DSS 10.5.1: a year of audit history


def _block(value: Any) -> dict[str, Any]:
    """A nested block: a mapping, or the first element of a one-element list."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _block_field(value: Any, key: str) -> Any:
    """A field of a nested block; the opaque value where the block itself is opaque."""
    if isinstance(value, list) and value and opaque(value[0]):
        return value[0]
    return value if opaque(value) else _block(value).get(key)


def _bucket_cmek(resource: ResourceView) -> Iterator[str]:
    if not _block_field(resource.props.get("encryption"), "defaultKmsKeyName"):
        yield f"{resource.name}: objects are encrypted with Google-managed keys, not a CMEK"


def _bucket_public(resource: ResourceView) -> Iterator[str]:
    prevention = resource.props.get("publicAccessPrevention")
    if not opaque(prevention) and prevention != "enforced":
        yield f"{resource.name}: public access prevention is not enforced"
    uniform = resource.props.get("uniformBucketLevelAccess")
    if not opaque(uniform) and uniform is not True:
        yield f"{resource.name}: object ACLs are on (uniform bucket-level access is off)"


def _bucket_versioning(resource: ResourceView) -> Iterator[str]:
    enabled = _block_field(resource.props.get("versioning"), "enabled")
    if not opaque(enabled) and enabled is not True:
        yield f"{resource.name}: versioning is off: an overwrite or delete loses the object"


def _firestore_recovery(resource: ResourceView) -> Iterator[str]:
    props = resource.props
    pitr = props.get("pointInTimeRecoveryEnablement")
    if not opaque(pitr) and pitr != "POINT_IN_TIME_RECOVERY_ENABLED":
        yield f"{resource.name}: point-in-time recovery is off"
    protection = props.get("deleteProtectionState")
    if not opaque(protection) and protection != "DELETE_PROTECTION_ENABLED":
        yield f"{resource.name}: delete protection is off"


def _seconds(value: Any) -> int | None:
    if isinstance(value, str) and value.endswith("s"):
        try:
            return int(float(value[:-1]))
        except ValueError:
            return None
    return None


def _key_rotation(resource: ResourceView) -> Iterator[str]:
    if opaque(resource.props.get("rotationPeriod")):
        return
    period = _seconds(resource.props.get("rotationPeriod"))
    if period is None or period > MAX_ROTATION_SECONDS:
        shown = resource.props.get("rotationPeriod") or "none"
        yield f"{resource.name}: rotation period {shown}; rotate at least every 90 days"


def _alert_policy(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("enabled") is False:
        return
    if not resource.props.get("notificationChannels"):
        yield f"{resource.name}: notifies no one (no notification channels)"
    content = _block_field(resource.props.get("documentation"), "content")
    if not opaque(content) and "Runbook: https://" not in str(content or ""):
        yield f"{resource.name}: its documentation names no runbook"


def _log_retention(resource: ResourceView) -> Iterator[str]:
    days = resource.props.get("retentionDays")
    if opaque(days):
        return
    if not isinstance(days, int) or days < 1:
        yield f"{resource.name}: no explicit retention (the default keeps logs 30 days)"
        return
    bucket = resource.props.get("bucketId", "")
    if not opaque(bucket) and "audit" in str(bucket) and days < AUDIT_RETENTION_DAYS:
        yield f"{resource.name}: audit logs kept {days} days; keep them a year"


def _protected(resource: ResourceView) -> Iterator[str]:
    if not resource.protect:
        yield f"{resource.name} holds state but is not protected: `pulumi destroy` would delete it"


RULES: tuple[Rule, ...] = (
    Rule(
        id="gcp-storage-bucket-cmek",
        description="Cloud Storage buckets encrypt with a customer-managed Cloud KMS key.",
        severity=Severity.HIGH,
        remediation="Set encryption.default_kms_key_name (components/gcp/data.py does).",
        url="https://cloud.google.com/storage/docs/encryption/customer-managed-keys",
        check=_bucket_cmek,
        resource_types=(BUCKET,),
        frameworks=(
            Framework("PCI DSS 4.0", "3.5.1"),
            Framework("ISO 27001", "A.8.24"),
            Framework("GDPR", "Art. 32(1)(a)"),
        ),
    ),
    Rule(
        id="gcp-storage-bucket-public-access-prevented",
        description="Buckets enforce public access prevention and uniform bucket-level access.",
        severity=Severity.CRITICAL,
        remediation="Set public_access_prevention='enforced' and uniform_bucket_level_access.",
        url="https://cloud.google.com/storage/docs/public-access-prevention",
        check=_bucket_public,
        resource_types=(BUCKET,),
        frameworks=(
            Framework("CIS GCP 2.0", "5.1"),
            Framework("CIS GCP 2.0", "5.2"),
            Framework("PCI DSS 4.0", "1.4.4"),
            Framework("GDPR", "Art. 32(1)(b)"),
        ),
    ),
    Rule(
        id="gcp-storage-bucket-versioning-enabled",
        description="Buckets keep object versions, so an overwrite or delete can be undone.",
        severity=Severity.MEDIUM,
        remediation="Set versioning.enabled (and a lifecycle for noncurrent versions).",
        url="https://cloud.google.com/storage/docs/object-versioning",
        check=_bucket_versioning,
        resource_types=(BUCKET,),
        frameworks=(Framework("SOC 2", "A1.2"), Framework("ISO 27001", "A.8.13")),
    ),
    Rule(
        id="gcp-firestore-pitr-and-delete-protection",
        description="Firestore databases keep point-in-time recovery and delete protection on.",
        severity=Severity.HIGH,
        remediation="Set point_in_time_recovery_enablement and delete_protection_state.",
        url="https://firebase.google.com/docs/firestore/pitr",
        check=_firestore_recovery,
        resource_types=(FIRESTORE,),
        frameworks=(
            Framework("SOC 2", "A1.2"),
            Framework("ISO 27001", "A.8.13"),
            Framework("GDPR", "Art. 32(1)(c)"),
        ),
    ),
    Rule(
        id="gcp-kms-key-rotation-90-days",
        description="Cloud KMS keys rotate at least every 90 days.",
        severity=Severity.MEDIUM,
        remediation="Set rotation_period to 7776000s or less.",
        url="https://cloud.google.com/kms/docs/key-rotation",
        check=_key_rotation,
        resource_types=(CRYPTO_KEY,),
        frameworks=(
            Framework("CIS GCP 2.0", "1.10"),
            Framework("PCI DSS 4.0", "3.7.4"),
            Framework("ISO 27001", "A.8.24"),
        ),
    ),
    Rule(
        id="gcp-monitoring-alert-policy-notifies-with-runbook",
        description="Every enabled alert policy has notification channels and names its runbook.",
        severity=Severity.MEDIUM,
        remediation="Give the policy the severity's channels and documentation with "
        "'Runbook: https://...' (components/gcp/monitoring.py does).",
        url="https://cloud.google.com/monitoring/alerts/doc-variables",
        check=_alert_policy,
        resource_types=(ALERT_POLICY,),
        frameworks=(Framework("SOC 2", "CC7.2"), Framework("ISO 27001", "A.5.26")),
    ),
    Rule(
        id="gcp-logging-bucket-retention",
        description="Log buckets state their retention; audit log buckets keep a year.",
        severity=Severity.MEDIUM,
        remediation="Set retention_days (logs.application_retention_days / audit_retention_days).",
        url="https://cloud.google.com/logging/docs/buckets#custom-retention",
        check=_log_retention,
        resource_types=(LOG_BUCKET,),
        frameworks=(Framework("PCI DSS 4.0", "10.5.1"), Framework("GDPR", "Art. 5(1)(e)")),
    ),
    Rule(
        id="gcp-stateful-resource-protected",
        description="Buckets, Firestore databases, keys, key rings and log buckets are "
        "protected from `pulumi destroy`.",
        severity=Severity.HIGH,
        remediation="Create them with ResourceOptions(protect=True).",
        url="https://www.pulumi.com/docs/iac/concepts/options/protect/",
        check=_protected,
        resource_types=STATEFUL,
        frameworks=(Framework("SOC 2", "A1.2"), Framework("ISO 27001", "A.8.13")),
    ),
)
