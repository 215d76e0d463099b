"""Onset labels above a plot that never overlap: stacked in rows, the rest on hover.

Each finding's onset gets a vertical line in the plot and a label (its rule id) in the top
margin. Labels are laid out before the page is drawn, from the x range and a width that
is at most the plot's (the narrowest grid column): a label goes in the lowest row where it
clears the labels already there, right-aligned to its line when it would run past the plot's
right end. What does not fit in MAX_ROWS rows stays readable on hover: every onset also has
a marker at the top of its line whose tooltip names the rules. The guides beyond the top of
the y axis (axes.py) are named in the first row's right corner, kept clear the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROW = 14  # px per row of labels
CHAR = 6.2  # px per character of a 10 px label, a little wider than system-ui's average
WIDTH = 470.0  # px of plot area assumed: the narrowest grid column, less the axis margins
GAP = 8.0  # px between two labels in a row
MAX_ROWS = 4


@dataclass(frozen=True, slots=True)
class Onset:
    step: int
    text: str  # the label: rule ids (and the run, with several runs)
    color: str


@dataclass(frozen=True, slots=True)
class Stacked:
    annotations: list[dict[str, Any]]
    rows: int  # rows used (the top margin grows by ROW px each)
    hidden: int  # labels left to the hover markers


def stack(
    onsets: list[Onset],
    x0: float,
    x1: float,
    corner: Onset | None = None,
    width: float = WIDTH,
) -> Stacked:
    """Annotations for the onsets' labels, none overlapping another at `width` px or more.
    `corner` (the guides beyond the top of the y axis) takes the right end of the first row."""
    span = max(x1 - x0, 1e-9)
    rows: list[list[tuple[float, float]]] = []  # the px intervals taken in each row
    annotations: list[dict[str, Any]] = []
    if corner is not None:
        rows.append([(width - len(corner.text) * CHAR - 10, width + GAP)])
        annotations.append(_corner(corner))
    placed = []
    for onset in onsets:
        at = (onset.step - x0) / span * width
        wide = len(onset.text) * CHAR + 4
        if at + wide <= width:
            placed.append((at, at + wide, onset, "left"))
        else:
            placed.append((max(at - wide, 0.0), at, onset, "right"))
    hidden = 0
    for start, end, onset, anchor in sorted(placed, key=lambda p: p[0]):
        row = next((r for r, taken in enumerate(rows) if _free(taken, start, end)), len(rows))
        if row >= MAX_ROWS:
            hidden += 1
            continue
        if row == len(rows):
            rows.append([])
        rows[row].append((start, end))
        annotations.append(_label(onset, anchor, row))
    return Stacked(annotations, len(rows), hidden)


def _free(taken: list[tuple[float, float]], start: float, end: float) -> bool:
    return all(end + GAP <= a or start >= b + GAP for a, b in taken)


def _label(onset: Onset, anchor: str, row: int) -> dict[str, Any]:
    return {
        "x": onset.step,
        "xref": "x",
        "y": 1,
        "yref": "paper",
        "yanchor": "bottom",
        "yshift": 2 + row * ROW,
        "xanchor": anchor,
        "text": onset.text,
        "showarrow": False,
        "font": {"size": 10, "color": onset.color},
        "name": f"onset-row-{row}",
    }


def _corner(corner: Onset) -> dict[str, Any]:
    """Guides past the top of the y axis, over the plot's top right corner."""
    return {
        "x": 1,
        "xref": "paper",
        "y": 1,
        "yref": "paper",
        "yanchor": "bottom",
        "yshift": 2,
        "xanchor": "right",
        "text": corner.text,
        "showarrow": False,
        "font": {"size": 10, "color": corner.color},
        "bgcolor": "rgba(255,255,255,0.9)",
        "bordercolor": corner.color,
        "borderwidth": 1,
        "borderpad": 1,
        "name": "edge-above",
    }
