"""consecutive: the metric rises (or falls) at `steps` logged points in a row.

A run of N increases spans N+1 points: the first is the last good one (`start_step`, its
value `start_value`); the onset is the first point that moved, and the finding fires (`step`)
at the N-th move, when a live follower would see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from logscope.checks.base import Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A consecutive rule's keys: the direction, how many moves in a row, the smallest move."""

    direction: Literal["increasing", "decreasing"]
    steps: int
    min_delta: float = 0.0


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) < 2:
        return []
    delta = np.diff(clean.values)
    moved = delta > p.min_delta if p.direction == "increasing" else delta < -p.min_delta
    # a move belongs to the point it arrives at; the run starts one point earlier
    arrivals = Series(clean.steps[1:], clean.values[1:])
    hit = streaks(arrivals, moved, p.steps, worst="max" if p.direction == "increasing" else "min")
    if hit is None:
        return []
    # the point before the first move is the last good one (the peak of a fall): the onset
    # is the first worse point, and the finding fires when the run of moves is long enough
    start = int(np.searchsorted(clean.steps, hit.began)) - 1
    start_value = float(clean.values[start])
    return [
        hit.with_extra(start_value=start_value, start_step=int(clean.steps[start])),
    ]


CHECK = Check(
    name="consecutive",
    params=Params,
    evaluate=evaluate,
    fields=("direction", "steps", "min_delta", "start_value", "start_step", "runs", "longest"),
)
