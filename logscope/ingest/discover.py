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
when they hold `step:N - key:value` lines, and join the run of their folder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from logscope.errors import InputError
from logscope.ingest import stream, textfile, trainer_state, walk

_SAME_RUN_DIRS = re.compile(r"^(checkpoint-\d+|logs?|metrics|global_step_?\d+)$")
_CHECKPOINT = re.compile(r"^checkpoint-\d+$")
# sub-folders whose event files are one split of the run above them (Keras, Lightning, HF)
SPLITS = frozenset(
    {"train", "training", "eval", "evaluation", "validation", "val", "valid", "test"}
)
# torch / Hugging Face default log dir: runs/<%b%d_%H-%M-%S>_<hostname><comment>
_SESSION = re.compile(r"^[A-Za-z]{3}\d{2}_\d{2}-\d{2}-\d{2}_")
_TIMESTAMP = re.compile(r"tfevents\.(\d{10,})")
_SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", "latest-run"}


@dataclass
class RunFiles:
    """The files of one logical run, and what discovery decided to leave out."""

    root: Path
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path, format)
    notes: list[str] = field(default_factory=list)
    part: str | None = None  # one run of a file that holds several (a W&B chart export)


def sniff(path: Path) -> str | None:
    """The format of a single file, judged from its name."""
    if path.suffix in textfile.SUFFIXES:  # metrics.jsonl.gz: a compressed text log
        return textfile.sniff_compressed(path)
    if "tfevents" in path.name:  # TensorBoard's own test (hostnames have dots; TF2 adds .v2)
        return "tensorboard"
    if path.name == "trainer_state.json":
        return "trainer_state"
    if path.suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if path.suffix == ".wandb":
        return "wandb"
    if path.suffix in (".csv", ".parquet"):
        return path.suffix[1:]
    return _sniff_more(path)


