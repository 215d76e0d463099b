"""Which files in a path are logs, and which of them belong to the same run.

A folder whose logs sit at its top (or in `logs/`, `checkpoint-*/`) is one run. A folder
whose logs sit only in sub-folders (`runs/a/`, `runs/b/`, or `sample_logs/`) holds one run
per sub-folder. Hugging Face writes `trainer_state.json` into every `checkpoint-*/` as well
as the output root; each copy holds the full history up to its step, so only the most
complete copy is read.

TensorBoard event files (any name containing `tfevents`) join the run of the folder that
holds them, also from `train/`, `eval/`, `validation/` sub-folders, from `add_scalars`
sub-folders of a folder that has event files itself, and, in a Hugging Face output dir,
from `runs/<date>_<host>/` (its logging_dir). `logscope check runs/` on a folder of
TensorBoard runs still gives one run per sub-folder.

W&B: each run id under `wandb/` is one run (a resumed run's folders, same id, merge);
inside W&B folders only the `.wandb` logs count. A W&B chart export (`<run> - <metric>`
columns) gives one run per exported run (RunFiles.part); other CSV/Parquet files count only
when they have a step column.

Each MLflow run folder (`mlruns/<experiment>/<run>/`, found by its meta.yaml) is a run of
its own. A tracker database (MLflow's `mlflow.db`, a trackio `<project>.db`) holds many
runs: each becomes a run named `store.db/<run name or id>`, a path that can also be given
on the command line. veRL console logs (`*.log`, `*.out`, `*.txt`, `slurm-*`) count only
when they hold `step:N - key:value` lines, and join the run of their folder.

SwanLab: each run id under `swanlog/` is one run, as for W&B (`run-<time>-<id>/run-<id>.swanlab`).

Which format a file is, and how its files group, is each format's record (formats.py);
this module applies the records to a folder."""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from logscope.errors import InputError
from logscope.ingest import formats, stream, textfile, walk
from logscope.ingest.eventdirs import SPLITS, event_prefixes
from logscope.ingest.formats import Format

_SAME_RUN_DIRS = re.compile(r"^(checkpoint-\d+|logs?|metrics|global_step_?\d+)$")
_CHECKPOINT = re.compile(r"^checkpoint-\d+$")


@dataclass
class RunFiles:
    """The files of one logical run, and what discovery decided to leave out."""

    root: Path
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path, format)
    notes: list[str] = field(default_factory=list)
    part: str | None = None  # one run of a file that holds several (a W&B chart export)


def sniff(path: Path) -> str | None:
    """The format of a single file: the first record whose name test claims it, and whose
    content test (when it has one) agrees. A compressed text log is judged by the name
    inside it (`metrics.jsonl.gz` is JSON Lines), and so is a logrotate copy
    (`metrics.jsonl.1`) that no format claims by its own name."""
    if path.suffix in textfile.SUFFIXES:
        return _sniff_compressed(path)
    named = _named(path)
    if named is not None:
        return named
    found = _sniff_more(path)
    if found is None and textfile.is_rotated(path):
        return _sniff_compressed(path)
    return found


@lru_cache(maxsize=1 << 15)
def _named(path: Path) -> str | None:
    """The first format that claims a file by its name alone (FORMATS is fixed): discovery
    asks several times about each of a sweep's files."""
    for fmt in formats.FORMATS:
        if fmt.looks_like is None and fmt.claims(path):
            return fmt.name
    return None


def _format(path: Path) -> Format | None:
    memo = _SNIFFED.get()
    if memo is not None and (known := memo.get(path, _UNKNOWN)) is not _UNKNOWN:
        return known  # type: ignore[return-value]
    name = sniff(path)
    found = None if name is None else formats.get(name)
    if memo is not None:
        memo[path] = found
    return found


# each file's format, for the length of one `discover` call: it asks about each file
# ~7 times (0.35 s of a 10^4-run sweep's discovery); not longer, as files change
_UNKNOWN = object()
_SNIFFED: ContextVar[dict[Path, Format | None] | None] = ContextVar("sniffed", default=None)


def _sniff_more(path: Path) -> str | None:
    """Formats judged from their content (MLflow run folders, tracker databases, veRL
    console logs): once per file version (discovery asks about a file several times)."""
    if not any(f.looks_like is not None and f.claims(path) for f in formats.FORMATS):
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return _sniff_content(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=8192)
def _sniff_content(path: Path, size: int, mtime_ns: int) -> str | None:
    for fmt in formats.FORMATS:
        if fmt.looks_like is not None and fmt.claims(path) and fmt.looks_like(path):
            return fmt.name
    return None


