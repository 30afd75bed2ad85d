"""What moto does not emulate for `resilience preflight`, filled in for its tests in one visible
place (tests/moto_gaps.py does the same for the failover tests).

moto 5.2 answers none of these operations: IAM Access Analyzer ListAnalyzers; SNS
GetSMSSandboxAccountStatus and ListSMSSandboxPhoneNumbers; AWS End User Messaging SMS
(pinpoint-sms-voice-v2) DescribePhoneNumbers; Service Quotas beyond the VPC's; Route 53
GetAccountLimit; Auto Scaling DescribeAccountLimits; RDS DescribeAccountAttributes; IAM
SimulatePrincipalPolicy. `install_preflight_gaps` answers them through botocore `before-call`
hooks on the session the code under test uses. Each answer has the response syntax of the
operation's API reference; usage counts come from moto's own state (the resources the test
created there), and only what AWS would hold and moto cannot (an account's applied quota, its
SMS sandbox status, its phone numbers, its analyzers) is set by the test on `AccountState`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders

ACCOUNT = "123456789012"  # moto's default account

# Service Quotas defaults, each from its service's quota page:
# - Route 53 Developer Guide, Quotas: "Health checks: 200 active health checks per AWS account".
# - SNS API Reference, CreateTopic: "Users can create at most 100,000 standard topics".
# - AWS KMS Developer Guide, Resource quotas: "AWS KMS keys: 100,000".
# - Amazon EventBridge User Guide, quotas: "Number of rules ... each other supported Region:
#   300".
# No default is modelled for EC2's "Running On-Demand Standard" vCPUs (L-1216C47A): its
# default differs by account and none is documented; a test sets the applied value.
DEFAULT_QUOTAS: dict[tuple[str, str], float] = {
    ("route53", "L-ACB674F3"): 200,
    ("sns", "L-61103206"): 100_000,
    ("kms", "L-C2F1777E"): 100_000,
    ("events", "L-244521F2"): 300,
}
# EC2 Auto Scaling User Guide, Quotas: "Auto Scaling groups per region: 500", "Launch
# configurations per region: 200". RDS: the DBInstances quota of DescribeAccountAttributes'
# example ("<AccountQuotaName>DBInstances</AccountQuotaName> ... <Max>40</Max>").
DEFAULT_ASG_LIMIT = 500
DEFAULT_LAUNCH_CONFIGURATION_LIMIT = 200
DEFAULT_RDS_INSTANCES = 40


@dataclass
class AccountState:
    """What the account holds beyond moto, as the tests set it."""

    # (region, service code, quota code) -> the applied value (a granted increase or decrease).
    quotas: dict[tuple[str, str, str], float] = field(default_factory=dict)
    health_check_limit: float = 200  # MAX_HEALTH_CHECKS_BY_OWNER (account-wide)
    asg_limit: dict[str, float] = field(default_factory=dict)  # by region
    rds_instance_limit: dict[str, float] = field(default_factory=dict)  # by region
    analyzers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by region
    # SNS API Reference, GetSMSSandboxAccountStatus: "When you start using Amazon SNS to send
    # SMS messages, your Amazon Web Services account is in the SMS sandbox": a Region is in
    # the sandbox until it leaves.
    out_of_sms_sandbox: set[str] = field(default_factory=set)
    sandbox_numbers: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # region -> number -> status
    phone_numbers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by region

    def add_analyzer(self, region: str, name: str, kind: str = "ACCOUNT") -> None:
        """An analyzer as ListAnalyzers returns it (AnalyzerSummary: arn, name, type,
        createdAt, status)."""
        self.analyzers.setdefault(region, []).append(
            {
                "arn": f"arn:aws:access-analyzer:{region}:{ACCOUNT}:analyzer/{name}",
                "name": name,
                "type": kind,
                "createdAt": datetime(2026, 1, 5, tzinfo=UTC),
                "status": "ACTIVE",
            }
        )

    def add_phone_number(
        self, region: str, number: str, country: str, status: str = "ACTIVE"
    ) -> None:
        """A number as DescribePhoneNumbers returns it (PhoneNumberInformation)."""
        self.phone_numbers.setdefault(region, []).append(
            {
                "PhoneNumberArn": f"arn:aws:sms-voice:{region}:{ACCOUNT}:phone-number/n-1",
                "PhoneNumberId": "phone-1",
                "PhoneNumber": number,
                "Status": status,
                "IsoCountryCode": country,
                "MessageType": "TRANSACTIONAL",
                "NumberCapabilities": ["SMS"],
                "NumberType": "TOLL_FREE",
                "MonthlyLeasingPrice": "2.00",
                "TwoWayEnabled": False,
                "SelfManagedOptOutsEnabled": False,
                "OptOutListName": "Default",
                "CreatedTimestamp": datetime(2026, 1, 5, tzinfo=UTC),
            }
        )


def _ok(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("https://preflight-gap", 200, HTTPHeaders(), None), parsed


def _error(status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("https://preflight-gap", status, HTTPHeaders(), None), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


# -- IAM policy evaluation (SimulatePrincipalPolicy) ------------------------------------------


def _pattern(value: str, *, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: "*" any run of characters, "?" one character (IAM User Guide, IAM JSON
    policy elements: Action, Resource); action names are case-insensitive."""
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value)
    return re.compile(f"^{text}$", re.IGNORECASE if ignore_case else 0)


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _matches(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    if "Action" in statement:
        action_ok = any(
            _pattern(a, ignore_case=True).match(action) for a in _listed(statement["Action"])
        )
    else:
        action_ok = not any(
            _pattern(a, ignore_case=True).match(action) for a in _listed(statement["NotAction"])
        )
    if "Resource" in statement:
        resource_ok = any(
            _pattern(r, ignore_case=False).match(resource) for r in _listed(statement["Resource"])
        )
    else:
        resource_ok = not any(
            _pattern(r, ignore_case=False).match(resource)
            for r in _listed(statement.get("NotResource"))
        )
    return action_ok and resource_ok


def decide(documents: list[Mapping[str, Any]], action: str, resource: str) -> str:
    """IAM User Guide, Policy evaluation logic: "By default, all requests are implicitly
    denied" and "An explicit deny in any policy overrides any allows". A statement with a
    Condition is not applied: the simulation is given no context entries, and "If the key that
    you specify in a policy condition is not present in the request context, the values do not
    match" (IAM JSON policy elements: Condition operators)."""
    statements = [
        s
        for d in documents
        for s in (d["Statement"] if isinstance(d["Statement"], list) else [d["Statement"]])
        if "Condition" not in s
    ]
    if any(s["Effect"] == "Deny" and _matches(s, action, resource) for s in statements):
        return "explicitDeny"
    if any(s["Effect"] == "Allow" and _matches(s, action, resource) for s in statements):
        return "allowed"
    return "implicitDeny"


def principal_policies(iam: Any, principal_arn: str) -> list[Mapping[str, Any]]:
    """The identity-based policies of a role or user, read from moto: attached managed
    policies (their default version) and inline policies."""
    name = principal_arn.rsplit("/", 1)[-1]
    kind = "role" if ":role/" in principal_arn else "user"
    documents: list[Mapping[str, Any]] = []
    attached = getattr(iam, f"list_attached_{kind}_policies")(**{f"{kind.title()}Name": name})
    for policy in attached["AttachedPolicies"]:
        meta = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=policy["PolicyArn"], VersionId=meta["DefaultVersionId"]
        )
        documents.append(version["PolicyVersion"]["Document"])
    inline = getattr(iam, f"list_{kind}_policies")(**{f"{kind.title()}Name": name})
    for policy_name in inline["PolicyNames"]:
        found = getattr(iam, f"get_{kind}_policy")(
            **{f"{kind.title()}Name": name, "PolicyName": policy_name}
        )
        documents.append(found["PolicyDocument"])
    return documents


