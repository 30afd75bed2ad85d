"""Rules for the security and audit baseline: the trail is multi-region, validated, encrypted
and delivered to CloudWatch Logs, its bucket is locked and access-logged; GuardDuty detectors
are on; every stack records its region's configuration with AWS Config (global resources in
the primary only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from model import tags as tag_keys
from policies.rules.core import (
    Framework,
    ResourceView,
    Rule,
    Severity,
    dig,
    holds_opaque,
    opaque,
    statements,
)
from policies.rules.data import _cmk
from policies.rules.stack import StackRule, StackView, Violation

TRAIL = "aws:cloudtrail/trail:Trail"
DETECTOR = "aws:guardduty/detector:Detector"
RECORDER = "aws:cfg/recorder:Recorder"
RECORDER_STATUS = "aws:cfg/recorderStatus:RecorderStatus"
DELIVERY_CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
BUCKET = "aws:s3/bucket:Bucket"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
KEY = "aws:kms/key:Key"
EVENTS = "events.amazonaws.com"
# Amazon SNS Developer Guide, "Enable compatibility between event sources from AWS services and
# encrypted topics", Important: "Adding the aws:SourceAccount, aws:SourceArn, and
# aws:SourceOrgID to a AWS KMS policy is not supported for EventBridge-to-encrypted topics."
EVENTBRIDGE_UNSUPPLIED_KEYS = ("aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid")
# PCI DSS 4.0 10.5.1: audit log history is retained at least 12 months.
MIN_AUDIT_RETENTION_DAYS = 365


def _multi_region(resource: ResourceView) -> Iterator[str]:
    props = resource.props
    multi_region = props.get("isMultiRegionTrail")
    if not opaque(multi_region) and multi_region is not True:
        yield f"{resource.name}: the trail records one region only"
    if props.get("includeGlobalServiceEvents") is False:
        yield f"{resource.name}: the trail leaves out global service events (IAM, STS)"
    if props.get("enableLogging") is False:
        yield f"{resource.name}: logging is stopped"


def _validation(resource: ResourceView) -> Iterator[str]:
    validation = resource.props.get("enableLogFileValidation")
    if not opaque(validation) and validation is not True:
        yield (
            f"{resource.name}: log file validation is off; a changed or deleted log file "
            "would go unnoticed"
        )


def _trail_cmk(resource: ResourceView) -> Iterator[str]:
    if not _cmk(resource.props.get("kmsKeyId")):
        yield f"{resource.name}: log files are not encrypted with a customer-managed KMS key"


def _cloudwatch_logs(resource: ResourceView) -> Iterator[str]:
    props = resource.props
    if not props.get("cloudWatchLogsGroupArn") or not props.get("cloudWatchLogsRoleArn"):
        yield (
            f"{resource.name}: the trail does not deliver to CloudWatch Logs, so no metric "
            "filter or alarm sees its events"
        )


def _detector(resource: ResourceView) -> Iterator[str]:
    if resource.props.get("enable") is False:
        yield f"{resource.name}: the GuardDuty detector is suspended"


def _grants_events(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal")
    service = principal.get("Service") if isinstance(principal, dict) else None
    services = service if isinstance(service, list) else [service]
    return EVENTS in services


def _eventbridge_key_grant(resource: ResourceView) -> Iterator[str]:
    """A key statement for events.amazonaws.com conditioned on a key EventBridge does not
    supply never matches: the rules' publishes into topics under this key fail."""
    for index, statement in enumerate(statements(resource.props.get("policy"))):
        if not _grants_events(statement):
            continue
        condition = statement.get("Condition")
        keys = {
            str(key).lower()
            for block in (condition.values() if isinstance(condition, dict) else ())
            if isinstance(block, dict)
            for key in block
        }
        unsupplied = sorted(k for k in keys if k in EVENTBRIDGE_UNSUPPLIED_KEYS)
        if unsupplied:
            sid = statement.get("Sid", f"#{index}")
            yield (
                f"{resource.name}: key policy statement {sid} grants {EVENTS} only under "
                f"{', '.join(unsupplied)}, which EventBridge does not supply to KMS: rules "
                "publishing to topics encrypted with this key fail"
            )


