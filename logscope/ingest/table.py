"""Metric tables saved as CSV or Parquet: W&B history exports and any table with a step column.

`run.history()` / `run.scan_history()` of W&B's public API give one row per logged step with
`_step`, `_runtime`, `_timestamp` and one column per metric (nested keys joined with `.`);
users save them with pandas (`to_csv`, `to_parquet`) or Polars. The same reader takes any
CSV/Parquet whose columns include a step (`step`, `global_step`, `_step`,
`train/global_step`, or W&B's `Step`), so a hand-made metrics table works too. Cells go
through the shared decoder (base.tabulate): numbers and 'NaN'/'inf' spellings are values,
text is metadata, an empty cell is missing. A W&B chart export (`<run> - <metric>` columns)
is a different layout with several runs per file: see wandb_export.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from logscope.ingest.base import STEP_KEYS, Ingested, ProblemLog, tabulate
from logscope.ingest.decode import LINE, prepare

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

CSV, PARQUET = "csv", "parquet"
# W&B's own chart exports call the x axis "Step"
_STEP_NAMES = (*STEP_KEYS, "Step")
# what pandas writes for its index when a frame is saved without index=False
_INDEX_NAMES = ("", "Unnamed: 0", "index", "__index_level_0__")
_HEAD_BYTES = 64 << 10


def header(path: Path) -> list[str]:
    """The column names of a CSV or Parquet file; [] when it cannot be read."""
    try:
        if path.suffix == ".parquet":
            return list(pl.read_parquet_schema(path))
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
        first = head.split(b"\n", 1)[0]
        return pl.read_csv(first + b"\n", infer_schema=False, encoding="utf8-lossy").columns
    except Exception:  # not a table at all: discovery simply does not take it
        return []


def looks_like_log(path: Path) -> bool:
    """Worth reading as a metrics log: it has a step column (datasets and other tables don't)."""
    return any(name in _STEP_NAMES for name in header(path))


def read_csv(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    raw = load_csv(path, log)
    if progress:
        size = path.stat().st_size if path.exists() else 0
        progress(name, size, size)
    if raw is not None and {"_step", "_runtime"} <= set(raw.columns):
        notes.append(
            "W&B history export: pandas' to_csv writes NaN as an empty cell, so a NaN logged to "
            "W&B reads as missing here (save with to_csv(na_rep='NaN') to keep it)"
        )
    return _result(name, CSV, raw, log, notes)


def read_parquet(
    path: Path, display: str | None = None, progress: Progress | None = None
) -> Ingested:
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    raw: pl.DataFrame | None = None
    try:
        raw = pl.read_parquet(path)
    except Exception as exc:  # corrupt, truncated or not Parquet at all
        log(None, f"not a readable Parquet file ({_reason(exc)}); skipped")
    if progress:
        size = path.stat().st_size if path.exists() else 0
        progress(name, size, size)
    if raw is not None:
        raw = prepare(raw).with_columns(pl.int_range(1, raw.height + 1).alias(LINE))
    return _result(name, PARQUET, raw, log, notes)


def load_csv(path: Path, log: ProblemLog) -> pl.DataFrame | None:
    """Every cell as text (so no column is mistyped from its first rows), plus `_line`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        log(None, f"could not be read ({exc.strerror or exc}); skipped")
        return None
    if not data.strip():
        log(None, "file is empty")
        return None
    options = {"infer_schema": False, "encoding": "utf8-lossy"}
    try:
        raw = pl.read_csv(data, **options)  # type: ignore[arg-type]
    except Exception:
        try:
            raw = pl.read_csv(data, truncate_ragged_lines=True, **options)  # type: ignore[arg-type]
        except Exception as exc:
            log(1, f"not a readable CSV file ({_reason(exc)}); skipped")
            return None
        log(None, "some lines have more fields than the header; the extra fields were ignored")
    if not data.endswith(b"\n"):
        log(
            raw.height + 1,
            "last line has no line end (run killed mid-write, or still writing); read as is",
        )
    return raw.with_columns(pl.int_range(2, raw.height + 2).alias(LINE))


def _result(
    name: str, fmt: str, raw: pl.DataFrame | None, log: ProblemLog, notes: list[str]
) -> Ingested:
    raw = _drop_index(raw, notes) if raw is not None else pl.DataFrame()
    if raw.width and "Step" in raw.columns and not any(k in raw.columns for k in STEP_KEYS):
        raw = raw.rename({"Step": "step"})
    frame, meta = tabulate(raw, log, notes)
    return Ingested(name, fmt, frame, log.finish(), notes, meta)


def _drop_index(raw: pl.DataFrame, notes: list[str]) -> pl.DataFrame:
    """pandas' saved row index (0, 1, 2, ...) is not a metric."""
    for name in _INDEX_NAMES:
        if name not in raw.columns:
            continue
        numbers = raw.get_column(name).cast(pl.Float64, strict=False)
        if numbers.equals(pl.Series(range(raw.height), dtype=pl.Float64), check_names=False):
            notes.append(f"column {name!r} is a saved row index (0, 1, 2, ...): skipped")
            return raw.drop(name)
    return raw


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
