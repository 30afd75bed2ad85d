"""AWS Backup for one region: a locked, KMS-encrypted vault, one plan per data class with
cross-region copies to the other region's vault, tag-based selection, and failure
notifications to the warning topic.

Copies go to the peer region's vault by name (`<system>-<role>`), a contract both stacks
follow; the primary never reads the dr stack. Until the dr stack is deployed, copy jobs
fail and notify (the `backup-copy-job-failed` alarm and the vault events).

A resource is covered by tagging it `backup-policy=<class>`: a new database joins its
class's plan without any change here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy
from model.config import BackupClass, BackupConfig, Role
from model.tags import BACKUP_CLASS

COMPONENT_TYPE = "resilience:backup:RegionBackup"
SELECTION_TAG = BACKUP_CLASS
# Vault events that only ever report failures (BACKUP_JOB_COMPLETED would also report every
# success: failed backup and restore jobs come from EventBridge instead).
VAULT_FAILURE_EVENTS = ("COPY_JOB_FAILED", "S3_BACKUP_OBJECT_FAILED", "S3_RESTORE_OBJECT_FAILED")
# Backup and copy jobs report `detail.state`, restore jobs `detail.status` ("Some events
# report status: COMPLETED whereas other events report state: COMPLETED. This is consistent
# with the AWS Backup API", AWS Backup Developer Guide, "Monitoring AWS Backup events using
# Amazon EventBridge"; API: BackupJob.State, CopyJob.State, RestoreJobsListMember.Status), and
# a pattern's fields are ANDed: one rule each.
FAILED_JOB_PATTERN = {
    "source": ["aws.backup"],
    "detail-type": ["Backup Job State Change", "Copy Job State Change"],
    "detail": {"state": ["FAILED", "ABORTED", "EXPIRED"]},
}
FAILED_RESTORE_PATTERN = {
    "source": ["aws.backup"],
    "detail-type": ["Restore Job State Change"],
    "detail": {"status": ["FAILED", "ABORTED"]},
}
OPT_IN_TYPES = ("Aurora", "DynamoDB", "EBS", "EC2", "EFS", "RDS", "S3")
SERVICE_ROLE_POLICIES = (
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
)


def vault_name(system: str, role: Role) -> str:
    return f"{system}-{role.value}"


def vault_arn(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:backup:{region}:{account_id}:backup-vault:{name}"


def vault_policy() -> str:
    """Nobody, root included, deletes a recovery point or shortens its lifecycle by hand:
    recovery points leave the vault only when their retention ends."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyRecoveryPointDeletion",
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"],
                    "Resource": "*",
                }
            ],
        },
        sort_keys=True,
    )


def plan_rules(
    data_class: BackupClass,
    vault: pulumi.Input[str],
    peer_vault_arn: pulumi.Input[str],
    config: BackupConfig,
) -> list[aws.backup.PlanRuleArgs]:
    """The class's rules as AWS Backup plan rules; each copies to the peer vault with the
    same lifecycle."""

    def rule(
        name: str,
        schedule: str,
        delete_after: int,
        cold_after: int | None,
        *,
        copy: bool,
        continuous: bool = False,
    ) -> aws.backup.PlanRuleArgs:
        copies = [
            aws.backup.PlanRuleCopyActionArgs(
                destination_vault_arn=peer_vault_arn,
                lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                    delete_after=delete_after, cold_storage_after=cold_after
                ),
            )
        ]
        return aws.backup.PlanRuleArgs(
            rule_name=name,
            target_vault_name=vault,
            schedule=schedule,
            enable_continuous_backup=continuous or None,
            start_window=config.start_window_minutes,
            completion_window=config.completion_window_minutes,
            lifecycle=aws.backup.PlanRuleLifecycleArgs(
                delete_after=delete_after, cold_storage_after=cold_after
            ),
            copy_actions=copies if copy else None,
        )

    rules = []
    if data_class.continuous_days is not None:
        # Point-in-time recovery; the daily snapshot it takes is what gets copied.
        rules.append(
            rule(
                "continuous",
                "cron(0 5 ? * * *)",
                data_class.continuous_days,
                None,
                copy=True,
                continuous=True,
            )
        )
    for spec in data_class.rules:
        rules.append(
            rule(
                spec.name,
                spec.frequency.cron(spec.start_hour_utc),
                spec.retention_days,
                spec.cold_storage_after_days,
                copy=spec.cross_region_copy,
            )
        )
    return rules


@dataclass(frozen=True)
class RegionBackupArgs:
    system: str
    role: Role
    region: str
    peer_region: str
    config: BackupConfig
    provider: aws.Provider
    key_arn: pulumi.Input[str]
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    warning_topic_arn: pulumi.Input[str]


