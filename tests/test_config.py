"""Stack config: the shipped values, and every kind of bad input with its exact key path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from model.config import SECRET_PLACEHOLDER, DrMode, Role, StackConfig
from model.loader import ConfigError, LoadedConfig, load_file, load_mapping
from tests.conftest import ConfigWriter, read_stack_document


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    return [str(p) for p in caught.value.problems]


# The reason the config gives for an identifier RDS refuses (model/config.py RdsIdentifier).
RDS_IDENTIFIER_REASON = (
    "is not an RDS identifier: 1-63 lowercase letters, digits and hyphens, starting with a "
    "letter; RDS identifiers can't end with a hyphen or contain two consecutive hyphens"
)


def test_shipped_primary_carries_the_reskflow_numbers(shipped: dict[str, LoadedConfig]) -> None:
    config = shipped["primary"].aws
    assert config.role is Role.PRIMARY
    assert (config.primary.region, config.dr.region) == ("us-east-1", "us-west-2")
    assert (config.dr.rto_minutes, config.dr.rpo_minutes) == (15, 5)
    assert config.dr.mode is DrMode.PILOT_LIGHT
    slos = {
        s.name: (s.slo.availability, s.slo.latency_p95_ms, s.slo.latency_p99_ms)
        for s in config.services
    }
    assert slos == {
        "orders-api": (99.99, 500, 1000),
        "users-api": (99.99, 200, 500),
        "tracking-api": (99.99, 100, 300),
    }
    assert config.region == "us-east-1"
    assert config.peer_region == "us-west-2"


def test_shipped_dr_describes_the_same_system(shipped: dict[str, LoadedConfig]) -> None:
    primary, dr = shipped["primary"].aws, shipped["dr"].aws
    assert dr.role is Role.DR
    assert dr.region == "us-west-2"
    assert dr.primary_stack == "organization/resilience/primary"
    assert primary.primary_stack is None
    # Both include the same system file: everything but role and reference is the same.
    assert primary.include == dr.include == ["systems/reskflow.yaml"]
    assert primary.model_dump(exclude={"role", "primary_stack"}) == dr.model_dump(
        exclude={"role", "primary_stack"}
    )


def test_minimal_example_takes_defaults(shipped: dict[str, LoadedConfig]) -> None:
    config = shipped["example-minimal"].aws
    assert config.environment == "production"
    assert config.dr.mode is DrMode.PILOT_LIGHT
    assert config.kms.deletion_window_days == 30
    assert config.kms.app_key is False
    assert config.escalation.warning == []
    assert config.services[0].slo.window_days == 30


def test_tier_supplies_the_seed_slo_when_none_is_given(write_config: ConfigWriter) -> None:
    """Light on Campus' SLO table: web 99.5 % / 3 s, api 99.9 % / 1 s, ai 99.0 % / 30 s,
    auth 99.9 % / 500 ms, database 99.99 % / 100 ms (p95)."""
    expected = {
        "web": (99.5, 3000),
        "api": (99.9, 1000),
        "ai": (99.0, 30000),
        "auth": (99.9, 500),
        "database": (99.99, 100),
    }

    def tiers(config: dict[str, Any]) -> None:
        template = config["resilience:services"][0]
        config["resilience:services"] = [
            {
                **{k: v for k, v in template.items() if k not in ("slo", "dns", "scaling")},
                "resources": {"primary": {"alb": template["resources"]["primary"]["alb"]}},
                "name": f"svc-{tier}",
                "tier": tier,
            }
            for tier in expected
        ]

    loaded = load_file(write_config(tiers)).aws
    got = {s.tier: (s.slo.availability, s.slo.latency_p95_ms) for s in loaded.services}
    assert got == expected
    worker = write_config(
        lambda c: (
            c["resilience:services"][0].update(tier="worker")
            or c["resilience:services"][0].pop("slo")
        )
    )
    assert problems_of(worker) == [
        "Pulumi.bad.yaml: resilience:services[0].slo: required key is missing"
    ]


def test_stack_name_comes_from_the_file_name(write_config: ConfigWriter) -> None:
    assert load_file(write_config(name="staging")).stack == "staging"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda c: c["resilience:dr"].pop("rto_minutes"),
            "Pulumi.bad.yaml: resilience:dr.rto_minutes: required key is missing",
            id="missing-nested-key",
        ),
        pytest.param(
            lambda c: c.pop("resilience:services"),
            "Pulumi.bad.yaml: resilience:services: required key is missing",
            id="missing-top-level-key",
        ),
        pytest.param(
            lambda c: c["resilience:dr"].update(rto_minutes="fifteen"),
            "Pulumi.bad.yaml: resilience:dr.rto_minutes: must be a valid integer, unable to "
            "parse string as an integer, got 'fifteen'",
            id="wrong-type",
        ),
        pytest.param(
            lambda c: c.update({"resilience:services": "orders-api"}),
            "Pulumi.bad.yaml: resilience:services: must be a valid list, got 'orders-api'",
            id="wrong-container-type",
        ),
        pytest.param(
            lambda c: c.update({"resilience:dr": None}),
            "Pulumi.bad.yaml: resilience:dr: must be a mapping of keys, got nothing",
            id="empty-section",
        ),
        pytest.param(
            lambda c: c["resilience:dr"].update(rto_minute=15),
            "Pulumi.bad.yaml: resilience:dr.rto_minute: unknown key (did you mean 'rto_minutes'?)",
            id="typo-nested",
        ),
        pytest.param(
            lambda c: c.update({"resilience:servics": []}),
            "Pulumi.bad.yaml: resilience:servics: unknown key (did you mean 'services'?)",
            id="typo-top-level",
        ),
        pytest.param(
            lambda c: c["resilience:services"][1]["slo"].update(availability=99.9999),
            "Pulumi.bad.yaml: resilience:services[1].slo.availability: must be less than or "
            "equal to 99.999, got 99.9999",
            id="slo-above-range",
        ),
        pytest.param(
            lambda c: c["resilience:services"][2]["slo"].update(availability=90),
            "Pulumi.bad.yaml: resilience:services[2].slo.availability: must be greater than 90, "
            "got 90",
            id="slo-below-range",
        ),
        pytest.param(
            lambda c: c["resilience:dr"].update(region="us-east-1"),
            "Pulumi.bad.yaml: resilience:dr.region: must differ from primary region us-east-1",
            id="dr-region-equals-primary",
        ),
        pytest.param(
            lambda c: c["resilience:dr"].update(region="us-east-9"),
            "Pulumi.bad.yaml: resilience:dr.region: unknown AWS region 'us-east-9'",
            id="unknown-region",
        ),
        pytest.param(
            lambda c: c["resilience:primary"].update(region="US-EAST-1"),
            "Pulumi.bad.yaml: resilience:primary.region: unknown AWS region 'US-EAST-1'",
            id="region-case",
        ),
        pytest.param(
            lambda c: c["resilience:dr"].update(rpo_minutes=0),
            "Pulumi.bad.yaml: resilience:dr.rpo_minutes: must be greater than 0, got 0",
            id="rpo-zero",
        ),
        pytest.param(
            lambda c: c["resilience:dr"].update(rto_minutes=-5),
            "Pulumi.bad.yaml: resilience:dr.rto_minutes: must be greater than 0, got -5",
            id="rto-negative",
        ),
        pytest.param(
            lambda c: c.update({"resilience:role": "secondary"}),
            "Pulumi.bad.yaml: resilience:role: must be 'primary' or 'dr', got 'secondary'",
            id="unknown-role",
        ),
        pytest.param(
            lambda c: c.update({"aws:region": "us-east-1"}),
            "Pulumi.bad.yaml: aws:region: not used: every resource gets an explicit aws.Provider "
            "whose region comes from resilience:primary.region / resilience:dr.region; remove "
            "this key",
            id="ambient-aws-region",
        ),
        pytest.param(
            lambda c: c.update({"name": "reskflow"}),
            "Pulumi.bad.yaml: name: key has no namespace: did you mean 'resilience:name'?",
            id="no-namespace",
        ),
        pytest.param(
            lambda c: c["resilience:escalation"]["critical"][0].update(endpoint="oncall"),
            "Pulumi.bad.yaml: resilience:escalation.critical[0].endpoint: 'oncall' is not an "
            "email address",
            id="bad-email",
        ),
        pytest.param(
            lambda c: c["resilience:escalation"].update(
                critical=[{"kind": "https", "endpoint": "http://alerts.example.com/x"}]
            ),
            "Pulumi.bad.yaml: resilience:escalation.critical[0].endpoint: webhook endpoints must "
            "be https:// URLs",
            id="plain-http-webhook",
        ),
        pytest.param(
            lambda c: c["resilience:escalation"].update(
                critical=[
                    {"kind": "pagerduty", "endpoint": "https://events.pagerduty.com/v2/enqueue"}
                ]
            ),
            "Pulumi.bad.yaml: resilience:escalation.critical[0].endpoint: use the URL of "
            "PagerDuty's Amazon CloudWatch integration (https://events.pagerduty.com/integration/"
            "<32-character key>/enqueue): the Events API v2 endpoint does not accept SNS "
            "deliveries",
            id="pagerduty-events-api",
        ),
        pytest.param(
            lambda c: c["resilience:escalation"].update(
                critical=[{"kind": "slack", "endpoint": "https://chat.example.com/hook"}]
            ),
            "Pulumi.bad.yaml: resilience:escalation.critical[0].endpoint: a Slack incoming "
            "webhook URL starts with https://hooks.slack.com/",
            id="slack-not-a-webhook",
        ),
        pytest.param(
            lambda c: c["resilience:escalation"].update(critical=[]),
            "Pulumi.bad.yaml: resilience:escalation.critical: must have at least 1 item after "
            "validation, not 0",
            id="nobody-paged",
        ),
        pytest.param(
            lambda c: c.update({"resilience:tags": {"aws:owner": "me"}}),
            "Pulumi.bad.yaml: resilience:tags.aws:owner: the 'aws:' prefix is reserved by AWS",
            id="reserved-tag",
        ),
        pytest.param(
            lambda c: c.update({"resilience:tags": {"compliance": "gdpr,pci"}}),
            "Pulumi.bad.yaml: resilience:tags.compliance: 'gdpr,pci' is not a valid AWS tag "
            "value (0-256 of letters, digits, spaces and . : / = + - @ _)",
            id="tag-value-charset",
        ),
        pytest.param(
            lambda c: c["resilience:services"].append(dict(c["resilience:services"][0])),
            "Pulumi.bad.yaml: resilience:services[3].name: duplicate service name 'orders-api' "
            "(also services[0])",
            id="duplicate-service",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["slo"].update(latency_p99_ms=100),
            "Pulumi.bad.yaml: resilience:services[0].slo.latency_p99_ms: must be >= "
            "latency_p95_ms (500): a p99 is never below the p95",
            id="p99-below-p95",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0].update(name="Orders_API"),
            "Pulumi.bad.yaml: resilience:services[0].name: 'Orders_API' must be 2-32 characters "
            "of lowercase letters, digits and '-', starting with a letter and not ending with '-'",
            id="service-name-shape",
        ),
        pytest.param(
            lambda c: c["resilience:kms"].update(deletion_window_days=3),
            "Pulumi.bad.yaml: resilience:kms.deletion_window_days: must be greater than or equal "
            "to 7, got 3",
            id="kms-window-out-of-range",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0].update(alarms={"alb-5xx": {"enabled": False}}),
            "Pulumi.bad.yaml: resilience:services[0].alarms.alb-5xx: unknown service alarm "
            "'alb-5xx' (did you mean 'alb-5xx-rate'?)",
            id="unknown-alarm",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0].update(
                alarms={"asg-cpu-high": {"period_seconds": 90}}
            ),
            "Pulumi.bad.yaml: resilience:services[0].alarms.asg-cpu-high.period_seconds: 90 is "
            "not an alarm period: 10, 20, 30 or a multiple of 60 up to 86400",
            id="alarm-period",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0].update(
                alarms={"asg-memory-high": {"datapoints_to_alarm": 11}}
            ),
            "Pulumi.bad.yaml: resilience:services[0].alarms.asg-memory-high.datapoints_to_alarm: "
            "must be <= evaluation_periods (10)",
            id="alarm-datapoints-over-default-evaluations",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0].update(
                alarms={"asg-cpu-high": {"evaluation_periods": 1441}}
            ),
            "Pulumi.bad.yaml: resilience:services[0].alarms.asg-cpu-high.evaluation_periods: "
            "must be less than or equal to 1440, got 1441",
            id="alarm-evaluations-range",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0].update(
                alarms={"asg-cpu-high": {"period_seconds": 600, "evaluation_periods": 200}}
            ),
            "Pulumi.bad.yaml: resilience:services[0].alarms.asg-cpu-high.evaluation_periods: "
            "period x evaluation_periods is 120000 s: at most 86400 s for periods under 1 h",
            id="alarm-evaluation-range-limit",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0].update(
                alarms={"rds-connections-high": {"threshold": 120}}
            ),
            "Pulumi.bad.yaml: resilience:services[0].alarms.rds-connections-high.threshold: is a "
            "percentage (percent-of-max-connections): must be in (0, 100], got 120",
            id="alarm-percent-threshold",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0].update(
                alarms={"asg-cpu-high": {"threshold": -1}}
            ),
            "Pulumi.bad.yaml: resilience:services[0].alarms.asg-cpu-high.threshold: must be "
            "greater than or equal to 0, got -1",
            id="alarm-negative-threshold",
        ),
        pytest.param(
            lambda c: c.update({"resilience:monitoring": {"alarms": {"asg-cpu-high": {}}}}),
            "Pulumi.bad.yaml: resilience:monitoring.alarms.asg-cpu-high: unknown stack alarm "
            "'asg-cpu-high' (known: backup-job-failed, backup-copy-job-failed, "
            "backup-restore-job-failed)",
            id="service-alarm-at-stack-level",
        ),
        pytest.param(
            lambda c: c["resilience:services"][1].update(resources={}, dns=None, scaling=None),
            "Pulumi.bad.yaml: resilience:services[1].resources.primary: the SLO needs a source "
            "of request metrics: add an alb, functions or kubernetes",
            id="slo-without-sli-source",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["resources"]["dr"].update(
                certificates=[
                    "arn:aws:acm:us-east-1:123456789012:certificate/"
                    "0f6b2c1e-7a4d-4c55-9e1b-3d2f8a6c4b10"
                ]
            ),
            "Pulumi.bad.yaml: resilience:services[0].resources.dr.certificates[0]: certificate is "
            "in us-east-1 but the dr region is us-west-2: ACM publishes DaysToExpiry in the "
            "certificate's region only",
            id="certificate-region",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["resources"]["primary"]["alb"].update(
                load_balancer="reskflow-orders"
            ),
            "Pulumi.bad.yaml: resilience:services[0].resources.primary.alb.load_balancer: "
            "'reskflow-orders' is not an ALB dimension (app/<name>/<id>)",
            id="alb-dimension-shape",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["resources"]["primary"].update(
                s3_replication=[
                    {"source_bucket": "ReskFlow-data", "destination_bucket": "x-y", "rule_id": "r"}
                ]
            ),
            "Pulumi.bad.yaml: resilience:services[0].resources.primary.s3_replication[0]"
            ".source_bucket: 'ReskFlow-data' is not an S3 bucket name (3-63 lowercase letters, "
            "digits, '.' and '-')",
            id="bucket-name-uppercase",
        ),
        # Amazon SQS FIFO queue quotas: "The suffix counts towards the 80-character queue name
        # quota."
        pytest.param(
            lambda c: c["resilience:services"][0]["resources"]["primary"]["queues"][0].update(
                queue_name="q" * 76 + ".fifo"
            ),
            "Pulumi.bad.yaml: resilience:services[0].resources.primary.queues[0].queue_name: "
            f"'{'q' * 76}.fifo' is not an SQS queue name: 1-80 letters, digits, '-' and '_', a "
            "FIFO queue's .fifo suffix included",
            id="fifo-queue-name-81-characters",
        ),
        # RDS API Reference, CreateDBInstance, DBInstanceIdentifier: "Must contain from 1 to
        # 63 letters, numbers, or hyphens. First character must be a letter. Can't end with a
        # hyphen or contain two consecutive hyphens."
        pytest.param(
            lambda c: c["resilience:services"][0]["resources"]["primary"]["databases"][0].update(
                identifier="reskflow-db-"
            ),
            "Pulumi.bad.yaml: resilience:services[0].resources.primary.databases[0].identifier: "
            f"'reskflow-db-' {RDS_IDENTIFIER_REASON}",
            id="watched-rds-identifier-trailing-hyphen",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["resources"]["dr"]["databases"][0].update(
                identifier="reskflow--db-dr"
            ),
            "Pulumi.bad.yaml: resilience:services[0].resources.dr.databases[0].identifier: "
            f"'reskflow--db-dr' {RDS_IDENTIFIER_REASON}",
            id="watched-rds-identifier-double-hyphen",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["resources"]["primary"]["databases"][0].update(
                identifier="r" * 64
            ),
            "Pulumi.bad.yaml: resilience:services[0].resources.primary.databases[0].identifier: "
            f"'{'r' * 64}' {RDS_IDENTIFIER_REASON}",
            id="watched-rds-identifier-64-characters",
        ),
        pytest.param(
            lambda c: c["resilience:databases"][0].update(identifier="reskflow-db-"),
            "Pulumi.bad.yaml: resilience:databases[0].identifier: "
            f"'reskflow-db-' {RDS_IDENTIFIER_REASON}",
            id="database-identifier-trailing-hyphen",
        ),
        pytest.param(
            lambda c: c["resilience:databases"][0].update(identifier="reskflow--db"),
            "Pulumi.bad.yaml: resilience:databases[0].identifier: "
            f"'reskflow--db' {RDS_IDENTIFIER_REASON}",
            id="database-identifier-double-hyphen",
        ),
        pytest.param(
            # Aurora: the DR cluster <id>-dr and its instances <id>-dr-1.. (components/database.py)
            lambda c: c["resilience:databases"][0].update(
                engine="aurora-postgresql", engine_version="16.4", identifier="a" * 59
            ),
            "Pulumi.bad.yaml: resilience:databases[0].identifier: the DR cluster instance "
            f"identifier '{'a' * 59}-dr-1' would be 64 characters; RDS allows 63",
            id="aurora-dr-instance-identifier-too-long",
        ),
        pytest.param(
            lambda c: c["resilience:databases"][0].update(
                engine="aurora-postgresql",
                engine_version="16.4",
                identifier="a" * 58,
                dr_instances=16,
            ),
            "Pulumi.bad.yaml: resilience:databases[0].identifier: the DR cluster instance "
            f"identifier '{'a' * 58}-dr-16' would be 64 characters; RDS allows 63",
            id="aurora-sixteenth-dr-instance-identifier-too-long",
        ),
        pytest.param(
            lambda c: c["resilience:services"][0]["resources"]["dr"].update(
                health_checks=["0f6b2c1e-7a4d-4c55-9e1b-3d2f8a6c4b10"]
            ),
            "Pulumi.bad.yaml: resilience:services[0].resources.dr.health_checks: Route 53 "
            "publishes health-check metrics only in us-east-1; the dr region is us-west-2",
            id="health-check-outside-us-east-1",
        ),
        pytest.param(
            lambda c: c["resilience:logs"].update(app_retention_days=45),
            "Pulumi.bad.yaml: resilience:logs.app_retention_days: 45 is not a CloudWatch Logs "
            "retention period (one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, "
            "731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)",
            id="log-retention",
        ),
    ],
)
def test_each_problem_names_file_key_and_reason(
    write_config: ConfigWriter, edit: Any, expected: str
) -> None:
    assert problems_of(write_config(edit)) == [expected]


def test_a_system_name_too_long_for_its_buckets_names_the_key(write_config: ConfigWriter) -> None:
    """S3 User Guide, General purpose bucket naming rules: "Bucket names must be between 3
    (min) and 63 (max) characters long". The same 29 characters also make the backup plans
    longer than AWS Backup's 50, reported with them."""
    problems = problems_of(write_config(lambda c: c.update({"resilience:name": "r" * 29})))
    assert (
        "Pulumi.bad.yaml: resilience:name: the access-log bucket "
        f"'{'r' * 29}-access-logs-us-east-1-<account id>' would be 64 characters; S3 allows 63: "
        "shorten the name"
    ) in problems


