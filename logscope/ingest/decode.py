"""Decode JSON-object lines into a Polars frame: fast when the bytes are clean, exact when not.

The fast path hands a whole chunk to `pl.read_ndjson(infer_schema_length=None)`, so a key
that first appears on line 50,000 is kept (the default inference of 100 lines drops it).
Python's bare `NaN` / `Infinity` tokens, which Polars rejects, are quoted first; the
quoted strings later cast to floats. When a chunk still fails, it is bisected down to
small groups whose lines go through `json.loads` one by one, so one bad line costs
O(log n) decodes and is reported with its line number instead of sinking the file.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from logscope.columns import LINE as LINE  # the row's source line; defined with the other names
from logscope.columns import col
from logscope.ingest.jsondepth import TOO_DEEP, blank_deep_lines, loads

if TYPE_CHECKING:
    import numpy as np

LIST_MARKER = "\u0000list"  # stands for a list value: kept visible, never a metric
DUPLICATE = "\u0000duplicate"  # (key, value) a parsed object held twice; reported, dropped
_SMALL_GROUP = 16
_PREVIEW = 60

# Polars rejects the bare NaN / Infinity tokens Python's json.dumps writes. Lines holding
# them are rare, so they are found with bytes.find (a fast scan that jumps to the next line
# after each hit) and only those lines are re-serialised as strict JSON, with non-finite
# floats spelled as the strings "NaN", "Infinity", "-Infinity" (cast back to floats later).
# A line that json.loads rejects is left alone; the exact per-line fallback reports it.
_TOKENS = (b"NaN", b"Infinity")
_MISSES = 256  # a token's first byte seen this often elsewhere: search for the whole token


def sanitize(chunk: bytes, *, null_is_nan: bool = False) -> bytes:
    """Rewrite the lines that hold bare non-finite tokens (and, for veRL, `null`)."""
    tokens = (*_TOKENS, b"null") if null_is_nan else _TOKENS
    dirty = _lines_with(chunk, tokens)
    if not dirty:
        return chunk
    pieces = []
    last = 0
    for start, end in dirty:
        pieces.append(chunk[last:start])
        pieces.append(_strict_line(chunk[start:end], null_is_nan))
        last = end
    pieces.append(chunk[last:])
    return b"".join(pieces)


@dataclass(frozen=True)
class Nulled:
    """A chunk whose bare non-finite numbers under top-level keys are written as `null`, and
    those numbers, to be put back after Polars parsed it (`rows`: line offsets in the chunk).
    A number column then stays a Float64 column: quoted as text, NaN would turn the whole
    column into text for Polars, to be parsed again as numbers afterwards. `lines`: the
    chunk's newlines; `colons`: the `:` bytes of `text` (both counted on the way)."""

    text: bytes
    lines: int
    rows: list[int]
    keys: list[str]
    values: list[float]
    colons: int


_BLOCK = 1 << 18  # bytes per block of `_tally`: a block stays in the CPU cache for both counts


def _tally(raw: np.ndarray) -> tuple[np.ndarray, int]:
    """The newlines before each _BLOCK-byte block (cumulative; the last entry is the total)
    and the `:` bytes, in one pass over memory: each block is compared twice while it is in
    cache (about 1.4x faster than two whole-chunk passes; numpy releases the GIL)."""
    import numpy as np

    starts = range(0, len(raw), _BLOCK)
    newlines = np.zeros(len(starts) + 1, np.int64)
    colons = 0
    seen = np.empty(min(len(raw), _BLOCK), np.bool_)
    for index, start in enumerate(starts):
        block = raw[start : start + _BLOCK]
        hits = seen[: len(block)]
        np.equal(block, 0x0A, out=hits)
        newlines[index + 1] = np.count_nonzero(hits)
        np.equal(block, 0x3A, out=hits)
        colons += int(np.count_nonzero(hits))
    return np.cumsum(newlines), colons


