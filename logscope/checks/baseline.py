"""baseline: the run against a reference run (`--baseline`, `logscope diff`).

Like for like: both runs are compared over the steps both of them reached. `stat` picks
what is compared: `final` (median of the last `last` points up to the last shared step, so
one noisy last value does not decide and a run cut short is not judged against the end of
a longer one), `best` (max or min, by `better`) or `mean` over the shared steps, or `curve`
— the baseline interpolated at the run's own steps (different logging cadences line up) and
compared point by point, firing after `for_steps` consecutive points worse than tolerated.
A regression is relative to the baseline's magnitude (`tolerance: 0.05` = 5% worse) unless
`absolute: true`. Messages can say where: `{at_step}` is the last shared step, and
`{length_note}` says when the runs end at different steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from logscope.checks.base import Array, Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A baseline rule's keys: which way is `better`, the `tolerance` against the reference
    run, and the statistic compared (`final`: median of the `last` points)."""

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
    lengths = _lengths(run.steps, base_steps)
    if p.stat == "curve":
        return [h.with_extra(**lengths) for h in _curve(run, base_steps, base_values, p)]
    start, end = shared_window(run.steps, base_steps, p.stat)
    run = run.select((run.steps >= start) & (run.steps <= end))
    inside = (base_steps >= start) & (base_steps <= end)
    if len(run) == 0 or not inside.any():
        return []  # the runs share no steps: nothing like-for-like to compare
    ours, theirs = summary(run.values, p), summary(base_values[inside], p)
    change = float(regression(ours, theirs, p))
    if not change > p.tolerance:
        return []
    return [
        Hit(
            step=int(run.steps[0]),
            last_step=int(run.steps[-1]),
            value=ours,
            extra={
                "baseline_value": theirs,
                "regression": change,
                "limit": p.tolerance,
                **lengths,
            },
        )
    ]


def shared_window(run_steps: Array, base_steps: Array, stat: str) -> tuple[int, int]:
    """The steps both runs are compared over: up to the last step both reached; for `best`
    and `mean` also from the first step both logged (a late-starting run is not compared
    with the baseline's warm-up)."""
    end = int(min(run_steps[-1], base_steps[-1]))
    start = int(max(run_steps[0], base_steps[0])) if stat in ("best", "mean") else -(2**62)
    return start, end


def _lengths(run_steps: Array, base_steps: Array) -> dict[str, Any]:
    """Template fields that say where the comparison stops and which run is shorter."""
    run_end, base_end = int(run_steps[-1]), int(base_steps[-1])
    at = min(run_end, base_end)
    if run_end == base_end:
        note = ""
    else:
        shorter = "the run" if run_end < base_end else "the baseline"
        note = (
            f"; {shorter} is shorter (run to step {run_end}, baseline to step {base_end}), "
            f"compared up to step {at}"
        )
    return {
        "at_step": at,
        "run_last_step": run_end,
        "baseline_last_step": base_end,
        "length_note": note,
    }


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
        "at_step",
        "run_last_step",
        "baseline_last_step",
        "length_note",
    ),
    needs_baseline=True,
)
