"""Backup under mocks: vaults, locks, the seeds' schedules, cross-region copies, selection,
notifications; invalid retention/lock combinations rejected with their key path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from model.loader import ConfigError, load_file
from scripts.engine import SynthResult
from tests.conftest import ConfigWriter, only, resources

PLAN = "aws:backup/plan:Plan"


def plans(result: SynthResult) -> dict[str, dict[str, Any]]:
    return {p["inputs"]["name"]: p for p in resources(result, PLAN)}


def rules_of(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["ruleName"]: r for r in plan["inputs"]["rules"]}


@pytest.mark.parametrize(
    ("data_class", "rule", "schedule", "delete_after", "cold_after"),
    [
        # ReskFlow: continuous replication; RPO 5 min needs point-in-time recovery (max 35 d).
        ("transactional", "continuous", "cron(0 5 ? * * *)", 35, None),
        # Skafu: database backups every 4 hours, kept 30 days, replicated cross-region.
        # At 02:00 + 4 h: clear of the RDS backup window (00:00-01:00) AWS Backup avoids.
        ("transactional", "four-hourly", "cron(0 2/4 ? * * *)", 30, None),
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
    rule = only(result, "aws:cloudwatch/eventRule:EventRule", "backup-failed-jobs")
    pattern = json.loads(rule["inputs"]["eventPattern"])
    assert pattern["source"] == ["aws.backup"]
    assert pattern["detail"]["state"] == ["FAILED", "ABORTED", "EXPIRED"]
    target = only(result, "aws:cloudwatch/eventTarget:EventTarget", "backup-failed-jobs-to-warning")
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
                "resilience:backup.classes.transactional.rules[1].retention_days: 7 days is "
                "shorter than the vault lock minimum (14 days): the vault would refuse these "
                "recovery points"
            ],
            id="retention-below-lock-minimum",
        ),
        pytest.param(
            lambda b: b["vault_lock"].update(max_retention_days=1000),
            [
                "resilience:backup.classes.transactional.rules[4].retention_days: 1095 days is "
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
