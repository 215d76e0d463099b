"""Many small JSON Lines runs read in one Polars call: the sweep path of the reader.

A sweep is thousands of run folders, each holding one small `metrics.jsonl`. Read one by
one, each file costs a dozen Polars queries (decode, normalise, tabulate, build the Run):
milliseconds per run, most of a sweep's time. Here the plain files of a batch are
concatenated and decoded by one `pl.read_ndjson`, checked with a few vectorised queries,
and cut back into runs.

Only files whose run is exactly what `jsonl.read` + `run.build_run` would make of them
take this path: every line one flat JSON object with the first line's keys in its order,
all numbers, an integer `step` rising line by line, no NaN/Infinity/null token, no blank or
CR line, a trailing newline. Anything else (and any file this module is unsure of) is read
by the ordinary reader, so what a run contains never depends on which path read it
(tests/ingest/test_many.py compares both on random files).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logscope.ingest.base import STEP_KEYS, WALL_TIME_KEYS

if TYPE_CHECKING:
    from logscope.ingest.base import Progress, ReadOptions
    from logscope.ingest.discover import RunFiles
    from logscope.run import Run

MAX_FILE_BYTES = 4 << 20  # larger files are read one by one (their reader is fast enough)
MAX_BATCH_BYTES = 256 << 20  # past this, a batch's other files are read one by one
_FILE = "\x00file"


@dataclass(frozen=True, slots=True)
class _Plain:
    """A file that may take the batched path: its bytes and its first line's keys."""

    index: int
    data: bytes
    keys: tuple[str, ...]
    lines: int


def read_many(
    targets: Sequence[tuple[RunFiles, Path]],
    progress: Progress | None = None,
    options: ReadOptions | None = None,
) -> list[Run]:
    """`ingest.read_found` for each target, in order; plain one-file JSONL runs batched."""
    from logscope.ingest import read_found

    runs: list[Run | None] = [None] * len(targets)
    plain: list[_Plain] = []
    size = 0
    for i, target in enumerate(targets):
        if size < MAX_BATCH_BYTES and (found := _plain(i, target[0])) is not None:
            plain.append(found)
            size += len(found.data)
    for index, run in _read_plain(plain, targets):
        runs[index] = run
    return [
        run if run is not None else read_found(*targets[i], progress, options)
        for i, run in enumerate(runs)
    ]


def _plain(index: int, found: RunFiles) -> _Plain | None:
    """The file of a run that is one small plain JSONL file, else None."""
    from logscope.ingest import formats
    from logscope.ingest.stream import shown_as

    if found.part is not None or len(found.files) != 1:
        return None
    if formats.get(found.files[0][1]) is not formats.DEFAULT:  # the JSON Lines record
        return None
    path = found.files[0][0]
    if shown_as(path) is not None:
        return None
    try:
        with path.open("rb") as file:
            if os.fstat(file.fileno()).st_size > MAX_FILE_BYTES:
                return None
            data = file.read()
    except OSError:
        return None
    if not data.startswith(b"{") or not data.endswith(b"}\n"):
        return None
    if any(byte in data for byte in _UNSURE):
        return None
    first = data[: data.index(b"\n") + 1]
    keys = _first_keys(first)
    if keys is None:
        return None
    # one pass for what took a search per token: with its numbers taken out, every line is
    # the first line's text (no NaN/Infinity/null/true, text, blank line, second object or
    # repeated key; the first line's values are numbers). Keys written in another order on
    # some line send the file to the reader.
    shape = first.translate(None, _NUMBER)
    skeleton = data.translate(None, _NUMBER)
    lines, rest = divmod(len(skeleton), len(shape))
    if rest or skeleton != shape * lines:
        return None
    return _Plain(index, data, keys, lines)


# what may differ between the lines of a plain file: the characters of numbers
_NUMBER = b"0123456789.-+eE \t"
_UNSURE = (b"[", b"\r", b"\\")  # arrays, CR (a CRLF file), escapes: the reader decides


