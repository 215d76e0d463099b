"""Decode JSONL chunks with a learnt schema instead of Polars' full schema inference.

`pl.read_ndjson(infer_schema_length=None)` parses every line twice: once to infer the
schema, once to read it. Told the schema, Polars parses once (about half the CPU time).
The schema is learnt from small samples: the file's first lines, and in a later chunk the
lines that the counts below show were not read completely, or that hold text. A chunk
parsed with it is kept only when two counts prove nothing was lost:

- its row count equals its line count (Polars skips blank lines silently);
- its `:` bytes equal its non-null values, nested fields included. Every key is followed
  by exactly one `:` outside strings, so `:` count >= keys >= values Polars kept, and
  equality means every key of every line was read into a column of the schema, none was
  null, and no `:` sat inside a string. A key the schema lacks (one first logged at step
  50,000), a null, a key written twice: each makes the counts differ.

A value of another type than the schema's (text where a number was, an object nested
deeper than the schema's) makes Polars raise; told a schema, Polars reads nesting of any
depth without recursing (only its inference recurses, and crashes past ~550 levels).
Objects nested too deep make the counts differ (their keys are not read); only lists can
hide depth under a text or list key, so a chunk where one could gets the exact depth scan. When
learning does not make a chunk's counts agree, the caller takes decode.py's path (depth
scan, full inference, per-line parsing of bad lines), and the schema it found is merged
in for later chunks. Numbers are read as Float64 (the frame keeps no integer column), so
an integer-looking sample never truncates a later float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from logscope.columns import LINE
from logscope.ingest.decode import Nulled, present
from logscope.ingest.jsondepth import deep_lines

if TYPE_CHECKING:
    import numpy as np
    from polars._typing import PolarsDataType

SAMPLE_LINES = 256  # the most lines one schema update is learnt from
_RETRIES = 3  # schema updates per chunk before it takes decode.py's path
_GIVE_UP = 3  # chunks in a row decode.py had to read: the file is read its way from then on
_TEXT_VALUES = (b'": "', b'":"')  # how json.dumps and compact writers start a text value


@dataclass(frozen=True)
class Early:
    """A chunk parsed ahead, in a helper thread, with the schema of that moment: `decode`
    uses the frame only if the schema is still that one (`frame` None: Polars refused)."""

    schema: dict[str, pl.DataType]
    frame: pl.DataFrame | None


@dataclass
class SchemaDecoder:
    """Parses a file's chunks with the schema learnt so far (see the module docstring)."""

    schema: dict[str, pl.DataType] = field(default_factory=dict)
    chunks: int = 0
    misses: int = 0  # chunks in a row the schema path could not read
    version: int = 0  # bumped when the schema changes: frames of one version share it
    _facts: _Facts | None = None

    def ahead(self, chunk: Nulled) -> Early | None:
        """`decode`'s first parse, done ahead in a helper thread while the caller checks the
        chunk before; None when there is no schema yet or the file is read decode.py's way.
        It only reads this decoder: the schema dict is replaced on a change, never edited."""
        schema = self.schema
        if not schema or self.misses >= _GIVE_UP:
            return None
        return Early(schema, _parse(chunk.text, schema))

    def decode(
        self,
        chunk: Nulled,
        count: int,
        colons: int,
        first_line: int,
        early: Early | None = None,
    ) -> pl.DataFrame | None:
        """The chunk (`count` lines, `colons` bytes `:`; non-finite numbers nulled, see
        decode.null_nonfinite) as a frame with `_line` and those numbers put back, or None
        when it needs decode.py's path. `early`: its parse from `ahead`, if any."""
        self.chunks += 1
        if self.misses >= _GIVE_UP:
            return None  # e.g. nulls on every line: each chunk would be parsed twice
        data = chunk.text
        if not self.schema:
            head = _head(data, SAMPLE_LINES)
            if len(head) < len(data) or self.chunks > 1:  # a one-chunk file: decode.py infers
                self._learn(head)
        frame = self._read(chunk, count, colons, early)
        self.misses = 0 if frame is not None else self.misses + 1
        if frame is None:
            return None
        return _put_back(frame, chunk).with_columns(
            pl.int_range(first_line, first_line + count, dtype=pl.Int64).alias(LINE)
        )

    def _read(
        self, chunk: Nulled, count: int, colons: int, early: Early | None
    ) -> pl.DataFrame | None:
        """Parse with the learnt schema; when a line has a key it lacks, or text where it
        has a number, learn from those lines (found by counting, not parsing) and retry.
        Each nulled number stands for its `:` until it is put back."""
        data, nulled = chunk.text, len(chunk.rows)
        for _ in range(_RETRIES + 1):
            if not self.schema or self.facts.collide:
                return None
            if early is not None and early.schema is self.schema:
                frame = early.frame
            else:
                frame = _parse(data, self.schema)
            early = None
            if frame is None:
                sample = _lines_with(data, _TEXT_VALUES, SAMPLE_LINES)
            elif frame.height != count:
                return None
            elif missing := _rows_of_unknown_keys(chunk, frame.schema):
                sample = _lines_at(data, missing[:SAMPLE_LINES])  # keys only ever NaN so far
            elif not _can_put_back(frame.schema, chunk):
                return None
            elif colons == self._present(frame) + nulled:
                return None if self._may_hide_depth(frame) and deep_lines(data) else frame
            else:
                sample = _unread_lines(chunk, frame, SAMPLE_LINES)
            if not sample or not self._learn(sample):
                return None
        return None

    @property
    def facts(self) -> _Facts:
        if self._facts is None:
            self._facts = _facts(self.schema)
        return self._facts

    def _present(self, frame: pl.DataFrame) -> int:
        """decode.present, in one Polars call when no column is an object."""
        if not self.facts.flat:
            return present(frame)
        return int(frame.height * frame.width - sum(frame.null_count().row(0)))

    def _may_hide_depth(self, frame: pl.DataFrame) -> bool:
        """Whether a line nested deeper than MAX_DEPTH could have been read without the
        counts differing: only lists of lists can (objects have keys), read as a list, or
        as text starting with '[' under a key the schema reads as text. Objects nested in
        the schema are at most MAX_DEPTH deep: it is learnt from lines that passed the
        depth scan."""
        facts = self.facts
        if facts.lists:
            return True  # a rare shape in logs: the exact scan decides
        if not facts.text:
            return False
        starts = [text.str.starts_with("[").any() for text in facts.text]
        return bool(frame.select(pl.any_horizontal(starts)).item())

    def _learn(self, sample: bytes) -> bool:
        """Merge the sample's inferred schema; whether that changed the schema. A sample
        nested too deep for Polars' inference is not parsed (the chunk takes decode.py's
        path, which reports such lines)."""
        if deep_lines(sample):
            return False
        frame = _parse(sample, None)
        if frame is None:
            return False
        before = self.schema
        self._merge(frame.schema)
        if self.schema == before:
            return False
        self.version += 1
        self._facts = None
        return True

    def _merge(self, found: pl.Schema) -> None:
        """Union of keys; where types differ, the one both read as (Float64 and String:
        String), as full inference over both would give."""
        widened = {name: widen(dtype) for name, dtype in found.items()}
        try:
            merged = pl.concat(
                [pl.DataFrame(schema=self.schema), pl.DataFrame(schema=widened)],
                how="diagonal_relaxed",
            ).schema
        except pl.exceptions.PolarsError:  # no common type: keep the newer one's
            self.schema = {**self.schema, **widened}
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


