"""checkov as a second opinion: the graph exported to a Terraform plan JSON and Kubernetes
manifests, checkov run in its own environment, its findings merged into every report.

Two checkov runs in the whole file (session fixtures): `resilience check --with-checkov`
on the shipped stacks, and one scan of hand-broken resources, a Kubernetes Deployment and
a config that exercises the optional code paths (Aurora, DynamoDB, ARC, Slack, ECS).
"""

from __future__ import annotations

import ast
import copy
import importlib
import json
import re
import stat
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from xml.etree import ElementTree as ET

import pulumi
import pytest
import yaml
from typer.testing import CliRunner

from model.loader import load_file
from scripts import checkov, cli
from scripts import graph as graph_io
from scripts.checkov import CheckovError, CheckovReport, StackExport
from scripts.engine import SynthResult, synth_all
from scripts.export import MAP_FIELDS, TYPES, to_kubernetes_manifests, to_terraform_plan
from tests.conftest import ROOT, read_stack_document
from tests.test_traffic import _worker

CKV_ID = re.compile(r"^CKV2?_(AWS|K8S)_\d+$")
PROVIDER_MODULES = {"aws": "pulumi_aws", "random": "pulumi_random"}
CODE_DIRS = ("components", "stacks", "bootstrap")


# -- the type mapping --------------------------------------------------------------------


def constructed_types() -> dict[str, str]:
    """Pulumi type token -> where it is constructed, for every custom resource class the
    bundle's code calls as `aws.<module>.<Class>(...)` (or `random.<Class>(...)`) or
    imports from pulumi_aws / pulumi_random and calls: read statically from the source, so
    a code path no shipped stack takes is covered too."""
    found: dict[str, str] = {}
    for directory in CODE_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            imported: dict[str, Any] = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    tuple(PROVIDER_MODULES.values())
                ):
                    module = importlib.import_module(node.module or "")
                    for alias in node.names:
                        imported[alias.asname or alias.name] = getattr(module, alias.name, None)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                parts: list[str] = []
                func: ast.expr = node.func
                while isinstance(func, ast.Attribute):
                    parts.append(func.attr)
                    func = func.value
                if not isinstance(func, ast.Name):
                    continue
                target: Any
                if func.id in PROVIDER_MODULES:
                    target = importlib.import_module(PROVIDER_MODULES[func.id])
                elif func.id in imported and not parts:
                    target = imported[func.id]
                else:
                    continue
                for part in reversed(parts):
                    target = getattr(target, part, None)
                if isinstance(target, type) and issubclass(target, pulumi.CustomResource):
                    token = str(target.pulumi_type)  # type: ignore[attr-defined]
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(token, where)
    return found


def test_every_aws_type_the_code_can_create_has_a_terraform_mapping() -> None:
    used = constructed_types()
    assert "aws:s3/bucket:Bucket" in used and "aws:rds/cluster:Cluster" in used  # sanity
    missing = {
        token: where
        for token, where in used.items()
        if token.split(":", 1)[0] in PROVIDER_MODULES and token not in TYPES
    }
    assert not missing, f"add these to scripts/export.py TYPES: {missing}"


def _args_class(token: str) -> type:
    """The Pulumi SDK's input class of a type token (e.g. pulumi_aws.s3.BucketArgs)."""
    provider, module, name = token.split(":")
    package = importlib.import_module(PROVIDER_MODULES[provider])
    group = module.split("/")[0]
    if group != "index":
        package = getattr(package, "lambda_" if group == "lambda" else group)
    cls = getattr(package, name)
    defining = importlib.import_module(cls.__module__)
    for candidate in (f"{name}Args", f"{name}InitArgs"):
        if hasattr(defining, candidate):
            return typing.cast(type, getattr(defining, candidate))
    raise AssertionError(f"no input class for {token}")


