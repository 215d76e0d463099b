"""W&B run folders (`wandb/run-*/`, `wandb/offline-run-*/`): the full history from the binary
`run-<id>.wandb` transaction log, without the wandb package.

Records (framing in leveldblog.py) are protobuf `Record`s (wandb_internal.proto, checked
against wandb 0.31): `history = 2` holds `HistoryRecord{item = 1, step = 2 {num = 1}}` and
each `HistoryItem{key = 1, nested_key = 2, value_json = 16}` one value. The Python client
writes values with `json.dumps`, so NaN and Infinity are bare tokens; newer clients may set
the typed `integer = 5` (sint64) / `number = 6` (double) / `text = 7` / `json = 8` instead,
which are read too. A nested dict logged as `{"train": {"kl": 0.1}}` arrives as
nested_key ["train", "kl"] (wandb-core) or as one item whose value is a JSON object (the
legacy Python writer before wandb-core) and is named `train.kl` either way, as W&B's UI and
its own local reader (`core/internal/leet`) name it. The `_step` item is the step (it overrides `step.num`);
`_timestamp` is the wall time; `_wandb*` bookkeeping is dropped. Text, booleans and media
(tables, images, histograms: JSON objects) are not metrics: the last text value is kept as
metadata, the rest is mentioned in a note.

Decoding is columnar (protowire.tokens): a level of nesting costs a few numpy rounds for
all records at once, and the values go to one Polars pivot. Run, config and exit records are
few and read one by one, and `files/config.yaml`, `files/wandb-summary.json` and
`files/wandb-metadata.json` add metadata when present (wandb_meta.py).
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from logscope.ingest import leveldblog, wandb_meta
from logscope.ingest.base import Ingested, ProblemLog
from logscope.ingest.decode import LINE
from logscope.ingest.protowire import Bytes, Tokens, tokens
from logscope.run import Resume

if TYPE_CHECKING:
    from logscope.ingest import Progress

FORMAT = "wandb"
# wandb/run-20240101_120000-abc123/ and wandb/offline-run-...: one folder per start of a run
RUN_FOLDER = re.compile(r"^(offline-)?run-\d{8}_\d{6}-(?P<id>[^/\\]+)$")
_RUN_FILE = re.compile(r"^run-(?P<id>.+)\.wandb$")
_RESERVED = {"step", "wall_time"}
_PREVIEW = 60
_META_TEXT = 200
_GATHER_BYTES = 4 << 20


def run_id(path: Path) -> str:
    """The W&B run id of a `.wandb` file: its name, else its folder's, else the file name."""
    found = _RUN_FILE.match(path.name)
    if found:
        return found.group("id")
    folder = RUN_FOLDER.match(path.parent.name)
    return folder.group("id") if folder else path.name


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    """One `.wandb` file (with its folder's `files/` metadata); problems are reported."""
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    try:
        buf = path.read_bytes()
    except OSError as exc:
        log(None, f"could not be read ({exc.strerror or exc}); skipped")
        return Ingested(name, FORMAT, _empty(), log.finish(), notes)
    if progress:
        progress(name, len(buf), len(buf))
    records = leveldblog.read_records(buf)
    del buf  # records.data holds the file's bytes
    for offset, message in records.problems:
        log(None, message if message.startswith("byte ") else f"byte {offset}: {message}")
    decoded = _Decoded(Bytes(records.data), records, log)
    frame, meta = decoded.history(notes if len(records.start) else [])
    meta.update(decoded.run_info(notes if len(records.start) else []))
    extra = wandb_meta.folder_files(path.parent, name, meta)
    return Ingested(name, FORMAT, frame, [*log.finish(), *extra], notes, meta)


