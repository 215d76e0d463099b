"""`--format junit`: JUnit XML for GitLab, Jenkins and GitHub test reporters.

Each run is a <testsuite>; each rule evaluated on it a <testcase> that fails when the rule
found something at or above --fail-on (lower findings go to <system-out>); a rule that could
not apply is <skipped> with the reason; an input that could not be read is an <error>.

XML 1.0 cannot hold most control characters at all (not even as `&#1;`): every text from a
log goes through `text.safe` first, so a NUL or ESC in a name is `\\x00`, never invalid XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from logscope.model import Finding, Severity
from logscope.outcome import RunReport
from logscope.report import Document, Layout
from logscope.report.text import safe


def render(doc: Document, layout: Layout) -> str:
    root = ET.Element("testsuites", name="logscope")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for report in doc.reports:
        suite = _suite(report, doc.fail_on)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        root.append(suite)
    for error in map(safe, doc.errors):
        path = error.split(": ", 1)[0]
        suite = ET.SubElement(
            root, "testsuite", name=path, tests="1", failures="0", errors="1", skipped="0"
        )
        case = ET.SubElement(suite, "testcase", name="read logs", classname=path)
        ET.SubElement(case, "error", message=error, type="unreadable")
        totals["tests"] += 1
        totals["errors"] += 1
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(report: RunReport, fail_on: Severity | None) -> ET.Element:
    from logscope.incidents import assess

    run = report.run
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_rule[finding.rule].append(finding)
    path = safe(run.path)
    suite = ET.Element("testsuite", name=path)
    properties = ET.SubElement(suite, "properties")
    steps = run.steps
    for name, value in (
        ("packs", ",".join(report.packs)),
        ("steps", f"{steps['first']}-{steps['last']} ({steps['count']} logged)"),
        ("sources", ",".join(s.path for s in run.sources)),
        ("verdict", assess(report).verdict.line),
    ):
        ET.SubElement(properties, "property", name=name, value=safe(value))
    failures = 0
    for rule in report.rules:
        case = ET.SubElement(suite, "testcase", name=safe(rule), classname=path)
        findings = by_rule.get(rule, [])
        failing = [f for f in findings if fail_on and f.severity.rank >= fail_on.rank]
        if failing:
            failures += 1
            first = failing[0]
            failure = ET.SubElement(
                case, "failure", message=safe(first.message), type=str(first.severity)
            )
            failure.text = "\n\n".join(_describe(f) for f in failing)
        quiet = [f for f in findings if f not in failing]
        if quiet:
            ET.SubElement(case, "system-out").text = "\n\n".join(_describe(f) for f in quiet)
    for skipped in report.skipped:
        case = ET.SubElement(suite, "testcase", name=safe(skipped.rule), classname=path)
        ET.SubElement(case, "skipped", message=safe(skipped.reason))
    suite.set("tests", str(len(report.rules) + len(report.skipped)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(len(report.skipped)))
    return suite


def _describe(f: Finding) -> str:
    where = f"step {f.step}" if f.last_step in (None, f.step) else f"steps {f.step}-{f.last_step}"
    return (
        f"[{f.severity}] {safe(f.metric)} at {where}: {safe(f.message)}\n"
        f"advice: {safe(f.advice)}\nsource: {safe(f.source)}"
    )
