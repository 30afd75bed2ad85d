"""`resilience preflight`: read-only questions to the account and region of one stack, asked
before its first `pulumi up`, about what would collide or fail there.

Every call is a read (Describe*, Get*, List*, Head*, Simulate*); tests record every API
operation through botocore's event hooks and assert it. The checks:

1. account singletons the stack's config creates or expects (AWS Config recorder and delivery
   channel, GuardDuty detector, Security Hub, IAM Access Analyzer);
2. SMS escalation: the SNS SMS sandbox and an origination identity for the destinations;
3. service quotas the stack's resources need (counted from its offline graph) against the
   account's quota minus its current usage;
4. the KMS permissions the deploying principal needs on the keys the stack creates;
5. the Pulumi state backend (bootstrap/): bucket, versioning, encryption, access, key, region;
6. the GitHub OIDC provider and the deploy role's trust of this repository (CI deploys).

Each check names its AWS source next to it. A check that cannot read what it needs (access
denied, an API not answering) says `unknown`, never `pass`.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlparse

import yaml
from botocore.exceptions import BotoCoreError, ClientError

from components.autoscaling import capacity_for, scaled
from components.state_backend import state_bucket_name
from model.config import ContactKind, Role, StackConfig
from scripts.ops.aws import Clients

Status = Literal["pass", "fail", "warn", "unknown"]
Mode = Literal["create", "existing", "off"]
SINGLETONS = ("config_recorder", "guardduty", "security_hub", "access_analyzer")
# The subject GitHub puts in the OIDC token of a job in the `production` environment, which
# is where .github/workflows/deploy.yml runs `pulumi up` (README, CI/CD).
DEPLOY_ENVIRONMENT = "production"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"


class PreflightError(Exception):
    """Preflight cannot run at all (no credentials, bad option): exit code 2."""


@dataclass(frozen=True)
class Check:
    id: str
    status: Status
    detail: str
    remediation: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "status": self.status,
            "detail": self.detail,
            "remediation": self.remediation,
        }


@dataclass(frozen=True)
class Report:
    stack: str
    account: str | None
    region: str
    checks: tuple[Check, ...]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "fail")

    @property
    def exit_code(self) -> int:
        """1 when a check failed; warnings and unknowns do not fail the run."""
        return 1 if self.failed else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "account": self.account,
            "region": self.region,
            "checks": [c.as_json() for c in self.checks],
        }


# -- the stack's config ---------------------------------------------------------------------


def singleton_mode(config: StackConfig, service: str) -> Mode:
    """`security.<service>.mode`: create (the stack creates the account's singleton), existing
    (one exists and the stack uses it) or off. Until that key lands in model/config.py the
    current switches map onto it: enabled -> create, disabled -> off."""
    section: Any = getattr(config.security, service)
    mode = getattr(section, "mode", None)
    if mode is not None:
        value = str(getattr(mode, "value", mode))
        if value not in ("create", "existing", "off"):
            raise PreflightError(f"security.{service}.mode: unknown mode {value!r}")
        return cast(Mode, value)
    enabled = section if isinstance(section, bool) else bool(section.enabled)
    return "create" if enabled else "off"


def singleton_modes(config: StackConfig) -> dict[str, Mode]:
    return {service: singleton_mode(config, service) for service in SINGLETONS}


@dataclass(frozen=True)
class Backend:
    """Where the stack's Pulumi state and secrets key live, and where that was read."""

    bucket: str | None  # None: not an S3 backend
    bucket_region: str | None
    key: str | None  # awskms key id, ARN or alias
    key_region: str | None
    url: str
    source: str


def _query(query: str, name: str) -> str | None:
    values = parse_qs(query).get(name)
    return values[0] if values else None


def parse_backend(url: str, secrets_provider: str | None, source: str) -> Backend:
    """`s3://<bucket>?region=<r>&...` and `awskms://<key>?region=<r>` (Pulumi's URL forms,
    as components/state_backend.py writes them)."""
    parsed = urlparse(url)
    bucket = parsed.netloc if parsed.scheme == "s3" else None
    bucket_region = _query(parsed.query, "region") if bucket else None
    key: str | None = None
    key_region: str | None = None
    if secrets_provider and secrets_provider.startswith("awskms://"):
        kms = urlparse(secrets_provider)
        key = (kms.netloc + kms.path).strip("/") or None
        key_region = _query(kms.query, "region")
    return Backend(bucket, bucket_region, key, key_region, url, source)


def stack_secrets_provider(stack_file: Path | None) -> str | None:
    """The `secretsprovider:` line `pulumi stack init --secrets-provider` writes into the
    stack file (README, CI/CD step 1)."""
    if stack_file is None or not stack_file.is_file():
        return None
    try:
        document = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    value = document.get("secretsprovider") if isinstance(document, dict) else None
    return str(value) if value else None


def bootstrap_backend(project_dir: Path, account: str) -> Backend | None:
    """The backend bootstrap/ creates, from bootstrap/Pulumi.bootstrap.yaml: the bucket
    `<name>-pulumi-state-<region>-<account>` and the key `alias/pulumi/<name>-secrets`
    (components/state_backend.py names them so)."""
    path = project_dir / "bootstrap" / "Pulumi.bootstrap.yaml"
    if not path.is_file():
        return None
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        values = document["config"]
        name, region = str(values["bootstrap:name"]), str(values["bootstrap:region"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    bucket = state_bucket_name(name, region, account)
    return Backend(
        bucket=bucket,
        bucket_region=region,
        key=f"alias/pulumi/{name}-secrets",
        key_region=region,
        url=f"s3://{bucket}?region={region}",
        source=f"{path.relative_to(project_dir)} (no PULUMI_BACKEND_URL given)",
    )


@dataclass(frozen=True)
class CiTarget:
    """The CI deploy: its role and the repository whose `production` jobs assume it."""

    workflow: str  # the workflow file that deploys
    role_arn: str | None
    repository: str | None  # OWNER/REPO


@dataclass(frozen=True)
class Inputs:
    stack: str
    config: StackConfig
    graph: Mapping[str, Any]
    # The backend: an explicit URL (--backend-url, PULUMI_BACKEND_URL), else the bootstrap
    # config of `project_dir`; the secrets provider: explicit, else the stack file's line.
    backend_url: str | None = None
    secrets_provider: str | None = None
    project_dir: Path | None = None
    stack_file: Path | None = None
    ci: CiTarget | None = None
    modes: Mapping[str, Mode] | None = None  # None: from the config (singleton_mode)


def resolve_backend(inputs: Inputs, account: str) -> Backend | None:
    secrets = inputs.secrets_provider or stack_secrets_provider(inputs.stack_file)
    derived = bootstrap_backend(inputs.project_dir, account) if inputs.project_dir else None
    if inputs.backend_url:
        backend = parse_backend(inputs.backend_url, secrets, "the backend URL given")
        if backend.key is None and derived is not None and derived.bucket == backend.bucket:
            return Backend(
                backend.bucket,
                backend.bucket_region,
                derived.key,
                derived.key_region,
                backend.url,
                backend.source,
            )
        return backend
    if derived is not None and secrets:
        explicit = parse_backend(derived.url, secrets, derived.source)
        return Backend(
            derived.bucket,
            derived.bucket_region,
            explicit.key,
            explicit.key_region,
            derived.url,
            derived.source,
        )
    return derived


# -- identity -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    partition: str
    principal: str | None  # the IAM role or user ARN policies attach to (simulation source)
    why_not: str = ""


_ASSUMED = re.compile(r"^arn:([\w-]+):sts::(\d{12}):assumed-role/([^/]+)/.+$")


def identity(clients: Clients, region: str) -> Identity:
    """GetCallerIdentity, and the role behind an assumed-role session. "assumed-role" ARNs
    drop the role's path, so the role ARN comes from GetRole (IAM API Reference, GetRole)."""
    try:
        caller = clients("sts", region).get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        raise PreflightError(f"cannot identify the caller (sts:GetCallerIdentity): {exc}") from None
    arn, account = str(caller["Arn"]), str(caller["Account"])
    partition = arn.split(":")[1]
    assumed = _ASSUMED.match(arn)
    if assumed:
        try:
            role = clients("iam", region).get_role(RoleName=assumed.group(3))["Role"]
            return Identity(account, arn, partition, str(role["Arn"]))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "ClientError")
            return Identity(
                account, arn, partition, None, f"iam:GetRole {assumed.group(3)}: {code}"
            )
    if ":iam::" in arn and (":user/" in arn or ":role/" in arn):
        return Identity(account, arn, partition, arn)
    return Identity(account, arn, partition, None, f"{arn} is not an IAM role or user session")


# -- calls ----------------------------------------------------------------------------------


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "ClientError"))


