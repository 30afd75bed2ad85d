"""Markdown the CI workflows post: the pull request comment and the drift issue.

Standard library only: the posting jobs run it with the runner's python3, without the
project's environment. Its inputs are files the other jobs uploaded as artifacts; a missing
file is said in the text, never an error (a fork's pull request has no previews, a failed
job leaves no report).

  pr-comment   (.github/workflows/pull-request.yml)
    PREVIEW_DIR/<stack>.txt, <stack>.outcome   the official Pulumi action's preview output
                                               and that step's outcome
    REPORTS_DIR/compliance.md, diff.md         `resilience check` / `resilience diff`
    REPORTS_DIR/check.outcome, diff.outcome
  drift-issue  (.github/workflows/drift.yml)
    DRIFT_DIR/<stack>/{refresh,preview}.{txt,outcome}
    exit code 1 when a stack drifted (or its check failed), 0 when every check was clean

The text starts with a hidden marker, which is how the workflows find the comment or issue
to update. GitHub refuses bodies over 65,536 characters: sections share LIMIT, and one over
its share is cut at a line (command output keeps its end, where Pulumi prints policy
violations and the summary; reports keep their start), naming the artifact with the whole.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PR_MARKER = "<!-- resilience-ci:pull-request -->"
DRIFT_MARKER = "<!-- resilience-ci:drift -->"
DRIFT_TITLE = "Infrastructure drift in the resilience stacks"
LIMIT = 65_000
PR_ARTIFACT = "pull-request-reports"
DRIFT_ARTIFACT = "drift-<stack>"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_OUTCOMES = {
    "success": "✅ passed",
    "failure": "❌ failed",
    "cancelled": "⚪ cancelled",
    "skipped": "⏭️ skipped",
}
# Room for a section's heading, fences and truncation note (asked for: 400, used: < 200).
_SECTION_OVERHEAD = 400
_RENDER_OVERHEAD = 200


@dataclass(frozen=True)
class Section:
    title: str
    body: str
    keep: str = "head"  # "head": cut the end; "tail": cut the start
    code: bool = False  # plain text, shown in a code block


def outcome_label(outcome: str | None) -> str:
    if outcome is None:
        return "— not run"
    return _OUTCOMES.get(outcome, outcome)


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run inside the text."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def truncate(text: str, budget: int, keep: str) -> tuple[str, bool]:
    """Cut text to about budget characters at a line boundary; True if it was cut."""
    if len(text) <= budget:
        return text, False
    if budget <= 0:
        return "", True
    if keep == "tail":
        cut = text[len(text) - budget :]
        newline = cut.find("\n")
        return (cut[newline + 1 :] if newline != -1 else cut), True
    # Close what the cut left open, so what follows still renders; the closers count too.
    room = budget
    while room > 0:
        cut = text[:room]
        newline = cut.rfind("\n")
        cut = cut[:newline] if newline != -1 else cut
        closers = "\n```" if cut.count("```") % 2 else ""
        opened = len(re.findall(r"<details\b", cut)) - cut.count("</details>")
        closers += "\n</details>" * max(opened, 0)
        if len(cut) + len(closers) <= budget:
            return cut + closers, True
        room -= len(cut) + len(closers) - budget
    return "", True


def demote(markdown: str, levels: int = 3) -> str:
    """Headings of an embedded report moved below the section's own (### ...), fences kept."""
    lines = []
    fence = ""
    for line in markdown.splitlines():
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
        elif stripped.startswith("```"):
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
        elif match := re.match(r"(#{1,6}) ", line):
            hashes = match.group(1)
            lines.append("#" * min(6, len(hashes) + levels) + line[len(hashes) :])
            continue
        lines.append(line)
    return "\n".join(lines)


def allot(sizes: Sequence[int], budget: int) -> list[int]:
    """Share budget among sections: the small ones whole, the rest split what is left."""
    shares = [0] * len(sizes)
    pending = sorted(range(len(sizes)), key=lambda i: sizes[i])
    left = budget
    while pending:
        fair = left // len(pending)
        smallest = pending[0]
        if sizes[smallest] <= fair:
            shares[smallest] = sizes[smallest]
            left -= sizes[smallest]
            pending.pop(0)
            continue
        for index in pending:
            shares[index] = fair
        break
    return shares


def render(section: Section, budget: int, artifact: str) -> str:
    body, cut = truncate(section.body.rstrip("\n"), budget - _RENDER_OVERHEAD, section.keep)
    parts = [f"### {section.title}", ""]
    if section.code:
        fence = fence_for(body)
        parts += [fence, body, fence]
    else:
        parts.append(demote(body))
    if cut:
        where = "start" if section.keep == "tail" else "end"
        parts += ["", f"_Cut at the {where}: the whole text is in the `{artifact}` artifact._"]
    return "\n".join(parts)


def assemble(head: str, sections: Sequence[Section], artifact: str, limit: int) -> str:
    budgets = allot([len(s.body) + _SECTION_OVERHEAD for s in sections], limit - len(head))
    rendered = (render(s, b, artifact) for s, b in zip(sections, budgets, strict=True))
    return "\n\n".join([head, *rendered]) + "\n"


