"""A fault-injecting disk for the writer tests: `os.open`, `os.write`, `os.fsync` and
`os.close` are replaced (monkeypatch; no LD_PRELOAD) and faults hit only files under one
folder, so pytest's own output is never touched.

- `free`: bytes the disk still takes (None: unlimited). A write larger than that stores
  what fits and returns the short count, the next raises ENOSPC: what a full disk does.
- `error`: an errno every write and fsync on the folder's files raises while it is set
  (EIO: a failing disk or a lost network mount).
- `short`: the next write stores at most this many bytes (a signal, a slow pipe).
- `fail_after`: (stored, errno): the next write stores `stored` bytes, the one after raises.
- `kill_at`: "write", "fsync" or "manifest-fsync": at that call the folder is copied to
  `snapshot` (what the disk holds if the process died there: the page cache survives a
  SIGKILL) and `Killed` is raised; with "write", `kill_stored` bytes are stored first.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest


class Killed(BaseException):
    """The process died here (BaseException: nothing in the writer may catch it)."""


class Disk:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
        self.folder = folder
        self.snapshot = folder.parent / f"{folder.name}-at-kill"
        self.free: int | None = None
        self.error: int | None = None
        self.short: int | None = None
        self.fail_after: tuple[int, int] | None = None
        self.kill_at: str | None = None
        self.kill_stored = 0
        self.writes = 0  # calls that reached a file of the folder
        self._fds: dict[int, str] = {}  # fd -> "log" | "manifest"
        self._open, self._write = os.open, os.write
        self._fsync, self._close = os.fsync, os.close
        monkeypatch.setattr(os, "open", self.open)
        monkeypatch.setattr(os, "write", self.write)
        monkeypatch.setattr(os, "fsync", self.fsync)
        monkeypatch.setattr(os, "close", self.close)

    def heal(self) -> None:
        """Space returns, the disk works again."""
        self.free = self.error = self.short = self.fail_after = None

    # -- the replaced calls ------------------------------------------------------------
    def open(self, path: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
        fd = self._open(path, flags, mode)
        where = Path(path)
        if where.is_relative_to(self.folder) and not where.is_dir():
            self._fds[fd] = "manifest" if where.name.endswith(".tmp") else "log"
        return fd

    def write(self, fd: int, data: bytes) -> int:
        if fd not in self._fds:
            return self._write(fd, data)
        self.writes += 1
        if self.kill_at == "write" and self._fds[fd] == "log":
            self._write(fd, bytes(data[: self.kill_stored]))
            self._die()
        if self.error is not None:
            raise OSError(self.error, os.strerror(self.error))
        if self.fail_after is not None:
            stored, code = self.fail_after
            if stored < 0:
                self.fail_after = None
                raise OSError(code, os.strerror(code))
            self.fail_after = (-1, code)
            data = data[:stored]
        if self.short is not None:
            data, self.short = data[: self.short], None
        if self.free is not None:
            if self.free == 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            data = data[: self.free]
            self.free -= len(data)
        return self._write(fd, data)

    def fsync(self, fd: int) -> None:
        kind = self._fds.get(fd)
        if kind is not None:
            if self.kill_at == "fsync" and kind == "log":
                self._die()
            if self.kill_at == "manifest-fsync" and kind == "manifest":
                self._die()
            if self.error is not None:
                raise OSError(self.error, os.strerror(self.error))
        self._fsync(fd)

    def close(self, fd: int) -> None:
        self._fds.pop(fd, None)
        self._close(fd)

    def _die(self) -> None:
        self.kill_at = None
        shutil.copytree(self.folder, self.snapshot)
        raise Killed
