"""MetricWriter: the in-training half of logscope, standard library only.

Each record is encoded first and then written with one `os.write` on a file descriptor
opened with O_APPEND. There is no user-space buffer to flush, so a SIGKILL loses at most
the line being written; the kernel places every append at the current end of the file, so
lines from several writers never interleave inside each other. fsync (surviving a power
loss, not just a crash of the process) is a separate, configurable cost.

A reader can still see a long line half copied while another process writes it, so the
check for a fragment left by a killed writer (which a resumed writer ends with a newline)
takes an exclusive flock, and every line is written under a shared one: live writers
never wait for each other, and the check never mistakes a line in flight for a fragment.

A full disk or an I/O error (ENOSPC, EIO; any OSError) never raises into training unless
`on_error="raise"`: it is reported once (logger `logscope.writer`) when writing starts to
fail, every `log()` keeps trying, and logging resumes by itself when space returns. A
write that stopped part-way leaves a fragment, which is ended with a newline before the
next record (in the same write when nothing else could be), so the next line stands alone
and a reader sees the fragment as one bad line. run.json is retried when writing works
again and at close; what was not saved is counted there (`unsaved_rows`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from logscope.writer import manifest
from logscope.writer.ranks import Ranks, from_env
from logscope.writer.values import Unconvertible, plain, strict

if TYPE_CHECKING:
    from types import TracebackType

log = logging.getLogger("logscope.writer")

FsyncPolicy = Literal["never", "close", "line"] | float
OnError = Literal["warn", "raise"]
METRICS_FILE = "metrics.jsonl"
_SUFFIXES = (".jsonl", ".ndjson")
_INDEX = ("step", "wall_time")
MANIFEST_RETRY = 10.0  # seconds between attempts to rewrite run.json while writing fails


class MetricWriter:
    """Append one strict-JSON line per `log()` call to `metrics.jsonl`, plus a run.json.

    `path_or_dir`: a folder (the file is `<folder>/metrics.jsonl`) or a `.jsonl` path.
    Only rank 0 writes unless `per_rank=True`, which gives each rank its own folder
    `rank<N>/` (so `logscope check` sees one run per rank); other ranks still convert
    and return records, so a live monitor decides the same on every rank.
    `fsync`: "never", "close" (default), "line", or a number of seconds between fsyncs.
    An existing file is appended to (a resumed run); `append=False` starts it afresh.
    `on_error`: "warn" (default) reports a failing write (full disk, I/O error) once and
    goes on, logging again once writing works; "raise" raises the OSError instead.
    """

    def __init__(
        self,
        path_or_dir: str | os.PathLike[str],
        *,
        framework: str | Mapping[str, Any] | None = None,
        config: Any = None,
        per_rank: bool = False,
        fsync: FsyncPolicy = "close",
        append: bool = True,
        rank: int | None = None,
        local_rank: int | None = None,
        world_size: int | None = None,
        on_error: OnError = "warn",
    ) -> None:
        self.fsync_policy = _check_fsync(fsync)
        self.on_error = _check_on_error(on_error)
        self.ranks: Ranks = from_env(rank=rank, local_rank=local_rank, world_size=world_size)
        self.per_rank = per_rank
        self.path = _metrics_path(Path(path_or_dir), self.ranks.rank if per_rank else None)
        self.manifest_path = self.path.with_name(manifest.NAME)
        self.active = per_rank or self.ranks.is_main
        self.lines = 0
        self.unsaved = 0  # rows whose line could not be written
        self._lock = threading.Lock()
        self._last_step: int | None = None
        self._last_sync = time.monotonic()
        self._bad_keys: set[str] = set()
        self._fd: int | None = None
        self._closed = False
        self._manifest: dict[str, Any] = {}
        self._truncate = not append
        self._fragment = False  # the file may end with a fragment of a failed write
        self._failing: OSError | None = None  # writing fails since this error (warned once)
        self._episode_unsaved = 0
        self._manifest_stale = False  # run.json could not be written; retried
        self._manifest_retry = 0.0
        if self.active:
            self._start(framework, config, append)

    # -- public API --------------------------------------------------------------------

    def log(
        self,
        metrics: Mapping[str, Any],
        *,
        step: int | None = None,
        wall_time: float | None = None,
    ) -> dict[str, Any]:
        """Write one line; return the record as written (non-finite values as floats).

        `step` defaults to a `"step"` key in `metrics`, else the previous step + 1 (from 0).
        `wall_time` defaults to now (seconds since the epoch). Values may be numbers,
        text, lists or dicts of those, numpy scalars or tensors; NaN and ±inf are kept.
        A value of any other type is written as its repr text (and warned about once)
        rather than raising inside a training loop.
        """
        if self._closed:
            raise ValueError(f"MetricWriter for {self.path} is closed")
        with self._lock:
            record = build_record(metrics, step, wall_time, self._last_step, self._bad_keys)
            self._last_step = record["step"]
            if self.active:
                self._save(_encode(record))
            return record

    def flush(self) -> None:
        """Nothing is buffered in user space; this forces the data to disk (fsync)."""
        with self._lock:
            if self._fd is not None:
                self._sync()

    def update_manifest(self, **fields: Any) -> None:
        """Add or replace top-level fields of run.json (written atomically)."""
        if not self.active:
            return
        with self._lock:
            self._manifest.update(strict(fields))
            self._write_manifest()

    def mark_end(self) -> None:
        """fsync (unless the policy is "never") and stamp end_time and lines in run.json.

        Called by close(); also useful when training ends but the file stays open for a
        final evaluation.
        """
        with self._lock:
            if not self.active or self._closed:
                return
            if self._fd is not None:
                if self._fragment:  # a failed write's fragment: end it while we can
                    with _flock(self._fd, exclusive=False):
                        self._end_fragment()
                if self.fsync_policy != "never":
                    self._sync()
            end = manifest.now()
            self._manifest.update(end_time=end, end_time_utc=manifest.utc(end), lines=self.lines)
            if self.unsaved:
                self._manifest["unsaved_rows"] = self.unsaved
            self._write_manifest()

    def close(self) -> None:
        """mark_end(), then close the file. Safe to call more than once."""
        if self._closed:
            return
        try:
            self.mark_end()
        finally:
            self._closed = True
            with self._lock:
                fd, self._fd = self._fd, None
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError as exc:  # a network file system reports late errors here
                        self._trouble(exc)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> MetricWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = (
            "closed"
            if self._closed
            else ("writing" if self.active else f"rank {self.ranks.rank}: not writing")
        )
        return f"MetricWriter({str(self.path)!r}, {state})"

    # -- internals ---------------------------------------------------------------------

    def _start(self, framework: Any, config: Any, append: bool) -> None:
        """Open the log and write run.json; on a full disk, say so once and carry on."""
        try:
            self._open_file()
        except OSError as exc:
            self._trouble(exc)
        start = manifest.now()
        current = manifest.new(
            metrics_file=self.path.name,
            framework=framework,
            config=config,
            rank=self.ranks.rank,
            local_rank=self.ranks.local_rank,
            world_size=self.ranks.world_size,
            per_rank=self.per_rank,
            start=start,
        )
        previous = manifest.read(self.manifest_path) if append else None
        resuming = previous is not None and _size(self.path) > 0
        self._manifest = manifest.resumed(previous, current) if resuming and previous else current
        manifest.clean(self.manifest_path)
        try:
            self._write_manifest()
        except BaseException:  # on_error="raise": nothing stays open behind the exception
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            raise

    def _open_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        if self._truncate:
            flags |= os.O_TRUNC
        self._fd = os.open(self.path, flags, 0o644)
        self._truncate = False
        self._terminate_partial_line()

    def _terminate_partial_line(self) -> None:
        """A run killed mid-line left a fragment: end it, so our first line stands alone."""
        if self._fd is None:
            return
        with _flock(self._fd, exclusive=True):
            size = os.fstat(self._fd).st_size
            if size == 0:
                return
            with self.path.open("rb") as handle:
                handle.seek(size - 1)
                last = handle.read(1)
            if last == b"\n":
                return
            log.warning(
                "%s ends with an incomplete line (a previous run was killed mid-write); "
                "it is left in place and ended with a newline",
                self.path,
            )
            self._fragment = True
            self._end_fragment()

    def _save(self, line: bytes) -> None:
        """Write one line, or count it unsaved and report the failure (once per episode)."""
        try:
            if self._fd is None:  # the log could not be opened yet (a full disk at start)
                self._open_file()
            self._write(line)
        except OSError as exc:
            self.unsaved += 1
            self._episode_unsaved += 1
            self._trouble(exc)
            return
        self._recovered()
        policy = self.fsync_policy
        if policy == "line" or (
            isinstance(policy, float) and time.monotonic() - self._last_sync >= policy
        ):
            self._sync()

    def _write(self, line: bytes) -> None:
        """All of `line` after whatever a failed write left, or an OSError. Either way the
        file is ready for the next line: a fragment is ended at once when the disk takes
        one more byte, else by the newline that starts the next write."""
        assert self._fd is not None
        data = b"\n" + line if self._fragment else line
        written = 0
        with _flock(self._fd, exclusive=False):
            try:
                while written < len(data):  # a short write: a full disk or a signal
                    done = os.write(self._fd, data[written:])
                    if done <= 0:
                        raise OSError(errno.EIO, "the write stored nothing")
                    written += done
            except OSError:
                if written:
                    self._fragment = written < len(data)
                    self._end_fragment()
                raise
        self._fragment = False
        self.lines += 1

    def _end_fragment(self) -> None:
        """Try to end a fragment now; if the disk refuses, the next write starts with it."""
        assert self._fd is not None
        if not self._fragment:
            return
        with contextlib.suppress(OSError):
            if os.write(self._fd, b"\n") == 1:
                self._fragment = False

    def _sync(self) -> None:
        assert self._fd is not None
        try:
            os.fsync(self._fd)
        except OSError as exc:  # EIO: the kernel could not store what was written
            self._trouble(exc)
        self._last_sync = time.monotonic()

    def _write_manifest(self) -> bool:
        """Replace run.json; on failure the old one stays and the failure is reported."""
        try:
            manifest.write(self.manifest_path, self._manifest, durable=self.fsync_policy != "never")
        except OSError as exc:
            self._manifest_stale = True
            self._manifest_retry = time.monotonic() + MANIFEST_RETRY
            self._trouble(exc)
            return False
        self._manifest_stale = False
        return True

    def _trouble(self, exc: OSError) -> None:
        """Raise (on_error="raise"), or warn once until writing works again."""
        if self.on_error == "raise":
            raise exc
        if self._failing is not None:
            return
        self._failing = exc
        log.warning(
            "logscope: cannot write %s (%s); training goes on, and logging resumes by itself "
            "once writing works again (rows logged until then are not saved)",
            self.path.parent,
            _describe(exc),
        )

    def _recovered(self) -> None:
        """A line was written: if writing had failed, catch run.json up and say so."""
        if self._failing is None:
            return
        if self._manifest_stale and (
            time.monotonic() < self._manifest_retry or not self._write_manifest()
        ):
            return
        self._failing = None
        log.info(
            "logscope: writing %s works again; %d row(s) logged meanwhile were not saved",
            self.path,
            self._episode_unsaved,
        )
        self._episode_unsaved = 0


def build_record(
    metrics: Mapping[str, Any],
    step: Any,
    wall_time: Any,
    last_step: int | None,
    warned: set[str],
) -> dict[str, Any]:
    """The record of one `log()` call: step, wall_time, then the metrics as plain values.

    An unconvertible value becomes its repr text, with a warning once per key in `warned`.
    """
    values: dict[str, Any] = {}
    for key, value in metrics.items():
        name = str(key)
        try:
            values[name] = plain(value, name)
        except Unconvertible as exc:
            if name not in warned:
                warned.add(name)
                log.warning("%s; writing its repr as text instead", exc)
            values[name] = repr(value)
    step_value = _index("step", step, values.pop("step", None))
    time_value = _index("wall_time", wall_time, values.pop("wall_time", None))
    if step_value is None:
        step_value = 0 if last_step is None else last_step + 1
    record: dict[str, Any] = {
        "step": _as_step(step_value),
        "wall_time": time.time() if time_value is None else _as_time(time_value),
    }
    record.update(values)
    return record


@contextlib.contextmanager
def _flock(fd: int, *, exclusive: bool) -> Iterator[None]:
    """An advisory lock where the platform and file system have one; else no lock."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock, and no SIGKILL either
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
    except OSError:  # e.g. a network file system without locks
        yield
        return
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _metrics_path(path: Path, rank: int | None) -> Path:
    if path.suffix in _SUFFIXES and not path.is_dir():
        folder, name = path.parent, path.name
    else:
        folder, name = path, METRICS_FILE
    if rank is not None:
        folder = folder / f"rank{rank}"
    return folder / name


