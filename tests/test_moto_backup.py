"""The backup vaults, locks and plans the stacks declare, created through the AWS Backup
API (moto server) and read back: the declared values are ones the API stores.

A round trip proves wiring only: moto stores a schedule that is not a cron, a copy target
that is not a vault ARN and a lifecycle AWS refuses as readily as good ones. Each such case
is paired here with the rule or config check that refuses it before AWS would.

moto implements vaults, vault locks and plans; selections, vault policies and notifications
are not implemented by moto and are covered by the unit tests only."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from model.loader import ConfigError, load_file
from policies.rules import ALL_RULES
from policies.rules.core import ResourceView
from scripts.engine import SynthResult
from tests.conftest import ConfigWriter, aws_client, only, resources

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


# (case, edit of the first rule of a declared plan, the rule that refuses it, its message)
RefusedEdit = Callable[[dict[str, Any]], None]
REFUSED: list[tuple[str, RefusedEdit, str, str]] = [
    (
        # AWS Backup schedules are AWS cron expressions (BackupRuleInput ScheduleExpression:
        # "A cron expression in UTC"), six fields.
        "schedule-not-a-cron",
        lambda rule: rule.update(schedule="not a cron"),
        "aws-backup-plan-schedule-is-aws-cron",
        "schedule 'not a cron' is not an AWS cron expression",
    ),
    (
        # "If you specify a value or a * (asterisk) in one of the fields, you must use a ?
        # (question mark) in the other" (EventBridge, Schedule expressions: cron).
        "schedule-without-question-mark",
        lambda rule: rule.update(schedule="cron(0 5 * * * *)"),
        "aws-backup-plan-schedule-is-aws-cron",
        "needs a ? in exactly one of day-of-month and day-of-week",
    ),
    (
        # "The interval between backup jobs shouldn't be less than 60 minutes."
        "schedule-every-ten-minutes",
        lambda rule: rule.update(schedule="cron(0/10 * ? * * *)"),
        "aws-backup-plan-schedule-is-aws-cron",
        "AWS Backup jobs are at least 60 minutes apart",
    ),
    (
        # CopyAction DestinationBackupVaultArn: "An Amazon Resource Name (ARN) that uniquely
        # identifies the destination backup vault".
        "copy-target-not-a-vault-arn",
        lambda rule: rule["copyActions"][0].update(destinationVaultArn="reskflow-dr"),
        "aws-backup-plan-copy-target-is-vault-arn",
        "copies to 'reskflow-dr', which is not a backup vault ARN",
    ),
    (
        # Lifecycle DeleteAfterDays: "This value must be at least 90 days after the number of
        # days specified in MoveToColdStorageAfterDays".
        "cold-storage-under-90-days",
        lambda rule: rule.update(
            enableContinuousBackup=None, lifecycle={"coldStorageAfter": 30, "deleteAfter": 100}
        ),
        "aws-backup-plan-lifecycle-accepted",
        "deletes after 100 days, less than 90 days after moving to cold storage at 30",
    ),
]


@pytest.mark.parametrize(
    ("edit", "rule_id", "message"),
    [pytest.param(e, r, m, id=c) for c, e, r, m in REFUSED],
)
def test_moto_stores_what_aws_refuses_and_our_rules_refuse_it(
    synthesized: dict[str, SynthResult],
    moto_endpoint: str,
    edit: RefusedEdit,
    rule_id: str,
    message: str,
) -> None:
    result = synthesized["primary"]
    declared = next(
        p for p in resources(result, "aws:backup/plan:Plan") if p["name"].endswith("transactional")
    )
    plan = copy.deepcopy(declared)
    edit(plan["inputs"]["rules"][0])
    backup = aws_client(moto_endpoint, "backup", result.graph["region"])
    rules = [api_rule(r) for r in plan["inputs"]["rules"]]
    name = f"refused-{rule_id}-{len(message)}"
    plan_id = backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": rules})[
        "BackupPlanId"
    ]
    stored = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"]
    assert stored[0]["RuleName"] == rules[0]["RuleName"]  # moto took it as it came

    rule = {r.id: r for r in ALL_RULES}[rule_id]
    view = ResourceView(
        type=plan["type"],
        name=plan["name"],
        urn=plan["urn"],
        props=plan["inputs"],
        protect=True,
        provider_urn=plan["provider"],
        region=plan["region"],
    )
    found = list(rule.check(view))
    assert len(found) == 1 and message in found[0], found
    # The declared plan itself passes the same rule.
    assert list(rule.check(dataclasses.replace(view, props=declared["inputs"]))) == []


def test_the_config_refuses_the_cold_storage_lifecycle_before_any_plan(
    write_config: ConfigWriter,
) -> None:
    """The same lifecycle from the config never reaches a plan: the loader refuses it."""

    def short_cold(config: dict[str, Any]) -> None:
        monthly = config["resilience:backup"]["classes"]["configuration"]["rules"][1]
        monthly.update(cold_storage_after_days=30, retention_days=100)

    with pytest.raises(ConfigError) as caught:
        load_file(write_config(short_cold))
    assert [p.key for p in caught.value.problems] == [
        "resilience:backup.classes.configuration.rules[1].cold_storage_after_days"
    ]
