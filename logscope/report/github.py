"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

`::error title=logscope (rule),file=path,line=N::message%0A  advice: ...` — every text from
a log is made one visible line first (`text.safe`), then properties and data are escaped as
@actions/core does, so nothing in a run can start a second command or break the line.
"""

from __future__ import annotations

from logscope.model import Severity
from logscope.report import Document, Layout
from logscope.report.text import github_data, github_property, safe

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(doc: Document, layout: Layout) -> str:
    lines = []
    for report in doc.reports:
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
