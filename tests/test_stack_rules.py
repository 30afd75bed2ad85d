"""Stack rules: the RTO/RPO analyzer, the Route 53 control-plane rule, DR parity, backup
selection coverage and the at-max alarm. Each starts from a compliant baseline stack and
breaks one thing per case (pulumi/compliance-policies style); the shipped stacks' analysis
carries the seed numbers; the pack's stack policies see what the offline runner sees."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies.evaluate import all_rules
from policies.pack import build_policies, stack_view_from_args
from policies.rules import ALL_RULES, STACK_RULES, Enforcement
from policies.rules.core import ResourceView
from policies.rules.recovery import analyze_rpo, analyze_rto
from policies.rules.stack import StackView, evaluate_stack, view_from_graph
from scripts.engine import SynthResult
from scripts.ops.commands import RTO_FROM, RTO_TO
from tests.test_constraints import STACK_CASE_RULES as CONSTRAINT_STACK_CASES
from tests.test_moto_route53 import STACK_RULE_CASES as FAILOVER_STACK_CASES

TOPIC = "arn:aws:sns:us-west-2:123456789012:sys-dr-error"
DB_ARN = "arn:aws:rds:us-east-1:123456789012:db:sys-db"
STACK_TAGS = {
    "system": "sys",
    "resilience-role": "dr",
    "resilience-rto-minutes": "15",
    "resilience-rpo-minutes": "5",
    "resilience-primary-region": "us-east-1",
    "resilience-dr-region": "us-west-2",
    "resilience-dr-mode": "pilot-light",
}

Resources = dict[str, dict[str, Any]]  # name -> {"type", "props"}


def config_recorder(name: str, *, global_types: bool) -> Resources:
    """A started AWS Config recorder of every resource type, with its delivery channel."""
    return {
        "recorder": {
            "type": "aws:cfg/recorder:Recorder",
            "props": {
                "name": name,
                "recordingGroup": {
                    "allSupported": True,
                    "includeGlobalResourceTypes": global_types,
                },
            },
        },
        "recorder-status": {
            "type": "aws:cfg/recorderStatus:RecorderStatus",
            "props": {"name": name, "isEnabled": True},
        },
        "delivery": {"type": "aws:cfg/deliveryChannel:DeliveryChannel", "props": {"name": name}},
    }


def dr_baseline() -> dict[str, Any]:
    """A dr stack that meets RTO 15 min and every RPO: pilot light, RDS replica with a lag
    alarm, an RTC replication rule, the DR vault, failover records with health checks."""
    resources: Resources = {
        "https": {
            "type": "aws:route53/healthCheck:HealthCheck",
            "props": {"type": "HTTPS", "requestInterval": 10, "failureThreshold": 3},
        },
        "fence": {
            "type": "aws:route53/healthCheck:HealthCheck",
            "props": {"type": "CLOUDWATCH_METRIC", "cloudwatchAlarmRegion": "us-west-2"},
        },
        "record": {
            "type": "aws:route53/record:Record",
            "props": {
                "name": "api.example.com",
                "failoverRoutingPolicies": [{"type": "SECONDARY"}],
                "healthCheckId": "hc-1",
                "aliases": [{"name": "lb.us-west-2.elb.amazonaws.com"}],
            },
        },
        "replica": {
            "type": "aws:rds/instance:Instance",
            "props": {
                "identifier": "sys-db-dr",
                "replicateSourceDb": DB_ARN,
                "tags": {"resilience-rpo-minutes": "5"},
            },
        },
        "lag": {
            "type": "aws:cloudwatch/metricAlarm:MetricAlarm",
            "props": {
                "alarmActions": [TOPIC],
                "comparisonOperator": "GreaterThanThreshold",
                "threshold": 150,
                "datapointsToAlarm": 2,
                "evaluationPeriods": 2,
                "metricQueries": [
                    {
                        "id": "lag",
                        "metric": {
                            "period": 60,
                            "metricName": "ReplicaLag",
                            "dimensions": {"DBInstanceIdentifier": "sys-db-dr"},
                        },
                    }
                ],
            },
        },
        "web": {
            "type": "aws:autoscaling/group:Group",
            "props": {"name": "web-dr", "minSize": 0, "maxSize": 0, "healthCheckGracePeriod": 300},
        },
        "replication": {
            "type": "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            "props": {
                "bucket": "sys-uploads-us-east-1",
                "rules": [
                    {
                        "status": "Enabled",
                        "destination": {
                            "bucket": "arn:aws:s3:::sys-uploads-us-west-2",
                            "replicationTime": {"status": "Enabled", "time": {"minutes": 15}},
                        },
                    }
                ],
            },
        },
        "vault": {"type": "aws:backup/vault:Vault", "props": {"name": "sys-dr"}},
        "uploads-replica": {
            "type": "aws:s3/bucket:Bucket",
            "props": {"bucket": "sys-uploads-us-west-2", "tags": {"resilience-rpo-minutes": "60"}},
        },
        "uploads-replica-versioning": {
            "type": "aws:s3/bucketVersioning:BucketVersioning",
            "props": {
                "bucket": "sys-uploads-us-west-2",
                "versioningConfiguration": {"status": "Enabled"},
            },
        },
        "selection": {
            "type": "aws:backup/selection:Selection",
            "props": {"selectionTags": [{"key": "backup-policy", "value": "transactional"}]},
        },
        **config_recorder("sys-dr", global_types=False),
    }
    primary = {
        "role": "primary",
        "backup_copy_target_arn": "arn:aws:backup:us-west-2:123456789012:backup-vault:sys-dr",
        "data_protection": {
            "database:db": {
                "kind": "rds",
                "arn": DB_ARN,
                "identifier": "sys-db",
                "class": "transactional",
                "rpo_minutes": 5,
                # RDS under continuous backup: one snapshot, and so one copy, a day
                # ("RDS takes snapshots once per day, even if a backup plan has a frequency
                # for snapshot backups other than once per day"), + 60 + 480 min windows.
                "copy_interval_minutes": 1440 + 540,
                "copy_basis": "the continuous rule's daily snapshot copy every 1440 min + "
                "start window 60 min + completion window 480 min",
            },
            "bucket:uploads": {
                "kind": "s3",
                "bucket": "sys-uploads-us-east-1",
                "class": "uploads",
                "rpo_minutes": 60,
                "copy_interval_minutes": 1440 + 540,
            },
        },
    }
    return {
        "resources": resources,
        "stack_tags": dict(STACK_TAGS),
        "references": {"org/sys/primary": primary},
        "drill": None,
    }


def primary_baseline() -> dict[str, Any]:
    """A primary stack whose database is in a selected class and whose group has an
    at-max alarm."""
    resources: Resources = {
        "db": {
            "type": "aws:rds/instance:Instance",
            "props": {"identifier": "sys-db", "tags": {"backup-policy": "transactional"}},
        },
        "uploads": {
            "type": "aws:s3/bucket:Bucket",
            "props": {"bucket": "sys-uploads", "tags": {"backup-policy": "uploads"}},
        },
        "logs": {"type": "aws:s3/bucket:Bucket", "props": {"bucket": "sys-logs"}},
        "selection-transactional": {
            "type": "aws:backup/selection:Selection",
            "props": {"selectionTags": [{"key": "backup-policy", "value": "transactional"}]},
        },
        "selection-uploads": {
            "type": "aws:backup/selection:Selection",
            "props": {"selectionTags": [{"key": "backup-policy", "value": "uploads"}]},
        },
        "web": {
            "type": "aws:autoscaling/group:Group",
            "props": {"name": "web", "minSize": 2, "maxSize": 10},
        },
        "web-at-max": {
            "type": "aws:cloudwatch/metricAlarm:MetricAlarm",
            "props": {
                "alarmActions": [TOPIC],
                "metricQueries": [
                    {
                        "id": m.lower(),
                        "metric": {
                            "metricName": m,
                            "dimensions": {"AutoScalingGroupName": "web"},
                        },
                    }
                    for m in ("GroupDesiredCapacity", "GroupMaxSize")
                ],
            },
        },
        "web-5xx": {
            "type": "aws:cloudwatch/metricAlarm:MetricAlarm",
            "props": {
                "alarmActions": [TOPIC],
                "tags": {"service": "web", "resilience-alarm": "alb-5xx-rate"},
            },
        },
        "web-slo-page": {
            "type": "aws:cloudwatch/compositeAlarm:CompositeAlarm",
            "props": {
                "alarmActions": [TOPIC],
                "tags": {"service": "web", "resilience-alarm": "slo-availability-page-1h"},
            },
        },
        "record": {
            "type": "aws:route53/record:Record",
            "props": {
                "name": "api.example.com",
                "failoverRoutingPolicies": [{"type": "PRIMARY"}],
                "healthCheckId": "hc-1",
                "aliases": [{"name": "lb.us-east-1.elb.amazonaws.com"}],
            },
        },
        **config_recorder("sys-primary", global_types=True),
    }
    return {
        "resources": resources,
        "stack_tags": {**STACK_TAGS, "resilience-role": "primary"},
        "references": {},
        "drill": None,
    }


def build(spec: Mapping[str, Any]) -> StackView:
    stack = "dr" if spec["stack_tags"].get("resilience-role") == "dr" else "primary"
    views = [
        ResourceView(
            type=r["type"],
            name=name,
            urn=f"urn:pulumi:{stack}::resilience::{r['type']}::{name}",
            props=r["props"],
            protect=False,
            provider_urn=None,
            region="us-east-1" if stack == "primary" else "us-west-2",
        )
        for name, r in spec["resources"].items()
    ]
    tags = {v.urn: {**spec["stack_tags"], **(v.props.get("tags") or {})} for v in views}
    return StackView(
        stack=stack,
        resources=views,
        tags=tags,
        stack_tags=spec["stack_tags"],
        references=spec["references"],
        drill=spec["drill"],
    )


def findings(spec: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    found, _ = evaluate_stack(build(spec), STACK_RULES)
    return [(f.rule_id, f.urn.rsplit("::", 1)[-1], f.message) for f in found]


Edit = Callable[[dict[str, Any]], None]


def props(resource: str, /, **changes: Any) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        spec["resources"][resource]["props"].update(changes)

    return edit


def add(name: str, typ: str, /, **values: Any) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        spec["resources"][name] = {"type": typ, "props": values}

    return edit


def drop(*names: str) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        for name in names:
            del spec["resources"][name]

    return edit


def k8s_hpa(namespace: str) -> Edit:
    """An HPA scaling Deployment <namespace>/web."""

    def edit(spec: dict[str, Any]) -> None:
        spec["resources"]["web-hpa"] = {
            "type": "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
            "props": {
                "metadata": {"name": "web", "namespace": namespace},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}},
            },
        }

    return edit


def k8s_pdb(namespace: str) -> Edit:
    """A PDB for the pods of workload `web` (its app.kubernetes.io/name label)."""

    def edit(spec: dict[str, Any]) -> None:
        spec["resources"]["web-pdb"] = {
            "type": "kubernetes:policy/v1:PodDisruptionBudget",
            "props": {
                "metadata": {
                    "name": "web-budget",
                    "namespace": namespace,
                    "labels": {"app.kubernetes.io/name": "web"},
                },
                "spec": {"maxUnavailable": 1},
            },
        }

    return edit


def tag(key: str, value: str) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        spec["stack_tags"][key] = value

    return edit


def primary_output(path: tuple[str, ...], value: Any) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        target = spec["references"]["org/sys/primary"]
        for key in path[:-1]:
            target = target[key]
        if value is None:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


def both(*edits: Edit) -> Edit:
    def edit(spec: dict[str, Any]) -> None:
        for one in edits:
            one(spec)

    return edit


def audit_trail(mode: str = "COMPLIANCE", days: int = 365) -> Edit:
    """A trail delivering to a bucket of the stack, locked and access-logged."""
    bucket = "sys-audit-us-east-1"

    def edit(spec: dict[str, Any]) -> None:
        spec["resources"].update(
            {
                "trail": {
                    "type": "aws:cloudtrail/trail:Trail",
                    "props": {"name": "sys-audit", "s3BucketName": bucket},
                },
                "audit": {
                    "type": "aws:s3/bucket:Bucket",
                    "props": {"bucket": bucket, "objectLockEnabled": True},
                },
                "audit-lock": {
                    "type": "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                    "props": {
                        "bucket": bucket,
                        "rule": {"defaultRetention": {"mode": mode, "days": days}},
                    },
                },
                "audit-logging": {
                    "type": "aws:s3/bucketLogging:BucketLogging",
                    "props": {"bucket": bucket, "targetBucket": "sys-logs"},
                },
            }
        )

    return edit


def config_bucket(*, locked: bool = False, expire_days: int | None = 365) -> Edit:
    """The recorder's delivery channel delivering to a bucket of the stack (optionally with
    Object Lock, and a lifecycle expiring current objects after `expire_days`)."""
    bucket = "sys-config-us-east-1"

    def edit(spec: dict[str, Any]) -> None:
        spec["resources"]["delivery"]["props"]["s3BucketName"] = bucket
        spec["resources"]["config-bucket"] = {
            "type": "aws:s3/bucket:Bucket",
            "props": {"bucket": bucket, **({"objectLockEnabled": True} if locked else {})},
        }
        if locked:
            spec["resources"]["config-bucket-lock"] = {
                "type": "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
                "props": {
                    "bucket": bucket,
                    "rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 365}},
                },
            }
        if expire_days is not None:
            spec["resources"]["config-bucket-lifecycle"] = {
                "type": "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "props": {
                    "bucket": bucket,
                    "rules": [
                        {"id": "r", "status": "Enabled", "expiration": {"days": expire_days}}
                    ],
                },
            }

    return edit


def drill(promote: float, *, system: str = "sys") -> Edit:
    steps = [
        ("readiness", 2.0),
        (RTO_FROM, 5.0),
        ("fence-source", 1.0),
        ("promote-databases", promote),
        ("enable-backups", 3.0),
        ("scale-target", 1.0),
        ("wait-target-healthy", 200.0),
        ("switch-traffic", 1.0),
        (RTO_TO, 20.0),
        ("write-config", 0.1),
    ]

    def edit(spec: dict[str, Any]) -> None:
        spec["drill"] = {
            "schema": "resilience-drill/1",
            "system": system,
            "finished": "2026-11-20T10:00:00+00:00",
            "operations": {"failover": [{"step": s, "duration_s": d} for s, d in steps]},
        }

    return edit


# (case id, baseline, edit, expected findings as (rule, resource, message fragment))
CASES: list[tuple[str, Callable[[], dict[str, Any]], Edit, list[tuple[str, str, str]]]] = [
    (
        "rto-slow-detection",
        dr_baseline,
        props("https", requestInterval=30, failureThreshold=10),
        [
            (
                "resilience-rto-achievable",
                "resilience-dr",
                "detection 5.0 min (health checks every 30 s",
            )
        ],
    ),
    (
        "rto-tighter-target-names-scale-up",
        dr_baseline,
        tag("resilience-rto-minutes", "10"),
        [
            (
                "resilience-rto-achievable",
                "resilience-dr",
                "a failover takes 13.0 min = detection 30 s (health checks every 10 s, 3 "
                "failures) + promotion 5.0 min (RDS read replica promotion, estimate: sys-db-dr)"
                " + scale-up 6.5 min (web-dr starts from zero: EC2 launch, estimate 90 s + "
                "health-check grace 300 s) + DNS TTL 60 s (alias to a load balancer). The "
                "largest term is scale-up: run the DR region as warm standby",
            )
        ],
    ),
    ("rto-warm-standby-meets-10-min", dr_baseline, lambda s: _warm(s), []),  # noqa: PLW0108
    (
        # The on-call's 5 minutes: pilot light no longer fits 15 minutes (ReskFlow's case).
        "rto-response-breaks-pilot-light",
        dr_baseline,
        tag("resilience-response-minutes", "5"),
        [
            (
                "resilience-rto-achievable",
                "resilience-dr",
                "a failover takes 18.0 min = detection 30 s (health checks every 10 s, 3 "
                "failures) + response 5.0 min (the on-call acts on the critical page",
            )
        ],
    ),
    (
        "rto-response-with-warm-standby",
        dr_baseline,
        both(
            tag("resilience-response-minutes", "5"),
            lambda spec: _warm(spec),  # noqa: PLW0108 (defined below)
            tag("resilience-rto-minutes", "15"),
        ),
        [],
    ),
    (
        "rto-no-health-check",
        dr_baseline,
        drop("https"),
        [("resilience-rto-achievable", "resilience-dr", "the RTO is unbounded")],
    ),
    (
        "rto-no-failover-record",
        dr_baseline,
        drop("record"),
        [("resilience-rto-achievable", "resilience-dr", "no failover DNS records")],
    ),
    (
        "rto-drill-measured-slow-promotion",
        dr_baseline,
        drill(promote=700.0),
        [
            (
                "resilience-rto-achievable",
                "resilience-dr",
                "promotion 11.7 min (measured by the drill of 2026-11-20T10:00:00+00:00)",
            )
        ],
    ),
    ("rto-drill-of-another-system-ignored", dr_baseline, drill(700.0, system="other"), []),
    ("rto-drill-measured-fast", dr_baseline, drill(promote=60.0), []),
    (
        "rpo-lag-unwatched",
        dr_baseline,
        drop("lag"),
        [
            (
                "resilience-rpo-achievable",
                "replica",
                "database:db: RPO 5 min cannot be met: its best path to the DR region is "
                "backup copy 1980.0 min (transactional backups reach the DR vault every "
                "1980.0 min: the continuous rule's daily snapshot copy every 1440 min",
            )
        ],
    ),
    (
        "rpo-lag-alarm-too-loose",
        dr_baseline,
        props("lag", threshold=600),
        [("resilience-rpo-achievable", "replica", "replica lag 12.0 min")],
    ),
    (
        # 150 s, but only after 5 minutes above it: the page comes at 7.5 minutes of lag.
        "rpo-lag-alarm-too-slow",
        dr_baseline,
        props("lag", datapointsToAlarm=5, evaluationPeriods=5),
        [("resilience-rpo-achievable", "replica", "pages 300 s after the lag passes 2.5 min")],
    ),
    (
        "rpo-lag-alarm-below-threshold-is-no-bound",
        dr_baseline,
        props("lag", comparisonOperator="LessThanThreshold"),
        [("resilience-rpo-achievable", "replica", "backup copy 1980.0 min")],
    ),
    (
        "rpo-lag-alarm-actions-disabled",
        dr_baseline,
        props("lag", actionsEnabled=False),
        [("resilience-rpo-achievable", "replica", "backup copy 1980.0 min")],
    ),
    (
        "rpo-lag-alarm-notifies-no-one",
        dr_baseline,
        props("lag", alarmActions=[]),
        [("resilience-rpo-achievable", "replica", "backup copy 1980.0 min")],
    ),
    (
        "rpo-s3-5-minutes-on-rtc",
        dr_baseline,
        primary_output(("data_protection", "bucket:uploads", "rpo_minutes"), 5),
        [
            (
                "resilience-rpo-achievable",
                "replication",
                "bucket:uploads: RPO 5 min cannot be met: its best path to the DR region is S3 "
                "replication 15.0 min (Replication Time Control guarantees 15 minutes); S3 "
                "cannot replicate faster",
            )
        ],
    ),
    (
        "rpo-s3-without-rtc",
        dr_baseline,
        props("replication", rules=[{"status": "Enabled", "destination": {}}]),
        [("resilience-rpo-achievable", "replication", "backup copy 1980.0 min")],
    ),
    (
        "parity-and-rpo-without-replica-or-copy",
        dr_baseline,
        both(
            drop("replica", "lag"),
            primary_output(("data_protection", "database:db", "copy_interval_minutes"), None),
        ),
        [
            (
                "resilience-dr-parity",
                "resilience-dr",
                "database:db: the primary's rds data store has no",
            ),
            (
                "resilience-rpo-achievable",
                "resilience-dr",
                "no replica, replication or backup copy",
            ),
        ],
    ),
    (
        # A policy pack may not be sent the StackReference: the stores then come from the
        # dr stack's own replicas and replication rules, with their RPO tags.
        "rpo-without-the-primary-outputs",
        dr_baseline,
        lambda spec: spec.update(references={}),
        [],
    ),
    (
        "rpo-without-the-primary-outputs-unwatched-replica",
        dr_baseline,
        both(lambda spec: spec.update(references={}), drop("lag")),
        [("resilience-rpo-achievable", "replica", "replica:sys-db-dr: RPO 5 min cannot be met")],
    ),
    (
        "parity-copy-to-another-vault",
        dr_baseline,
        props("vault", name="elsewhere"),
        [("resilience-dr-parity", "resilience-dr", "which is not this stack's DR vault")],
    ),
    (
        "parity-no-data-protection-output",
        dr_baseline,
        primary_output(("data_protection",), None),
        [("resilience-dr-parity", "resilience-dr", "exports no data_protection output")],
    ),
    (
        # RDS would create /aws/rds/instance/<id>/postgresql itself: no retention, no CMK.
        "rds-exports-without-its-log-group",
        dr_baseline,
        props("replica", enabledCloudwatchLogsExports=["postgresql"]),
        [
            (
                "aws-rds-exported-logs-have-managed-log-groups",
                "replica",
                "replica: exports its postgresql log to /aws/rds/instance/sys-db-dr/postgresql, "
                "which this stack does not create",
            )
        ],
    ),
    (
        "rds-log-group-without-the-key",
        dr_baseline,
        both(
            props("replica", enabledCloudwatchLogsExports=["postgresql"]),
            add(
                "replica-logs",
                "aws:cloudwatch/logGroup:LogGroup",
                name="/aws/rds/instance/sys-db-dr/postgresql",
                retentionInDays=365,
            ),
        ),
        [
            (
                "aws-rds-exported-logs-have-managed-log-groups",
                "replica-logs",
                "needs a retention and the region's KMS key",
            )
        ],
    ),
    (
        "rds-log-group-made-first",
        dr_baseline,
        both(
            props("replica", enabledCloudwatchLogsExports=["postgresql"]),
            add(
                "replica-logs",
                "aws:cloudwatch/logGroup:LogGroup",
                name="/aws/rds/instance/sys-db-dr/postgresql",
                retentionInDays=365,
                kmsKeyId="arn:aws:kms:us-west-2:123456789012:key/k",
            ),
        ),
        [],
    ),
    (
        # The primary runs 17 (after its major upgrade); the replica's group is still of the
        # postgres16 family: RDS refuses a group of another family than the instance's.
        "rds-replica-parameter-group-of-the-old-family",
        dr_baseline,
        both(
            props("replica", parameterGroupName="sys-db-dr-postgres16"),
            add(
                "replica-parameters",
                "aws:rds/parameterGroup:ParameterGroup",
                name="sys-db-dr-postgres16",
                family="postgres16",
            ),
            primary_output(("databases",), {"db": {"arn": DB_ARN, "engine_version": "17.2"}}),
        ),
        [
            (
                "aws-rds-parameter-group-family-matches-engine",
                "replica",
                "replica: runs version 17.2 with parameter group sys-db-dr-postgres16 of family "
                "postgres16; RDS needs a postgres17 group for it",
            )
        ],
    ),
    (
        "rds-parameter-group-of-the-running-family",
        dr_baseline,
        both(
            props("replica", parameterGroupName="sys-db-dr-postgres17"),
            add(
                "replica-parameters",
                "aws:rds/parameterGroup:ParameterGroup",
                name="sys-db-dr-postgres17",
                family="postgres17",
            ),
            primary_output(("databases",), {"db": {"arn": DB_ARN, "engine_version": "17.2"}}),
        ),
        [],
    ),
    (
        "rds-primary-upgraded-without-its-parameter-group",
        primary_baseline,
        both(
            props("db", engineVersion="17", parameterGroupName="sys-db-postgres16"),
            add(
                "db-parameters",
                "aws:rds/parameterGroup:ParameterGroup",
                name="sys-db-postgres16",
                family="postgres16",
            ),
        ),
        [
            (
                "aws-rds-parameter-group-family-matches-engine",
                "db",
                "runs version 17 with parameter group sys-db-postgres16 of family postgres16",
            )
        ],
    ),
    (
        # After a failover (dr.mode: active) the DR region serves and replicates nowhere:
        # nothing to fail over to, no RPO into it, no parity to hold until failback.
        "active-dr-has-nothing-to-judge",
        dr_baseline,
        both(
            tag("resilience-dr-mode", "active"),
            drop("replication", "lag"),
            props("replica", replicateSourceDb=None, tags={"backup-policy": "transactional"}),
        ),
        [],
    ),
    (
        # The same stack still standing by: its stores have lost their DR copies.
        "parity-pilot-light-without-replicas",
        dr_baseline,
        both(
            drop("replication", "lag"),
            props("replica", replicateSourceDb=None, tags={"backup-policy": "transactional"}),
        ),
        [
            ("resilience-dr-parity", "resilience-dr", "bucket:uploads: the primary's s3 data"),
            ("resilience-dr-parity", "resilience-dr", "database:db: the primary's rds data"),
            ("resilience-rpo-achievable", "resilience-dr", "database:db: RPO 5 min cannot be met"),
            (
                "resilience-rpo-achievable",
                "resilience-dr",
                "bucket:uploads: RPO 60 min cannot be met",
            ),
        ],
    ),
    (
        "control-plane-simple-record",
        dr_baseline,
        props("record", failoverRoutingPolicies=None),
        [
            ("resilience-failover-without-route53-control-plane", "record", "needs a Route 53"),
            ("resilience-rto-achievable", "resilience-dr", "no failover DNS records"),
        ],
    ),
    (
        "control-plane-record-without-health-check",
        dr_baseline,
        props("record", healthCheckId=None),
        [
            (
                "resilience-failover-without-route53-control-plane",
                "record",
                "switched only by editing records",
            )
        ],
    ),
    (
        "control-plane-fence-in-us-east-1",
        dr_baseline,
        props("fence", cloudwatchAlarmRegion="us-east-1"),
        [("resilience-failover-without-route53-control-plane", "fence", "Keep fence alarms")],
    ),
    (
        "control-plane-primary-elsewhere",
        dr_baseline,
        both(tag("resilience-primary-region", "eu-west-1"), props("record", healthCheckId=None)),
        [],
    ),
    ("coverage-primary-baseline", primary_baseline, lambda _: None, []),
    (
        "backup-untagged-database",
        primary_baseline,
        props("db", tags={}),
        [("aws-backup-every-data-store-selected", "db", "no backup-policy tag")],
    ),
    (
        "backup-class-not-selected",
        primary_baseline,
        drop("selection-uploads"),
        [("aws-backup-every-data-store-selected", "uploads", "tagged backup-policy=uploads")],
    ),
    (
        "backup-replica-needs-no-tag",
        primary_baseline,
        props("db", tags={}, replicateSourceDb=DB_ARN),
        [],
    ),
    (
        "slo-alarms-missing",
        primary_baseline,
        drop("web-slo-page"),
        [("aws-cloudwatch-service-has-slo-alarms", "resilience-primary", "service web has")],
    ),
    (
        "slo-alarm-notifies-no-one",
        primary_baseline,
        props("web-slo-page", alarmActions=[]),
        [("aws-cloudwatch-service-has-slo-alarms", "resilience-primary", "service web has")],
    ),
    (
        "slo-not-required-on-a-standby-dr-stack",
        primary_baseline,
        both(
            drop("web-slo-page"),
            tag("resilience-role", "dr"),
            props("recorder", recordingGroup={"allSupported": True}),  # a DR recorder
        ),
        # Only the RTO rule speaks (this fixture has no health check): no SLO finding.
        [("resilience-rto-achievable", "resilience-dr", "the RTO is unbounded")],
    ),
    (
        "at-max-alarm-missing",
        primary_baseline,
        drop("web-at-max"),
        [("aws-autoscaling-group-at-max-alarm", "web", "has sat at its maximum")],
    ),
    (
        "at-max-alarm-notifies-no-one",
        primary_baseline,
        props("web-at-max", alarmActions=[]),
        [("aws-autoscaling-group-at-max-alarm", "web", "has sat at its maximum")],
    ),
    (
        "at-max-pilot-light-group-needs-none",
        primary_baseline,
        both(drop("web-at-max"), props("web", minSize=0, maxSize=0)),
        [],
    ),
    (
        "config-recorder-missing",
        dr_baseline,
        drop("recorder", "recorder-status", "delivery"),
        [
            (
                "aws-config-recorder-in-stack-region",
                "resilience-dr",
                "no AWS Config recorder in us-west-2",
            )
        ],
    ),
    (
        "config-recorder-managed-elsewhere",
        dr_baseline,
        both(
            drop("recorder", "recorder-status", "delivery"),
            tag("resilience-config-recorder", "external"),
        ),
        [],
    ),
    (
        "config-recorder-dr-records-global-resources-twice",
        dr_baseline,
        props(
            "recorder", recordingGroup={"allSupported": True, "includeGlobalResourceTypes": True}
        ),
        [("aws-config-recorder-in-stack-region", "recorder", "records global resources")],
    ),
    (
        "config-recorder-primary-leaves-out-global-resources",
        primary_baseline,
        props("recorder", recordingGroup={"allSupported": True}),
        [("aws-config-recorder-in-stack-region", "recorder", "leaves out global resources")],
    ),
    (
        "config-recorder-some-types",
        dr_baseline,
        props("recorder", recordingGroup={"allSupported": False}),
        [("aws-config-recorder-in-stack-region", "recorder", "only some resource types")],
    ),
    (
        "config-recorder-never-started",
        primary_baseline,
        props("recorder-status", isEnabled=False),
        [("aws-config-recorder-in-stack-region", "resilience-primary", "never started")],
    ),
    (
        "config-recorder-without-delivery",
        primary_baseline,
        drop("delivery"),
        [("aws-config-recorder-in-stack-region", "resilience-primary", "no delivery channel")],
    ),
    ("config-bucket-unlocked-kept-a-year", primary_baseline, config_bucket(), []),
    ("config-bucket-never-expiring", primary_baseline, config_bucket(expire_days=None), []),
    (
        # AWS::Config::DeliveryChannel: "AWS Config does not support the delivery channel to an
        # Amazon S3 bucket where object lock is enabled" (the audit bucket of the trail).
        "config-delivery-to-a-locked-bucket",
        primary_baseline,
        config_bucket(locked=True),
        [
            (
                "aws-config-delivery-bucket-without-object-lock",
                "config-bucket",
                "has Object Lock; AWS Config does not deliver to such a bucket",
            )
        ],
    ),
    (
        # PCI DSS 4.0 10.5.1: "Retain audit log history for at least 12 months".
        "config-history-expired-after-90-days",
        primary_baseline,
        config_bucket(expire_days=90),
        [
            (
                "aws-config-history-retained-12-months",
                "config-bucket-lifecycle",
                "expires configuration history after 90 days, fewer than 365",
            )
        ],
    ),
    ("trail-bucket-locked-and-logged", primary_baseline, audit_trail(), []),
    (
        "trail-bucket-unlocked",
        primary_baseline,
        both(audit_trail(), drop("audit-lock")),
        [("aws-cloudtrail-bucket-locked-and-logged", "audit", "has no Object Lock")],
    ),
    (
        "trail-bucket-governance-90-days",
        primary_baseline,
        audit_trail(mode="GOVERNANCE", days=90),
        [
            ("aws-cloudtrail-bucket-locked-and-logged", "audit-lock", "90 days, fewer than 365"),
            ("aws-cloudtrail-bucket-locked-and-logged", "audit-lock", "GOVERNANCE mode"),
        ],
    ),
    (
        "trail-bucket-not-access-logged",
        primary_baseline,
        both(audit_trail(), drop("audit-logging")),
        [("aws-cloudtrail-bucket-locked-and-logged", "audit", "no server access logging")],
    ),
    ("k8s-hpa-with-its-pdb", primary_baseline, both(k8s_hpa("shop"), k8s_pdb("shop")), []),
    (
        "k8s-hpa-without-pdb",
        primary_baseline,
        k8s_hpa("shop"),
        [("kubernetes-hpa-workload-has-pdb", "web-hpa", "Deployment shop/web is autoscaled")],
    ),
    (
        "k8s-pdb-in-another-namespace",
        primary_baseline,
        both(k8s_hpa("shop"), k8s_pdb("other")),
        [("kubernetes-hpa-workload-has-pdb", "web-hpa", "has no PodDisruptionBudget")],
    ),
]


def _warm(spec: dict[str, Any]) -> None:
    """Warm standby serves at once: 30 s + 5 min + 60 s fits 10 minutes. A group that runs
    has its at-max alarm."""
    tag("resilience-rto-minutes", "10")(spec)
    props("web", minSize=1, maxSize=10)(spec)
    spec["resources"]["web-at-max"] = copy.deepcopy(primary_baseline()["resources"]["web-at-max"])
    for query in spec["resources"]["web-at-max"]["props"]["metricQueries"]:
        query["metric"]["dimensions"]["AutoScalingGroupName"] = "web-dr"


@pytest.mark.parametrize(
    ("baseline", "edit", "expected"),
    [pytest.param(b, e, x, id=i) for i, b, e, x in CASES],
)
def test_stack_rule_case(
    baseline: Callable[[], dict[str, Any]], edit: Edit, expected: list[tuple[str, str, str]]
) -> None:
    spec = copy.deepcopy(baseline())
    edit(spec)
    found = findings(spec)
    assert len(found) == len(expected), found
    for (rule, resource, fragment), (got_rule, got_resource, message) in zip(
        sorted(expected), sorted(found), strict=True
    ):
        assert (got_rule, got_resource) == (rule, resource), found
        assert fragment in message, message


def test_baselines_pass_and_every_stack_rule_has_a_failing_case() -> None:
    assert findings(dr_baseline()) == []
    assert findings(primary_baseline()) == []
    failing = {rule for _, _, _, expected in CASES for rule, _, _ in expected}
    # The documented service constraints have their cases in test_constraints, the failover
    # ones in test_moto_route53.
    assert failing | CONSTRAINT_STACK_CASES | FAILOVER_STACK_CASES == {
        rule.id for rule in STACK_RULES
    }


def test_the_pack_has_at_least_40_rules_with_unique_ids() -> None:
    ids = [rule.id for rule in all_rules()]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    for rule in STACK_RULES:
        assert rule.url.startswith("https://") and rule.remediation and rule.frameworks


def test_drill_window_matches_the_failover_command() -> None:
    from policies.rules.recovery import DRILL_WINDOW

    assert (RTO_FROM, RTO_TO) == DRILL_WINDOW


# -- the shipped stacks ----------------------------------------------------------------------


def test_shipped_dr_stack_analysis(synthesized: dict[str, SynthResult]) -> None:
    view = view_from_graph(synthesized["dr"].graph)
    analysis = analyze_rto(view)
    assert not isinstance(analysis, str) and analysis is not None
    # ReskFlow: 10 s x 3 detection, RDS promotion, pilot light from zero, the fence's lift
    # (stamped at the next minute, read once that one-minute period is complete), alias TTL.
    assert [(t.name, t.seconds) for t in analysis.terms] == [
        ("detection", 30.0),
        ("promotion", 300.0),
        ("scale-up", 390.0),
        ("fence lift", 120.0),
        ("DNS TTL", 60.0),
    ]
    assert analysis.target_seconds == 15 * 60 and analysis.met
    rpo = {r.store: (r.target_minutes, r.path.name if r.path else None) for r in analyze_rpo(view)}
    # Transactional data RPO 5 min (replica lag alarm at 50 % = 150 s); uploads hourly
    # (their class's own RPO) over S3 RTC's 15 minutes.
    assert rpo == {
        "database:orders-db": (5, "replica lag"),
        "bucket:uploads": (60, "S3 replication"),
    }
    assert all(r.met for r in analyze_rpo(view))


def test_primary_exports_its_stores_with_their_worst_copy_age(
    synthesized: dict[str, SynthResult],
) -> None:
    """The newest DR-vault copy can be as old as the interval at which AWS copies the store
    plus the backup job's start (60 min) and completion (480 min) windows."""
    stores = synthesized["primary"].outputs["data_protection"]
    assert {
        k: (v["class"], v["rpo_minutes"], v["copy_interval_minutes"]) for k, v in stores.items()
    } == {
        # RDS under continuous backup is snapshotted, and copied, once a day whatever the
        # plan's frequency (AWS Backup Developer Guide, Continuous backups and PITR).
        "database:orders-db": ("transactional", 5, 1440 + 540),
        "bucket:uploads": ("uploads", 60, 1440 + 540),
    }