def null_nonfinite(chunk: bytes) -> Nulled:
    """`sanitize` for the schema path: top-level NaN/Infinity become null plus a patch; a
    line holding one deeper down (in an object or a list) is quoted as `sanitize` does."""
    import numpy as np

    raw = np.frombuffer(chunk, np.uint8)
    before, colons = _tally(raw)
    view = memoryview(chunk)
    pieces: list[bytes | memoryview] = []
    rows: list[int] = []
    keys: list[str] = []
    values: list[float] = []
    last = 0
    for start, end in _lines_with(chunk, _TOKENS):
        block = start // _BLOCK * _BLOCK
        row = int(before[start // _BLOCK]) + int(np.count_nonzero(raw[block:start] == 0x0A))
        line = chunk[start:end]
        text, found = _nulled_line(line)
        colons += text.count(b":") - line.count(b":")
        for key, value in found:
            rows.append(row)
            keys.append(key)
            values.append(value)
        pieces += (view[last:start], text)
        last = end
    lines = int(before[-1])
    if not pieces:
        return Nulled(chunk, lines, [], [], [], colons)
    pieces.append(view[last:])
    return Nulled(b"".join(pieces), lines, rows, keys, values, colons)


def _nulled_line(line: bytes) -> tuple[bytes, list[tuple[str, float]]]:
    """The line with its top-level non-finite numbers nulled, and those (key, number).

    A flat line with one `:` per key (so no key written twice, no `:` in text) has its
    tokens replaced where they stand, checked by parsing the result back: about a third
    less CPU than the exact route (a Python hook per object, json.dumps), which any other
    line takes."""
    try:
        parsed = loads(line)
    except ValueError:
        return line, []
    if isinstance(parsed, dict) and line.count(b":") == len(parsed):
        found = [(k, v) for k, v in parsed.items() if isinstance(v, float) and not math.isfinite(v)]
        if found and not any(isinstance(v, (dict, list)) for v in parsed.values()):
            text = line.replace(b"-Infinity", b"null").replace(b"Infinity", b"null")
            text = text.replace(b"NaN", b"null")
            parsed.update((key, None) for key, _ in found)
            with contextlib.suppress(ValueError):
                if loads(text) == parsed:
                    return text, found
    return _nulled_line_exact(line)


def _nulled_line_exact(line: bytes) -> tuple[bytes, list[tuple[str, float]]]:
    try:
        parsed = loads(line, object_pairs_hook=_first_wins)
    except (ValueError, UnicodeDecodeError):
        return line, []
    if not isinstance(parsed, dict) or _has_duplicate(parsed):
        return line, []  # as `sanitize` leaves it: Polars fails, the exact path reports it
    found = [(k, v) for k, v in parsed.items() if isinstance(v, float) and not math.isfinite(v)]
    if any(_nonfinite_inside(v) for v in parsed.values()):
        return json.dumps(_quote_nonfinite(parsed)).encode(), []
    nulled = {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in parsed.items()
    }
    return json.dumps(nulled).encode(), found


def _nonfinite_inside(value: Any) -> bool:
    """A non-finite number inside this object or list (not the value itself)."""
    pending = (
        list(value.values())
        if isinstance(value, dict)
        else list(value)
        if isinstance(value, list)
        else []
    )
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _lines_with(chunk: bytes, tokens: tuple[bytes, ...]) -> list[tuple[int, int]]:
    """(start, end) of every line containing one of `tokens`, sorted, without duplicates."""
    spans: set[tuple[int, int]] = set()
    for token in tokens:
        for pos in _found(chunk, token):
            start = chunk.rfind(b"\n", 0, pos) + 1
            end = chunk.find(b"\n", pos)
            end = len(chunk) if end == -1 else end
            spans.add((start, end))
    return sorted(spans)


def _found(chunk: bytes, token: bytes) -> Iterator[int]:
    """Where `token` starts, at most once per line. The token's first byte is looked for
    (memchr: several times faster than finding the whole token); when that byte turns up
    often without the token, the whole token is searched for instead."""
    pos, misses, first = 0, 0, token[:1]
    while (pos := chunk.find(first, pos)) != -1:
        if not chunk.startswith(token, pos):
            misses += 1
            pos += 1
            if misses > _MISSES:
                break
            continue
        yield pos
        pos = chunk.find(b"\n", pos)
        if pos == -1:
            return
    else:
        return
    while (pos := chunk.find(token, pos)) != -1:
        yield pos
        pos = chunk.find(b"\n", pos)
        if pos == -1:
            return


def _strict_line(line: bytes, null_is_nan: bool) -> bytes:
    try:
        parsed = loads(line, object_pairs_hook=_first_wins)
    except (ValueError, UnicodeDecodeError):
        return line
    if _has_duplicate(parsed):  # left as is: the exact path reports it
        return line
    if null_is_nan:
        parsed = _nulls_to_nan(parsed)
    return json.dumps(_quote_nonfinite(parsed)).encode()


def _has_duplicate(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if DUPLICATE in item:
                return True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


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


@dataclass(frozen=True)
class Cleaned:
    """A chunk ready for Polars: lines nested too deep emptied (`deep`: their 0-based
    indexes), then bare NaN/Infinity quoted (`sanitized`)."""

    raw: bytes
    sanitized: bytes
    deep: list[int]


def clean(chunk: bytes, *, null_is_nan: bool = False) -> Cleaned:
    """Everything a chunk needs before Polars sees it; safe to run in a helper thread."""
    raw, deep = blank_deep_lines(chunk)
    return Cleaned(raw, sanitize(raw, null_is_nan=null_is_nan), deep)


def decode_chunk(
    chunk: bytes,
    first_line: int,
    report: Report,
    *,
    null_is_nan: bool = False,
    unwrap: str | None = None,
    truncated_tail: bool = False,
    lines: int | None = None,
    cleaned: Cleaned | None = None,
) -> list[pl.DataFrame]:
    """Decode newline-separated JSON objects; return frames in line order, each with `_line`.

    `report(line, message)` is called once per line that could not be read.
    `truncated_tail` marks that the chunk's last line had no newline (a run killed
    mid-write or still writing), which changes the message for that line.
    `lines` and `cleaned` (see `clean`) may be computed ahead by the caller, e.g. in a
    thread while Polars parses the previous chunk.
    """
    count = chunk.count(b"\n") if lines is None else lines
    count += 0 if chunk.endswith(b"\n") else 1
    if cleaned is None:
        cleaned = clean(chunk, null_is_nan=null_is_nan)
    for index in cleaned.deep:
        report(first_line + index, TOO_DEEP)
    frame = _try_fast(cleaned.sanitized, count, first_line) if not cleaned.deep else None
    if frame is not None and _all_keys_kept(cleaned.sanitized, frame):
        return [frame]
    parts = cleaned.raw.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return _bisect(parts, first_line, report, (null_is_nan, unwrap), truncated_tail, len(parts))


def _bisect(
    lines: list[bytes],
    first_line: int,
    report: Report,
    dialect: tuple[bool, str | None],
    truncated_tail: bool,
    total: int,
) -> list[pl.DataFrame]:
    if len(lines) <= _SMALL_GROUP:
        return _decode_slow(lines, first_line, report, dialect, truncated_tail, total)
    pieces = []
    mid = len(lines) // 2
    for offset, group in ((0, lines[:mid]), (mid, lines[mid:])):
        data = sanitize(b"\n".join(group), null_is_nan=dialect[0])
        frame = _try_fast(data, len(group), first_line + offset)
        if frame is not None:
            pieces.append(frame)
        else:
            pieces.extend(
                _bisect(group, first_line + offset, report, dialect, truncated_tail, total - offset)
            )
    return pieces


def _try_fast(data: bytes, count: int, first_line: int) -> pl.DataFrame | None:
    """Decode sanitised bytes with Polars; None when any line is bad or blank (the row count
    must match the line count exactly, so nothing is ever dropped silently)."""
    if count == 0:
        return None
    try:
        frame = pl.read_ndjson(data, infer_schema_length=None)
    except Exception:
        return None
    if frame.height != count:
        return None
    return frame.with_columns(
        pl.int_range(first_line, first_line + count, dtype=pl.Int64).alias(LINE)
    )


def _decode_slow(
    lines: list[bytes],
    first_line: int,
    report: Report,
    dialect: tuple[bool, str | None],
    truncated_tail: bool,
    total: int,
) -> list[pl.DataFrame]:
    """Parse each line with `json.loads` (which accepts NaN) and report the ones that fail."""
    null_is_nan, unwrap = dialect
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    for offset, raw in enumerate(lines):
        if not raw.strip():
            continue
        line_no = first_line + offset
        parsed = _parse_line(raw, line_no, report, truncated_tail and offset == total - 1)
        if parsed is not None:
            records.append(_scalars(_nulls_to_nan(parsed) if null_is_nan else parsed, unwrap))
            numbers.append(line_no)
    if not records:
        return []
    frame = pl.read_ndjson(records_to_ndjson(records), infer_schema_length=None)
    return [frame.with_columns(pl.Series(LINE, numbers, dtype=pl.Int64))]


def _scalars(record: dict[str, Any], unwrap: str | None = None, prefix: str = "") -> dict[str, Any]:
    """Flatten one record to scalar values Polars can always type together: numbers stay
    numbers, everything else becomes text (a key that is a number on one line and an object
    or a list on another must not make the whole group undecodable)."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            inner_prefix = "" if (key == unwrap and not prefix) else f"{name}/"
            for sub, inner in _scalars(value, None, inner_prefix).items():
                flat.setdefault(sub, inner)
        elif isinstance(value, bool):
            flat.setdefault(name, "true" if value else "false")
        elif isinstance(value, list):
            flat.setdefault(name, LIST_MARKER)
        elif isinstance(value, int) and not -(2**63) <= value < 2**63:
            flat.setdefault(name, float(value))  # beyond Int64: Polars would reject the line
        else:
            flat.setdefault(name, value)
    return flat


def _parse_line(raw: bytes, line_no: int, report: Report, is_tail: bool) -> dict[str, Any] | None:
    try:
        parsed = loads(raw, object_pairs_hook=_first_wins)
    except (ValueError, UnicodeDecodeError) as exc:
        if str(exc) == TOO_DEEP:
            report(line_no, TOO_DEEP)
        elif is_tail:
            report(line_no, "last line is incomplete (run killed mid-write, or still writing)")
        else:
            report(line_no, f"not valid JSON ({_reason(exc)}): {_preview(raw)}")
        return None
    if not isinstance(parsed, dict):
        report(line_no, f"expected a JSON object, found {type(parsed).__name__}: {_preview(raw)}")
        return None
    _report_duplicate(parsed, line_no, report)
    return parsed


def _report_duplicate(value: Any, line_no: int, report: Report) -> None:
    """Say (once per line) that an object held a key twice, and remove the marker."""
    said = False
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            twice = item.pop(DUPLICATE, None)
            if twice is not None and not said:
                key, dropped = twice
                report(
                    line_no,
                    f"key {key!r} appears twice in one object; the first value was read,"
                    f" the second ({_short(dropped)}) dropped",
                )
                said = True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…"


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key written twice in one object keeps its first value, as the Polars path does;
    the key and the value dropped are kept under DUPLICATE for the caller to report."""
    record: dict[str, Any] = {}
    for key, value in pairs:
        if key in record and DUPLICATE not in record:
            record[DUPLICATE] = (key, value)
        record.setdefault(key, value)
    return record


def _all_keys_kept(data: bytes, frame: pl.DataFrame) -> bool:
    """Whether Polars kept every key of the text: each `":` in it is a key, and each key is
    a value in the frame or a JSON null. A key written twice in one object (Polars keeps one
    value and says nothing) makes the counts differ, and so does `":` inside a string or a
    list of objects: those chunks take the exact path, which tells which case it is."""
    return data.count(b'":') == present(frame) + data.count(b"null")


def present(frame: pl.DataFrame) -> int:
    """Non-null values in the frame, nested objects counted with their fields."""
    total = 0
    pending = [series for series in frame.iter_columns() if series.name != LINE]
    while pending:
        series = pending.pop()
        total += series.len() - series.null_count()
        if isinstance(series.dtype, pl.Struct):
            pending.extend(series.struct.unnest().iter_columns())
    return total


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
        # the first of two columns that flatten to one name wins ({"a/b": 1, "a": {"b": 2}})
        columns: dict[str, pl.Expr] = {}
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Struct):
                prefix = "" if name == unwrap else f"{name}/"
                for field in dtype.fields:
                    new = prefix + field.name
                    columns.setdefault(new, col(name).struct.field(field.name).alias(new))
            else:
                columns.setdefault(name, col(name))
        frame = frame.select(columns.values())
    return frame


def prepare(frame: pl.DataFrame, *, unwrap: str | None = None) -> pl.DataFrame:
    """Flatten, then leave only Float64 and String columns (plus `_line`), so decoded pieces
    of one file always concatenate: booleans become 'true'/'false', lists a marker."""
    frame = normalize(flatten(frame, unwrap=unwrap))
    exprs: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if name == LINE or dtype in (pl.Float64, pl.String):
            exprs.append(col(name))
        elif dtype == pl.Boolean:
            exprs.append(col(name).cast(pl.String))
        else:
            marker = pl.when(col(name).is_not_null()).then(pl.lit(LIST_MARKER))
            exprs.append(marker.otherwise(None).cast(pl.String).alias(name))
    return frame.select(exprs)


def normalize(frame: pl.DataFrame) -> pl.DataFrame:
    """Numbers become Float64; text columns whose every value is numeric ('5e-7', 'NaN') too.

    Text that is not a number stays text (the caller keeps it as metadata); booleans and
    lists stay as they are and are never metrics.
    """
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    numeric_text: set[str] = set()
    if text:
        checks = frame.select(
            (text_as_float(name).null_count() == col(name).null_count()).alias(name)
            for name in text
        ).row(0)
        numeric_text = {name for name, ok in zip(text, checks, strict=False) if ok}
    exprs: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        if name != LINE and (dtype.is_numeric() or dtype == pl.Null):
            exprs.append(col(name).cast(pl.Float64))
        elif name in numeric_text:
            exprs.append(text_as_float(name))
        else:
            exprs.append(col(name))
    return frame.select(exprs)


def text_as_float(name: str) -> pl.Expr:
    """Text to Float64: numbers ('5e-7', ' 1.5', 'NaN', 'Infinity') parse, other text is null."""
    return col(name).str.strip_chars().cast(pl.Float64, strict=False)