RULES: tuple[Rule, ...] = (
    Rule(
        id="aws-cloudtrail-multi-region",
        description="Trails record every region, global service events included, and log.",
        severity=Severity.HIGH,
        remediation="Set is_multi_region_trail=True, include_global_service_events=True and "
        "enable_logging=True (components/security_baseline.py does).",
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/receive-cloudtrail-log-files-from-multiple-regions.html",
        check=_multi_region,
        resource_types=(TRAIL,),
        frameworks=(
            Framework("CIS AWS 3.0", "3.1"),
            Framework("AWS FSBP", "CloudTrail.1"),
            Framework("PCI DSS 4.0", "10.2.1"),
            Framework("SOC 2", "CC7.2"),
            Framework("ISO 27001", "A.8.15"),
        ),
    ),
    Rule(
        id="aws-cloudtrail-log-file-validation",
        description="Trails sign their log files (digest files) so that tampering shows.",
        severity=Severity.HIGH,
        remediation="Set enable_log_file_validation=True.",
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html",
        check=_validation,
        resource_types=(TRAIL,),
        frameworks=(
            Framework("CIS AWS 3.0", "3.2"),
            Framework("AWS FSBP", "CloudTrail.4"),
            Framework("PCI DSS 4.0", "10.3.4"),
            Framework("SOC 2", "CC7.2"),
            Framework("ISO 27001", "A.8.15"),
        ),
    ),
    Rule(
        id="aws-cloudtrail-encrypted-with-cmk",
        description="Trails encrypt their log files with a customer-managed KMS key.",
        severity=Severity.MEDIUM,
        remediation="Set kms_key_id to the region's CMK; its key policy must let "
        "cloudtrail.amazonaws.com generate data keys for the trail (aws:SourceArn, "
        "FoundationArgs(cloudtrail=<trail name>)).",
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html",
        check=_trail_cmk,
        resource_types=(TRAIL,),
        frameworks=(
            Framework("CIS AWS 3.0", "3.5"),
            Framework("AWS FSBP", "CloudTrail.2"),
            Framework("PCI DSS 4.0", "10.3.2"),
            Framework("ISO 27001", "A.8.24"),
        ),
    ),
    Rule(
        id="aws-cloudtrail-cloudwatch-logs",
        description="Trails deliver to CloudWatch Logs, where the CIS metric filters alarm.",
        severity=Severity.MEDIUM,
        remediation="Set cloud_watch_logs_group_arn and cloud_watch_logs_role_arn "
        "(security.trail.cis_alarms: true).",
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html",
        check=_cloudwatch_logs,
        resource_types=(TRAIL,),
        frameworks=(
            Framework("AWS FSBP", "CloudTrail.5"),
            Framework("PCI DSS 4.0", "10.4.1"),
            Framework("SOC 2", "CC7.2"),
        ),
    ),
    Rule(
        id="aws-guardduty-detector-enabled",
        description="GuardDuty detectors are enabled (not suspended).",
        severity=Severity.HIGH,
        remediation="Set enable=True on the detector (security.guardduty.mode create).",
        url="https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_suspend-disable.html",
        check=_detector,
        resource_types=(DETECTOR,),
        frameworks=(
            Framework("AWS FSBP", "GuardDuty.1"),
            Framework("PCI DSS 4.0", "11.5.1"),
            Framework("SOC 2", "CC7.2"),
            Framework("ISO 27001", "A.8.16"),
        ),
    ),
    Rule(
        id="aws-kms-key-eventbridge-grant-supplied-condition",
        description="A key policy grant to EventBridge uses no condition EventBridge does not "
        "supply (aws:SourceAccount, aws:SourceArn, aws:SourceOrgID).",
        severity=Severity.HIGH,
        remediation="Condition the events.amazonaws.com statement on "
        "kms:EncryptionContext:aws:sns:topicArn (components/foundation.py does) or on nothing; "
        "restrict the publishing rules in the topic policy (aws:SourceArn) instead.",
        url="https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html",
        check=_eventbridge_key_grant,
        resource_types=(KEY,),
        frameworks=(Framework("SOC 2", "CC7.2"), Framework("PCI DSS 4.0", "10.7.1")),
    ),
)


