"""nonfinite: NaN, +Inf or -Inf, the signature of a collapsed run."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from logscope.checks.base import Check, Hit


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    for_steps: int = 1


def evaluate(data: pl.DataFrame, p: Params) -> list[Hit]:
    bad = data.filter(pl.col("value").is_nan() | pl.col("value").is_infinite())
    if bad.height < p.for_steps:
        return []
    first = bad.row(0, named=True)
    return [
        Hit(
            step=int(first["step"]),
            last_step=int(bad.item(-1, "step")),
            value=first["value"],
            extra={
                "count": bad.height,
                "worst": first["value"],
                "worst_step": int(first["step"]),
                "total": data.height,
            },
        )
    ]


CHECK = Check(
    name="nonfinite",
    params=Params,
    evaluate=evaluate,
    fields=("for_steps", "total"),
    summary="{metric} is NaN or infinite",
)
