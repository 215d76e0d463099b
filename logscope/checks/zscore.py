"""zscore: a point more than `threshold` standard deviations from the mean of the
`window` points before it — W&B Automations' z-score trigger (defaults: window 30,
threshold 3). `direction` limits it to jumps `above` or drops `below` the recent mean."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from logscope.checks.base import Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A zscore rule's keys: how many standard deviations from the recent mean is an outlier."""

    window: int = 30
    threshold: float = 3.0
    direction: Literal["above", "below", "both"] = "both"

    def problems(self) -> list[str]:
        errors = [] if self.window >= 2 else [f"window must be at least 2, got {self.window}"]
        if self.threshold <= 0:
            errors.append(f"threshold must be above 0, got {self.threshold}")
        return errors


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) <= p.window:
        return []
    values = pl.Series(clean.values)
    mean = values.rolling_mean(p.window).fill_null(np.nan).to_numpy()
    std = values.rolling_std(p.window).fill_null(np.nan).to_numpy()
    # the window before each point, never the point itself
    mean, std = np.concatenate(([np.nan], mean[:-1])), np.concatenate(([np.nan], std[:-1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        # after a constant stretch (std 0) any change is infinitely many deviations away:
        # a flat counter that suddenly jumps is exactly what this check is for
        z = np.where(std > 0, (clean.values - mean) / std, np.sign(clean.values - mean) * np.inf)
        bad = {"above": z > p.threshold, "below": z < -p.threshold}.get(
            p.direction, np.abs(z) > p.threshold
        )
    hit = streaks(clean, bad, 1, worst="min" if p.direction == "below" else "max")
    if hit is None:
        return []
    first = int(np.searchsorted(clean.steps, hit.began))
    if p.direction == "both":  # the worst point is the one furthest from its mean, either way
        flagged = np.flatnonzero(bad)
        far = int(flagged[np.argmax(np.abs(z[flagged]))])
        hit = hit.with_extra(worst=float(clean.values[far]), worst_step=int(clean.steps[far]))
    return [hit.with_extra(z=float(z[first]), mean=float(mean[first]))]


CHECK = Check(
    name="zscore",
    params=Params,
    evaluate=evaluate,
    fields=("window", "threshold", "direction", "z", "mean", "runs", "longest"),
)
