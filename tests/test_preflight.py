"""`resilience preflight` against a moto server: a clean account passes, and each check fails
when the account holds what AWS documents as a collision or a failure. What moto lacks is
answered by tests/preflight_gaps.py; every API operation the code calls is recorded and must
be a read."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import pytest
from botocore.config import Config
from typer.testing import CliRunner

from model.loader import LoadedConfig, load_file
from scripts import cli
from scripts import preflight as pf
from scripts.engine import SynthResult
from scripts.ops.aws import Clients
from tests.conftest import ROOT, ConfigWriter
from tests.preflight_gaps import ACCOUNT, AccountState, decide, install_preflight_gaps

pytestmark = pytest.mark.moto

STATE_REGION = "us-west-2"  # bootstrap/Pulumi.bootstrap.yaml
BUCKET = f"reskflow-pulumi-state-{STATE_REGION}-{ACCOUNT}"
KEY_ALIAS = "alias/pulumi/reskflow-secrets"
BACKEND_URL = f"s3://{BUCKET}?region={STATE_REGION}&awssdk=v2"
SECRETS = f"awskms://{KEY_ALIAS}?region={STATE_REGION}"
REPOSITORY = "acme/resilience"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ci/resilience-deploy"
# Operations that only read (the API's own naming: Describe, Get, List, Head, Simulate).
READ_ONLY = ("Describe", "Get", "List", "Head", "Simulate")
TEST_RETRIES = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2)


def trust_policy(subject: str) -> dict[str, Any]:
    """The deploy role's trust (README, CI/CD, step 5), plus sts:AssumeRole for the account so
    that the test can take the role's credentials."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": subject,
                    }
                },
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            },
        ],
    }


KMS_ACTIONS = [
    "kms:CreateKey",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReplicateKey",
]


def deploy_policy(kms_actions: list[str] | None = None) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": kms_actions or KMS_ACTIONS, "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            },
        ],
    }


@dataclass
class Account:
    """A moto account seen through the deploy role, with preflight's gaps answered."""

    endpoint: str
    state: AccountState
    admin: boto3.Session
    session: boto3.Session = field(init=False)
    calls: list[str] = field(default_factory=list)

    def client(self, service: str, region: str = "us-east-1") -> Any:
        make: Any = self.admin.client
        return make(service, region_name=region, endpoint_url=self.endpoint)

    def assume(self) -> None:
        """The code's session: the deploy role's credentials, the gaps, and a recorder of every
        API operation. It listens to before-parameter-build, which botocore emits for every
        call before any before-call handler can answer it (the gaps answer in before-call)."""
        credentials = self.client("sts").assume_role(
            RoleArn=DEPLOY_ROLE, RoleSessionName="preflight-test"
        )["Credentials"]
        self.session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name="us-east-1",
        )
        events = self.session._session.get_component("event_emitter")

        def record(**kwargs: Any) -> None:
            _, service, operation = kwargs["event_name"].split(".")[:3]
            self.calls.append(f"{service}.{operation}")

        events.register("before-parameter-build", record)
        install_preflight_gaps(self.session, self.endpoint, self.state)

    def clients(self) -> Clients:
        return Clients(session=self.session, config=TEST_RETRIES)


def reset(endpoint: str) -> None:
    urllib.request.urlopen(
        urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    ).close()


