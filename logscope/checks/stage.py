"""stage: expected ranges by training stage (a target table: Start / Early / Mid / Late).

Each stage's median is compared with its target, so single noisy points do not count;
one hit per stage whose median falls outside its band.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from logscope.checks.base import Check, Hit, Series


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    stages: list[dict[str, Any]]
    min_points: int = 3

    def problems(self) -> list[str]:
        errors = []
        for index, stage in enumerate(self.stages):
            where = f"stages[{index}]"
            unknown = set(stage) - {"name", "steps", "min", "max"}
            if unknown:
                errors.append(
                    f"{where}: unknown key(s) {sorted(unknown)} (expected: name, steps, min, max)"
                )
            steps = stage.get("steps")
            if not (
                isinstance(steps, list)
                and len(steps) == 2
                and all(isinstance(s, int) for s in steps)
            ):
                errors.append(f"{where}: 'steps' must be [first, last], two integers")
            for bound in ("min", "max"):
                if not isinstance(stage.get(bound), (int, float)):
                    errors.append(f"{where}: '{bound}' must be a number")
        return errors


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    hits = []
    for stage in p.stages:  # a handful of stages; each is one vectorised median
        first, last = stage["steps"]
        inside = (clean.steps >= first) & (clean.steps <= last)
        if int(inside.sum()) < p.min_points:
            continue
        part = clean.select(inside)
        median = float(np.median(part.values))
        if stage["min"] <= median <= stage["max"]:
            continue
        hits.append(
            Hit(
                step=int(part.steps[0]),
                last_step=int(part.steps[-1]),
                value=median,
                extra={
                    "stage": stage.get("name", f"steps {first}-{last}"),
                    "min": stage["min"],
                    "max": stage["max"],
                    "median": median,
                    "points": len(part),
                    "direction": "above" if median > stage["max"] else "below",
                },
            )
        )
    return hits


CHECK = Check(
    name="stage",
    params=Params,
    evaluate=evaluate,
    fields=("stage", "min", "max", "median", "points", "direction"),
)
