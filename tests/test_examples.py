"""Every operations manual has an example stack under examples/<manual>/ that synthesizes and
passes `resilience check --config-file` with no finding."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from model.loader import ConfigError, load_file
from scripts import cli
from tests.conftest import ROOT, ConfigWriter

EXAMPLES = ROOT / "examples"
runner = CliRunner()


def slug(manual: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", manual.lower()).strip("-")


def example_dirs() -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if p.is_dir())


def test_every_manual_has_an_example() -> None:
    manuals = yaml.safe_load((ROOT / "requirements.yaml").read_text())["manuals"]
    assert {slug(m) for m in manuals} == {d.name for d in example_dirs()}


@pytest.mark.parametrize("example", example_dirs(), ids=lambda p: p.name)
def test_example_passes_resilience_check(example: Path, tmp_path: Path) -> None:
    files = sorted(example.glob("Pulumi.*.yaml"))
    assert files, f"{example} has no stack file"
    args = ["check", "--project-dir", str(ROOT), "--out", str(tmp_path)]
    for path in files:
        args += ["--config-file", str(path)]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "findings.json").read_text())
    assert report["findings"] == []
    assert set(report["stacks"]) == {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in files
    }
    # The example says which manual it follows and how to check it.
    text = "".join(p.read_text() for p in sorted(example.glob("*.yaml")))
    assert "../shared/seeds/" in text and "resilience check --config-file" in text


def test_skafu_buckets_archive_and_keep_ten_versions(tmp_path: Path) -> None:
    skafu = EXAMPLES / "skafu"
    result = runner.invoke(
        cli.app,
        [
            "synth",
            "--project-dir",
            str(ROOT),
            "--out",
            str(tmp_path),
            "--config-file",
            str(skafu / "Pulumi.skafu-primary.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    graph = json.loads((tmp_path / "skafu-primary.graph.json").read_text())
    rules = {
        r["name"]: r["inputs"]["rules"][0]
        for r in graph["resources"]
        if r["type"] == "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    }
    configuration = rules["skafu-primary-data-configuration-lifecycle"]
    assert configuration["transitions"] == [{"days": 90, "storageClass": "GLACIER"}]
    artifacts = rules["skafu-primary-data-artifacts-lifecycle"]
    assert artifacts["noncurrentVersionExpiration"] == {
        "noncurrentDays": 1,
        "newerNoncurrentVersions": 10,
    }


@pytest.mark.parametrize(
    ("lifecycle", "message"),
    [
        (
            {"transition_to_ia_days": 30, "archive_after_days": 45},
            "archive_after_days (45) must be at least 30 days after transition_to_ia_days (30): "
            "S3 keeps objects 30 days in Standard-IA",
        ),
        (
            {"archive_after_days": 365, "expire_after_days": 300},
            "expire_after_days (300) must come after the transitions (365)",
        ),
        (
            {"noncurrent_expiration_days": None, "noncurrent_versions_kept": 10},
            "noncurrent_versions_kept needs noncurrent_expiration_days",
        ),
    ],
)
def test_bucket_lifecycle_order_is_checked(
    write_config: ConfigWriter, lifecycle: dict[str, Any], message: str
) -> None:
    def bucket(config: dict[str, Any]) -> None:
        config["resilience:data_buckets"][0]["lifecycle"] = lifecycle

    with pytest.raises(ConfigError) as info:
        load_file(write_config(bucket))
    assert [str(p) for p in info.value.problems] == [
        f"Pulumi.bad.yaml: resilience:data_buckets[0].lifecycle: {message}"
    ]
