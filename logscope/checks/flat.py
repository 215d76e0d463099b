"""flat: the metric stops moving — over `window` logged points its range stays within
`tolerance`, optionally while sitting within `within` of `near` (e.g. a margin stuck at 0)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logscope.checks.base import Check, Hit, Series


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A flat rule's keys: the window and how little movement counts as stalled (optionally
    `near` a value, `within` a distance of it)."""

    window: int
    tolerance: float
    near: float | None = None
    within: float | None = None

    def problems(self) -> list[str]:
        errors = []
        if self.window < 2:
            errors.append(f"window must be at least 2 points, got {self.window}")
        if (self.near is None) != (self.within is None):
            errors.append("'near' and 'within' go together")
        return errors


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) < p.window:
        return []
    high, low = _rolling_extremes(clean.values, p.window)
    spread = high - low
    flat = spread <= p.tolerance
    if p.near is not None and p.within is not None:
        # the farthest point from `near` is the window's highest or lowest (x - near
        # rounds monotonically in x): max |x - near| without a points x window array
        flat &= np.maximum(high - p.near, p.near - low) <= p.within
    firing = np.flatnonzero(flat)  # window i covers points i .. i + window - 1
    if len(firing) == 0:
        return []
    first = int(firing[0])
    return [
        Hit(
            step=int(clean.steps[first + p.window - 1]),  # the first full flat window's end
            onset=int(clean.steps[first]),
            last_step=int(clean.steps[firing[-1] + p.window - 1]),
            value=float(clean.values[first]),
            extra={"spread": float(spread[first]), "count": len(firing)},
        )
    ]


def _rolling_extremes(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Each full window's highest and lowest value (window i: points i .. i + window - 1),
    in O(points) with Polars' rolling extremes."""
    import polars as pl

    series = pl.Series(values, dtype=pl.Float64)
    start = window - 1
    return (
        series.rolling_max(window).to_numpy()[start:],
        series.rolling_min(window).to_numpy()[start:],
    )


CHECK = Check(
    name="flat",
    params=Params,
    evaluate=evaluate,
    fields=("window", "tolerance", "near", "within", "spread"),
)
