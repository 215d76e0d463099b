"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

`::error title=logscope (rule),file=path,line=N::message%0A  advice: ...` — every text from
a log is made one visible line first (`text.safe`), then properties and data are escaped as
@actions/core does, so nothing in a run can start a second command or break the line.
"""

from __future__ import annotations

from logscope.model import Severity
from logscope.outcome import RunReport
from logscope.report import Document, Layout
from logscope.report.text import github_data, github_property, safe

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(doc: Document, layout: Layout) -> str:
    lines = []
    for report in doc.reports:
        lines.extend(incident_lines(report))
        for f in report.findings:
            props = {"title": f"logscope ({f.rule})"}
            origin = report.run.origin(f.step)
            if origin:
                props["file"] = origin[0]
                if origin[1] is not None:
                    props["line"] = str(origin[1])
            prop_text = ",".join(f"{k}={github_property(v)}" for k, v in props.items())
            data = (
                f"{safe(report.run.path)}: {safe(f.message)} (step {f.step})\n"
                f"  advice: {safe(f.advice)}"
            )
            lines.append(f"::{LEVEL[f.severity]} {prop_text}::{github_data(data)}")
    for error in doc.errors:
        lines.append(f"::error title=logscope (unreadable input)::{github_data(safe(error))}")
    return "\n".join(lines) + ("\n" if lines else "")


VERDICT_LEVEL = {"stop": "error", "watch": "warning", "healthy": "notice"}


def incident_lines(report: RunReport) -> list[str]:
    """The run's verdict first, one annotation holding its incidents (cause, worst, action),
    pointing at the log line where the first one began."""
    from logscope.incidents import assess
    from logscope.report.verdict import steps_text, worst_text

    assessment = assess(report)
    verdict = assessment.verdict
    path = safe(report.run.path)
    props = f"title={github_property(f'logscope verdict ({path}): {verdict.status.upper()}')}"
    first = assessment.incidents[0] if assessment.incidents else None
    origin = report.run.origin(first.first_step) if first else None
    if origin:
        props += f",file={github_property(origin[0])}"
        if origin[1] is not None:
            props += f",line={origin[1]}"
    data = f"{path}: {safe(verdict.line)}"
    for number, incident in enumerate(assessment.incidents, 1):
        data += (
            f"\n  incident {number} ({incident.severity}, {steps_text(incident)}): "
            f"{safe(incident.summary)}; likely cause: {safe(incident.cause.message)}; "
            f"worst: {safe(worst_text(incident))}; action: {safe(incident.action)}"
        )
    return [f"::{VERDICT_LEVEL[verdict.status]} {props}::{github_data(data)}"]
