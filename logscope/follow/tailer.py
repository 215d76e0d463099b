"""Following one file by its identity, not its name: the byte stream of `tail --follow`
across rotation, truncation and deletion, each byte delivered once.

- The file is tracked by (device, inode) through an open descriptor. While it is open the
  kernel cannot hand its inode to a new file, so a file deleted and recreated is always
  seen as new, and a renamed or deleted file can still be read through the descriptor.
- When the path names another file (rename rotation, delete-and-recreate, a restarted
  run), the old descriptor is read to its end first, over as many polls as that takes,
  and only then does reading move to the new file, from byte 0.
- Truncation is judged by the size (smaller than what was read) and by the identity of
  the first bytes (up to HEAD of them, re-compared whenever size, mtime or ctime of the
  open file change): a file cut and refilled past the old read position between two polls
  (`copytruncate`) has other first bytes, so it is never read on from the old position as
  if it had grown. (A refill to the very same size within one timestamp tick is seen at
  the file's next change.)
- After a truncation, the rest of the old content is looked for in a sibling copy whose
  first bytes are the ones read (`metrics.jsonl.1`, `metrics-20261201.jsonl`, what
  logrotate's copytruncate leaves) and read from there before the new content.

What cannot be followed: a file created and removed (or rotated away and compressed)
entirely between two polls, and bytes a writer appends to a rotated file after it was
drained (writers reopen their log before writing on, as logging's handlers do).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

HEAD = 4096  # first bytes of a file kept as its identity
MAX_COPIES = 64  # siblings compared when looking for a truncated file's copy
_PACKED = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip")


@dataclass
class Read:
    """What one poll produced, in order: ("data", bytes), ("start", why) before the first
    bytes of another file (or of the same file started over), ("note", text)."""

    events: list[tuple[str, bytes | str]] = field(default_factory=list)
    read: int = 0
    more: bool = False  # bytes are waiting beyond this poll's limit
    error: str | None = None  # the file cannot be read at all

    def data(self, chunk: bytes) -> None:
        if chunk:
            self.events.append(("data", chunk))
            self.read += len(chunk)


@dataclass
class _Old:
    """A file to read to its end before the current one: rotated away, or a truncated
    file's copy. `why` is said when it is done."""

    handle: BinaryIO
    offset: int
    why: str