def test_included_system_file_is_merged_under_the_stack_keys(tmp_path: Path) -> None:
    system = read_stack_document("primary")
    system["config"].pop("resilience:role")
    (tmp_path / "system.yaml").write_text(yaml.safe_dump(system))
    (tmp_path / "Pulumi.east.yaml").write_text(
        yaml.safe_dump(
            {
                "config": {
                    "resilience:include": "system.yaml",
                    "resilience:role": "primary",
                    "resilience:name": "east",
                }
            }
        )
    )
    config = load_file(tmp_path / "Pulumi.east.yaml").aws
    assert config.name == "east"  # the stack's key replaces the included one
    assert config.dr.rpo_minutes == 5  # the rest comes from the system file
    assert config.include == ["system.yaml"]


def test_problems_in_an_included_file_name_that_file(tmp_path: Path) -> None:
    system = read_stack_document("primary")
    system["config"].pop("resilience:role")
    system["config"]["resilience:dr"]["rpo_minutes"] = 0
    (tmp_path / "system.yaml").write_text(yaml.safe_dump(system))
    (tmp_path / "Pulumi.east.yaml").write_text(
        yaml.safe_dump(
            {"config": {"resilience:include": ["system.yaml"], "resilience:role": "primari"}}
        )
    )
    assert problems_of(tmp_path / "Pulumi.east.yaml") == [
        "Pulumi.east.yaml: resilience:role: must be 'primary' or 'dr', got 'primari'",
        "system.yaml: resilience:dr.rpo_minutes: must be greater than 0, got 0",
    ]


