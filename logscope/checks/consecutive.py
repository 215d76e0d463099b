"""consecutive: the metric rises (or falls) at `steps` logged points in a row.

A run of N increases spans N+1 points; the finding's step is the point the rise began.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from logscope.checks.base import Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
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
    start = int(np.searchsorted(clean.steps, hit.step)) - 1
    start_value = float(clean.values[start])
    return [
        Hit(
            step=int(clean.steps[start]),
            last_step=hit.last_step,
            value=start_value,
            extra={**hit.extra, "start_value": start_value},
        )
    ]


CHECK = Check(
    name="consecutive",
    params=Params,
    evaluate=evaluate,
    fields=("direction", "steps", "min_delta", "start_value", "runs", "longest"),
)
