"""Decode JSONL chunks with a learnt schema instead of Polars' full schema inference.

`pl.read_ndjson(infer_schema_length=None)` parses every line twice: once to infer the
schema, once to read it. Told the schema, Polars parses once (about 3x faster). The schema
is learnt from the first lines of the file and from every chunk that needed full
inference, and a chunk parsed with it is kept only when two counts prove nothing was lost:

- its row count equals its line count (Polars skips blank lines silently);
- its `:` bytes equal its non-null values, nested fields included. Every key is followed
  by exactly one `:` outside strings, so `:` count >= keys >= values Polars kept, and
  equality means every key of every line was read into a column of the schema, none was
  null, and no `:` sat inside a string. A key the schema lacks (one first logged at step
  50,000), a null, a key written twice: each makes the counts differ.

A value of another type than the schema's (text where a number was) makes Polars raise.
Either way the chunk then takes full inference, whose schema is merged into the learnt
one for the chunks after it; if that fails too, the exact path of decode.py reports each
bad line. Numbers are read as Float64 (the frame keeps no integer column anyway), so an
integer-looking first sample never truncates a later float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from logscope.columns import LINE
from logscope.ingest.decode import Cleaned, clean, sanitize
from logscope.ingest.jsondepth import MAX_DEPTH

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

_SAMPLE_LINES = 256  # the most lines one schema update is learnt from
_RETRIES = 3  # schema updates per chunk before it takes full inference
_TEXT_VALUES = (b'": "', b'":"')  # how json.dumps and compact writers start a text value
_LIST_MARKER_TYPES = (pl.List, pl.Array)


def quick_clean(chunk: bytes, *, null_is_nan: bool = False) -> Cleaned:
    """`decode.clean`, skipping the per-line depth scan when counts prove it needless:
    a line holds at most `openers - lines_opening_with_brace + 1` of `{`/`[`, so when that
    is at most MAX_DEPTH no line can be nested deeper."""
    openers = chunk.count(b"{") + chunk.count(b"[")
    if openers > MAX_DEPTH:
        starts = chunk.count(b"\n{") + chunk.startswith(b"{")
        if openers - starts + 1 > MAX_DEPTH:
            return clean(chunk, null_is_nan=null_is_nan)
    return Cleaned(chunk, sanitize(chunk, null_is_nan=null_is_nan), [])


@dataclass
class SchemaDecoder:
    """Parses a file's chunks with the schema learnt so far (see the module docstring)."""

    schema: dict[str, pl.DataType] = field(default_factory=dict)
    learnt_head: bool = False

    def decode(self, cleaned: Cleaned, count: int, first_line: int) -> pl.DataFrame | None:
        """The chunk as a frame with `_line`, or None when it needs decode.py's exact path
        (a bad, blank or too-deep line, a key written twice, a `:` inside a string...)."""
        if cleaned.deep or count == 0:
            return None
        data = cleaned.sanitized
        if not self.learnt_head:
            self.learnt_head = True
            head = _head(data, _SAMPLE_LINES)
            if len(head) < len(data):  # else the chunk is the sample: infer it once below
                self._learn(head)
        frame = self._parse_known(data, count)
        if frame is None:
            frame = _parse(data, None)
            if frame is None or not complete_inferred(data, frame, count):
                return None
            self._merge(frame.schema)
        return frame.with_columns(
            pl.int_range(first_line, first_line + count, dtype=pl.Int64).alias(LINE)
        )

    def _parse_known(self, data: bytes, count: int) -> pl.DataFrame | None:
        """Parse with the learnt schema; when a line has a key it lacks, or text where it
        has a number, learn from those lines (found by counting, not parsing) and retry."""
        for _ in range(_RETRIES + 1):
            if not self.schema:
                return None
            frame = _parse(data, self.schema)
            if frame is None:
                sample = _lines_with(data, _TEXT_VALUES, _SAMPLE_LINES)
            elif frame.height != count:
                return None
            elif data.count(b":") == present(frame):
                return frame
            else:
                sample = _unread_lines(data, frame, _SAMPLE_LINES)
            if not sample or not self._learn(sample):
                return None
        return None

    def _learn(self, sample: bytes) -> bool:
        """Merge the sample's inferred schema; whether that changed the schema."""
        frame = _parse(sample, None)
        if frame is None:
            return False
        before = self.schema
        self._merge(frame.schema)
        return self.schema != before

    def _merge(self, found: pl.Schema) -> None:
        """Union of keys; where types differ, the one both read as (Float64 and String:
        String), as full inference over both chunks would give."""
        widened = {name: widen(dtype) for name, dtype in found.items()}
        if not self.schema:
            self.schema = widened
            return
        try:
            merged = pl.concat(
                [pl.DataFrame(schema=self.schema), pl.DataFrame(schema=widened)],
                how="diagonal_relaxed",
            ).schema
        except pl.exceptions.PolarsError:  # no common type: keep the newer chunk's
            self.schema = widened
            return
        self.schema = {name: widen(dtype) for name, dtype in merged.items()}


