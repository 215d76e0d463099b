"""Rules evaluated while training runs, on rows kept in memory (the log is never re-read).

New rows wait in a small Python list and join the Polars frame only when rules are
evaluated, so logging a row costs a dict copy. Evaluation runs every `every` rows, at once
when a metric turns non-finite for the first time, and at the end. With `every=None` the
interval grows with the run (one evaluation per `rows // AUTO_SHARE` new rows), which keeps
the total cost of monitoring a run roughly proportional to its length while NaNs are still
caught on the row they appear. The cadence counts rows, not seconds, so every rank of a
distributed job reaches the same verdict at the same step from the same metrics.

Polars and the rule engine are imported on first evaluation, not on import.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from logscope.model import Finding
    from logscope.rules.spec import Pack

log = logging.getLogger("logscope.monitor")

AUTO_SHARE = 100  # every=None: evaluate once per 1% of the rows seen so far (at least every row)


class LiveCheck:
    """The run so far, and the findings the packs produce on it."""

    def __init__(
        self,
        *,
        packs: list[Pack] | None = None,
        rules: Iterable[str | Path] = (),
        select: set[str] | None = None,
        ignore: set[str] | None = None,
        every: int | None = None,
    ) -> None:
        if every is not None and every < 1:
            raise ValueError(f"every={every}: evaluate at least once per row (every >= 1)")
        self.every = every
        self.select = select
        self.ignore = ignore
        self.rows = 0
        self.evaluations = 0
        self._packs = packs
        self._rule_files = [Path(r) for r in rules]
        self._pending: list[tuple[int, float | None, dict[str, float]]] = []
        self._frame: pl.DataFrame | None = None
        self._since = 0
        self._nonfinite: set[str] = set()
        self._urgent = False

    def add(self, step: int, wall_time: float | None, values: dict[str, float]) -> bool:
        """Keep one row; True when it is time to evaluate."""
        self._pending.append((step, wall_time, values))
        self.rows += 1
        self._since += 1
        for key, value in values.items():
            if not math.isfinite(value) and key not in self._nonfinite:
                self._nonfinite.add(key)
                self._urgent = True
        return self._urgent or self._since >= self._interval()

    def _interval(self) -> int:
        if self.every is not None:
            return self.every
        return max(1, self.rows // AUTO_SHARE)

    def evaluate(self) -> list[Finding]:
        """Every finding on the rows so far (sorted by severity, then step)."""
        from logscope.rules import engine
        from logscope.run import Run

        self._since = 0
        self._urgent = False
        frame = self.frame()
        packs = self.packs()
        run = Run("<live>", frame)
        shared = engine.shared_aliases(packs)
        chosen = engine.applicable(run, packs, set())
        report = engine.evaluate(run, chosen, select=self.select, ignore=self.ignore, shared=shared)
        self.evaluations += 1
        return report.findings

    def packs(self) -> list[Pack]:
        if self._packs is None:
            from logscope.pipeline import load_packs

            self._packs = load_packs(self._rule_files)
        return self._packs

    def frame(self) -> pl.DataFrame:
        """The Run frame contract: unique ascending Int64 steps, Float64 wall_time and metrics;
        a step logged twice (train and eval lines) merges, the later value winning."""
        import polars as pl

        if self._pending:
            batch = _batch(self._pending)
            self._pending = []
            if self._frame is None or self._frame.height == 0:
                merged = batch
            else:
                merged = pl.concat([self._frame, batch], how="diagonal_relaxed")
            self._frame = _merge(merged)
        if self._frame is None:
            self._frame = pl.DataFrame(schema={"step": pl.Int64, "wall_time": pl.Float64})
        return self._frame


def _batch(rows: list[tuple[int, float | None, dict[str, float]]]) -> pl.DataFrame:
    import polars as pl

    keys: dict[str, None] = {}
    for _, _, values in rows:
        keys.update(dict.fromkeys(values))
    keys.pop("step", None)
    keys.pop("wall_time", None)
    columns: dict[str, list[Any]] = {
        "step": [r[0] for r in rows],
        "wall_time": [r[1] for r in rows],
    }
    for key in keys:
        columns[key] = [r[2].get(key) for r in rows]
    schema = {"step": pl.Int64, "wall_time": pl.Float64, **dict.fromkeys(keys, pl.Float64)}
    return pl.DataFrame(columns, schema=schema)


def _merge(frame: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    steps = frame.get_column("step")
    if frame.height < 2 or (steps.diff().drop_nulls() > 0).all():
        return frame
    return (
        frame.sort("step", maintain_order=True)
        .group_by("step", maintain_order=True)
        .agg(pl.all().last(ignore_nulls=True))
    )