@pytest.fixture
def account(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """A clean account: the bootstrap's backend, the GitHub OIDC provider and the deploy role
    trusting this repository's `production` jobs, out of the SMS sandbox with a US toll-free
    number, and an applied EC2 vCPU quota."""
    reset(moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    admin = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    state = AccountState()
    world = Account(moto_endpoint, state, admin)
    iam = world.client("iam")
    iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
    )
    iam.create_role(
        RoleName="resilience-deploy",
        Path="/ci/",
        AssumeRolePolicyDocument=json.dumps(
            trust_policy(f"repo:{REPOSITORY}:environment:production")
        ),
    )
    iam.put_role_policy(
        RoleName="resilience-deploy",
        PolicyName="deploy",
        PolicyDocument=json.dumps(deploy_policy()),
    )
    kms = world.client("kms", STATE_REGION)
    key = kms.create_key(Description="Pulumi secrets provider of the reskflow stacks")
    kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key["KeyMetadata"]["KeyId"])
    s3 = world.client("s3", STATE_REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": STATE_REGION})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key["KeyMetadata"]["Arn"],
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    for region in ("us-east-1", "us-west-2"):
        state.out_of_sms_sandbox.add(region)
        state.add_phone_number(region, "+18885550100", "US")
        state.quotas[(region, "ec2", "L-1216C47A")] = 1000
    world.assume()
    yield world
    reset(moto_endpoint)


def inputs(result: SynthResult, *, loaded: LoadedConfig | None = None, **changes: Any) -> pf.Inputs:
    loaded = loaded or result.loaded
    base = pf.Inputs(
        stack=result.stack,
        config=loaded.aws,
        graph=result.graph,
        backend_url=BACKEND_URL,
        secrets_provider=SECRETS,
        project_dir=ROOT,
        stack_file=loaded.path,
        ci=pf.CiTarget(".github/workflows/deploy.yml", DEPLOY_ROLE, REPOSITORY),
    )
    return replace(base, **changes)


def by_id(report: pf.Report) -> dict[str, list[pf.Check]]:
    out: dict[str, list[pf.Check]] = {}
    for check in report.checks:
        out.setdefault(check.id, []).append(check)
    return out


def status(report: pf.Report, check_id: str) -> str:
    found = {c.status for c in by_id(report)[check_id]}
    assert len(found) == 1, f"{check_id}: {found}"
    return found.pop()


def assert_read_only(calls: list[str]) -> None:
    assert calls, "no API call was recorded"
    writes = sorted({c for c in calls if not c.split(".")[1].startswith(READ_ONLY)})
    assert not writes, f"preflight called operations that are not reads: {writes}"


# -- a clean account --------------------------------------------------------------------------


def test_clean_account_passes_with_reads_only(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    assert report.account == ACCOUNT and report.region == "us-east-1"
    assert [c for c in report.checks if c.status in ("fail", "unknown")] == []
    assert report.exit_code == 0
    ids = set(by_id(report))
    assert {
        "config-recorder",
        "config-delivery-channel",
        "guardduty-detector",
        "security-hub",
        "access-analyzer",
        "sms-sandbox",
        "sms-origination",
        "quota-route53-health-checks",
        "quota-sns-topics",
        "quota-kms-keys",
        "quota-iam-roles",
        "quota-eventbridge-rules",
        "quota-backup-vaults",
        "quota-backup-plans",
        "quota-autoscaling-groups",
        "quota-rds-instances",
        "quota-ec2-vcpus",
        "quota-cloudwatch-alarms",
        "kms-permissions",
        "state-bucket",
        "state-region",
        "state-versioning",
        "state-encryption",
        "state-key",
        "state-access",
        "github-oidc-provider",
        "github-deploy-role",
    } <= ids
    # Every operation answered by moto or the gaps is a read, and each service was asked.
    assert_read_only(account.calls)
    services = {c.split(".")[0] for c in account.calls}
    assert {
        "sts",
        "config-service",
        "guardduty",
        "securityhub",
        "accessanalyzer",
        "sns",
    } <= services
    assert {"pinpoint-sms-voice-v2", "service-quotas", "route-53", "iam", "s3", "kms"} <= services


def test_json_is_the_documented_shape(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    report = pf.run_preflight(inputs(synthesized["dr"]), account.clients())
    document = json.loads(json.dumps(report.as_json()))
    assert set(document) == {"stack", "account", "region", "checks"}
    assert document["stack"] == "dr" and document["region"] == "us-west-2"
    for check in document["checks"]:
        assert set(check) == {"id", "status", "detail", "remediation"}
        assert check["status"] in ("pass", "fail", "warn", "unknown")


# -- 1. account singletons --------------------------------------------------------------------


def seed_singletons(account: Account, region: str = "us-east-1") -> None:
    """One of each: what another tool (Control Tower, a previous setup) left in the region."""
    config = account.client("config", region)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True},
        }
    )
    location = {} if region == "us-east-1" else {"LocationConstraint": region}
    account.client("s3", region).create_bucket(
        Bucket=f"config-history-elsewhere-{region}", CreateBucketConfiguration=location
    )
    config.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": f"config-history-elsewhere-{region}"}
    )
    account.client("guardduty", region).create_detector(Enable=True)
    account.client("securityhub", region).enable_security_hub()
    account.state.add_analyzer(region, "ConsoleAnalyzer")


