"""TensorBoard event files (`events.out.tfevents.*`): every scalar, without TensorFlow.

Scalars are `simple_value`s (torch.utils.tensorboard, tensorboardX) and rank-0 numeric
tensors (TF2 `tf.summary.scalar`, torch `new_style=True`); histograms, images, audio, text
and graphs are skipped without decoding them (see tfevent.py). Framing and CRCs: tfrecord.py.

Series: a run's event files are grouped into streams by tag prefix (eventdirs.event_prefixes:
`train/`, `validation/`, one folder per `add_scalars` key; none for the files of one writer),
and each stream is read as one sequence of writes, file after file in timestamp order.

Restarts: a `SessionLog.START`, or a tag logged at a lower step than its previous write,
starts a new segment, recorded as a resume. By default the later write wins per (tag,
step). With `purge=True` TensorBoard's own EventAccumulator rule applies first, so the
result matches what TensorBoard shows: with file_version >= 2 a START drops every earlier
point at a step >= its step; in older files an out-of-order step drops the earlier points
of that event's tags at steps >= it.

Each file becomes one source whose frame holds the steps whose surviving values it wrote;
the wall time of a step is the latest among them.
"""

from __future__ import annotations

import mmap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np
import polars as pl

from logscope.columns import LINE
from logscope.ingest import tfevent, tfrecord
from logscope.ingest.base import Ingested, ProblemLog
from logscope.ingest.protowire import Bytes
from logscope.model import Resume

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

FORMAT = "tensorboard"
T = TypeVar("T")
_GZIP = b"\x1f\x8b"
_RESERVED = ("step", "wall_time")


@dataclass(frozen=True)
class EventFile:
    """One event file of a run: where it is, how to name it, and its tag prefix."""

    path: Path
    display: str
    prefix: str = ""


@dataclass
class _File:
    """What one file contributed to its stream."""

    source: EventFile
    log: ProblemLog
    notes: list[str] = field(default_factory=list)
    resumes: list[Resume] = field(default_factory=list)


@dataclass
class _Stream:
    """The scalars of one stream, columnar, in write order."""

    files: list[_File] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)
    plugins: dict[str, tfevent.Plugin] = field(default_factory=dict)
    columns: dict[str, list[np.ndarray]] = field(default_factory=dict)
    versions: list[tuple[int, float]] = field(default_factory=list)  # (position, version)
    starts: list[tuple[int, int, int, int]] = field(default_factory=list)  # pos, step, file, byte
    records: list[tuple[int, int, int, int]] = field(default_factory=list)  # v1 purge: see _purge
    size: int = 0

    def add(self, **arrays: np.ndarray) -> None:
        for name, array in arrays.items():
            self.columns.setdefault(name, []).append(array)
        self.size += len(next(iter(arrays.values())))

    def column(self, name: str, dtype: type) -> np.ndarray:
        """The whole column; the per-file pieces are released."""
        parts = self.columns.pop(name, None)
        if not parts:
            return np.zeros(0, dtype=dtype)
        whole = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self.columns[name] = [whole]
        return whole


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    """One event file on its own (the registry entry point)."""
    return read_files([EventFile(path, display or str(path))], progress)[0]


def read_files(
    files: list[EventFile],
    progress: Progress | None = None,
    *,
    purge: bool = False,
    verify: bool = True,
) -> list[Ingested]:
    """The event files of one run, one source each, in the order given (oldest first)."""
    streams: dict[str, _Stream] = {}
    order: list[tuple[str, int]] = []
    for source in files:
        stream = streams.setdefault(source.prefix, _Stream())
        order.append((source.prefix, len(stream.files)))
        _read_file(stream, source, progress, verify=verify)
    parts: dict[tuple[str, int], Ingested] = {}
    for prefix, stream in streams.items():
        for index, part in enumerate(_finish(stream, prefix, purge=purge)):
            parts[prefix, index] = part
    return [parts[key] for key in order]


