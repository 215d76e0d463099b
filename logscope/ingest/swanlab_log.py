"""SwanLab run folders (`swanlog/run-<time>-<id>/`): every logged scalar from the binary
`run-<id>.swanlab` log that `swanlab.init(mode="offline")` writes, without the swanlab
package and without network.

Framing: W&B's, i.e. LevelDB's log format with zlib CRC-32 (leveldblog.py), behind the file
header `:SWL`, 0xE1D6, version 2 (swanlab 0.10, `sdk/internal/core_python/store`). Each record
is a protobuf `Record` (swanlab/record/v1/record.proto): `start = 10` (StartRecord: project
1, workspace 2, name 4, description 5, tags 6, group 7, job_type 8, id 10), `finish = 11`
(FinishRecord: state 1, error 2), `scalar = 13` and `media = 14`. One ScalarRecord holds one
value: `key = 1`, `step = 2`, `timestamp = 4 {seconds = 1, nanos = 2}`,
`value = 5 {number = 1 (double)}`; protobuf leaves zeros out, so a missing step or number
is 0. SwanLab names a nested dict's keys `train/kl` itself; NaN and ±Inf are stored as
doubles and kept. Text, images, audio and other media (MediaRecord) are not metrics and are
mentioned in a note; SwanLab's system monitor (`__swanlab__.*` keys, on a step axis of its
own) is left out with a note. `files/config.yaml` (`{key: {value: ...}}`) and
`files/swanlab-metadata.json` add metadata when present.

Decoding is columnar (protowire.tokens), as for W&B: a few numpy rounds per level of
nesting for all records at once, then one column per key by partition and gather.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from logscope.columns import LINE
from logscope.ingest import leveldblog, wandb_meta
from logscope.ingest.base import Ingested, ProblemLog, empty_frame, resumed_folders
from logscope.ingest.protowire import Bytes, Tokens, safe_fields, tokens
from logscope.ingest.wandb_items import place, strings

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

FORMAT = "swanlab"
HEADER = leveldblog.Header(b":SWL", 0xE1D6, 2, "a SwanLab run log", ".swanlab")
RUN_FOLDER = re.compile(r"^run-\d{8}_\d{6}-(?P<id>[^/\\]+)$")
SYSTEM = "__swanlab__."  # the system monitor's keys (CPU, memory, GPU), on their own steps
_RESERVED = ("step", "wall_time")
_FILES = (("config.yaml", "config"), ("swanlab-metadata.json", "swanlab.metadata"))
_START_TEXT = {
    1: "swanlab.project",
    2: "swanlab.workspace",
    4: "swanlab.name",
    5: "swanlab.description",
    7: "swanlab.group",
    8: "swanlab.job_type",
    10: "swanlab.run_id",
}
_STATES = {0: "running", 1: "finished", 2: "crashed", 3: "aborted"}
_MEDIA = {
    2: "images",
    3: "audio",
    4: "text",
    5: "video",
    6: "ECharts charts",
    7: "3D objects",
    8: "molecules",
    9: "HTML",
}


def run_id(path: Path) -> str:
    """The run id of a `.swanlab` file: its name, else its folder's, else the file name."""
    return leveldblog.run_id(path, HEADER, RUN_FOLDER)


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    """One `.swanlab` file (with its folder's `files/` metadata); problems are reported."""
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    records = leveldblog.load(path, HEADER, log, name, progress)
    if records is None:
        return Ingested(name, FORMAT, empty_frame(), log.finish(), notes)
    b = Bytes(records.data)
    tok = tokens(b, records.start, records.end)
    bad = np.flatnonzero(tok.bad)
    for rec in bad[:10]:
        log(None, f"byte {int(records.offset[rec])}: record is not a valid protobuf; skipped")
    if len(bad) > 10:
        log(None, f"{len(bad) - 10} more damaged records skipped")
    frame = _scalars(b, tok, records.offset, log, notes)
    _media(b, tok, notes)
    meta = _run_info(records.data, tok, notes)  # no record at all: no finish record either
    extra = wandb_meta.folder_files(path.parent, name, meta, _FILES)
    return Ingested(name, FORMAT, frame, [*log.finish(), *extra], notes, meta)


