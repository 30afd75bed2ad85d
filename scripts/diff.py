"""`resilience diff`: what a change does to the stacks, offline, between two git refs.

Each side is checked out into a temporary git worktree and synthesized there with its own
code and config (`python -m scripts synth` run inside the worktree), so a change to a
component shows exactly as a change to a stack file does. The two sets of graphs are then
compared by URN:

- added / removed resources;
- replaced: a changed property the provider cannot update in place (a bucket's name, a
  database's identifier or encryption, ...: `REPLACE_ON`), which deletes and recreates the
  resource, and for stateful ones loses data;
- changed, with the changed properties;
- policy findings that appear or disappear (every rule, on both sides);
- the change in the recovery numbers (`recovery` outputs: detection time, DR mode,
  capacity, mechanism) and the RTO/RPO targets.

No cloud credentials are needed: this is what reviewers see when no preview can run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.evaluate import evaluate_graph
from scripts import graph as graph_io

WORKTREE = "WORKTREE"  # the working tree as it is, uncommitted changes included
MARKDOWN_LIMIT = 60_000  # GitHub caps a comment at 65,536 characters

# Properties whose change replaces the resource (the provider's ForceNew), for the types the
# bundle creates.
REPLACE_ON: dict[str, frozenset[str]] = {
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    "aws:rds/instance:Instance": frozenset(
        {"identifier", "engine", "kmsKeyId", "storageEncrypted", "availabilityZone", "dbName"}
    ),
    "aws:rds/cluster:Cluster": frozenset(
        {"clusterIdentifier", "engine", "kmsKeyId", "storageEncrypted", "databaseName"}
    ),
    "aws:rds/globalCluster:GlobalCluster": frozenset(
        {"globalClusterIdentifier", "engine", "storageEncrypted"}
    ),
    "aws:kms/key:Key": frozenset({"multiRegion", "customerMasterKeySpec", "keyUsage"}),
    "aws:dynamodb/table:Table": frozenset({"name"}),
    "aws:backup/vault:Vault": frozenset({"name", "kmsKeyArn"}),
    "aws:sns/topic:Topic": frozenset({"name", "fifoTopic"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name"}),
    "aws:cloudwatch/dashboard:Dashboard": frozenset({"dashboardName"}),
    "aws:autoscaling/group:Group": frozenset({"name"}),
    "aws:route53/record:Record": frozenset({"name", "type", "zoneId", "setIdentifier"}),
    "aws:route53/healthCheck:HealthCheck": frozenset({"type", "requestInterval"}),
    "aws:secretsmanager/secret:Secret": frozenset({"name"}),
}


class DiffError(Exception):
    """Bad input (unknown ref, not a git checkout): exit code 2."""


@dataclass
class Side:
    ref: str
    graphs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None  # synthesis failed on this side (e.g. an invalid config)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DiffError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout.strip()


def resolve_ref(repo: Path, ref: str) -> str:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except DiffError:
        raise DiffError(f"unknown git ref '{ref}' in {repo}") from None


@contextmanager
def checkout(repo: Path, ref: str) -> Iterator[Path]:
    """A temporary worktree at `ref` (or the working tree itself)."""
    if ref == WORKTREE:
        yield repo
        return
    commit = resolve_ref(repo, ref)
    with tempfile.TemporaryDirectory(prefix="resilience-diff-") as scratch:
        tree = Path(scratch) / "tree"
        _git(repo, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        try:
            yield tree
        finally:
            _git(repo, "worktree", "remove", "--force", str(tree))


def synthesize(tree: Path, ref: str) -> Side:
    """Every stack of the tree, synthesized with the tree's own code."""
    side = Side(ref)
    with tempfile.TemporaryDirectory(prefix="resilience-graphs-") as out:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        done = subprocess.run(
            [sys.executable, "-m", "scripts", "synth", "--project-dir", str(tree), "--out", out],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
            side.error = "\n".join(lines[-20:]) or f"synth exited {done.returncode}"
            return side
        side.graphs = read_graphs(Path(out))
    return side


def read_graphs(directory: Path) -> dict[str, dict[str, Any]]:
    """Every `<stack>.graph.json` of a directory, by stack."""
    graphs = (graph_io.load(path) for path in sorted(directory.glob("*.graph.json")))
    return {str(graph["stack"]): graph for graph in graphs}


@dataclass
class StackDiff:
    stack: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    replaced: dict[str, list[str]] = field(default_factory=dict)  # urn -> forcing properties
    changed: dict[str, list[str]] = field(default_factory=dict)  # urn -> properties
    new_findings: list[str] = field(default_factory=list)
    fixed_findings: list[str] = field(default_factory=list)
    recovery: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # key -> (base, head)

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.replaced
            or self.changed
            or self.new_findings
            or self.fixed_findings
            or self.recovery
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "added": self.added,
            "removed": self.removed,
            "replaced": self.replaced,
            "changed": self.changed,
            "new_findings": self.new_findings,
            "fixed_findings": self.fixed_findings,
            "recovery": {k: {"base": b, "head": h} for k, (b, h) in self.recovery.items()},
        }


