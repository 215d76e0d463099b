"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

`::error title=logscope (rule),file=path,line=N::message%0A  advice: ...` — properties and
data are escaped as @actions/core does, so a metric name or message from a log cannot
inject a second command or break the line.
"""

from __future__ import annotations

from logscope.model import Severity
from logscope.rules.engine import RunReport

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(reports: list[RunReport], fail_on: Severity | None, errors: list[str]) -> str:
    lines = []
    for report in reports:
        lines.extend(incident_lines(report))
        for f in report.findings:
            props = {"title": f"logscope ({f.rule})"}
            origin = report.run.origin(f.step)
            if origin:
                props["file"] = origin[0]
                if origin[1] is not None:
                    props["line"] = str(origin[1])
            prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
            data = f"{report.run.path}: {f.message} (step {f.step})\n  advice: {f.advice}"
            lines.append(f"::{LEVEL[f.severity]} {prop_text}::{escape_data(data)}")
    for error in errors:
        lines.append(f"::error title=logscope (unreadable input)::{escape_data(error)}")
    return "\n".join(lines) + ("\n" if lines else "")


VERDICT_LEVEL = {"stop": "error", "watch": "warning", "healthy": "notice"}


def incident_lines(report: RunReport) -> list[str]:
    """The run's verdict first, one annotation holding its incidents (cause, worst, action),
    pointing at the log line where the first one began."""
    from logscope.incidents import assess
    from logscope.report.verdict import steps_text, worst_text

    assessment = assess(report)
    verdict = assessment.verdict
    path = report.run.path
    props = f"title={escape_property(f'logscope verdict ({path}): {verdict.status.upper()}')}"
    first = assessment.incidents[0] if assessment.incidents else None
    origin = report.run.origin(first.first_step) if first else None
    if origin:
        props += f",file={escape_property(origin[0])}"
        if origin[1] is not None:
            props += f",line={origin[1]}"
    data = f"{path}: {verdict.line}"
    for number, incident in enumerate(assessment.incidents, 1):
        data += (
            f"\n  incident {number} ({incident.severity}, {steps_text(incident)}): "
            f"{incident.summary}; likely cause: {incident.cause.message}; "
            f"worst: {worst_text(incident)}; action: {incident.action}"
        )
    return [f"::{VERDICT_LEVEL[verdict.status]} {props}::{escape_data(data)}"]
