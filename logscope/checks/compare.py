"""compare: one metric against another at the same step (e.g. rejected above chosen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from logscope.checks.base import OPS, Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A compare rule's keys: the `other` metric and how this one must not stand against it."""

    other: str
    op: Literal["<", "<=", ">", ">="]
    margin: float = 0.0
    for_steps: int = 1


def evaluate(data: Series, p: Params) -> list[Hit]:
    """Points where the other metric is missing or NaN are not compared."""
    if data.other is None:
        return []
    both = data.select(~np.isnan(data.other))
    assert both.other is not None
    gap = both.values - both.other
    hit = streaks(both, OPS[p.op](gap, p.margin), p.for_steps)
    if hit is None:
        return []
    first = int(np.searchsorted(both.steps, hit.began))
    return [hit.with_extra(other_value=float(both.other[first]), gap=float(gap[first]))]


CHECK = Check(
    name="compare",
    params=Params,
    evaluate=evaluate,
    fields=("other", "op", "margin", "for_steps", "other_value", "gap", "runs", "longest"),
    needs_other=True,
)
