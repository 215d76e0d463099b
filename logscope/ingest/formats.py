"""Every input format, declared once: how a file is recognised, read, grouped into runs,
which copy wins, and how `tail --follow` follows it.

Discovery (discover.py), reading (`logscope.ingest.read_found`) and following
(follow/sources.py, follow/watch.py) ask these records; no other module compares format
names. Adding a format is one reader module, one line in FORMATS, and its tests.

A record names its reader functions as `module:function` strings, imported on first use:
listing every format costs nothing at start-up, and a format's dependencies (sqlite3, numpy)
load only when a file of it is met.

Run grouping (`grouping`):
- "folder": the file joins the run of the folder that holds it (or of the folder above a
  `logs/`, `checkpoint-*/` folder); discovery decides in discover.py.
- "events": as "folder", and split sub-folders (`train/`, `eval/`, HF's `runs/<session>/`)
  join the folder above: TensorBoard writes one folder per split of one run.
- "own_folder": the file's folder is a run of its own (an MLflow run folder), and logs saved
  under its `artifacts/` belong to it.
- "run_id": each run id is one run, and the later folders of a resumed run (same id) join
  the first one; inside the tracker's home folder (`wandb/`, `swanlog/`) and its run folders
  only files of such formats count (the rest are the tracker's own copies).
- "store": one file holds many runs, each named `file/<run>` (tracker databases).

Following (`follow`): "lines" and "tfrecords" read appended bytes from an offset
(follow/sources.py holds one incremental reader per kind); "snapshot" re-reads the file with
its batch reader whenever the size or mtime of what its writer touches (`watched`) changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from logscope.ingest.base import Ingested, Progress, ReadOptions

Grouping = Literal["folder", "events", "own_folder", "run_id", "store"]
Follow = Literal["lines", "tfrecords", "snapshot"]
# read_together(run root, [(file, display name)], progress, options) -> one Ingested per file
ReadTogether = Callable[
    [Path, "list[tuple[Path, str]]", "Progress | None", "ReadOptions"], "list[Ingested]"
]
DATABASES = (".db", ".sqlite3", ".sqlite")  # sqlitedb.SUFFIXES, without importing sqlite3
CONSOLE = (".log", ".out", ".txt", ".err")  # verl_console.SUFFIXES, without importing it


def lazy(target: str) -> Callable[..., Any]:
    """`module:function`, imported when first called."""
    module, _, name = target.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(module), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = target
    return call


def never(_: Path) -> bool:
    return False


@dataclass(frozen=True, kw_only=True)
class Format:
    """One input format (see the module docstring for grouping and follow)."""

    name: str  # as reports show it (`sources[].format`)
    looked_for: str  # how "no training log found" describes it ("" when a peer says it)
    claims: Callable[[Path], bool]  # judged from the name alone: discovery asks often
    looks_like: Callable[[Path], bool] | None = None  # then from content, once per version
    read: Callable[[Path, str, Progress | None], Ingested] | None = None
    read_together: ReadTogether | None = None  # all its files of one run in one call
    grouping: Grouping = "folder"
    rank: int  # where its files sit in a run's list of files (ties keep path order)
    order: Callable[[Path], Any] | None = None  # sorts its files within the rank
    keeps: Callable[[Path], bool] | None = None  # in a folder, whether a file is a log
    best_copy: Callable[[Path], int] | None = None  # copies repeat one history: highest wins
    names_its_folder: bool = False  # given as a file, the run is named after its folder
    # run_id grouping: the tracker's home folder, its run folders, a file's run id
    home: str | None = None
    run_folder: re.Pattern[str] | None = None
    run_id: Callable[[Path], str] | None = None
    label: str = ""  # how notes name the tool ("W&B")
    # own_folder grouping: whether a folder is one of its runs
    is_run_folder: Callable[[Path], bool] | None = None
    # store grouping: (selectors with display names, notes); named on the command line, a
    # file only the name claims is still read by it (its reader says what is wrong)
    runs: Callable[[Path], tuple[list[tuple[str, str]], list[str]]] | None = None
    fallback: Callable[[Path], bool] | None = None
    # a file that can hold several runs by name (a W&B chart export): their names, and the
    # format that reads one of them
    parts: Callable[[Path], list[str]] | None = None
    part_format: str | None = None
    read_part: Callable[[Path, str, str, Progress | None], Ingested] | None = None
    follow: Follow = "snapshot"
    watched: Callable[[Path], list[Path]] | None = None  # snapshot: files its writer touches
    # said once when `tail --follow` starts following it: why points arrive in bursts (the
    # stall finding and the status line then allow for it)
    follow_note: str | None = None
    tag_prefixes: bool = False  # a file's folder within the run prefixes its series' names


def _name(*names: str) -> Callable[[Path], bool]:
    def claims(path: Path) -> bool:
        return path.name in names

    return claims


def _suffix(
    *suffixes: str, lower: bool = False, prefix: str | None = None
) -> Callable[[Path], bool]:
    def claims(path: Path) -> bool:
        suffix = path.suffix.lower() if lower else path.suffix
        return suffix in suffixes or (prefix is not None and path.name.startswith(prefix))

    return claims


def _tfevents(path: Path) -> bool:
    """TensorBoard's own test: any name containing `tfevents` (hostnames have dots; TF2
    adds `.v2`)."""
    return "tfevents" in path.name


def _mlflow_meta(path: Path) -> bool:
    return bool(lazy("logscope.ingest.mlflow_files:is_run_folder")(path.parent))


def _db_kind(path: Path) -> str | None:
    kind: str | None = lazy("logscope.ingest.sqlitedb:kind")(path)
    return kind


def _trackio(path: Path) -> bool:
    return _db_kind(path) == "trackio"


def _mlflow_db(path: Path) -> bool:
    from logscope.ingest.mlflow_sqlite import NAMES

    return bool(_db_kind(path)) or path.name in NAMES


def _not_json(path: Path) -> bool:
    """A console-log name that no step line confirmed: read as JSON Lines when it starts with
    `{`, else by the console reader (which says why nothing was found)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).lstrip()
    except OSError:
        return True  # its reader reports why the file cannot be read
    return not head.startswith(b"{")


