"""Keys and notification channels of a Google Cloud stack.

- Cloud KMS key rings and keys (rotated every 90 days, protected) in the locations the data
  lives in: the buckets' dual-region and Firestore's multi-region (a CMEK must be in its
  data's location), each usable by its Google service agent only.
- One Cloud Monitoring notification channel per contact, grouped by severity (the AWS
  stacks' escalation topics). Tokens (PagerDuty keys, webhook URLs) go to sensitive labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from model.config import Contact, ContactKind, Escalation
from model.enums import Severity

COMPONENT_TYPE = "resilience:gcp:Foundation"
ROTATION_SECONDS = 90 * 86_400  # CIS GCP 1.10: keys rotated within 90 days
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
# The APIs the stack's resources need; enabled here, never disabled on destroy (other
# workloads of the project use them too).
APIS = (
    "cloudkms.googleapis.com",
    "cloudscheduler.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "storage.googleapis.com",
)


@dataclass(frozen=True)
class GcpFoundationArgs:
    system: str
    project: str
    project_number: str
    # Cloud KMS location -> the Google service agents that encrypt with its key.
    key_locations: Mapping[str, tuple[str, ...]]
    escalation: Escalation
    provider: gcp.Provider


def service_agent(service: str, project_number: str) -> str:
    """The e-mail of a Google service agent of the project (documented formats)."""
    domains = {
        "storage": "gs-project-accounts.iam.gserviceaccount.com",
        "firestore": "gcp-sa-firestore.iam.gserviceaccount.com",
    }
    return f"service-{project_number}@{domains[service]}"


def _channel_args(contact: Contact) -> dict[str, Any]:
    endpoint = contact.endpoint
    if contact.kind is ContactKind.EMAIL:
        return {"type": "email", "labels": {"email_address": endpoint}}
    if contact.kind is ContactKind.SMS:
        return {"type": "sms", "labels": {"number": endpoint}}
    if contact.kind is ContactKind.PAGERDUTY:
        # https://events.pagerduty.com/integration/<key>/enqueue -> the integration key
        key = endpoint.rstrip("/").split("/")[-2] if endpoint.count("/") > 4 else endpoint
        return {"type": "pagerduty", "sensitive_labels": {"service_key": key}}
    # https (and Slack, which the loader turns away for Google Cloud stacks)
    # The URL carries the token: kept encrypted in the state.
    return {"type": "webhook_tokenauth", "labels": {"url": pulumi.Output.secret(endpoint)}}


class GcpFoundation(pulumi.ComponentResource):
    apis: list[gcp.projects.Service]
    keys: dict[str, gcp.kms.CryptoKey]
    # What encrypting with the keys waits for: the service agents' grants on them (a bucket
    # or database created first would be refused the key).
    key_grants: list[gcp.kms.CryptoKeyIAMMember]
    channels: dict[Severity, list[pulumi.Output[str]]]

    def __init__(
        self, name: str, args: GcpFoundationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.apis = [
            gcp.projects.Service(
                f"{name}-{api.split('.')[0]}",
                project=args.project,
                service=api,
                disable_on_destroy=False,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )
            for api in APIS
        ]
        after_apis = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=list(self.apis)
        )
        self.keys = {}
        self.key_grants = []
        for location, agents in sorted(args.key_locations.items()):
            ring = gcp.kms.KeyRing(
                f"{name}-ring-{location}",
                name=f"{args.system}-{location}",
                location=location,
                project=args.project,
                opts=pulumi.ResourceOptions.merge(after_apis, pulumi.ResourceOptions(protect=True)),
            )
            key = gcp.kms.CryptoKey(
                f"{name}-key-{location}",
                name=f"{args.system}-data",
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=f"{ROTATION_SECONDS}s",
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, protect=True),
            )
            for agent in agents:
                grant = gcp.kms.CryptoKeyIAMMember(
                    f"{name}-key-{location}-{agent}",
                    crypto_key_id=key.id,
                    role=ENCRYPTER,
                    member=f"serviceAccount:{service_agent(agent, args.project_number)}",
                    opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
                )
                self.key_grants.append(grant)
            self.keys[location] = key
        self.channels = {severity: [] for severity in Severity}
        for severity in Severity:
            for index, contact in enumerate(args.escalation.contacts(severity)):
                label = contact.name or contact.kind.value
                channel = gcp.monitoring.NotificationChannel(
                    f"{name}-{severity.value}-{index}",
                    display_name=f"{args.system} {severity.value}: {label}",
                    description=f"{severity.value} alerts of {args.system}",
                    project=args.project,
                    **_channel_args(contact),
                    opts=after_apis,
                )
                self.channels[severity].append(channel.name)
        self.register_outputs(
            {
                "keys": {location: key.id for location, key in self.keys.items()},
                "channels": {s.value: c for s, c in self.channels.items()},
            }
        )

    def channels_for(self, severity: Severity) -> list[pulumi.Output[str]]:
        """A severity's channels; an empty severity escalates to the next one up, so no
        alert goes nowhere (critical always has a contact)."""
        order = [Severity.INFO, Severity.WARNING, Severity.ERROR, Severity.CRITICAL]
        for level in order[order.index(severity) :]:
            if self.channels[level]:
                return self.channels[level]
        return self.channels[Severity.CRITICAL]
