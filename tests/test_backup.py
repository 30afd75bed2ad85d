"""Backup under mocks: vaults, locks, the seeds' schedules, cross-region copies, selection,
notifications; invalid retention/lock combinations rejected with their key path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from model.loader import ConfigError, load_file
from scripts.engine import SynthResult
from tests.conftest import ROOT, ConfigWriter, only, resources

PLAN = "aws:backup/plan:Plan"


def plans(result: SynthResult) -> dict[str, dict[str, Any]]:
    return {p["inputs"]["name"]: p for p in resources(result, PLAN)}


def rules_of(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["ruleName"]: r for r in plan["inputs"]["rules"]}


@pytest.mark.parametrize(
    ("data_class", "rule", "schedule", "delete_after", "cold_after"),
    [
        # ReskFlow: continuous replication; RPO 5 min needs point-in-time recovery (max 35 d).
        # (Skafu's 4-hourly database snapshots are in examples/skafu, test below: under
        # continuous backup AWS Backup snapshots an RDS instance once a day.)
        ("transactional", "continuous", "cron(0 5 ? * * *)", 35, None),
        # ReskFlow incremental daily 7 days; Light on Campus firestore daily 7.
        ("transactional", "daily", "cron(0 5 ? * * *)", 7, None),
        # ReskFlow full weekly, 4 weeks.
        ("transactional", "weekly", "cron(0 5 ? * SUN *)", 28, None),
        # Light on Campus monthly 12 months, yearly 3 years, cold storage where it fits.
        # RDS and S3 recovery points cannot go cold: those classes stay warm.
        ("transactional", "monthly", "cron(0 5 1 * ? *)", 365, None),
        ("transactional", "yearly", "cron(0 5 1 1 ? *)", 1095, None),
        # Light on Campus user_uploads: daily 30, weekly 12, monthly 24, yearly 5.
        ("uploads", "daily", "cron(0 5 ? * * *)", 30, None),
        ("uploads", "weekly", "cron(0 5 ? * SUN *)", 84, None),
        ("uploads", "monthly", "cron(0 5 1 * ? *)", 730, None),
        ("uploads", "yearly", "cron(0 5 1 1 ? *)", 1825, None),
        # Light on Campus configuration: weekly 8, monthly 6, yearly 2.
        ("configuration", "weekly", "cron(0 5 ? * SUN *)", 56, None),
        ("configuration", "monthly", "cron(0 5 1 * ? *)", 180, 30),
        ("configuration", "yearly", "cron(0 5 1 1 ? *)", 730, 90),
    ],
)
def test_every_seed_schedule_with_cron_retention_and_copy_target(
    synthesized: dict[str, SynthResult],
    data_class: str,
    rule: str,
    schedule: str,
    delete_after: int,
    cold_after: int | None,
) -> None:
    for stack, peer_vault in (
        ("primary", "arn:aws:backup:us-west-2:123456789012:backup-vault:reskflow-dr"),
        ("dr", "arn:aws:backup:us-east-1:123456789012:backup-vault:reskflow-primary"),
    ):
        result = synthesized[stack]
        plan = plans(result)[f"reskflow-{stack}-{data_class}"]
        spec = rules_of(plan)[rule]
        assert spec["schedule"] == schedule
        assert spec["targetVaultName"] == f"reskflow-{stack}"
        expected_lifecycle = {"deleteAfter": delete_after}
        if cold_after is not None:
            expected_lifecycle["coldStorageAfter"] = cold_after
        assert spec["lifecycle"] == expected_lifecycle
        assert spec.get("enableContinuousBackup", False) is (rule == "continuous")
        (copy,) = spec["copyActions"]
        assert copy["destinationVaultArn"] == peer_vault
        assert copy["lifecycle"] == expected_lifecycle


def test_copies_always_go_to_the_other_region(synthesized: dict[str, SynthResult]) -> None:
    for stack in ("primary", "dr"):
        result = synthesized[stack]
        own = result.graph["region"]
        for plan in resources(result, PLAN):
            for rule in plan["inputs"]["rules"]:
                for copy in rule["copyActions"]:
                    region = copy["destinationVaultArn"].split(":")[3]
                    assert region != own
                    assert region in {"us-east-1", "us-west-2"}
    primary_target = synthesized["primary"].outputs["backup_copy_target_arn"]
    assert primary_target == synthesized["dr"].outputs["backup_vault_arn"]
    assert (
        synthesized["dr"].outputs["backup_copy_target_arn"]
        == synthesized["primary"].outputs["backup_vault_arn"]
    )


def test_vault_is_encrypted_locked_protected_and_denies_deletion(
    synthesized: dict[str, SynthResult],
) -> None:
    for stack in ("primary", "dr"):
        result = synthesized[stack]
        vault = only(result, "aws:backup/vault:Vault")
        assert vault["inputs"]["name"] == f"reskflow-{stack}"
        assert vault["inputs"]["kmsKeyArn"] == result.outputs["kms_key_arn"]
        assert vault["inputs"]["forceDestroy"] is False
        assert vault["options"]["protect"] is True
        lock = only(result, "aws:backup/vaultLockConfiguration:VaultLockConfiguration")
        assert lock["inputs"] == {
            "backupVaultName": f"reskflow-{stack}",
            "maxRetentionDays": 2555,
            "minRetentionDays": 7,
        }  # governance mode: no changeable_for_days
        assert lock["options"]["protect"] is True
        policy = json.loads(only(result, "aws:backup/vaultPolicy:VaultPolicy")["inputs"]["policy"])
        (statement,) = policy["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == {"AWS": "*"}
        assert statement["Resource"] == "*"
        assert statement["Action"] == [
            "backup:DeleteRecoveryPoint",
            "backup:UpdateRecoveryPointLifecycle",
        ]


def test_region_opted_in_and_role_can_back_up_and_restore_s3(
    synthesized: dict[str, SynthResult],
) -> None:
    for stack in ("primary", "dr"):
        result = synthesized[stack]
        settings = only(result, "aws:backup/regionSettings:RegionSettings")["inputs"]
        assert {"Aurora", "DynamoDB", "RDS", "S3"} <= {
            k for k, v in settings["resourceTypeOptInPreference"].items() if v
        }
        attached = sorted(
            a["inputs"]["policyArn"].rsplit("/", 1)[-1]
            for a in resources(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if "backup" in a["name"]
        )
        assert attached == [
            "AWSBackupServiceRolePolicyForBackup",
            "AWSBackupServiceRolePolicyForRestores",
            "AWSBackupServiceRolePolicyForS3Backup",
            "AWSBackupServiceRolePolicyForS3Restore",
        ]


def test_failures_notify_the_warning_topic(synthesized: dict[str, SynthResult]) -> None:
    result = synthesized["primary"]
    warning = result.outputs["alarm_topics"]["warning"]
    notifications = only(result, "aws:backup/vaultNotifications:VaultNotifications")["inputs"]
    assert notifications["snsTopicArn"] == warning
    assert notifications["backupVaultEvents"] == [
        "COPY_JOB_FAILED",
        "S3_BACKUP_OBJECT_FAILED",
        "S3_RESTORE_OBJECT_FAILED",
    ]
    # Backup and copy job events carry detail.state, restore job events detail.status (AWS
    # Backup Developer Guide, "Monitoring AWS Backup events using Amazon EventBridge").
    rule = only(result, "aws:cloudwatch/eventRule:EventRule", "backup-failed-jobs")
    pattern = json.loads(rule["inputs"]["eventPattern"])
    assert pattern == {
        "source": ["aws.backup"],
        "detail-type": ["Backup Job State Change", "Copy Job State Change"],
        "detail": {"state": ["FAILED", "ABORTED", "EXPIRED"]},
    }
    restores = only(result, "aws:cloudwatch/eventRule:EventRule", "backup-failed-restores")
    assert json.loads(restores["inputs"]["eventPattern"]) == {
        "source": ["aws.backup"],
        "detail-type": ["Restore Job State Change"],
        "detail": {"status": ["FAILED", "ABORTED"]},
    }
    for target_name in ("backup-failed-jobs-to-warning", "backup-failed-restores-to-warning"):
        target = only(result, "aws:cloudwatch/eventTarget:EventTarget", target_name)
        assert target["inputs"]["arn"] == warning


def test_selection_by_tag_per_class(synthesized: dict[str, SynthResult]) -> None:
    result = synthesized["primary"]
    selections = resources(result, "aws:backup/selection:Selection")
    by_class = {s["inputs"]["selectionTags"][0]["value"]: s["inputs"] for s in selections}
    assert set(by_class) == {"transactional", "uploads", "configuration"}
    role = only(result, "aws:iam/role:Role", "backup-role")
    for data_class, selection in by_class.items():
        assert selection["selectionTags"] == [
            {"key": "backup-policy", "type": "STRINGEQUALS", "value": data_class}
        ]
        assert selection["planId"] == plans(result)[f"reskflow-primary-{data_class}"]["id"]
        assert selection["iamRoleArn"] == role["computed"]["arn"]
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda b: b["vault_lock"].update(min_retention_days=14),
            [
                "resilience:backup.classes.transactional.rules[0].retention_days: 7 days is "
                "shorter than the vault lock minimum (14 days): the vault would refuse these "
                "recovery points"
            ],
            id="retention-below-lock-minimum",
        ),
        pytest.param(
            lambda b: b["vault_lock"].update(max_retention_days=1000),
            [
                "resilience:backup.classes.transactional.rules[3].retention_days: 1095 days is "
                "longer than the vault lock maximum (1000 days)",
                "resilience:backup.classes.uploads.rules[3].retention_days: 1825 days is longer "
                "than the vault lock maximum (1000 days)",
            ],
            id="retention-above-lock-maximum",
        ),
        pytest.param(
            lambda b: b["classes"]["configuration"]["rules"][1].update(cold_storage_after_days=120),
            [
                "resilience:backup.classes.configuration.rules[1].cold_storage_after_days: "
                "recovery points stay at least 90 days in cold storage: retention_days (180) "
                "must be at least cold_storage_after_days + 90 (210)"
            ],
            id="cold-storage-minimum",
        ),
        pytest.param(
            lambda b: b["vault_lock"].update(mode="compliance"),
            [
                "resilience:backup.vault_lock.changeable_for_days: required in compliance mode "
                "(at least 3): the grace period before the lock can no longer be changed or "
                "removed"
            ],
            id="compliance-without-grace",
        ),
        pytest.param(
            lambda b: b["vault_lock"].update(mode="compliance", changeable_for_days=2),
            [
                "resilience:backup.vault_lock.changeable_for_days: must be greater than or "
                "equal to 3, got 2"
            ],
            id="compliance-grace-too-short",
        ),
        pytest.param(
            lambda b: b["vault_lock"].update(changeable_for_days=5),
            [
                "resilience:backup.vault_lock.changeable_for_days: only applies in compliance "
                "mode; governance locks stay removable by privileged users"
            ],
            id="governance-with-grace",
        ),
        pytest.param(
            lambda b: b["classes"]["transactional"].update(continuous_days=36),
            [
                "resilience:backup.classes.transactional.continuous_days: must be less than or "
                "equal to 35, got 36"
            ],
            id="pitr-over-35-days",
        ),
        pytest.param(
            lambda b: b["classes"]["uploads"]["rules"][0].update(frequency="every-minute"),
            [
                "resilience:backup.classes.uploads.rules[0].frequency: must be 'hourly', "
                "'4-hourly', '12-hourly', 'daily', 'weekly', 'monthly' or 'yearly', got "
                "'every-minute'"
            ],
            id="unknown-frequency",
        ),
        pytest.param(
            lambda b: b["classes"].update(empty={}),
            ["resilience:backup.classes.empty: needs rules or continuous_days"],
            id="empty-class",
        ),
        pytest.param(
            lambda b: b["vault_lock"].update(min_retention_days=30, max_retention_days=20),
            ["resilience:backup.vault_lock.max_retention_days: must be >= min_retention_days (30)"],
            id="lock-max-below-min",
        ),
    ],
)
def test_invalid_retention_and_lock_rejected_with_key_path(
    write_config: ConfigWriter, edit: Any, expected: list[str]
) -> None:
    path = write_config(lambda c: edit(c["resilience:backup"]))
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    messages = [f"{p.key}: {p.message}" for p in caught.value.problems]
    assert sorted(messages) == sorted(expected)
    assert all(p.source == "Pulumi.bad.yaml" for p in caught.value.problems)


def test_compliance_lock_sets_the_grace_period(write_config: ConfigWriter) -> None:
    from scripts.engine import synth

    path = write_config(
        lambda c: c["resilience:backup"]["vault_lock"].update(
            mode="compliance", changeable_for_days=3
        )
    )
    lock = only(synth(load_file(path)), "aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    assert lock["inputs"]["changeableForDays"] == 3


def test_windows_and_an_opted_out_copy(write_config: ConfigWriter) -> None:
    from scripts.engine import synth

    def local_only(config: dict[str, Any]) -> None:
        config["resilience:backup"]["start_window_minutes"] = 120
        config["resilience:backup"]["classes"]["uploads"]["rules"][0]["cross_region_copy"] = False

    result = synth(load_file(write_config(local_only)))
    rules = rules_of(plans(result)["reskflow-primary-uploads"])
    assert "copyActions" not in rules["daily"]
    assert rules["weekly"]["copyActions"]
    for rule in rules.values():
        assert (rule["startWindow"], rule["completionWindow"]) == (120, 480)


# -- what AWS Backup does for RDS under continuous backup ------------------------------------


def _four_hourly_transactional(config: dict[str, Any]) -> None:
    config["resilience:backup"]["classes"]["transactional"]["rules"].insert(
        0, {"name": "four-hourly", "frequency": "4-hourly", "retention_days": 30}
    )


@pytest.mark.parametrize("frequency", ["hourly", "4-hourly", "12-hourly"])
def test_sub_daily_snapshots_of_an_rds_instance_under_continuous_backup_are_refused(
    write_config: ConfigWriter, frequency: str
) -> None:
    """ "RDS takes snapshots once per day, even if a backup plan has a frequency for snapshot
    backups other than once per day" (AWS Backup Developer Guide, Continuous backups and
    PITR): a sub-daily rule would promise DR copies AWS never makes."""

    def edit(config: dict[str, Any]) -> None:
        _four_hourly_transactional(config)
        config["resilience:backup"]["classes"]["transactional"]["rules"][0]["frequency"] = frequency

    with pytest.raises(ConfigError) as caught:
        load_file(write_config(edit))
    assert [str(p) for p in caught.value.problems] == [
        "Pulumi.bad.yaml: resilience:backup.classes.transactional.rules[0].frequency: "
        f"'{frequency}' snapshots of databases[0] (orders-db), an RDS instance under this "
        "class's continuous backup: AWS Backup takes its RDS snapshots once per day then, "
        "whatever the rule's frequency. Make the rule daily or rarer, or drop the class's "
        "continuous_days (the instance keeps point-in-time recovery in its own automated "
        "backups, databases[].backup_retention_days)"
    ]


def test_sub_daily_snapshots_are_fine_without_continuous_backup_and_for_aurora(
    write_config: ConfigWriter,
) -> None:
    """The limit is documented for RDS under continuous backup only: without continuous
    backup, or for an Aurora cluster, a 4-hourly rule is kept (and copied) as written."""

    def without_continuous(config: dict[str, Any]) -> None:
        _four_hourly_transactional(config)
        del config["resilience:backup"]["classes"]["transactional"]["continuous_days"]

    def aurora(config: dict[str, Any]) -> None:
        _four_hourly_transactional(config)
        config["resilience:databases"][0].update(engine="aurora-postgresql", engine_version="16.4")

    for edit in (without_continuous, aurora):
        load_file(write_config(edit))


@pytest.mark.parametrize(
    ("kind", "minutes"),
    [
        # RDS: once a day whatever the rule says; the copy waits for the job's start (60)
        # and completion (480) windows.
        ("rds", 1_440 + 60 + 480),
        # Aurora, S3: their snapshot rules keep their frequency (the page limits RDS only).
        ("aurora", 240 + 60 + 480),
        ("s3", 240 + 60 + 480),
        # DynamoDB has no AWS Backup continuous backup: its continuous rule falls back to a
        # snapshot ("If AWS Backup is unable to perform a continuous backup, it tries to
        # perform a snapshot backup instead"); the 4-hourly rule still runs every 4 hours.
        ("dynamodb", 240 + 60 + 480),
    ],
)
def test_the_dr_copy_age_follows_what_aws_does_for_each_kind_of_store(
    write_config: ConfigWriter, kind: Any, minutes: int
) -> None:
    def aurora_with_four_hourly(config: dict[str, Any]) -> None:
        _four_hourly_transactional(config)
        config["resilience:databases"][0].update(engine="aurora-postgresql", engine_version="16.4")

    config = load_file(write_config(aurora_with_four_hourly)).aws
    assert config.copy_interval_minutes("transactional", kind) == minutes


def test_shipped_transactional_copies_reach_the_dr_vault_daily(
    synthesized: dict[str, SynthResult],
) -> None:
    """ReskFlow's database class: continuous backup (PITR 35 d) copied as a daily snapshot
    ("AWS Backup creates a snapshot and copies it with the frequency specified in the
    backup plan"), and no snapshot rule more often than daily."""
    rules = rules_of(plans(synthesized["primary"])["reskflow-primary-transactional"])
    continuous = rules["continuous"]
    assert continuous["enableContinuousBackup"] is True
    assert continuous["schedule"] == "cron(0 5 ? * * *)"
    assert continuous["copyActions"][0]["lifecycle"] == {"deleteAfter": 35}
    assert set(rules) == {"continuous", "daily", "weekly", "monthly", "yearly"}
    store = synthesized["primary"].outputs["data_protection"]["database:orders-db"]
    assert store["copy_interval_minutes"] == 1_440 + 60 + 480
    assert store["copy_basis"] == (
        "the continuous rule's daily snapshot copy every 1440 min + start window 60 min + "
        "completion window 480 min"
    )


def test_skafu_keeps_its_four_hourly_database_snapshots() -> None:
    """Skafu: "Every 4 hours", "30 days", cross-region, transaction logs every 15 minutes
    (L423-441). Its database class takes no AWS Backup continuous backup, so the 4-hourly
    snapshots run and are copied as written; PITR is the instance's own automated backups
    (30 days; RDS uploads transaction logs "every five minutes")."""
    from scripts.engine import synth

    loaded = load_file(ROOT / "examples/skafu/Pulumi.skafu-primary.yaml")
    result = synth(loaded)
    rules = rules_of(plans(result)["skafu-primary-database"])
    assert rules["four-hourly"]["schedule"] == "cron(0 2/4 ? * * *)"
    assert rules["four-hourly"]["lifecycle"] == {"deleteAfter": 30}
    assert rules["four-hourly"]["copyActions"][0]["destinationVaultArn"] == (
        "arn:aws:backup:eu-central-1:123456789012:backup-vault:skafu-dr"
    )
    assert "continuous" not in rules
    (db,) = resources(result, "aws:rds/instance:Instance")
    assert db["inputs"]["backupRetentionPeriod"] == 30
    assert db["options"]["ignore_changes"] == []  # RDS keeps its own backup window
    store = result.outputs["data_protection"]["database:platform-db"]
    assert store["copy_interval_minutes"] == 240 + 60 + 480


def test_a_backup_plan_name_over_50_characters_is_refused(write_config: ConfigWriter) -> None:
    """BackupPlanName: "Must contain 1 to 50 alphanumeric or '-_.' characters" (AWS Backup
    API, BackupPlanInput); the plans are named <system>-<role>-<class>."""

    def long_names(config: dict[str, Any]) -> None:
        config["resilience:name"] = "reskflow-platform"
        classes = config["resilience:backup"]["classes"]
        classes["customer-communications-archive"] = {"rules": classes["uploads"]["rules"]}

    with pytest.raises(ConfigError) as caught:
        load_file(write_config(long_names))
    assert [str(p) for p in caught.value.problems] == [
        "Pulumi.bad.yaml: resilience:backup.classes.customer-communications-archive: the "
        "backup plan 'reskflow-platform-primary-customer-communications-archive' would be 57 "
        "characters; AWS Backup allows 50: shorten the class name"
    ]
