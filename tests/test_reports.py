"""The compliance reports: a deliberately broken stack gives exactly its findings in JSON,
SARIF, JUnit, Markdown and HTML, and the framework matrix marks exactly its controls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from typer.testing import CliRunner

from scripts import cli
from tests.conftest import ROOT, ConfigWriter

runner = CliRunner()


def check(*args: str) -> Any:
    return runner.invoke(cli.app, ["check", *args])


def broken(write_config: ConfigWriter) -> Path:
    """example-minimal with app logs kept 7 days: the retention rule fires on one log group."""

    def short_logs(config: dict[str, Any]) -> None:
        config["resilience:logs"] = {"app_retention_days": 7}

    return write_config(short_logs, base="example-minimal", name="broken")


def test_a_broken_stack_in_every_format(write_config: ConfigWriter, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = check(
        "--config-file",
        str(broken(write_config)),
        "--project-dir",
        str(ROOT),
        "--out",
        str(out),
        "--format",
        "md,html,sarif,junit",
    )
    assert result.exit_code == 1, result.output  # a mandatory violation
    expected = ("aws-cloudwatch-log-group-retention", "minimal-primary-monitoring-web-app-logs")

    document = json.loads((out / "findings.json").read_text())
    assert [(f["rule"], f["urn"].rsplit("::", 1)[-1]) for f in document["findings"]] == [expected]
    assert document["mandatory_violations"] == 1
    matrix = document["frameworks"]
    assert matrix["AWS FSBP"]["CloudWatch.16"] == {"broken": "fail"}
    assert matrix["PCI DSS 4.0"]["10.5.1"] == {"broken": "fail"}
    assert matrix["AWS FSBP"]["KMS.4"] == {"broken": "pass"}
    assert matrix["AWS FSBP"]["RDS.2"] == {"broken": "n/a"}  # no database in this stack

    sarif = json.loads((out / "findings.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    (finding,) = run["results"]
    assert rules[finding["ruleIndex"]]["id"] == finding["ruleId"] == expected[0]
    assert finding["level"] == "warning"  # medium severity
    location = finding["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "Pulumi.broken.yaml"
    assert location["logicalLocations"][0]["fullyQualifiedName"].endswith(expected[1])
    assert all(r["helpUri"].startswith("https://") for r in rules)
    assert all(float(r["properties"]["security-severity"]) > 0 for r in rules)

    junit = ET.parse(out / "junit.xml").getroot()
    (suite,) = junit.findall("testsuite")
    assert suite.get("name") == "broken"
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == [expected[0]]
    assert expected[1] in (failed[0].find("failure").text or "")  # type: ignore[union-attr]
    assert junit.get("failures") == "1"
    assert int(suite.get("skipped", "0")) > 0  # rules with nothing to check here

    markdown = (out / "compliance.md").read_text()
    assert "| CloudWatch.16 | ❌ fail |" in markdown
    assert "| broken | aws-cloudwatch-log-group-retention | medium | mandatory |" in markdown

    page = (out / "compliance.html").read_text()
    assert page.startswith("<!doctype html>")
    assert 'class="fail">fail<' in page
    assert "<script" not in page and "src=" not in page and "<link" not in page  # one file


def test_the_shipped_stacks_pass_every_control(tmp_path: Path) -> None:
    result = check("--project-dir", str(ROOT), "--out", str(tmp_path), "--format", "junit,md")
    assert result.exit_code == 0, result.output
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert junit.get("failures") == "0"
    assert "❌" not in (tmp_path / "compliance.md").read_text()


def test_unknown_format_exits_2(tmp_path: Path) -> None:
    result = check("--project-dir", str(ROOT), "--out", str(tmp_path), "--format", "md,pdf")
    assert result.exit_code == 2
    assert "unknown pdf" in result.output


def test_an_unachievable_rpo_in_every_format(write_config: ConfigWriter, tmp_path: Path) -> None:
    """ReskFlow with uploads held to the system's 5-minute RPO: S3 replication guarantees
    15 minutes, so the dr stack's RPO analysis fails on exactly that store."""

    def five_minutes(config: dict[str, Any]) -> None:
        del config["resilience:backup"]["classes"]["uploads"]["rpo_minutes"]

    files = [write_config(five_minutes, base=stack, name=stack) for stack in ("primary", "dr")]
    out = tmp_path / "out"
    result = check(
        *[arg for f in files for arg in ("--config-file", str(f))],
        "--project-dir",
        str(ROOT),
        "--out",
        str(out),
        "--format",
        "sarif,junit",
    )
    assert result.exit_code == 1, result.output
    expected = (
        "dr",
        "resilience-rpo-achievable",
        "reskflow-dr-s3-replication-uploads",
    )
    document = json.loads((out / "findings.json").read_text())
    found = [(f["stack"], f["rule"], f["urn"].rsplit("::", 1)[-1]) for f in document["findings"]]
    assert found == [expected]
    (finding,) = document["findings"]
    assert finding["message"].startswith(
        "bucket:uploads: RPO 5 min cannot be met: its best path to the DR region is S3 "
        "replication 15.0 min (Replication Time Control guarantees 15 minutes)"
    )
    assert document["frameworks"]["ISO 27001"]["A.5.30"] == {"dr": "fail", "primary": "pass"}

    sarif = json.loads((out / "findings.sarif").read_text())
    (result_,) = sarif["runs"][0]["results"]
    assert result_["ruleId"] == expected[1]
    assert result_["level"] == "error"  # critical

    junit = ET.parse(out / "junit.xml").getroot()
    failed = [
        (suite.get("name"), case.get("name"))
        for suite in junit.findall("testsuite")
        for case in suite.findall("testcase")
        if case.find("failure") is not None
    ]
    assert failed == [("dr", expected[1])]


def test_an_active_dr_region_passes_after_a_failover(
    write_config: ConfigWriter, tmp_path: Path
) -> None:
    """`resilience failover` writes dr.mode: active; the checks (and the pack in the next
    `pulumi up -s dr`) must not then block on the DR paths the failover just used up."""

    def active(config: dict[str, Any]) -> None:
        config["resilience:dr"]["mode"] = "active"

    files = [write_config(active, base=stack, name=stack) for stack in ("primary", "dr")]
    result = check(
        *[arg for f in files for arg in ("--config-file", str(f))],
        "--project-dir",
        str(ROOT),
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "findings.json").read_text())
    assert report["findings"] == []