def test_shipped_stacks_tag_their_objectives(synthesized: dict[str, SynthResult]) -> None:
    for stack in ("primary", "dr"):
        view = view_from_graph(synthesized[stack].graph)
        assert view.stack_tags["resilience-rto-minutes"] == "15"
        assert view.stack_tags["resilience-rpo-minutes"] == "5"
        assert view.stack_tags["resilience-primary-region"] == "us-east-1"
        buckets = [
            r for r in view.of_type("aws:s3/bucket:Bucket") if "uploads" in str(r.props["bucket"])
        ]
        assert [view.tags_of(b)["resilience-rpo-minutes"] for b in buckets] == ["60"]
        (db,) = view.of_type("aws:rds/instance:Instance")
        assert view.tags_of(db)["resilience-rpo-minutes"] == "5"


# -- the pack ---------------------------------------------------------------------------------


def _engine_props(props: Mapping[str, Any]) -> Any:
    """Props as pulumi_policy hands them to a policy: read-only proxies (Mappings that are not
    dicts, raising on unknown values), the graph's unknown marker as the engine's sentinel."""

    def sentinel(value: Any) -> Any:
        if value == "[unknown]":
            return UNKNOWN_STRING_VALUE
        if isinstance(value, dict):
            return {k: sentinel(v) for k, v in value.items()}
        if isinstance(value, list):
            return [sentinel(v) for v in value]
        return value

    return unknown_checking_proxy(sentinel(dict(props)))