def _always(_: Path) -> bool:
    return True


def natural(path: Path) -> list[str | int]:
    """slurm-999.out before slurm-1000.out: a resumed job's logs in the order written."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


_TIMESTAMP = re.compile(r"tfevents\.(\d{10,})")


def written(path: Path) -> tuple[int, str]:
    """Event files in the order they were started: the writer's 10-digit timestamp."""
    found = _TIMESTAMP.search(path.name)
    return (int(found.group(1)) if found else 0, str(path))


def _read_events(
    root: Path, files: list[tuple[Path, str]], progress: Progress | None, options: ReadOptions
) -> list[Ingested]:
    """A run's event files together: a restart or TensorBoard's purge can span files, and
    files in sub-folders get their folder as a tag prefix."""
    from logscope.ingest import tensorboard
    from logscope.ingest.eventdirs import event_prefixes

    prefixes = event_prefixes(root, [file for file, _ in files])
    sources = [tensorboard.EventFile(f, shown, prefixes[f]) for f, shown in files]
    return tensorboard.read_files(
        sources, progress, purge=options.tensorboard_purge, verify=options.check_crc
    )


def _together(target: str) -> ReadTogether:
    """A reader of `read_files([(file, display)], progress)`: the folders of one run id."""
    read_files = lazy(target)

    def read(
        _root: Path,
        files: list[tuple[Path, str]],
        progress: Progress | None,
        _options: ReadOptions,
    ) -> list[Ingested]:
        parts: list[Ingested] = read_files(files, progress)
        return parts

    return read


def _database_files(path: Path) -> list[Path]:
    """What SQLite touches for `store.db/<run>`: the database and its write-ahead log (a
    database in WAL mode is written there first)."""
    from logscope.ingest.sqlitedb import split

    database, _ = split(path)
    return [database, database.with_name(database.name + "-wal")]


def _mlflow_run_files(path: Path) -> list[Path]:
    """An MLflow run folder's metric files (`meta.yaml` does not change as it logs)."""
    return [path, *(f for f in (path.parent / "metrics").rglob("*") if f.is_file())]


def _table_log(path: Path) -> bool:
    """A CSV/Parquet file in a folder is a log only with a step column or as a W&B export
    (a dataset or results table next to the logs is not)."""
    from logscope.ingest import table, wandb_export

    return table.looks_like_log(path) or bool(wandb_export.run_names(path))


_RUN_FOLDER = re.compile(r"^(offline-)?run-\d{8}_\d{6}-(?P<id>[^/\\]+)$")
_TB_NOTE = (
    "following TensorBoard event files: torch's SummaryWriter flushes every 120 s by "
    "default (flush_secs), so new points may arrive in bursts up to 2 minutes apart"
)