def discover(path: Path) -> list[RunFiles]:
    """Runs under `path`; InputError when it is missing or holds no log at all."""
    token = _SNIFFED.set({})
    try:
        return _discover(path)
    finally:
        _SNIFFED.reset(token)


def _discover(path: Path) -> list[RunFiles]:
    if stream.is_stream(path):  # `-`, a pipe, a FIFO, a device: not a file or a folder
        private, kind = stream.copy(path)
        return [RunFiles(path, [(private, kind)])]
    if not path.exists():
        part = _named_part(path)
        if part:
            return part
        if store := _store_run(path):
            return [store]
        raise InputError(f"{path}: no such file or folder")
    if path.is_file():
        fmt = _format(path) or _fallback(path)
        if fmt.grouping == "store":
            return _store_runs(path, fmt)
        return _export_runs(path) or [
            RunFiles(path.parent if fmt.names_its_folder else path, [(path, fmt.name)])
        ]
    groups: dict[Path, list[Path]] = {}
    skipped: list[walk.Skipped] = []
    files = _log_files(path, skipped)
    events_here = any(f.parent == path and _grouping(f) == "events" for f in files)
    hf_output = _is_hf_output(path)
    id_roots = _run_id_roots(files, path)
    exports = [run for file in files for run in _export_runs(file)]
    files = [f for f in files if not any(run.root == f for run in exports)]
    for file in files:
        root = id_roots.get(file) or _run_root(file, path, events_here, hf_output)
        groups.setdefault(root, []).append(file)
    stores = _take_stores(groups)
    if not groups and not exports and not stores:
        raise InputError(
            walk.describe(skipped)
            + f"{path}: no training log found (looked for {formats.looked_for()})"
        )
    runs = [_select(root, files) for root, files in sorted(groups.items())] + exports + stores
    return walk.attach(skipped, runs)


def _grouping(file: Path) -> str | None:
    fmt = _format(file)
    return None if fmt is None else fmt.grouping


def _log_files(folder: Path, notes: list[walk.Skipped] | None = None) -> list[Path]:
    found = []
    files, skipped, links = walk.walk(folder)  # symlinked folders followed, unreadable noted
    if notes is not None:
        notes.extend(skipped)
    real: dict[Path, tuple[str, ...]] = {}  # this walk's folders, resolved
    # no link below `folder`: a file's real folder is the folder's, then its path below it
    base = None if links else folder.resolve().parts
    depth = len(folder.parts)
    for file in files:  # regular files, or links to them (walk looked): below `folder`
        rel = file.parts[depth:]
        if any(part in walk.SKIP_DIRS or part.startswith(".") for part in rel[:-1]):
            continue
        fmt = _format(file)
        if fmt is None or not _wanted_in_tracker_folder(file, rel, fmt, base, real, links):
            continue
        if fmt.keeps is not None and not fmt.keeps(file):
            continue
        found.append(file)
    return found


def _named_part(path: Path) -> list[RunFiles]:
    """`export.csv [run name]`, as reports name one run of a W&B chart export."""
    found = re.match(r"^(?P<file>.+) \[(?P<name>.+)\]$", str(path))
    if not found or not Path(found["file"]).is_file():
        return []
    runs = [r for r in _export_runs(Path(found["file"])) if r.part == found["name"]]
    if not runs:
        raise InputError(f"{found['file']}: holds no run named {found['name']!r}")
    return runs


def _export_runs(file: Path) -> list[RunFiles]:
    """A file that holds several runs (a W&B chart export): one RunFiles per run name."""
    fmt = _format(file)
    if fmt is None or fmt.parts is None or fmt.part_format is None:
        return []
    kind = fmt.part_format
    return [RunFiles(file, [(file, kind)], part=name) for name in fmt.parts(file)]