def read_files(files: list[tuple[Path, str]], progress: Progress | None = None) -> list[Ingested]:
    """The folders of one run id (`swanlab.init(id=..., resume=...)` starts a new folder),
    in the order of their first step, each later one recorded as a resume."""
    return resumed_folders([read(path, display, progress) for path, display in files])


def _field(tok: Tokens, num: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Records carrying message field `num` (not damaged): record index, start, length."""
    msg, pos, size = tok.select(num, 2)
    keep = ~tok.bad[msg]
    return msg[keep], pos[keep], size[keep]


def _scalars(
    b: Bytes, tok: Tokens, offsets: np.ndarray, log: ProblemLog, notes: list[str]
) -> pl.DataFrame:
    """Every ScalarRecord as (key, step, wall time, value), then one column per key."""
    rec, pos, size = _field(tok, 13)
    if len(rec) == 0:
        notes.append("no scalar records (nothing was logged, or the log is cut early)")
        return empty_frame()
    n = len(rec)
    stok = tokens(b, pos, pos + size)
    has_key, key_pos, key_len = stok.first(n, 1, 2)
    _, _, step = stok.first(n, 2, 0)
    wall, wall_bad = _timestamps(b, stok, n)
    value, value_bad = _numbers(b, stok, n)
    broken = stok.bad | wall_bad | value_bad
    if broken.any():
        first = int(offsets[rec[np.flatnonzero(broken)[0]]])
        log(None, f"byte {first}: {int(broken.sum())} damaged scalar record(s) skipped")
    names = place(n, has_key, strings(b, key_pos[has_key], key_len[has_key]))
    long = pl.DataFrame(
        {"name": names, "step": step, "wall": wall, "value": value, "ok": ~broken}
    ).filter(pl.col("ok"))
    named = pl.col("name").is_not_null() & (pl.col("name") != "")
    nameless = long.height - long.select(named.sum()).item()
    if nameless:
        log(None, f"{nameless} scalar record(s) without a key skipped")
    long = _drop_unusable(long.filter(named), notes)
    return _wide(long)


def _timestamps(b: Bytes, stok: Tokens, n: int) -> tuple[np.ndarray, np.ndarray]:
    """ScalarRecord.timestamp as epoch seconds (NaN when absent), and which are damaged."""
    has, pos, size = stok.first(n, 4, 2)
    wall = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    at = np.flatnonzero(has)
    if len(at):
        ttok = tokens(b, pos[at], pos[at] + size[at])
        _, _, seconds = ttok.first(len(at), 1, 0)
        _, _, nanos = ttok.first(len(at), 2, 0)
        wall[at] = seconds.astype(np.float64) + nanos.astype(np.float64) / 1e9
        bad[at] = ttok.bad
    return wall, bad


def _numbers(b: Bytes, stok: Tokens, n: int) -> tuple[np.ndarray, np.ndarray]:
    """ScalarRecord.value.number (0 when protobuf left it out), and which are damaged."""
    has, pos, size = stok.first(n, 5, 2)
    value = np.zeros(n)
    bad = np.zeros(n, dtype=bool)
    at = np.flatnonzero(has)
    if len(at):
        vtok = tokens(b, pos[at], pos[at] + size[at])
        has_num, num_pos, _ = vtok.first(len(at), 1, 1)
        value[at[has_num]] = b.read("<f8", num_pos[has_num])
        bad[at] = vtok.bad
    return value, bad


def _drop_unusable(long: pl.DataFrame, notes: list[str]) -> pl.DataFrame:
    """The system monitor's keys and the Run's own column names are no training metrics."""
    system = pl.col("name").str.starts_with(SYSTEM)
    found = long.filter(system).get_column("name").n_unique()
    if found:
        notes.append(
            f"{found} SwanLab system metric(s) ({SYSTEM}*: CPU, memory, GPU, on a step axis "
            "of their own) skipped"
        )
    for name in _RESERVED:
        if long.filter(pl.col("name") == name).height:
            notes.append(f"'{name}' was logged as a metric; SwanLab's step is the step, so skipped")
    return long.filter(~system & ~pl.col("name").is_in(_RESERVED))


def _wide(long: pl.DataFrame) -> pl.DataFrame:
    """One row per step, one Float64 column per key; a key logged twice at a step: the later
    value. Partition + gather, as for W&B (DataFrame.pivot is slower on many values)."""
    if long.height == 0:
        return empty_frame()
    long = long.unique(subset=["name", "step"], keep="last", maintain_order=True)
    per_step = (
        long.group_by("step")
        .agg(pl.col("wall").filter(pl.col("wall").is_finite()).max())
        .sort("step")
    )
    steps = per_step.get_column("step").to_numpy()
    columns = [
        per_step.get_column("step").cast(pl.Int64),
        per_step.get_column("wall").cast(pl.Float64).alias("wall_time"),
        pl.Series(LINE, [None] * len(steps), dtype=pl.Int64),
    ]
    for (name,), part in long.partition_by("name", as_dict=True, maintain_order=True).items():
        at = np.searchsorted(steps, part.get_column("step").to_numpy())
        columns.append(place(len(steps), at, part.get_column("value")).alias(str(name)))
    return pl.DataFrame(columns)


def _media(b: Bytes, tok: Tokens, notes: list[str]) -> None:
    """MediaRecords (text, images, audio...): not metrics; one note per key."""
    rec, pos, size = _field(tok, 14)
    if len(rec) == 0:
        return
    n = len(rec)
    mtok = tokens(b, pos, pos + size)
    has_key, key_pos, key_len = mtok.first(n, 1, 2)
    _, _, kind = mtok.first(n, 3, 0)
    names = place(n, has_key, strings(b, key_pos[has_key], key_len[has_key]))
    media = (
        pl.DataFrame({"name": names, "kind": kind, "ok": ~mtok.bad})
        .filter(pl.col("ok") & pl.col("name").is_not_null())
        .group_by("name", maintain_order=True)
        .agg(pl.len().alias("count"), pl.col("kind").last())
    )
    for name, count, code in media.iter_rows():
        what = _MEDIA.get(code, "media")
        notes.append(f"'{name}' holds SwanLab {what} on {count} step(s): not a metric, skipped")


def _run_info(data: bytes, tok: Tokens, notes: list[str]) -> dict[str, Any]:
    """Project, name, id, tags... from the start record; how the run ended."""
    meta: dict[str, Any] = {}
    _, pos, size = _field(tok, 10)
    for start, length in zip(pos.tolist(), size.tolist(), strict=True):
        tags = []
        for num, wire, at, val in safe_fields(data, start, start + length):
            if wire != 2:
                continue
            text = data[at : at + val].decode("utf-8", "replace")
            if num in _START_TEXT and text:
                meta[_START_TEXT[num]] = text
            elif num == 6:
                tags.append(text)
        if tags:
            meta["swanlab.tags"] = tags
    _, pos, size = _field(tok, 11)
    if len(pos) == 0:
        notes.append("no finish record: the run was still running, crashed or was killed")
    for start, length in zip(pos.tolist(), size.tolist(), strict=True):
        state, error = 0, ""
        for num, wire, at, val in safe_fields(data, start, start + length):
            if num == 1 and wire == 0:
                state = val
            elif num == 2 and wire == 2:
                error = data[at : at + val].decode("utf-8", "replace")
        meta["swanlab.state"] = _STATES.get(state, str(state))
        if state in (2, 3):
            why = f": {error.strip().splitlines()[-1][:200]}" if error.strip() else ""
            notes.append(f"the run ended {_STATES[state]}{why}")
    return meta