@contextmanager
def _mapped(path: Path) -> Iterator[bytes | mmap.mmap]:
    """The file's bytes without copying them (empty files cannot be mapped)."""
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            yield b""
            return
        if hasattr(mmap, "MAP_POPULATE"):  # Linux: every page mapped in one call, as the
            # reader touches them all (a fault per 4 KiB page costs more than its records)
            flags = mmap.MAP_SHARED | mmap.MAP_POPULATE
            mapped = mmap.mmap(handle.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
        else:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield mapped
        finally:
            # arrays still viewing it (an error's traceback holds them) keep it mapped
            # until they go; the error goes on unmasked
            with suppress(BufferError):
                mapped.close()


def _read_file(
    stream: _Stream, source: EventFile, progress: Progress | None, *, verify: bool
) -> None:
    index = len(stream.files)
    part = _File(source, ProblemLog(source.display))
    stream.files.append(part)
    try:
        size = source.path.stat().st_size
        with _mapped(source.path) as data:
            if bytes(data[:2]) == _GZIP:
                _problem(part, 0, "gzip-compressed; TensorBoard reads event files uncompressed")
                return
            records = tfrecord.frame(data)
            if verify:
                decoded = _decode_checked(data, records, stream.plugins)
            else:
                decoded = tfevent.decode(data, records, stream.plugins)
    except OSError as exc:
        _problem(part, None, f"cannot be read: {exc.strerror or exc}")
        return
    for offset, message in [*records.problems, *decoded.problems]:
        _problem(part, offset, message)
    if not records.checked and verify:
        part.notes.append("CRCs not checked")
    _collect(stream, index, records, decoded)
    skipped = ", ".join(f"{n:,} {kind}" for kind, n in sorted(decoded.skipped.items()) if n)
    if skipped:
        part.notes.append(f"skipped (not scalars): {skipped}")
    if progress:
        progress(source.display, size, size)


_PARALLEL = 1 << 15  # records: fewer are checked, then decoded, in one thread


def _decode_checked(
    data: tfrecord.Buffer, records: tfrecord.Records, plugins: dict[str, tfevent.Plugin]
) -> tfevent.Decoded:
    """Decode while another thread checks the payload CRCs and, in turn with them, matches
    the one-scalar events of the batches the decoding has not reached, from the back
    (tfevent.single_scalars); the decoding thread then takes the CRCs left. numpy releases
    the GIL in its array operations, so the two threads share the machine's cores. If a
    record fails its CRC, it is dropped and the rest decoded again, so a corrupt record
    never gives a value, a tag or a tag's metadata (`plugins` only learns from the final
    decoding)."""
    if len(records.start) < _PARALLEL or not _spare_core():
        tfrecord.drop(records, tfrecord.failed(data, records))
        return tfevent.decode(data, records, plugins)
    learnt = dict(plugins)
    check = tfrecord.PayloadCheck(data, records)
    b = Bytes(data)
    batches = tfevent.batches(records)
    matches = _Shared([partial(tfevent.single_scalars, b, records, lo) for lo in batches])

    def helping() -> None:  # a CRC chunk, then a batch from the back, until both run out
        while check.work_one() | matches.one_from_back():
            pass

    with _Background(helping) as helper:
        decoded = tfevent.decode(
            data, records, learnt, lambda lo: matches.result(batches.index(lo))
        )
        check.work()  # the CRCs the other thread has not started yet
        helper.result()
    bad = check.failed()
    tfrecord.drop(records, bad)
    if len(bad):
        return tfevent.decode(data, records, plugins)
    plugins.update(learnt)
    return decoded


def _spare_core() -> bool:
    """Whether a second thread would find a core idle (see cores.spare)."""
    from logscope import cores

    return cores.spare()


class _Shared(Generic[T]):
    """Independent tasks either thread may run, each exactly once: the helper takes them
    from the back (one_from_back, only ever called by one thread), the decoding thread
    asks for them in order (running one itself if nobody has started it, else waiting for
    the helper to finish it)."""

    def __init__(self, tasks: list[Callable[[], T]]) -> None:
        self._tasks = tasks
        self._lock = threading.Lock()
        self._taken = [False] * len(tasks)
        self._done = [threading.Event() for _ in tasks]
        self._results: list[T | None] = [None] * len(tasks)
        self._errors: list[BaseException | None] = [None] * len(tasks)
        self._back = len(tasks) - 1  # the next task one_from_back runs

    def _run(self, i: int) -> bool:
        with self._lock:
            if self._taken[i]:
                return False
            self._taken[i] = True
        try:
            self._results[i] = self._tasks[i]()
        except BaseException as exc:  # re-raised by result(i), in the thread that needs it
            self._errors[i] = exc
        finally:
            self._done[i].set()
        return True

    def one_from_back(self) -> bool:
        """Run the last task not run yet, unless the thread going forward has reached it
        (then none is left for this one): False when none is left."""
        if self._back < 0:
            return False
        self._back -= 1
        if not self._run(self._back + 1):
            self._back = -1
            return False
        return True

    def result(self, i: int) -> T:
        self._run(i)
        self._done[i].wait()
        error = self._errors[i]
        if error is not None:
            raise error
        value = self._results[i]
        assert value is not None
        return value


class _Background(threading.Thread):
    """`function(*args)` in a thread; `result()` waits for it and re-raises its error.
    As a context manager it is always joined before the block is left, so the mapped
    file it reads stays open while it runs."""

    def __init__(self, function: Callable[..., object], *args: object) -> None:
        super().__init__(name="logscope-crc", daemon=True)
        self._call = (function, args)
        self._value: object = None
        self._error: BaseException | None = None

    def run(self) -> None:
        function, args = self._call
        try:
            self._value = function(*args)
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._error = exc

    def result(self) -> object:
        self.join()
        if self._error is not None:
            raise self._error
        return self._value

    def __enter__(self) -> _Background:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.join()


def _problem(part: _File, offset: int | None, message: str) -> None:
    part.log(None, f"byte {offset}: {message}" if offset is not None else message)


def _collect(
    stream: _Stream, index: int, records: tfrecord.Records, decoded: tfevent.Decoded
) -> None:
    """Append one file's scalars to its stream, tags renumbered stream-wide."""
    base = stream.size
    remap = np.array(
        [stream.tags.setdefault(name, len(stream.tags)) for name in decoded.tags], dtype=np.int32
    )
    rec = decoded.record
    if np.array_equal(remap, np.arange(len(remap))):  # the stream's first tags: same ids
        tag = decoded.tag.astype(np.int32, copy=False)
    else:
        tag = remap[decoded.tag] if len(rec) else np.zeros(0, np.int32)
    stream.add(
        file=np.full(len(rec), index, dtype=np.int32),
        offset=records.offset[rec],
        tag=tag,
        step=decoded.step[rec],
        wall=decoded.wall[rec],
        value=decoded.value,
    )

    def position(r: int) -> int:
        """Where record r falls in the stream: the number of values before it."""
        return base + int(np.searchsorted(rec, r))

    for r, text in decoded.versions:
        version = _version(text)
        if version is not None:
            stream.versions.append((position(r), version))
    for r, status in decoded.sessions:
        if status == tfevent.START:
            stream.starts.append((position(r), int(decoded.step[r]), index, int(records.offset[r])))
    for r in sorted({r for r, _ in decoded.versions} | {r for r, _ in decoded.sessions}):
        stream.records.append((position(r), int(decoded.step[r]), index, r))


def _version(text: str) -> float | None:
    """`brain.Event:2` -> 2.0, as TensorBoard's event_util.ParseFileVersion."""
    try:
        return float(text.split("brain.Event:")[-1])
    except ValueError:
        return None


def _finish(stream: _Stream, prefix: str, *, purge: bool) -> list[Ingested]:
    """Restarts, purge or later-wins, then one wide frame per file."""
    tag = stream.column("tag", np.int32)
    step = stream.column("step", np.int64)
    fileno = stream.column("file", np.int32)
    offset = stream.column("offset", np.int64)
    value, wall = stream.column("value", np.float64), stream.column("wall", np.float64)
    previous = None if _plain(tag, step) else _previous_write(tag)
    _restarts(stream, step, fileno, offset, previous)
    keep = np.ones(len(step), dtype=bool)
    if purge:
        keep &= _purge(stream, tag, step)
    keep &= _latest(tag, step, previous, keep)
    names = {i: prefix + name for name, i in stream.tags.items()}
    frames = []
    whole = len(stream.files) == 1 and bool(keep.all())  # one file, every value kept
    for index, part in enumerate(stream.files):
        if whole:
            frame = _wide(step, tag, value, wall, names, part)
        else:
            mine = np.flatnonzero(keep & (fileno == index))
            frame = _wide(step[mine], tag[mine], value[mine], wall[mine], names, part)
        frames.append(
            Ingested(
                part.source.display,
                FORMAT,
                frame,
                part.log.finish(),
                part.notes,
                resumes=part.resumes,
            )
        )
    return frames


def _plain(tag: np.ndarray, step: np.ndarray) -> bool:
    """Steps never go back and no tag is written twice at one step: no restart to find
    from the steps, nothing to merge, so `_previous_write` (a sort) is not needed."""
    if len(step) < 2:
        return True
    if not np.all(step[1:] >= step[:-1]):
        return False
    row = np.cumsum(np.concatenate([[0], step[1:] != step[:-1]]))
    width = int(tag.max()) + 1
    cells = (int(row[-1]) + 1) * width
    if cells > 4 * len(step) + (1 << 20):  # sparse: a table of every cell would be large
        return False
    return int(np.bincount(row * width + tag, minlength=1).max()) <= 1


def _previous_write(tag: np.ndarray) -> np.ndarray:
    """Index of the previous value of the same tag (-1 for a tag's first value)."""
    small = tag.astype(np.int16) if len(tag) and tag.max() < 2**15 else tag
    order = np.argsort(small, kind="stable")  # a radix sort for int16
    previous = np.full(len(tag), -1, dtype=np.int64)
    same = tag[order[1:]] == tag[order[:-1]]
    previous[order[1:][same]] = order[:-1][same]
    return previous


def _restarts(
    stream: _Stream,
    step: np.ndarray,
    fileno: np.ndarray,
    offset: np.ndarray,
    previous: np.ndarray | None,
) -> None:
    """Record each restart: a START after some data, or a tag going back within a segment
    (none when `previous` is None: see _plain)."""
    if previous is None:
        back = np.zeros(0, dtype=np.int64)
    else:
        back = np.flatnonzero((previous >= 0) & (step < step[np.maximum(previous, 0)]))
    events = sorted(
        [(pos, 0, s, f, byte) for pos, s, f, byte in stream.starts]
        + [(i, 1, int(step[i]), int(fileno[i]), int(offset[i])) for i in back.tolist()]
    )
    segment = 0
    for pos, kind, new_step, index, byte in events:
        if (kind == 0 and pos <= segment) or (
            kind == 1 and previous is not None and previous[pos] < segment
        ):
            continue  # nothing logged since the last restart, or this tag's first write after it
        before = int(step[segment:pos].max())
        part = stream.files[index]
        why = "SessionLog.START" if kind == 0 else "a tag's step went back"
        part.resumes.append(Resume(new_step, before, part.source.display, None))
        part.notes.append(f"byte {byte}: restart ({why}): step {before} -> {new_step}")
        segment = pos


def _purge(stream: _Stream, tag: np.ndarray, step: np.ndarray) -> np.ndarray:
    """TensorBoard's EventAccumulator purge (purge_orphaned_data=True); True = kept."""
    keep = np.ones(len(step), dtype=bool)
    if not len(step):
        return keep
    positions = np.array([v[0] for v in stream.versions], dtype=np.int64)
    versions = [v[1] for v in stream.versions]

    def version_at(pos: int) -> float | None:
        k = int(np.searchsorted(positions, pos, side="right")) - 1
        return versions[k] if k >= 0 else None

    new = [(pos, s) for pos, s, _, _ in stream.starts if (version_at(pos) or 0) >= 2]
    if new:  # START: drop every earlier point at a step >= the START's step
        at = np.array([p for p, _ in new], dtype=np.int64)
        floor = np.minimum.accumulate(np.array([s for _, s in new], dtype=np.int64)[::-1])[::-1]
        k = np.searchsorted(at, np.arange(len(step)), side="right")
        later = k < len(at)
        keep[later] &= step[later] < floor[k[later]]
    if not versions or min(versions) < 2 or positions[0] > 0:  # some events predate version 2
        keep &= _purge_out_of_order(stream, tag, step, version_at)
    return keep


def _purge_out_of_order(
    stream: _Stream, tag: np.ndarray, step: np.ndarray, version_at: Callable[[int], float | None]
) -> np.ndarray:
    """Files older than file_version 2: an event whose step is below the most recent step
    drops the earlier points of its tags at steps >= its step. `most_recent_step` follows
    every event that is not out of order, and every non-summary event."""
    keep = np.ones(len(step), dtype=bool)
    markers = {pos: s for pos, s, _, _ in stream.records}
    recent = -1
    out_of_order = np.zeros(len(step), dtype=bool)
    fileno = stream.column("file", np.int32)
    record = stream.column("offset", np.int64)
    i = 0
    n = len(step)
    while i < n:
        if i in markers:
            recent = markers.pop(i)
        j = i
        while j + 1 < n and fileno[j + 1] == fileno[i] and record[j + 1] == record[i]:
            j += 1
        v = version_at(i)
        if v is not None and v >= 2:
            i = j + 1
            continue
        if step[i] < recent:
            out_of_order[i : j + 1] = True
        else:
            recent = int(step[i])
        i = j + 1
    if not out_of_order.any():
        return keep
    frame = pl.DataFrame(
        {"tag": tag, "step": step, "cut": np.where(out_of_order, step, np.iinfo(np.int64).max)}
    ).with_row_index("i")
    later_cut = (
        frame.sort("i", descending=True)
        .with_columns(pl.col("cut").cum_min().shift(1).over("tag").alias("floor"))
        .sort("i")
        .get_column("floor")
        .fill_null(np.iinfo(np.int64).max)
        .to_numpy()
    )
    return keep & (step < later_cut)


def _latest(
    tag: np.ndarray, step: np.ndarray, previous: np.ndarray | None, keep: np.ndarray
) -> np.ndarray:
    """The last kept write of each (tag, step) wins."""
    if previous is None:  # no (tag, step) written twice: see _plain
        return np.ones(len(step), dtype=bool)
    has_prev = previous >= 0
    if not np.any(has_prev & (step <= step[np.maximum(previous, 0)])):
        return np.ones(len(step), dtype=bool)  # every tag's steps rise: nothing to merge
    sel = np.flatnonzero(keep)
    frame = pl.DataFrame({"i": sel, "tag": tag[sel], "step": step[sel]})
    last = frame.unique(subset=["tag", "step"], keep="last").get_column("i").to_numpy()
    out = np.zeros(len(step), dtype=bool)
    out[last] = True
    return out


def _wide(
    step: np.ndarray,
    tag: np.ndarray,
    value: np.ndarray,
    wall: np.ndarray,
    names: dict[int, str],
    part: _File,
) -> pl.DataFrame:
    """One row per step, one Float64 column per tag (null where not logged)."""
    if len(step) and np.all(step[1:] >= step[:-1]):  # the usual case: no sort needed
        new = np.empty(len(step), dtype=bool)
        new[0] = True
        np.not_equal(step[1:], step[:-1], out=new[1:])
        steps, row = step[new], np.cumsum(new) - 1
        latest = np.fmax.reduceat(wall, np.flatnonzero(new))  # rows are runs of values
    else:
        steps, row = np.unique(step, return_inverse=True)
        latest = np.full(len(steps), -np.inf)
        np.fmax.at(latest, row, wall)
    used = np.flatnonzero(np.bincount(tag)) if len(tag) else np.zeros(0, dtype=np.int64)
    if len(used) and int(used[-1]) == len(used) - 1:  # every tag has values: ids are ranks
        column = tag
    else:
        rank = np.zeros(len(used) and int(used[-1]) + 1, dtype=np.int64)
        rank[used] = np.arange(len(used))
        column = rank[tag]
    width = len(used)
    cells = np.full(len(steps) * width, np.nan)
    present = np.zeros(len(steps) * width, dtype=bool)
    flat = np.multiply(column, len(steps), dtype=np.int64)  # column after column: each
    flat += row  # tag's values contiguous
    cells[flat] = value
    present[flat] = True
    data: dict[str, pl.Series] = {
        "step": pl.Series("step", steps, dtype=pl.Int64),
        "wall_time": _finite_or_null(pl.Series("wall_time", latest)),
        LINE: pl.repeat(None, len(steps), dtype=pl.Int64, eager=True).alias(LINE),
    }
    cells2 = cells.reshape(width, len(steps))
    present2 = present.reshape(width, len(steps))
    for j, t in enumerate(used.tolist()):
        name = names[t]
        if name in _RESERVED:
            part.notes.append(f"tag '{name}' could not be used as a metric (name taken); skipped")
            continue
        series = pl.Series(name, cells2[j])
        if not present2[j].all():
            series = (
                pl.select(pl.when(pl.Series(present2[j])).then(series).otherwise(None))
                .to_series()
                .alias(name)
            )
        data[name] = series
    return pl.DataFrame(data)


def _finite_or_null(series: pl.Series) -> pl.Series:
    return pl.select(pl.when(series.is_finite()).then(series)).to_series().alias(series.name)