@dataclass(frozen=True)
class _Facts:
    """What the checks after each parse need to know of a schema, found once per schema."""

    collide: bool  # two columns flatten to one name
    lists: bool  # some column, or field, is a list
    flat: bool  # no column is an object
    text: list[pl.Expr]  # the text columns and fields


def _facts(schema: dict[str, pl.DataType]) -> _Facts:
    """Whether two columns flatten to one name (`"a/b"` and `"a": {"b": ..}`: which one
    wins then depends on column order, which only full inference gives as it does), and
    the kinds of columns the schema has."""
    names: set[str] = set()
    collide = lists = False
    text: list[pl.Expr] = []
    pending: list[tuple[str, pl.Expr, PolarsDataType]] = [
        (name, pl.col(name), dtype) for name, dtype in schema.items()
    ]
    while pending:
        name, expr, dtype = pending.pop()
        if isinstance(dtype, pl.Struct):
            pending.extend(
                (f"{name}/{f.name}", expr.struct.field(f.name), f.dtype) for f in dtype.fields
            )
        elif isinstance(dtype, (pl.List, pl.Array)):
            lists = True
        elif dtype == pl.String:
            text.append(expr)
        collide = collide or name in names
        names.add(name)
    flat = not any(isinstance(dtype, pl.Struct) for dtype in schema.values())
    return _Facts(collide, lists, flat, text)