def read_files(files: list[tuple[Path, str]], progress: Progress | None = None) -> list[Ingested]:
    """The folders of one run id (a resumed run starts a new folder): read each, order them
    by the first step they logged (RunRecord.starting_step says the same for online runs, but
    an offline resume leaves it 0), and record each later folder as a resume."""
    parts = [read(path, display, progress) for path, display in files]
    parts.sort(key=lambda p: (_first_step(p), p.path))
    last: int | None = None
    for part in parts:
        part.resumes = []
        if part.frame.height == 0:
            continue
        first = _first_step(part)
        if last is not None:
            part.resumes.append(Resume(first, last, part.path, None))
            part.notes.append(f"resumed run: this folder continues at step {first}")
        last = int(part.frame.get_column("step").max())  # type: ignore[arg-type]
    return parts


def _first_step(part: Ingested) -> int:
    if part.frame.height == 0:
        return -1
    return int(part.frame.get_column("step").min())  # type: ignore[arg-type]


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={"step": pl.Int64, "wall_time": pl.Float64, LINE: pl.Int64})


@dataclass
class _Items:
    """One row per history item: which history record, its name, number and raw text."""

    record: np.ndarray
    name: pl.Series
    value: pl.Series  # Float64; null when the value is no number
    text: pl.Series  # the value as written (JSON), for the ones that are no number


