"""The backup vaults, locks and plans the stacks declare, created through the AWS Backup
API (moto server) and read back: the declared values are ones the API accepts.

moto implements vaults, vault locks and plans; selections, vault policies and notifications
are not implemented by moto and are covered by the unit tests only."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.engine import SynthResult
from tests.conftest import aws_client, only, resources

pytestmark = pytest.mark.moto


def _lifecycle(declared: dict[str, Any]) -> dict[str, int]:
    out = {"DeleteAfterDays": declared["deleteAfter"]}
    if "coldStorageAfter" in declared:
        out["MoveToColdStorageAfterDays"] = declared["coldStorageAfter"]
    return out


def api_rule(declared: dict[str, Any]) -> dict[str, Any]:
    """A graph plan rule (Pulumi's names) as the AWS Backup API's BackupRuleInput."""
    rule: dict[str, Any] = {
        "RuleName": declared["ruleName"],
        "TargetBackupVaultName": declared["targetVaultName"],
        "ScheduleExpression": declared["schedule"],
        "StartWindowMinutes": declared["startWindow"],
        "CompletionWindowMinutes": declared["completionWindow"],
        "Lifecycle": _lifecycle(declared["lifecycle"]),
    }
    if declared.get("enableContinuousBackup"):
        rule["EnableContinuousBackup"] = True
    if declared.get("copyActions"):
        rule["CopyActions"] = [
            {
                "DestinationBackupVaultArn": copy["destinationVaultArn"],
                "Lifecycle": _lifecycle(copy["lifecycle"]),
            }
            for copy in declared["copyActions"]
        ]
    return rule


@pytest.mark.parametrize("stack", ["primary", "dr"])
def test_declared_vault_lock_and_plans_round_trip_through_the_api(
    synthesized: dict[str, SynthResult], moto_endpoint: str, stack: str
) -> None:
    result = synthesized[stack]
    region = result.graph["region"]
    backup = aws_client(moto_endpoint, "backup", region)

    vault = only(result, "aws:backup/vault:Vault")["inputs"]
    created = backup.create_backup_vault(
        BackupVaultName=vault["name"], EncryptionKeyArn=vault["kmsKeyArn"]
    )
    assert created["BackupVaultName"] == vault["name"]
    described = backup.describe_backup_vault(BackupVaultName=vault["name"])
    assert described["EncryptionKeyArn"] == vault["kmsKeyArn"]
    assert described["BackupVaultArn"].split(":")[3] == region

    lock = only(result, "aws:backup/vaultLockConfiguration:VaultLockConfiguration")["inputs"]
    backup.put_backup_vault_lock_configuration(
        BackupVaultName=lock["backupVaultName"],
        MinRetentionDays=lock["minRetentionDays"],
        MaxRetentionDays=lock["maxRetentionDays"],
    )
    locked = backup.describe_backup_vault(BackupVaultName=vault["name"])
    assert locked["Locked"] is True
    assert (locked["MinRetentionDays"], locked["MaxRetentionDays"]) == (7, 2555)

    declared_plans = resources(result, "aws:backup/plan:Plan")
    assert len(declared_plans) == 3
    for plan in declared_plans:
        rules = [api_rule(r) for r in plan["inputs"]["rules"]]
        plan_id = backup.create_backup_plan(
            BackupPlan={"BackupPlanName": plan["inputs"]["name"], "Rules": rules}
        )["BackupPlanId"]
        stored = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]
        assert stored["BackupPlanName"] == plan["inputs"]["name"]
        by_name = {r["RuleName"]: r for r in stored["Rules"]}
        assert set(by_name) == {r["RuleName"] for r in rules}
        for rule in rules:
            read = by_name[rule["RuleName"]]
            assert read["ScheduleExpression"] == rule["ScheduleExpression"]
            assert read["TargetBackupVaultName"] == vault["name"]
            assert read["Lifecycle"] == rule["Lifecycle"]
            assert read.get("CopyActions") == rule.get("CopyActions")


def test_a_compliance_lock_round_trips_through_the_api(moto_endpoint: str) -> None:
    """The compliance-mode lock the config allows (grace period >= 3 days) is accepted."""
    backup = aws_client(moto_endpoint, "backup", "eu-west-1")
    backup.create_backup_vault(BackupVaultName="compliance-vault")
    backup.put_backup_vault_lock_configuration(
        BackupVaultName="compliance-vault",
        MinRetentionDays=7,
        MaxRetentionDays=2555,
        ChangeableForDays=3,
    )
    vault = backup.describe_backup_vault(BackupVaultName="compliance-vault")
    assert vault["Locked"] is True
    assert vault["MinRetentionDays"] == 7