def _unknown(check_id: str, what: str, exc: Exception, permission: str) -> Check:
    reason = f"{_code(exc)}: {exc}" if isinstance(exc, ClientError) else f"{exc}"
    return Check(
        check_id,
        "unknown",
        f"could not read {what} ({reason})",
        f"let the caller {permission} and rerun",
    )


def _all(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item of a listing, through botocore's paginator when the operation has one."""
    if client.can_paginate(operation):
        items: list[Any] = []
        for page in client.get_paginator(operation).paginate(**kwargs):
            items.extend(page.get(key, []))
        return items
    return list(getattr(client, operation)(**kwargs).get(key, []))


# -- 1. account singletons -------------------------------------------------------------------

_MODE_KEY = "resilience:security.{service}.mode"


def _mode_remediation(service: str, found: str) -> str:
    key = _MODE_KEY.format(service=service)
    return (
        f"set {key}: existing to use {found} (or remove it first if nothing else uses it; "
        "`pulumi import` makes this stack own it)"
    )


@dataclass(frozen=True)
class Singleton:
    check_id: str
    service: str  # the section of resilience:security
    what: str
    quota: str  # why a second one fails


RECORDER = Singleton(
    "config-recorder",
    "config_recorder",
    "AWS Config recorder",
    "AWS Config allows one customer managed configuration recorder per account per Region",
)
CHANNEL = Singleton(
    "config-delivery-channel",
    "config_recorder",
    "AWS Config delivery channel",
    "AWS Config allows one delivery channel per account per Region",
)
DETECTOR = Singleton(
    "guardduty-detector",
    "guardduty",
    "GuardDuty detector",
    "GuardDuty allows one detector per account per Region",
)
HUB = Singleton(
    "security-hub",
    "security_hub",
    "Security Hub subscription",
    "EnableSecurityHub refuses an account already subscribed in the Region "
    "(ResourceConflictException)",
)
ANALYZER = Singleton(
    "access-analyzer",
    "access_analyzer",
    "IAM Access Analyzer account analyzer",
    "IAM Access Analyzer allows 1 account-level analyzer per type per account per Region",
)


def planned_names(graph: Mapping[str, Any], typ: str, key: str) -> set[str]:
    """The names the stack gives its resources of a type (the graph's inputs)."""
    return {
        str(r["inputs"][key])
        for r in graph.get("resources", [])
        if r.get("type") == typ and key in (r.get("inputs") or {})
    }


def _singleton(spec: Singleton, mode: Mode, found: list[str], own: set[str] | None = None) -> Check:
    """`own`: the names the stack itself gives the singleton. A singleton of exactly those
    names is this stack's from an earlier `pulumi up`, not a collision (the recorder, its
    delivery channel and the analyzer have names; a detector and a hub have none)."""
    check_id, service, what, quota = spec.check_id, spec.service, spec.what, spec.quota
    key = _MODE_KEY.format(service=service)
    if mode == "off":
        return Check(check_id, "pass", f"{key} is off: the stack neither creates nor uses {what}")
    if mode == "create":
        if found and own and set(found) <= own:
            return Check(
                check_id,
                "pass",
                f"{what} {', '.join(found)} exists with the name this stack gives it: the "
                "stack's own, from an earlier `pulumi up`",
            )
        if found:
            return Check(
                check_id,
                "fail",
                f"{what} already exists ({', '.join(found)}) and the stack would create "
                f"another: {quota}",
                _mode_remediation(service, ", ".join(found)),
            )
        return Check(check_id, "pass", f"no {what} yet: the stack creates it")
    if not found:
        return Check(
            check_id,
            "fail",
            f"{key} is existing but there is no {what} in this account and region",
            f"create it (or set {key}: create so that the stack does)",
        )
    return Check(check_id, "pass", f"uses the existing {what} ({', '.join(found)})")


def check_config(inputs: Inputs, clients: Clients, mode: Mode) -> list[Check]:
    """AWS Config: "You can create only one customer managed configuration recorder for each
    account for each AWS Region" (Config API Reference, PutConfigurationRecorder) and "You can
    have only one delivery channel for each account for each AWS Region"
    (PutDeliveryChannel). Service-linked recorders (`servicePrincipal` set) do not count."""
    if mode == "off":
        return [_singleton(RECORDER, mode, [])]
    config = clients("config", inputs.config.region)
    out = []
    try:
        recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
        names = [str(r["name"]) for r in recorders if not r.get("servicePrincipal")]
        own = planned_names(inputs.graph, "aws:cfg/recorder:Recorder", "name")
        out.append(_singleton(RECORDER, mode, names, own))
    except (ClientError, BotoCoreError) as exc:
        out.append(_unknown("config-recorder", "the Config recorders", exc, "config:Describe*"))
    try:
        channels = config.describe_delivery_channels()["DeliveryChannels"]
        out.append(
            _singleton(
                CHANNEL,
                mode,
                [str(c["name"]) for c in channels],
                planned_names(inputs.graph, "aws:cfg/deliveryChannel:DeliveryChannel", "name"),
            )
        )
    except (ClientError, BotoCoreError) as exc:
        out.append(
            _unknown("config-delivery-channel", "the delivery channels", exc, "config:Describe*")
        )
    return out


def check_guardduty(inputs: Inputs, clients: Clients, mode: Mode) -> list[Check]:
    """ "You can have only one detector per account per Region" (GuardDuty API Reference,
    CreateDetector). An existing detector that is suspended produces no findings."""
    if mode == "off":
        return [_singleton(DETECTOR, mode, [])]
    guardduty = clients("guardduty", inputs.config.region)
    try:
        ids = [str(i) for i in _all(guardduty, "list_detectors", "DetectorIds")]
    except (ClientError, BotoCoreError) as exc:
        return [_unknown("guardduty-detector", "the detectors", exc, "guardduty:ListDetectors")]
    check = _singleton(DETECTOR, mode, ids)
    if mode == "existing" and ids and check.status == "pass":
        try:
            status = guardduty.get_detector(DetectorId=ids[0]).get("Status")
        except (ClientError, BotoCoreError) as exc:
            return [_unknown("guardduty-detector", "the detector", exc, "guardduty:GetDetector")]
        if status != "ENABLED":
            return [
                Check(
                    "guardduty-detector",
                    "warn",
                    f"the existing detector {ids[0]} is {status}: it produces no findings",
                    "enable it (GuardDuty console or UpdateDetector --enable)",
                )
            ]
    return [check]


def check_security_hub(inputs: Inputs, clients: Clients, mode: Mode) -> list[Check]:
    """DescribeHub answers when Security Hub is enabled in the Region; otherwise
    InvalidAccessException ("Account ... is not subscribed to AWS Security Hub"). Enabling it
    again fails: EnableSecurityHub's ResourceConflictException, "The resource specified in the
    request conflicts with an existing resource" (Security Hub API Reference)."""
    if mode == "off":
        return [_singleton(HUB, mode, [])]
    try:
        hub = clients("securityhub", inputs.config.region).describe_hub()
        found = [str(hub.get("HubArn", "hub/default"))]
    except ClientError as exc:
        if _code(exc) != "InvalidAccessException":
            return [_unknown("security-hub", "the hub", exc, "securityhub:DescribeHub")]
        found = []
    except BotoCoreError as exc:
        return [_unknown("security-hub", "the hub", exc, "securityhub:DescribeHub")]
    return [_singleton(HUB, mode, found)]


def check_access_analyzer(inputs: Inputs, clients: Clients, mode: Mode) -> list[Check]:
    """IAM Access Analyzer quotas: "Maximum account-level analyzers per analyzer type per AWS
    account per Region: 1" (default and maximum). The stack's analyzer has type ACCOUNT
    (components/security_baseline.py)."""
    if mode == "off":
        return [_singleton(ANALYZER, mode, [])]
    try:
        analyzers = _all(
            clients("accessanalyzer", inputs.config.region),
            "list_analyzers",
            "analyzers",
            type="ACCOUNT",
        )
    except (ClientError, BotoCoreError) as exc:
        return [_unknown("access-analyzer", "the analyzers", exc, "access-analyzer:ListAnalyzers")]
    return [
        _singleton(
            ANALYZER,
            mode,
            [str(a["name"]) for a in analyzers],
            planned_names(inputs.graph, "aws:accessanalyzer/analyzer:Analyzer", "analyzerName"),
        )
    ]


# -- 2. SMS -----------------------------------------------------------------------------------


def _sms_numbers(config: StackConfig) -> list[str]:
    numbers = []
    for severity in ("critical", "error", "warning", "info"):
        for contact in getattr(config.escalation, severity):
            if contact.kind is ContactKind.SMS:
                numbers.append(contact.endpoint)
    return list(dict.fromkeys(numbers))


def check_sms(inputs: Inputs, clients: Clients) -> list[Check]:
    """SMS contacts only reach people outside the SNS SMS sandbox, or verified numbers in it:
    "While your Amazon Web Services account is in the SMS sandbox ... you can send SMS messages
    only to verified destination phone numbers" (SNS API Reference,
    GetSMSSandboxAccountStatus). The sandbox is per Region.

    Origination identities are read from AWS End User Messaging SMS (the pinpoint-sms-voice-v2
    API, DescribePhoneNumbers): SNS "has integrated with AWS End User Messaging SMS for the
    delivery of SMS messages" (SNS Developer Guide, Origination identities), and Pinpoint's end
    of support leaves the SMS APIs "supported by AWS End User Messaging". US destinations need
    one: "US telecom providers no longer support using person-to-person (P2P) long codes for
    application-to-person (A2P) communications to US destinations. Instead, you need to use
    another type of origination ID" (SNS Developer Guide, Requesting 10DLC numbers, toll-free
    numbers, and P2P long codes)."""
    numbers = _sms_numbers(inputs.config)
    if not numbers:
        return [Check("sms", "pass", "no SMS contacts: nothing to check")]
    region = inputs.config.region
    out: list[Check] = []
    shown = [n if not n.startswith("[") else "(a secret number)" for n in numbers]
    sns = clients("sns", region)
    try:
        sandbox = bool(sns.get_sms_sandbox_account_status()["IsInSandbox"])
        if not sandbox:
            out.append(Check("sms-sandbox", "pass", f"{region} is out of the SMS sandbox"))
        else:
            listed = _all(sns, "list_sms_sandbox_phone_numbers", "PhoneNumbers")
            verified = {str(p["PhoneNumber"]) for p in listed if p.get("Status") == "Verified"}
            missing = [n for n in numbers if n not in verified]
            if missing:
                out.append(
                    Check(
                        "sms-sandbox",
                        "fail",
                        f"{region} is in the SMS sandbox: SNS sends SMS only to verified "
                        f"numbers, and {', '.join(missing)} is not verified, so these pages "
                        "never arrive",
                        "move the account out of the SMS sandbox (SNS console, Text "
                        "messaging (SMS), Exit SMS sandbox), or verify the numbers there",
                    )
                )
            else:
                out.append(
                    Check(
                        "sms-sandbox",
                        "warn",
                        f"{region} is in the SMS sandbox; {', '.join(shown)} is verified, any "
                        "other number would receive nothing",
                        "move the account out of the SMS sandbox before production",
                    )
                )
    except (ClientError, BotoCoreError) as exc:
        out.append(_unknown("sms-sandbox", "the SMS sandbox status", exc, "sns:GetSMSSandbox*"))
    try:
        phones = _all(
            clients("pinpoint-sms-voice-v2", region), "describe_phone_numbers", "PhoneNumbers"
        )
    except (ClientError, BotoCoreError) as exc:
        out.append(
            _unknown("sms-origination", "the origination numbers", exc, "sms-voice:Describe*")
        )
        return out
    usable = [
        p
        for p in phones
        if p.get("Status") == "ACTIVE" and "SMS" in (p.get("NumberCapabilities") or [])
    ]
    north_america = [n for n in numbers if n.startswith("+1")]
    if north_america:
        us = [p for p in usable if p.get("IsoCountryCode") in ("US", "CA")]
        if not us:
            out.append(
                Check(
                    "sms-origination",
                    "fail",
                    f"{', '.join(north_america)} need a registered US or Canadian origination "
                    f"number (10DLC, toll-free or short code) in {region}; none is active",
                    "request and register one in AWS End User Messaging SMS, in this Region",
                )
            )
        else:
            out.append(
                Check(
                    "sms-origination",
                    "pass",
                    f"active origination number(s) for +1: "
                    f"{', '.join(str(p['PhoneNumber']) for p in us)}",
                )
            )
    elif not usable:
        out.append(
            Check(
                "sms-origination",
                "warn",
                f"no active origination number in {region}; whether "
                f"{', '.join(shown)} needs one (or a sender ID) depends on the country",
                "check the destination countries in 'Supported countries and regions for SMS "
                "messaging with AWS End User Messaging SMS'",
            )
        )
    else:
        out.append(Check("sms-origination", "pass", f"{len(usable)} active origination number(s)"))
    return out


# -- 3. quotas --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    value: float | None
    usage: int | None
    read_from: str  # what the value came from
    applied: bool  # the account's value (False: the documented default, not read)
    usage_exact: bool = True  # False: an upper bound (e.g. counts keys the quota excludes)


def _counts(graph: Mapping[str, Any]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for resource in graph.get("resources", []):
        if resource.get("custom") and resource.get("region"):
            counts[(str(resource["type"]), str(resource["region"]))] += 1
    return counts


def _service_quota(
    clients: Clients, region: str, service: str, code: str, default: float | None
) -> tuple[float | None, str, bool]:
    """GetServiceQuota "retrieves the applied quota value ... If the applied quota value is not
    available for a quota, the quota is not retrieved" (Service Quotas API Reference): then the
    default (GetAWSDefaultServiceQuota), then the documented default."""
    quotas = clients("service-quotas", region)
    try:
        value = quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"]
        return float(value), f"Service Quotas {service} {code}", True
    except ClientError as exc:
        if _code(exc) != "NoSuchResourceException":
            raise
    try:
        value = quotas.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)
        return float(value["Quota"]["Value"]), f"Service Quotas default {service} {code}", True
    except ClientError as exc:
        if _code(exc) != "NoSuchResourceException":
            raise
    if default is None:
        return None, f"Service Quotas has no value for {service} {code}", False
    return default, "the documented default (Service Quotas has no value)", False


@dataclass(frozen=True)
class QuotaSpec:
    id: str
    what: str
    types: tuple[str, ...]
    scope: Literal["account", "region"]
    source: str  # the document that states the quota and its default
    read: Callable[[Clients, str], Limit]
    permission: str


def _route53(clients: Clients, region: str) -> Limit:
    """GetAccountLimit MAX_HEALTH_CHECKS_BY_OWNER: "Limit ... the maximum number of health
    checks that you can create using the current account" and "Count ... the current number of
    health checks that you have created" (Route 53 API Reference)."""
    found = clients("route53", region).get_account_limit(Type="MAX_HEALTH_CHECKS_BY_OWNER")
    return Limit(
        float(found["Limit"]["Value"]), int(found["Count"]), "Route 53 GetAccountLimit", True
    )


def _sns_topics(clients: Clients, region: str) -> Limit:
    value, read_from, applied = _service_quota(clients, region, "sns", "L-61103206", 100_000)
    topics = _all(clients("sns", region), "list_topics", "Topics")
    return Limit(value, len(topics), read_from, applied)


def _kms_keys(clients: Clients, region: str) -> Limit:
    """ListKeys also returns AWS managed keys, which the quota excludes ("Resources that you
    use, but that aren't in your AWS account ... do not count"; "AWS KMS keys: 100,000 ...
    Customer managed keys"): the usage is an upper bound."""
    value, read_from, applied = _service_quota(clients, region, "kms", "L-C2F1777E", 100_000)
    keys = _all(clients("kms", region), "list_keys", "Keys")
    return Limit(value, len(keys), read_from, applied, usage_exact=False)


def _iam_roles(clients: Clients, region: str) -> Limit:
    """GetAccountSummary: "information about IAM entity usage and IAM quotas" with the keys
    Roles and RolesQuota (IAM API Reference)."""
    summary = clients("iam", region).get_account_summary()["SummaryMap"]
    return Limit(float(summary["RolesQuota"]), int(summary["Roles"]), "IAM GetAccountSummary", True)


def _backup(kind: Literal["vaults", "plans"]) -> Callable[[Clients, str], Limit]:
    """AWS Backup quotas: "Total vaults (backup and logically air-gapped) per Region per
    account: 300" and "Backup plans per Region per account: 300", adjustable through AWS
    Support (AWS Backup Developer Guide, AWS Backup quotas). No API reads the applied value:
    the documented default is compared, so a shortfall is a warning."""

    def read(clients: Clients, region: str) -> Limit:
        backup = clients("backup", region)
        if kind == "vaults":
            found = _all(backup, "list_backup_vaults", "BackupVaultList")
        else:
            found = _all(backup, "list_backup_plans", "BackupPlansList")
        return Limit(300, len(found), "the documented default", False)

    return read


def _asg(clients: Clients, region: str) -> Limit:
    """DescribeAccountLimits: MaxNumberOfAutoScalingGroups and NumberOfAutoScalingGroups (EC2
    Auto Scaling API Reference); default 500 per Region (EC2 Auto Scaling User Guide, Quotas)."""
    found = clients("autoscaling", region).describe_account_limits()
    return Limit(
        float(found["MaxNumberOfAutoScalingGroups"]),
        int(found["NumberOfAutoScalingGroups"]),
        "Auto Scaling DescribeAccountLimits",
        True,
    )


def _rds(clients: Clients, region: str) -> Limit:
    """DescribeAccountAttributes: "Amazon RDS quotas for the account, such as the number of DB
    instances allowed ... the quota name, current usage toward that quota, and the quota's
    maximum value" (RDS API Reference); the quota is DBInstances."""
    quotas = clients("rds", region).describe_account_attributes()["AccountQuotas"]
    for quota in quotas:
        if quota.get("AccountQuotaName") == "DBInstances":
            return Limit(
                float(quota["Max"]), int(quota["Used"]), "RDS DescribeAccountAttributes", True
            )
    return Limit(None, None, "RDS DescribeAccountAttributes (no DBInstances quota)", False)


QUOTAS: tuple[QuotaSpec, ...] = (
    QuotaSpec(
        "quota-route53-health-checks",
        "Route 53 health checks",
        ("aws:route53/healthCheck:HealthCheck",),
        "account",
        "Route 53 Developer Guide, Quotas: 'Health checks: 200 active health checks per AWS "
        "account'",
        _route53,
        "route53:GetAccountLimit",
    ),
    QuotaSpec(
        "quota-sns-topics",
        "SNS topics",
        ("aws:sns/topic:Topic",),
        "region",
        "CreateTopic: 'Users can create at most 100,000 standard topics' (SNS API Reference)",
        _sns_topics,
        "servicequotas:GetServiceQuota and sns:ListTopics",
    ),
    QuotaSpec(
        "quota-kms-keys",
        "KMS keys",
        ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"),
        "region",
        "AWS KMS Developer Guide, Resource quotas: 'AWS KMS keys: 100,000' per account and "
        "Region; ReplicateKey: 'KMS pricing and quotas for KMS keys apply to each primary key "
        "and replica key'",
        _kms_keys,
        "servicequotas:GetServiceQuota and kms:ListKeys",
    ),
    QuotaSpec(
        "quota-iam-roles",
        "IAM roles",
        ("aws:iam/role:Role",),
        "account",
        "IAM User Guide, IAM and AWS STS quotas (read with GetAccountSummary, RolesQuota)",
        _iam_roles,
        "iam:GetAccountSummary",
    ),
    QuotaSpec(
        "quota-backup-vaults",
        "AWS Backup vaults",
        ("aws:backup/vault:Vault",),
        "region",
        "AWS Backup quotas: 'Total vaults ... per Region per account: 300'",
        _backup("vaults"),
        "backup:ListBackupVaults",
    ),
    QuotaSpec(
        "quota-backup-plans",
        "AWS Backup plans",
        ("aws:backup/plan:Plan",),
        "region",
        "AWS Backup quotas: 'Backup plans per Region per account: 300'",
        _backup("plans"),
        "backup:ListBackupPlans",
    ),
    QuotaSpec(
        "quota-autoscaling-groups",
        "Auto Scaling groups",
        ("aws:autoscaling/group:Group",),
        "region",
        "EC2 Auto Scaling User Guide, Quotas: 'Auto Scaling groups per region: 500'",
        _asg,
        "autoscaling:DescribeAccountLimits",
    ),
    QuotaSpec(
        "quota-rds-instances",
        "RDS DB instances",
        ("aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"),
        "region",
        "RDS API Reference, DescribeAccountAttributes (the DBInstances quota, 40 by default)",
        _rds,
        "rds:DescribeAccountAttributes",
    ),
)

# The bus a rule lands on when it names none (EventBridge API Reference, PutRule:
# "If you omit this, the default event bus is used").
DEFAULT_BUS = "default"


def _judge(check_id: str, what: str, need: int, limit: Limit, *, where: str, source: str) -> Check:
    if limit.value is None:
        return Check(
            check_id, "unknown", f"{what}: the quota could not be read ({limit.read_from})"
        )
    quota = f"{limit.value:g} ({limit.read_from})"
    if limit.usage is None:
        free, usage_text = limit.value, "usage unknown"
    else:
        free = limit.value - limit.usage
        usage_text = f"{limit.usage} in use" + ("" if limit.usage_exact else " at most")
    detail = f"{what} {where}: the stack creates {need}; quota {quota}, {usage_text}"
    if need <= free:
        return Check(check_id, "pass", detail + f", {free:g} free")
    sure = limit.applied and limit.usage_exact and limit.usage is not None
    return Check(
        check_id,
        "fail" if sure else "warn",
        detail + f": {need - free:g} short" + ("" if sure else " (if the quota is the default)"),
        f"request a quota increase (Service Quotas console) before `pulumi up`; {source}",
    )


def check_quotas(inputs: Inputs, clients: Clients) -> list[Check]:
    """For each quota-bound kind the stack's graph creates: the quota minus current usage must
    hold the stack's resources. The numbers are for a first `pulumi up`: afterwards the usage
    includes the stack's own resources. CloudWatch alarms have no such quota: "No limit on the
    total number of alarms per account" (CloudWatch User Guide, CloudWatch service quotas)."""
    counts = _counts(inputs.graph)
    out: list[Check] = []
    for spec in QUOTAS:
        by_region: Counter[str] = Counter()
        for (typ, region), count in counts.items():
            if typ in spec.types:
                by_region[region if spec.scope == "region" else "account"] += count
        for region, need in sorted(by_region.items()):
            call_region = inputs.config.region if spec.scope == "account" else region
            where = "in the account" if spec.scope == "account" else f"in {region}"
            try:
                limit = spec.read(clients, call_region)
            except (ClientError, BotoCoreError) as exc:
                out.append(_unknown(spec.id, f"the {spec.what} quota", exc, spec.permission))
                continue
            out.append(_judge(spec.id, spec.what, need, limit, where=where, source=spec.source))
    out.extend(_eventbridge(inputs, clients))
    alarms = sum(
        n
        for (typ, _), n in counts.items()
        if typ
        in (
            "aws:cloudwatch/metricAlarm:MetricAlarm",
            "aws:cloudwatch/compositeAlarm:CompositeAlarm",
        )
    )
    if alarms:
        out.append(
            Check(
                "quota-cloudwatch-alarms",
                "pass",
                f"{alarms} CloudWatch alarms: CloudWatch has no limit on the total number of "
                "alarms per account",
            )
        )
    out.extend(check_vcpus(inputs, clients))
    return out


def _eventbridge(inputs: Inputs, clients: Clients) -> list[Check]:
    """EventBridge quotas: "Number of rules ... af-south-1: 100, eu-south-1: 100, each other
    supported Region: 300 ... The maximum number of rules an account can have per event bus"
    (Amazon EventBridge User Guide, quotas); Service Quotas events L-244521F2."""
    need: Counter[tuple[str, str]] = Counter()
    for resource in inputs.graph.get("resources", []):
        if resource.get("type") == "aws:cloudwatch/eventRule:EventRule" and resource.get("region"):
            bus = str((resource.get("inputs") or {}).get("eventBusName") or DEFAULT_BUS)
            need[(str(resource["region"]), bus)] += 1
    out = []
    for (region, bus), count in sorted(need.items()):
        default = 100 if region in ("af-south-1", "eu-south-1") else 300
        try:
            value, read_from, applied = _service_quota(
                clients, region, "events", "L-244521F2", default
            )
            rules = _all(clients("events", region), "list_rules", "Rules", EventBusName=bus)
        except (ClientError, BotoCoreError) as exc:
            out.append(
                _unknown(
                    "quota-eventbridge-rules",
                    "the EventBridge rules quota",
                    exc,
                    "servicequotas:GetServiceQuota and events:ListRules",
                )
            )
            continue
        out.append(
            _judge(
                "quota-eventbridge-rules",
                "EventBridge rules",
                count,
                Limit(value, len(rules), read_from, applied),
                where=f"on the {bus} bus in {region}",
                source="EventBridge quotas: 'Number of rules ... per event bus'",
            )
        )
    return out


# The EC2 quota "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", in vCPUs
# (the quota code scripts/ops/operations.py reads for failover readiness).
STANDARD_VCPU_QUOTA = ("ec2", "L-1216C47A")
# Families whose letter is in A C D H I M R T Z but that have quotas of their own (Inf, HPC,
# DL, Trn, Mac, High Memory `u-`): Service Quotas lists "Running On-Demand Inf instances",
# "Running On-Demand HPC instances", "Running On-Demand Trn instances", ...
_OTHER_FAMILIES = ("inf", "hpc", "dl", "trn", "mac", "u-")


def standard_family(instance_type: str) -> bool:
    name = instance_type.lower()
    return name[:1] in "acdhimrtz" and not name.startswith(_OTHER_FAMILIES)


@dataclass(frozen=True)
class Compute:
    service: str
    instance_type: str
    min: int  # the full capacity's minimum: what a region taking all traffic starts with
    peak_max: int  # the full capacity's maximum, in the largest yearly peak


def full_capacity(config: StackConfig) -> list[Compute]:
    """The owned groups of this stack's region at full capacity: what the primary runs, and
    what the DR region runs once it takes the traffic (components/autoscaling.py
    capacity_for, Role.PRIMARY), with the yearly peaks' factors."""
    out = []
    for service in config.services:
        if service.scaling is None:
            continue
        resources = (
            service.resources.primary if config.role is Role.PRIMARY else service.resources.dr
        )
        asg = resources.asg
        if asg is None or not asg.owned:
            continue
        full = capacity_for(service.scaling, Role.PRIMARY, config.dr.mode, 100)
        factor = max((p.factor for p in service.scaling.peaks), default=1.0)
        out.append(Compute(service.name, asg.instance_type, full.min, scaled(full.max, factor)))
    return out


def check_vcpus(inputs: Inputs, clients: Clients) -> list[Check]:
    """On-Demand Instance quotas count "the number of virtual central processing units (vCPUs)
    that your running On-Demand Instances are using" (EC2 User Guide, On-Demand Instance
    quotas). The need is the stack's groups at full capacity: a group that cannot launch its
    minimum never turns healthy (fail); one that cannot reach its peak maximum stops scaling
    out (warn). Usage is summed from the running and pending On-Demand instances."""
    compute = full_capacity(inputs.config)
    if not compute:
        return []
    region = inputs.config.region
    ec2 = clients("ec2", region)
    standard = [c for c in compute if standard_family(c.instance_type)]
    others = [c for c in compute if not standard_family(c.instance_type)]
    out: list[Check] = []
    if others:
        out.append(
            Check(
                "quota-ec2-vcpus",
                "unknown",
                f"{', '.join(f'{c.service} ({c.instance_type})' for c in others)}: not a "
                "standard family; its vCPU quota is not checked",
                "check its Running On-Demand quota in Service Quotas",
            )
        )
    if not standard:
        return out
    try:
        types = sorted({c.instance_type for c in standard})
        vcpus = _vcpus_of(ec2, types)
        service, code = STANDARD_VCPU_QUOTA
        # No default is documented for this quota (it differs by account): unreadable is
        # unknown.
        value, read_from, applied = _service_quota(clients, region, service, code, None)
        usage = _running_vcpus(ec2)
    except (ClientError, BotoCoreError) as exc:
        return [
            *out,
            _unknown(
                "quota-ec2-vcpus",
                "the EC2 vCPU quota or usage",
                exc,
                "servicequotas:GetServiceQuota, ec2:DescribeInstances and "
                "ec2:DescribeInstanceTypes",
            ),
        ]
    if value is None:
        return [*out, Check("quota-ec2-vcpus", "unknown", read_from, "check it in Service Quotas")]
    need_min = sum(c.min * vcpus[c.instance_type] for c in standard)
    need_peak = sum(c.peak_max * vcpus[c.instance_type] for c in standard)
    free = value - usage
    detail = (
        f"standard On-Demand vCPUs in {region}: full capacity needs {need_min} at minimum and "
        f"{need_peak} at the peak maximum; quota {value:g} ({read_from}), {usage} in use, "
        f"{free:g} free"
    )
    remediation = (
        "request an increase of 'Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) "
        "instances' (L-1216C47A) in Service Quotas for this Region"
    )
    if need_min > free:
        out.append(Check("quota-ec2-vcpus", "fail" if applied else "warn", detail, remediation))
    elif need_peak > free:
        out.append(
            Check("quota-ec2-vcpus", "warn", detail + ": not enough for the peak", remediation)
        )
    else:
        out.append(Check("quota-ec2-vcpus", "pass", detail))
    return out


def _vcpus_of(ec2: Any, types: Sequence[str]) -> dict[str, int]:
    """DescribeInstanceTypes, VCpuInfo.DefaultVCpus (EC2 API Reference)."""
    found = _all(ec2, "describe_instance_types", "InstanceTypes", InstanceTypes=list(types))
    return {str(t["InstanceType"]): int(t["VCpuInfo"]["DefaultVCpus"]) for t in found}


def _running_vcpus(ec2: Any) -> int:
    """vCPUs of running and pending On-Demand standard-family instances. DescribeInstances
    returns CpuOptions (CoreCount, ThreadsPerCore) per instance; Spot and Scheduled Instances
    carry InstanceLifecycle and count against other quotas."""
    reservations = _all(
        ec2,
        "describe_instances",
        "Reservations",
        Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}],
    )
    instances = [i for r in reservations for i in r.get("Instances", [])]
    instances = [
        i
        for i in instances
        if not i.get("InstanceLifecycle") and standard_family(str(i["InstanceType"]))
    ]
    missing = sorted({str(i["InstanceType"]) for i in instances if not i.get("CpuOptions")})
    defaults = _vcpus_of(ec2, missing) if missing else {}
    total = 0
    for instance in instances:
        cpu = instance.get("CpuOptions") or {}
        if cpu.get("CoreCount"):
            total += int(cpu["CoreCount"]) * int(cpu.get("ThreadsPerCore", 1))
        else:
            total += defaults[str(instance["InstanceType"])]
    return total


