"""Compliance reports of `resilience check`, all from the same evaluation: JSON (everything),
Markdown (a PR comment or a wiki page), HTML (one self-contained file for an auditor),
SARIF 2.1.0 (GitHub code scanning) and JUnit XML (CI test reports).

Every report has the per-stack summary, the per-framework matrix (each control of each
framework a rule maps to: pass, fail or not applicable per stack, like Prowler's framework
files) and every finding with its resource, rule, severity, enforcement and remediation.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from policies.evaluate import AnyRule
from policies.rules.core import Enforcement, Finding, Severity
from scripts import checkov_report
from scripts.checkov import CheckovReport

FORMATS = ("json", "md", "html", "sarif", "junit")
FILES = {
    "json": "findings.json",
    "md": "compliance.md",
    "html": "compliance.html",
    "sarif": "findings.sarif",
    "junit": "junit.xml",
}
SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
}
# GitHub ranks code-scanning alerts by this property (CVSS-like, 0-10).
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}


@dataclass(frozen=True)
class StackResult:
    stack: str
    source: str  # the stack file
    resources: int
    checked: Mapping[str, int]  # rule id -> resources it applied to


@dataclass(frozen=True)
class Report:
    stacks: Sequence[StackResult]
    rules: Sequence[AnyRule]
    findings: Sequence[Finding]
    checkov: CheckovReport | None = None  # --with-checkov: advisory, never the exit code

    def findings_of(self, stack: str, rule_ids: Iterable[str]) -> list[Finding]:
        wanted = set(rule_ids)
        return [f for f in self.findings if f.stack == stack and f.rule_id in wanted]

    def matrix(self) -> dict[str, dict[str, dict[str, str]]]:
        """framework -> control -> stack -> pass | fail | n/a."""
        controls: dict[str, dict[str, list[str]]] = {}
        for rule in self.rules:
            for framework in rule.frameworks:
                controls.setdefault(framework.name, {}).setdefault(framework.control, []).append(
                    rule.id
                )
        out: dict[str, dict[str, dict[str, str]]] = {}
        for name in sorted(controls):
            out[name] = {}
            for control in sorted(controls[name]):
                rule_ids = controls[name][control]
                out[name][control] = {}
                for stack in self.stacks:
                    applied = sum(stack.checked.get(r, 0) for r in rule_ids)
                    failed = self.findings_of(stack.stack, rule_ids)
                    status = "fail" if failed else ("pass" if applied else "n/a")
                    out[name][control][stack.stack] = status
        return out

    def counts(self, stack: str) -> tuple[int, int]:
        """(findings, mandatory findings) of a stack."""
        mine = [f for f in self.findings if f.stack == stack]
        return len(mine), sum(1 for f in mine if f.enforcement is Enforcement.MANDATORY)

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.enforcement is Enforcement.MANDATORY]


# -- JSON --------------------------------------------------------------------------------


def to_json(report: Report) -> str:
    document = {
        "stacks": {s.stack: {"source": s.source, "resources": s.resources} for s in report.stacks},
        "rules": [r.id for r in report.rules],
        "findings": [f.as_dict() for f in report.findings],
        "frameworks": report.matrix(),
        "mandatory_violations": len(report.mandatory),
    }
    if report.checkov is not None:
        document["checkov"] = checkov_report.to_json(report.checkov)
    return json.dumps(document, indent=2) + "\n"


# -- Markdown ----------------------------------------------------------------------------

_MARK = {"pass": "✅ pass", "fail": "❌ fail", "n/a": "— n/a"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Report) -> str:
    stacks = [s.stack for s in report.stacks]
    lines = ["# Compliance report", ""]
    lines += ["| stack | file | resources | findings | mandatory |", "|---|---|---|---|---|"]
    for s in report.stacks:
        found, mandatory = report.counts(s.stack)
        lines.append(f"| {s.stack} | {s.source} | {s.resources} | {found} | {mandatory} |")
    lines += ["", f"{len(report.rules)} rules; {len(report.findings)} findings.", ""]
    for framework, controls in report.matrix().items():
        lines += [f"<details><summary><b>{framework}</b></summary>", ""]
        lines += ["| control | " + " | ".join(stacks) + " |", "|---|" + "---|" * len(stacks)]
        for control, by_stack in controls.items():
            lines.append(f"| {control} | " + " | ".join(_MARK[by_stack[s]] for s in stacks) + " |")
        lines += ["", "</details>", ""]
    if report.findings:
        lines += [
            "## Findings",
            "",
            "| stack | rule | severity | enforcement | resource | message | remediation |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in report.findings:
            lines.append(
                f"| {f.stack} | {f.rule_id} | {f.severity.value} | {f.enforcement.value} | "
                f"`{f.urn.rsplit('::', 1)[-1]}` | {_cell(f.message)} | {_cell(f.remediation)} |"
            )
    if report.checkov is not None:
        lines += ["", *checkov_report.to_markdown(report.checkov)]
    return "\n".join(lines) + "\n"


# -- HTML --------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1f2328}
table{border-collapse:collapse;margin:0 0 1.5rem}th,td{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f6f8fa}.pass{color:#1a7f37}.fail{color:#cf222e;
font-weight:600}.na{color:#6e7781}code{font-size:12px}h2{margin-top:2rem}
"""


