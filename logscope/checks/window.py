"""window: an aggregate (mean, max or min) of the last `window` logged points crosses a
limit — W&B Automations' "aggregate over a window with a comparison". The mean of a window
ignores one-step blips that a plain threshold would report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from logscope.checks import threshold
from logscope.checks.base import Check, Hit, Series


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A window rule's keys: the aggregate of the last `window` points and its limit."""

    aggregate: Literal["mean", "median", "max", "min"]
    window: int
    op: Literal["<", "<=", ">", ">="]
    value: float
    for_steps: int = 1

    def problems(self) -> list[str]:
        return [] if self.window >= 1 else [f"window must be at least 1 point, got {self.window}"]


def rolling(values: np.ndarray, aggregate: str, window: int) -> np.ndarray:
    """The aggregate of each full window ending at each point; NaN before the first."""
    series = pl.Series(values)
    roll = {
        "mean": series.rolling_mean,
        "median": series.rolling_median,
        "max": series.rolling_max,
        "min": series.rolling_min,
    }
    return roll[aggregate](window).fill_null(np.nan).to_numpy()


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) < p.window:
        return []
    values = rolling(clean.values, p.aggregate, p.window)
    # a mean of 30 x 0.1 is 0.10000000000000002: rounding must not cross the limit
    values = np.where(np.isclose(values, p.value, rtol=1e-12, atol=0.0), p.value, values)
    aggregated = Series(clean.steps, values)
    with np.errstate(invalid="ignore"):  # a threshold on the aggregate instead of the value
        return threshold.evaluate(
            aggregated, threshold.Params(op=p.op, value=p.value, for_steps=p.for_steps)
        )


CHECK = Check(
    name="window",
    params=Params,
    evaluate=evaluate,
    fields=("aggregate", "window", "op", "limit", "for_steps", "runs", "longest"),
)