# -- 4. KMS permissions of the caller ---------------------------------------------------------


@dataclass(frozen=True)
class Need:
    action: str
    resource: str
    why: str


def _simulate(
    clients: Clients, region: str, principal: str, needs: Iterable[Need]
) -> list[tuple[Need, str]]:
    """IAM SimulatePrincipalPolicy: the principal's identity-based policies (and SCPs) decide
    each action on each resource; it "does not perform the API operations" and can simulate
    "resources that don't exist in your account" (IAM API Reference). Returns the needs whose
    decision is not `allowed`, with the decision."""
    iam = clients("iam", region)
    denied = []
    for need in needs:
        results = _all(
            iam,
            "simulate_principal_policy",
            "EvaluationResults",
            PolicySourceArn=principal,
            ActionNames=[need.action],
            ResourceArns=[need.resource],
        )
        decisions = {str(r["EvalDecision"]) for r in results}
        if decisions != {"allowed"}:
            denied.append((need, ", ".join(sorted(decisions)) or "no decision"))
    return denied


def _key_arns(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:kms:{region}:{account}:key/*"


def kms_needs(inputs: Inputs, who: Identity) -> list[Need]:
    """What the deploying principal needs of KMS for this stack's keys. The keys' policies
    delegate to IAM (their account root statement, components/foundation.py key_policy), so the
    caller's IAM policies decide:
    - "Required permissions: kms:CreateKey (IAM policy)" (KMS API Reference, CreateKey);
    - a trail encrypted with SSE-KMS delivering to a bucket with an S3 Bucket Key: "kms:Decrypt
      permissions are required to create or update a trail with SSE-KMS encryption enabled"
      (CloudTrail User Guide, Configure AWS KMS key policies for CloudTrail);
    - a replica key: "kms:ReplicateKey on the primary key (in the primary key's Region)" and
      "kms:CreateKey in an IAM policy in the replica Region" (KMS API Reference, ReplicateKey).
    """
    resources = inputs.graph.get("resources", [])
    types = {str(r.get("type")) for r in resources}
    needs: list[Need] = []
    if types & {"aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"}:
        needs.append(Need("kms:CreateKey", "*", "KMS CreateKey: 'kms:CreateKey (IAM policy)'"))
    for resource in resources:
        if resource.get("type") == "aws:cloudtrail/trail:Trail" and (
            resource.get("inputs") or {}
        ).get("kmsKeyId"):
            needs.append(
                Need(
                    "kms:Decrypt",
                    _key_arns(who.partition, str(resource["region"]), who.account),
                    "CloudTrail: kms:Decrypt is required to create a trail with SSE-KMS on a "
                    "bucket with an S3 Bucket Key",
                )
            )
            break
    if "aws:kms/replicaKey:ReplicaKey" in types:
        needs.append(
            Need(
                "kms:ReplicateKey",
                _key_arns(who.partition, inputs.config.primary.region, who.account),
                "KMS ReplicateKey: 'kms:ReplicateKey on the primary key'",
            )
        )
    return needs


def _denied_detail(denied: Sequence[tuple[Need, str]]) -> str:
    return "; ".join(f"{n.action} on {n.resource}: {d} ({n.why})" for n, d in denied)


def check_kms(inputs: Inputs, clients: Clients, who: Identity) -> list[Check]:
    needs = kms_needs(inputs, who)
    if not needs:
        return [Check("kms-permissions", "pass", "the stack creates no KMS keys")]
    if who.principal is None:
        return [
            Check(
                "kms-permissions",
                "unknown",
                f"cannot simulate the caller's policies: {who.why_not}",
                "run preflight with the deploy role's credentials",
            )
        ]
    try:
        denied = _simulate(clients, inputs.config.region, who.principal, needs)
    except (ClientError, BotoCoreError) as exc:
        return [
            _unknown(
                "kms-permissions", "the caller's permissions", exc, "iam:SimulatePrincipalPolicy"
            )
        ]
    if denied:
        return [
            Check(
                "kms-permissions",
                "fail",
                f"{who.principal} lacks: {_denied_detail(denied)}",
                "grant these actions in the deploy role's IAM policy",
            )
        ]
    actions = ", ".join(dict.fromkeys(n.action for n in needs))
    return [Check("kms-permissions", "pass", f"{who.principal} may {actions}")]


# -- 5. state backend -------------------------------------------------------------------------


def check_backend(inputs: Inputs, clients: Clients, who: Identity) -> list[Check]:
    """The bootstrap/ backend: a versioned, CMK-encrypted bucket and the secrets key, outside
    the primary region: "the dr stack and every failover `pulumi up` need it while the primary
    region is down" (README, Deploying for real; components/state_backend.py)."""
    backend = resolve_backend(inputs, who.account)
    if backend is None:
        return [
            Check(
                "state-backend",
                "unknown",
                "no backend to check: no PULUMI_BACKEND_URL, --backend-url or "
                "bootstrap/Pulumi.bootstrap.yaml",
                "pass --backend-url s3://... (the bootstrap's backend_url output)",
            )
        ]
    if backend.bucket is None:
        return [
            Check(
                "state-backend",
                "warn",
                f"{backend.url} is not an S3 backend: the bootstrap's bucket is not used, "
                "nothing checked",
                "use the bootstrap's backend (README, Deploying for real)",
            )
        ]
    bucket = backend.bucket
    region = backend.bucket_region or inputs.config.region
    s3 = clients("s3", region)
    out: list[Check] = []
    try:
        head = s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        # HeadBucket: "If the bucket doesn't exist or you don't have permission to access it,
        # the HEAD request returns a generic 400 Bad Request, 403 Forbidden, or 404 Not Found"
        # (S3 API Reference).
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or _code(exc) in ("404", "NoSuchBucket"):
            return [
                Check(
                    "state-bucket",
                    "fail",
                    f"the state bucket {bucket} does not exist ({backend.source})",
                    "deploy bootstrap/ first (README, Deploying for real, step 1)",
                )
            ]
        return [
            Check(
                "state-bucket",
                "fail",
                f"the state bucket {bucket} answers {status or _code(exc)}: it belongs to "
                "another account, or the caller may not list it",
                "give the caller s3:ListBucket on it, or fix the backend URL",
            )
        ]
    except BotoCoreError as exc:
        return [_unknown("state-bucket", f"the state bucket {bucket}", exc, "s3:ListBucket")]
    located = str(head.get("BucketRegion") or "")
    if not located:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        located = str(location or "us-east-1")  # GetBucketLocation: null means us-east-1
    out.append(Check("state-bucket", "pass", f"{bucket} exists in {located} ({backend.source})"))
    if located == inputs.config.primary.region:
        out.append(
            Check(
                "state-region",
                "fail",
                f"the state bucket is in the primary region {located}: while that region is "
                "down, the dr stack and every failover `pulumi up` cannot read their state",
                "bootstrap the backend in another region (the shipped default is the DR region)",
            )
        )
    else:
        out.append(
            Check(
                "state-region",
                "pass",
                f"state lives in {located}, outside the primary region "
                f"{inputs.config.primary.region}",
            )
        )
    out.extend(_bucket_settings(s3, bucket))
    key_arn = _state_key(out, clients, backend, region)
    out.append(_state_access(clients, inputs, who, bucket, key_arn))
    return out


def _bucket_settings(s3: Any, bucket: str) -> list[Check]:
    out = []
    try:
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        out.append(
            Check("state-versioning", "pass", "versioning is Enabled: every state write is kept")
            if status == "Enabled"
            else Check(
                "state-versioning",
                "fail",
                f"versioning is {status or 'never enabled'}: an overwritten or deleted "
                "state file cannot be recovered",
                "enable versioning (bootstrap/ does)",
            )
        )
    except (ClientError, BotoCoreError) as exc:
        out.append(
            _unknown("state-versioning", "the bucket versioning", exc, "s3:GetBucketVersioning")
        )
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
        kms = [
            r["ApplyServerSideEncryptionByDefault"]
            for r in rules
            if r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
            in ("aws:kms", "aws:kms:dsse")
        ]
        if kms and kms[0].get("KMSMasterKeyID"):
            out.append(
                Check("state-encryption", "pass", f"SSE-KMS with {kms[0]['KMSMasterKeyID']}")
            )
        else:
            algorithms = ", ".join(
                str(r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm"))
                for r in rules
            )
            out.append(
                Check(
                    "state-encryption",
                    "warn",
                    f"default encryption is {algorithms or 'none'}, not a customer managed key",
                    "encrypt the bucket with the backend's CMK (bootstrap/ does)",
                )
            )
    except ClientError as exc:
        if _code(exc) == "ServerSideEncryptionConfigurationNotFoundError":
            out.append(
                Check(
                    "state-encryption",
                    "warn",
                    "no default encryption configuration",
                    "encrypt the bucket with the backend's CMK (bootstrap/ does)",
                )
            )
        else:
            out.append(
                _unknown(
                    "state-encryption",
                    "the bucket encryption",
                    exc,
                    "s3:GetEncryptionConfiguration",
                )
            )
    except BotoCoreError as exc:
        out.append(
            _unknown(
                "state-encryption", "the bucket encryption", exc, "s3:GetEncryptionConfiguration"
            )
        )
    return out


def _state_key(out: list[Check], clients: Clients, backend: Backend, region: str) -> str | None:
    """DescribeKey: KeyState Enabled is the only state in which the key encrypts and decrypts
    (KMS API Reference, DescribeKey; KeyMetadata KeyState)."""
    if backend.key is None:
        out.append(
            Check(
                "state-key",
                "warn",
                "no awskms secrets provider found (stack file `secretsprovider:`), not checked",
                "pass --secrets-provider awskms://... (the bootstrap's secrets_provider output)",
            )
        )
        return None
    try:
        meta = clients("kms", backend.key_region or region).describe_key(KeyId=backend.key)[
            "KeyMetadata"
        ]
    except ClientError as exc:
        if _code(exc) == "NotFoundException":
            out.append(
                Check(
                    "state-key",
                    "fail",
                    f"the secrets key {backend.key} does not exist in "
                    f"{backend.key_region or region}",
                    "deploy bootstrap/ first, or fix the stack's secretsprovider",
                )
            )
        else:
            out.append(_unknown("state-key", f"the key {backend.key}", exc, "kms:DescribeKey"))
        return None
    except BotoCoreError as exc:
        out.append(_unknown("state-key", f"the key {backend.key}", exc, "kms:DescribeKey"))
        return None
    state = str(meta.get("KeyState"))
    out.append(
        Check("state-key", "pass", f"{backend.key} ({meta['Arn']}) is Enabled")
        if state == "Enabled"
        else Check(
            "state-key",
            "fail",
            f"the secrets key {backend.key} is {state}: the stacks' secrets cannot be "
            "encrypted or decrypted",
            "enable it (or cancel its deletion)",
        )
    )
    return str(meta["Arn"])


def _state_access(
    clients: Clients, inputs: Inputs, who: Identity, bucket: str, key_arn: str | None
) -> Check:
    """What `pulumi` does with the backend: list, read, write and delete objects under the
    bucket (state files and `.pulumi/locks/`; README, CI/CD roles); with SSE-KMS objects "you
    need kms:GenerateDataKey and kms:Decrypt permissions on the key" to upload and download
    (S3 User Guide, SSE-KMS); and the awskms secrets provider encrypts and decrypts with the
    key. (No Pulumi document lists these actions: they are the S3 and KMS operations the
    backend's reads and writes are.)"""
    if who.principal is None:
        return Check(
            "state-access",
            "unknown",
            f"cannot simulate the caller's policies: {who.why_not}",
            "run preflight with the deploy role's credentials",
        )
    arn = f"arn:{who.partition}:s3:::{bucket}"
    needs = [
        Need("s3:ListBucket", arn, "list the stacks and their history"),
        Need("s3:GetObject", f"{arn}/*", "read state"),
        Need("s3:PutObject", f"{arn}/*", "write state and locks"),
        Need("s3:DeleteObject", f"{arn}/*", "release locks"),
    ]
    if key_arn:
        needs += [
            Need("kms:GenerateDataKey", key_arn, "write SSE-KMS objects"),
            Need("kms:Decrypt", key_arn, "read SSE-KMS objects and secrets"),
            Need("kms:Encrypt", key_arn, "encrypt secrets (awskms provider)"),
        ]
    try:
        denied = _simulate(clients, inputs.config.region, who.principal, needs)
    except (ClientError, BotoCoreError) as exc:
        return _unknown(
            "state-access", "the caller's permissions", exc, "iam:SimulatePrincipalPolicy"
        )
    if denied:
        return Check(
            "state-access",
            "fail",
            f"{who.principal} lacks: {_denied_detail(denied)}",
            "grant these actions in the deploy role's IAM policy",
        )
    return Check("state-access", "pass", f"{who.principal} may read and write the state")


# -- 6. GitHub OIDC ---------------------------------------------------------------------------


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def trusts(document: Mapping[str, Any], provider_arn: str, subject: str) -> tuple[bool, str]:
    """Whether a role's trust policy lets `subject` (GitHub's `sub` claim) of the provider
    assume it: an Allow of sts:AssumeRoleWithWebIdentity for the federated provider whose
    conditions on `<host>:sub` (StringEquals, or StringLike with * and ?) admit the subject
    and on `<host>:aud` admit sts.amazonaws.com (GitHub Docs, Configuring OpenID Connect in
    Amazon Web Services; IAM User Guide, IAM JSON policy elements: Condition operators)."""
    sub_key, aud_key = f"{GITHUB_OIDC_HOST}:sub", f"{GITHUB_OIDC_HOST}:aud"
    reasons = []
    for statement in _values_of(document.get("Statement")):
        if statement.get("Effect") != "Allow":
            continue
        actions = _values(statement.get("Action"))
        if not any(fnmatch.fnmatchcase("sts:AssumeRoleWithWebIdentity", a) for a in actions):
            continue
        federated = _values((statement.get("Principal") or {}).get("Federated"))
        if provider_arn not in federated:
            reasons.append(f"a statement trusts {', '.join(federated) or 'another principal'}")
            continue
        conditions = statement.get("Condition") or {}
        subs_eq = _values((conditions.get("StringEquals") or {}).get(sub_key))
        subs_like = _values((conditions.get("StringLike") or {}).get(sub_key))
        auds = _values((conditions.get("StringEquals") or {}).get(aud_key)) + _values(
            (conditions.get("StringLike") or {}).get(aud_key)
        )
        if not subs_eq and not subs_like:
            reasons.append("a statement has no `sub` condition (any repository could assume it)")
            continue
        sub_ok = subject in subs_eq or any(fnmatch.fnmatchcase(subject, s) for s in subs_like)
        aud_ok = not auds or any(fnmatch.fnmatchcase(STS_AUDIENCE, a) for a in auds)
        if sub_ok and aud_ok:
            return True, f"trusts {subject}"
        reasons.append(f"its `sub` admits {', '.join(subs_eq + subs_like)}, not {subject}")
    return False, "; ".join(reasons) or "no statement allows sts:AssumeRoleWithWebIdentity"


def _values_of(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        return [value]
    return [v for v in value or [] if isinstance(v, Mapping)]


def check_github(inputs: Inputs, clients: Clients, who: Identity) -> list[Check]:
    """When a CI workflow deploys with GitHub's OIDC token, the account needs the provider
    token.actions.githubusercontent.com with the audience sts.amazonaws.com, and the deploy
    role must trust the repository's `production` subject (README, CI/CD, step 5)."""
    ci = inputs.ci
    if ci is None:
        return [Check("github-oidc", "pass", "no CI deploy workflow: nothing to check")]
    iam = clients("iam", inputs.config.region)
    provider_arn = f"arn:{who.partition}:iam::{who.account}:oidc-provider/{GITHUB_OIDC_HOST}"
    out = []
    try:
        providers = {
            str(p["Arn"]) for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        }
        if provider_arn not in providers:
            out.append(
                Check(
                    "github-oidc-provider",
                    "fail",
                    f"{ci.workflow} assumes a role with GitHub's OIDC token, but the account has "
                    f"no OIDC provider {GITHUB_OIDC_HOST}",
                    f"create it (IAM, Identity providers, OpenID Connect, "
                    f"https://{GITHUB_OIDC_HOST}, audience {STS_AUDIENCE})",
                )
            )
        else:
            audiences = _values(
                iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn).get(
                    "ClientIDList"
                )
            )
            out.append(
                Check("github-oidc-provider", "pass", f"{provider_arn} accepts {STS_AUDIENCE}")
                if STS_AUDIENCE in audiences
                else Check(
                    "github-oidc-provider",
                    "fail",
                    f"{provider_arn} does not list the audience {STS_AUDIENCE} "
                    f"({', '.join(audiences) or 'none'})",
                    f"add {STS_AUDIENCE} to the provider's audiences",
                )
            )
    except (ClientError, BotoCoreError) as exc:
        out.append(
            _unknown(
                "github-oidc-provider", "the OIDC providers", exc, "iam:ListOpenIDConnectProviders"
            )
        )
    out.append(_deploy_role(iam, ci, provider_arn))
    return out


def _deploy_role(iam: Any, ci: CiTarget, provider_arn: str) -> Check:
    if ci.role_arn is None or ci.repository is None:
        missing = " and ".join(
            n
            for n, v in (("--deploy-role-arn", ci.role_arn), ("--repository", ci.repository))
            if v is None
        )
        return Check(
            "github-deploy-role",
            "unknown",
            f"the deploy role's trust is not checked: pass {missing}",
            "rerun with the environment's AWS_DEPLOY_ROLE_ARN and OWNER/REPO",
        )
    subject = f"repo:{ci.repository}:environment:{DEPLOY_ENVIRONMENT}"
    name = ci.role_arn.rsplit("/", 1)[-1]
    try:
        document = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    except ClientError as exc:
        if _code(exc) == "NoSuchEntity":
            return Check(
                "github-deploy-role",
                "fail",
                f"the deploy role {ci.role_arn} does not exist",
                "create it (README, CI/CD, step 5)",
            )
        return _unknown("github-deploy-role", f"the role {name}", exc, "iam:GetRole")
    except BotoCoreError as exc:
        return _unknown("github-deploy-role", f"the role {name}", exc, "iam:GetRole")
    if isinstance(document, str):  # the raw API URL-encodes it; boto3 decodes it
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    ok, why = trusts(document, provider_arn, subject)
    if ok:
        return Check("github-deploy-role", "pass", f"{ci.role_arn} {why}")
    return Check(
        "github-deploy-role",
        "fail",
        f"{ci.role_arn} cannot be assumed by {ci.workflow}'s jobs: {why}",
        f'trust {provider_arn} with "{GITHUB_OIDC_HOST}:sub": "{subject}" and '
        f'"{GITHUB_OIDC_HOST}:aud": "{STS_AUDIENCE}" (README, CI/CD, step 5)',
    )


# -- all of it --------------------------------------------------------------------------------


def run_preflight(inputs: Inputs, clients: Clients) -> Report:
    """Every check, in order; each reads only."""
    who = identity(clients, inputs.config.region)
    modes = dict(inputs.modes) if inputs.modes is not None else singleton_modes(inputs.config)
    checks: list[Check] = []
    checks += check_config(inputs, clients, modes["config_recorder"])
    checks += check_guardduty(inputs, clients, modes["guardduty"])
    checks += check_security_hub(inputs, clients, modes["security_hub"])
    checks += check_access_analyzer(inputs, clients, modes["access_analyzer"])
    checks += check_sms(inputs, clients)
    checks += check_quotas(inputs, clients)
    checks += check_kms(inputs, clients, who)
    checks += check_backend(inputs, clients, who)
    checks += check_github(inputs, clients, who)
    return Report(inputs.stack, who.account, inputs.config.region, tuple(checks))


def ci_target(project_dir: Path, role_arn: str | None, repository: str | None) -> CiTarget | None:
    """The deploy workflow, when the project has one that assumes a role through
    aws-actions/configure-aws-credentials (GitHub's OIDC token)."""
    workflow = project_dir / ".github" / "workflows" / "deploy.yml"
    if not workflow.is_file():
        return None
    text = workflow.read_text(encoding="utf-8")
    if "configure-aws-credentials" not in text or "role-to-assume" not in text:
        return None
    return CiTarget(str(workflow.relative_to(project_dir)), role_arn, repository)


def render_lines(report: Report) -> list[tuple[str, Status, str]]:
    """(id, status, detail + remediation) rows for the human table."""
    rows = []
    for check in report.checks:
        text = check.detail + (f" -> {check.remediation}" if check.remediation else "")
        rows.append((check.id, check.status, text))
    return rows


def summary(report: Report) -> str:
    counts = Counter(c.status for c in report.checks)
    parts = [f"{counts[s]} {s}" for s in ("pass", "warn", "fail", "unknown") if counts[s]]
    return (
        f"preflight of stack {report.stack} in account {report.account}, {report.region}: "
        + ", ".join(parts)
    )


__all__ = [
    "Backend",
    "Check",
    "CiTarget",
    "Inputs",
    "PreflightError",
    "Report",
    "bootstrap_backend",
    "ci_target",
    "parse_backend",
    "run_preflight",
    "singleton_mode",
    "stack_secrets_provider",
]