def widen(dtype: PolarsDataType) -> pl.DataType:
    """Numbers (and all-null keys) as Float64, inside objects too; lists keep their type
    (they are only marked as present, never read as values)."""
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: widen(f.dtype) for f in dtype.fields})
    if dtype.is_numeric() or dtype == pl.Null:
        return pl.Float64()
    return dtype if isinstance(dtype, pl.DataType) else dtype()


def complete(data: bytes, frame: pl.DataFrame, count: int) -> bool:
    """Whether the frame holds every key of every line (see the module docstring)."""
    return frame.height == count and data.count(b":") == present(frame)


def complete_inferred(data: bytes, frame: pl.DataFrame, count: int) -> bool:
    """decode.py's test for a fully inferred frame: keys (`":`) = values + nulls."""
    return frame.height == count and data.count(b'":') == present(frame) + data.count(b"null")


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


def _parse(data: bytes, schema: dict[str, pl.DataType] | None) -> pl.DataFrame | None:
    try:
        if schema is None:
            return pl.read_ndjson(data, infer_schema_length=None)
        return pl.read_ndjson(data, schema=schema)
    except Exception:  # any line Polars cannot read: the caller takes a slower path
        return None


def _lines_with(data: bytes, needles: tuple[bytes, ...], limit: int) -> bytes:
    """Up to `limit` lines holding one of `needles` (a bytes.find scan that jumps to the
    next line after each hit), in file order."""
    spans: set[tuple[int, int]] = set()
    for needle in needles:
        pos = data.find(needle)
        while pos != -1 and len(spans) < limit:
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            end = len(data) if end == -1 else end
            spans.add((start, end))
            pos = data.find(needle, end)
    return b"".join(data[start:end] + b"\n" for start, end in sorted(spans))


def _unread_lines(data: bytes, frame: pl.DataFrame, limit: int) -> bytes:
    """Up to `limit` lines with more `:` than values read: a key the schema lacks (or a
    null, or a `:` inside a string; learning from those changes nothing)."""
    import numpy as np

    raw = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(raw == 0x0A)
    colons = np.bincount(
        np.searchsorted(ends, np.flatnonzero(raw == 0x3A)), minlength=len(ends) + 1
    )
    values = frame.select(pl.sum_horizontal(_value_counts(frame.schema))).to_series().to_numpy()
    short = np.flatnonzero(colons[: frame.height] != values)[:limit].tolist()
    starts = np.concatenate(([0], ends + 1))
    return b"".join(data[starts[i] : starts[i + 1]] for i in short)


def _value_counts(schema: pl.Schema, prefix: pl.Expr | None = None) -> list[pl.Expr]:
    """Per row, 1 for each non-null value, nested fields included (as `present` counts)."""
    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        if name == LINE:
            continue
        column = pl.col(name) if prefix is None else prefix.struct.field(name)
        exprs.append(column.is_not_null().cast(pl.UInt32))
        if isinstance(dtype, pl.Struct):
            exprs.extend(_value_counts(pl.Schema({f.name: f.dtype for f in dtype.fields}), column))
    return exprs


def _head(data: bytes, lines: int) -> bytes:
    end = -1
    for _ in range(lines):
        end = data.find(b"\n", end + 1)
        if end == -1:
            return data
    return data[: end + 1]
