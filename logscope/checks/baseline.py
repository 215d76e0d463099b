"""baseline: the run against a reference run (`--baseline`, `logscope diff`).

`stat` picks what is compared: `final` (median of the last `last` points, so one noisy
last value does not decide), `best` (max or min, by `better`), `mean`, or `curve` — the
baseline interpolated at the run's own steps (different logging cadences line up) and
compared point by point, firing after `for_steps` consecutive points worse than tolerated.
A regression is relative to the baseline's magnitude (`tolerance: 0.05` = 5% worse) unless
`absolute: true`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from logscope.checks.base import Array, Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    better: Literal["higher", "lower"]
    tolerance: float
    stat: Literal["final", "best", "mean", "curve"] = "final"
    absolute: bool = False
    last: int = 10
    for_steps: int = 5

    def problems(self) -> list[str]:
        errors = []
        if self.tolerance < 0:
            errors.append(f"tolerance must not be negative, got {self.tolerance}")
        if self.last < 1:
            errors.append(f"last must be at least 1 point, got {self.last}")
        return errors


def summary(values: Array, p: Params) -> float:
    """The statistic `p.stat` of finite values (NaN when there are none)."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return float("nan")
    if p.stat == "best":
        return float(finite.max() if p.better == "higher" else finite.min())
    if p.stat == "mean":
        return float(finite.mean())
    return float(np.median(finite[-p.last :]))


def regression(run: Array | float, base: Array | float, p: Params) -> Array | float:
    """How much worse the run is than the baseline (positive = worse), as a fraction of the
    baseline's magnitude unless `absolute`."""
    worse = np.subtract(base, run) if p.better == "higher" else np.subtract(run, base)
    if p.absolute:
        return worse
    with np.errstate(divide="ignore", invalid="ignore"):
        return worse / np.maximum(np.abs(base), 1e-12)


def evaluate(data: Series, p: Params) -> list[Hit]:
    if data.baseline is None:
        return []
    base_steps, base_values = data.baseline
    run = data.finite()
    keep = np.isfinite(base_values)
    base_steps, base_values = base_steps[keep], base_values[keep]
    if len(run) == 0 or len(base_values) == 0:
        return []
    if p.stat == "curve":
        return _curve(run, base_steps, base_values, p)
    ours, theirs = summary(run.values, p), summary(base_values, p)
    change = float(regression(ours, theirs, p))
    if not change > p.tolerance:
        return []
    return [
        Hit(
            step=int(run.steps[0]),
            last_step=int(run.steps[-1]),
            value=ours,
            extra={"baseline_value": theirs, "regression": change, "limit": p.tolerance},
        )
    ]


def _curve(run: Series, base_steps: Array, base_values: Array, p: Params) -> list[Hit]:
    """Point by point over the steps both runs cover."""
    inside = (run.steps >= base_steps[0]) & (run.steps <= base_steps[-1])
    run = run.select(inside)
    if len(run) == 0:
        return []
    expected = np.interp(run.steps, base_steps, base_values)
    if p.absolute:
        change = np.asarray(regression(run.values, expected, p))
    else:
        # relative to the baseline's level, but never to less than a quarter of its usual
        # spread: near a zero crossing a tiny gap would otherwise read as thousands of percent
        spread = float(np.subtract(*np.percentile(base_values, [95, 5])))
        scale = np.maximum(np.abs(expected), 0.25 * spread)
        worse = expected - run.values if p.better == "higher" else run.values - expected
        with np.errstate(divide="ignore", invalid="ignore"):
            change = worse / np.maximum(scale, 1e-12)
    hit = streaks(Series(run.steps, change), change > p.tolerance, p.for_steps)
    if hit is None:
        return []
    first = int(np.searchsorted(run.steps, hit.began))
    return [
        Hit(
            step=hit.step,
            onset=hit.onset,
            last_step=hit.last_step,
            value=float(run.values[first]),
            extra={
                **hit.extra,
                "baseline_value": float(expected[first]),
                "regression": float(change[first]),
                "worst_regression": hit.extra["worst"],
                "limit": p.tolerance,
            },
        )
    ]


CHECK = Check(
    name="baseline",
    params=Params,
    evaluate=evaluate,
    fields=(
        "better",
        "tolerance",
        "stat",
        "baseline_value",
        "regression",
        "worst_regression",
        "limit",
        "runs",
        "longest",
    ),
    needs_baseline=True,
)