def _properties(args: type, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """(path, kind, annotation) of every input, nested inputs included; kind is map,
    object (a flattened one-item block), objects (repeated blocks) or value."""
    defining = importlib.import_module(args.__module__)
    for attribute, prop in vars(args).items():
        if not isinstance(prop, property) or prop.fget is None:
            continue
        name = getattr(prop.fget, "_pulumi_name", attribute)
        text = repr(prop.fget.__annotations__.get("return"))
        nested = re.search(r"ForwardRef\('(\w+Args)'\)", text)
        if text.startswith(("typing.Union[typing.Mapping", "typing.Mapping")):
            kind = "map"
        elif nested and "typing.Sequence[typing.Union[ForwardRef" in text.split(", NoneType")[0]:
            kind = "objects"
        elif nested:
            kind = "object"
        else:
            kind = "value"
        yield f"{prefix}{name}", kind, text
        # IAM policy documents travel as JSON text, not as nested inputs
        if (
            nested
            and kind != "map"
            and not nested.group(1).startswith(("PolicyDocument", "PolicyStatement"))
        ):
            inner = getattr(defining, nested.group(1), None) or getattr(
                importlib.import_module(args.__module__.rsplit(".", 1)[0] + "._inputs"),
                nested.group(1),
            )
            yield from _properties(inner, f"{prefix}{name}.")


def test_field_mapping_agrees_with_the_pulumi_sdk() -> None:
    """Map-typed inputs (any depth) are exactly MAP_FIELDS by name, so maps stay maps and
    everything else object-valued becomes a Terraform block; every rename names a real
    input path."""
    problems = []
    for token, tf_type in TYPES.items():
        props = {path: kind for path, kind, _ in _properties(_args_class(token))}
        for path, kind in props.items():
            name = path.rsplit(".", 1)[-1]
            if kind == "map" and name not in MAP_FIELDS:
                problems.append(f"{token} {path}: a map, not in MAP_FIELDS")
            in_block = tf_type.in_block_scope(path)
            if kind == "map" and in_block:
                problems.append(f"{token} {path}: a map, yet in a block scope")
            if kind == "object" and name in MAP_FIELDS and not in_block:  # (lists: blocks)
                problems.append(f"{token} {path}: a block, yet in MAP_FIELDS")
        problems += [
            f"{token} rename {path}: no such input" for path in tf_type.renames if path not in props
        ]
    assert not problems, "\n".join(problems)


# -- the export ---------------------------------------------------------------------------


def _by_address(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["address"]: r for r in plan["planned_values"]["root_module"]["resources"]}


def test_export_is_a_terraform_plan_with_blocks_maps_and_references(
    synthesized: dict[str, SynthResult],
) -> None:
    graph = synthesized["primary"].graph
    export = to_terraform_plan(graph)
    plan = export.plan
    assert plan["format_version"] and plan["terraform_version"]
    assert export.unmapped == {}
    planned = _by_address(plan)
    configured = {r["address"]: r for r in plan["configuration"]["root_module"]["resources"]}
    changes = {r["address"]: r for r in plan["resource_changes"]}
    assert planned.keys() == configured.keys() == changes.keys() == export.addresses.keys()
    assert len(planned) == sum(
        1
        for r in graph["resources"]
        if r["custom"] and not r["read"] and r["type"].split(":", 1)[0] in PROVIDER_MODULES
    )
    for address, resource in planned.items():
        assert address == f"{resource['type']}.{resource['name']}"
        assert resource["mode"] == "managed" and resource["provider_name"].startswith(
            "registry.terraform.io/hashicorp/"
        )
        assert changes[address]["change"]["actions"] == ["create"]

    # every reference names a resource of the plan
    def refs(expressions: Any) -> Iterator[str]:
        if isinstance(expressions, dict):
            if "references" in expressions:
                yield from expressions["references"]
            else:
                for value in expressions.values():
                    yield from refs(value)
        elif isinstance(expressions, list):
            for value in expressions:
                yield from refs(value)

    targets = {ref for r in configured.values() for ref in refs(r["expressions"])}
    assert targets and all(ref.rsplit(".", 1)[0] in planned or ref in planned for ref in targets)

    def one(tf_type: str, name_part: str) -> str:
        (address,) = [a for a in planned if a.startswith(tf_type + ".") and name_part in a]
        return address

    bucket = one("aws_s3_bucket", "data-uploads")
    key = one("aws_kms_key", "primary-key")
    sse = one("aws_s3_bucket_server_side_encryption_configuration", "uploads")
    # the bucket is an unknown known after apply, referenced as Terraform would plan it
    assert "bucket" not in planned[sse]["values"]
    assert configured[sse]["expressions"]["bucket"]["references"] == [f"{bucket}.id", bucket]
    (rule,) = planned[sse]["values"]["rule"]  # Pulumi's `rules` -> repeated block `rule`
    (default,) = rule["apply_server_side_encryption_by_default"]  # one-item block -> list
    assert default["sse_algorithm"] == "aws:kms"
    (rule_expr,) = configured[sse]["expressions"]["rule"]
    (default_expr,) = rule_expr["apply_server_side_encryption_by_default"]
    assert default_expr["kms_master_key_id"]["references"][0] == f"{key}.arn"
    # maps stay maps, their keys as written
    alarm = next(
        r["values"]
        for r in planned.values()
        if r["type"] == "aws_cloudwatch_metric_alarm" and "dimensions" in r["values"]
    )
    assert isinstance(alarm["dimensions"], dict)
    assert all(k[0].isupper() for k in alarm["dimensions"])
    # renames: Pulumi's `vpcZoneIdentifiers` is Terraform's `vpc_zone_identifier`
    group = planned[one("aws_autoscaling_group", "orders-api")]["values"]
    assert "vpc_zone_identifier" in group and "vpc_zone_identifiers" not in group
    # secrets stay redacted and are marked sensitive
    text = json.dumps(plan)
    assert "[secret]" in text
    (db,) = [r for r in planned.values() if r["type"] == "aws_db_instance"]
    assert db["values"]["password"] == "[secret]" and db["sensitive_values"]["password"]
    # one provider config per Pulumi provider, with its region
    regions = {
        p["expressions"]["region"]["constant_value"]
        for p in plan["configuration"]["provider_config"].values()
        if p["name"] == "aws"
    }
    assert "us-east-1" in regions


def k8s_graph() -> dict[str, Any]:
    """A hand-made graph with one Deployment (no shipped stack registers Kubernetes yet)."""
    urn = "urn:pulumi:k8s::resilience::kubernetes:apps/v1:Deployment::web"
    return {
        "schema": graph_io.GRAPH_SCHEMA,
        "project": "resilience",
        "stack": "k8s",
        "source": "Pulumi.k8s.yaml",
        "role": "primary",
        "region": None,
        "resources": [
            {
                "urn": urn,
                "type": "kubernetes:apps/v1:Deployment",
                "name": "web",
                "custom": True,
                "read": False,
                "parent": None,
                "provider": None,
                "region": None,
                "id": "shop/web",
                "inputs": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
                    "spec": {
                        "replicas": 2,
                        "selector": {"matchLabels": {"app": "web"}},
                        "template": {
                            "metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                        },
                    },
                },
                "computed": {},
                "options": {"protect": False, "depends_on": []},
            }
        ],
        "edges": [],
        "outputs": {},
    }


def test_kubernetes_resources_become_manifests() -> None:
    graph = k8s_graph()
    release = copy.deepcopy(graph["resources"][0])
    release.update(
        urn="urn:pulumi:k8s::resilience::kubernetes:helm.sh/v3:Release::monitoring",
        type="kubernetes:helm.sh/v3:Release",
        name="monitoring",
        inputs={"chart": "kube-prometheus-stack", "namespace": "monitoring"},
    )
    graph["resources"].append(release)
    export = to_kubernetes_manifests(graph)
    assert export.skipped == {"kubernetes:helm.sh/v3:Release": 1}  # not a Kubernetes object
    (manifest,) = export.manifests
    assert manifest["apiVersion"] == "apps/v1" and manifest["kind"] == "Deployment"
    assert manifest["metadata"]["namespace"] == "shop"
    assert manifest["spec"]["replicas"] == 2
    assert export.urns[("Deployment", "shop", "web")].endswith("::web")
    assert to_terraform_plan(k8s_graph()).addresses == {}


# -- running checkov -----------------------------------------------------------------------


def _fake_uv(tmp_path: Path, script: str) -> str:
    path = tmp_path / "uv"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_checkov_failures_are_errors_not_silence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(checkov.UV_ENV, _fake_uv(tmp_path, "echo 'boom: no such file' >&2; exit 2"))
    with pytest.raises(CheckovError, match="exited with 2: boom: no such file"):
        checkov.run_checkov(["-f", "x.json"])
    monkeypatch.setenv(checkov.UV_ENV, _fake_uv(tmp_path, "echo 'Traceback: not json'"))
    with pytest.raises(CheckovError, match=r"printed no JSON report.*Traceback: not json"):
        checkov.run_checkov(["-f", "x.json"])
    monkeypatch.setenv(checkov.UV_ENV, str(tmp_path / "missing-uv"))
    with pytest.raises(CheckovError, match="not an executable"):
        checkov.run_checkov(["-f", "x.json"])


def test_checkov_runs_pinned_and_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command: uv tool run with the pinned checkov, JSON out, soft-fail; and the one
    environment variable that skips the vendor guideline download (offline traceback)."""
    record = tmp_path / "args"
    uv = _fake_uv(tmp_path, f'printf "%s\\n" "$@" > {record}; env > {record}.env; echo "[]"')
    monkeypatch.setenv(checkov.UV_ENV, uv)
    assert checkov.run_checkov(["-d", "somewhere"]) == []
    args = record.read_text().split("\n")
    assert args[:2] == ["tool", "run"]
    assert f"checkov=={checkov.CHECKOV_VERSION}" in args
    assert args[args.index("checkov", 3) + 1 : args.index("checkov", 3) + 3] == ["-d", "somewhere"]
    assert "--soft-fail" in args and args[args.index("--output") + 1] == "json"
    assert "BC_SKIP_MAPPING=TRUE" in (tmp_path / "args.env").read_text()


def test_check_says_when_checkov_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(checkov.UV_ENV, _fake_uv(tmp_path, "echo 'no network' >&2; exit 1"))
    result = CliRunner().invoke(
        cli.app,
        [
            "check",
            "--stack",
            "example-minimal",
            "--project-dir",
            str(ROOT),
            "--out",
            str(tmp_path / "out"),
            "--with-checkov",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "checkov: checkov exited with 1: no network" in result.output
    assert (tmp_path / "out" / "example-minimal.tfplan.json").is_file()


def test_uv_is_found_by_override_then_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_path = tmp_path / "bin"
    on_path.mkdir()
    uv = _fake_uv(on_path, "exit 0")
    monkeypatch.delenv(checkov.UV_ENV, raising=False)
    monkeypatch.setenv("PATH", str(on_path))
    assert checkov.find_uv() == uv
    override = _fake_uv(tmp_path, "exit 0")
    monkeypatch.setenv(checkov.UV_ENV, override)
    assert checkov.find_uv() == override


def test_exceptions_need_an_id_and_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "exceptions": [
                    {"check": "CKV_AWS_18"},
                    {"check": "S3 logging", "reason": "x"},
                    {"check": "CKV_AWS_19", "reason": "x", "why": "typo"},
                ]
            }
        )
    )
    with pytest.raises(CheckovError) as caught:
        checkov.load_exceptions(path)
    message = str(caught.value)
    assert "exceptions[0]: a reason is required" in message
    assert "exceptions[1]: check must be a checkov id" in message
    assert "exceptions[2]: unknown key(s) why" in message
    shipped = checkov.load_exceptions()
    assert shipped and all(len(e.reason) > 40 for e in shipped)


# -- checkov on the shipped stacks, through the command ------------------------------------


class CheckRun(typing.NamedTuple):
    out: Path
    exit_code: int
    output: str
    report: CheckovReport


@pytest.fixture(scope="session")
def shipped_check(tmp_path_factory: pytest.TempPathFactory) -> CheckRun:
    """`resilience check --with-checkov` on the shipped stacks, every format (one checkov run)."""
    out = tmp_path_factory.mktemp("checkov-out")
    captured: list[CheckovReport] = []
    real_scan = checkov.scan

    def spy(*args: Any, **kwargs: Any) -> CheckovReport:
        captured.append(real_scan(*args, **kwargs))
        return captured[-1]

    with mock.patch.object(checkov, "scan", spy):
        result = CliRunner().invoke(
            cli.app,
            [
                "check",
                "--project-dir",
                str(ROOT),
                "--out",
                str(out),
                "--format",
                "md,html,sarif,junit",
                "--with-checkov",
            ],
        )
    assert captured, result.output
    return CheckRun(out, result.exit_code, result.output, captured[0])


def test_checkov_findings_are_in_every_report_and_advisory(shipped_check: CheckRun) -> None:
    out, report = shipped_check.out, shipped_check.report
    assert report.open, "checkov finds something on the shipped stacks"
    # advisory: open checkov findings do not fail the command (no mandatory rule fires)
    document = json.loads((out / "findings.json").read_text())
    assert shipped_check.exit_code == (1 if document["mandatory_violations"] else 0)
    for stack in ("primary", "dr", "example-minimal"):
        assert (out / f"{stack}.tfplan.json").is_file()  # for anyone to run checkov on
    section = document["checkov"]
    assert section["version"] == checkov.CHECKOV_VERSION and section["advisory"] is True
    assert section["stacks"]["primary"]["not_exported"] == {}
    assert section["stacks"]["primary"]["passed"] > 100
    assert {f["check"] for f in section["findings"]} == {f.check_id for f in report.open}
    assert all(CKV_ID.match(f["check"]) and f["urn"] for f in section["findings"])
    assert all(f["excepted"] for f in section["excepted"])

    sarif = json.loads((out / "findings.sarif").read_text())
    ours, theirs = sarif["runs"]
    assert ours["tool"]["driver"]["name"] == "resilience"
    assert theirs["tool"]["driver"]["name"] == "checkov"
    rules = theirs["tool"]["driver"]["rules"]
    assert all(CKV_ID.match(r["id"]) for r in rules)
    for result in theirs["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith(
            "urn:pulumi:"
        )
    suppressed = [r for r in theirs["results"] if r.get("suppressions")]
    assert len(suppressed) == len(report.excepted)
    assert all(r["suppressions"][0]["justification"] for r in suppressed)

    junit = ET.parse(out / "junit.xml").getroot()
    suites = {s.get("name"): s for s in junit.findall("testsuite")}
    assert {"primary", "checkov primary", "checkov dr", "checkov example-minimal"} <= set(suites)
    failed = [
        c.get("name")
        for c in suites["checkov primary"].findall("testcase")
        if c.find("failure") is not None
    ]
    assert failed and all(CKV_ID.match(name or "") for name in failed)
    excepted = [
        c for c in suites["checkov primary"].findall("testcase") if c.find("skipped") is not None
    ]
    assert excepted and all(
        (c.find("skipped").get("message") or "").startswith("excepted: ")  # type: ignore[union-attr]
        for c in excepted
    )

    markdown = (out / "compliance.md").read_text()
    html = (out / "compliance.html").read_text()
    for f in report.open:
        assert f"| {f.stack} | {f.check_id} |" in markdown
        assert f.check_id in html
    for f in report.excepted:
        assert (f.excepted or "")[:60] in markdown
    assert "checkov 3.3.30 (advisory)" in markdown and "(advisory)</h2>" in html
    assert "checkov" in shipped_check.output and "advisory" in shipped_check.output


def test_every_exception_still_matches_and_says_why(
    shipped_check: CheckRun, extra_scan: CheckovReport
) -> None:
    """A stale exception (it covers nothing any more, on the shipped stacks or the optional
    code paths) is an error: delete it or fix it."""
    exceptions = checkov.load_exceptions()
    assert shipped_check.report.exceptions == extra_scan.exceptions == exceptions
    findings = [*shipped_check.report.findings, *extra_scan.findings]
    stale = [e.describe() for e in exceptions if not any(e.matches(f) for f in findings)]
    assert stale == []
    assert all(e.reason for e in exceptions)
    for f in findings:
        exception = next((e for e in exceptions if e.matches(f)), None)
        assert f.excepted == (exception.reason if exception else None)


def test_graph_checks_see_the_separate_bucket_resources(shipped_check: CheckRun) -> None:
    """checkov's connection checks link a bucket to its separate public access block,
    versioning and encryption resources: they pass on the shipped buckets."""
    primary = next(s for s in shipped_check.report.stacks if s.stack == "primary")
    for check in ("CKV2_AWS_6", "CKV_AWS_21", "CKV_AWS_145"):
        assert primary.passed.get(check), check
    failed = {(f.check_id, f.name) for f in shipped_check.report.of("primary")}
    assert ("CKV2_AWS_6", "reskflow-primary-data-uploads") not in failed
    assert ("CKV_AWS_145", "reskflow-primary-data-uploads") not in failed


# -- broken resources, Kubernetes and the optional code paths (one checkov run) ------------


def _without(graph: dict[str, Any], urn_suffixes: tuple[str, ...]) -> dict[str, Any]:
    graph["resources"] = [r for r in graph["resources"] if not r["urn"].endswith(urn_suffixes)]
    graph["edges"] = [e for e in graph["edges"] if not e["from"].endswith(urn_suffixes)]
    return graph


def broken_graph(minimal: dict[str, Any]) -> dict[str, Any]:
    """example-minimal with its access-log bucket's public access block removed and the app
    log group's key dropped."""
    graph = copy.deepcopy(minimal)
    graph["stack"] = "broken"
    before = len(graph["resources"])
    graph = _without(graph, ("::minimal-primary-data-access-logs-public-access-block",))
    assert len(graph["resources"]) == before - 1
    for resource in graph["resources"]:
        if resource["name"] == "minimal-primary-monitoring-web-app-logs":
            del resource["inputs"]["kmsKeyId"]
    return graph


def everything(config: dict[str, Any]) -> None:
    """Every optional code path at once: Aurora, a global table, ARC, Slack, an ECS worker."""
    config["resilience:databases"][0].update(
        engine="aurora-postgresql", engine_version="16.4", instances=2
    )
    for role in ("primary", "dr"):
        for db in config["resilience:services"][0]["resources"][role]["databases"]:
            db.update(engine="aurora-postgresql", allocated_storage_gb=None)
    config["resilience:tables"] = [{"name": "idempotency-keys", "hash_key": "key"}]
    config["resilience:failover"]["mechanism"] = "arc"
    config["resilience:escalation"]["critical"].append(
        {"kind": "slack", "endpoint": "https://hooks.slack.com/services/T0/B0/abcdefghijkl"}
    )
    _worker(config)


@pytest.fixture(scope="session")
def rich_pair(tmp_path_factory: pytest.TempPathFactory) -> list[SynthResult]:
    directory = tmp_path_factory.mktemp("rich")
    loaded = []
    for base in ("primary", "dr"):
        document = read_stack_document(base)
        everything(document["config"])
        path = directory / f"Pulumi.rich-{base}.yaml"
        if base == "dr":
            document["config"]["resilience:primary_stack"] = "organization/resilience/rich-primary"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        loaded.append(load_file(path))
    return synth_all(loaded)


def test_the_optional_code_paths_export_completely(rich_pair: list[SynthResult]) -> None:
    """The types no shipped stack registers export too, with nothing left unmapped."""
    seen = set()
    for result in rich_pair:
        export = to_terraform_plan(result.graph)
        assert export.unmapped == {}, result.stack
        seen |= set(export.types.values())
    for token in (
        "aws:rds/cluster:Cluster",
        "aws:rds/globalCluster:GlobalCluster",
        "aws:dynamodb/table:Table",
        "aws:dynamodb/tableReplica:TableReplica",
        "aws:lambda/function:Function",
        "aws:route53recoverycontrol/safetyRule:SafetyRule",
        "aws:appautoscaling/policy:Policy",
    ):
        assert token in seen, token


@pytest.fixture(scope="session")
def extra_scan(
    synthesized: dict[str, SynthResult],
    rich_pair: list[SynthResult],
    tmp_path_factory: pytest.TempPathFactory,
) -> CheckovReport:
    out = tmp_path_factory.mktemp("checkov-extra")
    graphs = [broken_graph(synthesized["example-minimal"].graph), k8s_graph()]
    graphs += [r.graph for r in rich_pair]
    exports: list[StackExport] = [checkov.export_stack(g, out) for g in graphs]
    assert (out / "k8s.k8s.yaml").is_file()
    return checkov.scan(exports, out)


def test_a_broken_resource_gets_the_expected_ckv_id(extra_scan: CheckovReport) -> None:
    failed = {(f.check_id, f.name): f for f in extra_scan.of("broken")}
    public = failed[("CKV2_AWS_6", "minimal-primary-data-access-logs")]  # no public access block
    assert public.urn and public.urn.endswith("::minimal-primary-data-access-logs")
    assert public.resource_type == "aws:s3/bucket:Bucket" and public.excepted is None
    unencrypted = failed[("CKV_AWS_158", "minimal-primary-monitoring-web-app-logs")]
    assert (
        unencrypted.resource == "aws_cloudwatch_log_group.minimal-primary-monitoring-web-app-logs"
    )
    # the other log groups keep their key: only the broken one fails
    assert [n for c, n in failed if c == "CKV_AWS_158"] == [
        "minimal-primary-monitoring-web-app-logs"
    ]


def test_kubernetes_findings_map_back_to_the_deployment(extra_scan: CheckovReport) -> None:
    findings = extra_scan.of("k8s")
    assert findings and all(f.framework == "kubernetes" for f in findings)
    assert all(CKV_ID.match(f.check_id) for f in findings)
    urns = {f.urn for f in findings}
    assert urns == {"urn:pulumi:k8s::resilience::kubernetes:apps/v1:Deployment::web"}
    assert "CKV_K8S_8" in {f.check_id for f in findings}  # no liveness probe


def test_checkov_reads_every_exported_resource_of_the_optional_paths(
    extra_scan: CheckovReport, rich_pair: list[SynthResult]
) -> None:
    """scan() fails unless checkov read exactly as many resources as were exported; here
    the Aurora, DynamoDB, Lambda and ARC resources are checked too."""
    stacks = {s.stack: s for s in extra_scan.stacks}
    passed = {check for r in rich_pair for check in stacks[r.stack].passed}
    # fields of the optional types arrive where checkov looks for them
    assert {
        "CKV_AWS_162",  # aws_rds_cluster iam_database_authentication_enabled
        "CKV_AWS_327",  # aws_rds_cluster kms_key_id
        "CKV_AWS_28",  # aws_dynamodb_table point_in_time_recovery block
        "CKV_AWS_119",  # aws_dynamodb_table server_side_encryption block with a key
        "CKV_AWS_45",  # aws_lambda_function environment variables without secrets
        "CKV_AWS_173",  # aws_lambda_function environment encrypted with a key
    } <= passed
    failed = {(f.check_id, f.tf_type) for r in rich_pair for f in extra_scan.of(r.stack)}
    assert ("CKV_AWS_50", "aws_lambda_function") in failed  # no X-Ray tracing: advisory