def test_include_errors(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.a.yaml").write_text(
        "config:\n  resilience:include: missing.yaml\n  resilience:role: primary\n"
    )
    assert problems_of(tmp_path / "Pulumi.a.yaml") == [
        "Pulumi.a.yaml: resilience:include: missing.yaml: file not found"
    ]
    (tmp_path / "shared.yaml").write_text(
        "config:\n  resilience:role: dr\n  resilience:primary_stack: x\n"
    )
    (tmp_path / "Pulumi.b.yaml").write_text(
        "config:\n  resilience:include: shared.yaml\n  resilience:role: primary\n"
    )
    assert problems_of(tmp_path / "Pulumi.b.yaml") == [
        "shared.yaml: resilience:primary_stack: belongs in the stack file, not in an included file",
        "shared.yaml: resilience:role: belongs in the stack file, not in an included file",
    ]
    (tmp_path / "Pulumi.c.yaml").write_text("config:\n  resilience:include: {a: 1}\n")
    assert problems_of(tmp_path / "Pulumi.c.yaml") == [
        "Pulumi.c.yaml: resilience:include: must be a file path or a list of them"
    ]


def test_dr_role_requires_the_primary_stack_reference(write_config: ConfigWriter) -> None:
    path = write_config(lambda c: c.pop("resilience:primary_stack"), base="dr")
    assert problems_of(path) == [
        "Pulumi.bad.yaml: resilience:primary_stack: required when resilience:role is dr "
        "(the stack whose outputs it reads)"
    ]


