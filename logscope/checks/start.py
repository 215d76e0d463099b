"""start: the metric is orders of magnitude away from where the run started.

Needs no history beyond the first logged value, so it can fire at the second logged step:
a run whose loss goes 3.7 → 1.3e8 or whose grad norm goes 3.1 → 124,620 in one step (a
learning rate typed as 1e3) is broken at once, while a check against a running median or a
window of 10+ points stays silent until it is too late (or, live, forever: after the blow-up
the "recent level" is the blown-up one). The reference is the median of the first
`reference_points` finite values logged before the point judged (fewer at the very start),
so the check is causal: offline it fires at the step a live follower does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logscope.checks.base import Check, Hit, Series, streaks


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A start rule's keys: how many times the start value counts as broken."""

    factor: float  # how many times the start value counts as broken
    reference_points: int = 3
    min_reference: float = 0.0  # no judgement against a start below this (|value|)
    for_steps: int = 1

    def problems(self) -> list[str]:
        found = [] if self.factor > 1 else [f"factor must be above 1, got {self.factor}"]
        if self.reference_points < 1:
            found.append(f"reference_points must be at least 1, got {self.reference_points}")
        return found


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    if len(clean) < 2:
        return []
    size = np.abs(clean.values)
    # reference for point i: the median of the first min(i, reference_points) points, all
    # logged before it (a handful of medians: reference_points is small)
    k = min(p.reference_points, len(size))
    reference = np.full(len(size), float(np.median(size[:k])))
    reference[0] = np.nan
    for i in range(1, k):
        reference[i] = float(np.median(size[:i]))
    with np.errstate(invalid="ignore"):
        bad = (size >= p.factor * reference) & (reference > p.min_reference)
    hit = streaks(clean, bad, p.for_steps)
    if hit is None:
        return []
    first = int(np.searchsorted(clean.steps, hit.began))
    return [
        hit.with_extra(
            reference=float(reference[first]),
            ratio=float(size[first] / reference[first]),
        )
    ]


CHECK = Check(
    name="start",
    params=Params,
    evaluate=evaluate,
    fields=(
        "factor",
        "reference_points",
        "min_reference",
        "for_steps",
        "reference",
        "ratio",
        "runs",
        "longest",
    ),
)