def _policy_resources(graph: Mapping[str, Any]) -> list[PolicyResource]:
    """The graph's resources as the engine hands them to a stack policy (provider state
    carries defaultTags as JSON text, as the real engine does; props are proxies)."""
    providers: dict[str, PolicyProviderResource] = {}
    resources = []
    for r in graph["resources"]:
        if r["type"].startswith("pulumi:providers:"):
            props = dict(r["inputs"])
            if "defaultTags" in props:
                props["defaultTags"] = json.dumps(props["defaultTags"])
            provider = PolicyProviderResource(r["type"], _engine_props(props), r["urn"], r["name"])
            providers[r["urn"]] = providers[f"{r['urn']}::{r['id']}"] = provider
    for r in graph["resources"]:
        if not r["custom"]:
            continue
        props = dict(r["inputs"])
        if r["type"] == "pulumi:pulumi:StackReference":
            props = {**props, **r["computed"]}
        resources.append(
            PolicyResource(
                r["type"],
                _engine_props(props),
                r["urn"],
                r["name"],
                PolicyResourceOptions(
                    protect=bool(r["options"].get("protect")),
                    ignore_changes=[],
                    delete_before_replace=None,
                    aliases=[],
                    additional_secret_outputs=[],
                    custom_timeouts=None,  # type: ignore[arg-type]
                ),
                providers.get(r["provider"]),
                None,
                [],
                {},
            )
        )
    return resources


