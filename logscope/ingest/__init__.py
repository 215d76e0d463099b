"""Ingesters: one module per log format, and `read_runs` that ties discovery to them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from logscope.errors import InputError

if TYPE_CHECKING:
    from logscope.ingest.base import Ingested, Progress, Reader, ReadOptions
    from logscope.ingest.discover import RunFiles
    from logscope.run import Run

__all__ = ["Progress", "ReadOptions", "Reader", "read_found", "read_run", "read_runs"]
_FROM_BASE = ("Progress", "ReadOptions", "Reader")


def __getattr__(name: str) -> Any:
    """`Progress`, `ReadOptions`, `Reader` live in ingest/base.py (readers import them from
    there); they are served here too without loading polars when the package is imported."""
    if name in _FROM_BASE:
        from logscope.ingest import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _readers() -> Mapping[str, Reader]:
    """Each format's one-file reader, by name (formats.py holds the records)."""
    from logscope.ingest.formats import FORMATS

    return MappingProxyType({f.name: f.read for f in FORMATS if f.read is not None})


def read_runs(
    path: str | Path, progress: Progress | None = None, options: ReadOptions | None = None
) -> list[Run]:
    """Every run under `path`, each merged from its sources."""
    from logscope.cloud import is_url, relabel, staged
    from logscope.ingest.discover import discover
    from logscope.samerun import merge_runs

    if is_url(path):  # object storage: read a staged copy, name runs by their URL
        with staged(str(path)) as stage:
            try:
                runs = read_runs(stage.local, progress, options)
            except InputError as exc:
                raise InputError(str(exc).replace(str(stage.local), stage.url)) from None
            return [relabel(run, stage) for run in runs]
    base = Path(path)
    return merge_runs([read_found(found, base, progress, options) for found in discover(base)])


def read_found(
    found: RunFiles,
    base: Path,
    progress: Progress | None = None,
    options: ReadOptions | None = None,
) -> Run:
    """Read and merge the files discovery assigned to one run.

    Files of a format read alone come first, in discovery's order; then each format that
    reads its files together (event files: a restart or TensorBoard's purge can span
    files; the folders of a resumed W&B or SwanLab run), in the order they appear."""
    from logscope.ingest import formats
    from logscope.ingest.base import ReadOptions
    from logscope.run import build_run

    options = options or ReadOptions()
    if found.part is not None:  # one run of a file that holds several
        return _read_part(found, base, progress)
    parts: list[Ingested] = []
    together: dict[str, list[tuple[Path, str]]] = {}
    for file, name in found.files:
        fmt = formats.get(name)
        if fmt.read_together is not None:
            together.setdefault(name, []).append((file, _display(file, base)))
        elif fmt.read is not None:
            parts.append(fmt.read(file, _display(file, base), progress))
    for name, files in together.items():
        read = formats.get(name).read_together
        assert read is not None
        parts += read(found.root, files, progress, options)
    run = build_run(_display(found.root, base), parts)
    run.notes.extend(found.notes)
    return run


def _read_part(found: RunFiles, base: Path, progress: Progress | None) -> Run:
    from logscope.ingest import formats
    from logscope.run import build_run

    assert found.part is not None
    name = f"{_display(found.root, base)} [{found.part}]"
    parts = []
    for file, kind in found.files:
        read_part = formats.get(kind).read_part
        assert read_part is not None
        parts.append(read_part(file, name, found.part, progress))
    run = build_run(name, parts)
    run.notes.extend(found.notes)
    return run


def read_run(
    path: str | Path, progress: Progress | None = None, options: ReadOptions | None = None
) -> Run:
    """Exactly one run (the library entry point `logscope.read`)."""
    runs = read_runs(path, progress, options)
    if len(runs) > 1:
        names = ", ".join(r.path for r in runs)
        raise InputError(
            f"{path}: holds {len(runs)} runs ({names}); "
            "read one of them, or all with logscope.read_runs"
        )
    return runs[0]


def _display(file: Path, base: Path) -> str:
    """Paths as the user typed them, so messages and reports name what they can open."""
    from logscope.ingest.stream import shown_as

    if (stream := shown_as(file)) is not None:  # the private copy of a piped log
        return stream
    if file == base:
        return str(base)
    text, under = str(file), str(base)
    if text.startswith(under) and text[len(under) : len(under) + 1] == os.sep:
        return text  # already base / its path below base (the common case: no pathlib)
    try:
        return str(base / file.relative_to(base))
    except ValueError:
        return str(file)