# -- stack rules ---------------------------------------------------------------------------


def home_region(view: StackView) -> str | None:
    """The region a stack deploys into, from its objectives' tags."""
    role = view.role
    key = {"primary": tag_keys.PRIMARY_REGION, "dr": tag_keys.DR_REGION}.get(role or "")
    return view.stack_tags.get(key) if key else None


def _records_here(view: StackView) -> bool:
    return home_region(view) is not None and any(r.type.startswith("aws:") for r in view.resources)


def _recording_group(recorder: ResourceView) -> dict[str, Any]:
    group = recorder.props.get("recordingGroup")
    return group if isinstance(group, dict) else {}


def _recorder_check(view: StackView) -> Iterator[Violation]:
    region = home_region(view)
    if view.stack_tags.get(tag_keys.CONFIG_RECORDER) == tag_keys.EXTERNAL:
        return  # the stack declares the region's recorder managed outside it
    recorders = [r for r in view.of_type(RECORDER) if r.region == region]
    if not recorders:
        yield Violation(
            f"no AWS Config recorder in {region}, the region this stack deploys into: its "
            "resources' configuration history and compliance go unrecorded"
        )
        return
    for recorder in recorders:
        if opaque(recorder.props.get("recordingGroup")):
            continue
        group = _recording_group(recorder)
        if not opaque(group.get("allSupported")) and group.get("allSupported") is not True:
            yield Violation(
                f"{recorder.name}: records only some resource types (set all_supported)",
                recorder.urn,
            )
        if opaque(group.get("includeGlobalResourceTypes")):
            continue
        global_types = group.get("includeGlobalResourceTypes") is True
        if view.role == "primary" and not global_types:
            yield Violation(
                f"{recorder.name}: the primary's recorder leaves out global resources (IAM); "
                "no other recorder of the system records them",
                recorder.urn,
            )
        if view.role == "dr" and global_types:
            yield Violation(
                f"{recorder.name}: records global resources (IAM) the primary's recorder "
                "already records: every change is recorded and billed twice",
                recorder.urn,
            )
    names = {str(r.props.get("name")) for r in recorders}
    statuses = [s for s in view.of_type(RECORDER_STATUS) if s.region == region]
    started = [s for s in statuses if s.props.get("isEnabled") is True]
    # A status or recorder named by a value not known yet may be the one that starts it.
    unsure = any(opaque(r.props.get("name")) for r in recorders) or any(
        opaque(s.props.get("name")) or opaque(s.props.get("isEnabled")) for s in statuses
    )
    if not unsure and not any(str(s.props.get("name")) in names for s in started):
        yield Violation(f"the AWS Config recorder in {region} is never started (recorder status)")
    if not [c for c in view.of_type(DELIVERY_CHANNEL) if c.region == region]:
        yield Violation(f"the AWS Config recorder in {region} has no delivery channel")


def _lock_days(lock: ResourceView) -> tuple[str | None, int]:
    rule = lock.props.get("rule")
    retention = rule.get("defaultRetention") if isinstance(rule, dict) else None
    if not isinstance(retention, dict):
        return None, 0
    days = retention.get("days")
    years = retention.get("years")
    total = (days if isinstance(days, int) else 0) + 365 * (years if isinstance(years, int) else 0)
    return retention.get("mode"), total


def _trail_buckets(view: StackView) -> list[tuple[ResourceView, ResourceView]]:
    """(trail, its bucket) for every trail whose bucket this stack creates."""
    buckets = {str(b.props.get("bucket")): b for b in view.of_type(BUCKET)}
    pairs = []
    for trail in view.of_type(TRAIL):
        bucket = buckets.get(str(trail.props.get("s3BucketName")))
        if bucket is not None:
            pairs.append((trail, bucket))
    return pairs


