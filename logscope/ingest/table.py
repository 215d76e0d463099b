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
from logscope.ingest.native import NativeError, guarded
from logscope.ingest.textfile import read_text_bytes

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
            return list(guarded(pl.read_parquet_schema, path))
        first = read_text_bytes(path, limit=_HEAD_BYTES).split(b"\n", 1)[0]
        return guarded(
            pl.read_csv, first + b"\n", infer_schema=False, encoding="utf8-lossy"
        ).columns
    except (OSError, ValueError, NativeError):  # not a table at all: discovery does not take it
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
        raw = guarded(pl.read_parquet, path)
    except NativeError as exc:  # corrupt, truncated or not Parquet at all
        log(None, f"not a readable Parquet file ({exc}); skipped")
    if progress:
        size = path.stat().st_size if path.exists() else 0
        progress(name, size, size)
    if raw is not None:
        raw = prepare(raw).with_columns(pl.int_range(1, raw.height + 1).alias(LINE))
    return _result(name, PARQUET, raw, log, notes)


def load_csv(path: Path, log: ProblemLog) -> pl.DataFrame | None:
    """Every cell as text (so no column is mistyped from its first rows), plus `_line`.

    A row with more or fewer fields than the header (a line cut or garbled mid-write) is
    reported by line: extra fields are ignored, missing ones read as missing. Should the
    parser still refuse the file, the ragged rows are left out and the rest is read."""
    try:
        data = read_text_bytes(path, log=log)
    except (OSError, ValueError) as exc:
        log(None, f"could not be read ({getattr(exc, 'strerror', None) or exc}); skipped")
        return None
    if not data.strip():
        log(None, "file is empty")
        return None
    lines = _field_counts(data)
    ragged = _report_ragged(lines, log)
    options = {"infer_schema": False, "encoding": "utf8-lossy", "truncate_ragged_lines": True}
    kept: list[int] | None = None
    try:
        raw = guarded(pl.read_csv, data, **options)  # type: ignore[arg-type]
    except NativeError as exc:
        if lines is None or ragged.height == 0:
            log(1, f"not a readable CSV file ({exc}); skipped")
            return None
        data, kept = _without(lines, ragged)
        try:
            raw = guarded(pl.read_csv, data, **options)  # type: ignore[arg-type]
        except NativeError as again:
            log(1, f"not a readable CSV file ({again}); skipped")
            return None
        log(None, "the ragged rows were left out (the file did not parse with them)")
    if not data.endswith(b"\n"):
        log(
            raw.height + 1 if kept is None else kept[-1],
            "last line has no line end (run killed mid-write, or still writing); read as is",
        )
    if kept is not None and len(kept) == raw.height + 1:
        return raw.with_columns(pl.Series(LINE, kept[1:], dtype=pl.Int64))
    return raw.with_columns(pl.int_range(2, raw.height + 2).alias(LINE))


def _field_counts(data: bytes) -> pl.DataFrame | None:
    """Per physical line: its text, number, field count (commas outside quotes + 1) and
    whether it is blank. None when a quoted field spans lines (then lines are not rows)."""
    text = data.decode("utf-8", "replace")
    lines = (
        pl.DataFrame({"text": [text]})
        .select(pl.col("text").str.split("\n"))
        .explode("text")
        .with_row_index("line", offset=1)
    )
    if data.endswith(b"\n"):
        lines = lines.head(lines.height - 1)
    unquoted = pl.col("text").str.replace_all('"[^"]*"', "")
    lines = lines.with_columns(
        (pl.col("text").str.count_matches('"', literal=True) % 2 == 1).alias("open"),
        (unquoted.str.count_matches(",", literal=True) + 1).alias("fields"),
        (pl.col("text").str.strip_chars() == "").alias("blank"),
    )
    if lines.height < 2 or lines.get_column("open").any():
        return None
    return lines


def _report_ragged(lines: pl.DataFrame | None, log: ProblemLog) -> pl.DataFrame:
    """The rows whose field count is not the header's, reported by line."""
    if lines is None:
        return pl.DataFrame()
    expected = lines.item(0, "fields")
    ragged = lines.filter((pl.col("fields") != expected) & ~pl.col("blank"))
    longer = ragged.filter(pl.col("fields") > expected)
    if longer.height:  # the wording `tail --follow` and earlier versions use
        log(
            longer.item(0, "line"),
            "some lines have more fields than the header; the extra fields were ignored",
        )
    shorter = ragged.filter(pl.col("fields") < expected)
    if shorter.height:
        also = f" ({shorter.height - 1} more such rows)" if shorter.height > 1 else ""
        log(
            shorter.item(0, "line"),
            f"row has {shorter.item(0, 'fields')} fields, fewer than the header's {expected}:"
            f" the missing cells read as missing{also}",
        )
    return ragged


def _without(lines: pl.DataFrame, ragged: pl.DataFrame) -> tuple[bytes, list[int]]:
    """The text without the ragged rows, and the line number of each line kept."""
    good = lines.join(ragged.select("line"), on="line", how="anti", maintain_order="left")
    kept = "\n".join(good.get_column("text").to_list()) + "\n"
    return kept.encode(), good.get_column("line").to_list()


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
