"""Which plots an HTML report shows, and each plot as plotly.js JSON.

Plots are built as plain dicts rather than plotly.py Figure objects: 120 validated figures
would cost seconds, and the page renders them with one script anyway. Every string that comes
from a log (metric names, run names, rule ids) is HTML-escaped before it reaches plotly,
because plotly.js interprets a subset of HTML in titles, legends and annotations.

A figure is `data` and `layout` plus what the page's script needs: `scales` (the y axis,
guides and edge markers for a linear and, for positive data, a log axis; axes.py), `scale`
(the one it opens on) and `smooth` (which trace the smoothing slider fills from which line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from logscope.outcome import RunReport
from logscope.report import axes, labels
from logscope.report.guides import EDGE_COLOR, note, span, vline
from logscope.report.guides import guides as rule_guides
from logscope.report.traces import BUFFER_REUSE, SEVERITY_COLOR, Line, series, text
from logscope.rules import aliases
from logscope.rules.engine import shared_aliases
from logscope.rules.spec import Pack, Rule

if TYPE_CHECKING:
    from logscope.model import Finding
    from logscope.report.names import RunName

__all__ = ["OTHER_GROUP", "SEVERITY_COLOR", "Plot", "figure", "plan", "text"]

RUN_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
OTHER_GROUP = "Other metrics"
COMMON = "common"  # the pack every run gets; a family pack is more specific
FINDINGS_GROUP = "Other findings"
HEIGHT = 320  # px of a plot without rows of onset labels


@dataclass
class Plot:
    """One metric's plot: the rules that look at it, and metrics they compare it with."""

    index: int
    metric: str
    group: str  # the pack that checks it, FINDINGS_GROUP or OTHER_GROUP
    rules: list[Rule] = field(default_factory=list)
    others: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"plot-{self.index}"


def plan(reports: list[RunReport], packs: list[Pack]) -> list[Plot]:
    """Metrics the evaluated rules cover, grouped by pack (in pack order; a metric a family
    pack checks goes with that pack rather than `common`), then the rest of the metrics any
    run logged (group OTHER_GROUP), each metric once across all runs."""
    shared = shared_aliases(packs)
    by_name = {p.name: p for p in packs}
    plots: dict[str, Plot] = {}
    for report in reports:
        resolve = aliases.Resolver(report.run.metrics)
        evaluated = set(report.rules)
        for name in report.packs:
            pack = by_name.get(name)
            if pack is None:
                continue
            for rule in pack.rules:
                if rule.id not in evaluated:
                    continue
                group = pack.name
                others = []
                if rule.kind.needs_other:
                    others = [k for k, _ in resolve(pack.patterns(rule.params.other, shared))]
                for key, _ in resolve(pack.patterns(rule.metric, shared)):
                    plot = plots.setdefault(key, Plot(0, key, group))
                    if name != COMMON:  # a family pack's group over the common pack's
                        plot.group = group
                    if rule not in plot.rules:
                        plot.rules.append(rule)
                    plot.others.extend(o for o in others if o != key and o not in plot.others)
    groups = list(dict.fromkeys(p.group for p in plots.values()))
    ordered = [p for g in groups for p in plots.values() if p.group == g]
    for report in reports:  # a finding always has a plot to link to
        for finding in report.findings:
            if finding.metric not in plots:
                plots[finding.metric] = Plot(0, finding.metric, FINDINGS_GROUP)
                ordered.append(plots[finding.metric])
    for report in reports:
        for key in report.run.metrics:
            if key not in plots and key != BUFFER_REUSE:
                plots[key] = Plot(0, key, OTHER_GROUP)
                ordered.append(plots[key])
    for index, plot in enumerate(ordered):
        plot.index = index
    return ordered


