"""Jupyter's rich display of a check: a verdict per run, the findings table, and a small
inline SVG of each flagged metric with the step marked. No plotly, no script: it renders in
any notebook viewer (GitHub's included) and costs milliseconds."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logscope.model import Finding
    from logscope.report import Document
    from logscope.run import Run

_COLOURS = {"error": "#c62828", "warning": "#b26a00", "info": "#1565c0"}
_STATUS = {"pass": "#2e7d32", "fail": "#c62828", "error": "#6a1b9a"}
WIDTH, HEIGHT, POINTS = 160, 36, 400


def outcome_html(doc: Document, exit_code: int) -> str:
    """The whole outcome of a check as one HTML fragment (a notebook cell's output)."""
    from logscope.report.json import run_status
    from logscope.report.names import short_names

    parts = [f"<div><b>logscope check</b>: {len(doc.reports)} runs, exit {exit_code}"]
    names = short_names([report.run for report in doc.reports])
    for report, name in zip(doc.reports, names, strict=True):
        status = run_status(report, doc.fail_on)
        colour = _STATUS.get(status, "#000")
        parts.append(
            f'<h4 style="margin:0.6em 0 0.2em" title="{_e(name.tooltip)}">{_e(name.short)} '
            f'<span style="color:{colour}">{status.upper()}</span></h4>'
        )
        if report.findings:
            parts.append(_table(report.run, report.findings))
        else:
            parts.append(f"<p>no findings ({report.evaluated} rules evaluated)</p>")
    parts.extend(f'<p style="color:#6a1b9a">error: {_e(e)}</p>' for e in doc.errors)
    parts.append("</div>")
    return "".join(parts)


def _table(run: Run, findings: list[Finding]) -> str:
    head = "".join(
        f'<th style="text-align:left">{h}</th>'
        for h in ("severity", "rule", "metric", "step", "message", "curve")
    )
    rows = []
    for f in findings:
        colour = _COLOURS.get(str(f.severity), "#000")
        step = "" if f.step is None else str(f.step)
        rows.append(
            "<tr>"
            f'<td style="color:{colour}">{_e(f.severity)}</td><td><code>{_e(f.rule)}</code></td>'
            f"<td>{_e(f.metric)}</td><td>{step}</td>"
            f'<td style="text-align:left">{_e(f.message)}<br><i>{_e(f.advice)}</i></td>'
            f"<td>{spark_svg(run, f.metric, f.step, colour)}</td></tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def spark_svg(run: Run, metric: str, step: int | None, colour: str) -> str:
    """The metric's curve (finite points, at most POINTS of them) and a dot at `step`."""
    import polars as pl

    if metric not in run.frame.columns:
        return ""
    data = run.frame.select("step", pl.col(metric).alias("v")).filter(
        pl.col("v").is_not_null() & pl.col("v").is_finite()
    )
    if data.height == 0:
        return ""
    if data.height > POINTS:
        data = data.gather_every(math.ceil(data.height / POINTS))
    steps = data.get_column("step").to_list()
    values = data.get_column("v").to_list()
    x0, x1 = steps[0], steps[-1]
    y0, y1 = min(values), max(values)

    def xy(s: float, v: float) -> str:
        x = 2 + (WIDTH - 4) * ((s - x0) / (x1 - x0) if x1 != x0 else 0.5)
        y = HEIGHT - 2 - (HEIGHT - 4) * ((v - y0) / (y1 - y0) if y1 != y0 else 0.5)
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(s, v) for s, v in zip(steps, values, strict=True))
    mark = ""
    if step is not None and x0 <= step <= x1:
        hit = run.frame.filter(pl.col("step") == step).get_column(metric)
        value = hit[0] if hit.len() else None
        if value is not None and math.isfinite(value):
            x, y = xy(step, value).split(",")
            mark = f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>'
    return (
        f'<svg width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">'
        f'<polyline fill="none" stroke="#555" stroke-width="1" points="{line}"/>{mark}</svg>'
    )


def _e(text: object) -> str:
    return html.escape(str(text))