# In the order a file is claimed: the first format whose name test (and content test, when
# it has one) accepts a file reads it. Name-only formats come first.
FORMATS: Final[tuple[Format, ...]] = (
    Format(
        name="tensorboard",
        looked_for="events.out.tfevents.*",
        claims=_tfevents,
        read=lazy("logscope.ingest.tensorboard:read"),
        read_together=_read_events,
        grouping="events",
        rank=5,
        order=written,
        follow="tfrecords",
        follow_note=_TB_NOTE,
        tag_prefixes=True,
    ),
    Format(
        name="trainer_state",
        looked_for="trainer_state.json",
        claims=_name("trainer_state.json"),
        read=lazy("logscope.ingest.trainer_state:read"),
        rank=1,
        best_copy=lazy("logscope.ingest.trainer_state:global_step"),
        names_its_folder=True,
    ),
    Format(
        name="jsonl",
        looked_for="*.jsonl, logging.jsonl",
        claims=_suffix(".jsonl", ".ndjson"),
        read=lazy("logscope.ingest.jsonl:read"),
        rank=0,
        follow="lines",
    ),
    Format(
        name="wandb",
        looked_for="wandb/run-*/run-*.wandb",
        claims=_suffix(".wandb"),
        read=lazy("logscope.ingest.wandb_log:read"),
        read_together=_together("logscope.ingest.wandb_log:read_files"),
        grouping="run_id",
        rank=2,
        home="wandb",
        run_folder=_RUN_FOLDER,
        run_id=lazy("logscope.ingest.wandb_log:run_id"),
        label="W&B",
    ),
    Format(
        name="swanlab",
        looked_for="swanlog/run-*/run-*.swanlab",
        claims=_suffix(".swanlab"),
        read=lazy("logscope.ingest.swanlab_log:read"),
        read_together=_together("logscope.ingest.swanlab_log:read_files"),
        grouping="run_id",
        rank=3,
        home="swanlog",
        run_folder=_RUN_FOLDER,
        run_id=lazy("logscope.ingest.swanlab_log:run_id"),
        label="SwanLab",
    ),
    Format(
        name="csv",
        looked_for="CSV/Parquet with a step column",
        claims=_suffix(".csv"),
        read=lazy("logscope.ingest.table:read_csv"),
        rank=0,
        keeps=_table_log,
        parts=lazy("logscope.ingest.wandb_export:run_names"),
        part_format="wandb_csv",
    ),
    Format(
        name="parquet",
        looked_for="",
        claims=_suffix(".parquet"),
        read=lazy("logscope.ingest.table:read_parquet"),
        rank=0,
        keeps=_table_log,
    ),
    Format(
        name="wandb_csv",  # one run of a W&B chart export, found through the csv format
        looked_for="",
        claims=never,
        read_part=lazy("logscope.ingest.wandb_export:read_part"),
        rank=0,
    ),
    Format(
        name="mlflow_files",
        looked_for="MLflow mlruns/ and mlflow.db",
        claims=_name("meta.yaml"),
        looks_like=_mlflow_meta,
        read=lazy("logscope.ingest.mlflow_files:read"),
        grouping="own_folder",
        rank=6,
        order=natural,
        is_run_folder=lazy("logscope.ingest.mlflow_files:is_run_folder"),
        watched=_mlflow_run_files,
    ),
    Format(
        name="trackio",
        looked_for="trackio *.db",
        claims=_suffix(*DATABASES, lower=True),
        looks_like=_trackio,
        read=lazy("logscope.ingest.trackio:read"),
        grouping="store",
        rank=7,
        runs=lazy("logscope.ingest.trackio:runs"),
        watched=_database_files,
    ),
    Format(
        name="mlflow_sqlite",
        looked_for="",
        claims=_suffix(*DATABASES, lower=True),
        looks_like=_mlflow_db,
        read=lazy("logscope.ingest.mlflow_sqlite:read"),
        grouping="store",
        rank=7,
        runs=lazy("logscope.ingest.mlflow_sqlite:runs"),
        fallback=_always,
        watched=_database_files,
    ),
    Format(
        name="verl_console",
        looked_for="veRL console *.log/*.out/*.txt",
        claims=_suffix(*CONSOLE, prefix="slurm-"),
        looks_like=lazy("logscope.ingest.verl_console:looks_like"),
        read=lazy("logscope.ingest.verl_console:read"),
        rank=6,
        order=natural,
        fallback=_not_json,
    ),
)
BY_NAME: Final[MappingProxyType[str, Format]] = MappingProxyType({f.name: f for f in FORMATS})
DEFAULT: Final = BY_NAME["jsonl"]  # what a file named on the command line is read as otherwise


def get(name: str) -> Format:
    """The record of a format name that discovery produced."""
    return BY_NAME[name]


def with_grouping(grouping: Grouping) -> Iterable[Format]:
    return (f for f in FORMATS if f.grouping == grouping)


def looked_for() -> str:
    """What discovery looks for, in the words of each record, for "no training log found"."""
    ranked = sorted((f for f in FORMATS if f.looked_for), key=lambda f: f.rank)
    return ", ".join(f.looked_for for f in ranked)
