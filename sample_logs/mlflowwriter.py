"""Write an MLflow SQLite tracking store with the standard library (no mlflow needed).

The tables and columns are those of mlflow 3.17.2's `mlflow.db` (see
tests/ingest/data/make_mlflow.py, which produces one with the real package); only the
tables a training run's metrics touch are created. Values are stored as MLflow stores
them: NaN as 0 with is_nan = 1, +/-Infinity as +/-1.7976931348623157e308.
"""

from __future__ import annotations

import math
import sqlite3
import sys
import uuid
from pathlib import Path

SCHEMA = """
CREATE TABLE experiments (
    experiment_id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(256) NOT NULL,
    artifact_location VARCHAR(256), lifecycle_stage VARCHAR(32), creation_time BIGINT,
    last_update_time BIGINT, workspace VARCHAR(63) DEFAULT 'default' NOT NULL);
CREATE TABLE runs (
    run_uuid VARCHAR(32) NOT NULL PRIMARY KEY, name VARCHAR(250), source_type VARCHAR(20),
    source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256),
    status VARCHAR(9), start_time BIGINT, end_time BIGINT, source_version VARCHAR(50),
    lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200), experiment_id INTEGER,
    deleted_time BIGINT);
CREATE TABLE metrics (
    "key" VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT NOT NULL,
    run_uuid VARCHAR(32) NOT NULL, step BIGINT DEFAULT '0' NOT NULL,
    is_nan BOOLEAN DEFAULT '0' NOT NULL,
    PRIMARY KEY ("key", timestamp, step, run_uuid, value, is_nan));
CREATE TABLE latest_metrics (
    "key" VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT,
    step BIGINT NOT NULL, is_nan BOOLEAN NOT NULL, run_uuid VARCHAR(32) NOT NULL,
    PRIMARY KEY ("key", run_uuid));
CREATE TABLE params (
    "key" VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL,
    PRIMARY KEY ("key", run_uuid));
CREATE TABLE tags (
    "key" VARCHAR(250) NOT NULL, value VARCHAR(8000), run_uuid VARCHAR(32) NOT NULL,
    PRIMARY KEY ("key", run_uuid));
"""


def stored(value: float) -> tuple[float, int]:
    """(value, is_nan) as MLflow's SQL store writes a float."""
    if math.isnan(value):
        return 0.0, 1
    if math.isinf(value):
        return math.copysign(sys.float_info.max, value), 0
    return value, 0


def write_store(
    path: Path,
    *,
    experiment: str,
    run_name: str,
    rows: list[tuple[int, int, dict[str, float]]],
    params: dict[str, str],
    status: str = "FINISHED",
    seed: int = 0,
) -> None:
    """One experiment with one run; rows are (step, timestamp_ms, {key: value})."""
    path.unlink(missing_ok=True)
    run_id = uuid.UUID(int=seed).hex
    start, end = rows[0][1], rows[-1][1]
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA page_size = 1024")  # a small sample file
        db.executescript(SCHEMA)
        db.execute(
            "INSERT INTO experiments VALUES (1, ?, 'mlflow-artifacts:/1', 'active', ?, ?,"
            " 'default')",
            (experiment, start, start),
        )
        db.execute(
            "INSERT INTO runs VALUES (?, ?, 'UNKNOWN', '', '', 'verl', ?, ?, ?, '', 'active',"
            " ?, 1, NULL)",
            (run_id, run_name, status, start, end, f"mlflow-artifacts:/1/{run_id}/artifacts"),
        )
        db.executemany(
            "INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)",
            [
                (key, *stored(value)[:1], stamp, run_id, step, stored(value)[1])
                for step, stamp, metrics in rows
                for key, value in metrics.items()
            ],
        )
        latest: dict[str, tuple[float, int, int, int]] = {}
        for step, stamp, metrics in rows:
            for key, value in metrics.items():
                latest[key] = (*stored(value), stamp, step)
        db.executemany(
            "INSERT INTO latest_metrics VALUES (?, ?, ?, ?, ?, ?)",
            [(k, v, t, s, n, run_id) for k, (v, n, t, s) in latest.items()],
        )
        db.executemany(
            "INSERT INTO params VALUES (?, ?, ?)", [(k, v, run_id) for k, v in params.items()]
        )
        db.execute("INSERT INTO tags VALUES ('mlflow.runName', ?, ?)", (run_name, run_id))
        db.execute("INSERT INTO tags VALUES ('mlflow.user', 'verl', ?)", (run_id,))
    db.close()
