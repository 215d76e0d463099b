"""drawdown: the metric fell back from its own best so far (rose above it, for a loss).

Judged against the run itself, so it needs no absolute target: rollout F1 that collapses to
half of what earlier E-steps reached, or an eval loss 10% above its best while training goes
on. The best is taken over the points before the one judged (`np.maximum.accumulate`, causal),
after at least `min_points` of them; `for_steps` points in a row must be that far off, so one
bad evaluation that recovers does not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from logscope.checks.base import Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    better: Literal["higher", "lower"]
    drop: float  # relative to the best: 0.3 = 30% worse than the best so far
    min_best: float = 0.0  # no judgement while the best is (in size) below this
    min_points: int = 3
    for_steps: int = 2

    def problems(self) -> list[str]:
        found = [] if self.drop > 0 else [f"drop must be above 0, got {self.drop}"]
        if self.min_points < 1:
            found.append(f"min_points must be at least 1, got {self.min_points}")
        return found


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) <= p.min_points:
        return []
    values = clean.values if p.better == "higher" else -clean.values
    best = np.concatenate(([np.nan], np.maximum.accumulate(values)[:-1]))
    best[: p.min_points] = np.nan
    with np.errstate(invalid="ignore"):
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
            best_step=int(clean.steps[:first][np.argmax(values[:first])]),
            change=float((clean.values[first] - best_value) / abs(best_value)),
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
        "runs",
        "longest",
    ),
)