def _sniff_more(path: Path) -> str | None:
    """MLflow run folders (their meta.yaml), tracker databases, veRL console logs: judged
    from their content, so once per file version (discovery asks about a file several times)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _sniff_content(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=8192)
def _sniff_content(path: Path, size: int, mtime_ns: int) -> str | None:
    from logscope.ingest import mlflow_files, verl_console

    if path.name == "meta.yaml":
        return mlflow_files.FORMAT if mlflow_files.is_run_folder(path.parent) else None
    if path.suffix.lower() in _DATABASES:
        from logscope.ingest import mlflow_sqlite, sqlitedb  # sqlite3 only when needed

        kind = sqlitedb.kind(path)
        if kind == "trackio":
            return "trackio"
        return mlflow_sqlite.FORMAT if kind or path.name in mlflow_sqlite.NAMES else None
    if path.suffix in verl_console.SUFFIXES or path.name.startswith("slurm-"):
        return verl_console.FORMAT if verl_console.looks_like(path) else None
    return None


def discover(path: Path) -> list[RunFiles]:
    """Runs under `path`; InputError when it is missing or holds no log at all."""
    if stream.is_stream(path):  # `-`, a pipe, a FIFO, a device: not a file or a folder
        return stream.runs(path)
    if not path.exists():
        part = _named_part(path)
        if part:
            return part
        if store := _store_run(path):
            return [store]
        raise InputError(f"{path}: no such file or folder")
    if path.is_file():
        fmt = sniff(path) or _fallback(path)
        if fmt in STORES:
            return _store_runs(path, fmt)
        return _export_runs(path) or [
            RunFiles(path.parent if fmt == "trainer_state" else path, [(path, fmt)])
        ]
    groups: dict[Path, list[Path]] = {}
    skipped: list[walk.Skipped] = []
    files = _log_files(path, skipped)
    events_here = any(f.parent == path and sniff(f) == "tensorboard" for f in files)
    hf_output = _is_hf_output(path)
    wandb_roots = _wandb_roots(files, path)
    exports = [run for file in files for run in _export_runs(file)]
    files = [f for f in files if not any(run.root == f for run in exports)]
    for file in files:
        root = wandb_roots.get(file) or _run_root(file, path, events_here, hf_output)
        groups.setdefault(root, []).append(file)
    stores = _take_stores(groups)
    if not groups and not exports and not stores:
        raise InputError(
            walk.describe(skipped)
            + f"{path}: no training log found (looked for *.jsonl, logging.jsonl, "
            "trainer_state.json, events.out.tfevents.*, wandb/run-*/run-*.wandb, "
            "CSV/Parquet with a step column, MLflow mlruns/ and mlflow.db, trackio *.db, "
            "veRL console *.log/*.out/*.txt)"
        )
    runs = [_select(root, files) for root, files in sorted(groups.items())] + exports + stores
    return walk.attach(skipped, runs)


def _log_files(folder: Path, notes: list[walk.Skipped] | None = None) -> list[Path]:
    found = []
    files, skipped = walk.files(folder)  # symlinked folders followed, unreadable ones noted
    if notes is not None:
        notes.extend(skipped)
    for file in files:
        rel = file.relative_to(folder).parts
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel[:-1]):
            continue
        if sniff(file) and _wanted_in_wandb_folder(file, rel):
            if sniff(file) in ("csv", "parquet") and not _table_log(file):
                continue
            found.append(file)
    return found


def _table_log(file: Path) -> bool:
    """A CSV/Parquet file in a folder is a log only with a step column or as a W&B export
    (a dataset or results table next to the logs is not)."""
    from logscope.ingest import table, wandb_export

    return table.looks_like_log(file) or bool(wandb_export.run_names(file))


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
    """A W&B chart export holds several runs: one RunFiles per run name."""
    if sniff(file) != "csv":
        return []
    from logscope.ingest import wandb_export

    fmt = wandb_export.FORMAT
    return [RunFiles(file, [(file, fmt)], part=name) for name in wandb_export.run_names(file)]


def _wanted_in_wandb_folder(file: Path, rel: tuple[str, ...]) -> bool:
    """Inside `wandb/` and W&B run folders only `.wandb` logs count (W&B's `files/` hold
    copies: output.log is the console, an old client's wandb-history.jsonl the history)."""
    from logscope.ingest.wandb_log import RUN_FOLDER

    in_wandb = any(part == "wandb" for part in rel[:-1])
    # a run folder also when it is the folder given (`check wandb/run-.../`) or above it
    in_run = any(RUN_FOLDER.match(part) for part in file.resolve().parent.parts)
    return not (in_wandb or in_run) or sniff(file) == "wandb"


def _wandb_roots(files: list[Path], base: Path) -> dict[Path, Path]:
    """Each W&B run id is one run; a resumed run's later folders join its first folder."""
    from logscope.ingest.wandb_log import run_id

    roots: dict[Path, Path] = {}
    first: dict[tuple[Path, str], Path] = {}
    for file in files:  # sorted: run-<date>_<time>-<id> folders in the order they started
        if sniff(file) != "wandb" or file.parent == base:
            continue
        folder = file.parent
        roots[file] = first.setdefault((folder.parent, run_id(file)), folder)
    return roots


def _run_root(file: Path, base: Path, events_here: bool, hf_output: bool) -> Path:
    parts = file.relative_to(base).parts
    if sniff(file) == "mlflow_files":  # mlruns/<experiment>/<run>/meta.yaml: its own run
        return file.parent
    if "artifacts" in parts[:-1]:  # a log saved as an MLflow artifact belongs to that run
        from logscope.ingest import mlflow_files

        run = base.joinpath(*parts[: parts.index("artifacts")])
        if mlflow_files.is_run_folder(run):
            return run
    if len(parts) == 1 or _SAME_RUN_DIRS.match(parts[0]):
        return base
    if sniff(file) == "tensorboard" and (
        events_here or parts[0] in SPLITS or (hf_output and parts[0] == "runs")
    ):
        return base
    return base / parts[0]


def _is_hf_output(folder: Path) -> bool:
    """A Hugging Face output dir: trainer_state.json or checkpoint-N/ at its top."""
    if (folder / "trainer_state.json").is_file():
        return True
    return any(p.is_dir() and _CHECKPOINT.match(p.name) for p in folder.iterdir())


def _select(root: Path, files: list[Path]) -> RunFiles:
    """Keep every JSONL and table file, the most complete trainer_state.json, all event files
    and W&B logs."""
    run = RunFiles(root)
    states = [f for f in files if sniff(f) == "trainer_state"]
    run.files = [(f, fmt) for f in files if (fmt := sniff(f) or "") in ("jsonl", "csv", "parquet")]
    events = sorted((f for f in files if sniff(f) == "tensorboard"), key=_written)
    if states:
        # the highest global_step wins; on a tie the copy nearest the root (saved last)
        best = max(states, key=lambda f: (trainer_state.global_step(f), -len(f.parts)))
        run.files.append((best, "trainer_state"))
        if len(states) > 1:
            run.notes.append(
                f"read {best.relative_to(root)} (most complete of {len(states)} "
                "trainer_state.json copies); the others repeat its history"
            )
    run.files.extend((f, "tensorboard") for f in events)
    wandb = [f for f in files if sniff(f) == "wandb"]
    run.files.extend((f, "wandb") for f in wandb)
    if len(wandb) > 1:
        run.notes.append(f"{len(wandb)} W&B folders of one run id (a resumed run) read as one run")
    others = [(f, kind) for f in files if (kind := sniff(f) or "") in _OTHERS]
    # a resumed job's logs in the order they were written: slurm-999.out before slurm-1000.out
    run.files.extend(sorted(others, key=lambda pair: _natural(pair[0])))
    return run


def _natural(path: Path) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def _written(path: Path) -> tuple[int, str]:
    """Event files in the order they were started: the writer's 10-digit timestamp."""
    found = _TIMESTAMP.search(path.name)
    return (int(found.group(1)) if found else 0, str(path))


def event_prefixes(root: Path, files: list[Path]) -> dict[Path, str]:
    """The tag prefix of each event file of one run, so that series stay apart.

    A file's prefix is its folder relative to the run: `train/`, `validation/`, or the
    `loss_train/` folder torch's add_scalars writes per key. Not part of it: everything up
    to a torch/HF session folder (`runs/Nov22_10-00-00_host/`, so a resumed HF run's two
    session folders share their tags), and leading folders all files share (`tensorboard_log/
    project/experiment/`), unless they are split names (train, eval, validation, ...).
    """
    base = root if root.is_dir() else root.parent
    folders: dict[Path, tuple[str, ...]] = {}
    for file in files:
        parts = file.parent.relative_to(base).parts
        sessions = [i for i, part in enumerate(parts) if _SESSION.match(part)]
        folders[file] = parts[sessions[-1] + 1 :] if sessions else parts
    shared = 0
    first = next(iter(folders.values()), ())
    while (
        shared < len(first)
        and first[shared] not in SPLITS
        and all(len(p) > shared and p[shared] == first[shared] for p in folders.values())
    ):
        shared += 1
    return {file: "".join(f"{part}/" for part in parts[shared:]) for file, parts in folders.items()}


# one file or folder per run, read by their own module
_OTHERS = ("mlflow_files", "verl_console")
# one file holding many runs: each run becomes `store.db/<run name or id>`
STORES = ("mlflow_sqlite", "trackio")
_DATABASES = (".db", ".sqlite", ".sqlite3")  # sqlitedb.SUFFIXES, without importing sqlite3


def _fallback(path: Path) -> str:
    """The reader for a file named on the command line that no sniff recognised; it says
    what is wrong with the file."""
    from logscope.ingest import verl_console

    if path.suffix.lower() in _DATABASES:
        return "mlflow_sqlite"
    if path.suffix in verl_console.SUFFIXES or path.name.startswith("slurm-"):
        try:
            with path.open("rb") as handle:
                head = handle.read(4096).lstrip()
        except OSError:
            return verl_console.FORMAT  # its reader reports why the file cannot be read
        return "jsonl" if head.startswith(b"{") else verl_console.FORMAT
    return "jsonl"


def _take_stores(groups: dict[Path, list[Path]]) -> list[RunFiles]:
    """Remove tracker databases from the folder groups; one RunFiles per run they hold."""
    found = []
    for root in list(groups):
        stores = [(f, fmt) for f in groups[root] if (fmt := sniff(f)) in STORES]
        for file, fmt in stores:
            groups[root].remove(file)
            found.extend(_store_runs(file, fmt))
        if not groups[root]:
            del groups[root]
    return found


def _store_runs(file: Path, fmt: str) -> list[RunFiles]:
    """Each run of a tracker database as `file/<selector>`; the file itself when it lists
    none (its reader then reports why)."""
    import sqlite3

    from logscope.ingest import mlflow_sqlite, sqlitedb, trackio

    lister = mlflow_sqlite.runs if fmt == mlflow_sqlite.FORMAT else trackio.runs
    try:
        selectors, notes = sqlitedb.retrying(lambda: lister(file))
    except sqlite3.Error:
        selectors, notes = [], []
    if not selectors:
        return [RunFiles(file, [(file, fmt)], notes)]
    runs = [RunFiles(file / sel, [(file / sel, fmt)]) for sel, _ in selectors]
    runs[0].notes.extend(notes)
    return runs


def _store_run(path: Path) -> RunFiles | None:
    """`store.db/<run>`: one run of a tracker database named on the command line."""
    from logscope.ingest import sqlitedb

    database, selector = sqlitedb.split(path)
    if selector is None:
        return None
    fmt = sniff(database) or _fallback(database)
    return RunFiles(path, [(path, fmt)]) if fmt in STORES else None