# -- the hooks ---------------------------------------------------------------------------------


def install_preflight_gaps(session: boto3.Session, endpoint: str, state: AccountState) -> None:
    """Register the answers on `session`'s event system. Usage is read from moto through a
    separate, unhooked session, so the code's recorded calls stay its own."""
    backend = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )

    def moto(service: str, region: str) -> Any:
        make: Any = backend.client
        return make(service, region_name=region, endpoint_url=endpoint)

    events = session._session.get_component("event_emitter")

    def keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["preflight_params"] = dict(params)

    def region_of(request_signer: Any) -> str:
        return str(request_signer._region_name)

    def answer(
        fn: Callable[[dict[str, Any], str], tuple[AWSResponse, dict[str, Any]]],
    ) -> Callable[..., Any]:
        def handler(context: dict[str, Any], request_signer: Any, **_: Any) -> Any:
            return fn(context.get("preflight_params", {}), region_of(request_signer))

        return handler

    def list_analyzers(params: dict[str, Any], region: str) -> Any:
        found = state.analyzers.get(region, [])
        if "type" in params:
            found = [a for a in found if a["type"] == params["type"]]
        return _ok({"analyzers": found})

    def sandbox_status(_: dict[str, Any], region: str) -> Any:
        return _ok({"IsInSandbox": region not in state.out_of_sms_sandbox})

    def sandbox_numbers(_: dict[str, Any], region: str) -> Any:
        numbers = state.sandbox_numbers.get(region, {})
        return _ok({"PhoneNumbers": [{"PhoneNumber": n, "Status": s} for n, s in numbers.items()]})

    def phone_numbers(_: dict[str, Any], region: str) -> Any:
        return _ok({"PhoneNumbers": state.phone_numbers.get(region, [])})

    def quota_value(service: str, code: str, region: str, *, applied: bool) -> float | None:
        if applied and (region, service, code) in state.quotas:
            return state.quotas[(region, service, code)]
        return DEFAULT_QUOTAS.get((service, code))

    def quota(params: dict[str, Any], region: str, *, applied: bool) -> Any:
        service, code = params["ServiceCode"], params["QuotaCode"]
        value = quota_value(service, code, region, applied=applied)
        if value is None:
            return _error(400, "NoSuchResourceException", "The specified resource does not exist.")
        return _ok(
            {
                "Quota": {
                    "ServiceCode": service,
                    "QuotaCode": code,
                    "QuotaArn": f"arn:aws:servicequotas:{region}:{ACCOUNT}:{service}/{code}",
                    "Value": value,
                    "Unit": "None",
                    "Adjustable": True,
                    "GlobalQuota": False,
                }
            }
        )

    def account_limit(params: dict[str, Any], region: str) -> Any:
        if params.get("Type") != "MAX_HEALTH_CHECKS_BY_OWNER":
            return _error(400, "InvalidInput", "only MAX_HEALTH_CHECKS_BY_OWNER is modelled")
        checks = moto("route53", region).list_health_checks()["HealthChecks"]
        return _ok(
            {
                "Limit": {"Type": "MAX_HEALTH_CHECKS_BY_OWNER", "Value": state.health_check_limit},
                "Count": len(checks),
            }
        )

    def asg_limits(_: dict[str, Any], region: str) -> Any:
        autoscaling = moto("autoscaling", region)
        groups = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
        configurations = autoscaling.describe_launch_configurations()["LaunchConfigurations"]
        return _ok(
            {
                "MaxNumberOfAutoScalingGroups": state.asg_limit.get(region, DEFAULT_ASG_LIMIT),
                "MaxNumberOfLaunchConfigurations": DEFAULT_LAUNCH_CONFIGURATION_LIMIT,
                "NumberOfAutoScalingGroups": len(groups),
                "NumberOfLaunchConfigurations": len(configurations),
            }
        )

    def rds_attributes(_: dict[str, Any], region: str) -> Any:
        instances = moto("rds", region).describe_db_instances()["DBInstances"]
        return _ok(
            {
                "AccountQuotas": [
                    {
                        "AccountQuotaName": "DBInstances",
                        "Used": len(instances),
                        "Max": state.rds_instance_limit.get(region, DEFAULT_RDS_INSTANCES),
                    }
                ]
            }
        )

    def simulate(params: dict[str, Any], region: str) -> Any:
        source = str(params["PolicySourceArn"])
        iam = moto("iam", region)
        try:
            documents = principal_policies(iam, source)
        except iam.exceptions.NoSuchEntityException:
            return _error(404, "NoSuchEntity", f"{source} does not exist")
        results = [
            {
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": decide(documents, action, resource),
            }
            for action in params["ActionNames"]
            for resource in params.get("ResourceArns", ["*"])
        ]
        return _ok({"EvaluationResults": results, "IsTruncated": False})

    events.register("before-parameter-build", keep_params)
    gaps: dict[str, Callable[[dict[str, Any], str], Any]] = {
        "accessanalyzer.ListAnalyzers": list_analyzers,
        "sns.GetSMSSandboxAccountStatus": sandbox_status,
        "sns.ListSMSSandboxPhoneNumbers": sandbox_numbers,
        "pinpoint-sms-voice-v2.DescribePhoneNumbers": phone_numbers,
        "service-quotas.GetServiceQuota": lambda p, r: quota(p, r, applied=True),
        "service-quotas.GetAWSDefaultServiceQuota": lambda p, r: quota(p, r, applied=False),
        "route-53.GetAccountLimit": account_limit,
        "auto-scaling.DescribeAccountLimits": asg_limits,
        "rds.DescribeAccountAttributes": rds_attributes,
        "iam.SimulatePrincipalPolicy": simulate,
    }
    for operation, fn in gaps.items():
        events.register(f"before-call.{operation}", answer(fn))