def test_every_problem_is_reported_at_once(write_config: ConfigWriter) -> None:
    def many(c: dict[str, Any]) -> None:
        c["resilience:dr"].update(region="us-east-1", rpo_minutes=0, rto_minute=15)
        c["resilience:services"][0]["slo"]["availability"] = 100
        c["resilience:escalation"]["critical"][0]["endpoint"] = "not-an-address"
        c["aws:region"] = "us-east-1"

    problems = problems_of(write_config(many))
    keys = [p.split(": ")[1] for p in problems]
    assert keys == [
        "aws:region",
        "resilience:dr.region",
        "resilience:dr.rpo_minutes",
        "resilience:dr.rto_minute",
        "resilience:escalation.critical[0].endpoint",
        "resilience:services[0].slo.availability",
    ]


def test_file_level_errors(tmp_path: Path) -> None:
    missing = tmp_path / "Pulumi.nope.yaml"
    assert problems_of(missing) == [f"{missing}: file not found"]

    broken = tmp_path / "Pulumi.broken.yaml"
    broken.write_text("config:\n  resilience:role: [primary\n")
    (message,) = problems_of(broken)
    assert message.startswith("Pulumi.broken.yaml: invalid YAML at line 3")

    empty = tmp_path / "Pulumi.empty.yaml"
    empty.write_text("encryptionsalt: v1:abc\n")
    assert problems_of(empty) == ["Pulumi.empty.yaml: config: the file needs a 'config:' mapping"]


