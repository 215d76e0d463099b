"""flat: the metric stops moving — over `window` logged points its range stays within
`tolerance`, optionally while sitting within `within` of `near` (e.g. a margin stuck at 0)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from logscope.checks.base import Check, Hit


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    window: int
    tolerance: float
    near: float | None = None
    within: float | None = None

    def problems(self) -> list[str]:
        errors = []
        if self.window < 2:
            errors.append(f"window must be at least 2 points, got {self.window}")
        if (self.near is None) != (self.within is None):
            errors.append("'near' and 'within' go together")
        return errors


def evaluate(data: pl.DataFrame, p: Params) -> list[Hit]:
    clean = data.filter(pl.col("value").is_finite())
    spread = pl.col("value").rolling_max(p.window) - pl.col("value").rolling_min(p.window)
    flat = spread <= p.tolerance
    if p.near is not None and p.within is not None:
        distance = (pl.col("value") - p.near).abs().rolling_max(p.window)
        flat = flat & (distance <= p.within)
    marked = clean.with_columns(
        flat.fill_null(False).alias("_flat"),
        spread.alias("_spread"),
        pl.col("step").shift(p.window - 1).alias("_start"),
    ).filter(pl.col("_flat"))
    if marked.height == 0:
        return []
    first = marked.row(0, named=True)
    start = int(first["_start"])
    start_value = clean.filter(pl.col("step") == start).item(0, "value")
    return [
        Hit(
            step=start,
            last_step=int(marked.item(-1, "step")),
            value=start_value,
            extra={"spread": first["_spread"], "count": marked.height},
        )
    ]


CHECK = Check(
    name="flat",
    params=Params,
    evaluate=evaluate,
    fields=("window", "tolerance", "near", "within", "spread"),
    summary="{metric} moved less than {tolerance} over {window} logged steps",
)
