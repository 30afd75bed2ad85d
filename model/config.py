"""Typed stack configuration.

One `StackConfig` is parsed from the `resilience:*` keys of a `Pulumi.<stack>.yaml` file (or
from the Pulumi runtime's config during `pulumi up`). Field names are the config keys: the
key path in an error message is the path a user edits. See `model.loader` for loading and
for how every problem in a file is collected into one error.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from model.regions import AWS_REGIONS

NAMESPACE = "resilience"

_SLUG = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")

# A value stored encrypted in the stack file (`pulumi config set --secret`). Offline it cannot
# be decrypted; the loader replaces it with this marker and format checks accept it.
SECRET_PLACEHOLDER = "[secret]"


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors (they are typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise ValueError(f"unknown AWS region '{value}'")
    return value


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            f"'{value}' must be 2-32 characters of lowercase letters, digits and '-', "
            "starting with a letter and not ending with '-'"
        )
    return value


def _tag_key(key: str) -> str:
    if key.lower().startswith("aws:"):
        raise ValueError("the 'aws:' prefix is reserved by AWS")
    if not _TAG_KEY.match(key):
        raise ValueError(
            f"'{key}' is not a valid AWS tag key (1-128 of letters, digits, . : / = + - @ _)"
        )
    return key


def _tag_value(value: str) -> str:
    if not _TAG_VALUE.match(value):
        raise ValueError(
            f"'{value}' is not a valid AWS tag value (0-256 of letters, digits, "
            "spaces and . : / = + - @ _)"
        )
    return value


Region = Annotated[str, AfterValidator(_region)]
TagKey = Annotated[str, AfterValidator(_tag_key)]
TagValue = Annotated[str, AfterValidator(_tag_value)]
Tags = dict[TagKey, TagValue]
Slug = Annotated[str, AfterValidator(_slug)]


class Role(StrEnum):
    PRIMARY = "primary"
    DR = "dr"


class Severity(StrEnum):
    """Escalation severities, lowest first. Topic and alarm routing key on these."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class DrMode(StrEnum):
    """How much of the workload runs in the DR region before a failover."""

    PILOT_LIGHT = "pilot-light"  # data replicas only, compute at zero
    WARM_STANDBY = "warm-standby"  # compute at a fraction of primary capacity
    ACTIVE = "active"  # full capacity


class RegionConfig(Strict):
    region: Region


class DrConfig(Strict):
    """DR targets and the DR region. Both stacks carry it: the primary needs RTO/RPO to size
    replication and alarms, the dr stack needs the mode and where to read the primary from."""

    region: Region
    rto_minutes: int = Field(gt=0, le=10_080, description="recovery time objective")
    rpo_minutes: int = Field(gt=0, le=10_080, description="recovery point objective")
    mode: DrMode = DrMode.PILOT_LIGHT
    # Fraction of primary capacity kept running in warm-standby mode.
    warm_standby_fraction: float = Field(default=0.25, gt=0, lt=1)
    # Fully qualified stack name of the primary (`org/project/stack`); the dr stack reads the
    # primary's outputs from it. Required when role is dr.
    primary_stack: str | None = Field(default=None, min_length=1)

    @field_validator("primary_stack")
    @classmethod
    def _stack_name(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[\w.-]+(/[\w.-]+){0,2}$", value):
            raise ValueError(
                f"'{value}' is not a stack name: expected 'stack', 'project/stack' "
                "or 'org/project/stack'"
            )
        return value


class ContactKind(StrEnum):
    EMAIL = "email"
    HTTPS = "https"  # generic webhook (Slack workflow, Teams, Opsgenie, ...)
    PAGERDUTY = "pagerduty"  # PagerDuty Events API v2 integration URL
    SLACK = "slack"  # Slack via AWS Chatbot / incoming webhook URL
    SMS = "sms"


class Contact(Strict):
    """One escalation channel. Webhook endpoints usually carry tokens: store them with
    `pulumi config set --secret --path` and they stay encrypted in the stack file."""

    kind: ContactKind
    endpoint: str = Field(min_length=1)
    name: str | None = None

    @field_validator("endpoint")
    @classmethod
    def _endpoint_shape(cls, value: str, info: object) -> str:
        if value == SECRET_PLACEHOLDER:
            return value
        data = getattr(info, "data", {})
        kind = data.get("kind")
        if kind == ContactKind.EMAIL and not _EMAIL.match(value):
            raise ValueError(f"'{value}' is not an email address")
        if kind in (ContactKind.HTTPS, ContactKind.PAGERDUTY, ContactKind.SLACK) and not (
            value.startswith("https://") and len(value) > len("https://")
        ):
            raise ValueError("webhook endpoints must be https:// URLs")
        if kind == ContactKind.SMS and not re.match(r"^\+[1-9]\d{6,14}$", value):
            raise ValueError(f"'{value}' is not an E.164 phone number (+15555550100)")
        return value


class Escalation(Strict):
    """Contacts per severity. Critical must reach a human; the others may be empty."""

    critical: list[Contact] = Field(min_length=1)
    error: list[Contact] = Field(default_factory=list)
    warning: list[Contact] = Field(default_factory=list)
    info: list[Contact] = Field(default_factory=list)

    def contacts(self, severity: Severity) -> list[Contact]:
        return list(getattr(self, severity.value))


class Slo(Strict):
    """Service level objective over a rolling window. Availability is a percentage."""

    availability: float = Field(
        gt=90.0,
        le=99.999,
        description="availability target in percent, in (90, 99.999]",
    )
    latency_p95_ms: int | None = Field(default=None, gt=0, le=600_000)
    latency_p99_ms: int | None = Field(default=None, gt=0, le=600_000)
    window_days: int = Field(default=30, ge=7, le=90)

    @property
    def error_budget(self) -> float:
        """Allowed bad-event ratio: 1 - availability."""
        return round(1.0 - self.availability / 100.0, 12)


ServiceTier = Literal["web", "api", "ai", "auth", "database", "worker"]


class Service(Strict):
    name: Slug
    tier: ServiceTier
    description: str | None = None
    slo: Slo
    runbook_url: str = Field(pattern=r"^https://\S+$")
    # Extra tags for this service's resources (on top of the stack tags).
    tags: Tags = Field(default_factory=dict)


class KmsConfig(Strict):
    deletion_window_days: int = Field(default=30, ge=7, le=30)
    # Create a multi-Region key for application (envelope) encryption in the primary and its
    # replica in the DR region, so replicated ciphertext stays readable after a failover.
    app_key: bool = False


class StackConfig(Strict):
    """Everything in the `resilience:` namespace of one stack file."""

    role: Role
    name: Slug = Field(description="system name; prefixes every physical resource name")
    environment: Slug = "production"
    primary: RegionConfig
    dr: DrConfig
    escalation: Escalation
    services: list[Service] = Field(min_length=1)
    tags: Tags = Field(default_factory=dict)
    kms: KmsConfig = Field(default_factory=KmsConfig)

    @property
    def region(self) -> str:
        """The region this stack deploys into."""
        return self.primary.region if self.role is Role.PRIMARY else self.dr.region

    @property
    def peer_region(self) -> str:
        return self.dr.region if self.role is Role.PRIMARY else self.primary.region

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)
