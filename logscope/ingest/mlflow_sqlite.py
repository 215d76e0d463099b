"""MLflow SQLite store (`mlflow.db`, MLflow's default since 3.x; veRL's `/tmp/mlruns.db`).

Schema (mlflow/store/tracking/dbmodels/models.py): `metrics(key, value, timestamp, step,
is_nan, run_uuid)`, `runs(run_uuid, name, status, start_time, end_time, lifecycle_stage,
experiment_id)`, `params` / `tags(key, value, run_uuid)`, `experiments(experiment_id, name)`.
How MLflow stores what SQL cannot (checked with mlflow 3.17.2): NaN as value 0 with
`is_nan = 1`; +/-Infinity as +/-1.7976931348623157e308 (the largest double), which MLflow
itself hands back unchanged; logscope reads them as the infinities they were. A key
logged twice at one step keeps the value with the later timestamp.

Read with the standard library's sqlite3, read-only; mlflow need not be installed.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from logscope.ingest import mlflow_files, sqlitedb
from logscope.ingest.base import Ingested, ProblemLog, empty_frame

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

FORMAT = "mlflow_sqlite"
NAMES = ("mlflow.db", "mlruns.db")  # claimed even when damaged
_MAX = sys.float_info.max
_BLOCK = 100_000
_ROWS = {
    "key": pl.String,
    "value": pl.Float64,
    "timestamp": pl.Int64,
    "step": pl.Int64,
    "is_nan": pl.Int64,
}


def runs(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(selector, run_uuid) of each live run, selectors being unique run names where
    possible, plus notes on what was left out. Raises sqlite3.Error when unreadable."""
    with sqlitedb.connect(path) as connection:
        rows = connection.execute(
            "SELECT run_uuid, name, lifecycle_stage FROM runs ORDER BY start_time, run_uuid"
        ).fetchall()
    live = [(str(uuid), str(name or "")) for uuid, name, stage in rows if stage != "deleted"]
    notes = []
    if len(live) < len(rows):
        notes.append(f"{len(rows) - len(live)} deleted MLflow run(s) in {path.name} not read")
    names = [name for _, name in live]
    chosen = [
        (name if name and names.count(name) == 1 and "/" not in name else uuid, uuid)
        for uuid, name in live
    ]
    return chosen, notes


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    """One run of the store: `path` is `store.db/<run name or id>`."""
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    database, selector = sqlitedb.split(path)
    if progress:
        size = database.stat().st_size if database.is_file() else 0
        progress(name, size, size)
    try:
        frame, meta = sqlitedb.retrying(lambda: _read(database, selector, log, notes))
    except sqlite3.Error as error:
        log(None, f"cannot read {database.name} as an MLflow SQLite store ({error}); skipped")
        frame, meta = empty_frame(), {}
    if run := mlflow_files.describe(meta):
        notes.insert(0, run)
    return Ingested(name, FORMAT, frame, log.finish(), notes, meta, resumes=[])