class FileTail:
    """The bytes appended to `path`, by identity; see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0  # bytes delivered from the current file
        self.head = b""  # its first bytes, up to HEAD
        self._handle: BinaryIO | None = None
        self._identity: tuple[int, int] | None = None
        self._old: list[_Old] = []  # read to their ends, in order, before the current file
        self._missing = False
        self._checked: tuple[int, int, int] | None = None  # (size, mtime, ctime) judged intact

    def poll(self, limit: int) -> Read:
        """Read at most `limit` new bytes: a rotated file's rest first, then the current file."""
        out = Read()
        if not self._drain(out, limit):
            return out
        try:
            stat: os.stat_result | None = self.path.stat()
        except OSError:
            stat = None
        size: int | None = None
        if self._handle is not None:
            size = self._check_truncation(out)
            if stat is None:
                if not self._missing:
                    self._missing = True
                    out.events.append(("note", "file disappeared; waiting for it to come back"))
            elif (stat.st_dev, stat.st_ino) != self._identity:
                why = "replaced by a new file (rotated, or a restarted run)"
                self._old.append(_Old(self._take(), self.offset, why))
                self._open(out)  # held from now on, read once the old one is done
                size = None
            if not self._drain(out, limit):
                return out
        if stat is not None:
            self._missing = False
        if self._handle is None:
            if stat is None or not self._open(out):
                return out
            size = None
        self._read_current(out, limit - out.read, size)
        return out

    def close(self) -> None:
        for old in self._old:
            old.handle.close()
        self._old = []
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    # -- the current file --------------------------------------------------------------
    def _open(self, out: Read) -> bool:
        """Open what the path names now, to be read from byte 0."""
        try:
            handle = self.path.open("rb", buffering=0)
            stat = os.fstat(handle.fileno())
        except FileNotFoundError:
            return False  # gone again between stat and open: the next poll looks again
        except OSError as exc:
            out.error = f"cannot be read: {exc.strerror or exc}"
            return False
        self._handle, self._identity = handle, (stat.st_dev, stat.st_ino)
        self.offset, self.head, self._checked = 0, b"", None
        return True

    def _take(self) -> BinaryIO:
        assert self._handle is not None
        handle, self._handle = self._handle, None
        return handle

    def _read_current(self, out: Read, limit: int, size: int | None) -> None:
        """`size`: the file's size if the truncation check just took it."""
        assert self._handle is not None
        try:
            if size is None:
                size = os.fstat(self._handle.fileno()).st_size
            if size > self.offset and limit > 0:
                chunk = _read_at(self._handle, self.offset, min(limit, size - self.offset))
                if len(self.head) < HEAD:  # reads are sequential: head is every byte so far
                    self.head += chunk[: HEAD - len(self.head)]
                self.offset += len(chunk)
                out.data(chunk)
        except OSError as exc:
            out.error = f"cannot be read: {exc.strerror or exc}"
            return
        out.more = out.more or size > self.offset

    def _check_truncation(self, out: Read) -> int | None:
        """Smaller than what was read, or other first bytes: the file started over. Checked
        on the open descriptor, so a file truncated and then renamed away is caught too.
        Returns the file's size when it goes on from where it was."""
        assert self._handle is not None
        if self.offset == 0:
            return None
        try:
            stat = os.fstat(self._handle.fileno())
            seen = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
            if seen == self._checked:  # untouched since its first bytes were compared
                return stat.st_size
            if stat.st_size < self.offset:
                why = f"truncated to {stat.st_size} bytes"
            elif _read_at(self._handle, 0, len(self.head)) == self.head:
                self._checked = seen
                return stat.st_size
            else:
                why = "rewritten (its first bytes changed)"
        except OSError:
            return None  # judged again at the next poll
        copy = self._find_copy(stat.st_ino)
        offset, self.offset, self.head, self._checked = self.offset, 0, b"", None
        if copy is None:
            out.events.append(("start", why))
            return None
        handle, name = copy
        self._old.append(_Old(handle, offset, f"{why}; what it held was read from its copy {name}"))
        return None

    def _find_copy(self, inode: int) -> tuple[BinaryIO, str] | None:
        """The copy `copytruncate` made before cutting the file: a sibling beginning with
        the bytes read from it and at least as long as what was read."""
        stem = self.path.name.split(".", 1)[0]
        try:
            entries = [e for e in os.scandir(self.path.parent) if e.name.startswith(stem)]
        except OSError:
            return None
        candidates: list[tuple[int, str, str]] = []
        for entry in entries:
            if entry.name == self.path.name or entry.name.endswith(_PACKED):
                continue
            try:
                stat = entry.stat()
            except OSError:
                continue
            if entry.is_file() and stat.st_ino != inode and stat.st_size >= self.offset:
                candidates.append((stat.st_mtime_ns, entry.name, entry.path))
        candidates.sort(reverse=True)
        for _, name, where in candidates[:MAX_COPIES]:
            try:
                handle = Path(where).open("rb", buffering=0)  # noqa: SIM115 - kept open
            except OSError:
                continue
            if _read_at(handle, 0, len(self.head)) == self.head:
                return handle, name
            handle.close()
        return None

    # -- files to finish first ---------------------------------------------------------
    def _drain(self, out: Read, limit: int) -> bool:
        """Read the old files on, in order; True once all are done."""
        while self._old:
            old = self._old[0]
            try:
                size = os.fstat(old.handle.fileno()).st_size
                want = min(limit - out.read, size - old.offset)
                if want > 0:
                    chunk = _read_at(old.handle, old.offset, want)
                    old.offset += len(chunk)
                    out.data(chunk)
                done = old.offset >= size
            except OSError:
                done = True  # unreadable now (a network file system lost it): nothing to get
            if not done:
                out.more = True
                return False
            old.handle.close()
            self._old.pop(0)
            out.events.append(("start", old.why))
        return True


def _read_at(handle: BinaryIO, offset: int, size: int) -> bytes:
    handle.seek(offset)
    return handle.read(size) or b""