def _check_fsync(policy: Any) -> FsyncPolicy:
    if policy in ("never", "close", "line"):
        return policy  # type: ignore[no-any-return]
    if isinstance(policy, (int, float)) and not isinstance(policy, bool) and policy > 0:
        return float(policy)
    raise ValueError(
        f"fsync={policy!r}: expected 'never', 'close', 'line' or a number of seconds above 0"
    )


def _check_on_error(value: Any) -> OnError:
    if value in ("warn", "raise"):
        return value  # type: ignore[no-any-return]
    raise ValueError(f"on_error={value!r}: expected 'warn' or 'raise'")


def _describe(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return f"{name}: {exc.strerror or exc}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _index(name: str, argument: Any, in_metrics: Any) -> Any:
    """`step=`/`wall_time=` win over a key of the same name; two different values clash."""
    if argument is None:
        return in_metrics
    given = plain(argument, name)
    if in_metrics is not None and in_metrics != given:
        raise ValueError(f"{name}={given!r} conflicts with metrics[{name!r}]={in_metrics!r}")
    return given


def _as_step(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"step must be an integer, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"step must be a whole number, got {value!r}")
        return int(value)
    return value


def _as_time(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"wall_time must be seconds since the epoch, got {value!r}")
    return float(value)


def _encode(record: dict[str, Any]) -> bytes:
    """One line of strict JSON (RFC 8259): ASCII only, no bare NaN/Infinity, no newline inside."""
    return (json.dumps(strict(record), allow_nan=False, ensure_ascii=True) + "\n").encode("ascii")
