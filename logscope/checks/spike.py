"""spike: a value far above its own recent past — `factor` × the median of the previous
`window` points (Megatron-LM flags 10× the running max; llm-foundry 2× the window mean).
Scale-free, so it serves grad norms and losses of any magnitude."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from logscope.checks.base import Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    factor: float
    window: int = 50
    min_value: float = 0.0
    min_points: int = 10

    def problems(self) -> list[str]:
        return [] if self.factor > 1 else [f"factor must be above 1, got {self.factor}"]


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) <= p.min_points:
        return []
    median = pl.Series(clean.values).rolling_median(p.window, min_samples=p.min_points)
    baseline = np.concatenate(([np.nan], median.to_numpy()[:-1]))  # previous points only
    with np.errstate(invalid="ignore"):
        bad = (clean.values > p.factor * baseline) & (clean.values > p.min_value) & (baseline > 0)
    hit = streaks(clean, bad, 1)
    if hit is None:
        return []
    first = int(np.searchsorted(clean.steps, hit.step))
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
    fields=("factor", "window", "min_value", "baseline", "ratio"),
)
