"""The offline engine refuses what the Pulumi engine refuses: two resources with one URN, a
parent or provider never registered, dependencies that form a cycle. The config loader
refuses up front the entries that would make them (a name used twice, an old name still in
use, two databases whose identifiers meet), naming the file the key lives in; the engine's
own check is the backstop for whatever gets past.

The engine's words are pulumi/pulumi's: sdk/go/common/diag/errors.go (diag 2001
"Duplicate resource URN '%v'; try giving it a unique name", 2007 "unknown provider '%v' for
resource '%v'"), pkg/resource/deploy/step_generator.go ("could not find parent resource
%v") and pkg/resource/deploy/snapshot.go ("resource %s's dependency %s refers to missing
resource", "... comes after it")."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import settings
from pulumi.runtime.proto import resource_pb2
from typer.testing import CliRunner

from model import loader
from model.loader import ConfigError, load_file
from scripts import cli
from scripts.engine import RegistrationError, StackInputError, run_offline
from scripts.graph import IntegrityProblem, Registration, integrity_problems
from tests.conftest import ROOT

SYSTEM = "systems/reskflow.yaml"
STACK = "check"
URN = f"urn:pulumi:{STACK}::resilience::"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's stack files and of the system file they include."""
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    shutil.copytree(ROOT / "systems", tmp_path / "systems")
    return tmp_path


