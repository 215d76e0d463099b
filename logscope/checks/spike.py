"""spike: a value far above its own recent past — `factor` × the median of the previous
`window` points (Megatron-LM flags 10× the running max; llm-foundry 2× the window mean).
Scale-free, so it serves grad norms and losses of any magnitude."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from logscope.checks.base import Check, Hit, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    factor: float
    window: int = 50
    min_value: float = 0.0
    min_points: int = 10

    def problems(self) -> list[str]:
        return [] if self.factor > 1 else [f"factor must be above 1, got {self.factor}"]


def evaluate(data: pl.DataFrame, p: Params) -> list[Hit]:
    clean = data.filter(pl.col("value").is_finite())
    baseline = pl.col("value").rolling_median(p.window, min_samples=p.min_points).shift(1)
    framed = clean.with_columns(baseline.alias("_base"))
    bad = (
        (pl.col("value") > p.factor * pl.col("_base"))
        & (pl.col("value") > p.min_value)
        & (pl.col("_base") > 0)
    )
    hit = streaks(framed, bad, 1)
    if hit is None:
        return []
    base = framed.filter(pl.col("step") == hit.step).item(0, "_base")
    worst_base = framed.filter(pl.col("step") == hit.extra["worst_step"]).item(0, "_base")
    return [hit.with_extra(baseline=base, ratio=hit.extra["worst"] / worst_base)]


CHECK = Check(
    name="spike",
    params=Params,
    evaluate=evaluate,
    fields=("factor", "window", "min_value", "baseline", "ratio"),
    summary="{metric} above {factor}x its recent median",
)