def test_pack_stack_policies_see_what_the_offline_runner_sees(
    synthesized: dict[str, SynthResult],
) -> None:
    graph = synthesized["dr"].graph
    args = StackValidationArgs(_policy_resources(graph), {}, {})
    pack_view = stack_view_from_args(args, "dr", None)
    offline = view_from_graph(graph)
    assert pack_view.stack_tags == offline.stack_tags
    assert pack_view.references == offline.references
    assert analyze_rto(pack_view) == analyze_rto(offline)
    assert analyze_rpo(pack_view) == analyze_rpo(offline)

    # A broken objective: the pack's stack policy reports what the offline rule reports.
    tighter = copy.deepcopy(graph)
    for r in tighter["resources"]:
        if r["type"].startswith("pulumi:providers:"):
            r["inputs"]["defaultTags"]["tags"]["resilience-rto-minutes"] = "5"
    policies = {p.name: p for p in build_policies(enforcement={})}
    rto = policies["resilience-rto-achievable"]
    assert isinstance(rto, StackValidationPolicy)
    reported: list[tuple[str, str | None]] = []
    rto.validate(
        StackValidationArgs(_policy_resources(tighter), {}, {}),
        lambda message, urn: reported.append((message, urn)),
    )
    offline_found, _ = evaluate_stack(
        view_from_graph(tighter), [r for r in STACK_RULES if r.id == rto.name]
    )
    assert [m for m, _ in reported] == [f.message for f in offline_found]
    assert "RTO 5 min cannot be met" in reported[0][0]


