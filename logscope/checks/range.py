"""range: the value leaves [min, max] (either bound may be omitted)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from logscope.checks.base import Check, Hit, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    min: float | None = None
    max: float | None = None
    for_steps: int = 1

    def problems(self) -> list[str]:
        if self.min is None and self.max is None:
            return ["range needs 'min', 'max' or both"]
        if self.min is not None and self.max is not None and self.min > self.max:
            return [f"min {self.min} is above max {self.max}"]
        return []


def evaluate(data: pl.DataFrame, p: Params) -> list[Hit]:
    low = pl.col("value") < p.min if p.min is not None else pl.lit(False)
    high = pl.col("value") > p.max if p.max is not None else pl.lit(False)
    hit = streaks(data, low | high, p.for_steps, worst="max")
    if hit is None:
        return []
    # the worst value is the one farthest outside the range
    outside = data.filter((low | high) & pl.col("value").is_not_nan())
    lo = p.min if p.min is not None else float("-inf")
    hi = p.max if p.max is not None else float("inf")
    distance = pl.max_horizontal(lo - pl.col("value"), pl.col("value") - hi)
    far = outside.with_columns(distance.alias("_d")).sort("_d", descending=True).row(0, named=True)
    return [hit.with_extra(worst=far["value"], worst_step=int(far["step"]))]


CHECK = Check(
    name="range",
    params=Params,
    evaluate=evaluate,
    fields=("min", "max", "for_steps", "runs", "longest"),
    summary="{metric} outside [{min}, {max}]",
)
