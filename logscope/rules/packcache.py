"""The built-in rule packs in parsed form, so a command need not re-parse their YAML.

Parsing and validating the built-in packs (YAML with line numbers, message templates,
`where:` conditions, patterns) is most of what a small `logscope check` does besides
importing Polars; unpickling the result takes about a millisecond. Kept safe by:

- the key: a SHA-256 of logscope's version, the Python version, the packs' folder, every
  pack file's name and bytes, and the name, size and mtime of logscope's own modules that
  define what a pack is (rules/, checks/, model.py). Any edit, upgrade or other checkout
  is another key; nothing is ever served for a file it was not built from.
- where it lives: the user's cache folder only (LOGSCOPE_CACHE_DIR, else
  $XDG_CACHE_HOME/logscope, else ~/.cache/logscope; created private), never beside the
  packs or in a run folder. Written atomically; a file that cannot be read or unpickled
  is ignored and rebuilt; a folder that cannot be written means no cache, never an error.
- what it holds: only packs that loaded without error, from the package's own folder (a
  user's --rules file is read each time). LOGSCOPE_NO_CACHE=1 turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logscope.rules.pack import Pack

_FORMAT = 1  # bump when the cached layout changes
_KEEP = 8  # cached files kept (several checkouts or versions side by side)
_DEFINING = ("rules", "checks")  # packages whose code shapes a Pack (with model.py)


def cached(files: list[Path], build: Callable[[list[Path]], list[Pack]]) -> list[Pack]:
    """`build(files)`, from the cache when the same files and code built it before."""
    if os.environ.get("LOGSCOPE_NO_CACHE", "") not in ("", "0"):
        return build(files)
    try:
        key = _key(files)
    except OSError:
        return build(files)
    path = _folder() / f"packs-{key}.pickle"
    packs = _read(path)
    if packs is None:
        packs = build(files)  # raises RulePackError on a broken pack: nothing cached
        _write(path, packs)
    return packs


def _key(files: list[Path]) -> str:
    from logscope.version import __version__

    digest = hashlib.sha256(f"{_FORMAT}\0{__version__}\0{sys.version}\0".encode())
    for file in files:
        digest.update(f"{file}\0".encode())
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    package = Path(__file__).resolve().parent.parent
    sources = [package / "model.py"]
    for name in _DEFINING:
        sources += sorted((package / name).glob("*.py"))
    for source in sources:
        stat = source.stat()
        digest.update(f"{source.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:32]


def _folder() -> Path:
    explicit = os.environ.get("LOGSCOPE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "logscope"


def _read(path: Path) -> list[Pack] | None:
    from logscope.rules.pack import Pack

    try:
        with path.open("rb") as handle:
            packs = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception:  # a truncated or foreign file: rebuilt and replaced
        return None
    if isinstance(packs, list) and all(isinstance(p, Pack) for p in packs):
        return packs
    return None


def _write(path: Path, packs: list[Pack]) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".packs-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(packs, out, protocol=pickle.HIGHEST_PROTOCOL)
        Path(temporary).replace(path)
    except (OSError, pickle.PicklingError):
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        return
    _prune(path.parent)


def _prune(folder: Path) -> None:
    """Keep the `_KEEP` most recently written cache files (each edit makes a new one)."""
    with contextlib.suppress(OSError):
        old = sorted(folder.glob("packs-*.pickle"), key=lambda p: p.stat().st_mtime_ns)
        for stale in old[:-_KEEP]:
            stale.unlink(missing_ok=True)
