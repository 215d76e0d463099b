"""What a check kind is, and the vectorised helpers the kinds share.

A check sees one metric as a frame with columns `step` (Int64, ascending) and `value`
(Float64, nulls already dropped: a metric absent from a row is missing, never zero), after
the rule's `where:` filter and step window were applied. It returns hits; the engine turns
each hit into a Finding with the rule's message, advice and source.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

OPS: Mapping[str, Callable[[pl.Expr, Any], pl.Expr]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """Where a check fired: first step, last step, the value at the first step, extras."""

    step: int
    last_step: int
    value: float | None
    extra: dict[str, Any] = field(default_factory=dict)

    def with_extra(self, **extra: Any) -> Hit:
        """The same hit with more (or overriding) template fields."""
        return replace(self, extra={**self.extra, **extra})


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """A check kind: its parameters, its function, the template fields it provides."""

    name: str
    params: type
    evaluate: Callable[[pl.DataFrame, Any], list[Hit]]
    fields: tuple[str, ...] = ()
    needs_other: bool = False
    summary: str = ""


# fields every kind provides to message templates
COMMON_FIELDS = ("metric", "value", "step", "last_step", "count", "worst", "worst_step")


def streaks(data: pl.DataFrame, bad: pl.Expr, min_length: int, *, worst: str = "max") -> Hit | None:
    """One hit covering every run of >= `min_length` consecutive rows where `bad` holds.

    `step` is the first row of the first such run, `last_step` the last row of the last;
    `count` is how many rows were in qualifying runs, `worst` the extreme value among them.
    A NaN row never counts as bad (rules for NaN use the nonfinite kind) and so breaks a run.
    """
    marked = data.with_columns(
        (bad & pl.col("value").is_not_nan()).fill_null(False).alias("_bad")
    ).with_columns(
        (pl.col("_bad") != pl.col("_bad").shift(1, fill_value=False)).cum_sum().alias("_run")
    )
    runs = (
        marked.filter(pl.col("_bad"))
        .group_by("_run", maintain_order=True)
        .agg(
            pl.col("step").first().alias("start"),
            pl.col("step").last().alias("end"),
            pl.col("value").first().alias("first"),
            pl.len().alias("n"),
        )
        .filter(pl.col("n") >= min_length)
    )
    if runs.height == 0:
        return None
    run_ids = runs.get_column("_run")
    inside = marked.filter(pl.col("_bad") & pl.col("_run").is_in(run_ids.implode()))
    extreme = inside.sort("value", descending=(worst == "max"), maintain_order=True).row(
        0, named=True
    )
    return Hit(
        step=int(runs.item(0, "start")),
        last_step=int(runs.item(-1, "end")),
        value=runs.item(0, "first"),
        extra={
            "count": int(runs.get_column("n").sum()),
            "runs": runs.height,
            "longest": int(runs.get_column("n").max()),  # type: ignore[arg-type]
            "worst": extreme["value"],
            "worst_step": int(extreme["step"]),
        },
    )


def worst_direction(op: str) -> str:
    """For `value > limit` the worst value is the largest; for `<` the smallest."""
    return "max" if op in (">", ">=") else "min"
