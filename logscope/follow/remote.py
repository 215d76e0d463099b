"""`logscope tail s3://bucket/run/` (any fsspec URL): a live mirror of the prefix.

The followers (follow/tailer.py, follow/sources.py) read local files by identity and byte
offset. For a run in object storage the prefix (or object) is mirrored into a private
temporary folder and the followers read the mirror:

- Each sync lists the prefix once (`find`, paginated by the driver; the listing cache is
  dropped first) and compares every object's (size, ETag or mtime) with the last sync's.
- A new object is fetched whole. An object of an append-style format (JSON Lines,
  TensorBoard event files: what the followers read from an offset) that grew is read
  from where the copy ends with one ranged request, starting `OVERLAP` bytes early: if
  those bytes are not the ones held, the object was rewritten, not appended to, and it is
  fetched whole. The new bytes are appended to the copy, so the follower reads on.
- Any other change (a snapshot format such as trainer_state.json, a shrunk or rewritten
  object) replaces the copy whole: the follower sees a new file or a changed snapshot.
- An object that disappears is removed from the mirror (the follower notes it). Weights,
  optimizer states and media are never fetched (logscope.cloud decides which).
- A sync that fails while following (network, expired credentials) is noted once and
  retried at the next one; the first sync's failure is the user's to fix (exit 2).

Syncs are spaced by `every` seconds (object listings cost requests and money). Nothing is
ever written to the store.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from logscope.cloud import explain, filesystem, may_hold_logs
from logscope.errors import InputError

OVERLAP = 4096  # bytes re-read before the end of a grown copy, compared with the copy
REMOTE_EVERY = 2.0  # seconds between listings at the default --poll


@dataclass
class _Copy:
    signature: tuple[int, str]  # (size, ETag / mtime) when last synced
    local: Path


class Mirror:
    """The object(s) at `url` mirrored under `folder`; `local` is what tail follows."""

    def __init__(self, url: str, folder: Path, every: float = REMOTE_EVERY) -> None:
        self.url = url.rstrip("/")
        self.fs, root = filesystem(self.url)
        self.root = root.rstrip("/")
        self.base = folder / "mirror"
        self.base.mkdir(parents=True, exist_ok=True)
        self.local = self.base / PurePosixPath(self.root).name
        self.every = every
        self.copies: dict[str, _Copy] = {}
        self.single = False  # the URL names one object, not a prefix
        self.appendable: Callable[[Path], bool] = lambda path: False
        self._next = 0.0
        self._failing: str | None = None
        self.requests = 0  # GETs made (whole and ranged), for the tests and the curious
        self.ranged = 0

    # -- the first sync: the user's errors ---------------------------------------------
    def start(self) -> bool:
        """The first sync: False when nothing is there yet (an empty prefix); InputError
        (exit 2) for a missing bucket, denied credentials or an unreachable store."""
        listing = self._listing()
        self._apply(listing)
        self._next = time.monotonic() + self.every
        return bool(listing)

    # -- while following ---------------------------------------------------------------
    def refresh(self) -> list[str]:
        """Sync if `every` seconds have passed; notes for the user (a failing store)."""
        now = time.monotonic()
        if now < self._next:
            return []
        self._next = now + self.every
        try:
            self._apply(self._listing())
        except InputError as exc:
            if self._failing == str(exc):
                return []
            self._failing = str(exc)
            return [f"{exc}; retrying every {self.every:g} s"]
        if self._failing is not None:
            self._failing = None
            return [f"{self.url}: the store answers again"]
        return []

    def shown(self, path: Path) -> str:
        """A mirrored path as the user named it (the URL)."""
        try:
            relative = path.relative_to(self.local)
        except ValueError:
            return str(path)
        return self.url if relative == Path() else f"{self.url}/{relative.as_posix()}"

    # -- listing and fetching ----------------------------------------------------------
    def _listing(self) -> dict[str, tuple[int, str]]:
        """Every wanted object under the root: name -> (size, ETag or mtime)."""
        fs = self.fs
        try:
            with contextlib.suppress(Exception):
                fs.invalidate_cache(self.root)
            if fs.isfile(self.root):
                self.single = True
                found = {self.root: fs.info(self.root)}
            else:
                found = fs.find(self.root, detail=True)
        except Exception as exc:  # the drivers raise OSError subclasses and their own errors
            raise explain(self.url, exc) from exc
        return {
            name: (int(info.get("size") or 0), _version(info))
            for name, info in found.items()
            if may_hold_logs(name) and info.get("type", "file") != "directory"
        }

    def _local(self, name: str) -> Path:
        if self.single:
            return self.local
        return self.local / PurePosixPath(name).relative_to(self.root)

    def _apply(self, listing: dict[str, tuple[int, str]]) -> None:
        for name in [n for n in self.copies if n not in listing]:
            with contextlib.suppress(OSError):
                self.copies[name].local.unlink()
            del self.copies[name]
        if not self.single:
            self.local.mkdir(parents=True, exist_ok=True)
        for name, signature in sorted(listing.items()):
            copy = self.copies.get(name)
            if copy is not None and copy.signature == signature:
                continue
            local = self._local(name)
            if not (copy is not None and self._append(name, copy, signature[0])):
                self._whole(name, local)
            self.copies[name] = _Copy(signature, local)

    def _append(self, name: str, copy: _Copy, size: int) -> bool:
        """Read only the new bytes of a grown append-style object; False when it was not
        simply appended to (then it is fetched whole)."""
        try:
            held = copy.local.stat().st_size
        except OSError:
            return False
        if size <= held or not self.appendable(copy.local):
            return False
        start = max(held - OVERLAP, 0)
        data = self._get(name, start, size)
        if len(data) != size - start:
            return False  # replaced between the listing and the read
        with copy.local.open("rb") as handle:
            handle.seek(start)
            if handle.read(held - start) != data[: held - start]:
                return False
        with copy.local.open("ab") as handle:
            handle.write(data[held - start :])
        self.ranged += 1
        return True

    def _whole(self, name: str, local: Path) -> None:
        """Fetch the object whole and put it in place at once (a new file to the follower)."""
        data = self._get(name)
        local.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=local.parent, prefix=".logscope-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(temporary).replace(local)

    def _get(self, name: str, start: int | None = None, end: int | None = None) -> bytes:
        self.requests += 1
        try:
            return bytes(self.fs.cat_file(name, start=start, end=end))
        except Exception as exc:
            raise explain(self.url, exc) from exc


def _version(info: dict[str, Any]) -> str:
    """What changes when an object is rewritten: its ETag, else its modification time."""
    for key in ("ETag", "etag", "md5Hash", "mtime", "LastModified", "last_modified", "updated"):
        if info.get(key) is not None:
            return str(info[key])
    return ""


@contextlib.contextmanager
def mirrored(url: str, every: float = REMOTE_EVERY) -> Iterator[Mirror]:
    """A Mirror in a private temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="logscope-tail-") as tmp:
        yield Mirror(url, Path(tmp), every)
