"""The traceability matrix: every row names things that exist, and the page is current."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from model.loader import ConfigError
from scripts import cli
from scripts.requirements import coverage, load, render
from tests.conftest import ROOT

runner = CliRunner()


def test_every_row_names_existing_code_rules_and_tests() -> None:
    manuals, rows = load(ROOT / "requirements.yaml")
    assert set(manuals) == {
        "ReskFlow",
        "Light on Campus",
        "Learning Assistant",
        "Skafu",
        "WebUredno",
    }
    assert {r.manual for r in rows} == set(manuals)  # every manual has rows
    counts = coverage(rows)
    assert counts["implemented"] + counts["partial"] + counts["open"] == len(rows) >= 20


def test_the_committed_page_is_current() -> None:
    result = runner.invoke(cli.app, ["requirements", "--check", "--project-dir", str(ROOT)])
    assert result.exit_code == 0, result.output
    manuals, rows = load(ROOT / "requirements.yaml")
    assert (ROOT / "docs" / "requirements.md").read_text() == render(manuals, rows)


def test_a_row_naming_missing_things_fails_with_each_reason(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "requirements.yaml").read_text())
    row = document["requirements"][0]
    row["implemented_by"] = ["components/nowhere.py", "rule:aws-no-such-rule", "alarm:nope"]
    row["tests"] = ["tests/test_traffic.py::test_that_does_not_exist"]
    document["requirements"].append(dict(document["requirements"][1]))  # duplicate id
    for name in (
        "tests",
        "components",
        "policies",
        "model",
        "scripts",
        "systems",
        "stacks",
        ".github",
    ):
        (tmp_path / name).symlink_to(ROOT / name)
    path = tmp_path / "requirements.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(ConfigError) as info:
        load(path)
    messages = sorted(f"{p.key}: {p.message}" for p in info.value.problems)
    assert messages == sorted(
        [
            "requirements[0] (RF-DR-1).implemented_by: no file components/nowhere.py",
            "requirements[0] (RF-DR-1).implemented_by: no rule aws-no-such-rule",
            "requirements[0] (RF-DR-1).implemented_by: no alarm nope",
            "requirements[0] (RF-DR-1).tests: no test test_that_does_not_exist in "
            "tests/test_traffic.py",
            f"requirements[{len(document['requirements']) - 1}] (RF-DR-2): duplicate id",
        ]
    )


def test_check_prints_the_coverage(tmp_path: Path) -> None:
    result = runner.invoke(
        cli.app,
        ["check", "--stack", "example-minimal", "--project-dir", str(ROOT), "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "requirements: 23/28 implemented, 5 partial, 0 open" in result.output
