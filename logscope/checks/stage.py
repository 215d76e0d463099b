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
    """A stage rule's keys: the target table, one band per stage of the run."""

    stages: list[dict[str, Any]]
    min_points: int = 3
    # a table written for one run length: silent on a run logged past this step (a longer
    # run reaches each stage at another step). Live, a run's final length is not known yet.
    max_run_step: int | None = None

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
    if p.max_run_step is not None and data.reached(p.max_run_step + 1) is not None:
        return []
    hits = []
    for stage in p.stages:  # a handful of stages; each is one vectorised median
        first, last = stage["steps"]
        inside = (clean.steps >= first) & (clean.steps <= last)
        if int(inside.sum()) < p.min_points:
            continue
        judged = data.reached(last)  # a stage is judged once the run has gone through it
        if judged is None:
            continue
        part = clean.select(inside)
        median = float(np.median(part.values))
        if stage["min"] <= median <= stage["max"]:
            continue
        hits.append(
            stage_hit(stage, judged, int(part.steps[0]), int(part.steps[-1]), median, len(part))
        )
    return hits


def stage_hit(
    stage: dict[str, Any], judged: int, onset: int, last_step: int, median: float, points: int
) -> Hit:
    """The hit of a stage whose median left its band (shared with the batched sweep path)."""
    first, last = stage["steps"]
    return Hit(
        step=judged,
        onset=onset,
        last_step=last_step,
        value=median,
        extra={
            "stage": stage.get("name", f"steps {first}-{last}"),
            "min": stage["min"],
            "max": stage["max"],
            "median": median,
            "points": points,
            "direction": "above" if median > stage["max"] else "below",
        },
    )


CHECK = Check(
    name="stage",
    params=Params,
    evaluate=evaluate,
    fields=("stage", "min", "max", "median", "points", "direction", "max_run_step"),
)
