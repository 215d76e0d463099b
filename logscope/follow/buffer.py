"""The run as `tail` sees it: a bounded frame of rows, and the rules evaluated on it.

Memory must not grow over a run that lasts days, so the frame keeps the first `head` steps
(rules that compare with the start of training) and the latest `recent` steps; the steps in
between are dropped as they age out. Rules see this frame, never the whole history: the
cost of one evaluation is bounded too. A finding fires in the window where its condition
holds; each distinct (rule, metric) is announced once (announce.py), so the window sliding
past an old finding does not hide it from the summary.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import polars as pl

from logscope.columns import col
from logscope.run import INDEX_COLUMNS, Run

if TYPE_CHECKING:
    from logscope.model import Finding
    from logscope.rules.spec import Pack

HEAD = 200
RECENT = 5000


class Window:
    """Rows merged per step (a step logged twice, or by two files: the later value wins)."""

    def __init__(self, head: int = HEAD, recent: int = RECENT) -> None:
        self.head = head
        self.recent = recent
        self.frame = pl.DataFrame(schema={"step": pl.Int64, "wall_time": pl.Float64})
        self.rows = 0  # rows added in all
        self.dropped = 0  # steps that aged out of the window
        self.last_step: int | None = None
        self.last_wall: float | None = None  # wall time of the newest row, when logged
        self.last_arrival: float | None = None  # time.time() when rows last arrived

    def add(self, batch: pl.DataFrame) -> None:
        if batch.height == 0:
            return
        self.rows += batch.height
        self.last_arrival = time.time()
        batch = batch.select(
            pl.col("step").cast(pl.Int64),
            pl.col("wall_time").cast(pl.Float64),
            *(col(c).cast(pl.Float64) for c in batch.columns if c not in INDEX_COLUMNS),
        )
        frame = (
            pl.concat([self.frame, batch], how="diagonal_relaxed") if self.frame.height else batch
        )
        frame = frame.filter(pl.col("step").is_not_null())
        gaps = frame.select(pl.col("step").diff().min()).item() if frame.height > 1 else 1
        if gaps is None or gaps <= 0:
            frame = (
                frame.sort("step", maintain_order=True)
                .group_by("step", maintain_order=True)
                .agg(pl.all().last(ignore_nulls=True))
            )
        limit = self.head + self.recent
        if frame.height > limit:
            self.dropped += frame.height - limit
            frame = pl.concat([frame.head(self.head), frame.tail(self.recent)])
        self.frame = frame
        last = batch.select(pl.col("step").max()).item()
        self.last_step = last if self.last_step is None else max(self.last_step, last)
        wall = batch.get_column("wall_time").drop_nulls()
        wall = wall.filter(wall.is_finite())
        if wall.len():
            newest = float(wall.max())
            self.last_wall = newest if self.last_wall is None else max(self.last_wall, newest)

    @property
    def metrics(self) -> list[str]:
        return [c for c in self.frame.columns if c not in INDEX_COLUMNS]


class Rules:
    """The packs that apply to the run (re-chosen when new metrics appear), evaluated on the
    window. `seconds` accumulates the time spent, for the benchmark."""

    def __init__(
        self,
        packs: list[Pack],
        *,
        forced: set[str] | None = None,
        select: set[str] | None = None,
        ignore: set[str] | None = None,
        path: str = "<live>",
    ) -> None:
        from logscope.rules import engine

        self.packs = packs
        self.forced = forced or set()
        self.select = select
        self.ignore = ignore
        self.path = path
        self.shared = engine.shared_aliases(packs)
        self.chosen: list[Pack] = []
        self._metrics: tuple[str, ...] | None = None
        self.evaluations = 0
        self.seconds = 0.0

    def evaluate(self, window: Window) -> list[Finding]:
        from logscope.rules import engine

        started = time.perf_counter()
        run = Run(self.path, window.frame)
        metrics = tuple(window.metrics)
        if metrics != self._metrics:
            self._metrics = metrics
            self.chosen = engine.applicable(run, self.packs, self.forced)
        report = engine.evaluate(
            run, self.chosen, select=self.select, ignore=self.ignore, shared=self.shared
        )
        self.evaluations += 1
        self.seconds += time.perf_counter() - started
        return report.findings

    def coverage(self, window: Window) -> dict[str, list[str]]:
        from logscope.rules import engine

        return engine.coverage(Run(self.path, window.frame), self.chosen)
