"""checkov's findings in each report format of `resilience check --with-checkov`
(scripts/reports.py calls these): a `checkov` object in findings.json, a section in
compliance.md and compliance.html, a second SARIF run (tool "checkov", rules by CKV id,
excepted findings as suppressed results with their reason), and one JUnit test suite per
stack. Advisory: none of it changes the exit code.
"""

from __future__ import annotations

import html
from typing import Any
from xml.etree import ElementTree as ET

from scripts.checkov import CheckovFinding, CheckovReport

POLICY_INDEX = "https://www.checkov.io/5.Policy%20Index/all.html"


def _where(f: CheckovFinding) -> str:
    return f.urn or f.resource


def to_json(report: CheckovReport) -> dict[str, Any]:
    return {
        "version": report.version,
        "advisory": True,
        "stacks": {
            s.stack: {
                "plan": s.plan_file,
                "manifests": s.manifest_file,
                "resources": s.resources,
                "not_exported": dict(s.unmapped),
                "passed": sum(s.passed.values()),
                "failed": sum(1 for f in report.of(s.stack) if f.excepted is None),
                "excepted": sum(1 for f in report.of(s.stack) if f.excepted is not None),
            }
            for s in report.stacks
        },
        "findings": [f.as_dict() for f in report.open],
        "excepted": [f.as_dict() for f in report.excepted],
    }


def _summary_rows(report: CheckovReport) -> list[tuple[str, str, int, int, int, int, str]]:
    rows = []
    for s in report.stacks:
        mine = report.of(s.stack)
        skipped = ", ".join(f"{t} ({n})" for t, n in s.unmapped.items()) or "none"
        rows.append(
            (
                s.stack,
                s.plan_file + (f", {s.manifest_file}" if s.manifest_file else ""),
                s.resources,
                sum(s.passed.values()),
                sum(1 for f in mine if f.excepted is None),
                sum(1 for f in mine if f.excepted is not None),
                skipped,
            )
        )
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: CheckovReport) -> list[str]:
    lines = [
        f"## checkov {report.version} (advisory)",
        "",
        "A second opinion on the exported plan and manifests; it does not change the exit code.",
        "",
        "| stack | exported | resources | passed | failed | excepted | not exported |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in _summary_rows(report):
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    lines.append("")
    if report.open:
        lines += ["| stack | check | name | resource |", "|---|---|---|---|"]
        for f in report.open:
            lines.append(f"| {f.stack} | {f.check_id} | {_cell(f.check_name)} | `{f.resource}` |")
        lines.append("")
    if report.excepted:
        lines += [
            f"<details><summary>{len(report.excepted)} excepted (reviewed false positives, "
            "policies/checkov-exceptions.yaml)</summary>",
            "",
            "| stack | check | resource | reason |",
            "|---|---|---|---|",
        ]
        for f in report.excepted:
            lines.append(
                f"| {f.stack} | {f.check_id} | `{f.resource}` | {_cell(f.excepted or '')} |"
            )
        lines += ["", "</details>", ""]
    return lines


def to_html(report: CheckovReport) -> list[str]:
    e = html.escape
    parts = [
        f"<h2>checkov {e(report.version)} (advisory)</h2>",
        "<p>A second opinion on the exported plan and manifests; it does not change the "
        "exit code.</p>",
        "<table><tr><th>stack</th><th>exported</th><th>resources</th><th>passed</th>"
        "<th>failed</th><th>excepted</th><th>not exported</th></tr>",
    ]
    for row in _summary_rows(report):
        parts.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>")
    parts.append("</table>")
    if report.open:
        parts.append("<table><tr><th>stack</th><th>check</th><th>name</th><th>resource</th></tr>")
        for f in report.open:
            parts.append(
                f"<tr><td>{e(f.stack)}</td><td>{e(f.check_id)}</td><td>{e(f.check_name)}</td>"
                f"<td><code>{e(_where(f))}</code></td></tr>"
            )
        parts.append("</table>")
    if report.excepted:
        parts.append(f"<h3>Excepted ({len(report.excepted)})</h3>")
        parts.append("<table><tr><th>stack</th><th>check</th><th>resource</th><th>reason</th></tr>")
        for f in report.excepted:
            parts.append(
                f"<tr><td>{e(f.stack)}</td><td>{e(f.check_id)}</td>"
                f"<td><code>{e(_where(f))}</code></td><td>{e(f.excepted or '')}</td></tr>"
            )
        parts.append("</table>")
    return parts


def sarif_run(report: CheckovReport, sources: dict[str, str]) -> dict[str, Any]:
    """checkov as its own SARIF run: excepted findings are suppressed, with the reason."""
    ids = sorted({f.check_id for f in report.findings})
    index = {check: i for i, check in enumerate(ids)}
    rules = [
        {
            "id": check,
            "name": check,
            "shortDescription": {"text": report.check_names.get(check, check)},
            "helpUri": POLICY_INDEX,
            "defaultConfiguration": {"level": "warning"},
            "properties": {"tags": ["checkov", "advisory"]},
        }
        for check in ids
    ]
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.check_id,
            "ruleIndex": index[f.check_id],
            "level": "warning",
            "message": {"text": f"{f.check_name} ({f.resource})"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": sources.get(f.stack, f"Pulumi.{f.stack}.yaml")},
                        "region": {"startLine": 1},
                    },
                    "logicalLocations": [{"fullyQualifiedName": _where(f), "kind": "resource"}],
                }
            ],
            "partialFingerprints": {"checkovFinding/v1": f"{f.stack}:{f.check_id}:{_where(f)}"},
            "properties": {"stack": f.stack, "resource": f.resource, "advisory": True},
        }
        if f.excepted is not None:
            result["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": f.excepted}
            ]
        results.append(result)
    return {
        "tool": {
            "driver": {
                "name": "checkov",
                "version": report.version,
                "informationUri": "https://www.checkov.io/",
                "rules": rules,
            }
        },
        "results": results,
    }


def junit_suites(report: CheckovReport, parent: ET.Element) -> tuple[int, int]:
    """One suite `checkov <stack>` per stack, one case per check that ran there: failed
    with its resources, skipped when every failure is excepted (the reasons as message),
    passed otherwise. Returns (tests, failures)."""
    total = failures = 0
    for stack in report.stacks:
        suite = ET.SubElement(parent, "testsuite", name=f"checkov {stack.stack}")
        mine = report.of(stack.stack)
        checks = sorted({*stack.passed, *(f.check_id for f in mine)})
        fails = skipped = 0
        for check in checks:
            case = ET.SubElement(suite, "testcase", classname=f"checkov.{stack.stack}", name=check)
            failed = [f for f in mine if f.check_id == check]
            open_ = [f for f in failed if f.excepted is None]
            if open_:
                fails += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=f"{report.check_names.get(check, check)}: {len(open_)} resource(s)",
                    type="advisory",
                )
                failure.text = "\n".join(_where(f) for f in open_)
            elif failed:
                skipped += 1
                reasons = sorted({f.excepted or "" for f in failed})
                ET.SubElement(case, "skipped", message="excepted: " + " / ".join(reasons))
        suite.set("tests", str(len(checks)))
        suite.set("failures", str(fails))
        suite.set("skipped", str(skipped))
        suite.set("errors", "0")
        total += len(checks)
        failures += fails
    return total, failures
