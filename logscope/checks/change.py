"""change: the mean of the last `window` logged points moved against the mean of the
`window` points before them — W&B Automations' "change" trigger, ABSOLUTE (the difference)
or RELATIVE (the difference over the earlier mean: -0.2 is a 20% drop)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from logscope.checks.base import OPS, Check, Hit, Series, streaks, worst_direction
from logscope.checks.window import rolling


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A change rule's keys: how far the mean of the last `window` points may move from the
    window before it (relative or absolute)."""

    window: int
    op: Literal["<", "<=", ">", ">="]
    value: float
    mode: Literal["relative", "absolute"] = "relative"

    def problems(self) -> list[str]:
        return [] if self.window >= 1 else [f"window must be at least 1 point, got {self.window}"]


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) < 2 * p.window:
        return []
    current = rolling(clean.values, "mean", p.window)
    previous = np.concatenate((np.full(p.window, np.nan), current[: -p.window]))
    with np.errstate(invalid="ignore", divide="ignore"):
        change = current - previous
        if p.mode == "relative":  # from 0, any change is an infinite relative change
            change = np.where(previous != 0, change / np.abs(previous), np.sign(change) * np.inf)
        bad = OPS[p.op](change, p.value)
    hit = streaks(Series(clean.steps, change), bad, 1, worst=worst_direction(p.op))
    if hit is None:
        return []
    first = int(np.searchsorted(clean.steps, hit.began))
    return [hit.with_extra(previous=float(previous[first]), current=float(current[first]))]


CHECK = Check(
    name="change",
    params=Params,
    evaluate=evaluate,
    fields=("window", "op", "limit", "mode", "previous", "current", "runs", "longest"),
)