class RegionBackup(pulumi.ComponentResource):
    vault: aws.backup.Vault
    vault_arn: pulumi.Output[str]
    peer_vault_arn: pulumi.Output[str]
    plans: dict[str, aws.backup.Plan]

    def __init__(
        self, name: str, args: RegionBackupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        in_region = pulumi.ResourceOptions(parent=self, provider=args.provider)
        stateful = pulumi.ResourceOptions.merge(in_region, pulumi.ResourceOptions(protect=True))
        peer_role = Role.DR if args.role is Role.PRIMARY else Role.PRIMARY

        self.vault = aws.backup.Vault(
            f"{name}-vault",
            name=vault_name(args.system, args.role),
            kms_key_arn=args.key_arn,
            force_destroy=False,
            opts=stateful,
        )
        self.vault_arn = self.vault.arn
        self.peer_vault_arn = pulumi.Output.all(args.partition, args.account_id).apply(
            lambda v: vault_arn(v[0], args.peer_region, v[1], vault_name(args.system, peer_role))
        )
        aws.backup.VaultPolicy(
            f"{name}-vault-policy",
            backup_vault_name=self.vault.name,
            policy=vault_policy(),
            opts=in_region,
        )
        lock = args.config.vault_lock
        if lock is not None:
            aws.backup.VaultLockConfiguration(
                f"{name}-vault-lock",
                backup_vault_name=self.vault.name,
                min_retention_days=lock.min_retention_days,
                max_retention_days=lock.max_retention_days,
                # Set only in compliance mode: that is what makes the lock immutable later.
                changeable_for_days=lock.changeable_for_days if lock.mode == "compliance" else None,
                opts=stateful,
            )
        # Opt the region in for the resource types the bundle protects (S3 is off by default
        # in many accounts: a selection would then silently protect nothing), and let
        # Backup fully manage DynamoDB (cross-region copy and cold storage need it).
        aws.backup.RegionSettings(
            f"{name}-region-settings",
            resource_type_opt_in_preference=dict.fromkeys(OPT_IN_TYPES, True),
            resource_type_management_preference={"DynamoDB": True, "EFS": True},
            opts=in_region,
        )
        aws.backup.VaultNotifications(
            f"{name}-vault-notifications",
            backup_vault_name=self.vault.name,
            sns_topic_arn=args.warning_topic_arn,
            backup_vault_events=list(VAULT_FAILURE_EVENTS),
            opts=in_region,
        )
        for suffix, what, pattern, target_id in (
            (
                "failed-jobs",
                "backup and copy jobs that failed, aborted or expired",
                FAILED_JOB_PATTERN,
                "to-warning",
            ),
            (
                "failed-restores",
                "restore jobs that failed or aborted",
                FAILED_RESTORE_PATTERN,
                "restores-to-warning",
            ),
        ):
            rule = aws.cloudwatch.EventRule(
                f"{name}-{suffix}",
                # Named: autonamed, `<system>-primary-backup-failed-restores-<7 hex>` passes
                # EventBridge's 64 (PutRule, Name: "Maximum length of 64"; pulumi-aws
                # `AutoName("name", 64)`) only for system names up to 25.
                name=f"{args.system}-{args.role.value}-backup-{suffix}",
                description=f"AWS Backup {what}",
                event_pattern=json.dumps(pattern, sort_keys=True),
                opts=in_region,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{suffix}-to-warning",
                rule=rule.name,
                # The rule's only target; an auto-named Id (the resource's name plus 8
                # characters) passes PutTargets' 64-character limit only for short names.
                target_id=target_id,
                arn=args.warning_topic_arn,
                opts=in_region,
            )

        role = aws.iam.Role(
            f"{name}-role",
            description=f"AWS Backup service role for {args.system} in {args.region}",
            assume_role_policy=service_trust_policy("backup.amazonaws.com"),
            opts=in_region,
        )
        for index, policy in enumerate(SERVICE_ROLE_POLICIES):
            aws.iam.RolePolicyAttachment(
                f"{name}-role-policy-{index}",
                role=role.name,
                policy_arn=pulumi.Output.concat(
                    "arn:", args.partition, ":iam::aws:policy/", policy
                ),
                opts=in_region,
            )

        self.plans = {}
        for class_name, data_class in args.config.classes.items():
            plan = aws.backup.Plan(
                f"{name}-{class_name}",
                name=f"{args.system}-{args.role.value}-{class_name}",
                rules=plan_rules(data_class, self.vault.name, self.peer_vault_arn, args.config),
                opts=in_region,
            )
            aws.backup.Selection(
                f"{name}-{class_name}-selection",
                name=f"{args.system}-{args.role.value}-{class_name}"[:50],
                plan_id=plan.id,
                iam_role_arn=role.arn,
                selection_tags=[
                    aws.backup.SelectionSelectionTagArgs(
                        type="STRINGEQUALS", key=SELECTION_TAG, value=class_name
                    )
                ],
                opts=in_region,
            )
            self.plans[class_name] = plan
        self.register_outputs({"vault_arn": self.vault_arn, "peer_vault_arn": self.peer_vault_arn})
