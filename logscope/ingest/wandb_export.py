"""W&B chart exports: a line panel's "Export CSV" (`wandb_export_<date>.csv`).

Layout: the x axis first (`Step`, or the panel's custom x axis such as `epoch`), then for
every run shown and every metric a `<run name> - <metric>` column with `__MIN` / `__MAX`
companions (the spread of the points W&B bucketed into that x value; equal to the value
when nothing was bucketed). Grouped panels name the group: `Group: <name> - <metric>`.
One file usually holds several runs; each becomes its own Run named after the W&B run, so
discovery asks `run_names` and reads each with `read_part`. The companions are not metrics.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from logscope.columns import LINE, col
from logscope.ingest.base import Ingested, ProblemLog, tabulate
from logscope.ingest.table import header, load_csv
from logscope.model import Problem

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

FORMAT = "wandb_csv"
_RESERVED = ("step", "wall_time")  # the Run's own columns
_SEP = " - "
_COMPANION = re.compile(r"__(MIN|MAX)$")


def split_column(name: str) -> tuple[str, str] | None:
    """(run name, metric) of a `<run> - <metric>` column, at the last ' - '."""
    if _SEP not in name:
        return None
    run, metric = name.rsplit(_SEP, 1)
    return (run, metric) if run and metric else None


def run_names(path: Path) -> list[str]:
    """The runs of a W&B chart export in column order; [] when the file is no such export."""
    columns = header(path)
    if len(columns) < 2 or split_column(columns[0]) is not None:
        return []
    runs: dict[str, None] = {}
    for column in columns[1:]:
        parts = split_column(column)
        if parts is None:
            continue
        runs.setdefault(parts[0])
    companions = any(_COMPANION.search(c) for c in columns)
    # a plain CSV with a ' - ' in some header is not an export; W&B always writes companions
    return list(runs) if runs and companions else []


def read_part(path: Path, display: str, run: str, progress: Progress | None = None) -> Ingested:
    """The columns of one run: the x axis as step, its metrics under their own names."""
    name = display
    log = ProblemLog(name)
    notes: list[str] = []
    raw, problems = _load(path)
    for problem in problems:  # the file's own problems, reported with each of its runs
        log(problem.line, problem.message)
    if progress:
        size = path.stat().st_size if path.exists() else 0
        progress(name, size, size)
    if raw is None:
        frame, meta = tabulate(pl.DataFrame(), log, notes)
        return Ingested(name, FORMAT, frame, log.finish(), notes, meta)
    x_axis = raw.columns[0]
    mine: dict[str, str] = {}
    companions = 0
    for column in raw.columns[1:]:
        parts = split_column(column)
        if parts is None or parts[0] != run or column == LINE:
            continue
        if _COMPANION.search(parts[1]):
            companions += 1
        elif parts[1] in _RESERVED:
            notes.append(f"'{column}' is named like the x axis ({parts[1]}): not read as a metric")
        else:
            mine.setdefault(parts[1], column)
    part = raw.select(
        col(x_axis).alias("\u0000x"),
        pl.col(LINE),
        *(col(column).alias(metric) for metric, column in mine.items()),
    )
    # only the rows where this run logged something (other runs' rows are empty here)
    metrics = [c for c in part.columns if c not in ("\u0000x", LINE)]
    if metrics:
        part = part.filter(pl.any_horizontal(col(m).is_not_null() for m in metrics))
    part = _step_axis(part, x_axis, notes)
    if companions:
        notes.append(
            f"W&B chart export: {companions} __MIN/__MAX columns (spread of bucketed points) "
            "not read as metrics"
        )
    frame, meta = tabulate(part, log, notes)
    meta["wandb.name"] = run
    return Ingested(name, FORMAT, frame, log.finish(), notes, meta)


def _load(path: Path) -> tuple[pl.DataFrame | None, list[Problem]]:
    """The export parsed once for all the runs it holds (discovery reads each run apart)."""
    try:
        stat = path.stat()
    except OSError:
        stat = None
    key = (stat.st_size, stat.st_mtime_ns) if stat else None
    return _load_cached(path, key)


@lru_cache(maxsize=4)
def _load_cached(
    path: Path, key: tuple[int, int] | None
) -> tuple[pl.DataFrame | None, list[Problem]]:
    log = ProblemLog(str(path))
    raw = load_csv(path, log)
    return raw, log.finish()


def _step_axis(part: pl.DataFrame, x_axis: str, notes: list[str]) -> pl.DataFrame:
    """The x axis is the step when it holds whole numbers; a run's own `_step` otherwise."""
    x = part.get_column("\u0000x").str.strip_chars().cast(pl.Float64, strict=False)
    whole = x.is_not_null().all() and bool((x == x.floor()).all())
    if whole and x_axis not in part.columns:
        return part.with_columns(x.alias("step")).drop("\u0000x")
    if "_step" in part.columns:
        notes.append(f"x axis '{x_axis}' is not a step; the run's _step column used instead")
        return part.drop("\u0000x")
    notes.append(f"x axis '{x_axis}' is not a whole-number step: row order used as the step")
    return part.drop("\u0000x").with_columns(pl.int_range(pl.len()).cast(pl.Float64).alias("step"))