def _read(
    database: Path, selector: str | None, log: ProblemLog, notes: list[str]
) -> tuple[pl.DataFrame, dict[str, Any]]:
    if not sqlitedb.is_sqlite(database):
        log(None, f"{database.name} is not a SQLite database (no SQLite header); skipped")
        return empty_frame(), {}
    with sqlitedb.connect(database) as connection:
        schema = sqlitedb.columns(connection)
        need = {"key", "value", "timestamp", "step", "run_uuid"}
        if not need <= schema.get("metrics", set()) or "runs" not in schema:
            log(None, f"{database.name} has no MLflow 'metrics' and 'runs' tables; skipped")
            return empty_frame(), {}
        uuid = _resolve(connection, schema["runs"], selector, log)
        if uuid is None:
            return empty_frame(), {}
        nan_column = "is_nan" if "is_nan" in schema["metrics"] else "0"
        # SQLite columns hold any type: anything but a number is NULL here, reported below
        cursor = connection.execute(
            "SELECT CAST(key AS TEXT),"
            " CASE WHEN typeof(value) IN ('real', 'integer') THEN value END,"
            " CASE WHEN typeof(timestamp) = 'integer' THEN timestamp END,"
            " CASE WHEN typeof(step) = 'integer' THEN step END,"
            f" CASE WHEN {nan_column} IN (1, '1', 'true') THEN 1 ELSE 0 END"
            " FROM metrics WHERE run_uuid = ?",
            (uuid,),
        )
        # in blocks: a million rows as Python tuples at once would double the peak memory
        frames = []
        while rows := cursor.fetchmany(_BLOCK):
            frames.append(pl.DataFrame(rows, schema=_ROWS, orient="row"))
        meta = _meta(connection, schema, uuid)
    long = pl.concat(frames) if frames else pl.DataFrame(schema=_ROWS)
    unusable = long.filter(pl.any_horizontal(pl.col("key", "value", "step").is_null()))
    if unusable.height:
        log(None, f"{unusable.height} metrics row(s) without a usable key, value or step; skipped")
        long = long.filter(pl.all_horizontal(pl.col("key", "value", "step").is_not_null()))
    names = long.get_column("key").unique().sort().to_list()
    codes = {name: index for index, name in enumerate(names)}
    long = long.with_columns(pl.col("key").replace_strict(codes, return_dtype=pl.UInt32))
    return mlflow_files.widen(restore_nonfinite(long), names, notes), meta


def restore_nonfinite(long: pl.DataFrame) -> pl.DataFrame:
    """NaN from `is_nan`, +/-Infinity from the largest double MLflow stored in its place."""
    value = pl.col("value")
    return long.with_columns(
        pl.when(pl.col("is_nan") == 1)
        .then(float("nan"))
        .when(value >= _MAX)
        .then(float("inf"))
        .when(value <= -_MAX)
        .then(float("-inf"))
        .otherwise(value)
        .alias("value")
    ).drop("is_nan")


def _resolve(
    connection: sqlite3.Connection, columns: set[str], selector: str | None, log: ProblemLog
) -> str | None:
    """The run_uuid named by a selector (a run id, or a unique run name)."""
    if selector is None:
        found = connection.execute("SELECT run_uuid FROM runs").fetchall()
        if len(found) == 1:
            return str(found[0][0])
        log(None, f"the store holds {len(found)} runs; name one as STORE/<run name or id>")
        return None
    if connection.execute("SELECT 1 FROM runs WHERE run_uuid = ?", (selector,)).fetchone():
        return selector
    found = connection.execute("SELECT run_uuid FROM runs WHERE name = ?", (selector,)).fetchall()
    if len(found) == 1:
        return str(found[0][0])
    if found:
        log(None, f"several runs are called {selector!r} in this store; name one by its run id")
        return None
    live = "lifecycle_stage IS NOT 'deleted'" if "lifecycle_stage" in columns else "1"
    names = [str(r[0]) for r in connection.execute(f"SELECT name FROM runs WHERE {live} LIMIT 6")]
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    log(None, f"no run is called {selector!r} in this store (runs: {shown}); name one or its id")
    return None


def _meta(connection: sqlite3.Connection, schema: dict[str, set[str]], uuid: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"run_id": uuid}
    row = connection.execute(
        "SELECT name, status, start_time, end_time, experiment_id FROM runs WHERE run_uuid = ?",
        (uuid,),
    ).fetchone()
    if row:
        meta.update(
            {
                k: v
                for k, v in zip(
                    ("run_name", "status", "start_time", "end_time"), row[:4], strict=True
                )
                if v
            }
        )
        if {"experiment_id", "name"} <= schema.get("experiments", set()):
            found = connection.execute(
                "SELECT name FROM experiments WHERE experiment_id = ?", (row[4],)
            ).fetchone()
            if found:
                meta["experiment"] = found[0]
    for table in ("params", "tags"):
        if {"key", "value", "run_uuid"} <= schema.get(table, set()):
            pairs = connection.execute(
                f"SELECT key, value FROM {table} WHERE run_uuid = ?", (uuid,)
            ).fetchall()
            meta[table] = {str(k): str(v) for k, v in pairs}
    return meta