def test_encrypted_values_are_accepted_without_decryption(write_config: ConfigWriter) -> None:
    def secret_webhook(c: dict[str, Any]) -> None:
        c["resilience:escalation"]["critical"].append(
            {"kind": "pagerduty", "endpoint": {"secure": "v1:Zm9vYmFy"}}
        )

    config = load_file(write_config(secret_webhook)).aws
    assert config.escalation.critical[-1].endpoint == SECRET_PLACEHOLDER


def test_runtime_values_arrive_json_encoded() -> None:
    """Inside `pulumi up` structured config values are JSON strings."""
    import json

    raw = {
        k: json.dumps(v) if isinstance(v, dict | list) else v
        for k, v in read_stack_document("primary")["config"].items()
    }
    from model.loader import _decode_runtime_value

    decoded = {k: _decode_runtime_value(v) for k, v in raw.items()}
    config = load_mapping(decoded, "Pulumi.primary.yaml")
    assert isinstance(config, StackConfig) and config.dr.rpo_minutes == 5


@given(st.floats(min_value=90.0, max_value=99.999, exclude_min=True, allow_nan=False))
def test_any_availability_in_range_is_accepted(availability: float) -> None:
    config = dict(read_stack_document("example-minimal")["config"])
    config["resilience:services"] = [
        {**config["resilience:services"][0], "slo": {"availability": availability}}
    ]
    slo = load_mapping(config, "Pulumi.p.yaml").services[0].slo
    assert slo.availability == availability
    assert slo.error_budget == pytest.approx(1 - availability / 100, abs=1e-12)
    assert 0 < slo.error_budget <= 0.1  # rounded to 12 places


