"""The Run: one wide Polars frame per logical training run, plus where it came from.

Frame contract: `step` (Int64, ascending, unique), `wall_time` (Float64, may be null), then
one Float64 column per metric named exactly as logged. A metric not logged at a step is
null (missing, never zero); NaN and ±Inf are values a rule must see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from logscope.columns import LINE, col
from logscope.model import Problem, Resume, Source

if TYPE_CHECKING:
    from logscope.ingest.base import Ingested

INDEX_COLUMNS = ("step", "wall_time")


@dataclass
class Run:
    """A training run as logscope sees it."""

    path: str
    frame: pl.DataFrame
    sources: list[Source] = field(default_factory=list)
    resumes: list[Resume] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # where each step's row was last written: step, source, line (for CI annotations)
    origins: pl.DataFrame | None = None
    # where its checkpoints are (`--checkpoints DIR`); None: look in and next to the run
    checkpoint_dir: str | None = None

    def origin(self, step: int | None) -> tuple[str, int | None] | None:
        """(source path, line) of the row logged at `step`, when known."""
        if step is None or self.origins is None:
            return None
        hit = self.origins.filter(pl.col("step") == step)
        if hit.height == 0:
            return None
        line = hit.item(0, "line")
        return hit.item(0, "source"), None if line is None else int(line)

    @property
    def metrics(self) -> list[str]:
        return [c for c in self.frame.columns if c not in INDEX_COLUMNS]

    @property
    def problems(self) -> list[Problem]:
        return [p for s in self.sources for p in s.problems]

    @property
    def steps(self) -> dict[str, int | None]:
        step = self.frame.get_column("step")
        if step.len() == 0:
            return {"first": None, "last": None, "count": 0}
        return {"first": int(step[0]), "last": int(step[-1]), "count": step.len()}


def build_run(path: str, parts: list[Ingested]) -> Run:
    """Merge sources: rows at one step merge, and for a step logged twice the later value wins."""
    resumes = [r for part in parts for r in _resumes(part)]
    frames = [p.frame.drop(LINE) for p in parts if p.frame.height]
    meta: dict[str, Any] = {}
    for part in parts:
        meta.update(part.meta)
    sources = [
        Source(p.path, p.format, p.frame.height, tuple(p.problems), tuple(p.notes)) for p in parts
    ]
    if not frames:
        empty = pl.DataFrame(schema={"step": pl.Int64, "wall_time": pl.Float64})
        return Run(path, empty, sources, resumes, meta)
    origins = _origins(parts)
    frame = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    frame = frame.filter(pl.col("step").is_not_null())
    if not _strictly_increasing(frame):
        frame = (
            frame.sort("step", maintain_order=True)
            .group_by("step", maintain_order=True)
            .agg(pl.all().last(ignore_nulls=True))
        )
    metrics = [c for c in frame.columns if c not in INDEX_COLUMNS]
    frame = frame.select(
        pl.col("step").cast(pl.Int64),
        pl.col("wall_time").cast(pl.Float64),
        *(col(m).cast(pl.Float64) for m in metrics),
    )
    return Run(path, frame, sources, resumes, meta, origins=origins)


def _origins(parts: list[Ingested]) -> pl.DataFrame:
    """The source and line of the last row written for each step (later writes win)."""
    if len(parts) == 1 and _strictly_increasing(parts[0].frame):
        part = parts[0]
        return part.frame.select(
            pl.col("step"), pl.lit(part.path).alias("source"), pl.col(LINE).alias("line")
        )
    pieces = [
        p.frame.select(pl.col("step"), pl.lit(p.path).alias("source"), pl.col(LINE).alias("line"))
        for p in parts
        if p.frame.height
    ]
    return (
        pl.concat(pieces)
        .filter(pl.col("step").is_not_null())
        .group_by("step", maintain_order=True)
        .last()
        .sort("step")
    )


def _strictly_increasing(frame: pl.DataFrame) -> bool:
    if frame.height < 2:
        return True
    smallest_gap = frame.select(pl.col("step").diff().min()).item()
    return smallest_gap is not None and smallest_gap > 0


def _resumes(part: Ingested) -> list[Resume]:
    """Rows whose step is below the previous row's step start a new segment."""
    if part.resumes is not None:  # the reader found them (rows already merged per step)
        return list(part.resumes)
    if part.frame.height < 2:
        return []
    steps = part.frame.get_column("step").to_numpy()
    lines = part.frame.get_column(LINE)
    back = np.flatnonzero(steps[1:] < steps[:-1]) + 1
    return [Resume(int(steps[i]), int(steps[i - 1]), part.path, lines[int(i)]) for i in back]
