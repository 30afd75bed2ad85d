"""Escalation: one encrypted SNS topic per severity, with the contacts from config.

Routing follows the config's `escalation` map (the seeds: critical -> pager + email + chat,
warning -> chat). Every alarm of a severity notifies its topic on ALARM and on OK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy
from model.config import Contact, ContactKind, Severity

COMPONENT_TYPE = "resilience:monitoring:Escalation"

# Contact kind -> SNS protocol. PagerDuty's CloudWatch integration accepts SNS directly;
# Slack webhooks cannot (no subscription confirmation, no SNS envelope): they are served by
# the relay function (components/relay/slack_relay.py).
PROTOCOLS: dict[ContactKind, str] = {
    ContactKind.EMAIL: "email",
    ContactKind.SMS: "sms",
    ContactKind.HTTPS: "https",
    ContactKind.PAGERDUTY: "https",
}
RELAY_SOURCE = Path(__file__).parent / "relay" / "slack_relay.py"
# PagerDuty confirms SNS subscriptions itself; others need a human to click the link.
AUTO_CONFIRMING = frozenset({ContactKind.PAGERDUTY})
# Services that publish into the topics as themselves: alarms and AWS Backup notifications
# (EventBridge rules have a statement of their own, see topic_policy).
PUBLISHERS = ("backup.amazonaws.com", "cloudwatch.amazonaws.com")
EVENTS = "events.amazonaws.com"


@dataclass(frozen=True)
class EscalationArgs:
    name_prefix: str
    key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    contacts: Mapping[Severity, Sequence[Contact]] = field(default_factory=dict)
    log_retention_days: int = 30
    # More AWS services that publish into the topics (AWS Budgets, Cost Anomaly Detection).
    extra_publishers: tuple[str, ...] = ()


def topic_policy(
    topic_arn: str, account_id: str, partition: str, extra_publishers: Sequence[str] = ()
) -> str:
    """Publishers limited to this account's alarms, rules and backup vaults (and the extra
    services given, e.g. budgets); TLS only."""
    region = topic_arn.split(":")[3]
    statements = [
        {
            "Sid": "AccountOwnerManagesTopic",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": [
                "SNS:GetTopicAttributes",
                "SNS:SetTopicAttributes",
                "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic",
                "SNS:Publish",
            ],
            "Resource": topic_arn,
        },
        {
            "Sid": "AwsServicesOfThisAccountPublish",
            "Effect": "Allow",
            "Principal": {"Service": [*PUBLISHERS, *extra_publishers]},
            "Action": "SNS:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        # Amazon EventBridge User Guide, "Using resource-based policies for Amazon
        # EventBridge", Amazon SNS permissions: events.amazonaws.com may publish under
        # "aws:SourceArn": "arn:aws:events:region:account-id:rule/rule-name". Any rule of this
        # account in the topic's region (GuardDuty findings, AWS Backup job failures).
        {
            "Sid": "EventBridgeRulesOfThisAccountPublish",
            "Effect": "Allow",
            "Principal": {"Service": EVENTS},
            "Action": "SNS:Publish",
            "Resource": topic_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:events:{region}:{account_id}:rule/*"}
            },
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "SNS:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class Escalation(pulumi.ComponentResource):
    """Topics by severity; `topic_arns[severity]` is what alarms notify."""

    topic_arns: dict[Severity, pulumi.Output[str]]

    def __init__(
        self, name: str, args: EscalationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic_arns = {}
        topics: dict[Severity, aws.sns.Topic] = {}
        for severity in Severity:
            topic = aws.sns.Topic(
                f"{name}-{severity.value}",
                display_name=f"{args.name_prefix} {severity.value}",
                kms_master_key_id=args.key_arn,
                opts=child,
            )
            aws.sns.TopicPolicy(
                f"{name}-{severity.value}-policy",
                arn=topic.arn,
                policy=pulumi.Output.all(topic.arn, args.account_id, args.partition).apply(
                    lambda v: topic_policy(v[0], v[1], v[2], args.extra_publishers)
                ),
                opts=child,
            )
            topics[severity] = topic
            for index, contact in enumerate(args.contacts.get(severity, ())):
                if contact.kind is ContactKind.SLACK:
                    continue  # through the relay, below
                # Webhook URLs carry tokens: keep them secret in state and in the graph.
                endpoint: pulumi.Input[str] = (
                    contact.endpoint
                    if contact.kind in (ContactKind.EMAIL, ContactKind.SMS)
                    else pulumi.Output.secret(contact.endpoint)
                )
                aws.sns.TopicSubscription(
                    f"{name}-{severity.value}-{index}-{contact.kind.value}",
                    topic=topic.arn,
                    protocol=PROTOCOLS[contact.kind],
                    endpoint=endpoint,
                    endpoint_auto_confirms=contact.kind in AUTO_CONFIRMING,
                    opts=child,
                )
            self.topic_arns[severity] = topic.arn
        slack = {
            severity: [c for c in args.contacts.get(severity, ()) if c.kind is ContactKind.SLACK]
            for severity in Severity
        }
        if any(slack.values()):
            self._slack_relay(name, args, topics, slack)
        self.register_outputs({f"{s.value}_topic_arn": arn for s, arn in self.topic_arns.items()})

    def _slack_relay(
        self,
        name: str,
        args: EscalationArgs,
        topics: Mapping[Severity, aws.sns.Topic],
        slack: Mapping[Severity, Sequence[Contact]],
    ) -> None:
        """One relay function per region, subscribed to every topic that has Slack contacts.
        The webhook URLs reach it as a KMS-encrypted environment variable (secret in state)."""
        child = pulumi.ResourceOptions(parent=self)
        function_name = f"{args.name_prefix}-slack-relay"
        role = aws.iam.Role(
            f"{name}-slack-relay-role",
            # Named like the function: autonaming would append 8 characters to the logical
            # name, over IAM's 64 for longer system names (pulumi-aws names roles within 64,
            # provider/resources.go `AutoName("name", 64, "-")`; CreateRole RoleName max 64).
            name=function_name,
            description="Runs the SNS to Slack relay",
            assume_role_policy=service_trust_policy("lambda.amazonaws.com"),
            opts=child,
        )
        logs = aws.cloudwatch.LogGroup(
            f"{name}-slack-relay-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.key_arn,
            # Logs are evidence, like every other log group of the bundle.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)),
        )
        aws.iam.RolePolicy(
            f"{name}-slack-relay-policy",
            role=role.id,
            policy=pulumi.Output.all(logs.arn, args.key_arn).apply(
                lambda v: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": f"{v[0]}:*",
                            },
                            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": v[1]},
                        ],
                    },
                    sort_keys=True,
                )
            ),
            opts=child,
        )
        routed = [s for s in Severity if slack[s]]
        routes = pulumi.Output.all(*[topics[s].arn for s in routed]).apply(
            lambda arns: json.dumps(
                {arn: [c.endpoint for c in slack[s]] for arn, s in zip(arns, routed, strict=True)},
                sort_keys=True,
            )
        )
        function = aws.lambda_.Function(
            f"{name}-slack-relay",
            name=function_name,
            description="Posts the escalation topics' notifications to Slack webhooks",
            runtime="python3.12",
            handler="slack_relay.handler",
            code=pulumi.AssetArchive(
                {"slack_relay.py": pulumi.StringAsset(RELAY_SOURCE.read_text(encoding="utf-8"))}
            ),
            role=role.arn,
            timeout=15,
            memory_size=128,
            kms_key_arn=args.key_arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={"SLACK_ROUTES": pulumi.Output.secret(routes)}
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs]),
        )
        for severity in routed:
            permission = aws.lambda_.Permission(
                f"{name}-slack-relay-{severity.value}-invoke",
                action="lambda:InvokeFunction",
                function=function.name,
                principal="sns.amazonaws.com",
                source_arn=topics[severity].arn,
                opts=child,
            )
            aws.sns.TopicSubscription(
                f"{name}-{severity.value}-slack-relay",
                topic=topics[severity].arn,
                protocol="lambda",
                endpoint=function.arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
            )
