"""The sections of the HTML report, each under a title that says what it holds.

Runs are shown by their short names (names.py) with the full path, and the tracker's run id,
in a tooltip. Ingest problems (lines and records that could not be read) and reader notes
(what the readers noticed that is expected or informational: a resume, a W&B export's
MIN/MAX columns, a run still running) are separate sections: one means data may be missing,
the other does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from logscope.report.json import run_status
from logscope.report.plots import FINDINGS_GROUP, OTHER_GROUP, SEVERITY_COLOR, Plot
from logscope.report.text import html_text as _esc

if TYPE_CHECKING:
    from logscope.model import Finding, Severity
    from logscope.outcome import RunReport
    from logscope.report.names import RunName
    from logscope.rules.spec import Pack

LISTED = 50  # items listed per run in the problems and notes sections


def run_cell(name: RunName, tag: str = "td") -> str:
    """A run's short name, never wrapped, its path (and run id) on hover."""
    return f"<{tag} class=run title='{_esc(name.tooltip)}'>{_esc(name.short)}</{tag}>"


def runs(reports: list[RunReport], names: list[RunName], fail_on: Severity | None) -> str:
    rows = []
    for report, name in zip(reports, names, strict=True):
        run = report.run
        status = run_status(report, fail_on)
        steps = run.steps
        span = (
            f"{steps['first']:,}–{steps['last']:,} ({steps['count']:,} logged)"
            if steps["count"]
            else "none"
        )
        sources = "<br>".join(
            f"<code title='{_esc(s.path)}'>{_esc(relative(s.path, run.path))}</code> "
            f"<span class=muted>({_esc(s.format)}, {s.rows} rows)</span>"
            for s in run.sources
        )
        problems, notes = len(_problems(report)), len(_notes(report))
        rows.append(
            f"<tr>{run_cell(name)}"
            f"<td class='status {status}'>{status}</td><td class=num>{_esc(span)}</td>"
            f"<td class=num>{len(run.metrics)}</td><td>{_esc(', '.join(report.packs))}</td>"
            f"<td>{sources}</td><td class=num>{len(report.findings)}</td>"
            f"<td class=num>{_count(problems, 'problems')}</td>"
            f"<td class=num>{_count(notes, 'notes')}</td></tr>"
        )
    columns = ("run", "status", "steps", "metrics", "packs", "sources read", "findings")
    head = "".join(f"<th>{h}</th>" for h in (*columns, "ingest problems", "reader notes"))
    return (
        "<h2 id=runs>Runs checked: steps, sources read and rule packs applied</h2>"
        f"<div class=wide><table class=runs><tr>{head}</tr>{''.join(rows)}</table></div>"
    )


def _count(count: int, anchor: str) -> str:
    return f"<a href='#{anchor}'>{count}</a>" if count else "0"


def problems(reports: list[RunReport], names: list[RunName]) -> str:
    """Lines and records that could not be read: data the rules did not see."""
    found = [(n, [_esc(p) for p in _problems(r)]) for r, n in zip(reports, names, strict=True)]
    title = "Ingest problems: lines or records that could not be read"
    empty = "None: every source was read completely."
    return _listing("problems", title, found, empty, "problems")


def notes(reports: list[RunReport], names: list[RunName]) -> str:
    """What the readers noticed that is expected or informational: nothing was lost."""
    found = [(n, [_esc(t) for t in _notes(r)]) for r, n in zip(reports, names, strict=True)]
    title = "Reader notes: expected or informational, no data lost"
    return _listing("notes", title, found, "None.", "notes")


def _problems(report: RunReport) -> list[str]:
    run = report.run
    return [
        f"{relative(p.path, run.path)}"
        + (f":{p.line}" if p.line is not None else "")
        + f": {p.message}"
        for p in run.problems
    ]


def _notes(report: RunReport) -> list[str]:
    run = report.run
    found = list(run.notes)
    found += [f"{relative(s.path, run.path)}: {note}" for s in run.sources for note in s.notes]
    found += [f"resumed at step {r.step} (after step {r.previous_step})" for r in run.resumes]
    return found


