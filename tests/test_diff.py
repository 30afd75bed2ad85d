"""`resilience diff` on a temporary git repository with scripted commits: each change shows
exactly as what it is (added alarms, a removed bucket, a replaced database, a new finding),
and bad input exits 2."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from scripts import cli
from scripts.diff import markdown, run_diff
from tests.conftest import ROOT

runner = CliRunner()
SYSTEM = "systems/reskflow.yaml"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's tracked files as a fresh repository with one commit, `base`."""
    path = tmp_path_factory.mktemp("repo")
    for name in git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard").splitlines():
        source = ROOT / name
        if source.is_file():
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(path, "init", "--quiet", "--initial-branch", "main")
    git(path, "config", "user.email", "tests@example.com")
    git(path, "config", "user.name", "tests")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "-m", "base")
    git(path, "tag", "base")
    return path


def commit(repo: Path, name: str, edit: Callable[[Path], None]) -> str:
    """Branch `name` from base with one edit committed."""
    git(repo, "checkout", "--quiet", "-B", name, "base")
    edit(repo)
    git(repo, "commit", "--quiet", "--all", "-m", name)
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "main")
    return sha


def edit_system(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def apply(repo: Path) -> None:
        path = repo / SYSTEM
        document = yaml.safe_load(path.read_text())
        change(document["config"])
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    return apply


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graphs")


def test_an_added_queue_adds_exactly_its_alarms(repo: Path, cache: Path) -> None:
    def queue(config: dict[str, Any]) -> None:
        users = config["resilience:services"][1]
        users["resources"]["primary"]["queues"] = [
            {"queue_name": "reskflow-user-events", "dlq_name": "reskflow-user-events-dlq"}
        ]

    head = commit(repo, "add-queue", edit_system(queue))
    result = run_diff(repo, "base", head, cache)
    (primary,) = [s for s in result.stacks if not s.empty]
    assert primary.stack == "primary"
    names = sorted(urn.rsplit("::", 1)[-1] for urn in primary.added)
    assert names == [
        "reskflow-primary-monitoring-users-api-sqs-dlq-not-empty-reskflow-user-events-dlq",
        "reskflow-primary-monitoring-users-api-sqs-oldest-message-age-reskflow-user-events",
    ]
    assert not primary.removed and not primary.replaced and not primary.new_findings
    # The dashboards and inventory that list alarms change; nothing else.
    assert {urn.rsplit("::", 1)[-1] for urn in primary.changed} == {
        "reskflow-primary-monitoring-overview",
        "reskflow-primary-monitoring-users-api-dashboard",
    }


def test_a_removed_bucket_is_removed_with_its_replication(repo: Path, cache: Path) -> None:
    head = commit(repo, "no-bucket", edit_system(lambda c: c.pop("resilience:data_buckets")))
    result = run_diff(repo, "base", head, cache)
    by_stack = {s.stack: s for s in result.stacks}
    removed = {urn.rsplit("::", 1)[-1] for urn in by_stack["primary"].removed}
    assert "reskflow-primary-data-uploads" in removed
    dr_removed = {urn.rsplit("::", 1)[-1] for urn in by_stack["dr"].removed}
    assert any("replication" in name for name in dr_removed)
    assert not by_stack["primary"].added


def test_a_new_database_identifier_is_a_replacement(repo: Path, cache: Path) -> None:
    def rename(config: dict[str, Any]) -> None:
        config["resilience:databases"][0]["identifier"] = "reskflow-orders-db"

    head = commit(repo, "rename-db", edit_system(rename))
    result = run_diff(repo, "base", head, cache)
    primary = next(s for s in result.stacks if s.stack == "primary")
    replaced = {urn.rsplit("::", 1)[-1]: props for urn, props in primary.replaced.items()}
    assert replaced["reskflow-primary-orders-db"] == ["identifier"]
    text = markdown(result)
    assert "**Replaced** (deleted and recreated):" in text
    assert "`reskflow-primary-orders-db` (aws:rds/instance:Instance): identifier" in text


def test_unencrypted_log_groups_are_a_new_finding(repo: Path, cache: Path) -> None:
    def break_encryption(repo: Path) -> None:
        path = repo / "components" / "monitoring.py"
        source = path.read_text()
        retention = "            retention_in_days=config.logs.app_retention_days,\n"
        key = "            kms_key_id=args.key_arn,\n"
        assert retention + key in source
        path.write_text(source.replace(retention + key, retention, 1))

    head = commit(repo, "no-cmk", break_encryption)
    result = run_diff(repo, "base", head, cache)
    primary = next(s for s in result.stacks if s.stack == "primary")
    assert len(primary.new_findings) == 3  # one per service's app log group
    assert all(
        f.startswith("aws-cloudwatch-log-group-encrypted-with-cmk ") for f in primary.new_findings
    )
    assert not primary.fixed_findings


def test_identical_refs_unknown_refs_and_a_broken_side(repo: Path, cache: Path) -> None:
    same = runner.invoke(
        cli.app,
        [
            "diff",
            "--base",
            "base",
            "--head",
            "base",
            "--project-dir",
            str(repo),
            "--cache-dir",
            str(cache),
        ],
    )
    assert same.exit_code == 0, same.output
    assert "No changes to any stack." in same.output

    unknown = runner.invoke(cli.app, ["diff", "--base", "nope", "--project-dir", str(repo)])
    assert unknown.exit_code == 2
    assert "unknown git ref 'nope'" in unknown.output

    broken = commit(repo, "broken", edit_system(lambda c: c["resilience:dr"].update(rto_minutes=0)))
    bad = runner.invoke(
        cli.app,
        [
            "diff",
            "--base",
            "base",
            "--head",
            broken,
            "--format",
            "json",
            "--project-dir",
            str(repo),
            "--cache-dir",
            str(cache),
        ],
    )
    assert bad.exit_code == 2
    report = json.loads(bad.output)
    assert report["base"]["error"] is None
    assert "resilience:dr.rto_minutes" in report["head"]["error"]
