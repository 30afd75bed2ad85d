"""The security and audit baseline and the cost guards under mocks: the trail, its locked
bucket and the CIS alarms, AWS Config in both regions (global resources once), conformance
packs from the config, GuardDuty routing, Security Hub, Access Analyzer, budgets and anomaly
detection; and the variants an account that has some of it already needs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.conformance import PACKS
from components.security_baseline import CIS_CONTROLS, GUARDDUTY_BANDS, GUARDDUTY_FEATURES
from model.config import StackConfig
from model.loader import ConfigError, load_file, load_mapping
from policies.evaluate import evaluate_graph
from scripts.engine import SynthResult, synth
from tests.conftest import ConfigWriter, only, read_stack_document, resources

TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
RECORDER = "aws:cfg/recorder:Recorder"
BUDGET = "aws:budgets/budget:Budget"
ACCOUNT = "123456789012"


def inputs_of(result: SynthResult, typ: str, field: str, value: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [
        r["inputs"] for r in resources(result, typ) if r["inputs"].get(field) == value
    ]
    (match,) = matches
    return match


def topics(result: SynthResult) -> dict[str, str]:
    return dict(result.outputs["alarm_topics"])


# -- the trail and its bucket ---------------------------------------------------------------


def test_one_multi_region_trail_validated_and_encrypted_in_the_primary(
    synthesized: dict[str, SynthResult],
) -> None:
    primary = synthesized["primary"]
    trail = only(primary, TRAIL)["inputs"]
    assert trail["name"] == "reskflow-audit"
    assert trail["isMultiRegionTrail"] is True
    assert trail["includeGlobalServiceEvents"] is True
    assert trail["enableLogFileValidation"] is True
    assert trail["isOrganizationTrail"] is False
    assert trail["kmsKeyId"] == primary.outputs["kms_key_arn"]
    assert trail["s3BucketName"] == "reskflow-audit-us-east-1-123456789012"
    assert trail["cloudWatchLogsGroupArn"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/reskflow/production/cloudtrail:*"
    )
    # The dr stack has no trail of its own: the primary's records every region.
    assert not resources(synthesized["dr"], TRAIL)
    # CloudTrail may encrypt with the primary's key, for this account's trails only.
    key = json.loads(only(primary, "aws:kms/key:Key", "key")["inputs"]["policy"])
    grant = next(
        s for s in key["Statement"] if s["Sid"] == "CloudTrailEncryptsThisAccountsTrailLogs"
    )
    assert grant["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:123456789012:trail/*"
    }
    dr_key = json.loads(only(synthesized["dr"], "aws:kms/key:Key", "key")["inputs"]["policy"])
    assert not [s for s in dr_key["Statement"] if "CloudTrail" in s["Sid"]]


@pytest.mark.parametrize(("stack", "region"), [("primary", "us-east-1"), ("dr", "us-west-2")])
def test_audit_bucket_is_locked_in_compliance_mode_logged_and_protected(
    synthesized: dict[str, SynthResult], stack: str, region: str
) -> None:
    result = synthesized[stack]
    name = f"reskflow-audit-{region}-{ACCOUNT}"
    bucket = inputs_of(result, BUCKET, "bucket", name)
    assert bucket["objectLockEnabled"] is True
    lock = next(r for r in resources(result, LOCK) if r["inputs"]["bucket"] == name)
    assert lock["inputs"]["rule"] == {"defaultRetention": {"days": 365, "mode": "COMPLIANCE"}}
    assert lock["options"]["protect"] is True
    assert only(result, BUCKET, "security-audit")["options"]["protect"] is True
    logging = inputs_of(result, "aws:s3/bucketLogging:BucketLogging", "bucket", name)
    assert logging["targetBucket"] == f"reskflow-access-logs-{region}-{ACCOUNT}"
    lifecycle = inputs_of(
        result,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "bucket",
        name,
    )
    assert lifecycle["rules"][0]["expiration"] == {"days": 365}
    encryption = inputs_of(
        result,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "bucket",
        name,
    )
    default = encryption["rules"][0]["applyServerSideEncryptionByDefault"]
    assert default == {"kmsMasterKeyId": result.outputs["kms_key_arn"], "sseAlgorithm": "aws:kms"}
    policy = json.loads(
        inputs_of(result, "aws:s3/bucketPolicy:BucketPolicy", "bucket", name)["policy"]
    )
    sids = {s["Sid"]: s for s in policy["Statement"]}
    assert "DenyInsecureTransport" in sids and "ConfigDeliversHistory" in sids
    if stack == "primary":
        delivery = sids["CloudTrailDeliversLogs"]
        assert delivery["Resource"] == f"arn:aws:s3:::{name}/cloudtrail/AWSLogs/*"
        assert delivery["Condition"]["StringEquals"]["aws:SourceArn"] == (
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/reskflow-audit"
        )
        assert (
            delivery["Condition"]["StringEquals"]["aws:SourceArn"]
            == only(result, TRAIL)["computed"]["arn"]
        )
    else:
        assert not [sid for sid in sids if sid.startswith("CloudTrail")]
    assert result.outputs["security"]["audit_bucket"] == name


def test_one_metric_filter_and_alarm_per_cis_control(
    synthesized: dict[str, SynthResult],
) -> None:
    primary = synthesized["primary"]
    filters = {r["inputs"]["name"]: r["inputs"] for r in resources(primary, FILTER)}
    assert len(filters) == len(CIS_CONTROLS) == 15
    alarms = {
        r["inputs"]["metricName"]: r["inputs"]
        for r in resources(primary, ALARM)
        if r["inputs"].get("namespace") == "Resilience/CloudTrail"
    }
    assert len(alarms) == 15
    topic = topics(primary)
    for control in CIS_CONTROLS:
        slug = f"cis-{control.id.replace('.', '-')}"
        metric_filter = filters[f"reskflow-primary-{slug}"]
        assert metric_filter["logGroupName"] == "/reskflow/production/cloudtrail"
        assert metric_filter["pattern"] == control.pattern
        assert metric_filter["metricTransformation"] == {
            "name": control.metric,
            "namespace": "Resilience/CloudTrail",
            "value": "1",
        }
        alarm = alarms[control.metric]
        assert alarm["alarmActions"] == alarm["okActions"] == [topic[control.severity.value]]
        assert (alarm["threshold"], alarm["comparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        )
        assert alarm["treatMissingData"] == "notBreaching"
        # The stack-wide runbook (monitoring.runbook_url), anchored at the control.
        assert (
            f"Runbook: https://runbooks.reskflow.example.com/platform#{slug}"
            in (alarm["alarmDescription"])
        )
        assert alarm["tags"] == {"resilience-alarm": slug}
    # Root use, trail changes and key deletion page; console sign-in without MFA is an error.
    severities = {c.id: c.severity.value for c in CIS_CONTROLS}
    assert [i for i, s in severities.items() if s == "critical"] == ["4.3", "4.5", "4.7"]
    assert severities["4.2"] == "error"
    assert "StopLogging" in next(c.pattern for c in CIS_CONTROLS if c.id == "4.5")
    # The alarms join the inventory and the monthly estimate: 15 x USD 0.10.
    inventory = [e for e in primary.outputs["alarms"] if e["id"].startswith("cis-")]
    assert len(inventory) == 15 and sum(e["monthly_usd"] for e in inventory) == pytest.approx(1.5)
    assert not [e for e in synthesized["dr"].outputs["alarms"] if e["id"].startswith("cis-")]


# -- AWS Config ---------------------------------------------------------------------------


def test_recorder_in_both_regions_global_resources_recorded_once(
    synthesized: dict[str, SynthResult],
) -> None:
    recorded = {}
    for stack, region in (("primary", "us-east-1"), ("dr", "us-west-2")):
        result = synthesized[stack]
        recorder = only(result, RECORDER)
        assert recorder["region"] == region
        group = recorder["inputs"]["recordingGroup"]
        assert group["allSupported"] is True
        recorded[stack] = group["includeGlobalResourceTypes"]
        status = only(result, "aws:cfg/recorderStatus:RecorderStatus")["inputs"]
        assert status == {"isEnabled": True, "name": f"reskflow-{stack}"}
        channel = only(result, "aws:cfg/deliveryChannel:DeliveryChannel")["inputs"]
        assert channel["s3BucketName"] == f"reskflow-audit-{region}-{ACCOUNT}"
        assert channel["s3KmsKeyArn"] == result.outputs["kms_key_arn"]
        assert channel["snapshotDeliveryProperties"] == {"deliveryFrequency": "TwentyFour_Hours"}
    assert recorded == {"primary": True, "dr": False}


def test_conformance_packs_take_their_parameters_from_the_config(
    synthesized: dict[str, SynthResult],
) -> None:
    for stack, peer in (("primary", "us-west-2"), ("dr", "us-east-1")):
        result = synthesized[stack]
        packs = {
            r["inputs"]["name"]: yaml.safe_load(r["inputs"]["templateBody"])["Resources"]
            for r in resources(result, "aws:cfg/conformancePack:ConformancePack")
        }
        prefix = f"reskflow-{stack}"
        assert set(packs) == {
            f"{prefix}-aws-backup",
            f"{prefix}-pci-dss-4-0",
            f"{prefix}-cis-aws-3-0",
        }
        backup = packs[f"{prefix}-aws-backup"]
        rds = backup["RdsResourcesProtectedByBackupPlan"]["Properties"]
        assert rds["Source"] == {
            "Owner": "AWS",
            "SourceIdentifier": "RDS_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
        }
        # Copies to the other region, in a vault locked as the config says (7..2555 days).
        assert rds["InputParameters"] == {
            "crossRegionList": peer,
            "backupVaultLockCheck": "True",
            "minRetentionDays": "7",
            "maxRetentionDays": "2555",
        }
        # The shortest retention of any rule (daily, 7 days); the least frequent class is
        # backed up weekly (configuration).
        plan = backup["BackupPlanMinFrequencyAndMinRetentionCheck"]["Properties"]
        assert plan["InputParameters"] == {
            "requiredFrequencyUnit": "hours",
            "requiredFrequencyValue": "168",
            "requiredRetentionDays": "7",
        }
        pci = packs[f"{prefix}-pci-dss-4-0"]
        retention = pci["CwLoggroupRetentionPeriodCheck"]["Properties"]["InputParameters"]
        assert retention == {"MinRetentionTime": "30"}  # the policy pack's minimum
        # Account-wide rules (root user, IAM, the trail) only where global resources are.
        assert ("RootAccountMfaEnabled" in pci) is (stack == "primary")
        assert ("MultiRegionCloudTrailEnabled" in packs[f"{prefix}-cis-aws-3-0"]) is (
            stack == "primary"
        )
    # Each pack waits for the recorder to run.
    primary = synthesized["primary"]
    status = only(primary, "aws:cfg/recorderStatus:RecorderStatus")
    for pack in resources(primary, "aws:cfg/conformancePack:ConformancePack"):
        assert status["urn"] in pack["options"]["depends_on"]
        assert len(pack["inputs"]["templateBody"]) < 51_200  # AWS's inline template limit
    assert set(PACKS) == {"aws-backup", "cis-aws-3.0", "pci-dss-4.0"}


# -- GuardDuty, Security Hub, Access Analyzer ------------------------------------------------


@pytest.mark.parametrize("stack", ["primary", "dr"])
def test_guardduty_findings_reach_the_severity_topics_by_band(
    synthesized: dict[str, SynthResult], stack: str
) -> None:
    result = synthesized[stack]
    detector = only(result, "aws:guardduty/detector:Detector")
    assert detector["inputs"] == {"enable": True, "findingPublishingFrequency": "FIFTEEN_MINUTES"}
    features = {
        r["inputs"]["name"]: r["inputs"]["status"]
        for r in resources(result, "aws:guardduty/detectorFeature:DetectorFeature")
    }
    assert set(features) == set(GUARDDUTY_FEATURES)
    assert features["S3_DATA_EVENTS"] == features["RDS_LOGIN_EVENTS"] == "ENABLED"
    assert features["EKS_AUDIT_LOGS"] == features["RUNTIME_MONITORING"] == "DISABLED"
    rules = {
        r["name"]: r
        for r in resources(result, "aws:cloudwatch/eventRule:EventRule")
        if "guardduty" in r["name"]
    }
    targets = {
        r["inputs"]["rule"]: r["inputs"]["arn"]
        for r in resources(result, "aws:cloudwatch/eventTarget:EventTarget")
    }
    topic = topics(result)
    routed = {}
    for band in GUARDDUTY_BANDS:
        rule = rules[f"reskflow-{stack}-security-guardduty-{band}"]
        pattern = json.loads(rule["inputs"]["eventPattern"])
        assert pattern["source"] == ["aws.guardduty"]
        assert pattern["detail-type"] == ["GuardDuty Finding"]
        routed[band] = (
            pattern["detail"]["severity"][0]["numeric"],
            targets[rule["computed"]["name"]],
        )
    assert routed == {
        "high": ([">=", 7], topic["critical"]),
        "medium": ([">=", 4, "<", 7], topic["warning"]),
        "low": (["<", 4], topic["info"]),
    }


def test_security_hub_standards_and_access_analyzer_in_each_region(
    synthesized: dict[str, SynthResult],
) -> None:
    for stack, region in (("primary", "us-east-1"), ("dr", "us-west-2")):
        result = synthesized[stack]
        hub = only(result, "aws:securityhub/account:Account")["inputs"]
        assert hub["enableDefaultStandards"] is False
        assert hub["controlFindingGenerator"] == "SECURITY_CONTROL"
        arns = {
            r["inputs"]["standardsArn"]
            for r in resources(
                result, "aws:securityhub/standardsSubscription:StandardsSubscription"
            )
        }
        assert arns == {
            f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0",
            f"arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0",
            f"arn:aws:securityhub:{region}::standards/pci-dss/v/4.0.1",
        }
        analyzer = only(result, "aws:accessanalyzer/analyzer:Analyzer")
        assert analyzer["inputs"] == {
            "analyzerName": f"reskflow-{stack}-account",
            "type": "ACCOUNT",
        }
        assert analyzer["region"] == region


# -- cost guards ------------------------------------------------------------------------------


def test_budget_and_anomaly_alerts_reach_the_warning_topic(
    synthesized: dict[str, SynthResult],
) -> None:
    primary = synthesized["primary"]
    warning = topics(primary)["warning"]
    (budget,) = resources(primary, BUDGET)
    inputs = budget["inputs"]
    assert budget["region"] == "us-east-1"
    assert (inputs["name"], inputs["limitAmount"], inputs["limitUnit"], inputs["timeUnit"]) == (
        "reskflow-monthly",
        "10000.00",
        "USD",
        "MONTHLY",
    )
    assert inputs["costFilters"] == [{"name": "TagKeyValue", "values": ["user:system$reskflow"]}]
    assert [
        (n["notificationType"], n["threshold"], n["subscriberSnsTopicArns"])
        for n in inputs["notifications"]
    ] == [("FORECASTED", 80, [warning]), ("FORECASTED", 100, [warning]), ("ACTUAL", 100, [warning])]
    monitor = only(primary, "aws:costexplorer/anomalyMonitor:AnomalyMonitor")["inputs"]
    assert monitor["monitorType"] == "CUSTOM"
    assert json.loads(monitor["monitorSpecification"]) == {
        "Tags": {"Key": "system", "MatchOptions": ["EQUALS"], "Values": ["reskflow"]}
    }
    subscription = only(primary, "aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert subscription["inputs"]["frequency"] == "IMMEDIATE"
    assert subscription["inputs"]["subscribers"] == [{"address": warning, "type": "SNS"}]
    assert subscription["inputs"]["thresholdExpression"]["dimension"]["values"] == ["100"]
    # Budgets and Cost Anomaly Detection publish into the encrypted warning topic: the topic
    # policy and the key policy let them, for the primary only.
    policy = json.loads(
        next(
            r["inputs"]["policy"]
            for r in resources(primary, "aws:sns/topicPolicy:TopicPolicy")
            if r["inputs"]["arn"] == warning
        )
    )
    publishers = next(
        s for s in policy["Statement"] if s["Sid"] == "AwsServicesOfThisAccountPublish"
    )
    assert {"budgets.amazonaws.com", "costalerts.amazonaws.com"} <= set(
        publishers["Principal"]["Service"]
    )
    key = json.loads(only(primary, "aws:kms/key:Key", "key")["inputs"]["policy"])
    sns = next(s for s in key["Statement"] if s["Sid"] == "AlarmAndEventPublishersUseKeyForSns")
    assert "costalerts.amazonaws.com" in sns["Principal"]["Service"]
    dr = synthesized["dr"]
    assert not resources(dr, BUDGET)
    assert not resources(dr, "aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert primary.outputs["cost"]["budgets"] == {
        "reskflow-monthly": {"monthly_usd": 10000, "tag": "user:system$reskflow"}
    }


def test_cost_guards_outside_us_east_1_use_a_billing_provider(
    synthesized: dict[str, SynthResult],
) -> None:
    minimal = synthesized["example-minimal"]
    monitor = only(minimal, "aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    assert monitor["region"] == "us-east-1"
    provider = next(
        r
        for r in resources(minimal, "pulumi:providers:aws")
        if r["name"] == "minimal-primary-billing"
    )
    assert monitor["provider"].startswith(provider["urn"])
    assert not resources(minimal, BUDGET)  # no amount configured: no budget


# -- variants ---------------------------------------------------------------------------------


def _edit(**sections: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        for key, value in sections.items():
            config[f"resilience:{key}"] = value

    return edit


def test_an_account_with_an_organization_trail_and_config_turns_them_off(
    write_config: ConfigWriter,
) -> None:
    loaded = load_file(
        write_config(
            _edit(
                security={
                    "trail": {"enabled": False},
                    "config_recorder": {"enabled": False},
                    "conformance_packs": [],
                    "guardduty": {"routing": {"low": None, "medium": "error"}},
                    "security_hub": {"enabled": False},
                    "access_analyzer": False,
                },
                cost={"anomaly": {"enabled": False}},
            )
        )
    )
    result = synth(loaded)
    for typ in (
        TRAIL,
        FILTER,
        RECORDER,
        "aws:cfg/conformancePack:ConformancePack",
        "aws:securityhub/account:Account",
        "aws:accessanalyzer/analyzer:Analyzer",
        BUDGET,
        "aws:costexplorer/anomalyMonitor:AnomalyMonitor",
        LOCK,
    ):
        assert not resources(result, typ), typ
    assert not [b for b in resources(result, BUCKET) if "audit" in b["inputs"]["bucket"]]
    assert not [e for e in result.outputs["alarms"] if e["id"].startswith("cis-")]
    assert result.outputs["cost"] is None
    # Nothing left to grant: no CloudTrail statement, no cost publishers.
    key = json.loads(only(result, "aws:kms/key:Key", "key")["inputs"]["policy"])
    assert not [s for s in key["Statement"] if "CloudTrail" in s["Sid"]]
    assert "budgets.amazonaws.com" not in json.dumps(key)
    # GuardDuty stays, routed as configured.
    targets = {
        r["name"].rsplit("-to-", 1)[-1]
        for r in resources(result, "aws:cloudwatch/eventTarget:EventTarget")
        if "guardduty" in r["name"]
    }
    assert targets == {"critical", "error"}
    # The stack declares the recorder managed elsewhere, and the policy pack accepts it.
    tags = only(result, "pulumi:providers:aws", "aws")["inputs"]["defaultTags"]["tags"]
    assert tags["resilience-config-recorder"] == "external"
    assert evaluate_graph(result.graph).findings == []


def test_custom_retention_organization_trail_and_budgets_by_service(
    write_config: ConfigWriter,
) -> None:
    loaded = load_file(
        write_config(
            _edit(
                security={"trail": {"retention_days": 730, "organization": True}},
                cost={
                    "monthly_budget_usd": 5000,
                    "service_budgets_usd": {"orders-api": 2000.5},
                    "forecast_alert_percent": [50, 80, 100],
                    "actual_alert_percent": [100, 120],
                    "anomaly": {"threshold_usd": 250},
                },
            )
        )
    )
    result = synth(loaded)
    assert only(result, TRAIL)["inputs"]["isOrganizationTrail"] is True
    (lock,) = resources(result, LOCK)
    assert lock["inputs"]["rule"] == {"defaultRetention": {"days": 730, "mode": "COMPLIANCE"}}
    budgets = {b["inputs"]["name"]: b["inputs"] for b in resources(result, BUDGET)}
    assert {n: (b["limitAmount"], b["costFilters"][0]["values"]) for n, b in budgets.items()} == {
        "reskflow-monthly": ("5000.00", ["user:system$reskflow"]),
        "reskflow-orders-api-monthly": ("2000.50", ["user:service$orders-api"]),
    }
    for budget in budgets.values():
        assert [(n["notificationType"], n["threshold"]) for n in budget["notifications"]] == [
            ("FORECASTED", 50),
            ("FORECASTED", 80),
            ("FORECASTED", 100),
            ("ACTUAL", 100),
            ("ACTUAL", 120),
        ]
    subscription = only(result, "aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert subscription["inputs"]["thresholdExpression"]["dimension"]["values"] == ["250"]
    assert evaluate_graph(result.graph).findings == []


def test_a_short_audit_retention_is_refused_by_the_policy_pack(write_config: ConfigWriter) -> None:
    loaded = load_file(write_config(_edit(security={"trail": {"retention_days": 90}})))
    findings = evaluate_graph(synth(loaded).graph).findings
    assert [(f.rule_id, f.message) for f in findings] == [
        (
            "aws-cloudtrail-bucket-locked-and-logged",
            "reskflow-primary-security-trail: its bucket reskflow-audit-us-east-1-123456789012 "
            "keeps locked log files 90 days, fewer than 365",
        )
    ]


def test_security_and_cost_config_errors_name_the_key() -> None:
    base = read_stack_document("primary")["config"]

    def problems(**sections: Any) -> list[str]:
        raw = dict(base)
        for key, value in sections.items():
            raw[f"resilience:{key}"] = value
        with pytest.raises(ConfigError) as error:
            load_mapping(raw, "Pulumi.bad.yaml")
        return str(error.value).splitlines()

    assert problems(security={"conformance_packs": ["aws-backup", "hipaa"]}) == [
        "Pulumi.bad.yaml: resilience:security.conformance_packs[1]: must be 'aws-backup', "
        "'cis-aws-3.0' or 'pci-dss-4.0', got 'hipaa'"
    ]
    assert problems(security={"trail": {"retention_day": 400}}) == [
        "Pulumi.bad.yaml: resilience:security.trail.retention_day: unknown key (did you mean "
        "'retention_days'?)"
    ]
    assert problems(security={"guardduty": {"features": ["S3_DATA_EVENTS", "S3_DATA_EVENTS"]}}) == [
        "Pulumi.bad.yaml: resilience:security.guardduty.features: listed twice: S3_DATA_EVENTS"
    ]
    assert problems(
        cost={"forecast_alert_percent": [50, 80, 100], "actual_alert_percent": [90, 100, 110]}
    ) == [
        "Pulumi.bad.yaml: resilience:cost: 6 alerts per budget (forecast_alert_percent + "
        "actual_alert_percent); AWS Budgets allows 5"
    ]
    assert problems(cost={"service_budgets_usd": {"orders": 100}}) == [
        "Pulumi.bad.yaml: resilience:cost.service_budgets_usd: orders is not a service "
        "(services: orders-api, users-api, tracking-api)"
    ]
    minimal = dict(read_stack_document("example-minimal")["config"])
    minimal["resilience:name"] = "a-system-name-of-thirty-two-char"
    minimal["resilience:dr"] = {**minimal["resilience:dr"], "region": "ap-southeast-2"}
    with pytest.raises(ConfigError) as error:
        load_mapping(minimal, "Pulumi.bad.yaml")
    # The access-log bucket, in every stack, is longer still.
    assert sorted(str(error.value).splitlines()) == [
        "Pulumi.bad.yaml: resilience:name: the access-log bucket 'a-system-name-of-thirty-two-"
        "char-access-logs-ap-southeast-2-<account id>' would be 72 characters; S3 allows 63: "
        "shorten the name",
        "Pulumi.bad.yaml: resilience:name: the audit bucket a-system-name-of-thirty-two-char-"
        "audit-ap-southeast-2-<account id> would have 66 characters, over S3's 63: shorten the "
        "name (or turn security.trail and security.config_recorder off)",
    ]
    assert problems(cost={"monthly_budget_usd": 0}) == [
        "Pulumi.bad.yaml: resilience:cost.monthly_budget_usd: must be greater than 0, got 0"
    ]


def test_defaults_are_on(shipped: dict[str, Any]) -> None:
    config = shipped["example-minimal"].config
    assert isinstance(config, StackConfig)
    security = config.security
    assert security.trail.enabled and security.trail.retention_days == 365
    assert security.config_recorder.enabled and security.guardduty.enabled
    assert security.security_hub.enabled and security.access_analyzer
    assert security.conformance_packs == ["aws-backup"]
    assert config.cost.anomaly.enabled and config.cost.forecast_alert_percent == [80, 100]
