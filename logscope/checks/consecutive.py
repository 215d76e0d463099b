"""consecutive: the metric rises (or falls) at `count` logged steps in a row.

A run of N increases spans N+1 points; the finding's step is the point the rise began.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from logscope.checks.base import Check, Hit, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    direction: Literal["increasing", "decreasing"]
    steps: int
    min_delta: float = 0.0


def evaluate(data: pl.DataFrame, p: Params) -> list[Hit]:
    clean = data.filter(pl.col("value").is_finite())
    delta = pl.col("value").diff()
    moved = delta > p.min_delta if p.direction == "increasing" else delta < -p.min_delta
    hit = streaks(clean, moved, p.steps, worst="max" if p.direction == "increasing" else "min")
    if hit is None:
        return []
    steps = clean.get_column("step")
    start_index = steps.search_sorted(hit.step) - 1
    start = int(steps[max(start_index, 0)])
    start_value = clean.get_column("value")[max(start_index, 0)]
    extra = {**hit.extra, "start_value": start_value}
    return [Hit(step=start, last_step=hit.last_step, value=start_value, extra=extra)]


CHECK = Check(
    name="consecutive",
    params=Params,
    evaluate=evaluate,
    fields=("direction", "steps", "min_delta", "start_value", "runs", "longest"),
    summary="{metric} {direction} for {steps} logged steps in a row",
)
