"""Offline engine and resource graph: determinism, URN and ARN shapes, recorded resource
options, secrets, isolation between runs; and the real entry point under the same runtime."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from model.loader import LoadedConfig
from scripts import graph as graph_io
from scripts import mock_aws
from scripts.engine import SynthError, SynthResult, run_offline, synth, synth_all
from tests.conftest import ROOT, read_stack_document


def test_same_config_gives_byte_identical_graphs(shipped: dict[str, LoadedConfig]) -> None:
    first = synth_all([shipped["primary"], shipped["dr"]])
    second = synth_all([shipped["primary"], shipped["dr"]])
    for a, b in zip(first, second, strict=True):
        assert graph_io.dumps(a.graph) == graph_io.dumps(b.graph)


def test_graphs_are_identical_across_processes(tmp_path: Path) -> None:
    """Hash randomisation and import order differ per process; the files must not."""
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        subprocess.run(
            [sys.executable, "-m", "scripts", "synth", "--all", "--out", str(out)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            env={"PYTHONHASHSEED": "random", "PATH": "/usr/bin:/bin"},
        )
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == [
        "dr.graph.json",
        "example-kubernetes.graph.json",
        "example-minimal.graph.json",
        "primary.graph.json",
    ]
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_graph_metadata_and_urns(synthesized: dict[str, SynthResult]) -> None:
    graph = synthesized["primary"].graph
    assert {k: graph[k] for k in ("schema", "project", "stack", "source", "role", "region")} == {
        "schema": "resilience-graph/1",
        "project": "resilience",
        "stack": "primary",
        "source": "Pulumi.primary.yaml",
        "role": "primary",
        "region": "us-east-1",
    }
    urns = [r["urn"] for r in graph["resources"]]
    assert urns == sorted(urns)
    # URNs as the real engine forms them: the parent's type chain, no Stack prefix.
    assert (
        "urn:pulumi:primary::resilience::resilience:foundation:RegionalFoundation"
        "$aws:kms/key:Key::reskflow-primary-key"
    ) in urns
    assert (
        "urn:pulumi:primary::resilience::resilience:foundation:RegionalFoundation"
        "::reskflow-primary" in urns
    )
    assert not any("pulumi:pulumi:Stack$" in urn for urn in urns)
    # Every edge joins two recorded resources.
    known = set(urns)
    for edge in graph["edges"]:
        assert edge["from"] in known and edge["to"] in known, edge


def test_ids_and_arns_are_aws_shaped_and_region_aware(synthesized: dict[str, SynthResult]) -> None:
    for stack, region in (("primary", "us-east-1"), ("dr", "us-west-2")):
        for resource in synthesized[stack].graph["resources"]:
            arn = resource["computed"].get("arn")
            if resource["type"].startswith("aws:kms/"):
                assert arn.startswith(f"arn:aws:kms:{region}:{mock_aws.ACCOUNT_ID}:"), arn
    s3 = mock_aws.new_resource("aws:s3/bucket:Bucket", "logs", {}, "eu-west-1")
    assert s3[0] == s3[1]["bucket"] and s3[0].startswith("logs-") and len(s3[0]) == 12
    assert s3[1]["arn"] == f"arn:aws:s3:::{s3[0]}"  # S3 ARNs carry no region or account
    role = mock_aws.new_resource("aws:iam/role:Role", "r", {"name": "x"}, "eu-west-1")
    assert role[1]["arn"] == "arn:aws:iam::123456789012:role/x"
    topic = mock_aws.new_resource("aws:sns/topic:Topic", "t", {"name": "alerts"}, "us-west-2")
    assert topic[0] == "arn:aws:sns:us-west-2:123456789012:alerts"


def _sample_program() -> None:
    provider = aws.Provider("p", region="eu-west-1")
    key = aws.kms.Key(
        "k",
        description=pulumi.Output.secret("classified"),
        enable_key_rotation=True,
        opts=pulumi.ResourceOptions(provider=provider, protect=True, retain_on_delete=True),
    )
    topic = aws.sns.Topic(
        "t",
        kms_master_key_id=key.arn,
        opts=pulumi.ResourceOptions(provider=provider, ignore_changes=["tags"]),
    )
    aws.sns.Topic(
        "after",
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[topic]),
    )
    pulumi.export("topic", topic.arn)


def _graph_of(program: Any, stack: str = "sample") -> dict[str, Any]:
    run = run_offline(program, stack=stack)
    return graph_io.build_graph(
        run.registrations, run.provider_regions, meta={"stack": stack}, outputs=run.outputs
    )


def test_resource_options_and_edges_are_recorded() -> None:
    graph = _graph_of(_sample_program)
    by_name = {r["name"]: r for r in graph["resources"]}
    key, topic, after = by_name["k"], by_name["t"], by_name["after"]
    assert key["options"]["protect"] is True
    assert key["options"]["retain_on_delete"] is True
    assert topic["options"]["protect"] is False
    assert topic["options"]["ignore_changes"] == ["tags"]
    # The KMS reference is an input dependency, not an explicit depends_on.
    assert topic["options"]["depends_on"] == []
    assert after["options"]["depends_on"] == [topic["urn"]]
    edges = {(e["from"], e["kind"], e["to"]) for e in graph["edges"]}
    assert (topic["urn"], "input:kmsMasterKeyId", key["urn"]) in edges
    assert (after["urn"], "depends_on", topic["urn"]) in edges
    assert (key["urn"], "provider", by_name["p"]["urn"]) in edges
    assert key["region"] == "eu-west-1"
    assert topic["inputs"]["kmsMasterKeyId"] == key["computed"]["arn"]
    assert graph["outputs"]["topic"] == topic["id"]


def test_secrets_never_reach_the_graph() -> None:
    graph = _graph_of(_sample_program)
    text = graph_io.dumps(graph)
    assert "classified" not in text
    key = next(r for r in graph["resources"] if r["name"] == "k")
    assert key["inputs"]["description"] == graph_io.SECRET


def test_default_provider_resources_have_no_region() -> None:
    def program() -> None:
        aws.sns.Topic("ambient")

    graph = _graph_of(program)
    topic = next(r for r in graph["resources"] if r["name"] == "ambient")
    assert topic["region"] is None
    assert topic["provider"] is None or "default" in topic["provider"]


def test_unknown_data_source_is_an_error_not_an_empty_result() -> None:
    def program() -> None:
        provider = aws.Provider("p", region="eu-west-1")
        aws.get_billing_service_account_output(opts=pulumi.InvokeOutputOptions(provider=provider))

    with pytest.raises(
        SynthError,
        match="no result for data source "
        "aws:index/getBillingServiceAccount:getBillingServiceAccount",
    ):
        run_offline(program, stack="sample")


def test_a_failed_run_does_not_disturb_the_next(
    shipped: dict[str, LoadedConfig], synthesized: dict[str, SynthResult]
) -> None:
    with pytest.raises(SynthError):
        synth(shipped["dr"])  # its StackReference has nothing to read
    after = synth(shipped["primary"])
    assert graph_io.dumps(after.graph) == graph_io.dumps(synthesized["primary"].graph)


def _runtime_config(stack: str, edit: Any = None) -> dict[str, str]:
    """Stack config as the engine hands it to a program: structured values JSON-encoded."""
    config = read_stack_document(stack)["config"]
    if edit is not None:
        edit(config)
    return {k: json.dumps(v) if not isinstance(v, str) else v for k, v in config.items()}


def test_the_real_entry_point_builds_the_same_program(
    synthesized: dict[str, SynthResult],
) -> None:
    run = run_offline(
        lambda: runpy.run_path(str(ROOT / "__main__.py")),
        stack="primary",
        config=_runtime_config("primary"),
    )
    urns = {r.urn for r in run.registrations}
    assert urns == {r["urn"] for r in synthesized["primary"].graph["resources"]}
    assert run.outputs == synthesized["primary"].outputs


def test_invalid_config_fails_before_any_resource_is_registered() -> None:
    errors: list[pulumi.RunError] = []

    def program() -> None:
        try:
            runpy.run_path(str(ROOT / "__main__.py"))
        except pulumi.RunError as error:
            errors.append(error)

    def break_it(config: dict[str, Any]) -> None:
        config["resilience:dr"]["region"] = "us-east-1"
        config["resilience:services"][0]["slo"]["availability"] = 101

    run = run_offline(program, stack="primary", config=_runtime_config("primary", break_it))
    (error,) = errors
    assert str(error).splitlines() == [
        "invalid stack config:",
        "Pulumi.primary.yaml: resilience:dr.region: must differ from primary region us-east-1",
        "Pulumi.primary.yaml: resilience:services[0].slo.availability: must be less than or "
        "equal to 99.999, got 101",
    ]
    assert [r.type for r in run.registrations] == ["pulumi:pulumi:Stack"]
