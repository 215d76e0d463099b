"""Which plots an HTML report shows, and each plot as plotly.js JSON (data + layout).

Plots are built as plain dicts rather than plotly.py Figure objects: 120 validated figures
would cost seconds, and the page renders them with one script anyway. Every string that comes
from a log (metric names, run paths, rule ids) is HTML-escaped before it reaches plotly,
because plotly.js interprets a subset of HTML in titles, legends and annotations.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from logscope.model import Severity
from logscope.outcome import RunReport
from logscope.report.downsample import Array, minmax
from logscope.report.text import safe
from logscope.rules import aliases
from logscope.rules.engine import shared_aliases
from logscope.rules.spec import Pack, Rule

SEVERITY_COLOR = {Severity.ERROR: "#d62728", Severity.WARNING: "#e07b00", Severity.INFO: "#1f77b4"}
RUN_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
GUIDE_COLOR = "rgba(214, 39, 40, 0.55)"
BAND_FILL = "rgba(44, 160, 44, 0.10)"
# the filter key of E-steps (fresh rollouts) in CoordExp / ms-swift rollout-matching runs
BUFFER_REUSE = "rollout/buffer_reuse"
OTHER_GROUP = "Other metrics"


def text(value: object) -> str:
    """Untrusted text as plotly may show it: control characters visible, HTML escaped.
    Quotes stay as they are: plotly does not decode `&quot;`, and its text is no attribute."""
    return html.escape(safe(str(value)), quote=False)


@dataclass
class Plot:
    """One metric's plot: the rules that look at it, and metrics they compare it with."""

    index: int
    metric: str
    group: str
    rules: list[Rule] = field(default_factory=list)
    others: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"plot-{self.index}"


def plan(reports: list[RunReport], packs: list[Pack]) -> list[Plot]:
    """Metrics the evaluated rules cover, grouped by pack (in pack order), then the rest of
    the metrics any run logged (group OTHER_GROUP), each metric once across all runs."""
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
                group = pack.title
                others = []
                if rule.kind.needs_other:
                    others = [k for k, _ in resolve(pack.patterns(rule.params.other, shared))]
                for key, _ in resolve(pack.patterns(rule.metric, shared)):
                    plot = plots.setdefault(key, Plot(0, key, group))
                    if rule not in plot.rules:
                        plot.rules.append(rule)
                    plot.others.extend(o for o in others if o != key and o not in plot.others)
    groups = list(dict.fromkeys(p.group for p in plots.values()))
    ordered = [p for g in groups for p in plots.values() if p.group == g]
    for report in reports:  # a finding always has a plot to link to
        for finding in report.findings:
            if finding.metric not in plots:
                plots[finding.metric] = Plot(0, finding.metric, "Other findings")
                ordered.append(plots[finding.metric])
    for report in reports:
        for key in report.run.metrics:
            if key not in plots and key != BUFFER_REUSE:
                plots[key] = Plot(0, key, OTHER_GROUP)
                ordered.append(plots[key])
    for index, plot in enumerate(ordered):
        plot.index = index
    return ordered