def _first_keys(line: bytes) -> tuple[str, ...] | None:
    """The first line's keys, when it is a flat object of numbers with an integer `step`
    and no other step or reserved key."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("step"), int):
        return None
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in record.values()):
        return None
    reserved = (set(STEP_KEYS) - {"step"}) | {"log_history", "_line", _FILE}
    if reserved & set(record):
        return None
    return tuple(record)


def _read_plain(
    plain: list[_Plain], targets: Sequence[tuple[RunFiles, Path]]
) -> list[tuple[int, Run]]:
    """Decode the plain files together; the runs of the files that pass every check."""
    import numpy as np
    import polars as pl

    if not plain:
        return []
    frame = _decode(b"".join(p.data for p in plain), plain)
    if frame is None:  # every file is read on its own
        return []
    lines = np.array([p.lines for p in plain], dtype=np.int64)
    if frame.height != int(lines.sum()) or frame.schema.get("step") != pl.Int64:
        return []
    bounds = np.concatenate(([0], np.cumsum(lines)))
    frame = frame.with_columns(pl.Series(_FILE, np.repeat(np.arange(len(plain)), lines)))
    ok = _passing(frame, plain, bounds)
    layouts: dict[tuple[str, ...], Any] = {}  # each key layout's columns, built once
    sources = [_source(targets[p.index]) for p in plain]
    origins = frame.select(
        pl.col("step").cast(pl.Float64).cast(pl.Int64),
        pl.Series("source", np.repeat(np.array(sources, dtype=object), lines), dtype=pl.String),
        (pl.int_range(pl.len(), dtype=pl.Int64).over(_FILE) + 1).alias("line"),
    )
    out = []
    for j in np.flatnonzero(ok):
        p = plain[int(j)]
        if p.keys not in layouts:
            layouts[p.keys] = _layout(frame, p.keys)
        a = int(bounds[j])
        run = _run(
            layouts[p.keys].slice(a, p.lines), origins.slice(a, p.lines), p, targets[p.index]
        )
        out.append((p.index, run))
    return out


def _decode(data: bytes, plain: list[_Plain]) -> Any:
    """All lines at once. First with the schema the first lines promise (numbers only:
    4-5x faster than inferring it; a key it lacks is caught by _passing's key count, a
    value of another type fails the call); then, if one file broke that promise, inferring
    the schema so the other files still pass; None if Polars refuses the bytes."""
    import polars as pl

    keys = dict.fromkeys(k for p in plain for k in p.keys)
    schema = {k: pl.Int64 if k == "step" else pl.Float64 for k in keys}
    for options in ({"schema": schema}, {"infer_schema_length": None}):
        try:
            return pl.read_ndjson(data, **options)
        except Exception:  # a value of another type: try the next way
            continue
    return None


def _source(target: tuple[RunFiles, Path]) -> str:
    from logscope.ingest import _display

    return _display(target[0].files[0][0], target[1])


def _layout(frame: Any, keys: tuple[str, ...]) -> Any:
    """The run frame (see base.tabulate, run.build_run) of files with these keys."""
    import polars as pl

    from logscope.columns import col

    wall = next((k for k in WALL_TIME_KEYS if k in keys), None)
    metrics = [k for k in keys if k not in ("step", wall)]
    return frame.select(
        pl.col("step").cast(pl.Float64).cast(pl.Int64),
        (col(wall) if wall else pl.lit(None, dtype=pl.Float64)).cast(pl.Float64).alias("wall_time"),
        *(col(k).cast(pl.Float64) for k in metrics),
    )


def _passing(frame: Any, plain: list[_Plain], bounds: Any) -> Any:
    """Which files are uniform (each line holds exactly the first line's keys, all numbers,
    every key read) with steps rising line by line."""
    import numpy as np
    import polars as pl

    columns = [c for c in frame.columns if c != _FILE]
    numeric = {c for c in columns if frame.schema[c] in (pl.Int64, pl.Float64)}
    step = pl.col("step").cast(pl.Float64)  # as tabulate sees it (normalised to a float)
    present = (
        frame.group_by(_FILE, maintain_order=True)
        .agg(
            ((step.diff().fill_null(1.0) > 0) & (step.abs() < 2**62)).all().alias(_FILE + "ok"),
            *(pl.col(c).is_not_null().sum().alias(c) for c in columns),
        )
        .sort(_FILE)
    )
    rising = present.get_column(_FILE + "ok").to_numpy()
    counts = present.select(columns).to_numpy()
    index = {c: k for k, c in enumerate(columns)}
    ok = np.zeros(len(plain), dtype=bool)
    for j, p in enumerate(plain):
        if not set(p.keys) <= numeric:
            continue
        row = counts[j]
        wanted = np.zeros(len(columns), dtype=np.int64)
        wanted[[index[k] for k in p.keys]] = p.lines
        if not np.array_equal(row, wanted):
            continue
        ok[j] = bool(rising[j])
    return ok


def _run(frame: Any, origins: Any, plain: _Plain, target: tuple[RunFiles, Path]) -> Run:
    """The Run `read_found` builds from this file."""
    from logscope.ingest import _display
    from logscope.model import Source
    from logscope.run import Run

    found, base = target
    source = Source(origins.item(0, "source"), "jsonl", plain.lines, (), ())
    run = Run(
        _display(found.root, base), frame, [source], [], {"step_key": "step"}, origins=origins
    )
    run.notes.extend(found.notes)
    return run
