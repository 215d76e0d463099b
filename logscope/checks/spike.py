"""spike: a value far above its own recent past — `factor` × the median (or mean) of the
previous `window` points (Megatron-LM flags 10× the running max; llm-foundry 2× the window
mean). Scale-free, so it serves grad norms and losses of any magnitude.

`patience` is llm-foundry's: a spike counts only when more than `patience` points in a row are
outliers, so a single bad batch does not cry wolf."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from logscope.checks.base import Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A spike rule's keys: `factor` over the recent median (or mean) of `window` points."""

    factor: float
    window: int = 50
    min_value: float = 0.0
    min_points: int = 10
    statistic: Literal["median", "mean"] = "median"
    patience: int = 0
    min_baseline: float = 0.0  # no spike against a recent level below this (RL losses near 0)

    def problems(self) -> list[str]:
        found = [] if self.factor > 1 else [f"factor must be above 1, got {self.factor}"]
        if self.patience < 0:
            found.append(f"patience must be 0 or more, got {self.patience}")
        return found


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) <= p.min_points:
        return []
    values = pl.Series(clean.values)
    rolling = values.rolling_median if p.statistic == "median" else values.rolling_mean
    center = rolling(p.window, min_samples=p.min_points).to_numpy()
    baseline = np.concatenate(([np.nan], center[:-1]))  # previous points only
    with np.errstate(invalid="ignore"):
        # llm-foundry counts `loss >= multiplier * mean`; at or above is an outlier here too
        bad = (
            (clean.values >= p.factor * baseline)
            & (clean.values > p.min_value)
            & (baseline > max(p.min_baseline, 0.0))
        )
    hit = streaks(clean, bad, p.patience + 1)
    if hit is None:
        return []
    first = int(np.searchsorted(clean.steps, hit.began))
    worst = int(np.searchsorted(clean.steps, hit.extra["worst_step"]))
    return [
        hit.with_extra(
            baseline=float(baseline[first]), ratio=float(clean.values[worst] / baseline[worst])
        )
    ]


CHECK = Check(
    name="spike",
    params=Params,
    evaluate=evaluate,
    fields=(
        "factor",
        "window",
        "min_value",
        "statistic",
        "patience",
        "baseline",
        "ratio",
        "runs",
        "longest",
    ),
)