SINGLETON_IDS = (
    "config-recorder",
    "config-delivery-channel",
    "guardduty-detector",
    "security-hub",
    "access-analyzer",
)
ALL_CREATE: dict[str, pf.Mode] = dict.fromkeys(pf.SINGLETONS, "create")
ALL_EXISTING: dict[str, pf.Mode] = dict.fromkeys(pf.SINGLETONS, "existing")


def test_existing_singletons_collide_with_mode_create(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    seed_singletons(account)
    report = pf.run_preflight(inputs(synthesized["primary"], modes=ALL_CREATE), account.clients())
    for check_id in SINGLETON_IDS:
        assert status(report, check_id) == "fail", check_id
    recorder = by_id(report)["config-recorder"][0]
    assert "one customer managed configuration recorder per account per Region" in recorder.detail
    assert "security.config_recorder.mode: existing" in recorder.remediation
    assert report.exit_code == 1
    assert_read_only(account.calls)


def test_existing_singletons_pass_with_mode_existing(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    seed_singletons(account)
    report = pf.run_preflight(inputs(synthesized["primary"], modes=ALL_EXISTING), account.clients())
    for check_id in SINGLETON_IDS:
        assert status(report, check_id) == "pass", check_id


def test_mode_existing_points_at_nothing_in_a_clean_account(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    report = pf.run_preflight(inputs(synthesized["primary"], modes=ALL_EXISTING), account.clients())
    for check_id in SINGLETON_IDS:
        assert status(report, check_id) == "fail", check_id
    assert "is existing but there is no" in by_id(report)["guardduty-detector"][0].detail


def test_singletons_in_another_region_do_not_collide(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    """One per account per Region: the DR region's detector is not the primary's."""
    seed_singletons(account, "us-west-2")
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    for check_id in SINGLETON_IDS:
        assert status(report, check_id) == "pass", check_id


def test_the_stacks_own_named_singletons_are_not_collisions(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    """After a `pulumi up`, the recorder, channel and analyzer carry the stack's names."""
    config = account.client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "reskflow-primary",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/reskflow-primary-config",
            "recordingGroup": {"allSupported": True},
        }
    )
    account.state.add_analyzer("us-east-1", "reskflow-primary-account")
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    assert status(report, "config-recorder") == "pass"
    assert "the stack's own" in by_id(report)["config-recorder"][0].detail
    assert status(report, "access-analyzer") == "pass"


def test_mode_off_asks_nothing(account: Account, synthesized: dict[str, SynthResult]) -> None:
    seed_singletons(account)
    off: dict[str, pf.Mode] = dict.fromkeys(pf.SINGLETONS, "off")
    report = pf.run_preflight(inputs(synthesized["primary"], modes=off), account.clients())
    for check_id in ("config-recorder", "guardduty-detector", "security-hub", "access-analyzer"):
        assert status(report, check_id) == "pass"
    asked = {c.split(".")[0] for c in account.calls}
    assert not asked & {"config-service", "guardduty", "securityhub", "accessanalyzer"}


def test_singleton_mode_reads_the_current_switches(
    shipped: dict[str, LoadedConfig], write_config: ConfigWriter
) -> None:
    assert pf.singleton_modes(shipped["primary"].aws) == ALL_CREATE

    def disable(config: dict[str, Any]) -> None:
        config["resilience:security"] = {
            "config_recorder": {"mode": "off"},
            "conformance_packs": [],
            "guardduty": {"mode": "off"},
            "security_hub": {"mode": "off"},
            "access_analyzer": {"mode": "off"},
        }

    loaded = load_file(write_config(disable))
    assert pf.singleton_modes(loaded.aws) == dict.fromkeys(pf.SINGLETONS, "off")


# -- 2. SMS -----------------------------------------------------------------------------------


def test_sms_sandbox_fails_for_unverified_numbers(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    account.state.out_of_sms_sandbox.discard("us-east-1")
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["sms-sandbox"][0]
    assert check.status == "fail"
    assert "+15555550100" in check.detail and "sandbox" in check.detail
    assert report.exit_code == 1


def test_sms_sandbox_with_verified_numbers_warns(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    account.state.out_of_sms_sandbox.discard("us-east-1")
    account.state.sandbox_numbers["us-east-1"] = {"+15555550100": "Verified"}
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    assert status(report, "sms-sandbox") == "warn"


def test_us_numbers_need_an_origination_number(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    account.state.phone_numbers["us-east-1"] = []
    account.state.add_phone_number("us-east-1", "+447700900123", "GB")
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["sms-origination"][0]
    assert check.status == "fail" and "+15555550100" in check.detail


def test_no_sms_contacts_asks_nothing_of_sms(
    account: Account, synthesized: dict[str, SynthResult], write_config: ConfigWriter
) -> None:
    def email_only(config: dict[str, Any]) -> None:
        escalation = config["resilience:escalation"]
        for severity in ("critical", "error", "warning", "info"):
            escalation[severity] = [c for c in escalation.get(severity, []) if c["kind"] != "sms"]

    loaded = load_file(write_config(email_only))
    report = pf.run_preflight(inputs(synthesized["primary"], loaded=loaded), account.clients())
    assert status(report, "sms") == "pass"
    assert not any(c.startswith("pinpoint-sms-voice-v2.") for c in account.calls)


# -- 3. quotas --------------------------------------------------------------------------------


def test_health_check_quota_too_small(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    """The primary creates 7 health checks; 3 exist and the limit is 8: 5 free."""
    route53 = account.client("route53")
    for i in range(3):
        route53.create_health_check(
            CallerReference=f"other-{i}",
            HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": f"h{i}.example.com"},
        )
    account.state.health_check_limit = 8
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["quota-route53-health-checks"][0]
    assert check.status == "fail"
    assert "creates 7" in check.detail and "3 in use" in check.detail and "2 short" in check.detail


def test_vcpu_quota_below_the_full_capacity_minimum_fails(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    """Primary groups at full capacity: orders-api m6i.large and users-api t3.large, min 2
    each, and a third service: the minimum needs more than 6 vCPUs; running instances count."""
    compute = pf.full_capacity(synthesized["primary"].loaded.aws)
    assert {c.instance_type for c in compute} >= {"m6i.large", "t3.large"}
    need_min = sum(c.min * 2 for c in compute)  # every shipped type has 2 vCPUs
    account.state.quotas[("us-east-1", "ec2", "L-1216C47A")] = need_min + 2
    account.client("ec2").run_instances(
        ImageId="ami-12c6146b", MinCount=2, MaxCount=2, InstanceType="m6i.large"
    )
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["quota-ec2-vcpus"][0]
    assert check.status == "fail"
    assert "4 in use" in check.detail and f"needs {need_min} at minimum" in check.detail


def test_vcpu_quota_below_the_peak_warns(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    compute = pf.full_capacity(synthesized["primary"].loaded.aws)
    need_min = sum(c.min * 2 for c in compute)
    account.state.quotas[("us-east-1", "ec2", "L-1216C47A")] = need_min
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["quota-ec2-vcpus"][0]
    assert check.status == "warn" and "peak" in check.detail


def test_dr_stack_needs_the_primarys_full_capacity(synthesized: dict[str, SynthResult]) -> None:
    """A pilot-light dr stack runs 0 instances, but a failover runs the primary's capacity."""
    dr = pf.full_capacity(synthesized["dr"].loaded.aws)
    primary = pf.full_capacity(synthesized["primary"].loaded.aws)
    assert [(c.service, c.min, c.peak_max) for c in dr] == [
        (c.service, c.min, c.peak_max) for c in primary
    ]
    assert all(c.min > 0 for c in dr)


def test_eventbridge_rules_quota_per_bus(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    """The primary's 4 GuardDuty rules land on the default bus; 298 rules already there."""
    events = account.client("events")
    for i in range(298):
        events.put_rule(Name=f"other-{i}", ScheduleExpression="rate(1 hour)", State="DISABLED")
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["quota-eventbridge-rules"][0]
    assert check.status == "fail"
    assert "default bus" in check.detail and "298 in use" in check.detail


def test_sns_topic_quota_lowered(account: Account, synthesized: dict[str, SynthResult]) -> None:
    account.state.quotas[("us-east-1", "sns", "L-61103206")] = 3
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["quota-sns-topics"][0]
    assert check.status == "fail" and "creates 4" in check.detail


def test_unreadable_vcpu_quota_is_unknown_not_pass(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    del account.state.quotas[("us-east-1", "ec2", "L-1216C47A")]
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    assert status(report, "quota-ec2-vcpus") == "unknown"
    assert report.exit_code == 0  # unknown is not a failure, but never a pass


# -- 4. KMS permissions -------------------------------------------------------------------------


def test_kms_decrypt_needed_for_the_trail(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    account.client("iam").put_role_policy(
        RoleName="resilience-deploy",
        PolicyName="deploy",
        PolicyDocument=json.dumps(deploy_policy(["kms:CreateKey", "kms:Encrypt"])),
    )
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["kms-permissions"][0]
    assert check.status == "fail"
    assert "kms:Decrypt on arn:aws:kms:us-east-1:123456789012:key/*" in check.detail
    assert "CloudTrail" in check.detail


def test_replica_key_needs_replicatekey_on_the_primary(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    account.client("iam").put_role_policy(
        RoleName="resilience-deploy",
        PolicyName="deploy",
        PolicyDocument=json.dumps(deploy_policy(["kms:CreateKey", "kms:Decrypt"])),
    )
    report = pf.run_preflight(inputs(synthesized["dr"]), account.clients())
    check = by_id(report)["kms-permissions"][0]
    assert check.status == "fail"
    assert "kms:ReplicateKey on arn:aws:kms:us-east-1:" in check.detail


def test_explicit_deny_wins() -> None:
    """IAM policy evaluation as the gap models it."""
    allow = {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
    deny = {"Statement": {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}}
    assert decide([allow], "kms:Decrypt", "arn:aws:kms:us-east-1:1:key/k") == "allowed"
    assert decide([allow, deny], "kms:Decrypt", "arn:aws:kms:us-east-1:1:key/k") == "explicitDeny"
    assert decide([], "kms:Decrypt", "*") == "implicitDeny"


# -- 5. state backend ---------------------------------------------------------------------------


def test_missing_state_bucket_fails(account: Account, synthesized: dict[str, SynthResult]) -> None:
    report = pf.run_preflight(
        inputs(synthesized["primary"], backend_url=f"s3://no-such-state-bucket-{ACCOUNT}"),
        account.clients(),
    )
    check = by_id(report)["state-bucket"][0]
    assert check.status == "fail" and "does not exist" in check.detail
    assert "bootstrap/" in check.remediation


def test_state_bucket_from_the_bootstrap_config(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    """Without a backend URL the bucket is the one bootstrap/Pulumi.bootstrap.yaml names."""
    report = pf.run_preflight(
        inputs(synthesized["primary"], backend_url=None, secrets_provider=None), account.clients()
    )
    assert status(report, "state-bucket") == "pass"
    assert BUCKET in by_id(report)["state-bucket"][0].detail
    assert status(report, "state-key") == "pass"


def test_unversioned_state_in_the_primary_region_fails(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    bucket = f"reskflow-pulumi-state-us-east-1-{ACCOUNT}"
    account.client("s3").create_bucket(Bucket=bucket)
    report = pf.run_preflight(
        inputs(synthesized["primary"], backend_url=f"s3://{bucket}?region=us-east-1"),
        account.clients(),
    )
    assert status(report, "state-region") == "fail"
    assert "primary region us-east-1" in by_id(report)["state-region"][0].detail
    assert status(report, "state-versioning") == "fail"
    assert status(report, "state-encryption") == "warn"


def test_disabled_secrets_key_fails(account: Account, synthesized: dict[str, SynthResult]) -> None:
    kms = account.client("kms", STATE_REGION)
    kms.disable_key(KeyId=kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyId"])
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["state-key"][0]
    assert check.status == "fail" and "Disabled" in check.detail


def test_state_access_denied(account: Account, synthesized: dict[str, SynthResult]) -> None:
    policy = deploy_policy()
    policy["Statement"].append(
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    )
    account.client("iam").put_role_policy(
        RoleName="resilience-deploy", PolicyName="deploy", PolicyDocument=json.dumps(policy)
    )
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["state-access"][0]
    assert check.status == "fail" and "s3:PutObject" in check.detail
    assert "explicitDeny" in check.detail


# -- 6. GitHub OIDC ----------------------------------------------------------------------------


def test_missing_oidc_provider_fails(account: Account, synthesized: dict[str, SynthResult]) -> None:
    account.client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER)
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["github-oidc-provider"][0]
    assert check.status == "fail" and "token.actions.githubusercontent.com" in check.detail


def test_deploy_role_trusting_another_repository_fails(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    account.client("iam").update_assume_role_policy(
        RoleName="resilience-deploy",
        PolicyDocument=json.dumps(trust_policy("repo:someone/else:environment:production")),
    )
    report = pf.run_preflight(inputs(synthesized["primary"]), account.clients())
    check = by_id(report)["github-deploy-role"][0]
    assert check.status == "fail"
    assert f"repo:{REPOSITORY}:environment:production" in check.detail


def test_no_deploy_workflow_asks_nothing_of_github(
    account: Account, synthesized: dict[str, SynthResult]
) -> None:
    report = pf.run_preflight(inputs(synthesized["primary"], ci=None), account.clients())
    assert status(report, "github-oidc") == "pass"
    assert "iam.ListOpenIDConnectProviders" not in account.calls


def test_trust_conditions() -> None:
    subject = f"repo:{REPOSITORY}:environment:production"
    like = trust_policy("repo:acme/*:environment:production")
    condition = like["Statement"][0]["Condition"]
    condition["StringLike"] = {
        "token.actions.githubusercontent.com:sub": condition["StringEquals"].pop(
            "token.actions.githubusercontent.com:sub"
        )
    }
    assert pf.trusts(like, PROVIDER, subject)[0]
    assert not pf.trusts(like, PROVIDER, "repo:other/x:environment:production")[0]
    unconditioned = trust_policy(subject)
    del unconditioned["Statement"][0]["Condition"]
    ok, why = pf.trusts(unconditioned, PROVIDER, subject)
    assert not ok and "no `sub` condition" in why


def test_ci_target_found_from_the_deploy_workflow() -> None:
    target = pf.ci_target(ROOT, DEPLOY_ROLE, REPOSITORY)
    assert target == pf.CiTarget(".github/workflows/deploy.yml", DEPLOY_ROLE, REPOSITORY)
    assert pf.ci_target(ROOT / "tests", None, None) is None


# -- the command -------------------------------------------------------------------------------


def run_cli(account: Account, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setattr(cli, "Clients", account.clients)
    return CliRunner().invoke(
        cli.app,
        [
            "preflight",
            "--project-dir",
            str(ROOT),
            "--backend-url",
            BACKEND_URL,
            "--secrets-provider",
            SECRETS,
            "--deploy-role-arn",
            DEPLOY_ROLE,
            "--repository",
            REPOSITORY,
            *args,
        ],
    )


def test_cli_json_exit_codes(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    clean = run_cli(account, monkeypatch, "--stack", "primary", "--json")
    assert clean.exit_code == 0, clean.output
    document = json.loads(clean.stdout)
    assert document["stack"] == "primary" and document["account"] == ACCOUNT
    assert not [c for c in document["checks"] if c["status"] == "fail"]

    account.state.out_of_sms_sandbox.discard("us-east-1")
    failing = run_cli(account, monkeypatch, "--stack", "primary")
    assert failing.exit_code == 1
    assert "preflight of stack primary in account 123456789012, us-east-1" in failing.output
    assert "1 fail" in failing.output and "sms-sandbox" in failing.output
    assert_read_only(account.calls)


def test_cli_bad_input_exits_2_without_a_traceback(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = run_cli(account, monkeypatch, "--stack", "nosuch", "--json")
    assert unknown.exit_code == 2
    assert json.loads(unknown.stdout)["error"].startswith("unknown stack 'nosuch'")
    assert "Traceback" not in unknown.output
    neither = run_cli(account, monkeypatch)
    assert neither.exit_code == 2 and "--stack NAME or --config-file FILE" in neither.output
    gcp = run_cli(
        account,
        monkeypatch,
        "--config-file",
        str(ROOT / "examples" / "light-on-campus" / "Pulumi.light-on-campus.yaml"),
    )
    assert gcp.exit_code == 2 and "an AWS stack is needed here" in gcp.output
    assert not account.calls  # nothing was asked of AWS