def read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def read_outcome(path: Path) -> str | None:
    text = read(path)
    return text.strip() or None if text is not None else None


def pr_comment(
    *,
    stacks: Sequence[str],
    preview_dir: Path,
    reports_dir: Path,
    sha: str,
    run_url: str,
    previews_note: str = "",
    limit: int = LIMIT,
) -> str:
    previews: list[Section] = []
    rows = ["| stack | `pulumi preview` with the policy pack |", "|---|---|"]
    for stack in stacks:
        outcome = read_outcome(preview_dir / f"{stack}.outcome")
        rows.append(f"| {stack} | {outcome_label(outcome)} |")
        output = read(preview_dir / f"{stack}.txt")
        if output is not None:
            previews.append(
                Section(f"Preview: {stack}", _ANSI.sub("", output), keep="tail", code=True)
            )
        elif outcome in ("success", "failure"):
            previews.append(Section(f"Preview: {stack}", "_No output captured: see the run._"))
    check = outcome_label(read_outcome(reports_dir / "check.outcome"))
    diff = outcome_label(read_outcome(reports_dir / "diff.outcome"))
    header = [
        PR_MARKER,
        "## Resilience bundle",
        "",
        f"Commit `{sha[:12]}` · [workflow run]({run_url}) · "
        f"compliance {check} · structural diff {diff}",
        "",
        *rows,
    ]
    if previews_note:
        header += ["", previews_note]
    sections = [
        *previews,
        Section(
            "Compliance (`resilience check`)",
            read(reports_dir / "compliance.md") or "_No compliance report: see the run._",
        ),
        Section(
            "Structural diff (`resilience diff`, offline)",
            read(reports_dir / "diff.md") or "_No structural diff: see the run._",
        ),
    ]
    return assemble("\n".join(header), sections, PR_ARTIFACT, limit)


_DRIFT_CHECKS = (
    ("refresh", "`pulumi refresh --preview-only --expect-no-changes`"),
    ("preview", "`pulumi preview --expect-no-changes` with the policy pack"),
)


def drift_issue(
    *, stacks: Sequence[str], drift_dir: Path, run_url: str, limit: int = LIMIT
) -> tuple[str, bool]:
    """The issue text and whether any stack drifted (or could not be checked)."""
    rows = ["| stack | " + " | ".join(label for _, label in _DRIFT_CHECKS) + " |"]
    rows.append("|---" * (len(_DRIFT_CHECKS) + 1) + "|")
    sections: list[Section] = []
    drifted = False
    for stack in stacks:
        cells = []
        for check, _ in _DRIFT_CHECKS:
            outcome = read_outcome(drift_dir / stack / f"{check}.outcome")
            if outcome != "success":
                drifted = True
                output = read(drift_dir / stack / f"{check}.txt")
                sections.append(
                    Section(
                        f"{stack}: {check}",
                        _ANSI.sub("", output) if output else "(no output captured)",
                        keep="tail",
                        code=True,
                    )
                )
            cells.append("✅ no changes" if outcome == "success" else f"⚠️ {outcome_label(outcome)}")
        rows.append(f"| {stack} | " + " | ".join(cells) + " |")
    header = [
        DRIFT_MARKER,
        f"Scheduled drift detection ([workflow run]({run_url})).",
        "",
        *rows,
        "",
        "A failed check means the deployed infrastructure differs from the state (refresh) or "
        "from the program on the default branch (preview), or that the check itself could not "
        "run: its output below says which. Reconcile with a reviewed change (or `pulumi "
        "refresh` after a deliberate out-of-band change); this issue is updated while the "
        "drift persists.",
    ]
    return assemble("\n".join(header), sections, DRIFT_ARTIFACT, limit), drifted


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Markdown the CI workflows post.")
    commands = parser.add_subparsers(dest="command", required=True)
    pr = commands.add_parser("pr-comment")
    pr.add_argument("--stacks", default="primary,dr")
    pr.add_argument("--preview-dir", type=Path, required=True)
    pr.add_argument("--reports-dir", type=Path, required=True)
    pr.add_argument("--sha", required=True)
    pr.add_argument("--run-url", required=True)
    pr.add_argument("--previews-note", default="")
    pr.add_argument("--output", type=Path, required=True)
    drift = commands.add_parser("drift-issue")
    drift.add_argument("--stacks", default="primary,dr")
    drift.add_argument("--drift-dir", type=Path, required=True)
    drift.add_argument("--run-url", required=True)
    drift.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    stacks = [s for s in args.stacks.split(",") if s]
    if args.command == "pr-comment":
        text = pr_comment(
            stacks=stacks,
            preview_dir=args.preview_dir,
            reports_dir=args.reports_dir,
            sha=args.sha,
            run_url=args.run_url,
            previews_note=args.previews_note,
        )
        args.output.write_text(text, encoding="utf-8")
        return 0
    text, drifted = drift_issue(stacks=stacks, drift_dir=args.drift_dir, run_url=args.run_url)
    args.output.write_text(text, encoding="utf-8")
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
