"""Incremental readers for `logscope tail --follow`: each poll reads only the bytes appended
since the last one, from a byte offset, and turns the complete lines / records into rows.

What a live file does to a reader, and what happens here:

- the writer is mid-line (JSONL) or mid-record (TensorBoard): the incomplete tail is held
  back and decoded once the rest arrives; it is reported only when following ends;
- the file is truncated, rotated, deleted or replaced: follow/tailer.py tracks it by
  identity and delivers every byte once (the old file's rest, then the new one's bytes
  after a "start" event, at which the per-file decoding state starts over);
- the file vanishes: noted once, and picked up again if it comes back.

Decoding reuses the batch readers' code (ingest/decode.py, base.tabulate, tfrecord.split,
tfevent.decode), so a line or a record means the same thing to `tail` as to `check`.
A poll reads at most `limit` bytes per file, so catching up on a large file is done in
bounded pieces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from logscope.follow.tailer import FileTail
from logscope.ingest import tfevent, tfrecord
from logscope.ingest.base import MAX_PROBLEMS, ProblemLog, tabulate
from logscope.ingest.decode import LINE, decode_chunk, prepare
from logscope.ingest.jsonl import is_verl
from logscope.model import Problem

if TYPE_CHECKING:
    from logscope.ingest.base import Ingested

READ_LIMIT = 8 << 20  # bytes read from one file per poll
MAX_PENDING = 64 << 20  # an unfinished line / record longer than this is given up on
MAX_REPORTED = 10_000  # damaged offsets remembered, so a held-back one is reported once
_GZIP = b"\x1f\x8b"
_INCOMPLETE = ("last record is incomplete", "last record has no payload CRC")
_DIGITS = re.compile(r"\d+")
_AT_BYTE = re.compile(r"at byte (\d+)")


@dataclass
class Batch:
    """What one poll of one file produced. `frame`: step, wall_time, one Float64 per metric."""

    frame: pl.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    read: int = 0  # bytes read from the file
    more: bool = False  # the file has more bytes than this poll read


class Feed:
    """One growing file, read from an offset. Subclasses turn complete bytes into rows."""

    format = ""

    def __init__(self, path: Path, display: str) -> None:
        self.path = path
        self.display = display
        self.offset = 0  # bytes consumed from the current file (held-back tail included)
        self.pending = b""  # the incomplete tail
        self.rows = 0
        self.last_step: int | None = None
        self._tail = FileTail(path)
        self._problems = 0
        self._notes: set[str] = set()
        self._disabled: str | None = None

    # -- reading -------------------------------------------------------------------------
    def poll(self, limit: int = READ_LIMIT) -> Batch:
        """Read what was appended since the last poll and decode the complete part."""
        batch = Batch()
        if self._disabled is not None:
            return batch
        got = self._tail.poll(limit)
        for kind, value in got.events:
            if self._disabled is not None:
                break
            if isinstance(value, bytes):
                self.offset += len(value)
                self._consume(batch, value)
            elif kind == "start":
                self._start_over(batch, value)
            else:
                self._note(batch, value)
        if got.error is not None and self._disabled is None:
            self._disable(batch, got.error)
        batch.more = got.more and self._disabled is None
        return batch

    def _start_over(self, batch: Batch, why: str) -> None:
        """The file was rotated, replaced or truncated: what the old one held is read (an
        unfinished last line of it is reported now); the new one is read from byte 0."""
        if self.pending.strip():
            cut = self._incomplete()
            self._report(batch, f"{cut.message} ({why})", cut.line)
        self.offset = 0
        self.pending = b""
        self._restart()
        self._note(batch, f"{why}: reading it from the start")

    def _consume(self, batch: Batch, data: bytes) -> None:
        batch.read += len(data)
        if self.offset == len(data) and data.startswith(_GZIP):
            self._disable(batch, "gzip-compressed; tail reads uncompressed logs")
            return
        buffer = self.pending + data if self.pending else data
        start = self.offset - len(buffer)
        used = self._decode(buffer, start, batch)
        self.pending = buffer[used:]
        if len(self.pending) > MAX_PENDING:
            self._report(
                batch, f"byte {start + used}: {len(self.pending)} bytes without an end; skipped"
            )
            self.pending = b""
            self._skip_tail()

    def finish(self) -> list[Problem]:
        """Problems left when following ends: an incomplete last line or record."""
        if self._disabled is None and self.pending.strip():
            return [self._incomplete()]
        return []

    def close(self) -> None:
        self._tail.close()

    def __enter__(self) -> Feed:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- bookkeeping ---------------------------------------------------------------------
    def _disable(self, batch: Batch, why: str) -> None:
        self._disabled = why
        self.close()
        self._report(batch, why)

    def _report(self, batch: Batch, message: str, line: int | None = None) -> None:
        """At most MAX_PROBLEMS problems per file, then one line saying more were dropped."""
        self._problems += 1
        if self._problems <= MAX_PROBLEMS:
            batch.problems.append(Problem(self.display, message, line))
        elif self._problems == MAX_PROBLEMS + 1:
            batch.problems.append(Problem(self.display, "more problems were not listed"))

    def _note(self, batch: Batch, note: str) -> None:
        """A note is shown once per kind (the same words with other numbers count as one)."""
        kind = _DIGITS.sub("#", note)
        if kind not in self._notes:
            self._notes.add(kind)
            batch.notes.append(f"{self.display}: {note}")

    def _add_rows(self, batch: Batch, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        steps = frame.get_column("step")
        first, last = steps.min(), steps.max()
        if self.last_step is not None and isinstance(first, int) and first < self.last_step:
            batch.notes.append(
                f"{self.display}: step went back from {self.last_step} to {first} (restart);"
                " later values win"
            )
        self.last_step = last if isinstance(last, int) else self.last_step
        self.rows += frame.height
        batch.frame = (
            frame
            if batch.frame is None
            else pl.concat([batch.frame, frame], how="diagonal_relaxed")
        )

    # -- per format ----------------------------------------------------------------------
    def _decode(self, buffer: bytes, start: int, batch: Batch) -> int:
        """Decode the complete part of `buffer` (file bytes from `start`); return its length."""
        raise NotImplementedError

    def _restart(self) -> None:
        """Forget per-file state when the file starts over."""

    def _skip_tail(self) -> None:
        """The held-back tail was given up on."""

    def _incomplete(self) -> Problem:
        raise NotImplementedError


class JsonlFeed(Feed):
    """JSON Lines: complete lines go through the batch decoder; the last, unterminated
    line waits. The dialect (veRL's `{"step", "data"}` wrapper) is judged on the first line."""

    format = "jsonl"

    def __init__(self, path: Path, display: str) -> None:
        super().__init__(path, display)
        self.line = 1  # number of the next line to decode
        self._verl: bool | None = None
        self._skipping = False  # inside an over-long line: drop up to its newline

    def _restart(self) -> None:
        self.line = 1
        self._verl = None
        self._skipping = False

    def _skip_tail(self) -> None:
        self._skipping = True

    def _incomplete(self) -> Problem:
        return Problem(
            self.display, "last line is incomplete (no newline yet); not read", self.line
        )

    def _decode(self, buffer: bytes, start: int, batch: Batch) -> int:
        cut = buffer.rfind(b"\n") + 1
        if cut == 0:
            return 0
        chunk = buffer[:cut]
        if self._skipping:  # the rest of a line already reported as too long
            first = chunk.index(b"\n") + 1
            chunk, self._skipping = chunk[first:], False
            self.line += 1
        if self._verl is None:
            first_line = next((ln for ln in chunk.split(b"\n", 64) if ln.strip()), None)
            if first_line is not None:
                self._verl = is_verl(first_line)
                if self._verl:
                    self._note(batch, "veRL file logger: metrics read from 'data'")
        verl = bool(self._verl)
        unwrap = "data" if verl else None
        log = ProblemLog(self.display)
        pieces = decode_chunk(chunk, self.line, log, null_is_nan=verl, unwrap=unwrap)
        self.line += chunk.count(b"\n")
        if pieces:
            frames = [prepare(p, unwrap=unwrap) for p in pieces]
            raw = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
            notes: list[str] = []
            rows, _ = tabulate(raw, log, notes)
            for note in notes:
                self._note(batch, note)
            self._add_rows(batch, rows.drop(LINE))
        for problem in log.finish():
            self._report(batch, problem.message, problem.line)
        return cut


class EventFeed(Feed):
    """TensorBoard event files: complete TFRecords are decoded in bulk; a record whose
    bytes are not all there yet waits. `prefix` keeps split folders' tags apart."""

    format = "tensorboard"

    def __init__(self, path: Path, display: str, prefix: str = "") -> None:
        super().__init__(path, display)
        self.prefix = prefix
        self.plugins: dict[str, tfevent.Plugin] = {}
        self.last_wall: float | None = None
        self._reported: set[int] = set()  # byte offsets of damage already reported

    def _restart(self) -> None:
        self.plugins = {}
        self._reported = set()

    def _incomplete(self) -> Problem:
        start = self.offset - len(self.pending)
        message = f"byte {start}: last record is incomplete ({len(self.pending)} bytes); not read"
        return Problem(self.display, message)

    def _decode(self, buffer: bytes, start: int, batch: Batch) -> int:
        records, used = complete_records(buffer)
        for where, message in records.problems:
            if where < used:
                self._damage(batch, start + where, message)
        if len(records.offset) == 0:
            return used
        decoded = tfevent.decode(buffer, records, self.plugins)
        for where, message in decoded.problems:
            shifted = _AT_BYTE.sub(lambda m: f"at byte {start + int(m.group(1))}", message)
            self._damage(batch, start + where, shifted)
        for rec, status in decoded.sessions:
            if status == tfevent.START and start + int(records.offset[rec]) > 0:
                step = int(decoded.step[rec])
                batch.notes.append(
                    f"{self.display}: byte {start + int(records.offset[rec])}: "
                    f"SessionLog.START at step {step} (the run restarted)"
                )
        frame = self._wide(decoded, batch)
        if frame is not None:
            self._add_rows(batch, frame)
        return used

    def _damage(self, batch: Batch, offset: int, message: str) -> None:
        if offset not in self._reported:
            if len(self._reported) < MAX_REPORTED:  # past it _report only counts anyway
                self._reported.add(offset)
            self._report(batch, f"byte {offset}: {message}")

    def _wide(self, decoded: tfevent.Decoded, batch: Batch) -> pl.DataFrame | None:
        """One row per step, one column per tag; the last write of a (tag, step) wins."""
        if len(decoded.record) == 0:
            return None
        names = [self.prefix + t for t in decoded.tags]
        for reserved in ("step", "wall_time"):
            if reserved in names:
                self._note(batch, f"tag '{reserved}' could not be used as a metric (name taken)")
        long = pl.DataFrame(
            {
                "step": decoded.step[decoded.record],
                "wall_time": decoded.wall[decoded.record],
                "tag": pl.Series(np.array(names, dtype=object)[decoded.tag], dtype=pl.String),
                "value": decoded.value.astype(np.float64),
            }
        ).filter(~pl.col("tag").is_in(["step", "wall_time"]))
        if long.height == 0:
            return None
        walls = long.group_by("step", maintain_order=True).agg(
            pl.col("wall_time").filter(pl.col("wall_time").is_finite()).max()
        )
        wide = long.pivot(on="tag", index="step", values="value", aggregate_function="last")
        frame = walls.join(wide, on="step", how="left", maintain_order="left")
        wall = frame.get_column("wall_time").drop_nulls()
        if wall.len():
            self.last_wall = float(wall.max())  # type: ignore[arg-type]
        return frame.with_columns(
            pl.col("step").cast(pl.Int64), pl.col("wall_time").cast(pl.Float64)
        )


def complete_records(buffer: bytes) -> tuple[tfrecord.Records, int]:
    """The whole records at the start of `buffer`, and how many bytes they (and any damage
    between them) span. A record cut off at the end is left out, to be read once the rest of
    it arrives; so is unreadable junk at the end, in case a valid record follows it."""
    records = tfrecord.split(buffer)
    ends = records.end + tfrecord.FOOTER
    whole = ends <= len(buffer)
    used = int(ends[whole].max()) if whole.any() else 0
    for where, message in records.problems:
        if where >= used and "fails its CRC" in message:  # whole but damaged: step over it
            length = int.from_bytes(buffer[where : where + 8], "little")
            used = max(used, where + tfrecord.HEADER + length + tfrecord.FOOTER)
    keep = np.flatnonzero(whole)
    done = tfrecord.Records(
        records.offset[keep],
        records.start[keep],
        records.end[keep],
        [(w, m) for w, m in records.problems if w < used],
        records.checked,
    )
    return done, used


class SnapshotFeed(Feed):
    """A file that is rewritten whole (`trainer_state.json`, at every checkpoint save) or
    whose format has no line or record boundary tail can resume from cheaply (W&B's `.wandb`
    log, CSV / Parquet exports, tracker databases): re-read with its format's own batch
    reader whenever its size or modification time changes, keeping only steps after the
    last one seen. One full read per change: fine for the sizes these formats have."""

    def __init__(self, path: Path, display: str, fmt: str, read: Callable[[], Ingested]) -> None:
        super().__init__(path, display)
        self.format = fmt
        self._read_all = read
        self._seen: tuple[int, int] | None = None
        self._reported: set[tuple[int | None, str]] = set()
        self._held: list[Problem] = []  # problems of a read that gave no rows

    def poll(self, limit: int = READ_LIMIT) -> Batch:
        batch = Batch()
        seen = signature(self.path, self.format)
        if seen is None or seen == self._seen:
            return batch
        part = self._read_all()
        batch.read = seen[0]
        if part.frame.height == 0 and part.problems:
            # caught mid-rewrite (Hugging Face rewrites trainer_state.json in place): try
            # again at the next poll, and report only if following ends on this state
            self._held = part.problems
            return batch
        self._seen, self._held = seen, []
        for problem in part.problems:  # a re-read finds the same problems again
            key = (problem.line, problem.message)
            if key not in self._reported and len(self._reported) < MAX_REPORTED:
                self._reported.add(key)
                batch.problems.append(problem)
        frame = part.frame.drop(LINE, strict=False)
        if self.last_step is not None and frame.height:
            newest = frame.get_column("step").max()
            if isinstance(newest, int) and newest >= self.last_step:
                frame = frame.filter(pl.col("step") > self.last_step)
        if frame.height:
            self._add_rows(batch, frame)
        return batch

    def finish(self) -> list[Problem]:
        return list(self._held)

    def _incomplete(self) -> Problem:  # pragma: no cover - never holds a tail
        return Problem(self.display, "")


def signature(path: Path, fmt: str) -> tuple[int, int] | None:
    """(size, newest mtime) of what a whole-file format's writer touches (its record's
    `watched`: a database and its write-ahead log, an MLflow run's metric files), or of the
    file itself."""
    from logscope.ingest import formats

    watched = formats.get(fmt).watched
    files = watched(path) if watched is not None else [path]
    size, newest = 0, -1
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        size, newest = size + stat.st_size, max(newest, stat.st_mtime_ns)
    return None if newest < 0 else (size, newest)


def open_feed(
    path: Path, fmt: str, display: str, prefix: str = "", part: str | None = None
) -> Feed:
    """The incremental reader for one file of a run, as its format's record says to follow
    it; `part` picks one run of a file that holds several (a W&B chart export)."""
    from logscope.ingest import formats

    record = formats.get(fmt)
    incremental: Feed | None = None
    if record.follow == "tfrecords":
        incremental = EventFeed(path, display, prefix)
    elif record.follow == "lines":
        incremental = JsonlFeed(path, display)
    if incremental is not None:
        incremental.format = fmt
        return incremental
    if part is not None:
        read_part = record.read_part
        assert read_part is not None
        return SnapshotFeed(path, display, fmt, lambda: read_part(path, display, part, None))
    read = record.read
    assert read is not None
    return SnapshotFeed(path, display, fmt, lambda: read(path, display, None))