def figure(
    plot: Plot, reports: list[RunReport], budget: int, names: list[RunName]
) -> dict[str, Any]:
    """One line per run (legend per run), compared metrics dashed, E-/M-step markers,
    non-finite points, the rules' guides, finding onsets (stacked labels, hover markers)
    and resume points; the y axis fitted to the data (axes.py)."""
    many = len(reports) > 1
    traces: list[dict[str, Any]] = []
    smooth: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    bottom: list[dict[str, Any]] = []
    onsets: dict[int, list[Finding]] = {}
    who: dict[int, str] = {}  # finding id -> run label, with several runs
    starts: list[int] = []
    ends: list[int] = []
    low: float | None = None
    high: float | None = None
    for number, (report, name) in enumerate(zip(reports, names, strict=True)):
        run = report.run
        if plot.metric not in run.frame.columns:
            continue
        color = RUN_COLORS[number % len(RUN_COLORS)]
        label = text(name.short)
        steps = run.frame.get_column("step").to_numpy()
        if steps.size:
            starts.append(int(steps[0]))
            ends.append(int(steps[-1]))
        mine = [f for f in report.findings if f.metric == plot.metric and f.step is not None]
        keep = sorted({s for f in mine for s in (f.onset, f.step, f.last_step) if s is not None})
        line = Line(run.frame, plot.metric, steps, label, color, budget, np.array(keep, np.int64))
        drawn, source = series(line)
        smooth.append({"raw": len(traces), "line": len(traces) + len(drawn), **source})
        traces.extend(drawn)
        traces.append(_smoothed(label, color))
        low, high = _extent(run.frame, plot.metric, low, high)
        for other in plot.others:
            if other in run.frame.columns:
                compared, source = series(
                    Line(run.frame, other, steps, label, color, budget), compared=True
                )
                smooth.append({"raw": len(traces), "line": len(traces) + 1, **source})
                traces.extend([compared[0], _smoothed(label, color, dashed=True)])
                low, high = _extent(run.frame, other, low, high)
        for finding in mine:
            start = finding.onset if finding.onset is not None else finding.step
            assert start is not None
            end = finding.last_step if finding.last_step is not None else start
            shapes.append(vline(start, SEVERITY_COLOR[finding.severity], "solid"))
            if end > start:
                shapes.append(span(start, end, SEVERITY_COLOR[finding.severity]))
            onsets.setdefault(start, []).append(finding)
            if many:
                who[id(finding)] = label
        for resume in run.resumes:
            shapes.append(vline(resume.step, "#555", "dot"))
            bottom.append(note(resume.step, f"resumed{f' ({label})' if many else ''}", "#555"))
    found: list[axes.Guide] = []
    captions: list[str] = []
    for rule in plot.rules:
        drawn_guides, why = rule_guides(rule, ends, text)
        found.extend(drawn_guides)
        if why:
            captions.append(why)
    x_range = _x_range(starts, ends, list(onsets))
    points = [_onset(step, found_here, who) for step, found_here in sorted(onsets.items())]
    if onsets:
        traces.append(_onset_markers(points, onsets, who))
    scales, rows = {}, 0
    for log in (False, True) if axes.can_log(low) else (False,):
        axis = axes.fit(low, high, found, log=log)
        above = axes.beyond(axis.above, "↑")
        corner = labels.Onset(0, above, EDGE_COLOR) if above else None
        stacked = labels.stack(points, *(x_range or (0.0, 1.0)), corner=corner)
        rows = max(rows, stacked.rows)
        scales["log" if log else "linear"] = _scale(axis, log, shapes, stacked.annotations + bottom)
        if stacked.hidden and not log:
            captions.append(f"{stacked.hidden} onset label(s) shown on hover only (▼ markers)")
    legend = sum(1 for t in traces if t.get("showlegend", True))
    legend_rows = _legend_rows([t["name"] for t in traces if t.get("showlegend", True)])
    top = 34 + rows * labels.ROW
    foot = 48 + (20 * legend_rows if legend > 1 or many else 0)
    layout: dict[str, Any] = {
        "title": {
            "text": text(plot.metric),
            "font": {"size": 14},
            "x": 0.01,
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 8},
        },
        "height": HEIGHT + rows * labels.ROW + foot - 48,
        "margin": {"l": 60, "r": 12, "t": top, "b": foot},
        "xaxis": {"title": {"text": "step", "standoff": 2}, "zeroline": False},
        "yaxis": {"zeroline": False, "exponentformat": "e"},
        "yaxis2": {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True},
        "hovermode": "closest",
        "showlegend": legend > 1 or many,
        "legend": {
            "orientation": "h",
            "traceorder": "normal",  # grouped would stack a run's entries in a column
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
        },
    }
    if x_range is not None:
        layout["xaxis"]["range"] = list(x_range)
    return {
        "data": traces,
        "layout": layout,
        "scales": scales,
        "scale": "log" if axes.starts_log(low, high) else "linear",
        "smooth": smooth,
        "captions": captions,
    }