def _trail_bucket_check(view: StackView) -> Iterator[Violation]:
    # Lock and logging configurations whose bucket is not known yet may be this bucket's.
    unsure_lock = any(opaque(lock.props.get("bucket")) for lock in view.of_type(OBJECT_LOCK))
    unsure_logging = any(opaque(b.props.get("bucket")) for b in view.of_type(BUCKET_LOGGING))
    for trail, bucket in _trail_buckets(view):
        name = str(bucket.props.get("bucket"))
        locks = [lock for lock in view.of_type(OBJECT_LOCK) if lock.props.get("bucket") == name]
        enabled = bucket.props.get("objectLockEnabled")
        if enabled is not True or not locks:
            unlocked = not opaque(enabled) and enabled is not True
            if unlocked or (enabled is True and not unsure_lock):
                yield Violation(
                    f"{trail.name}: its bucket {name} has no Object Lock; anyone with delete "
                    "rights can remove the audit history",
                    bucket.urn,
                )
        else:
            mode, days = _lock_days(locks[0])
            retention = dig(locks[0].props, "rule", "defaultRetention")
            if not opaque(mode) and not opaque(retention) and mode != "COMPLIANCE":
                yield Violation(
                    f"{trail.name}: its bucket {name} locks objects in {mode or 'no'} mode; "
                    "governance mode can be bypassed, compliance mode cannot",
                    locks[0].urn,
                )
            if not holds_opaque(retention) and days < MIN_AUDIT_RETENTION_DAYS:
                yield Violation(
                    f"{trail.name}: its bucket {name} keeps locked log files {days} days, "
                    f"fewer than {MIN_AUDIT_RETENTION_DAYS}",
                    locks[0].urn,
                )
        logged = any(b.props.get("bucket") == name for b in view.of_type(BUCKET_LOGGING))
        if not logged and not unsure_logging:
            yield Violation(
                f"{trail.name}: its bucket {name} has no server access logging: reads of the "
                "audit history leave no trace",
                bucket.urn,
            )


def _channel_buckets(view: StackView) -> list[tuple[ResourceView, ResourceView]]:
    """(delivery channel, its bucket) for every channel whose bucket this stack creates."""
    buckets = {str(b.props.get("bucket")): b for b in view.of_type(BUCKET)}
    pairs = []
    for channel in view.of_type(DELIVERY_CHANNEL):
        bucket = buckets.get(str(channel.props.get("s3BucketName")))
        if bucket is not None:
            pairs.append((channel, bucket))
    return pairs


def _delivery_bucket_unlocked(view: StackView) -> Iterator[Violation]:
    """AWS::Config::DeliveryChannel: "AWS Config does not support the delivery channel to an
    Amazon S3 bucket where object lock is enabled"."""
    for channel, bucket in _channel_buckets(view):
        name = str(bucket.props.get("bucket"))
        locks = [lock for lock in view.of_type(OBJECT_LOCK) if lock.props.get("bucket") == name]
        if bucket.props.get("objectLockEnabled") is True or locks:
            yield Violation(
                f"{channel.name}: its bucket {name} has Object Lock; AWS Config does not "
                "deliver to such a bucket, so the region's configuration history is lost",
                bucket.urn,
            )


def _expiry_days(lifecycle: ResourceView) -> int | None:
    """The shortest current-version expiry of an enabled lifecycle rule (None: never)."""
    rules = lifecycle.props.get("rules")
    days = [
        rule["expiration"]["days"]
        for rule in (rules if isinstance(rules, list) else [])
        if isinstance(rule, dict)
        and rule.get("status") == "Enabled"
        and isinstance(rule.get("expiration"), dict)
        and isinstance(rule["expiration"].get("days"), int)
    ]
    return min(days) if days else None


