"""nonfinite: NaN, +Inf or -Inf, the signature of a collapsed run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logscope.checks.base import Check, Hit, Series


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A nonfinite rule's keys: how many non-finite points in a row make a finding."""

    for_steps: int = 1


def evaluate(data: Series, p: Params) -> list[Hit]:
    bad = np.flatnonzero(~np.isfinite(data.values))
    if len(bad) < max(p.for_steps, 1):
        return []
    first = int(bad[0])
    value = float(data.values[first])
    return [
        Hit(
            step=int(data.steps[bad[max(p.for_steps, 1) - 1]]),  # the for_steps-th one
            onset=int(data.steps[first]),
            last_step=int(data.steps[bad[-1]]),
            value=value,
            extra={
                "count": len(bad),
                "worst": value,
                "worst_step": int(data.steps[first]),
                "total": len(data),
            },
        )
    ]


CHECK = Check(
    name="nonfinite",
    params=Params,
    evaluate=evaluate,
    fields=("for_steps", "total"),
)
