"""A big JSONL log read while the command is still starting up.

`logscope check run.jsonl` spends ~0.4 s importing Typer, Rich, the rules and the
reporters and loading the packs before it opens the file; on a 1 GB log the read then
takes seconds, and Polars' parse keeps both cores busy. The console command starts that
read first, in a thread (`start`, from the raw command line, before those imports), and
the check takes the result when it gets to the file (`take`), relaying its progress.
Nothing changes but the order: the read is the one the check would do (the same reader,
the same name for the file), and it is used only if the file is unchanged since it began.

This module imports nothing heavy at import time: it runs before the command's imports.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from logscope.ingest.base import Ingested, Progress

# below this a log reads in less time than the command takes to start: nothing to overlap
MIN_BYTES = 32 << 20
_SUFFIXES = (".jsonl", ".ndjson")
# options after which the command reads nothing now (or reads more than this one file)
_DECIDED = ("--help", "--show-settings", "--executor", "--baseline")


class _Reading:
    """One read in its thread: the file's identity when it began, its latest progress, and
    its result or exception."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.display = str(path)
        self.identity = _identity(path)
        self.progress: tuple[str, int, int] | None = None
        self.result: Ingested | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="logscope-read-ahead", daemon=True)

    def _run(self) -> None:
        try:
            from logscope.ingest import jsonl

            self.result = jsonl.read(self.path, self.display, self._seen)
        except BaseException as exc:  # handed to the check, raised where it reads the file
            self.error = exc

    def _seen(self, label: str, done: int, total: int) -> None:
        self.progress = (label, done, total)


class _State:
    reading: _Reading | None = None


def start(args: list[str]) -> None:
    """`logscope check ARGS`: when they name exactly one existing JSONL file of at least
    MIN_BYTES (option values that are not such files do not count), start reading it."""
    if any(a.startswith(_DECIDED) for a in args):
        return
    named = [a for a in args if not a.startswith("-")]
    logs = [Path(a) for a in named if a.endswith(_SUFFIXES) and Path(a).is_file()]
    if len(logs) != 1 or any(Path(a).is_dir() for a in named):
        return
    try:
        if logs[0].stat().st_size < MIN_BYTES:
            return
    except OSError:
        return
    _State.reading = _Reading(logs[0])
    _State.reading.thread.start()


def take(path: Path, display: str, progress: Progress | None) -> Ingested | None:
    """The read started ahead of this file (named `display`), once done, if it is the same
    file, unchanged since; else None (the caller reads it). Progress is relayed meanwhile;
    an error of the read is raised here, where the check reads the file."""
    reading = _State.reading
    if reading is None or reading.display != display or reading.path != path:
        return None
    _State.reading = None
    while reading.thread.is_alive():
        reading.thread.join(0.1)
        if progress is not None and reading.progress is not None:
            progress(*reading.progress)
    if _identity(path) != reading.identity:
        return None  # written to meanwhile: read again, as it is now
    if reading.error is not None:
        raise reading.error
    if progress is not None and reading.progress is not None:
        progress(*reading.progress)
    return reading.result


def discard() -> None:
    """The command ended without taking the read (an error first): let it go."""
    _State.reading = None


def _identity(path: Path) -> Any:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns
