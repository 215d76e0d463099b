"""The files under a folder, symlinked folders included, and what could not be looked at.

`Path.rglob` does not enter a symlinked folder (a sweep whose runs are links to where they
were written lost them without a word) and skips a folder it may not read. Here links are
followed, each real folder is read once (a link back to a folder above is a loop: said and
not followed), and every folder or log file that cannot be read is named in a note.
"""

from __future__ import annotations

import os
from collections import deque
from contextlib import suppress
from pathlib import Path
from typing import Protocol, TypeVar

# folders that never hold a run's logs
SKIP_DIRS = frozenset({".git", "__pycache__", "node_modules", ".venv", "venv", "latest-run"})
# names worth a note when they cannot be read (other unreadable files are not logs)
_LOG_HINTS = (
    *(".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".log", ".out", ".txt", ".err"),
    *(".wandb", ".db", ".sqlite", ".sqlite3", ".yaml", ".gz", ".bz2", ".xz"),
)


Skipped = tuple[Path, str]  # what could not be read, and why


def walk(folder: Path) -> tuple[list[Path], list[Skipped], set[Path]]:
    """(every regular file below `folder`, sorted; what was skipped and why; the symbolic
    links among the files and folders met, known from the folder listings: no system call
    each). Each folder's identity (device, inode) is looked up only once a link is met:
    without links no folder can be reached twice."""
    found: list[Path] = []
    notes: list[Skipped] = []
    seen: dict[tuple[int, int], Path] = {}
    real: list[Path] = []  # folders read before the first link, identities not yet taken
    linked: set[Path] = set()
    pending, links = deque([folder]), deque[Path]()
    while pending or links:  # real folders first: a link to one is then the repeat
        current = pending.popleft() if pending else links.popleft()
        if linked and real:  # a link may lead back to a folder read before it
            _remember(real, seen)
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
            identity = _identity(current) if linked else None
        except OSError as error:
            notes.append((current, f"folder cannot be read ({_why(error)}); logs in it not read"))
            continue
        if identity is None:
            real.append(current)
        elif identity in seen:
            notes.append((current, _repeat(current, seen[identity])))
            continue
        else:
            seen[identity] = current
        for entry in entries:
            path = Path(current, entry.name)
            kind = _kind(entry, notes, path)
            if entry.is_symlink():
                linked.add(path)
            if kind == "dir" and entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                (links if entry.is_symlink() else pending).append(path)
            elif kind == "file":
                found.append(path)
    return sorted(found), notes, linked


class _HasRoot(Protocol):
    """What discovery makes of a run (RunFiles): a root folder and notes about it."""

    root: Path
    notes: list[str]


R = TypeVar("R", bound=_HasRoot)


def attach(skipped: list[Skipped], runs: list[R]) -> list[R]:
    """Each note goes to the run whose folder holds what it names (else to the first run),
    so a report says what could not be read."""
    for where, why in skipped:
        owner = next((r for r in runs if where.is_relative_to(r.root)), runs[0] if runs else None)
        if owner is not None:
            owner.notes.append(f"{where}: {why}")
    return runs


def describe(skipped: list[Skipped]) -> str:
    """The skipped paths as lines, to lead an error that found no log at all."""
    return "".join(f"{where}: {why}\n" for where, why in skipped)


def _kind(entry: os.DirEntry[str], notes: list[Skipped], path: Path) -> str | None:
    """'dir', 'file', or None (something else, or unreadable: noted when it matters)."""
    try:
        if entry.is_dir(follow_symlinks=True):
            return "dir"
        if entry.is_file(follow_symlinks=True):
            if _looks_like_log(entry.name) and not os.access(path, os.R_OK):
                notes.append((path, "cannot be read (permission denied); not read"))
                return None
            return "file"
    except OSError as error:
        notes.append((path, f"cannot be looked at ({_why(error)}); not read"))
        return None
    if entry.is_symlink() and _looks_like_log(entry.name):
        notes.append((path, "a broken link (its target is missing); not read"))
    return None


def _remember(real: list[Path], seen: dict[tuple[int, int], Path]) -> None:
    """The identities of the folders read before the first link (taken late: one that
    vanished since cannot be reached again either)."""
    for earlier in real:
        with suppress(OSError):
            seen.setdefault(_identity(earlier), earlier)
    real.clear()


def _identity(folder: Path) -> tuple[int, int]:
    info = folder.stat()
    return info.st_dev, info.st_ino


def _repeat(current: Path, first: Path) -> str:
    if current.is_relative_to(first):
        return f"a link back to {first} (a loop); not followed"
    return f"the same folder as {first} (a link); read once, as {first}"


def _looks_like_log(name: str) -> bool:
    return "tfevents" in name or name.endswith(_LOG_HINTS) or name.startswith("slurm-")


def _why(error: OSError) -> str:
    return error.strerror or str(error)
