"""What a check kind is, and the vectorised helpers the kinds share.

A check sees one metric as a `Series`: numpy arrays of steps (ascending) and values, after
the rule's `where:` filter and step window were applied and with missing points dropped (a
metric absent from a row is missing, never zero; NaN and ±Inf are kept, they are values).
It returns hits; the engine turns each hit into a Finding with the rule's message, advice and
source. Checks work on numpy rather than Polars because a rule touches one or two columns:
on small runs Polars' per-query overhead (~0.3 ms) would dominate, on large ones numpy's
vector operations are just as fast.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]

OPS: Mapping[str, Callable[[Array, float], Array]] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


@dataclass(frozen=True, slots=True)
class Series:
    """One metric: `steps` (int64, ascending), `values` (float64); `other` is the compared
    metric at the same steps for `compare` (NaN where it was not logged); `baseline` the
    (steps, values) of the same metric in a reference run. `run_steps` are the steps of every
    row of the run (any metric; what has been logged so far, live) and `until` the rule's
    `before_step`: a check judging a stretch of steps as a whole waits until the run has
    gone past it, so that live and offline it fires at the same step."""

    steps: Array
    values: Array
    other: Array | None = None
    baseline: tuple[Array, Array] | None = None  # the same metric in the baseline run
    run_steps: Array | None = None
    until: int | None = None

    def __len__(self) -> int:
        return len(self.values)

    def select(self, keep: Array) -> Series:
        other = None if self.other is None else self.other[keep]
        return replace(self, steps=self.steps[keep], values=self.values[keep], other=other)

    def finite(self) -> Series:
        return self.select(np.isfinite(self.values))

    def reached(self, step: int) -> int | None:
        """The first logged step of the run at or after `step` (None: not reached yet)."""
        steps = self.run_steps if self.run_steps is not None else self.steps
        index = int(np.searchsorted(steps, step))
        return int(steps[index]) if index < len(steps) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """Where a check fired.

    `step` is the first point at which the check, seeing only the points up to it, fires
    (what `tail --follow` announces); `onset` the first bad point of what it found (None:
    the same as `step`); `last_step` the last bad point; `value` the value at the onset.
    """

    step: int
    last_step: int
    value: float | None
    extra: dict[str, Any] = field(default_factory=dict)
    onset: int | None = None

    @property
    def began(self) -> int:
        """The onset, or the step when the check gives none."""
        return self.step if self.onset is None else self.onset

    def with_extra(self, **extra: Any) -> Hit:
        """The same hit with more (or overriding) template fields."""
        return replace(self, extra={**self.extra, **extra})


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """A check kind: its parameters, its function, the template fields it provides."""

    name: str
    params: type
    evaluate: Callable[[Series, Any], list[Hit]]
    fields: tuple[str, ...] = ()
    needs_other: bool = False
    needs_baseline: bool = False


# fields every kind provides to message templates
COMMON_FIELDS = (
    "metric",
    "value",
    "step",
    "onset",
    "last_step",
    "count",
    "worst",
    "worst_step",
)


def runs_of(mask: Array) -> tuple[Array, Array]:
    """First and last index of every run of consecutive True values."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1


def streaks(data: Series, bad: Array, min_length: int, *, worst: str = "max") -> Hit | None:
    """One hit covering every run of >= `min_length` consecutive points where `bad` holds.

    `onset` is the first point of the first such run, `step` the point at which that run
    reached `min_length` (when a live follower would see it fire), `last_step` the last
    point of the last run;
    `count` is how many points were in qualifying runs, `worst` the extreme value among them.
    A NaN point never counts as bad (rules for NaN use the nonfinite kind) and so breaks a run.
    """
    starts, ends = runs_of(bad & ~np.isnan(data.values))
    lengths = ends - starts + 1
    keep = lengths >= max(min_length, 1)
    if not keep.any():
        return None
    starts, ends, lengths = starts[keep], ends[keep], lengths[keep]
    marks = np.zeros(len(data) + 1, dtype=np.int64)
    np.add.at(marks, starts, 1)
    np.add.at(marks, ends + 1, -1)
    inside = np.flatnonzero(np.cumsum(marks)[:-1] > 0)
    pick = np.argmax if worst == "max" else np.argmin
    extreme = int(inside[pick(data.values[inside])])
    return Hit(
        step=int(data.steps[starts[0] + max(min_length, 1) - 1]),
        onset=int(data.steps[starts[0]]),
        last_step=int(data.steps[ends[-1]]),
        value=float(data.values[starts[0]]),
        extra={
            "count": int(lengths.sum()),
            "runs": len(starts),
            "longest": int(lengths.max()),
            "worst": float(data.values[extreme]),
            "worst_step": int(data.steps[extreme]),
        },
    )


def worst_direction(op: str) -> str:
    """For `value > limit` the worst value is the largest; for `<` the smallest."""
    return "max" if op in (">", ">=") else "min"
