"""Decode JSON-object lines into a Polars frame: fast when the bytes are clean, exact when not.

The fast path hands a whole chunk to `pl.read_ndjson(infer_schema_length=None)`, so a key
that first appears on line 50,000 is kept (the default inference of 100 lines drops it).
Python's bare `NaN` / `Infinity` tokens, which Polars rejects, are quoted first; the
quoted strings later cast to floats. When a chunk still fails, it is bisected down to
small groups whose lines go through `json.loads` one by one, so one bad line costs
O(log n) decodes and is reported with its line number instead of sinking the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import polars as pl

LINE = "_line"  # 1-based source line of each row; dropped when the Run is built
_SMALL_GROUP = 16
_PREVIEW = 60

# Python's json.dumps writes non-finite floats as bare tokens right after ': ', '[' or ', '.
# Quoting them is safe: if such text sat inside a string, the edit breaks that line's JSON
# and the exact per-line fallback below reads the original line instead.
_TOKENS = (b"-Infinity", b"Infinity", b"NaN")
_PREFIXES = (b": ", b":", b"[", b", ", b",")


def sanitize(chunk: bytes, *, null_is_nan: bool = False) -> bytes:
    """Quote bare non-finite tokens (and, for veRL's orjson logger, `null`)."""
    for token in _TOKENS:
        if token in chunk:
            for prefix in _PREFIXES:
                chunk = chunk.replace(prefix + token, prefix + b'"' + token + b'"')
    if null_is_nan and b"null" in chunk:
        chunk = chunk.replace(b": null", b': "NaN"').replace(b":null", b':"NaN"')
    return chunk


def _quote_nonfinite(value: Any) -> Any:
    """Make a parsed JSON value re-serialisable as strict JSON, keeping NaN/Inf as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _quote_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_quote_nonfinite(v) for v in value]
    return value


def records_to_ndjson(records: list[dict[str, Any]]) -> bytes:
    """Serialise already-parsed records (e.g. HF `log_history`) for the Polars decoder."""
    return b"\n".join(json.dumps(_quote_nonfinite(r)).encode() for r in records) + b"\n"


Report = Callable[[int, str], None]


def decode_chunk(
    chunk: bytes,
    first_line: int,
    report: Report,
    *,
    null_is_nan: bool = False,
    truncated_tail: bool = False,
) -> list[pl.DataFrame]:
    """Decode newline-separated JSON objects; return frames in line order, each with `_line`.

    `report(line, message)` is called once per line that could not be read.
    `truncated_tail` marks that the chunk's last line had no newline (a run killed
    mid-write or still writing), which changes the message for that line.
    """
    lines = chunk.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return _decode_group(lines, first_line, report, null_is_nan, truncated_tail, len(lines))


def _decode_group(
    lines: list[bytes],
    first_line: int,
    report: Report,
    null_is_nan: bool,
    truncated_tail: bool,
    total: int,
) -> list[pl.DataFrame]:
    frame = _try_fast(lines, first_line, null_is_nan)
    if frame is not None:
        return [frame]
    if len(lines) <= _SMALL_GROUP:
        return _decode_slow(lines, first_line, report, null_is_nan, truncated_tail, total)
    mid = len(lines) // 2
    left = _decode_group(lines[:mid], first_line, report, null_is_nan, truncated_tail, total)
    right = _decode_group(
        lines[mid:], first_line + mid, report, null_is_nan, truncated_tail, total - mid
    )
    return left + right


def _try_fast(lines: list[bytes], first_line: int, null_is_nan: bool) -> pl.DataFrame | None:
    """Decode with Polars; None when any line is bad or blank (row count must match exactly)."""
    if not lines:
        return None
    data = sanitize(b"\n".join(lines), null_is_nan=null_is_nan)
    try:
        frame = pl.read_ndjson(data, infer_schema_length=None)
    except Exception:  # noqa: BLE001 - polars raises several types for bad JSON
        return None
    if frame.height != len(lines):
        return None
    return frame.with_columns(
        pl.int_range(first_line, first_line + len(lines), dtype=pl.Int64).alias(LINE)
    )


def _decode_slow(
    lines: list[bytes],
    first_line: int,
    report: Report,
    null_is_nan: bool,
    truncated_tail: bool,
    total: int,
) -> list[pl.DataFrame]:
    """Parse each line with `json.loads` (which accepts NaN) and report the ones that fail."""
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    for offset, raw in enumerate(lines):
        if not raw.strip():
            continue
        line_no = first_line + offset
        parsed = _parse_line(raw, line_no, report, truncated_tail and offset == total - 1)
        if parsed is not None:
            records.append(_nulls_to_nan(parsed) if null_is_nan else parsed)
            numbers.append(line_no)
    if not records:
        return []
    frame = pl.read_ndjson(records_to_ndjson(records), infer_schema_length=None)
    return [frame.with_columns(pl.Series(LINE, numbers, dtype=pl.Int64))]


def _parse_line(raw: bytes, line_no: int, report: Report, is_tail: bool) -> dict[str, Any] | None:
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        if is_tail:
            report(line_no, "last line is incomplete (run killed mid-write, or still writing)")
        else:
            report(line_no, f"not valid JSON ({_reason(exc)}): {_preview(raw)}")
        return None
    if not isinstance(parsed, dict):
        report(line_no, f"expected a JSON object, found {type(parsed).__name__}: {_preview(raw)}")
        return None
    return parsed


def _nulls_to_nan(value: Any) -> Any:
    if value is None:
        return float("nan")
    if isinstance(value, dict):
        return {k: _nulls_to_nan(v) for k, v in value.items()}
    return value


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    return "not UTF-8 text"


def _preview(raw: bytes) -> str:
    text = raw[:_PREVIEW].decode("utf-8", errors="replace")
    text = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text)
    return repr(text + ("…" if len(raw) > _PREVIEW else ""))


def flatten(frame: pl.DataFrame, *, unwrap: str | None = None) -> pl.DataFrame:
    """Flatten nested objects into `parent/child` columns; `unwrap` drops one wrapper's prefix.

    veRL's file logger writes `{"step": N, "data": {...}}`: with unwrap="data" its metrics
    keep their own names (`actor/pg_clipfrac`, not `data/actor/pg_clipfrac`).
    """
    while any(isinstance(dtype, pl.Struct) for dtype in frame.schema.values()):
        columns: list[pl.Expr] = []
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Struct):
                prefix = "" if name == unwrap else f"{name}/"
                columns.extend(
                    pl.col(name).struct.field(field.name).alias(prefix + field.name)
                    for field in dtype.fields
                )
            else:
                columns.append(pl.col(name))
        frame = frame.select(_dedupe(columns))
    return frame


def _dedupe(columns: list[pl.Expr]) -> list[pl.Expr]:
    """Keep the first of two columns that flatten to one name (`{"a/b": 1, "a": {"b": 2}}`)."""
    seen: set[str] = set()
    kept = []
    for column in columns:
        name = column.meta.output_name()
        if name not in seen:
            seen.add(name)
            kept.append(column)
    return kept


def normalize(frame: pl.DataFrame) -> pl.DataFrame:
    """Numbers become Float64; text columns whose every value is numeric ('5e-7', 'NaN') too.

    Text that is not a number stays text (the caller keeps it as metadata); booleans and
    lists stay as they are and are never metrics.
    """
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    numeric_text: set[str] = set()
    if text:
        checks = frame.select(
            (_as_float(name).null_count() == pl.col(name).null_count()).alias(name)
            for name in text
        ).row(0)
        numeric_text = {name for name, ok in zip(text, checks) if ok}
    exprs: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if name != LINE and (dtype.is_numeric() or dtype == pl.Null):
            exprs.append(pl.col(name).cast(pl.Float64))
        elif name in numeric_text:
            exprs.append(_as_float(name))
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs)


def _as_float(name: str) -> pl.Expr:
    return pl.col(name).str.strip_chars().cast(pl.Float64, strict=False)
