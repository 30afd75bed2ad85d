"""The `resilience` command: outputs, summary and exit codes (0 ok, 1 findings, 2 bad input)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from policies.rules import ALL_RULES, STACK_RULES, Rule, Severity
from scripts import cli
from scripts.engine import SynthResult
from tests.conftest import ROOT, ConfigWriter

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(cli.app, ["--help"] if not args else list(args))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's Pulumi files, to add broken stacks to."""
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    shutil.copytree(ROOT / "systems", tmp_path / "systems")
    return tmp_path


def test_check_on_the_shipped_stacks_passes(
    tmp_path: Path, synthesized: dict[str, SynthResult]
) -> None:
    result = invoke("check", "--project-dir", str(ROOT), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    rules = len(ALL_RULES) + len(STACK_RULES)
    assert f"4 stack(s), {rules} rules, 0 finding(s) (0 mandatory)" in result.output
    report = json.loads((tmp_path / "findings.json").read_text())
    assert report["findings"] == []
    assert set(report["stacks"]) == {"primary", "dr", "example-minimal", "example-kubernetes"}
    for stack, result in synthesized.items():
        assert report["stacks"][stack]["resources"] == result.resource_count
    assert sorted(p.name for p in tmp_path.glob("*.graph.json")) == [
        "dr.graph.json",
        "example-kubernetes.graph.json",
        "example-minimal.graph.json",
        "primary.graph.json",
    ]


def test_synth_writes_graphs_and_a_summary_by_type_and_region(
    tmp_path: Path, synthesized: dict[str, SynthResult]
) -> None:
    result = invoke("synth", "--stack", "dr", "--project-dir", str(ROOT), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    # The primary is synthesized to answer the StackReference but not written.
    assert [p.name for p in tmp_path.iterdir()] == ["dr.graph.json"]
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert "│ aws:kms/replicaKey:ReplicaKey │ us-west-2 │ 1 │" in lines
    assert "│ aws:kms/alias:Alias │ us-west-2 │ 2 │" in lines
    assert f"│ total │ │ {synthesized['dr'].resource_count} │" in lines
    graph = json.loads((tmp_path / "dr.graph.json").read_text())
    assert graph["stack"] == "dr" and graph["role"] == "dr"


def test_config_file_is_checked_without_renaming(
    write_config: ConfigWriter, tmp_path: Path
) -> None:
    path = write_config(name="candidate")
    renamed = path.rename(path.with_name("candidate-config.yaml"))
    out = tmp_path / "out"
    result = invoke(
        "check", "--config-file", str(renamed), "--project-dir", str(ROOT), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert (out / "candidate-config.graph.json").is_file()


def test_invalid_config_exits_2_listing_every_problem(project: Path) -> None:
    with (project / "Pulumi.dr.yaml").open("a") as stack_file:
        stack_file.write(
            "  resilience:dr:\n    region: us-east-1\n    rto_minutes: 15\n    rpo_minutes: 0\n"
        )
    result = invoke("check", "--project-dir", str(project), "--out", str(project / "out"))
    assert result.exit_code == 2
    assert "invalid stack config (2 problems)" in result.output
    assert "Pulumi.dr.yaml: resilience:dr.region: must differ from primary region us-east-1" in (
        " ".join(result.output.split())
    )
    assert "Pulumi.dr.yaml: resilience:dr.rpo_minutes: must be greater than 0, got 0" in (
        " ".join(result.output.split())
    )
    assert not (project / "out").exists()  # nothing half-written


def test_one_problem_is_counted_in_the_singular(project: Path) -> None:
    with (project / "Pulumi.dr.yaml").open("a") as stack_file:
        stack_file.write(
            "  resilience:dr:\n    region: us-west-2\n    rto_minutes: 15\n    rpo_minutes: 0\n"
        )
    result = invoke("check", "--project-dir", str(project), "--out", str(project / "out"))
    assert result.exit_code == 2
    assert "invalid stack config (1 problem):" in result.output
    assert "Pulumi.dr.yaml: resilience:dr.rpo_minutes: must be greater than 0, got 0" in (
        " ".join(result.output.split())
    )


def test_unknown_stack_and_missing_file_exit_2(tmp_path: Path) -> None:
    result = invoke("synth", "--stack", "staging", "--project-dir", str(ROOT))
    assert result.exit_code == 2
    assert "unknown stack 'staging' (stacks in" in result.output
    result = invoke(
        "synth", "--config-file", str(tmp_path / "nope.yaml"), "--project-dir", str(ROOT)
    )
    assert result.exit_code == 2
    assert "nope.yaml: file not found" in result.output


def test_dr_config_whose_primary_is_unknown_exits_2(write_config: ConfigWriter) -> None:
    path = write_config(
        lambda c: c.update({"resilience:primary_stack": "acme/resilience/prod-east"}),
        base="dr",
        name="dr-east",
    )
    result = invoke("synth", "--config-file", str(path), "--project-dir", str(ROOT))
    assert result.exit_code == 2
    assert "stack 'prod-east' has no Pulumi.prod-east.yaml" in " ".join(result.output.split())


def test_dr_config_disagreeing_with_its_primary_exits_2(project: Path) -> None:
    with (project / "Pulumi.dr.yaml").open("a") as stack_file:
        stack_file.write("  resilience:name: other\n")  # a stack key replaces the included one
    result = invoke("synth", "--all", "--project-dir", str(project), "--out", str(project / "o"))
    assert result.exit_code == 2
    assert "exports name='reskflow' but this stack's config says 'other'" in " ".join(
        result.output.split()
    )


def test_usage_error_exits_2() -> None:
    assert invoke("synth", "--no-such-flag").exit_code == 2


@pytest.fixture
def always_failing_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    def flag_every_key(resource: Any) -> Iterator[str]:
        yield f"{resource.name} flagged by the test rule"

    rule = Rule(
        id="test-flag-every-kms-key",
        description="test",
        severity=Severity.LOW,
        remediation="none",
        url="https://example.com",
        check=flag_every_key,
        resource_types=("aws:kms/key:Key",),
    )
    monkeypatch.setattr(cli, "ALL_RULES", (*ALL_RULES, rule))


@pytest.mark.usefixtures("always_failing_rule")
def test_mandatory_findings_exit_1_and_are_written(tmp_path: Path) -> None:
    result = invoke(
        "check", "--stack", "example-minimal", "--project-dir", str(ROOT), "--out", str(tmp_path)
    )
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "findings.json").read_text())
    assert [(f["rule"], f["message"]) for f in report["findings"]] == [
        ("test-flag-every-kms-key", "minimal-primary-key flagged by the test rule")
    ]


def test_installed_console_script(tmp_path: Path) -> None:
    script = shutil.which("resilience", path=str(Path(__file__).parents[1] / ".venv" / "bin"))
    assert script is not None
    done = subprocess.run(
        [script, "check", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    bad = subprocess.run(
        [script, "synth", "--stack", "nope"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert "unknown stack 'nope'" in bad.stderr
