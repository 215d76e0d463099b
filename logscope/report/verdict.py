"""The verdict line and the incidents, as every human report shows them (same words).

Plain-text helpers (`symptom_text`, `worst_text`) serve Markdown, GitHub and HTML; the
Rich renderables serve the terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from logscope.incidents import Assessment, Incident, Verdict, onset
from logscope.model import Finding, Severity
from logscope.report.text import safe

if TYPE_CHECKING:
    from logscope.outcome import RunReport

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
VERDICT_STYLE = {"stop": "bold red", "watch": "bold yellow", "healthy": "bold green"}


def verdict_text(verdict: Verdict) -> Text:
    """`STOP  <reason>. <action>` under the run's name."""
    line = Text()
    line.append(f"{verdict.status.upper():<8}", style=VERDICT_STYLE[verdict.status])
    line.append(safe(f"{verdict.reason}. {verdict.action}"))
    return line


def symptom_text(f: Finding) -> str:
    return f"step {onset(f)}: {f.metric} ({f.rule}, {f.severity})"


def worst_text(incident: Incident) -> str:
    value = incident.worst_value
    shown = "" if value is None else f"{value:.4g}"
    return f"{incident.worst.metric} {shown} at step {incident.worst_step}"


def steps_text(incident: Incident) -> str:
    first, last = incident.first_step, incident.last_step
    return f"step {first}" if last in (None, first) else f"steps {first}–{last}"


def incidents_table(incidents: tuple[Incident, ...]) -> Table:
    """One block per incident: headline, likely cause, symptoms in order, worst, action."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for number, incident in enumerate(incidents, 1):
        head = Text()
        head.append(f"incident {number}", style="bold")
        head.append(f"  {steps_text(incident)}  ")
        head.append(safe(incident.summary))
        label = f"{str(incident.severity).upper():<7}"
        table.add_row(Text(label, style=STYLE[incident.severity]), head)
        cause = incident.cause
        table.add_row("", Text(safe(f"likely cause: {cause.message}")))
        symptoms = "; ".join(symptom_text(f) for f in incident.symptoms)
        table.add_row("", Text(safe(f"symptoms in order: {symptoms}"), style="dim"))
        table.add_row("", Text(safe(f"worst: {worst_text(incident)}"), style="dim"))
        table.add_row("", Text(f"→ {safe(incident.action)}", style="bold"))
    return table


def quiet_lines(report: RunReport, assessment: Assessment) -> list[Text]:
    """`-q`: `<run>: <severity> <rule> step <N>: <message>`, one line per incident (rule
    `incident`) and per finding; nothing else, so `grep` gets whole lines."""
    run = safe(report.run.path)
    lines = []
    for incident in assessment.incidents:
        line = Text(f"{run}: ")
        line.append(str(incident.severity), style=STYLE[incident.severity])
        line.append(
            safe(
                f" incident step {incident.first_step}: {incident.summary}; "
                f"cause {incident.cause.rule}; worst {worst_text(incident)}; {incident.action}"
            )
        )
        lines.append(line)
    for f in report.findings:
        line = Text(f"{run}: ")
        line.append(str(f.severity), style=STYLE[f.severity])
        line.append(safe(f" {f.rule} step {f.step}: {f.message}"))
        lines.append(line)
    return lines
