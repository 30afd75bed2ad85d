"""The state backend bootstrap (under mocks) and the scan for plaintext secrets in stack
files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bootstrap.program import load, program
from model.loader import ConfigError
from scripts import cli
from scripts.engine import PROJECT, run_offline
from scripts.graph import build_graph
from scripts.secret_scan import scan, scan_file
from tests.conftest import ROOT, ConfigWriter

BOOTSTRAP = ROOT / "bootstrap" / "Pulumi.bootstrap.yaml"


def bootstrap_graph() -> dict[str, Any]:
    values = yaml.safe_load(BOOTSTRAP.read_text())["config"]
    config = load(values, BOOTSTRAP.name)
    run = run_offline(lambda: program(config), stack="bootstrap", project=PROJECT)
    return build_graph(
        run.registrations,
        run.provider_regions,
        meta={"project": PROJECT, "stack": "bootstrap", "source": BOOTSTRAP.name},
        outputs=run.outputs,
    )


def of_type(graph: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in graph["resources"] if r["type"] == typ]


def test_the_state_bucket_and_secrets_key() -> None:
    graph = bootstrap_graph()
    (key,) = of_type(graph, "aws:kms/key:Key")
    assert key["inputs"]["enableKeyRotation"] is True
    assert key["options"]["protect"] is True
    assert key["region"] == "us-west-2"  # not the primary region
    principals = [s["Principal"] for s in json.loads(key["inputs"]["policy"])["Statement"]]
    assert principals == [{"AWS": "arn:aws:iam::123456789012:root"}]
    (bucket,) = of_type(graph, "aws:s3/bucket:Bucket")
    assert bucket["inputs"]["bucket"] == "reskflow-pulumi-state-us-west-2-123456789012"
    assert bucket["options"]["protect"] is True
    (versioning,) = of_type(graph, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["inputs"]["versioningConfiguration"]["status"] == "Enabled"
    (sse,) = of_type(
        graph,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    rule = sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert rule == {"kmsMasterKeyId": key["computed"]["arn"], "sseAlgorithm": "aws:kms"}
    (block,) = of_type(graph, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(
        block["inputs"][k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    (policy,) = of_type(graph, "aws:s3/bucketPolicy:BucketPolicy")
    statements = json.loads(policy["inputs"]["policy"])["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    (lifecycle,) = of_type(
        graph, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    assert "noncurrentVersionExpiration" in json.dumps(lifecycle["inputs"])
    assert graph["outputs"]["backend_url"] == (
        "s3://reskflow-pulumi-state-us-west-2-123456789012?region=us-west-2&awssdk=v2"
    )
    assert graph["outputs"]["secrets_provider"] == (
        "awskms://alias/pulumi/reskflow-secrets?region=us-west-2"
    )


def test_bootstrap_config_errors_name_file_and_key() -> None:
    with pytest.raises(ConfigError) as info:
        load({"bootstrap:name": "Reskflow!", "bootstrap:region": "mars-1"}, "Pulumi.b.yaml")
    text = str(info.value)
    assert "Pulumi.b.yaml: bootstrap:name:" in text
    assert "Pulumi.b.yaml: bootstrap:region: " in text and "mars-1" in text


def test_no_committed_stack_file_holds_a_plaintext_secret() -> None:
    files = [*ROOT.glob("Pulumi*.yaml"), *(ROOT / "bootstrap").glob("Pulumi*.yaml")]
    assert len(files) >= 4
    assert scan(files) == []


def test_plaintext_secrets_are_refused_and_encrypted_ones_pass(
    write_config: ConfigWriter, tmp_path: Path
) -> None:
    slack = "https://hooks.slack.com/services/T0000000/B0000000/abcdefghijklmnopqrstuvwx"

    def leak(config: dict[str, Any]) -> None:
        config["resilience:escalation"]["critical"].append({"kind": "slack", "endpoint": slack})

    leaking = write_config(leak, base="example-minimal", name="leaky")
    (problem,) = scan_file(leaking)
    assert str(problem) == (
        f"{leaking}: resilience:escalation.critical[1].endpoint: holds a Slack webhook URL in "
        "plain text: store it with `pulumi config set --secret`"
    )
    result = CliRunner().invoke(
        cli.app,
        [
            "check",
            "--config-file",
            str(leaking),
            "--project-dir",
            str(ROOT),
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "plaintext secrets" in result.output

    def encrypted(config: dict[str, Any]) -> None:
        config["resilience:escalation"]["critical"].append(
            {"kind": "slack", "endpoint": {"secure": "v1:AAAABBBBCCCC"}}
        )
        config["resilience:token"] = {"secure": "v1:DDDD"}

    assert scan_file(write_config(encrypted, base="example-minimal", name="safe")) == []
