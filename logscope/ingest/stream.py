"""Logs that arrive as a stream: `-` (stdin), `/dev/stdin`, a FIFO, process substitution
(`logscope check <(zcat run.jsonl.gz)`, a `/dev/fd/N` pipe).

A stream is read once, with bounds (STREAM_LIMIT bytes in all, LINE_LIMIT without a newline,
WAIT_SECONDS for the first byte), into a private file named as its content says: JSON
Lines, a `trainer_state.json` or a veRL console log. The readers then read that file and
their reports name the stream as the user gave it. Character and block devices
(`/dev/zero`, a terminal, a disk) are refused: they are no logs, and some never end.
"""

from __future__ import annotations

import atexit
import os
import select
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from logscope.errors import InputError

STREAM_LIMIT = 1 << 30
LINE_LIMIT = 64 << 20
WAIT_SECONDS = 60.0
_PIECE = 1 << 20
_SNIFF = 1 << 20
# private copy -> the name the user gave (reports name the stream, not the copy)
_SHOWN: dict[Path, str] = {}
_FOLDERS: list[str] = []


def is_stream(path: Path) -> bool:
    """`-`, or a path that exists and is neither a regular file nor a folder."""
    if str(path) == "-":
        return True
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def shown_as(file: Path) -> str | None:
    """The name to show for a private copy of a stream; None for any other file."""
    return _SHOWN.get(file)


def copy(path: Path) -> tuple[Path, str]:
    """The stream read into a private file, and its format; InputError when it is a
    device, a terminal, too long, silent, or no log format logscope reads."""
    data = _read(path)
    fmt, name = _format(path, data)
    folder = tempfile.mkdtemp(prefix="logscope-stream-")
    if not _FOLDERS:
        atexit.register(_cleanup)
    _FOLDERS.append(folder)
    private = Path(folder) / name
    private.write_bytes(data)
    _SHOWN[private] = str(path)
    return private, fmt


def _read(path: Path) -> bytes:
    if str(path) == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError(
                "-: standard input is a terminal; pipe a log into it "
                "(cat metrics.jsonl | logscope check -) or name a file"
            )
        return _bounded(path, sys.stdin.buffer.read)
    mode = path.stat().st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a character device" if stat.S_ISCHR(mode) else "a block device"
        raise InputError(
            f"{path}: is {kind} (a terminal, /dev/zero, a disk), not a log; "
            "logscope reads files, folders and pipes"
        )
    if stat.S_ISSOCK(mode):
        raise InputError(f"{path}: is a socket, not a log; logscope reads files, folders, pipes")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise InputError(f"{path}: cannot be opened ({error.strerror or error})") from error
    try:
        _wait_for_data(path, fd)
        os.set_blocking(fd, True)
        return _bounded(path, lambda size: os.read(fd, size))
    finally:
        os.close(fd)


def _wait_for_data(path: Path, fd: int) -> None:
    """A FIFO nobody writes to would block a read forever: wait WAIT_SECONDS at most."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    deadline = time.monotonic() + WAIT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        if poller.poll(int(left * 1000) + 1):
            return
    raise InputError(
        f"{path}: nothing arrived in {WAIT_SECONDS:.0f} s (a FIFO without a writer?); "
        "start the writer first, or save the log to a file"
    )


def _bounded(path: Path, read: Callable[[int], bytes]) -> bytes:
    """Everything up to the end of the stream, refusing endless or line-less input."""
    pieces: list[bytes] = []
    total = since_newline = 0
    while piece := read(_PIECE):
        total += len(piece)
        newline = piece.rfind(b"\n")
        since_newline = len(piece) - newline - 1 if newline >= 0 else since_newline + len(piece)
        if since_newline > LINE_LIMIT:
            raise InputError(
                f"{path}: more than {LINE_LIMIT >> 20} MiB without a line end; "
                "not a text log (is it /dev/zero or a binary file?)"
            )
        if total > STREAM_LIMIT:
            raise InputError(
                f"{path}: longer than {STREAM_LIMIT >> 20} MiB; save it to a file and check the"
                " file (a stream is read whole before it is checked)"
            )
        pieces.append(piece)
    return b"".join(pieces)


def _format(path: Path, data: bytes) -> tuple[str, str]:
    """(reader, file name) from the content: the stream has no name that says it."""
    from logscope.ingest import verl_console

    head = data[:_SNIFF].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise InputError(f"{path}: the stream was empty")
    if head.startswith(b"{"):
        first = head.split(b"\n", 1)[0].strip()
        if first == b"{" or (b'"log_history"' in head and not first.endswith(b"}")):
            return "trainer_state", "trainer_state.json"
        return "jsonl", "stream.jsonl"
    if verl_console.has_step_line(data[: 64 << 20]):
        return verl_console.FORMAT, "stream.log"
    raise InputError(
        f"{path}: neither JSON Lines nor a veRL console log (it begins {head[:20]!r}); "
        "save it to a file with its usual name (e.g. events.out.tfevents.*) and check that"
    )


def _cleanup() -> None:
    for folder in _FOLDERS:
        shutil.rmtree(folder, ignore_errors=True)