def test_pack_enforcement_is_configurable_per_stack_rule() -> None:
    policies = {
        p.name: p
        for p in build_policies(enforcement={"resilience-dr-parity": Enforcement.ADVISORY})
    }
    assert len(policies) == len(ALL_RULES) + len(STACK_RULES)
    assert policies["resilience-dr-parity"].enforcement_level.value == "advisory"  # type: ignore[union-attr]
    assert policies["resilience-rto-achievable"].enforcement_level.value == "mandatory"  # type: ignore[union-attr]


def pack_violations(graph: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """What every resource policy reports when fed a graph's resources as the engine feeds
    them (proxied props)."""
    policies = [
        p
        for p in build_policies(stack_rules=())
        if isinstance(p, ResourceValidationPolicy)
        # The engine does not run a disabled policy.
        and p.enforcement_level is not EnforcementLevel.DISABLED
    ]
    reported: list[tuple[str, str | None]] = []
    for resource in _policy_resources(graph):
        if resource.resource_type.startswith("pulumi:"):
            continue
        args = ResourceValidationArgs(
            resource.resource_type,
            resource.props,
            resource.urn,
            resource.name,
            resource.opts,
            resource.provider,
        )
        for policy in policies:
            policy.validate(args, lambda message, urn: reported.append((message, urn)))
    return reported


@pytest.mark.parametrize("stack", ["primary", "dr", "example-minimal"])
def test_pack_resource_policies_agree_with_the_offline_run(
    synthesized: dict[str, SynthResult], stack: str
) -> None:
    """Every resource policy, fed proxies as the engine feeds them, finds what the offline
    evaluation finds (nothing, on the shipped stacks): no rule trips over proxies."""
    assert pack_violations(synthesized[stack].graph) == []
