"""Ingesters: one module per log format, and `read_runs` that ties discovery to them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ReadOptions:
    """How to read formats that offer a choice.

    tensorboard_purge: apply TensorBoard's own restart purge (see ingest/tensorboard.py)
    instead of "later write wins per (tag, step)", to reproduce what TensorBoard shows.
    check_crc: verify TensorBoard record CRCs (skipping saves one C call per record).
    """

    tensorboard_purge: bool = False
    check_crc: bool = True


def _readers() -> Mapping[str, Reader]:
    from logscope.ingest import (
        jsonl,
        mlflow_files,
        mlflow_sqlite,
        table,
        tensorboard,
        trackio,
        trainer_state,
        verl_console,
        wandb_log,
    )

    return MappingProxyType(
        {
            "jsonl": jsonl.read,
            "trainer_state": trainer_state.read,
            "tensorboard": tensorboard.read,
            wandb_log.FORMAT: wandb_log.read,
            table.CSV: table.read_csv,
            table.PARQUET: table.read_parquet,
            mlflow_files.FORMAT: mlflow_files.read,
            mlflow_sqlite.FORMAT: mlflow_sqlite.read,
            trackio.FORMAT: trackio.read,
            verl_console.FORMAT: verl_console.read,
        }
    )


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

    Event files are read together (tensorboard.read_files): a restart or TensorBoard's
    purge can span files, and files in sub-folders get their folder as a tag prefix."""
    from logscope.ingest import tensorboard, wandb_log
    from logscope.ingest.discover import event_prefixes
    from logscope.run import build_run

    options = options or ReadOptions()
    if found.part is not None:  # one run of a W&B chart export
        return _read_part(found, base, progress)
    readers = _readers()
    parts = [
        readers[fmt](file, _display(file, base), progress)
        for file, fmt in found.files
        if fmt not in (tensorboard.FORMAT, wandb_log.FORMAT)
    ]
    # the folders of one W&B run id (a resumed run starts a new folder) are read together
    folders = [(file, _display(file, base)) for file, fmt in found.files if fmt == wandb_log.FORMAT]
    if folders:
        parts += wandb_log.read_files(folders, progress)
    events = [file for file, fmt in found.files if fmt == tensorboard.FORMAT]
    if events:
        prefixes = event_prefixes(found.root, events)
        sources = [tensorboard.EventFile(f, _display(f, base), prefixes[f]) for f in events]
        parts += tensorboard.read_files(
            sources, progress, purge=options.tensorboard_purge, verify=options.check_crc
        )
    run = build_run(_display(found.root, base), parts)
    run.notes.extend(found.notes)
    return run


def _read_part(found: RunFiles, base: Path, progress: Progress | None) -> Run:
    from logscope.ingest import wandb_export
    from logscope.run import build_run

    assert found.part is not None
    name = f"{_display(found.root, base)} [{found.part}]"
    parts = [wandb_export.read_part(file, name, found.part, progress) for file, _ in found.files]
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
    try:
        return str(base / file.relative_to(base))
    except ValueError:
        return str(file)
