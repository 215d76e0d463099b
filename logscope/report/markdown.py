"""`--format markdown`: a summary ready for a pull-request comment or $GITHUB_STEP_SUMMARY.

Text from logs is escaped (controls, pipes, backticks, HTML), since GitHub renders Markdown
and HTML.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from logscope.model import Severity
from logscope.outcome import RunReport
from logscope.report import Document, Layout
from logscope.report.json import run_status
from logscope.report.text import markdown_cell as cell
from logscope.report.text import markdown_code as code

ICON = {"pass": "✅", "fail": "❌", "error": "⛔"}
BADGE = {Severity.ERROR: "🔴 error", Severity.WARNING: "🟠 warning", Severity.INFO: "🔵 info"}


def render(doc: Document, layout: Layout) -> str:
    reports, fail_on = doc.reports, doc.fail_on
    out = ["## logscope", ""]
    out += [
        "| run | status | errors | warnings | info | worst finding |",
        "|---|---|---:|---:|---:|---|",
    ]
    for report in reports:
        status = run_status(report, fail_on)
        counts = Counter(f.severity for f in report.findings)
        worst = report.findings[0] if report.findings else None
        worst_text = f"{code(worst.rule)} at step {worst.step}" if worst else "—"
        out.append(
            f"| {cell(report.run.path)} | {ICON[status]} {status} | {counts[Severity.ERROR]} "
            f"| {counts[Severity.WARNING]} | {counts[Severity.INFO]} | {worst_text} |"
        )
    for error in doc.errors:
        out.append(f"| {cell(error.split(': ', 1)[0])} | ⛔ unreadable | | | | {cell(error)} |")
    out += verdicts(reports)
    for report in reports:
        if not report.findings:
            continue
        out += [
            "",
            f"### {cell(report.run.path)}",
            "",
            "| severity | rule | metric | step | value | message |",
            "|---|---|---|---:|---:|---|",
        ]
        for f in report.findings:
            value = "" if f.value is None else f"{f.value:.4g}"
            out.append(
                f"| {BADGE[f.severity]} | {code(f.rule)} | {cell(f.metric)} | "
                f"{f.step} | {value} | {cell(f.message)} |"
            )
        advice = {f.rule: f.advice for f in report.findings}
        out += ["", "<details><summary>What to do</summary>", ""]
        out += [f"- {code(rule)}: {cell(text)}" for rule, text in advice.items()]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


VERDICT_ICON = {"stop": "🛑", "watch": "👀", "healthy": "✅"}


def verdicts(reports: Sequence[RunReport]) -> list[str]:
    """Per run: the verdict line, then each incident (cause, symptoms in order, worst, action)."""
    from logscope.incidents import assess
    from logscope.report.verdict import steps_text, symptom_text, worst_text

    out: list[str] = []
    for report in reports:
        assessment = assess(report)
        verdict = assessment.verdict
        out += [
            "",
            f"**{cell(report.run.path)}: {VERDICT_ICON[verdict.status]} "
            f"{verdict.status.upper()}** — {cell(verdict.reason)}. {cell(verdict.action)}",
        ]
        for number, incident in enumerate(assessment.incidents, 1):
            symptoms = "; ".join(symptom_text(f) for f in incident.symptoms)
            out += [
                "",
                f"- **Incident {number}** ({BADGE[incident.severity]}, {steps_text(incident)}): "
                f"{cell(incident.summary)}",
                f"  - likely cause: {cell(incident.cause.message)}",
                f"  - symptoms in order: {cell(symptoms)}",
                f"  - worst: {cell(worst_text(incident))}",
                f"  - **action**: {cell(incident.action)}",
            ]
    return out
