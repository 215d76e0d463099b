"""trackio project databases (`~/.cache/huggingface/trackio/<project>.db`; used by TRL, veRL).

Table `metrics(id, run_id, timestamp, run_name, step, metrics, ...)`: one row per `log()`
call, `metrics` a JSON object. trackio 0.43 stores orjson bytes with NaN / Infinity as the
strings "NaN", "Infinity", "-Infinity"; older versions wrote `json.dumps` text with bare
`NaN` tokens. Both are read through the shared JSON decoder (decode.py), rows as lines, so
a damaged row is reported with its place and the others are kept. `configs.config` (JSON)
is the run's metadata. Runs are told apart by `run_name`, as trackio's UI does.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from logscope.ingest import sqlitedb
from logscope.ingest.base import Ingested, ProblemLog, tabulate
from logscope.ingest.decode import LINE, decode_chunk, prepare

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

FORMAT = "trackio"


def _safe(name: str) -> bool:
    return bool(name) and "/" not in name and "\x00" not in name and name not in (".", "..")


def runs(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(selector, run name) per run in first-logged order. Raises sqlite3.Error."""
    with sqlitedb.connect(path) as connection:
        has_id = "run_id" in sqlitedb.columns(connection).get("metrics", set())
        pick = "MIN(run_id)" if has_id else "NULL"
        rows = connection.execute(
            f"SELECT run_name, {pick} FROM metrics GROUP BY run_name ORDER BY MIN(id)"
        ).fetchall()
    found, notes = [], []
    for name, run_id in rows:
        name = str(name)
        if _safe(name):
            found.append((name, name))
        elif run_id and _safe(str(run_id)):
            found.append((str(run_id), name))
        else:
            notes.append(f"trackio run {name!r} has no usable name or id; not read")
    return found, notes


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    """One run of a project database: `path` is `<project>.db/<run name>`."""
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    database, selector = sqlitedb.split(path)
    if progress:
        size = database.stat().st_size if database.is_file() else 0
        progress(name, size, size)
    raw, meta = pl.DataFrame(), dict[str, Any]()
    try:
        raw, meta = sqlitedb.retrying(lambda: _read(database, selector, log, notes))
    except sqlite3.Error as error:
        log(None, f"cannot read {database.name} as a trackio database ({error}); skipped")
    frame, more = tabulate(raw, log, notes)
    meta.update(more)
    return Ingested(name, FORMAT, frame, log.finish(), notes, meta)


def _read(
    database: Path, selector: str | None, log: ProblemLog, notes: list[str]
) -> tuple[pl.DataFrame, dict[str, Any]]:
    if not sqlitedb.is_sqlite(database):
        log(None, f"{database.name} is not a SQLite database (no SQLite header); skipped")
        return pl.DataFrame(), {}
    with sqlitedb.connect(database) as connection:
        schema = sqlitedb.columns(connection)
        have = schema.get("metrics", set())
        if not {"run_name", "step", "metrics"} <= have:
            log(None, f"{database.name} has no trackio 'metrics' table; skipped")
            return pl.DataFrame(), {}
        if selector is None:
            log(None, "a trackio database holds runs; name one as PROJECT.db/<run name>")
            return pl.DataFrame(), {}
        where = "run_name = ?"
        if (
            "run_id" in have
            and not connection.execute(
                "SELECT 1 FROM metrics WHERE run_name = ? LIMIT 1", (selector,)
            ).fetchone()
        ):
            where = "run_id = ?"
        stamp = "timestamp" if "timestamp" in have else "NULL"
        rows = connection.execute(
            "SELECT CASE WHEN typeof(step) IN ('integer', 'real') THEN step END,"
            f" {stamp}, metrics FROM metrics WHERE {where} ORDER BY id",
            (selector,),
        ).fetchall()
        meta = _config(connection, schema, where, selector, log)
        known = [
            str(r[0]) for r in connection.execute("SELECT DISTINCT run_name FROM metrics LIMIT 6")
        ]
    if not rows:
        shown = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
        log(None, f"no metrics logged for run {selector!r} (runs in this database: {shown})")
        return pl.DataFrame(), meta
    return _decode(rows, log, notes), meta


def _decode(rows: list[tuple[Any, ...]], log: ProblemLog, notes: list[str]) -> pl.DataFrame:
    blobs = [_bytes(r[2]).replace(b"\n", b" ").replace(b"\r", b" ") for r in rows]
    pieces = decode_chunk(b"\n".join(blobs) + b"\n", 1, log, lines=len(blobs))
    decoded = [prepare(p) for p in pieces if p.height]
    metrics = pl.concat(decoded, how="diagonal_relaxed") if decoded else pl.DataFrame()
    index = pl.DataFrame(
        {
            LINE: range(1, len(rows) + 1),
            "step": [r[0] for r in rows],
            "_timestamp": [_epoch(r[1]) for r in rows],
        },
        schema={LINE: pl.Int64, "step": pl.Float64, "_timestamp": pl.Float64},
        strict=False,
    )
    clash = [c for c in ("step", "_timestamp") if c in metrics.columns]
    if clash:
        notes.append(f"logged key(s) {clash} replaced by trackio's own step and timestamp")
        metrics = metrics.drop(clash)
    if LINE not in metrics.columns:
        return index
    return index.join(metrics.with_columns(pl.col(LINE).cast(pl.Int64)), on=LINE, how="left")


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "replace")


def _epoch(stamp: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(stamp)).timestamp()
    except (TypeError, ValueError):
        return None


def _config(
    connection: sqlite3.Connection,
    schema: dict[str, set[str]],
    where: str,
    selector: str,
    log: ProblemLog,
) -> dict[str, Any]:
    if not {"run_name", "config"} <= schema.get("configs", set()):
        return {}
    if where.startswith("run_id") and "run_id" not in schema["configs"]:
        return {}
    found = connection.execute(f"SELECT config FROM configs WHERE {where}", (selector,)).fetchone()
    if not found:
        return {}
    try:
        config = json.loads(_bytes(found[0]))
    except ValueError:
        log(None, "the run's config (configs table) is not valid JSON; skipped")
        return {}
    return {"config": config} if isinstance(config, dict) else {}
