"""drawdown: the metric fell back from its own best so far (rose above it, for a loss).

Judged against the run itself, so it needs no absolute target: rollout F1 that collapses to
half of what earlier E-steps reached, or an eval loss 10% above its best while training goes
on. The best is taken over the points before the one judged (`np.maximum.accumulate`, causal),
after at least `min_points` of them; `for_steps` points in a row must be that far off, so one
bad evaluation that recovers does not count. On a noisy series the best single point is an
outlier (the minimum of many noisy losses lies far below their level): `smooth` judges the
rolling median of the last N points instead, the best of those medians against the current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from logscope.checks.base import Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A drawdown rule's keys: how far the metric may fall back from its best so far."""

    better: Literal["higher", "lower"]
    drop: float  # relative to the best: 0.3 = 30% worse than the best so far
    min_best: float = 0.0  # no judgement while the best is (in size) below this
    min_points: int = 3
    for_steps: int = 2
    smooth: int = 1  # judge the rolling median of the last `smooth` points (noisy losses)
    # `best`: drop is a fraction of the best value; `progress`: of the way the metric came
    # from its start to its best (a loss that fell 2.0 -> 0.05 and is back at 0.55 gave back
    # 25% of its progress; 25% of 0.05 would be noise)
    relative_to: Literal["best", "progress"] = "best"

    def problems(self) -> list[str]:
        found = [] if self.drop > 0 else [f"drop must be above 0, got {self.drop}"]
        if self.smooth < 1:
            found.append(f"smooth must be at least 1 point, got {self.smooth}")
        if self.min_points < 1:
            found.append(f"min_points must be at least 1, got {self.min_points}")
        return found


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) <= p.min_points:
        return []
    level = clean.values
    if p.smooth > 1:  # causal: each point's median over itself and the points before it
        level = pl.Series(level).rolling_median(p.smooth, min_samples=1).to_numpy().astype(float)
    values = level if p.better == "higher" else -level
    # the best so far among full medians only: a median of the first 1, 2, ... points is a
    # single noisy value, and as a best it made the early noise of a long run a "climb back"
    first_full = min(p.smooth, len(values)) - 1
    candidates = values.copy()
    candidates[:first_full] = -np.inf
    best = np.concatenate(([np.nan], np.maximum.accumulate(candidates)[:-1]))
    best[~np.isfinite(best)] = np.nan
    best[: p.min_points] = np.nan
    with np.errstate(invalid="ignore"):
        if p.relative_to == "progress":
            # from the first full median on (causal: best is not judged before it); min_best
            # is then the least progress worth judging
            best[: first_full + 1] = np.nan
            scale = np.abs(best - values[first_full])
            bad = (best - values >= p.drop * scale) & (scale > p.min_best)
        else:
            scale = np.abs(best)
            bad = (best - values >= p.drop * scale) & (scale > p.min_best)
    hit = streaks(clean, bad, p.for_steps, worst="min" if p.better == "higher" else "max")
    if hit is None:
        return []
    first = int(np.searchsorted(clean.steps, hit.began))
    sign = 1.0 if p.better == "higher" else -1.0
    best_value = float(sign * best[first])
    return [
        hit.with_extra(
            best=best_value,
            best_step=int(clean.steps[:first][np.argmax(candidates[:first])]),
            change=float((level[first] - best_value) / abs(best_value)),
            level=float(level[first]),
        )
    ]


CHECK = Check(
    name="drawdown",
    params=Params,
    evaluate=evaluate,
    fields=(
        "better",
        "drop",
        "min_best",
        "min_points",
        "for_steps",
        "best",
        "best_step",
        "change",
        "level",
        "smooth",
        "relative_to",
        "runs",
        "longest",
    ),
)