def _history_retained(view: StackView) -> Iterator[Violation]:
    """PCI DSS 4.0 10.5.1: "Retain audit log history for at least 12 months": the Config
    bucket's lifecycle expires nothing sooner."""
    for channel, bucket in _channel_buckets(view):
        name = str(bucket.props.get("bucket"))
        for lifecycle in view.of_type(LIFECYCLE):
            days = _expiry_days(lifecycle) if lifecycle.props.get("bucket") == name else None
            if days is not None and days < MIN_AUDIT_RETENTION_DAYS:
                yield Violation(
                    f"{channel.name}: its bucket {name} expires configuration history after "
                    f"{days} days, fewer than {MIN_AUDIT_RETENTION_DAYS}",
                    lifecycle.urn,
                )


STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        id="aws-config-recorder-in-stack-region",
        description="Every stack records its region with AWS Config (all resource types, "
        "started, with a delivery channel); global resources are recorded by the primary only.",
        severity=Severity.HIGH,
        remediation="Keep security.config_recorder.mode create (components/security_baseline.py); "
        "set it existing only when the account's recorder there is managed elsewhere.",
        url="https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html",
        check=_recorder_check,
        frameworks=(
            Framework("AWS FSBP", "Config.1"),
            Framework("CIS AWS 3.0", "3.3"),
            Framework("PCI DSS 4.0", "11.5.2"),
            Framework("SOC 2", "CC7.1"),
            Framework("ISO 27001", "A.8.9"),
        ),
        applies=_records_here,
    ),
    StackRule(
        id="aws-cloudtrail-bucket-locked-and-logged",
        description="A trail's bucket locks its log files in compliance mode for at least "
        f"{MIN_AUDIT_RETENTION_DAYS} days and logs access to them.",
        severity=Severity.HIGH,
        remediation="Deliver the trail to the audit bucket (SecureBucketArgs(object_lock_days=..., "
        "log_bucket=...)); security.trail.retention_days >= 365.",
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html",
        check=_trail_bucket_check,
        frameworks=(
            Framework("CIS AWS 3.0", "3.4"),
            Framework("PCI DSS 4.0", "10.3.3"),
            Framework("PCI DSS 4.0", "10.5.1"),
            Framework("SOC 2", "CC7.2"),
            Framework("ISO 27001", "A.8.15"),
        ),
        applies=lambda view: bool(_trail_buckets(view)),
    ),
    StackRule(
        id="aws-config-delivery-bucket-without-object-lock",
        description="AWS Config delivers to a bucket without Object Lock (AWS::Config::"
        'DeliveryChannel: "AWS Config does not support the delivery channel to an Amazon S3 '
        'bucket where object lock is enabled").',
        severity=Severity.HIGH,
        remediation="Deliver to the region's Config bucket (components/security_baseline.py "
        "`<system>-config-<region>-<account>`), not to the locked audit bucket.",
        url="https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-config-deliverychannel.html",
        check=_delivery_bucket_unlocked,
        frameworks=(
            Framework("AWS FSBP", "Config.1"),
            Framework("PCI DSS 4.0", "10.5.1"),
            Framework("SOC 2", "CC7.1"),
        ),
        applies=lambda view: bool(_channel_buckets(view)),
    ),
    StackRule(
        id="aws-config-history-retained-12-months",
        description="The Config bucket keeps configuration history at least "
        f'{MIN_AUDIT_RETENTION_DAYS} days (PCI DSS 4.0 10.5.1: "Retain audit log history for '
        'at least 12 months").',
        severity=Severity.MEDIUM,
        remediation="security.config_recorder.retention_days >= 365.",
        url="https://docs.aws.amazon.com/config/latest/developerguide/manage-delivery-channel.html",
        check=_history_retained,
        frameworks=(
            Framework("PCI DSS 4.0", "10.5.1"),
            Framework("SOC 2", "CC7.2"),
            Framework("ISO 27001", "A.8.15"),
        ),
        applies=lambda view: bool(_channel_buckets(view)),
    ),
)
