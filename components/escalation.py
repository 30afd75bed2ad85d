"""Escalation: one encrypted SNS topic per severity, with the contacts from config.

Routing follows the config's `escalation` map (the seeds: critical -> pager + email + chat,
warning -> chat). Every alarm of a severity notifies its topic on ALARM and on OK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from model.config import Contact, ContactKind, Severity

COMPONENT_TYPE = "resilience:monitoring:Escalation"

# Contact kind -> SNS protocol. Slack and PagerDuty are HTTPS webhooks.
PROTOCOLS: dict[ContactKind, str] = {
    ContactKind.EMAIL: "email",
    ContactKind.SMS: "sms",
    ContactKind.HTTPS: "https",
    ContactKind.PAGERDUTY: "https",
    ContactKind.SLACK: "https",
}
# PagerDuty confirms SNS subscriptions itself; others need a human to click the link.
AUTO_CONFIRMING = frozenset({ContactKind.PAGERDUTY})
# Services that publish into the topics: alarms, EventBridge rules, AWS Backup notifications.
PUBLISHERS = ("backup.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com")


@dataclass(frozen=True)
class EscalationArgs:
    name_prefix: str
    key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    contacts: Mapping[Severity, Sequence[Contact]] = field(default_factory=dict)


def topic_policy(topic_arn: str, account_id: str, partition: str) -> str:
    """Publishers limited to this account's alarms, rules and backup vaults; TLS only."""
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
            "Principal": {"Service": list(PUBLISHERS)},
            "Action": "SNS:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
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
                    lambda v: topic_policy(v[0], v[1], v[2])
                ),
                opts=child,
            )
            for index, contact in enumerate(args.contacts.get(severity, ())):
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
        self.register_outputs({f"{s.value}_topic_arn": arn for s, arn in self.topic_arns.items()})
