"""compare: one metric against another at the same step (e.g. rejected above chosen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from logscope.checks.base import OPS, Check, Hit, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    other: str
    op: Literal["<", "<=", ">", ">="]
    margin: float = 0.0
    for_steps: int = 1


def evaluate(data: pl.DataFrame, p: Params) -> list[Hit]:
    """`data` has `value` and `other`; rows where either is missing are not compared."""
    both = data.filter(pl.col("other").is_not_null() & pl.col("other").is_not_nan())
    bad = OPS[p.op](pl.col("value") - pl.col("other"), p.margin)
    gap = both.with_columns((pl.col("value") - pl.col("other")).alias("_gap"))
    hit = streaks(gap, bad, p.for_steps)
    if hit is None:
        return []
    first = gap.filter(pl.col("step") == hit.step).row(0, named=True)
    return [hit.with_extra(other_value=first["other"], gap=first["_gap"])]


CHECK = Check(
    name="compare",
    params=Params,
    evaluate=evaluate,
    fields=("other", "op", "margin", "for_steps", "other_value", "gap", "runs", "longest"),
    needs_other=True,
    summary="{metric} {op} {other}",
)
