"""flat: the metric stops moving — over `window` logged points its range stays within
`tolerance`, optionally while sitting within `within` of `near` (e.g. a margin stuck at 0)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from logscope.checks.base import Check, Hit, Series


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A flat rule's keys: the window and how little movement counts as stalled (optionally
    `near` a value, `within` a distance of it)."""

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


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) < p.window:
        return []
    windows = sliding_window_view(clean.values, p.window)  # a view: no copy
    spread = windows.max(axis=1) - windows.min(axis=1)
    flat = spread <= p.tolerance
    if p.near is not None and p.within is not None:
        flat &= np.abs(windows - p.near).max(axis=1) <= p.within
    firing = np.flatnonzero(flat)  # window i covers points i .. i + window - 1
    if len(firing) == 0:
        return []
    first = int(firing[0])
    return [
        Hit(
            step=int(clean.steps[first + p.window - 1]),  # the first full flat window's end
            onset=int(clean.steps[first]),
            last_step=int(clean.steps[firing[-1] + p.window - 1]),
            value=float(clean.values[first]),
            extra={"spread": float(spread[first]), "count": len(firing)},
        )
    ]


CHECK = Check(
    name="flat",
    params=Params,
    evaluate=evaluate,
    fields=("window", "tolerance", "near", "within", "spread"),
)