def _listing(
    anchor: str, title: str, found: list[tuple[RunName, list[str]]], empty: str, css: str
) -> str:
    total = sum(len(items) for _, items in found)
    parts = [f"<h2 id={anchor}>{title} ({total})</h2>"]
    if not total:
        return parts[0] + f"<p class=muted>{empty}</p>"
    many = len(found) > 1
    for name, items in found:
        if not items:
            continue
        listed = "".join(f"<li>{item}</li>" for item in items[:LISTED])
        if len(items) > LISTED:
            listed += f"<li>… and {len(items) - LISTED} more</li>"
        if many:
            parts.append(f"<p class=of-run>{run_cell(name, 'span')}</p>")
        parts.append(f"<ul class={css}>{listed}</ul>")
    return "".join(parts)


def relative(path: str, run_path: str) -> str:
    """A source's path inside its run folder; a run that is one file: the file's name."""
    base = run_path.rstrip("/")
    if path.startswith(base + "/"):
        return path[len(base) + 1 :]
    if path == base:
        return path.rsplit("/", 1)[-1]
    return path


def errors(found: list[str]) -> str:
    if not found:
        return ""
    items = "".join(f"<li>{_esc(e)}</li>" for e in found)
    return f"<h2 id=errors>Inputs that could not be read at all</h2><ul class=problems>{items}</ul>"


def findings(reports: list[RunReport], names: list[RunName], anchors: dict[str, str]) -> str:
    many = len(reports) > 1
    rows: list[str] = []
    for report, name in zip(reports, names, strict=True):
        rows.extend(_finding_row(name, f, anchors, many) for f in report.findings)
    title = "Findings: the rules that fired, most severe first"
    if not rows:
        return f"<h2 id=findings>{title} (0)</h2><p>No rule fired.</p>"
    columns = ["severity", "rule", "metric", "step", "value", "message", "advice", "source"]
    head = "".join(f"<th>{c}</th>" for c in (["run", *columns] if many else columns))
    return (
        f"<h2 id=findings>{title} ({len(rows)})</h2><div class=wide>"
        f"<table class=findings><tr>{head}</tr>{''.join(rows)}</table></div>"
    )


def _finding_row(name: RunName, f: Finding, anchors: dict[str, str], many: bool) -> str:
    first = f.onset if f.onset is not None else f.step  # the bad stretch, from its onset
    steps = "" if first is None else str(first)
    if f.last_step is not None and first is not None and f.last_step != first:
        steps += f"–{f.last_step}"
    value = "" if f.value is None else f"{f.value:.4g}"
    color = SEVERITY_COLOR[f.severity]
    anchor = anchors.get(f.metric)
    metric = f"<code>{_esc(f.metric)}</code>"
    if anchor:
        metric = f'<a href="#{anchor}">{metric}</a>'
    cells = [
        f'<td class=sev style="color:{color}">{_esc(f.severity)}</td>',
        f"<td class=id><code>{_esc(f.rule)}</code></td>",
        f"<td class=id>{metric}</td>",
        f"<td class=num>{_esc(steps)}</td>",
        f"<td class=num>{_esc(value)}</td>",
        f"<td class=text>{_esc(f.message)}</td>",
        f"<td class=advice>{_esc(f.advice)}</td>",
        f"<td class=source>{_esc(f.source)}</td>",
    ]
    if many:
        cells.insert(0, run_cell(name))
    return f"<tr class='finding {_esc(f.severity)}'>{''.join(cells)}</tr>"