def _by_urn(graph: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in graph.get("resources", []) if r.get("custom", True)}


def _changed_properties(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    keys = set(before) | set(after)
    return sorted(k for k in keys if before.get(k) != after.get(k))


def _findings(graph: Mapping[str, Any]) -> set[str]:
    return {
        f"{f.rule_id} {f.urn.rsplit('::', 1)[-1]}: {f.message}"
        for f in evaluate_graph(graph).findings
    }


RECOVERY_KEYS = (
    "rto_minutes",
    "rpo_minutes",
    "dr_mode",
    "mechanism",
    "detection_seconds",
    "dns_ttl_seconds",
    "capacity",
    "promotion",
)


def compare(
    stack: str, base: Mapping[str, Any] | None, head: Mapping[str, Any] | None
) -> StackDiff:
    diff = StackDiff(stack)
    before = _by_urn(base) if base else {}
    after = _by_urn(head) if head else {}
    diff.added = sorted(set(after) - set(before))
    diff.removed = sorted(set(before) - set(after))
    for urn in sorted(set(before) & set(after)):
        changed = _changed_properties(before[urn].get("inputs", {}), after[urn].get("inputs", {}))
        # Another provider (another region) means a new resource there and the old one gone.
        moved = [
            key for key in ("provider", "region") if before[urn].get(key) != after[urn].get(key)
        ]
        if not changed and not moved:
            continue
        forcing = sorted(set(changed) & REPLACE_ON.get(after[urn]["type"], frozenset()))
        forcing += [f"({key})" for key in moved]
        if forcing:
            diff.replaced[urn] = forcing
        else:
            diff.changed[urn] = changed
    old, new = (_findings(base) if base else set()), (_findings(head) if head else set())
    diff.new_findings = sorted(new - old)
    diff.fixed_findings = sorted(old - new)
    old_recovery = dict((base or {}).get("outputs", {}).get("recovery") or {})
    new_recovery = dict((head or {}).get("outputs", {}).get("recovery") or {})
    for key in RECOVERY_KEYS:
        if old_recovery.get(key) != new_recovery.get(key):
            diff.recovery[key] = (old_recovery.get(key), new_recovery.get(key))
    return diff


@dataclass
class DiffResult:
    base: Side
    head: Side
    stacks: list[StackDiff]

    @property
    def identical(self) -> bool:
        return not self.base.error and not self.head.error and all(s.empty for s in self.stacks)

    def as_json(self) -> dict[str, Any]:
        return {
            "base": {"ref": self.base.ref, "error": self.base.error},
            "head": {"ref": self.head.ref, "error": self.head.error},
            "identical": self.identical,
            "stacks": [s.as_json() for s in self.stacks if not s.empty],
        }


def run_diff(
    repo: Path, base_ref: str, head_ref: str = WORKTREE, cache_dir: Path | None = None
) -> DiffResult:
    """Synthesize both refs and compare. With `cache_dir`, a commit's graphs are kept there
    by commit id and reused (a commit's synthesis never changes)."""
    repo = Path(_git(repo, "rev-parse", "--show-toplevel"))
    commits = {ref: resolve_ref(repo, ref) for ref in (base_ref, head_ref) if ref != WORKTREE}
    sides = []
    for ref in (base_ref, head_ref):
        cached = cache_dir / commits[ref] if cache_dir and ref in commits else None
        if cached is not None and cached.is_dir():
            sides.append(Side(ref, read_graphs(cached)))
            continue
        with checkout(repo, ref) as tree:
            side = synthesize(tree, ref)
        if cached is not None and side.error is None:
            for graph in side.graphs.values():
                graph_io.write(graph, cached)
        sides.append(side)
    base, head = sides
    stacks = sorted(set(base.graphs) | set(head.graphs))
    return DiffResult(
        base, head, [compare(s, base.graphs.get(s), head.graphs.get(s)) for s in stacks]
    )


def _name(urn: str) -> str:
    """`name` (type) of a URN `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>`."""
    parts = urn.split("::")
    return f"`{parts[-1]}` ({parts[-2].rsplit('$', 1)[-1]})"


def markdown(result: DiffResult) -> str:
    """A PR comment: a summary table, then one collapsible section per stack."""
    lines = [f"### resilience diff: `{result.base.ref}` → `{result.head.ref}`", ""]
    for side, label in ((result.base, "base"), (result.head, "head")):
        if side.error:
            lines += [
                f"**{label} ({side.ref}) does not synthesize:**",
                "",
                "```",
                side.error,
                "```",
                "",
            ]
    if result.identical:
        lines.append("No changes to any stack.")
        return "\n".join(lines) + "\n"
    lines += [
        "| stack | added | removed | replaced | changed | new findings | fixed findings |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in result.stacks:
        if s.empty:
            continue
        lines.append(
            f"| {s.stack} | {len(s.added)} | {len(s.removed)} | {len(s.replaced)} | "
            f"{len(s.changed)} | {len(s.new_findings)} | {len(s.fixed_findings)} |"
        )
    lines.append("")
    for s in result.stacks:
        if s.empty:
            continue
        body: list[str] = []
        if s.replaced:
            body += ["**Replaced** (deleted and recreated):", ""]
            body += [f"- {_name(u)}: {', '.join(p)}" for u, p in s.replaced.items()]
            body.append("")
        for title, items in (("Added", s.added), ("Removed", s.removed)):
            if items:
                body += [f"**{title}:**", "", *[f"- {_name(u)}" for u in items], ""]
        if s.changed:
            body += ["**Changed:**", ""]
            body += [f"- {_name(u)}: {', '.join(p)}" for u, p in s.changed.items()]
            body.append("")
        for title, items in (
            ("New findings", s.new_findings),
            ("Fixed findings", s.fixed_findings),
        ):
            if items:
                body += [f"**{title}:**", "", *[f"- {f}" for f in items], ""]
        if s.recovery:
            body += ["**Recovery numbers:**", "", "| | base | head |", "|---|---|---|"]
            body += [
                f"| {k} | `{json.dumps(b, sort_keys=True)}` | `{json.dumps(h, sort_keys=True)}` |"
                for k, (b, h) in s.recovery.items()
            ]
            body.append("")
        lines += [f"<details><summary><b>{s.stack}</b></summary>", "", *body, "</details>", ""]
    text = "\n".join(lines) + "\n"
    if len(text) > MARKDOWN_LIMIT:
        cut = text[:MARKDOWN_LIMIT].rsplit("\n", 1)[0]
        text = cut + "\n\n… truncated: run `resilience diff --format json` for everything.\n"
    return text