def _wanted_in_tracker_folder(
    file: Path,
    rel: tuple[str, ...],
    fmt: Format,
    base: tuple[str, ...] | None,
    real: dict[Path, tuple[str, ...]],
    links: set[Path],
) -> bool:
    """Inside a tracker's home (`wandb/`, `swanlog/`) and its run folders only its own logs
    count (W&B's `files/` hold copies: output.log is the console, an old client's
    wandb-history.jsonl the history; SwanLab's `media/` and `debug/` hold text files).
    `rel`: the file's path below the folder discovered; `base`: that folder's real parts
    when the walk met no link (else each file's real folder is looked up: `_real_folder`)."""
    if fmt.grouping == "run_id":
        return True
    homes = _tracker_homes()
    if any(part in homes for part in rel[:-1]):
        return False
    # a run folder also when it is the folder given (`check wandb/run-.../`) or above it
    folders = base + rel[:-1] if base is not None else _real_folder(file, real, links)
    return not any(map(_is_tracker_run_folder, folders))


@lru_cache(maxsize=1)
def _tracker_homes() -> frozenset[str | None]:
    return frozenset(f.home for f in formats.with_grouping("run_id"))


@lru_cache(maxsize=1 << 12)
def _is_tracker_run_folder(name: str) -> bool:
    """A folder named as a tracker names a run's folder (`run-<time>-<id>`); by name, so
    each name is matched once however many files sit below it."""
    return any(
        f.run_folder is not None and f.run_folder.match(name) is not None
        for f in formats.with_grouping("run_id")
    )


def _real_folder(
    file: Path, real: dict[Path, tuple[str, ...]], links: set[Path] | None = None
) -> tuple[str, ...]:
    """`file.resolve().parent.parts`: one lstat per file and per new folder (`real` keeps
    the folders resolved so far), not one per component of every file's path: a sweep's
    discovery asks for ten thousand files. `links`: the links among the files and folders
    of a walk (walk.walk); inside it whether a path is a link is known without a system
    call, so only the folder walked and those above it are looked at."""
    if file.is_symlink() if links is None else file in links:
        return file.resolve().parent.parts
    return _real_dir(file.parent, real, links)


def _real_dir(
    folder: Path, real: dict[Path, tuple[str, ...]], links: set[Path] | None
) -> tuple[str, ...]:
    known = real.get(folder)
    if known is None:
        parent = folder.parent
        if parent == folder or folder.name in ("", ".", "..") or _is_link(folder, real, links):
            known = folder.resolve().parts
        else:
            known = (*_real_dir(parent, real, links), folder.name)
        real[folder] = known
    return known


def _is_link(folder: Path, real: dict[Path, tuple[str, ...]], links: set[Path] | None) -> bool:
    """Whether a folder is a link: known from the walk for a folder below one already
    resolved (its parent is in `real`), else looked at."""
    if links is not None and folder.parent in real:
        return folder in links
    return folder.is_symlink()


def _run_id_roots(files: list[Path], base: Path) -> dict[Path, Path]:
    """Each tracker run id is one run; a resumed run's later folders join its first folder."""
    roots: dict[Path, Path] = {}
    first: dict[tuple[Path, str, str], Path] = {}
    for file in files:  # sorted: run-<date>_<time>-<id> folders in the order they started
        fmt = _format(file)
        if fmt is None or fmt.run_id is None or file.parent == base:
            continue
        folder = file.parent
        roots[file] = first.setdefault((folder.parent, fmt.name, fmt.run_id(file)), folder)
    return roots


def _run_root(file: Path, base: Path, events_here: bool, hf_output: bool) -> Path:
    parts = file.parts[len(base.parts) :]  # a file the walk found below `base`
    grouping = _grouping(file)
    if grouping == "own_folder":  # mlruns/<experiment>/<run>/meta.yaml: its own run
        return file.parent
    if "artifacts" in parts[:-1]:  # a log saved as a tracker's artifact belongs to that run
        run = base.joinpath(*parts[: parts.index("artifacts")])
        for fmt in formats.with_grouping("own_folder"):
            if fmt.is_run_folder is not None and fmt.is_run_folder(run):
                return run
    if len(parts) == 1 or _SAME_RUN_DIRS.match(parts[0]):
        return base
    if grouping == "events" and (
        events_here or parts[0] in SPLITS or (hf_output and parts[0] == "runs")
    ):
        return base
    return base / parts[0]


def _is_hf_output(folder: Path) -> bool:
    """A Hugging Face output dir: trainer_state.json or checkpoint-N/ at its top."""
    if (folder / "trainer_state.json").is_file():
        return True
    return any(_CHECKPOINT.match(p.name) and p.is_dir() for p in folder.iterdir())