def figure(plot: Plot, reports: list[RunReport], budget: int) -> dict[str, Any]:
    """plotly.js data and layout: one line per run (legend per run), compared metrics dashed,
    E-/M-step markers, non-finite points, guides, finding onsets and resume points."""
    traces: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    onsets: dict[int, list[tuple[str, str]]] = {}
    many = len(reports) > 1
    last_step = 0
    for number, report in enumerate(reports):
        run = report.run
        if plot.metric not in run.frame.columns:
            continue
        color = RUN_COLORS[number % len(RUN_COLORS)]
        label = text(run.path)
        steps = run.frame.get_column("step").to_numpy()
        if steps.size:
            last_step = max(last_step, int(steps[-1]))
        traces.extend(_series(run.frame, plot.metric, steps, label, color, budget))
        for other in plot.others:
            if other in run.frame.columns:
                traces.extend(_series(run.frame, other, steps, label, color, budget, compared=True))
        for finding in report.findings:
            if finding.metric != plot.metric or finding.step is None:
                continue
            severity_color = SEVERITY_COLOR[finding.severity]
            start = finding.onset if finding.onset is not None else finding.step
            end = finding.last_step if finding.last_step is not None else start
            shapes.append(_vline(start, severity_color, "solid"))
            if end > start:
                shapes.append(_span(start, end, severity_color))
            who = f" ({label})" if many else ""
            onsets.setdefault(start, []).append((f"{text(finding.rule)}{who}", severity_color))
        for resume in run.resumes:
            shapes.append(_vline(resume.step, "#555", "dot"))
            notes.append(_note(resume.step, f"resumed{f' ({label})' if many else ''}", "#555", 0))
    for step, labels in onsets.items():  # one label per onset step, several rules stacked
        notes.append(_note(step, "<br>".join(t for t, _ in labels), labels[0][1]))
    for rule in plot.rules:
        shapes.extend(_guides(rule, last_step))
    layout = {
        "title": {"text": text(plot.metric), "font": {"size": 14}, "x": 0.01},
        "height": 320,
        "margin": {"l": 60, "r": 10, "t": 40, "b": 40},
        "xaxis": {"title": {"text": "step"}, "zeroline": False},
        "yaxis": {"zeroline": False, "exponentformat": "e"},
        "shapes": shapes,
        "annotations": notes,
        "hovermode": "closest",
        "showlegend": many or len(traces) > 1,
        "legend": {"orientation": "h", "y": -0.25},
    }
    return {"data": traces, "layout": layout}


def _series(
    frame: pl.DataFrame,
    metric: str,
    steps: Array,
    label: str,
    color: str,
    budget: int,
    *,
    compared: bool = False,
) -> list[dict[str, Any]]:
    column = frame.get_column(metric).alias("value")  # a name like ^x$ is no pattern
    logged = column.is_not_null().to_numpy()
    values = column.cast(pl.Float64).to_numpy()
    name = f"{label} · {text(metric)}" if compared else label
    line: dict[str, Any] = {"width": 1.3, "color": color}
    if compared:
        line["dash"] = "dash"
    reuse = frame.get_column(BUFFER_REUSE).to_numpy() if BUFFER_REUSE in frame.columns else None
    x, y = minmax(steps[logged], values[logged], budget)
    traces = [_trace(x, y, name, label, color, line, mode="lines")]
    if reuse is not None and not compared:
        # E-steps (fresh rollouts, buffer_reuse == 0) filled, M-steps (reused) hollow
        for kind, keep, symbol in (
            ("E-step", reuse == 0, "circle"),
            ("M-step", reuse > 0, "circle-open"),
        ):
            x, y = minmax(steps[logged & keep], values[logged & keep], budget // 2)
            marker = {"symbol": symbol, "size": 6, "color": color}
            traces.append(_trace(x, y, f"{name} · {kind}", label, color, None, marker=marker))
    bad = logged & ~np.isfinite(values)
    if bad.any() and not compared:
        traces.append(_nonfinite(steps, values, logged, bad, label, budget))
    return traces


def _trace(
    x: Array,
    y: Array,
    name: str,
    group: str,
    color: str,
    line: dict[str, Any] | None,
    *,
    mode: str = "markers",
    marker: dict[str, Any] | None = None,
) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": mode,
        "name": name,
        "legendgroup": group,
        "x": x.tolist(),
        "y": _rounded(y),
        "hovertemplate": "step %{x}<br>%{y:.6g}",
    }
    if line is not None:
        trace["line"] = line
    if marker is not None:
        trace["marker"] = marker
    return trace


