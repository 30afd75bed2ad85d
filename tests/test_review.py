"""The per-kind review record (docs/review/*.yaml): every file is valid (its keys, the rules,
config keys and files it names exist), docs/kind-review.md is current, and every resource
kind the shipped stacks and the examples create has a review file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from model.loader import ConfigError
from policies.rules import ALL_RULES, STACK_RULES
from scripts import cli
from scripts import review as kind_review
from scripts.engine import SynthResult
from tests.conftest import ROOT

runner = CliRunner()
RULE_IDS = [r.id for r in ALL_RULES] + [r.id for r in STACK_RULES]

# The kinds this review covers (the constraints helper's share). Their review files are
# required by name; since every share is in (the Google Cloud and Kubernetes kinds last),
# REQUIRE_ALL is True and any kind of the graphs without a review file fails the suite.
MINE = frozenset(
    {
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:cloudwatch/compositeAlarm:CompositeAlarm",
        "aws:cloudwatch/dashboard:Dashboard",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/eventTarget:EventTarget",
        "aws:sns/topic:Topic",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:kms/alias:Alias",
        "aws:kms/replicaKey:ReplicaKey",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLogging:BucketLogging",
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:autoscaling/group:Group",
        "aws:autoscaling/policy:Policy",
        "aws:autoscaling/schedule:Schedule",
        "aws:appautoscaling/policy:Policy",
        "aws:appautoscaling/target:Target",
        "aws:appautoscaling/scheduledAction:ScheduledAction",
        "aws:budgets/budget:Budget",
        "aws:costexplorer/anomalyMonitor:AnomalyMonitor",
        "aws:costexplorer/anomalySubscription:AnomalySubscription",
        "aws:lambda/function:Function",
        "aws:lambda/permission:Permission",
        "aws:dynamodb/table:Table",
        "aws:dynamodb/tableReplica:TableReplica",
    }
)
REQUIRE_ALL = True


@pytest.fixture(scope="module")
def graphs(every_stack: list[SynthResult]) -> list[SynthResult]:
    """The shipped stacks (`resilience check --all`) and every example."""
    return every_stack


@pytest.fixture(scope="module")
def kinds(graphs: list[SynthResult]) -> dict[str, list[str]]:
    return kind_review.graph_kinds(r.graph for r in graphs)


def test_every_review_file_is_valid() -> None:
    reviews = kind_review.load(ROOT, RULE_IDS)
    assert {r.kind for r in reviews} >= MINE
    for review in reviews:
        assert review.file == f"docs/review/{kind_review.file_name(review.kind)}"
        assert review.sources and review.checks


def test_the_committed_page_is_current(
    kinds: dict[str, list[str]], graphs: list[SynthResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    reviews = kind_review.load(ROOT, RULE_IDS)
    page = (ROOT / kind_review.PAGE).read_text(encoding="utf-8")
    assert page == kind_review.render(kinds, reviews), "run `resilience review`"
    # The command checks the same page (its synthesis replaced by the module's graphs).
    monkeypatch.setattr(cli, "run_synth", lambda *_: graphs)
    result = runner.invoke(cli.app, ["review", "--check", "--project-dir", str(ROOT)])
    assert result.exit_code == 0, result.output
    assert "kind-review.md is up to date" in result.output


def test_the_graphs_are_the_shipped_stacks_and_the_examples(graphs: list[SynthResult]) -> None:
    stacks = {r.stack for r in graphs}
    shipped = {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml")
    }
    examples = {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in ROOT.glob("examples/*/Pulumi.*.yaml")
    }
    assert stacks == shipped | examples


def test_every_kind_of_the_graphs_has_a_review(
    kinds: dict[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    reviews = kind_review.load(ROOT, RULE_IDS)
    missing = kind_review.unreviewed(kinds, reviews)
    mine = [k for k in missing if k in MINE]
    assert mine == [], f"kinds of this review without a review file: {mine}"
    pending = [k for k in missing if k not in MINE]
    if REQUIRE_ALL:
        assert pending == [], f"kinds without a review file: {pending}"
    with capsys.disabled():
        print(f"\nreview pending for {len(pending)} kinds: {', '.join(pending)}")


def _write(tmp_path: Path, name: str, document: Any) -> None:
    directory = tmp_path / kind_review.REVIEW_DIR
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(yaml.safe_dump(document, sort_keys=False))


GOOD_CHECK = {"what": "w", "source": "s", "enforced_by": "rule:aws-s3-bucket-name-valid"}


def test_a_broken_review_file_fails_with_each_reason(tmp_path: Path) -> None:
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "storage.py").write_text("")
    _write(
        tmp_path,
        "aws.s3.bucket.Bucket.yaml",
        {
            "kind": "aws:s3/bucket:Bucket",
            "reviewed": "2026-12-02",
            "sources": ["S3 User Guide"],
            "checks": [
                GOOD_CHECK,
                {**GOOD_CHECK, "enforced_by": "rule:aws-no-such-rule"},
                {**GOOD_CHECK, "enforced_by": "config:resilience:logs.no_such_key"},
                {**GOOD_CHECK, "enforced_by": "config:resilience:services.alarms"},
                {**GOOD_CHECK, "enforced_by": "code:components/nowhere.py"},
                {**GOOD_CHECK, "enforced_by": "code:components/storage.py"},
                {
                    **GOOD_CHECK,
                    "enforced_by": "config:resilience:services[].alarms.*.period_seconds",
                },
                {**GOOD_CHECK, "enforced_by": "api-model"},
                {**GOOD_CHECK, "enforced_by": "none:"},
                {**GOOD_CHECK, "enforced_by": "maybe"},
                {"what": "w", "source": "s"},
            ],
        },
    )
    _write(tmp_path, "aws.s3.bucketPolicy.BucketPolicy.yaml", {"kind": "aws:s3/bucket:Bucket"})
    _write(
        tmp_path,
        "wrong-name.yaml",
        {"kind": "aws:sns/topic:Topic", "reviewed": "soon", "sources": [], "checks": []},
    )
    with pytest.raises(ConfigError) as info:
        kind_review.load(tmp_path, RULE_IDS)
    assert sorted(str(p) for p in info.value.problems) == [
        "docs/review/aws.s3.bucket.Bucket.yaml: checks[10]: missing enforced_by",
        "docs/review/aws.s3.bucket.Bucket.yaml: checks[1].enforced_by: no rule "
        "'aws-no-such-rule' in ALL_RULES or STACK_RULES",
        "docs/review/aws.s3.bucket.Bucket.yaml: checks[2].enforced_by: config path "
        "'resilience:logs.no_such_key': resilience:logs has no key 'no_such_key'",
        "docs/review/aws.s3.bucket.Bucket.yaml: checks[3].enforced_by: config path "
        "'resilience:services.alarms': resilience:services has no key 'alarms'",
        "docs/review/aws.s3.bucket.Bucket.yaml: checks[4].enforced_by: no file "
        "'components/nowhere.py'",
        "docs/review/aws.s3.bucket.Bucket.yaml: checks[8].enforced_by: say why it is not "
        "enforced (none: <why>)",
        "docs/review/aws.s3.bucket.Bucket.yaml: checks[9].enforced_by: enforced_by is "
        "rule:<id>, config:<key path>, api-model, code:<path> or none: <why>",
        "docs/review/aws.s3.bucketPolicy.BucketPolicy.yaml: missing reviewed, sources, checks",
        "docs/review/wrong-name.yaml: checks: must be a non-empty list",
        "docs/review/wrong-name.yaml: kind: aws:sns/topic:Topic belongs in "
        "aws.sns.topic.Topic.yaml",
        "docs/review/wrong-name.yaml: reviewed: must be a date (YYYY-MM-DD)",
        "docs/review/wrong-name.yaml: sources: must be a non-empty list of titles",
    ]


def test_invalid_review_files_exit_2_naming_each_problem(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: resilience\n")
    _write(tmp_path, "aws.sns.topic.Topic.yaml", {"kind": "aws:sns/topic:Topic"})
    result = runner.invoke(cli.app, ["review", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "invalid review records" in result.output
    assert "aws.sns.topic.Topic.yaml: missing reviewed, sources, checks" in result.output


def test_graph_kinds_leave_out_pulumi_types_and_reads() -> None:
    graph = {
        "stack": "s",
        "resources": [
            {"type": "pulumi:pulumi:Stack", "custom": False},
            {"type": "pulumi:providers:aws", "custom": True},
            {"type": "pulumi:pulumi:StackReference", "custom": True, "read": True},
            {"type": "resilience:storage:SecureBucket", "custom": False},
            {"type": "aws:s3/bucket:Bucket", "custom": True, "read": False},
        ],
    }
    assert kind_review.graph_kinds([graph]) == {"aws:s3/bucket:Bucket": ["s"]}