@given(
    st.one_of(
        st.floats(max_value=90.0, allow_nan=False, allow_infinity=False),
        st.floats(min_value=99.999, allow_nan=False, allow_infinity=False).filter(
            lambda a: a > 99.999
        ),
    )
)
def test_any_availability_out_of_range_is_rejected_with_its_key(availability: float) -> None:
    config = dict(read_stack_document("example-minimal")["config"])
    config["resilience:services"] = [
        {**config["resilience:services"][0], "slo": {"availability": availability}}
    ]
    with pytest.raises(ConfigError) as caught:
        load_mapping(config, "Pulumi.p.yaml")
    assert [p.key for p in caught.value.problems] == ["resilience:services[0].slo.availability"]


@given(st.integers(min_value=-10_000, max_value=20_000), st.integers(min_value=-10, max_value=500))
def test_rto_rpo_accepted_exactly_when_positive_and_at_most_a_week(rto: int, rpo: int) -> None:
    config = dict(read_stack_document("example-minimal")["config"])
    config["resilience:dr"] = {**config["resilience:dr"], "rto_minutes": rto, "rpo_minutes": rpo}
    valid = 0 < rto <= 10_080 and 0 < rpo <= 10_080
    try:
        loaded = load_mapping(config, "Pulumi.p.yaml")
    except ConfigError as error:
        assert not valid
        keys = {p.key for p in error.problems}
        assert keys <= {"resilience:dr.rto_minutes", "resilience:dr.rpo_minutes"}
        assert ("resilience:dr.rto_minutes" in keys) == (not 0 < rto <= 10_080)
    else:
        assert valid and isinstance(loaded, StackConfig)
        assert (loaded.dr.rto_minutes, loaded.dr.rpo_minutes) == (rto, rpo)
