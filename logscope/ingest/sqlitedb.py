"""Read-only access to SQLite tracking stores (MLflow's `mlflow.db`, trackio's `<project>.db`).

Nothing in the user's folder may change, yet SQLite's read-only mode (`mode=ro`) still
creates `-wal` and `-shm` files next to a WAL-mode database (trackio uses WAL; measured with
SQLite 3.4x). So a database without journal files is opened `immutable=1` (no locks, no side
files), and one with a `-wal` or `-journal` beside it (a live or crashed writer) is copied
with them into a temporary folder first, where SQLite may replay the journal on the copy.
A store holds many runs; discovery names each one as a path below the file
(`mlflow.db/<run>`), and `split` turns such a path back into (file, run selector).
"""

from __future__ import annotations

import functools
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

HEADER = b"SQLite format 3\x00"
SUFFIXES = (".db", ".sqlite", ".sqlite3")


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(HEADER)) == HEADER
    except OSError:
        return False


_JOURNALS = ("-wal", "-journal")


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection that leaves `path`'s folder untouched; raises sqlite3.Error
    when the file is no readable database."""
    try:
        with _connect(path) as connection:
            yield connection
    except UnicodeDecodeError as error:  # SQLite's own error message held damaged text
        raise sqlite3.DatabaseError(f"damaged text in the database ({error.reason})") from error


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    deadline = time.monotonic() + _BUSY
    while True:
        sidecars = [Path(f"{path}{end}") for end in _JOURNALS if Path(f"{path}{end}").exists()]
        if not sidecars and not _wal_mode(path):
            # a rollback-journal store: one read transaction holds SQLite's shared lock, so
            # a writer cannot commit halfway through the reads
            connection = _shared(path)
            if connection is not None:
                with closing(connection):
                    yield connection
                return
        # a WAL store, a writer's journal beside it (read-only mode would create -wal and
        # -shm files in the user's folder), or a writer committing so often that the shared
        # lock never comes free: a private copy is read, taken while unchanged
        copy = _snapshot(path, sidecars)
        if copy is not None:
            with closing(sqlite3.connect(copy)) as connection:
                connection.text_factory = _text
                connection.execute("BEGIN")
                yield connection
            return
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(
                f"database is locked: a writer kept changing it for {_BUSY:g} s"
            )
        time.sleep(0.01)


def _shared(path: Path) -> sqlite3.Connection | None:
    """A read-only connection holding SQLite's shared lock; None when a writer kept it from
    us for _STARVED seconds (a writer in a tight loop holds the lock to commit almost all the
    time: the caller reads a copy instead of waiting)."""
    uri = path.resolve().as_uri() + "?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
    try:
        connection.execute("PRAGMA query_only = ON")
        connection.text_factory = _text
        if _begin_read(connection):
            return connection
    except BaseException:
        connection.close()
        raise
    connection.close()
    return None


def retrying(read: Callable[[], T]) -> T:
    """`read()` again while a writer holds the store's lock ("database is locked"), for up
    to _BUSY seconds: a live store is read whole or not at all, never half."""
    deadline = time.monotonic() + _BUSY
    while True:
        try:
            return read()
        except sqlite3.OperationalError as error:
            busy = "locked" in str(error) or "busy" in str(error)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _begin_read(connection: sqlite3.Connection) -> bool:
    """Open a read transaction and take the shared lock now (a first read), retrying while
    a writer is mid-commit; False when that lasted _STARVED seconds."""
    deadline = time.monotonic() + _STARVED
    while True:
        connection.execute("BEGIN")
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return True
        except sqlite3.OperationalError as error:
            connection.execute("ROLLBACK")
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)


def _wal_mode(path: Path) -> bool:
    """Bytes 18-19 of the header are 2 in a WAL-mode database, 1 in rollback mode."""
    try:
        with path.open("rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    return header[18:20] == b"\x02\x02"


# one copy of a live store per process while it is unchanged: a store of N runs is opened
# N + 2 times (kind, list of runs, each run), and a live mlflow.db can be gigabytes
_SNAPSHOTS: dict[
    Path, tuple[tuple[tuple[int, int], ...], tempfile.TemporaryDirectory[str], Path]
] = {}
_BUSY = 10.0  # seconds to wait for a writer's lock
_STARVED = 0.25  # seconds to wait for the shared lock before reading a copy instead
_ATTEMPTS = 5  # copies tried while a writer keeps changing the store


def _stamp(files: list[Path]) -> tuple[tuple[int, int], ...] | None:
    """Sizes and times of the files; None when one of them vanished."""
    try:
        return tuple((s.st_size, s.st_mtime_ns) for s in (f.stat() for f in files))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise sqlite3.OperationalError(f"cannot read the live database ({error})") from error


def _snapshot(path: Path, sidecars: list[Path]) -> Path | None:
    """A private copy of `path` and its journals, made again only when one of them changed;
    None when a journal vanished meanwhile (a writer committed: look again) or the files
    changed under every one of a few copies (a copy taken while a writer changed a file
    would be torn, so it is never read)."""
    key = _stamp([path, *sidecars])
    if key is None:
        return None
    held = _SNAPSHOTS.pop(path, None)
    if held is not None and held[0] == key:
        _SNAPSHOTS[path] = held
        return held[2]
    if held is not None:
        held[1].cleanup()
    scratch = tempfile.TemporaryDirectory(prefix="logscope-")  # removed at exit at the latest
    copy = Path(scratch.name) / "store.db"
    for _ in range(_ATTEMPTS):
        try:
            shutil.copyfile(path, copy)
            for sidecar in sidecars:
                shutil.copyfile(sidecar, f"{copy}{sidecar.name[len(path.name) :]}")
        except FileNotFoundError:
            scratch.cleanup()
            return None
        except OSError as error:
            scratch.cleanup()
            raise sqlite3.OperationalError(f"cannot copy the live database ({error})") from error
        after = _stamp([path, *sidecars])
        if after == key:
            _SNAPSHOTS[path] = (key, scratch, copy)
            return copy
        if after is None:
            break
        key = after  # the store moved under the copy: take it again
        time.sleep(0.005)
    scratch.cleanup()  # it never held still (or a journal vanished): the caller looks again
    return None


def _text(data: bytes) -> str:
    """Damaged text in a damaged database reads as U+FFFD instead of raising."""
    return data.decode("utf-8", errors="replace")


def columns(connection: sqlite3.Connection) -> dict[str, set[str]]:
    """Every table and its column names."""
    tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {
        table: {r[1] for r in connection.execute("SELECT * FROM pragma_table_info(?)", (table,))}
        for table in tables
    }


def kind(path: Path) -> str | None:
    """'mlflow' or 'trackio' for a SQLite file holding that tracker's tables, else None.

    Discovery asks several times per file: the answer is kept while size and mtime stay."""
    if path.suffix.lower() not in SUFFIXES or not is_sqlite(path):
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return _kind(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _kind(path: Path, size: int, mtime: int) -> str | None:
    try:
        schema = retrying(lambda: _schema(path))
    except sqlite3.Error:
        return None
    metrics = schema.get("metrics", set())
    if {"key", "value", "step", "run_uuid"} <= metrics and "runs" in schema:
        return "mlflow"
    if {"run_name", "metrics"} <= metrics:
        return "trackio"
    return None


def _schema(path: Path) -> dict[str, set[str]]:
    with connect(path) as connection:
        return columns(connection)


def split(path: Path) -> tuple[Path, str | None]:
    """(database file, run selector) for `store.db/<run>`; (path, None) for the file itself."""
    if path.is_file():
        return path, None
    for parent in path.parents:
        if parent.is_file():
            return parent, path.relative_to(parent).as_posix()
    return path, None
