"""threshold: the value crosses a limit, optionally for `for_steps` logged points in a row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from logscope.checks.base import OPS, Check, Hit, Series, streaks, worst_direction


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A threshold rule's keys: the limit (`op`, `value`) and how many logged points in a
    row must cross it."""

    op: Literal["<", "<=", ">", ">="]
    value: float
    for_steps: int = 1


def evaluate(data: Series, p: Params) -> list[Hit]:
    bad = OPS[p.op](data.values, p.value)
    hit = streaks(data, bad, p.for_steps, worst=worst_direction(p.op))
    return [hit] if hit else []


CHECK = Check(
    name="threshold",
    params=Params,
    evaluate=evaluate,
    fields=("op", "limit", "for_steps", "runs", "longest"),
)