def _parse(data: bytes, schema: dict[str, pl.DataType] | None) -> pl.DataFrame | None:
    """Polars' parse; told a schema, copied into one chunk per column while it is in the
    CPU cache (Polars parses ~100 lines a piece: the checks after it, the frame's later
    steps and the frame's end would each handle ~18 pieces per column per 8 MiB, and a copy
    of the whole frame at the end of the read would have nothing to run beside it)."""
    try:
        if schema is None:
            return pl.read_ndjson(data, infer_schema_length=None)
        return pl.read_ndjson(data, schema=schema).rechunk()
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


def _rows_of_unknown_keys(chunk: Nulled, schema: pl.Schema) -> list[int]:
    """The lines holding a nulled number under a key the schema lacks (the counts cannot
    show it: the nulled number stands for its `:`)."""
    return [row for row, key in zip(chunk.rows, chunk.keys, strict=True) if key not in schema]


def _can_put_back(schema: pl.Schema, chunk: Nulled) -> bool:
    """Every nulled number's key is a number or text column (as full inference would read
    the quoted spelling: a number, or text beside other text)."""
    return all(schema[key] in (pl.Float64, pl.String) for key in set(chunk.keys))


def _put_back(frame: pl.DataFrame, chunk: Nulled) -> pl.DataFrame:
    """The nulled non-finite numbers, back in their cells (spelt as text in a text column,
    as decode.sanitize quotes them)."""
    if not chunk.rows:
        return frame
    cells: dict[str, tuple[list[int], list[float]]] = {}
    for row, key, value in zip(chunk.rows, chunk.keys, chunk.values, strict=True):
        rows, values = cells.setdefault(key, ([], []))
        rows.append(row)
        values.append(value)
    columns = []
    for key, (rows, values) in cells.items():
        column = frame.get_column(key).clone()
        if column.dtype == pl.String:
            column.scatter(rows, pl.Series([spelling(v) for v in values], dtype=pl.String))
        else:
            column.scatter(rows, pl.Series(values, dtype=pl.Float64))
        columns.append(column)
    return frame.with_columns(columns)


def spelling(value: float) -> str:
    """How decode.sanitize quotes a non-finite number."""
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _unread_lines(chunk: Nulled, frame: pl.DataFrame, limit: int) -> bytes:
    """Up to `limit` lines with more `:` than values read (nulled numbers counted as read):
    a key the schema lacks (or a null, or a `:` inside a string; learning from those
    changes nothing)."""
    import numpy as np

    data = chunk.text
    raw = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(raw == 0x0A)
    line_of_colon = np.searchsorted(ends, np.flatnonzero(raw == 0x3A))
    colons = np.bincount(line_of_colon, minlength=len(ends) + 1)
    colons[: frame.height] -= np.bincount(
        np.asarray(chunk.rows, dtype=np.int64), minlength=frame.height
    )[: frame.height]
    values = frame.select(pl.sum_horizontal(_value_counts(frame.schema))).to_series().to_numpy()
    short = np.flatnonzero(colons[: frame.height] != values)[:limit].tolist()
    return _lines_at(data, short, ends)


def _lines_at(data: bytes, indices: list[int], ends: np.ndarray | None = None) -> bytes:
    """The lines of `data` at these 0-based indexes (`ends`: its newline offsets)."""
    import numpy as np

    if ends is None:
        ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 0x0A)
    starts = np.concatenate(([0], ends + 1, [len(data)]))
    return b"".join(data[starts[i] : starts[i + 1]].rstrip(b"\n") + b"\n" for i in indices)


def _value_counts(schema: pl.Schema, prefix: pl.Expr | None = None) -> list[pl.Expr]:
    """Per row, 1 for each non-null value, nested fields included (as `present` counts)."""
    exprs: list[pl.Expr] = []
    for name, dtype in schema.items():
        column = pl.col(name) if prefix is None else prefix.struct.field(name)
        exprs.append(column.is_not_null().cast(pl.UInt32))
        if isinstance(dtype, pl.Struct):
            inner = pl.Schema({f.name: f.dtype for f in dtype.fields})
            exprs.extend(_value_counts(inner, column))
    return exprs


def _head(data: bytes, lines: int) -> bytes:
    end = -1
    for _ in range(lines):
        end = data.find(b"\n", end + 1)
        if end == -1:
            return data
    return data[: end + 1]
