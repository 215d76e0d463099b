"""Ingesters: one module per log format, and `read_runs` that ties discovery to them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from logscope.errors import InputError

if TYPE_CHECKING:
    from logscope.ingest.base import Ingested
    from logscope.ingest.discover import RunFiles
    from logscope.run import Run

# progress(file, bytes_read, file_size): called as a reader works through a file
Progress = Callable[[str, int, int], None]
Reader = Callable[[Path, str, "Progress | None"], "Ingested"]


def _readers() -> Mapping[str, Reader]:
    from logscope.ingest import jsonl, trainer_state

    return MappingProxyType({"jsonl": jsonl.read, "trainer_state": trainer_state.read})


def read_runs(path: str | Path, progress: Progress | None = None) -> list[Run]:
    """Every run under `path`, each merged from its sources."""
    from logscope.ingest.discover import discover

    base = Path(path)
    return [read_found(found, base, progress) for found in discover(base)]


def read_found(found: RunFiles, base: Path, progress: Progress | None = None) -> Run:
    """Read and merge the files discovery assigned to one run."""
    from logscope.run import build_run

    readers = _readers()
    parts = [readers[fmt](file, _display(file, base), progress) for file, fmt in found.files]
    run = build_run(_display(found.root, base), parts)
    run.notes.extend(found.notes)
    return run


def read_run(path: str | Path, progress: Progress | None = None) -> Run:
    """Exactly one run (the library entry point `logscope.read`)."""
    runs = read_runs(path, progress)
    if len(runs) > 1:
        names = ", ".join(r.path for r in runs)
        raise InputError(f"{path}: holds {len(runs)} runs ({names}); read one of them")
    return runs[0]


def _display(file: Path, base: Path) -> str:
    """Paths as the user typed them, so messages and reports name what they can open."""
    if file == base:
        return str(base)
    try:
        return str(base / file.relative_to(base))
    except ValueError:
        return str(file)