def plots(found: list[Plot], figures: list[dict[str, object]], packs: list[Pack]) -> str:
    """The plot grids: one per pack, then metrics with findings no rule plot covers, then
    every other metric collapsed; the smoothing slider on top."""
    titles = {p.name: p.title for p in packs}
    parts = [_controls()]
    covered = [p for p in found if p.group != OTHER_GROUP]
    for group in dict.fromkeys(p.group for p in covered):
        members = [p for p in covered if p.group == group]
        count = f"{len(members)} plot{'s' * (len(members) != 1)}"
        if group == FINDINGS_GROUP:
            heading = f"Plots: other metrics with findings ({count})"
        else:
            about = f"{_esc(titles[group])}, " if group in titles else ""
            heading = f"Plots: metrics the {_esc(group)} rules check ({about}{count})"
        parts.append(f"<h2>{heading}</h2><div class=grid>{_boxes(members, figures)}</div>")
    rest = [p for p in found if p.group == OTHER_GROUP]
    if rest:
        parts.append(
            f"<details id=other-metrics><summary>Plots: other metrics ({len(rest)}), "
            f"logged but checked by no rule</summary>"
            f"<div class=grid>{_boxes(rest, figures)}</div></details>"
        )
    return "<section id=plots>" + "\n".join(parts) + "</section>"


def _controls() -> str:
    return (
        "<div class=controls><label for=smoothing>Smoothing</label> "
        "<input type=range id=smoothing min=0 max=0.99 step=0.01 value=0> "
        "<output id=smoothing-value for=smoothing>off</output> "
        "<span class=muted>a moving average as in TensorBoard over the faded raw line "
        "(rules judge the raw values) · log scale: under each plot</span></div>"
    )


def _boxes(found: list[Plot], figures: list[dict[str, object]]) -> str:
    boxes = []
    for plot in found:
        figure = figures[plot.index]
        rules = ", ".join(r.id for r in plot.rules)
        caption = f"rules: {_esc(rules)}" if rules else "no rule covers this metric"
        for line in figure["captions"]:  # type: ignore[attr-defined]
            caption += f"<br><span class=muted>{line}</span>"  # escaped in plots.py
        scales = figure["scales"]
        if isinstance(scales, dict) and "log" in scales:
            checked = " checked" if figure["scale"] == "log" else ""
            caption = (
                f"<label class=log><input type=checkbox class=logscale "
                f"data-index={plot.index}{checked}> log scale</label>{caption}"
            )
        height = figure["layout"]["height"]  # type: ignore[index]
        boxes.append(
            f"<figure id={plot.anchor}><div class=plot data-index={plot.index} "
            f"style='height:{int(height)}px'></div><figcaption>{caption}</figcaption></figure>"
        )
    return "".join(boxes)


def verdicts(reports: list[RunReport], names: list[RunName]) -> str:
    """Per run, first: the verdict line and its incidents (cause, symptoms, worst, action)."""
    from logscope.incidents import assess
    from logscope.report.verdict import steps_text, symptom_text, worst_text

    parts = []
    for report, name in zip(reports, names, strict=True):
        assessment = assess(report)
        verdict = assessment.verdict
        blocks = [
            f"<div class='verdict {verdict.status}'><span class='word {verdict.status}'>"
            f"{verdict.status.upper()}</span> {run_cell(name, 'span')} "
            f"{_esc(verdict.reason)}. <span class=action>{_esc(verdict.action)}</span>"
        ]
        for number, incident in enumerate(assessment.incidents, 1):
            symptoms = "".join(f"<li>{_esc(symptom_text(f))}</li>" for f in incident.symptoms)
            color = SEVERITY_COLOR[incident.severity]
            blocks.append(
                f"<div class=incident><span class=sev style='color:{color}'>"
                f"incident {number} · {_esc(incident.severity)}</span> "
                f"{_esc(steps_text(incident))}: {_esc(incident.summary)}<br>"
                f"<span class=muted>likely cause:</span> {_esc(incident.cause.message)}<br>"
                f"<span class=muted>symptoms in order:</span><ul>{symptoms}</ul>"
                f"<span class=muted>worst:</span> {_esc(worst_text(incident))}<br>"
                f"<span class=muted>action:</span> "
                f"<span class=action>{_esc(incident.action)}</span></div>"
            )
        parts.append("".join(blocks) + "</div>")
    title = "Verdict per run: stop, watch or healthy, and why"
    return f"<h2 id=verdict>{title}</h2>" + "".join(parts)
