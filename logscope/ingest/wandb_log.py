"""W&B run folders (`wandb/run-*/`, `wandb/offline-run-*/`): the full history from the binary
`run-<id>.wandb` transaction log, without the wandb package.

Records (framing in leveldblog.py) are protobuf `Record`s (wandb_internal.proto, checked
against wandb 0.31): `history = 2` holds `HistoryRecord{item = 1, step = 2 {num = 1}}` and
each `HistoryItem{key = 1, nested_key = 2, value_json = 16}` one value. The Python client
writes values with `json.dumps`, so NaN and Infinity are bare tokens; newer clients may set
the typed `integer = 5` (sint64) / `number = 6` (double) / `text = 7` / `json = 8` instead,
which are read too (wandb_items.py). A nested dict logged as `{"train": {"kl": 0.1}}`
arrives as nested_key ["train", "kl"] (wandb-core) or as one item whose value is a JSON
object (the legacy Python writer before wandb-core) and is named `train.kl` either way, as
W&B's UI and its own local reader (`core/internal/leet`) name it. The `_step` item is the
step (it overrides `step.num`); `_timestamp` is the wall time; `_wandb*` bookkeeping is
dropped. Text, booleans and media (tables, images, histograms) are not metrics: the last
text value is kept as metadata, the rest is mentioned in a note.

Decoding is columnar (protowire.tokens): a level of nesting costs a few numpy rounds for
all records at once; the long (record, name, value) table becomes one column per name by
partition and gather. Run, config and exit records are few and read one by one, and
`files/config.yaml`, `files/wandb-summary.json` and `files/wandb-metadata.json` add
metadata when present (wandb_meta.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from logscope.columns import LINE, col
from logscope.ingest import leveldblog, wandb_items, wandb_meta
from logscope.ingest.base import Ingested, ProblemLog, empty_frame, resumed_folders
from logscope.ingest.protowire import Bytes, tokens

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

FORMAT = "wandb"
# wandb/run-20240101_120000-abc123/ and wandb/offline-run-...: one folder per start of a run
RUN_FOLDER = re.compile(r"^(offline-)?run-\d{8}_\d{6}-(?P<id>[^/\\]+)$")
_RESERVED = {"step", "wall_time"}
HF_STEP = "train/global_step"
_PREVIEW = 60
_META_TEXT = 200


def run_id(path: Path) -> str:
    """The W&B run id of a `.wandb` file: its name, else its folder's, else the file name."""
    return leveldblog.run_id(path, leveldblog.WANDB, RUN_FOLDER)


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    """One `.wandb` file (with its folder's `files/` metadata); problems are reported."""
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    records = leveldblog.load(path, leveldblog.WANDB, log, name, progress)
    if records is None:
        return Ingested(name, FORMAT, empty_frame(), log.finish(), notes)
    decoded = _Decoded(Bytes(records.data), records, log)
    frame, meta = decoded.history(notes if len(records.start) else [])
    meta.update(decoded.run_info(notes))  # a log cut after its header has no exit record either
    extra = wandb_meta.folder_files(path.parent, name, meta)
    return Ingested(name, FORMAT, frame, [*log.finish(), *extra], notes, meta)


def read_files(files: list[tuple[Path, str]], progress: Progress | None = None) -> list[Ingested]:
    """The folders of one run id (a resumed run starts a new folder), in the order of the
    first step they logged (RunRecord.starting_step says the same for online runs, but an
    offline resume leaves it 0), each later folder recorded as a resume."""
    return resumed_folders([read(path, display, progress) for path, display in files])


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
            return empty_frame(), meta
        htok = tokens(self.b, pos, pos + size)
        steps = wandb_items.step_numbers(self.b, htok, len(rec))
        items = wandb_items.items(self.b, htok, self.log)
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
        long = wandb_items.flatten_objects(long)
        long = _drop_media(long, notes)
        long = self._non_numeric(long, meta, notes)
        wide = _pivot(long, len(rec))
        step = pl.Series("num", steps).cast(pl.Float64)
        if "_step" in wide.columns:
            step = wide.get_column("_step").fill_null(step).rename("num")
        if HF_STEP in wide.columns and wide.get_column(HF_STEP).is_not_null().any():
            # Hugging Face's WandbCallback logs the trainer's step with every call and plots
            # every metric against it; _step only counts log() calls (train and eval apart)
            step = wide.get_column(HF_STEP).forward_fill().backward_fill().rename("num")
            notes.append(f"steps from '{HF_STEP}' (the Hugging Face Trainer's), not W&B's _step")
        usable = step.is_finite() & (step.abs() < 2**62)
        unusable = wide.height - int(usable.sum())
        if unusable:
            self.log(
                None, f"{unusable} history record(s) with a step that is no whole number skipped"
            )
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
            if c not in ("row", "_step", "_timestamp", HF_STEP, "\u0000step", LINE, *_RESERVED)
        ]
        frame = wide.select(
            pl.col("\u0000step").cast(pl.Int64).alias("step"),
            wall.cast(pl.Float64).alias("wall_time"),
            pl.col(LINE),
            *(col(m) for m in metrics),
        )
        if frame.height > 1 and not (frame.get_column("step").diff().drop_nulls() > 0).all():
            frame = frame.sort("step", maintain_order=True)
        return frame, meta

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


def _pivot(long: pl.DataFrame, rows: int) -> pl.DataFrame:
    """One row per history record (in file order), one Float64 column per key (a key twice
    in one record: the later value). Partition + gather: DataFrame.pivot is several times
    slower on a million items."""
    columns = [pl.Series("row", np.arange(rows, dtype=np.int64))]
    if long.height:
        for (name,), part in long.partition_by("name", as_dict=True, maintain_order=True).items():
            at = part.get_column("row").to_numpy()
            columns.append(wandb_items.place(rows, at, part.get_column("value")).alias(str(name)))
    return pl.DataFrame(columns)


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
