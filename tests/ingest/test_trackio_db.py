"""trackio project databases: a fixture written by trackio 0.43.0 (data/make_trackio.py), the
older text-JSON schema, and damaged copies."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscope.ingest import discover, read_run, read_runs, trackio

DB_BYTES = gzip.decompress((Path(__file__).parent / "data" / "trackio.db.gz").read_bytes())


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "grpo-demo.db"
    path.write_bytes(DB_BYTES)
    return path


def old_schema(path: Path, rows: list[tuple[str, int | str, str]]) -> Path:
    """trackio before run ids: text JSON written by json.dumps (bare NaN)."""
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT,"
            " project_name TEXT, run_name TEXT, step INTEGER, metrics TEXT)"
        )
        connection.executemany(
            "INSERT INTO metrics (timestamp, project_name, run_name, step, metrics)"
            " VALUES ('2025-06-01T10:00:00', 'p', ?, ?, ?)",
            rows,
        )
    connection.close()
    return path


def test_one_run_per_run_name(db: Path) -> None:
    runs = read_runs(db)
    assert [r.path for r in runs] == [f"{db}/run-a", f"{db}/run-b"]
    run = runs[0]
    assert run.frame.get_column("step").to_list() == [0, 1, 2, 3, 10]
    grad = run.frame.get_column("train/grad_norm").to_list()
    assert math.isnan(grad[0]) and grad[1:4] == [math.inf, -math.inf, 2.0]
    assert run.frame.get_column("eval/accuracy").to_list() == [None] * 4 + [0.5]
    assert run.frame.get_column("wall_time").null_count() == 0
    assert run.meta["config"]["lr"] == 1e-6
    assert run.problems == []
    assert runs[1].meta.get("text") == "hello"  # text is metadata, not a metric


def test_reading_leaves_the_wal_database_untouched(tmp_path: Path, db: Path) -> None:
    """trackio databases are in WAL mode: plain mode=ro would create -wal and -shm files."""

    def snapshot() -> dict[str, str]:
        return {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}

    before = snapshot()
    read_runs(tmp_path)
    assert snapshot() == before


def test_findings_from_the_cli(db: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", db / "run-a", "--format", "json"], exit_code=1)
    [run] = json.loads(result.stdout)["runs"]
    assert ("common/grad-norm-nonfinite", 0) in {(f["rule"], f["step"]) for f in run["findings"]}


def test_old_schema_with_bare_nan_and_a_bad_row(tmp_path: Path) -> None:
    path = old_schema(
        tmp_path / "proj.db",
        [
            ("r1", 0, '{"loss": 1.0, "grad_norm": NaN}'),
            ("r1", 1, '{"loss": 0.5, "grad_norm": Infinity'),  # cut
            ("r1", 2, '{"loss": 0.25, "<img src=x onerror=alert(1)>": 3}'),
            ("r1", "three", '{"loss": 0.125}'),  # SQLite keeps whatever type it is given
        ],
    )
    assert discover.sniff(path) == trackio.FORMAT
    run = read_run(path)  # one run in the database: read as that run
    assert run.frame.get_column("loss").to_list() == [1.0, None, 0.125]  # 4th row: step 2
    assert math.isnan(run.frame.get_column("grad_norm")[0])
    assert run.frame.get_column("<img src=x onerror=alert(1)>").to_list()[2] == 3.0
    [problem] = run.problems
    assert problem.line == 2 and problem.path == f"{path}/r1"


def test_a_store_a_writer_keeps_locked_is_read_from_what_was_committed(tmp_path: Path) -> None:
    path = old_schema(tmp_path / "busy.db", [("r", 1, '{"loss": 1.0}'), ("r", 2, '{"loss": 0.5}')])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")  # a writer about to commit, holding every lock
    try:
        started = time.monotonic()
        run = read_run(path / "r")
        waited = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert run.frame.get_column("loss").to_list() == [1.0, 0.5]
    assert run.problems == []
    assert waited < 5  # not the whole busy timeout (10 s): a copy was read instead
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy.db"]


def test_unknown_run_is_reported(db: Path) -> None:
    run = read_run(db / "nope")
    assert "no metrics logged for run 'nope' (runs in this database: run-a, run-b)" in (
        run.problems[0].message
    )


@pytest.mark.parametrize("cut", [0, 50, 4096, len(DB_BYTES) // 2, len(DB_BYTES) - 100])
def test_truncated_database_never_crashes(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "grpo-demo.db"
    path.write_bytes(DB_BYTES[:cut])
    part = trackio.read(path / "run-a")
    assert part.problems or part.frame.height
    assert all(p.message for p in part.problems)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.integers(0, len(DB_BYTES) - 1), st.binary(min_size=1, max_size=16))))
def test_corrupted_database_never_crashes(patches: list[tuple[int, bytes]]) -> None:
    data = bytearray(DB_BYTES)
    for offset, chunk in patches:
        data[offset : offset + len(chunk)] = chunk
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "grpo-demo.db"
        path.write_bytes(bytes(data))
        part = trackio.read(path / "run-a")
        assert part.frame.schema["step"] == pl.Int64
        assert all(p.message for p in part.problems)
        if sqlite3_readable(path):
            read_runs(path)


def sqlite3_readable(path: Path) -> bool:
    return trackio.sqlitedb.kind(path) is not None


def test_every_format_is_found_side_by_side(tmp_path: Path, db: Path) -> None:
    """A project folder with a JSONL log, a console log, a trackio database and an MLflow
    file store: the folder's own logs are one run, each tracked run is its own."""
    shutil.copytree(Path(__file__).parent / "data" / "mlruns", tmp_path / "mlruns")
    (tmp_path / "metrics.jsonl").write_text('{"step": 5, "eval/acc": 0.5}\n')
    (tmp_path / "train.log").write_text("noise\nstep:1 - actor/pg_loss:0.1\n")
    runs = read_runs(tmp_path)
    named = {
        str(Path(r.path).relative_to(tmp_path)): sorted({s.format for s in r.sources}) for r in runs
    }
    mlflow_runs = [k for k, v in named.items() if v == ["mlflow_files"]]
    assert len(mlflow_runs) == 2 and all(k.startswith("mlruns/") for k in mlflow_runs)
    assert named["."] == ["jsonl", "verl_console"]
    assert named["grpo-demo.db/run-a"] == named["grpo-demo.db/run-b"] == ["trackio"]
    assert len(runs) == 5