def _extent(
    frame: pl.DataFrame, metric: str, low: float | None, high: float | None
) -> tuple[float | None, float | None]:
    """The smallest and largest finite value of `metric`, merged with (low, high)."""
    column = frame.get_column(metric).alias("v").cast(pl.Float64)
    finite = column.filter(column.is_finite())
    if finite.len() == 0:
        return low, high
    lo, hi = float(finite.min()), float(finite.max())
    return (lo if low is None else min(low, lo)), (hi if high is None else max(high, hi))


def _x_range(starts: list[int], ends: list[int], onsets: list[int]) -> tuple[float, float] | None:
    """The steps drawn, with 1% to spare so end markers are not cut in half."""
    if not ends:
        return None
    first, last = min([*starts, *onsets]), max([*ends, *onsets])
    pad = max((last - first) * 0.01, 0.5)
    return first - pad, last + pad


def _onset(step: int, found: list[Finding], who: dict[int, str]) -> labels.Onset:
    rules = dict.fromkeys(
        text(f.rule) + (f" ({who[id(f)]})" if id(f) in who else "") for f in found
    )
    worst = max(found, key=lambda f: f.severity.rank).severity
    return labels.Onset(step, ", ".join(rules), SEVERITY_COLOR[worst])


def _onset_markers(
    points: list[labels.Onset], onsets: dict[int, list[Finding]], who: dict[int, str]
) -> dict[str, Any]:
    """A marker at the top of each onset line; its tooltip names every rule (and run)."""
    hover = [
        f"step {p.step}: "
        + "<br>".join(
            f"{text(f.rule)} ({f.severity})" + (f" · {who[id(f)]}" if id(f) in who else "")
            for f in onsets[p.step]
        )
        for p in points
    ]
    return {
        "type": "scatter",
        "mode": "markers",
        "name": "finding onsets",
        "x": [p.step for p in points],
        "y": [1] * len(points),
        "yaxis": "y2",
        "hovertext": hover,
        "hoverinfo": "text",
        "marker": {"symbol": "triangle-down", "size": 9, "color": [p.color for p in points]},
        "cliponaxis": False,
        "showlegend": False,
    }


def _smoothed(label: str, color: str, *, dashed: bool = False) -> dict[str, Any]:
    """The line the smoothing slider fills (hidden while smoothing is off)."""
    line = {"width": 2, "color": color, "dash": "dash" if dashed else "solid"}
    return {
        "type": "scatter",
        "mode": "lines",
        "name": f"{label} · smoothed",
        "legendgroup": label,
        "x": [],
        "y": [],
        "visible": False,
        "showlegend": False,
        "line": line,
        "hovertemplate": "step %{x}<br>smoothed %{y:.6g}",
    }


def _scale(
    axis: axes.Axis, log: bool, shapes: list[dict[str, Any]], notes: list[dict[str, Any]]
) -> dict[str, Any]:
    """What switching to this y scale sets: the axis, the guides in range, the labels."""
    yaxis: dict[str, Any] = {"type": "log" if log else "linear", "autorange": axis.range is None}
    if axis.range is not None:
        yaxis["range"] = axis.range
    return {
        "yaxis": yaxis,
        "shapes": shapes + axis.drawn,
        "annotations": notes + axes.bottom_marker(axis, EDGE_COLOR),
    }


def _legend_rows(names: list[str]) -> int:
    """Rows a horizontal legend takes at the narrowest plot width (about 6.2 px a letter
    plus 40 px of symbol and gap per entry)."""
    rows, used = 1, 0.0
    for name in names:
        wide = len(name) * 6.2 + 40
        if used and used + wide > labels.WIDTH + 60:
            rows, used = rows + 1, 0.0
        used += wide
    return rows
