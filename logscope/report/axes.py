"""A plot's y axis: fitted to the data, far guides as edge markers, log scale when it helps.

Range: the axis spans the finite values drawn (every run, compared metrics too). A rule's
guide (threshold line, band) that lies within REACH of the data's spread beyond it widens
the axis so it shows at its place; a farther one is not drawn there but as a marker at the
top or bottom edge carrying its value (`> 1000 ↑`), so a threshold of 1000 does not flatten
a grad norm that moves between 8 and 180.

Log scale: offered (a toggle under the plot) whenever every value drawn is positive; the
plot opens on it when the values span at least LOG_DECADES decades (max / min >= 1000),
as a grad norm with one explosion or a loss falling from 10 to 0.01 does. On a log axis the
same range rule applies to decades, and a guide at or below zero sits at the bottom edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

REACH = 0.25  # a guide within a quarter of the data's spread beyond it widens the axis
PAD = 0.05  # of the axis span, above and below
LOG_DECADES = 3.0


@dataclass(frozen=True, slots=True)
class Guide:
    """A horizontal guide a rule draws: a line (low == high) or a band (low < high)."""

    low: float
    high: float
    label: str  # its value as a reader needs it: "> 1000", "0.5–0.6 (Early)"
    shape: dict[str, Any]


@dataclass(slots=True)
class Axis:
    range: list[float] | None  # axis units (log10 on a log axis); None: plotly's own
    drawn: list[dict[str, Any]] = field(default_factory=list)  # guide shapes in range
    above: list[str] = field(default_factory=list)  # labels of guides past the top
    below: list[str] = field(default_factory=list)  # ... and below the bottom


def can_log(low: float | None) -> bool:
    return low is not None and low > 0


def starts_log(low: float | None, high: float | None) -> bool:
    """Positive values spanning LOG_DECADES or more open on a log axis."""
    return low is not None and high is not None and low > 0 and high / low >= 10**LOG_DECADES


def fit(low: float | None, high: float | None, guides: list[Guide], *, log: bool) -> Axis:
    """The range for finite data in [low, high] (None: nothing finite to fit) and where
    each guide goes: drawn in range, or an edge marker above or below."""
    if low is None or high is None:
        return Axis(None, [g.shape for g in guides])
    scale = _log10 if log else float
    bottom, top = scale(low), scale(high)
    spread = top - bottom
    if spread <= 0:
        spread = 1.0 if log else (0.1 * max(abs(bottom), abs(top)) or 1.0)
    reach = (bottom - REACH * spread, top + REACH * spread)
    axis = Axis(None)
    for guide in guides:
        g_low, g_high = scale(guide.low), scale(guide.high)
        if g_high < reach[0]:
            axis.below.append(guide.label)
        elif g_low > reach[1]:
            axis.above.append(guide.label)
        else:
            axis.drawn.append(guide.shape)  # shown up to the reach, cut there if longer
            bottom = min(bottom, max(g_low, reach[0]))
            top = max(top, min(g_high, reach[1]))
    span = top - bottom
    pad = PAD * span if span > 0 else 0.5 * spread
    axis.range = [_round(bottom - pad), _round(top + pad)]
    return axis


def beyond(labels: list[str], arrow: str) -> str | None:
    """The text of an edge marker: the guides' values past that edge, arrow their way."""
    return " · ".join(dict.fromkeys(labels)) + f" {arrow}" if labels else None


def bottom_marker(axis: Axis, color: str) -> list[dict[str, Any]]:
    """The guides below the axis, named under the x axis's tick labels at the right end
    (the guides above it join the onset labels over the plot: labels.stack)."""
    text = beyond(axis.below, "↓")
    if text is None:
        return []
    return [
        {
            "text": text,
            "x": 1,
            "xref": "paper",
            "xanchor": "right",
            "y": 0,
            "yref": "paper",
            "yanchor": "top",
            "yshift": -20,
            "showarrow": False,
            "font": {"size": 10, "color": color},
            "bgcolor": "rgba(255,255,255,0.9)",
            "bordercolor": color,
            "borderwidth": 1,
            "borderpad": 1,
            "name": "edge-below",
        }
    ]


def _log10(value: float) -> float:
    return math.log10(value) if value > 0 else -math.inf


def _round(value: float) -> float:
    return float(f"{value:.6g}")
