"""The lines and markers of one run's metric, as plotly.js traces, downsampled for display.

A line keeps each bucket's min and max (downsample.minmax) plus the points where findings
start and end; non-finite values become x markers thinned evenly over the run; E-steps and
M-steps of rollout-matching runs are filled and hollow markers. Each main line also gets a
hidden twin that the page's smoothing slider fills with a TensorBoard-style EMA, from the
line itself or, when the line is downsampled, from per-bucket means (`Smooth`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from logscope.model import Severity
from logscope.report.downsample import Array, bucket_means, minmax, spread
from logscope.report.text import safe

SEVERITY_COLOR = {Severity.ERROR: "#d62728", Severity.WARNING: "#e07b00", Severity.INFO: "#1f77b4"}
# the filter key of E-steps (fresh rollouts) in CoordExp / ms-swift rollout-matching runs
BUFFER_REUSE = "rollout/buffer_reuse"


@dataclass(frozen=True, slots=True)
class Line:
    """What to draw for one metric of one run."""

    frame: pl.DataFrame
    metric: str
    steps: Array
    label: str  # the run's short name, escaped
    color: str
    budget: int
    keep: Array | None = None  # steps the line must keep (finding onsets and ends)


def series(line: Line, *, compared: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The traces of one metric of one run, and its smoothing source (x, y, n per point).

    The first trace is the line; `compared` (a metric a rule compares with) is dashed and
    has no markers of its own."""
    column = line.frame.get_column(line.metric).alias("value")  # a name like ^x$ is no pattern
    logged = column.is_not_null().to_numpy()
    values = column.cast(pl.Float64).to_numpy()
    label, color, budget = line.label, line.color, line.budget
    name = f"{label} · {text(line.metric)}" if compared else label
    style: dict[str, Any] = {"width": 1.3, "color": color}
    if compared:
        style["dash"] = "dash"
    x, y = minmax(line.steps[logged], values[logged], budget, None if compared else line.keep)
    traces = [trace(x, y, name, label, color, style, mode="lines")]
    means = bucket_means(line.steps[logged], values[logged], budget)
    smooth: dict[str, Any] = {}
    if means is not None:
        smooth = {"x": means[0].tolist(), "y": rounded(means[1]), "n": means[2].tolist()}
    frame = line.frame
    if BUFFER_REUSE in frame.columns and not compared:
        reuse = frame.get_column(BUFFER_REUSE).to_numpy()
        # E-steps (fresh rollouts, buffer_reuse == 0) filled, M-steps (reused) hollow
        for kind, keep, symbol in (
            ("E-step", reuse == 0, "circle"),
            ("M-step", reuse > 0, "circle-open"),
        ):
            x, y = minmax(line.steps[logged & keep], values[logged & keep], budget // 2)
            marker = {"symbol": symbol, "size": 6, "color": color}
            traces.append(trace(x, y, f"{name} · {kind}", label, color, None, marker=marker))
    bad = logged & ~np.isfinite(values)
    if bad.any() and not compared:
        traces.append(_nonfinite(line.steps, values, logged, bad, label, budget))
    return traces, smooth


def text(value: object) -> str:
    """Untrusted text as plotly may show it: control characters visible, HTML escaped.
    Quotes stay as they are: plotly does not decode `&quot;`, and its text is no attribute."""
    return html.escape(safe(str(value)), quote=False)


def trace(
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
    found: dict[str, Any] = {
        "type": "scatter",
        "mode": mode,
        "name": name,
        "legendgroup": group,
        "x": x.tolist(),
        "y": rounded(y),
        "hovertemplate": "step %{x}<br>%{y:.6g}",
    }
    if line is not None:
        found["line"] = line
    if marker is not None:
        found["marker"] = marker
    return found


def _nonfinite(
    steps: Array, values: Array, logged: Array, bad: Array, label: str, budget: int
) -> dict[str, Any]:
    """NaN/±Inf cannot sit on a line: mark them with an x at the last finite value before;
    over `budget` of them, the first of each stretch of the run (thinned evenly)."""
    finite = logged & np.isfinite(values)
    last = np.maximum.accumulate(np.where(finite, np.arange(len(values)), -1))
    where = spread(np.flatnonzero(bad), len(values), max(budget, 1))
    anchor = last[where]
    y = np.where(anchor >= 0, values[np.maximum(anchor, 0)], 0.0)
    names = np.where(np.isnan(values[where]), "NaN", np.where(values[where] > 0, "+Inf", "-Inf"))
    return {
        "type": "scatter",
        "mode": "markers",
        "name": f"{label} · non-finite",
        "legendgroup": label,
        "x": steps[where].tolist(),
        "y": rounded(y),
        "text": names.tolist(),
        "marker": {"symbol": "x", "size": 9, "color": SEVERITY_COLOR[Severity.ERROR]},
        "hovertemplate": "step %{x}: %{text}",
    }


def rounded(values: Array) -> list[float]:
    """Six significant digits: plenty on screen, a third of the page size of full repr."""
    return [float(v) for v in np.char.mod("%.6g", values).tolist()]