def edit_system(project: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """Edit the included system file's config; returns the primary stack file."""
    path = project / SYSTEM
    document = yaml.safe_load(path.read_text())
    edit(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return project / "Pulumi.primary.yaml"


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    return [str(p) for p in caught.value.problems]


def second(config: dict[str, Any], key: str, **changes: Any) -> None:
    """Append a copy of the first entry of `key`, changed."""
    entries = config[f"resilience:{key}"]
    entries.append({**entries[0], **changes})


TABLES = [
    {"name": "sessions", "hash_key": "id"},
    {"name": "carts", "hash_key": "id"},
]


# -- the loader: refused up front, naming the included file --------------------------------


def test_a_bucket_listed_twice_exits_2_naming_the_system_file(project: Path) -> None:
    edit_system(project, lambda c: second(c, "data_buckets"))
    result = CliRunner().invoke(
        cli.app, ["check", "--project-dir", str(project), "--out", str(project / "out")]
    )
    assert result.exit_code == 2
    stderr = " ".join(result.stderr.split())
    assert (
        "systems/reskflow.yaml: resilience:data_buckets[1].name: duplicate bucket name "
        "'uploads' (also data_buckets[0])"
    ) in stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert not (project / "out").exists()  # refused before anything is synthesized


def test_a_database_listed_twice_is_refused(project: Path) -> None:
    # Another identifier, so that only the name is at fault.
    stack = edit_system(project, lambda c: second(c, "databases", identifier="reskflow-db2"))
    assert problems_of(stack) == [
        "systems/reskflow.yaml: resilience:databases[1].name: duplicate database name "
        "'orders-db' (also databases[0])"
    ]


def test_a_table_listed_twice_is_refused(project: Path) -> None:
    def tables(config: dict[str, Any]) -> None:
        config["resilience:tables"] = [TABLES[0], {**TABLES[1], "name": "sessions"}]

    assert problems_of(edit_system(project, tables)) == [
        "systems/reskflow.yaml: resilience:tables[1].name: duplicate table name 'sessions' "
        "(also tables[0])"
    ]


def test_two_services_of_one_name_are_refused(project: Path) -> None:
    stack = edit_system(project, lambda c: second(c, "services"))
    assert (
        "systems/reskflow.yaml: resilience:services[3].name: duplicate service name "
        "'orders-api' (also services[0])"
    ) in problems_of(stack)


def test_an_old_name_still_in_use_is_refused(project: Path) -> None:
    def rename(config: dict[str, Any]) -> None:
        services = config["resilience:services"]
        services[1]["previous_names"] = ["orders-api"]  # users-api was orders-api?
        services[2]["previous_names"] = ["tracking-api", "legacy"]  # its own name
        services[0]["previous_names"] = ["legacy"]  # and two services were legacy

    assert problems_of(edit_system(project, rename)) == [
        "systems/reskflow.yaml: resilience:services[1].previous_names[0]: 'orders-api' is "
        "the name of services[0]: an old name must not be in use",
        "systems/reskflow.yaml: resilience:services[2].previous_names[0]: 'tracking-api' is "
        "this service's own name: an old name must not be in use",
        "systems/reskflow.yaml: resilience:services[2].previous_names[1]: 'legacy' is also "
        "an old name of services[0]: two services cannot both have been it",
    ]


def test_database_identifiers_that_meet_are_refused(project: Path) -> None:
    """orders-db is `reskflow-db`; a database named `db` without an identifier would be
    `reskflow-db` too (`<system>-<name>`); an Aurora cluster `reskflow-x` has instances
    `reskflow-x-1` and `reskflow-x-2`, the identifier of a PostgreSQL instance."""

    def databases(config: dict[str, Any]) -> None:
        first = config["resilience:databases"][0]
        config["resilience:databases"] = [
            first,
            {"name": "db", "instance_class": "db.r6g.large"},
            {
                "name": "xdb",
                "identifier": "reskflow-x",
                "engine": "aurora-postgresql",
                "engine_version": "16.4",
                "instance_class": "db.r6g.large",
            },
            {"name": "ydb", "identifier": "reskflow-x-2", "instance_class": "db.r6g.large"},
        ]

    assert problems_of(edit_system(project, databases)) == [
        "systems/reskflow.yaml: resilience:databases[1].name: the default identifier "
        "'reskflow-db' (<name>-<database name>) is also the identifier of databases[0]: "
        "their instances, parameter and subnet groups and secrets would have the same names",
        "systems/reskflow.yaml: resilience:databases[3].identifier: its primary-region DB "
        "instance 'reskflow-x-2' would have the identifier of an instance of databases[2]",
    ]


def test_a_bucket_named_like_the_bundles_own_is_refused(project: Path) -> None:
    stack = edit_system(project, lambda c: second(c, "data_buckets", name="access-logs"))
    assert problems_of(stack) == [
        "systems/reskflow.yaml: resilience:data_buckets[1].name: 'access-logs' is reserved: "
        "the region's access-log bucket is named reskflow-access-logs-<region>-<account id>"
    ]


def test_distinct_names_pass(project: Path) -> None:
    def distinct(config: dict[str, Any]) -> None:
        second(config, "data_buckets", name="invoices")
        second(config, "databases", name="billing-db", identifier="reskflow-billing")
        config["resilience:tables"] = TABLES
        config["resilience:services"][0]["previous_names"] = ["orders"]

    assert load_file(edit_system(project, distinct)).aws.tables[1].name == "carts"


# -- the engine: the backstop ----------------------------------------------------------------


def register(
    name: str,
    *,
    parent: str = "",
    provider: str = "",
    dependencies: tuple[str, ...] = (),
    typ: str = "test:index:Thing",
) -> str:
    """Send one RegisterResource to the monitor as an SDK would (the Python SDK itself
    never sends a parent or dependency it has not seen registered: it awaits their URNs)."""
    request = resource_pb2.RegisterResourceRequest(
        type=typ,
        name=name,
        parent=parent,
        provider=provider,
        custom=True,
        object=struct_pb2.Struct(),
        dependencies=list(dependencies),
    )
    monitor = settings.get_monitor()
    assert monitor is not None
    return str(monitor.RegisterResource(request).urn)


def refused(program: Callable[[], object]) -> list[str]:
    with pytest.raises(RegistrationError) as caught:
        run_offline(program, stack=STACK)
    assert isinstance(caught.value, StackInputError)  # exit 2 in the CLI, not a crash
    return [p.message for p in caught.value.problems]


def test_two_resources_of_one_urn_are_refused() -> None:
    def program() -> None:
        provider = aws.Provider("east", region="us-east-1")
        for _ in range(2):
            aws.sns.Topic("alerts", opts=pulumi.ResourceOptions(provider=provider))

    assert refused(program) == [
        f"Duplicate resource URN '{URN}aws:sns/topic:Topic::alerts'; try giving it a unique name"
    ]


def test_a_parent_never_registered_is_refused() -> None:
    ghost = f"{URN}test:index:Component::ghost"
    assert refused(lambda: register("child", parent=ghost)) == [
        f"could not find parent resource {ghost}"
    ]


def test_a_provider_never_registered_is_refused() -> None:
    ghost = f"{URN}pulumi:providers:aws::west::0c5b1e7c-0000-4000-8000-000000000000"
    assert refused(lambda: register("thing", provider=ghost)) == [
        f"unknown provider '{ghost}' for resource '{URN}test:index:Thing::thing'"
    ]


def test_a_default_provider_is_the_engines_own() -> None:
    default = f"{URN}pulumi:providers:aws::default_7_51_0::04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    run = run_offline(lambda: register("thing", provider=default), stack=STACK)
    assert sorted(r.name for r in run.registrations) == ["resilience-check", "thing"]


def test_a_dependency_cycle_is_refused() -> None:
    a, b = f"{URN}test:index:Thing::a", f"{URN}test:index:Thing::b"

    def program() -> None:
        register("a", dependencies=(b,))
        register("b", dependencies=(a,))

    assert refused(program) == [
        f"resource {a}'s dependencies form a cycle: {a} -> {b} -> {a} (each resource's "
        "parent, provider and dependencies must be registered before it)"
    ]


def test_a_missing_or_later_dependency_or_parent_is_refused() -> None:
    a, b, gone = (f"{URN}test:index:Thing::{n}" for n in ("a", "b", "gone"))
    parent = f"{URN}test:index:Thing::p"
    child = f"{URN}test:index:Thing$test:index:Thing::child"

    def program() -> None:
        register("a", dependencies=(b,))
        register("b")
        register("c", dependencies=(gone,))
        register("child", parent=parent)
        register("p")

    assert refused(program) == [  # by URN
        f"child resource {child}'s parent {parent} comes after it",
        f"resource {a}'s dependency {b} comes after it",
        f"resource {URN}test:index:Thing::c's dependency {gone} refers to missing resource",
    ]


def test_a_parent_cycle_is_found_without_recursion() -> None:
    """A thousand-deep parent chain closed into a loop: found, and by an iterative search."""
    urns = [f"{URN}test:index:Thing::r{i}" for i in range(1000)]
    registrations = [
        Registration(
            urn=urn,
            id=str(i),
            type="test:index:Thing",
            name=f"r{i}",
            custom=True,
            parent=urns[i - 1],  # r0's parent is r999
            provider="",
            inputs={},
            computed={},
            dependencies=[],
            property_dependencies={},
            options={},
        )
        for i, urn in enumerate(urns)
    ]
    (problem,) = integrity_problems(registrations)
    assert isinstance(problem, IntegrityProblem) and problem.urn == urns[0]
    assert problem.message.count(" -> ") == 1000


def test_the_backstop_names_the_config_key_and_exits_2(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the loader's check switched off, the duplicate bucket reaches the engine: its
    URNs are refused, and the message names the keys the resources are named after."""
    monkeypatch.setattr(loader, "_collision_checks", lambda *_: [])
    edit_system(project, lambda c: second(c, "data_buckets"))
    result = CliRunner().invoke(
        cli.app,
        ["check", "-s", "primary", "--project-dir", str(project), "--out", str(project / "out")],
    )
    assert result.exit_code == 2, result.output
    stderr = " ".join(result.stderr.split())
    assert "stack primary: `pulumi preview` would refuse 11 registration(s):" in stderr
    assert (
        "systems/reskflow.yaml: resilience:data_buckets[0].name ('uploads'), "
        "systems/reskflow.yaml: resilience:data_buckets[1].name ('uploads'): Duplicate "
        "resource URN 'urn:pulumi:primary::resilience::resilience:storage:DataBuckets"
        "$resilience:storage:SecureBucket::reskflow-primary-data-uploads'; try giving it a "
        "unique name (and 10 more like it)"
    ) in stderr
    assert "Traceback" not in result.output