def _select(root: Path, files: list[Path]) -> RunFiles:
    """The run's files in each format's rank: all of them, except where copies repeat one
    history (trainer_state.json in every checkpoint-*/): there the most complete copy."""
    run = RunFiles(root)
    by_format: dict[str, list[Path]] = {}
    for file in files:
        if (fmt := _format(file)) is not None:
            by_format.setdefault(fmt.name, []).append(file)
    kept: set[Path] = set()
    for name, found in by_format.items():
        fmt = formats.get(name)
        if fmt.best_copy is not None:
            found = [_best_copy(root, fmt, found, run.notes)]
        elif fmt.grouping == "run_id" and len(found) > 1:
            run.notes.append(
                f"{len(found)} {fmt.label} folders of one run id (a resumed run) read as one run"
            )
        kept.update(found)
    chosen = [(fmt, f) for f in files if f in kept and (fmt := _format(f)) is not None]
    chosen.sort(key=_placement)  # stable: path order among equals
    run.files = [(f, fmt.name) for fmt, f in chosen]
    return run


def _placement(pair: tuple[Format, Path]) -> tuple[int, object]:
    fmt, file = pair
    return fmt.rank, fmt.order(file) if fmt.order is not None else 0


def _best_copy(root: Path, fmt: Format, copies: list[Path], notes: list[str]) -> Path:
    """The highest key wins (a trainer_state.json's global_step); on a tie the copy nearest
    the root (saved last)."""
    assert fmt.best_copy is not None
    key = fmt.best_copy
    best = max(copies, key=lambda f: (key(f), -len(f.parts)))
    if len(copies) > 1:
        notes.append(
            f"read {best.relative_to(root)} (most complete of {len(copies)} "
            f"{best.name} copies); the others repeat its history"
        )
    return best


def tag_prefixes(found: RunFiles) -> dict[Path, str]:
    """The series-name prefix of each file of a run whose format asks for one."""
    tagged = [f for f, name in found.files if formats.get(name).tag_prefixes]
    return event_prefixes(found.root, tagged) if tagged else {}


def _sniff_compressed(path: Path) -> str | None:
    """The format of a compressed or rotated text log, from the name inside (and, for a
    console log, its content): `metrics.jsonl.gz` is JSONL, `train.log.1` a veRL console
    log."""
    from logscope.ingest import verl_console

    inner = textfile.inner_name(path).suffix
    if inner in (".jsonl", ".ndjson"):
        return "jsonl"
    if inner == ".csv":
        return "csv"
    if inner in verl_console.SUFFIXES and verl_console.looks_like(path):
        return verl_console.FORMAT
    return None


def _fallback(path: Path) -> Format:
    """The reader for a file named on the command line that no format recognised: the
    first whose name test claims it and that accepts such a file (its reader says what is
    wrong with it), else JSON Lines."""
    for fmt in formats.FORMATS:
        if fmt.fallback is not None and fmt.claims(path):
            return fmt if fmt.fallback(path) else formats.DEFAULT
    return formats.DEFAULT


def _take_stores(groups: dict[Path, list[Path]]) -> list[RunFiles]:
    """Remove tracker databases from the folder groups; one RunFiles per run they hold."""
    found = []
    for root in list(groups):
        stores = [(f, fmt) for f in groups[root] if (fmt := _format(f)) and fmt.grouping == "store"]
        for file, fmt in stores:
            groups[root].remove(file)
            found.extend(_store_runs(file, fmt))
        if not groups[root]:
            del groups[root]
    return found


def _store_runs(file: Path, fmt: Format) -> list[RunFiles]:
    """Each run of a tracker database as `file/<selector>`; the file itself when it lists
    none (its reader then reports why)."""
    import sqlite3

    from logscope.ingest import sqlitedb

    assert fmt.runs is not None
    lister = fmt.runs
    try:
        selectors, notes = sqlitedb.retrying(lambda: lister(file))
    except sqlite3.Error:
        selectors, notes = [], []
    if not selectors:
        return [RunFiles(file, [(file, fmt.name)], notes)]
    runs = [RunFiles(file / sel, [(file / sel, fmt.name)]) for sel, _ in selectors]
    runs[0].notes.extend(notes)
    return runs


def _store_run(path: Path) -> RunFiles | None:
    """`store.db/<run>`: one run of a tracker database named on the command line."""
    from logscope.ingest import sqlitedb

    database, selector = sqlitedb.split(path)
    if selector is None:
        return None
    fmt = _format(database) or _fallback(database)
    return RunFiles(path, [(path, fmt.name)]) if fmt.grouping == "store" else None