def to_html(report: Report) -> str:
    e = html.escape
    stacks = [s.stack for s in report.stacks]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>Compliance report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Compliance report</h1>",
        "<table><tr><th>stack</th><th>file</th><th>resources</th><th>findings</th>"
        "<th>mandatory</th></tr>",
    ]
    for s in report.stacks:
        found, mandatory = report.counts(s.stack)
        parts.append(
            f"<tr><td>{e(s.stack)}</td><td>{e(s.source)}</td><td>{s.resources}</td>"
            f"<td>{found}</td><td>{mandatory}</td></tr>"
        )
    parts.append("</table>")
    for framework, controls in report.matrix().items():
        parts.append(f"<h2>{e(framework)}</h2><table><tr><th>control</th>")
        parts += [f"<th>{e(name)}</th>" for name in stacks]
        parts.append("</tr>")
        for control, by_stack in controls.items():
            parts.append(f"<tr><td>{e(control)}</td>")
            for name in stacks:
                status = by_stack[name]
                css = "na" if status == "n/a" else status
                parts.append(f'<td class="{css}">{e(status)}</td>')
            parts.append("</tr>")
        parts.append("</table>")
    parts.append(f"<h2>Findings ({len(report.findings)})</h2>")
    if report.findings:
        parts.append(
            "<table><tr><th>stack</th><th>rule</th><th>severity</th><th>enforcement</th>"
            "<th>resource</th><th>message</th><th>remediation</th></tr>"
        )
        for f in report.findings:
            parts.append(
                f"<tr><td>{e(f.stack)}</td><td>{e(f.rule_id)}</td><td>{e(f.severity.value)}</td>"
                f"<td>{e(f.enforcement.value)}</td><td><code>{e(f.urn)}</code></td>"
                f"<td>{e(f.message)}</td><td>{e(f.remediation)}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No findings.</p>")
    if report.checkov is not None:
        parts += checkov_report.to_html(report.checkov)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- SARIF -------------------------------------------------------------------------------


def to_sarif(report: Report) -> str:
    """SARIF 2.1.0 as GitHub code scanning reads it: one result per finding, located in the
    stack file that declares the stack, with the resource URN as logical location."""
    sources = {s.stack: s.source for s in report.stacks}
    rule_index = {rule.id: i for i, rule in enumerate(report.rules)}
    rules = [
        {
            "id": rule.id,
            "name": rule.id,
            "shortDescription": {"text": rule.description},
            "fullDescription": {"text": f"{rule.description} Remediation: {rule.remediation}"},
            "helpUri": rule.url,
            "help": {"text": rule.remediation},
            "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
            "properties": {
                "tags": sorted({f"{f.name} {f.control}" for f in rule.frameworks}),
                "security-severity": SECURITY_SEVERITY[rule.severity],
            },
        }
        for rule in report.rules
    ]
    results = [
        {
            "ruleId": f.rule_id,
            "ruleIndex": rule_index[f.rule_id],
            "level": SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.message}. {f.remediation}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": sources.get(f.stack, f"Pulumi.{f.stack}.yaml")},
                        "region": {"startLine": 1},
                    },
                    "logicalLocations": [{"fullyQualifiedName": f.urn, "kind": "resource"}],
                }
            ],
            "partialFingerprints": {"resilienceFinding/v1": f"{f.stack}:{f.rule_id}:{f.urn}"},
            "properties": {"stack": f.stack, "enforcement": f.enforcement.value},
        }
        for f in report.findings
    ]
    document: dict[str, Any] = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "resilience",
                        "informationUri": "https://github.com/",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    if report.checkov is not None:
        document["runs"].append(checkov_report.sarif_run(report.checkov, sources))
    return json.dumps(document, indent=2) + "\n"


# -- JUnit -------------------------------------------------------------------------------


def to_junit(report: Report) -> str:
    """One test suite per stack, one test case per rule that applied to a resource of it;
    a case fails with every finding of its rule (skipped when the rule checked nothing)."""
    suites = ET.Element("testsuites", name="resilience check")
    total = failures = 0
    for stack in report.stacks:
        suite = ET.SubElement(suites, "testsuite", name=stack.stack)
        cases = fails = skipped = 0
        for rule in report.rules:
            case = ET.SubElement(
                suite, "testcase", classname=f"{stack.stack}.{rule.severity.value}", name=rule.id
            )
            cases += 1
            found = report.findings_of(stack.stack, [rule.id])
            if found:
                fails += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=f"{len(found)} finding(s)",
                    type=found[0].enforcement.value,
                )
                failure.text = "\n".join(f"{f.urn}: {f.message}" for f in found)
            elif not stack.checked.get(rule.id):
                skipped += 1
                ET.SubElement(case, "skipped", message="no resource of this rule's types")
        suite.set("tests", str(cases))
        suite.set("failures", str(fails))
        suite.set("skipped", str(skipped))
        suite.set("errors", "0")
        total += cases
        failures += fails
    if report.checkov is not None:
        extra_tests, extra_failures = checkov_report.junit_suites(report.checkov, suites)
        total, failures = total + extra_tests, failures + extra_failures
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


RENDER = {
    "json": to_json,
    "md": to_markdown,
    "html": to_html,
    "sarif": to_sarif,
    "junit": to_junit,
}