def _nonfinite(
    steps: Array, values: Array, logged: Array, bad: Array, label: str, budget: int
) -> dict[str, Any]:
    """NaN/±Inf cannot sit on a line: mark them with an x at the last finite value before."""
    finite = logged & np.isfinite(values)
    last = np.maximum.accumulate(np.where(finite, np.arange(len(values)), -1))
    where = np.flatnonzero(bad)[: max(budget, 1)]
    anchor = last[where]
    y = np.where(anchor >= 0, values[np.maximum(anchor, 0)], 0.0)
    names = np.where(np.isnan(values[where]), "NaN", np.where(values[where] > 0, "+Inf", "-Inf"))
    return {
        "type": "scatter",
        "mode": "markers",
        "name": f"{label} · non-finite",
        "legendgroup": label,
        "x": steps[where].tolist(),
        "y": _rounded(y),
        "text": names.tolist(),
        "marker": {"symbol": "x", "size": 9, "color": SEVERITY_COLOR[Severity.ERROR]},
        "hovertemplate": "step %{x}: %{text}",
    }


def _rounded(values: Array) -> list[float]:
    """Six significant digits: plenty on screen, a third of the page size of full repr."""
    return [float(v) for v in np.char.mod("%.6g", values).tolist()]


def _guides(rule: Rule, last_step: int) -> list[dict[str, Any]]:
    """Threshold lines, range bands and stage boxes a rule judges this metric against."""
    p = rule.params
    x0: float | int = rule.after_step if rule.after_step is not None else 0
    x1: float | int = rule.before_step if rule.before_step is not None else max(last_step, 1)
    windowed = rule.after_step is not None or rule.before_step is not None
    if rule.check == "threshold":
        return [_hline(p.value, x0, x1, windowed, f"{p.op} {p.value:g}")]
    if rule.check == "range":
        if p.min is not None and p.max is not None:
            return [_band(x0, x1, p.min, p.max, windowed, f"{p.min:g}–{p.max:g}")]
        if p.min is not None:
            return [_hline(p.min, x0, x1, windowed, f"< {p.min:g}")]
        return [_hline(p.max, x0, x1, windowed, f"> {p.max:g}")]
    if rule.check == "stage":  # stages the run reached, cut at its last step
        return [
            _band(
                s["steps"][0],
                min(s["steps"][1], last_step),
                s["min"],
                s["max"],
                True,
                text(s.get("name", "")),
            )
            for s in p.stages
            if s["steps"][0] <= last_step
        ]
    return []


def _hline(y: float, x0: float, x1: float, windowed: bool, label: str) -> dict[str, Any]:
    shape = {"type": "line", "y0": y, "y1": y, "yref": "y", "layer": "below"}
    shape.update(_xspan(x0, x1, windowed))
    shape["line"] = {"color": GUIDE_COLOR, "width": 1.5, "dash": "dash"}
    shape["label"] = {
        "text": label,
        "textposition": "end",
        "font": {"size": 10, "color": GUIDE_COLOR},
    }
    return shape


def _band(x0: float, x1: float, y0: float, y1: float, windowed: bool, label: str) -> dict[str, Any]:
    shape = {"type": "rect", "y0": y0, "y1": y1, "yref": "y", "layer": "below"}
    shape.update(_xspan(x0, x1, windowed))
    shape.update(fillcolor=BAND_FILL, line={"width": 0})
    shape["label"] = {"text": label, "textposition": "top left", "font": {"size": 9}}
    return shape


def _xspan(x0: float, x1: float, windowed: bool) -> dict[str, Any]:
    if windowed:
        return {"xref": "x", "x0": x0, "x1": x1}
    return {"xref": "paper", "x0": 0, "x1": 1}


def _vline(step: int, color: str, dash: str) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": step,
        "x1": step,
        "y0": 0,
        "y1": 1,
        "line": {"color": color, "width": 1.2, "dash": dash},
    }


def _span(x0: int, x1: int, color: str) -> dict[str, Any]:
    return {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": x0,
        "x1": x1,
        "y0": 0,
        "y1": 1,
        "fillcolor": color,
        "opacity": 0.07,
        "line": {"width": 0},
        "layer": "below",
    }


def _note(step: int, label: str, color: str, y: float = 1) -> dict[str, Any]:
    return {
        "x": step,
        "xref": "x",
        "y": y,
        "yref": "paper",
        "yanchor": "top" if y else "bottom",
        "text": label,
        "showarrow": False,
        "font": {"size": 10, "color": color},
        "xanchor": "left",
    }