class _Decoded:
    def __init__(self, b: Bytes, records: leveldblog.Records, log: ProblemLog) -> None:
        self.b, self.records, self.log = b, records, log
        self.tok = tokens(b, records.start, records.end)
        for rec in np.flatnonzero(self.tok.bad)[:10]:
            log(None, f"byte {int(records.offset[rec])}: record is not a valid protobuf; skipped")
        if self.tok.bad.sum() > 10:
            log(None, f"{int(self.tok.bad.sum()) - 10} more damaged records skipped")

    def _field(self, num: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Records carrying message field `num`: record index, payload start, length."""
        msg, pos, size = self.tok.select(num, 2)
        keep = ~self.tok.bad[msg]
        return msg[keep], pos[keep], size[keep]

    def history(self, notes: list[str]) -> tuple[pl.DataFrame, dict[str, Any]]:
        rec, pos, size = self._field(2)
        meta: dict[str, Any] = {}
        if len(rec) == 0:
            notes.append("no history records (nothing was logged, or the log is cut early)")
            return _empty(), meta
        htok = tokens(self.b, pos, pos + size)
        steps = _step_numbers(self.b, htok, len(rec))
        items = self._items(htok)
        bad = np.flatnonzero(htok.bad)
        if len(bad):
            first = int(self.records.offset[rec[bad[0]]])
            self.log(None, f"byte {first}: {len(bad)} damaged history record(s) skipped")
        long = pl.DataFrame(
            {"row": items.record, "name": items.name, "value": items.value, "text": items.text}
        ).filter(~pl.col("row").is_in(pl.Series(bad, dtype=pl.Int64).implode()))
        # protowire.tokens lists fields round by round (every record's first item, then every
        # record's second...), and wandb-core writes a record's items in no fixed order
        long = long.sort("row", maintain_order=True)
        named = pl.col("name").is_not_null() & (pl.col("name") != "")
        nameless = long.height - long.select(named.sum()).item()
        if nameless:
            self.log(None, f"{nameless} history item(s) without a key skipped")
        long = long.filter(named & ~pl.col("name").str.starts_with("_wandb"))
        long = _flatten_objects(long)
        long = _drop_media(long, notes)
        long = self._non_numeric(long, meta, notes)
        wide = _pivot(long, len(rec))
        step = pl.Series("num", steps).cast(pl.Float64)
        if "_step" in wide.columns:
            step = wide.get_column("_step").fill_null(step).rename("num")
        usable = step.is_finite() & (step.abs() < 2**62)
        wide = wide.with_columns(
            step.alias("\u0000step"), pl.Series(LINE, [None] * wide.height, dtype=pl.Int64)
        ).filter(usable & ~pl.int_range(pl.len()).is_in(pl.Series(bad, dtype=pl.Int64).implode()))
        wall = (
            pl.col("_timestamp") if "_timestamp" in wide.columns else pl.lit(None, dtype=pl.Float64)
        )
        for name in sorted(_RESERVED & set(wide.columns)):
            notes.append(f"'{name}' was logged as a metric; W&B's _step is the step, so skipped")
        metrics = [
            c
            for c in wide.columns
            if c not in ("row", "_step", "_timestamp", "\u0000step", LINE, *_RESERVED)
        ]
        frame = wide.select(
            pl.col("\u0000step").cast(pl.Int64).alias("step"),
            wall.cast(pl.Float64).alias("wall_time"),
            pl.col(LINE),
            *(pl.col(m) for m in metrics),
        )
        if frame.height > 1 and not (frame.get_column("step").diff().drop_nulls() > 0).all():
            frame = frame.sort("step", maintain_order=True)
        return frame, meta

    def _items(self, htok: Tokens) -> _Items:
        h, pos, size = htok.select(1, 2)
        itok = tokens(self.b, pos, pos + size)
        n = len(h)
        has_key, key_pos, key_len = itok.first(n, 1, 2)
        names = _place(n, has_key, _strings(self.b, key_pos[has_key], key_len[has_key]))
        part_of, part_pos, part_len = itok.select(2, 2)
        if len(part_of):
            parts = _strings(self.b, part_pos, part_len)
            counts = np.bincount(part_of, minlength=n)
            single = counts[part_of] == 1  # most items: one part, nothing to join
            nested = _place(n, part_of[single], parts.filter(pl.Series(single)))
            if not single.all():
                joined = (
                    pl.DataFrame({"i": part_of[~single], "p": parts.filter(pl.Series(~single))})
                    .group_by("i", maintain_order=True)
                    .agg(pl.col("p").str.join("."))
                )
                several = _place(n, joined.get_column("i").to_numpy(), joined.get_column("p"))
                nested = pl.select(pl.coalesce(pl.lit(nested), pl.lit(several))).to_series()
            names = pl.select(pl.coalesce(pl.lit(nested), pl.lit(names))).to_series()
        texts = []
        for num in (16, 8, 7):  # value_json, json, text
            has, at, length = itok.first(n, num, 2)
            if has.any():
                raw = _strings(self.b, at[has], length[has])
                if num == 7:  # plain text: quote it as JSON, like the value_json of a str
                    raw = pl.Series([json.dumps(v) for v in raw.to_list()], dtype=pl.String)
                texts.append(_place(n, has, raw))
        has_bool, _, bools = itok.first(n, 4, 0)
        if has_bool.any():
            flags = pl.Series(np.where(bools[has_bool] != 0, "true", "false"))
            texts.append(_place(n, has_bool, flags))
        text = (
            pl.select(pl.coalesce(pl.lit(t) for t in texts)).to_series()
            if texts
            else pl.Series([None] * n, dtype=pl.String)
        )
        numbers = [text.str.strip_chars().cast(pl.Float64, strict=False)]
        has_num, num_pos, _ = itok.first(n, 6, 1)
        if has_num.any():
            numbers.insert(0, _place(n, has_num, pl.Series(self.b.read("<f8", num_pos[has_num]))))
        has_int, _, raw_int = itok.first(n, 5, 0)
        if has_int.any():
            u = raw_int[has_int].view(np.uint64)
            ints = (u >> np.uint64(1)).view(np.int64) ^ -(u & np.uint64(1)).view(np.int64)
            numbers.insert(0, _place(n, has_int, pl.Series(ints.astype(np.float64))))
        value = pl.select(pl.coalesce(pl.lit(v) for v in numbers)).to_series()
        keep = ~itok.bad
        if not keep.all():
            self.log(None, f"{int((~keep).sum())} damaged history item(s) skipped")
            mask = pl.Series(keep)
            return _Items(h[keep], names.filter(mask), value.filter(mask), text.filter(mask))
        return _Items(h, names, value, text)

    def _non_numeric(
        self, long: pl.DataFrame, meta: dict[str, Any], notes: list[str]
    ) -> pl.DataFrame:
        """Keep numbers; text becomes metadata, media and other values a note each."""
        other = long.filter(
            pl.col("value").is_null() & pl.col("text").is_not_null() & (pl.col("text") != "null")
        )
        if other.height == 0:
            return long.select("row", "name", "value")
        numeric = long.filter(pl.col("value").is_not_null()).get_column("name").unique()
        summary = other.group_by("name", maintain_order=True).agg(
            pl.len().alias("count"), pl.col("text").last().alias("last")
        )
        for name, count, last in summary.iter_rows():
            kind = _kind(last)
            if name in numeric:
                notes.append(
                    f"'{name}' has {count} non-numeric value(s) such as {_short(last)}; "
                    "read as missing"
                )
            elif kind == "text":
                text = json.loads(last)
                meta[name] = text if len(text) <= _META_TEXT else text[:_META_TEXT] + "…"
            else:
                notes.append(f"'{name}' holds {kind} on {count} step(s): not a metric, skipped")
        return long.filter(pl.col("name").is_in(numeric.implode())).select("row", "name", "value")

    def run_info(self, notes: list[str]) -> dict[str, Any]:
        """Run id, name, project and config from the run/config records; the exit code."""
        spans = {num: list(zip(*self._field(num)[1:], strict=True)) for num in (17, 5, 18)}
        return wandb_meta.run_info(self.records.data, spans[17], spans[5], spans[18], notes)


def _step_numbers(b: Bytes, htok: Tokens, count: int) -> np.ndarray:
    """HistoryRecord.step.num per history record (0 when absent, as protobuf defaults)."""
    has, pos, size = htok.first(count, 2, 2)
    steps = np.zeros(count, dtype=np.int64)
    if has.any():
        at = np.flatnonzero(has)
        stok = tokens(b, pos[at], pos[at] + size[at])
        has_num, _, num = stok.first(len(at), 1, 0)
        steps[at[has_num]] = num[has_num]
    return steps


def _strings(b: Bytes, pos: np.ndarray, length: np.ndarray) -> pl.Series:
    """The UTF-8 strings at (pos, length), gathered in one numpy step (no per-item Python)."""
    import pyarrow as pa  # type: ignore[import-untyped]

    length = length.astype(np.int64)
    offsets = np.zeros(len(length) + 1, dtype=np.int64)
    np.cumsum(length, out=offsets[1:])
    raw = np.empty(offsets[-1], dtype=np.uint8)
    # in slices of about _GATHER_BYTES, so the byte index stays small whatever the file size
    cuts = np.searchsorted(offsets, np.arange(0, offsets[-1] + 1, _GATHER_BYTES)[1:])
    for lo, hi in itertools.pairwise([0, *cuts.tolist(), len(length)]):
        first, last = offsets[lo], offsets[hi]
        if last > first:
            shift = pos[lo:hi].astype(np.int64) - offsets[lo:hi]
            index = np.repeat(shift, length[lo:hi]) + np.arange(first, last)
            raw[first:last] = b.u8[index]
    array = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(length), [None, pa.py_buffer(offsets), pa.py_buffer(raw)]
    )
    try:
        text = array.cast(pa.large_string())
    except pa.ArrowInvalid:  # invalid UTF-8 somewhere: decode one by one, replacing
        text = pa.array(
            [v.decode("utf-8", "replace") for v in array.to_pylist()], type=pa.large_string()
        )
    series = pl.from_arrow(text)
    assert isinstance(series, pl.Series)
    result: pl.Series = series.cast(pl.String)
    return result


def _place(n: int, at: np.ndarray, values: pl.Series) -> pl.Series:
    """A Series of length n holding `values` at `at` (indices or a mask), null elsewhere: one
    gather, where Series.scatter of strings is slow."""
    index = np.full(n, len(values), dtype=np.int64)
    index[at] = np.arange(len(values), dtype=np.int64)
    padded = values.append(pl.Series([None], dtype=values.dtype))
    placed: pl.Series = padded.gather(index)
    return placed


def _pivot(long: pl.DataFrame, rows: int) -> pl.DataFrame:
    """One row per history record (in file order), one Float64 column per key (a key twice
    in one record: the later value). Partition + gather: DataFrame.pivot is several times
    slower on a million items."""
    columns = [pl.Series("row", np.arange(rows, dtype=np.int64))]
    if long.height:
        for (name,), part in long.partition_by("name", as_dict=True, maintain_order=True).items():
            at = part.get_column("row").to_numpy()
            columns.append(_place(rows, at, part.get_column("value")).alias(str(name)))
    return pl.DataFrame(columns)


def _flatten_objects(long: pl.DataFrame) -> pl.DataFrame:
    """The Python writer of wandb before wandb-core (the legacy service) kept a nested dict as
    one item whose value_json is an object; name its numbers `train.kl`, as wandb-core and
    W&B's UI do. Media objects (with a `_type`) stay whole, for _kind to name them."""
    objects = long.filter(pl.col("value").is_null() & pl.col("text").str.starts_with("{"))
    if objects.height == 0:
        return long
    long = long.with_row_index("\u0000i").with_columns(pl.col("\u0000i").cast(pl.Int64))
    objects = long.filter(pl.col("value").is_null() & pl.col("text").str.starts_with("{"))
    rows: list[int] = []
    names: list[str] = []
    values: list[float | None] = []
    texts: list[str | None] = []
    done: list[int] = []
    for index, row, name, text in objects.select("\u0000i", "row", "name", "text").iter_rows():
        parsed = wandb_meta.parse_json(text)
        if not isinstance(parsed, dict) or "_type" in parsed:
            continue
        done.append(index)
        for key, value in _leaves(parsed, name):
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            rows.append(row)
            names.append(key)
            values.append(float(value) if number else None)
            texts.append(None if number else json.dumps(value))
    flat = pl.DataFrame(
        {"row": rows, "name": names, "value": values, "text": texts},
        schema={"row": pl.Int64, "name": pl.String, "value": pl.Float64, "text": pl.String},
    )
    kept = long.filter(~pl.col("\u0000i").is_in(pl.Series(done, dtype=pl.Int64).implode()))
    return pl.concat([kept.drop("\u0000i"), flat]).sort("row", maintain_order=True)


def _leaves(value: dict[str, Any], prefix: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for key, inner in value.items():
        name = f"{prefix}.{key}"
        if isinstance(inner, dict) and "_type" not in inner:
            found.extend(_leaves(inner, name))
        else:
            found.append((name, inner))
    return found


def _drop_media(long: pl.DataFrame, notes: list[str]) -> pl.DataFrame:
    """wandb-core flattens a logged Table/Image/Histogram into `name._type`, `name.path`,
    `name.nrows`...: those are media descriptions, not metrics."""
    typed = long.filter(pl.col("name").str.ends_with("._type"))
    if typed.height == 0:
        return long
    kinds = typed.group_by("name", maintain_order=True).agg(pl.col("text").last())
    for name, kind in kinds.iter_rows():
        prefix = name[: -len("._type")]
        inside = pl.col("name").str.starts_with(prefix + ".")
        steps = long.filter(inside).get_column("row").n_unique()
        label = wandb_meta.parse_json(kind) if isinstance(kind, str) else "media"
        notes.append(
            f"'{prefix}' holds W&B {label} media on {steps} step(s): not a metric, skipped"
        )
        long = long.filter(~inside)
    return long


def _kind(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith('"'):
        try:
            json.loads(stripped)
        except ValueError:
            return "unreadable values"
        return "text"
    if stripped in ("true", "false"):
        return "true/false values"
    if stripped.startswith("{"):
        found = re.search(r'"_type"\s*:\s*"([^"]{1,40})"', stripped)
        return f"W&B {found.group(1)} media" if found else "objects"
    if stripped.startswith("["):
        return "lists"
    return "unreadable values"


def _short(text: str) -> str:
    return repr(text if len(text) <= _PREVIEW else text[:_PREVIEW] + "…")
