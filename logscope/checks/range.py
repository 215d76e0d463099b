"""range: the value leaves [min, max] (either bound may be omitted)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logscope.checks.base import Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A range rule's keys: the bounds (either may be omitted) and the persistence."""

    min: float | None = None
    max: float | None = None
    for_steps: int = 1

    def problems(self) -> list[str]:
        if self.min is None and self.max is None:
            return ["range needs 'min', 'max' or both"]
        if self.min is not None and self.max is not None and self.min > self.max:
            return [f"min {self.min} is above max {self.max}"]
        return []


def evaluate(data: Series, p: Params) -> list[Hit]:
    low = -np.inf if p.min is None else p.min
    high = np.inf if p.max is None else p.max
    # distance outside the range (NaN for NaN values, which streaks never counts; also for
    # an infinite value against the unbounded side of its sign: -inf is not above no max)
    with np.errstate(invalid="ignore"):
        distance = np.maximum(low - data.values, data.values - high)
    hit = streaks(data, distance > 0, p.for_steps)
    if hit is None:
        return []
    # the worst value is the one farthest outside the range
    outside = np.flatnonzero(distance > 0)
    far = int(outside[np.argmax(distance[outside])])
    return [hit.with_extra(worst=float(data.values[far]), worst_step=int(data.steps[far]))]


CHECK = Check(
    name="range",
    params=Params,
    evaluate=evaluate,
    fields=("min", "max", "for_steps", "runs", "longest"),
)
