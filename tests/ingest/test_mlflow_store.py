"""MLflow stores: fixtures written by the real mlflow 3.17.2 (data/make_mlflow.py), read
without mlflow; damaged copies of them at byte level."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import shutil
import sqlite3
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logscope
from logscope.ingest import discover, mlflow_files, read_run, read_runs

DATA = Path(__file__).parent / "data"
DB_BYTES = gzip.decompress((DATA / "mlflow.db.gz").read_bytes())
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "mlflow.db"
    path.write_bytes(DB_BYTES)
    return path


@pytest.fixture
def mlruns(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATA / "mlruns", tmp_path / "mlruns"))


def run_folder(mlruns: Path, name: str) -> Path:
    [folder] = [
        p.parent
        for p in mlruns.glob("*/*/tags/mlflow.runName")
        if p.read_text() == name and mlflow_files.is_run_folder(p.parent.parent)
    ]
    return folder.parent


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_ppo_good(run: logscope.Run) -> None:
    """What make_mlflow.py logged into run `ppo-good`, as a health check must see it."""
    frame = run.frame
    assert frame.get_column("step").to_list() == [0, 1, 2, 3, 4, 5]
    assert math.isnan(frame.get_column("actor/pg_loss")[5])
    assert frame.get_column("actor/grad_norm").to_list() == [1, 2, 3, 4, 5, math.inf]
    # step 4 was logged again later: the later value wins; -inf survives the round trip
    assert frame.get_column("critic/score/mean").to_list()[3:] == [
        pytest.approx(0.3),
        0.75,
        -math.inf,
    ]
    # veRL writes '@' as '_at_' for MLflow; rules see the key as veRL named it
    assert "val-core/gsm8k/reward/mean@4" in run.metrics
    assert frame.get_column("wall_time")[0] == 1_761_000_000.0
    assert run.meta["run_name"] == "ppo-good"
    assert run.meta["params"]["actor_rollout_ref.actor.clip_ratio"] == "0.2"
    assert run.meta["tags"]["team"] == "rl"
    assert run.problems == []


# --- SQLite store -------------------------------------------------------------------------


def test_sqlite_store_gives_one_run_per_live_run(db: Path) -> None:
    runs = read_runs(db)
    assert [r.path for r in runs] == [f"{db}/ppo-good", f"{db}/crashed"]
    assert_ppo_good(runs[0])
    assert runs[0].meta["experiment"] == "verl-ppo"
    assert runs[1].frame.get_column("loss").to_list() == [2.0, 1.9, 1.8]
    assert runs[1].sources[0].notes[0] == "MLflow run 'crashed' (FAILED)"
    assert any("1 deleted MLflow run" in note for note in runs[0].notes)


def test_one_run_of_the_store_by_name_or_id(db: Path) -> None:
    run = read_run(db / "ppo-good")
    assert_ppo_good(run)
    by_id = read_run(db / run.meta["run_id"])
    assert by_id.frame.equals(run.frame)
    missing = read_run(db / "no-such-run")
    assert "no run is called 'no-such-run' in this store (runs: ppo-good, crashed)" in (
        missing.problems[0].message
    )


def test_store_in_a_folder_is_found_next_to_other_logs(tmp_path: Path, db: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    found = discover.discover(tmp_path)
    assert [f.root.name for f in found] == [tmp_path.name, "ppo-good", "crashed"]


def test_reading_never_changes_the_folder(tmp_path: Path, db: Path) -> None:
    before = snapshot(tmp_path)
    read_runs(tmp_path)
    assert snapshot(tmp_path) == before


def test_live_wal_database_is_read_from_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer still running keeps rows in mlflow.db-wal; they are read, the files kept."""
    path = tmp_path / "mlflow.db"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.executescript(
        "CREATE TABLE runs (run_uuid TEXT, name TEXT, status TEXT, start_time INT,"
        " end_time INT, lifecycle_stage TEXT, experiment_id INT);"
        "CREATE TABLE metrics (key TEXT, value REAL, timestamp INT, step INT, is_nan INT,"
        " run_uuid TEXT);"
        "INSERT INTO runs VALUES ('abc', 'live', 'RUNNING', 0, NULL, 'active', 0);"
    )
    writer.executemany(
        "INSERT INTO metrics VALUES ('loss', ?, ?, ?, 0, 'abc')",
        [(1.0 / (s + 1), 1000 * s, s) for s in range(5)],
    )
    writer.commit()
    try:
        assert Path(f"{path}-wal").stat().st_size > 0
        before = snapshot(tmp_path)
        copies = []
        real_copy = shutil.copyfile
        monkeypatch.setattr(shutil, "copyfile", lambda a, b: copies.append(a) or real_copy(a, b))
        run = read_run(path)
        assert run.frame.get_column("step").to_list() == [0, 1, 2, 3, 4]
        assert snapshot(tmp_path) == before
        # one private copy for discovery, the run list and the run, not one per opening
        assert sorted(map(str, copies)) == [str(path), f"{path}-wal"]
    finally:
        writer.close()


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", "a\x1b[31mred", "ü/λ"])
def test_hostile_keys_from_sqlite_are_kept_verbatim(db: Path, name: str) -> None:
    with sqlite3.connect(db) as connection:
        uuid = connection.execute("SELECT run_uuid FROM runs WHERE name='crashed'").fetchone()[0]
        connection.execute(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES (?, 1.5, 1, ?, 0, 0)",
            (name, uuid),
        )
    run = read_run(db / "crashed")
    assert run.frame.get_column(name).to_list() == [1.5, None, None]


def test_rows_of_the_wrong_type_are_reported(db: Path) -> None:
    with sqlite3.connect(db) as connection:
        uuid = connection.execute("SELECT run_uuid FROM runs WHERE name='crashed'").fetchone()[0]
        connection.execute(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES ('loss', 'oops', 1, ?, 7, 0)",
            (uuid,),
        )
    connection.close()
    run = read_run(db / "crashed")
    assert run.frame.get_column("loss").to_list() == [2.0, 1.9, 1.8]
    assert "1 metrics row(s) without a usable key, value or step" in run.problems[0].message


@pytest.mark.parametrize("cut", [0, 100, 4096, 20_000, len(DB_BYTES) // 2, len(DB_BYTES) - 1])
def test_truncated_database_is_reported(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "mlflow.db"
    path.write_bytes(DB_BYTES[:cut])
    runs = read_runs(path)
    for run in runs:
        assert run.problems or run.frame.height > 0
        assert all(p.message for p in run.problems)


def test_garbage_db_file_is_reported(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mlflow.db"
    path.write_bytes(b"this is not sqlite at all\n" * 10)
    [run] = read_runs(path)
    assert "not a SQLite database" in run.problems[0].message
    other = tmp_path / "optuna.db"  # another tool's SQLite file is not claimed in a folder
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE trials (id INT)")
    assert discover.sniff(other) is None


def test_cli_checks_every_run_of_a_file_store(mlruns: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", mlruns, "--format", "json"], exit_code=1)
    runs = {r["path"]: r["status"] for r in json.loads(result.stdout)["runs"]}
    assert runs == {
        str(run_folder(mlruns, "ppo-good")): "fail",
        str(run_folder(mlruns, "crashed")): "pass",
    }


def test_cli_checks_one_run_of_the_store(db: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", db / "ppo-good", "--format", "json"], exit_code=1)
    [run] = json.loads(result.stdout)["runs"]
    found = {(f["rule"], f["step"]) for f in run["findings"]}
    assert ("common/loss-nonfinite", 5) in found
    assert ("common/grad-norm-nonfinite", 5) in found


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(DB_BYTES) - 1), st.binary(min_size=1, max_size=16))))
def test_corrupted_database_never_crashes(patches: list[tuple[int, bytes]]) -> None:
    data = bytearray(DB_BYTES)
    for offset, chunk in patches:
        data[offset : offset + len(chunk)] = chunk
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mlflow.db"
        path.write_bytes(bytes(data))
        for run in read_runs(path):
            assert run.frame.schema["step"] == pl.Int64
            assert all(p.message for p in run.problems)


# --- file store ---------------------------------------------------------------------------


def test_file_store_gives_one_run_per_run_folder(mlruns: Path) -> None:
    runs = read_runs(mlruns)
    assert len(runs) == 2  # the deleted run is left out, as in MLflow's UI
    [good] = [r for r in runs if r.meta.get("run_name") == "ppo-good"]
    assert_ppo_good(good)
    assert good.path == str(run_folder(mlruns, "ppo-good"))
    assert "MLflow run 'ppo-good' (FINISHED)" in good.sources[0].notes


def test_file_store_and_sqlite_store_agree(mlruns: Path, db: Path) -> None:
    from_files = read_run(run_folder(mlruns, "ppo-good"))
    from_sqlite = read_run(db / "ppo-good")
    columns = sorted(from_files.frame.columns)
    assert from_files.frame.select(columns).equals(from_sqlite.frame.select(columns))


def test_trash_is_skipped(mlruns: Path) -> None:
    trashed = mlruns / ".trash" / run_folder(mlruns, "crashed").name
    shutil.copytree(run_folder(mlruns, "crashed"), trashed)
    assert len(read_runs(mlruns)) == 2


def test_a_console_log_saved_as_artifact_joins_its_run(mlruns: Path) -> None:
    folder = run_folder(mlruns, "crashed")
    (folder / "artifacts").mkdir(exist_ok=True)
    (folder / "artifacts" / "stdout.log").write_text("step:7 - loss:1.5\n")
    runs = read_runs(mlruns)
    assert len(runs) == 2
    [crashed] = [r for r in runs if r.meta.get("run_name") == "crashed"]
    assert crashed.frame.get_column("step").to_list() == [0, 1, 2, 7]


def test_bad_lines_are_reported_per_metric_file(mlruns: Path) -> None:
    folder = run_folder(mlruns, "crashed")
    with (folder / "metrics" / "loss").open("ab") as handle:
        handle.write(b"1761000009000 oops 3\n1761000010000 1.5\n17610000")  # bad, 2 fields, cut
    run = read_run(folder)
    assert run.frame.get_column("loss").to_list() == [1.5, 1.9, 1.8]  # 2-field line = step 0
    [first] = run.problems
    assert first.path == f"{folder}/metrics/loss" and first.line == 4
    assert "'1761000009000 oops 3'" in first.message and "2 bad lines" in first.message


def test_nested_keys_and_two_field_lines(tmp_path: Path) -> None:
    folder = tmp_path / "mlruns" / "0" / "abc"
    (folder / "metrics" / "train" / "deep").mkdir(parents=True)
    (folder / "meta.yaml").write_text("run_id: abc\nlifecycle_stage: active\n")
    (folder / "metrics" / "train" / "deep" / "loss").write_text("1 NaN 0\n2 Infinity 1\n")
    (folder / "metrics" / "lr").write_text("1 0.1\n")
    run = read_run(tmp_path / "mlruns")
    assert sorted(run.metrics) == ["lr", "train/deep/loss"]
    loss = run.frame.get_column("train/deep/loss").to_list()
    assert math.isnan(loss[0]) and loss[1] == math.inf


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", "a\x1b[31mb", "ü λ"])
def test_hostile_metric_file_names_are_kept_verbatim(mlruns: Path, name: str) -> None:
    folder = run_folder(mlruns, "crashed")
    (folder / "metrics" / name).write_text("1761000000000 4.5 0\n")
    run = read_run(folder)
    assert run.frame.get_column(name).to_list() == [4.5, None, None]


def test_windows_line_endings(mlruns: Path) -> None:
    """MLflow on Windows appends in text mode: every line ends in CRLF."""
    folder = run_folder(mlruns, "crashed")
    loss = folder / "metrics" / "loss"
    loss.write_bytes(loss.read_bytes().replace(b"\n", b"\r\n"))
    run = read_run(folder)
    assert run.frame.get_column("loss").to_list() == [2.0, 1.9, 1.8]
    assert run.problems == []


def test_non_utf8_metric_file_is_reported(mlruns: Path) -> None:
    folder = run_folder(mlruns, "crashed")
    (folder / "metrics" / "loss").write_bytes(b"1 1.0 0\n2 \xff\xfe 1\n3 0.5 2\n")
    run = read_run(folder)
    assert run.frame.get_column("loss").to_list() == [1.0, 0.5]
    assert [p.line for p in run.problems] == [2, 2]  # not UTF-8, then the unreadable line


@FUZZ
@given(st.binary(max_size=200), st.sampled_from(["loss", "a/b", "meta.yaml"]))
def test_random_bytes_in_a_run_folder_never_crash(data: bytes, where: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "0" / "run1"
        (folder / "metrics" / "a").mkdir(parents=True)
        (folder / "meta.yaml").write_text("run_id: run1\n")
        (folder / "metrics" / "loss").write_text("1 1.0 0\n")
        target = folder / where if where == "meta.yaml" else folder / "metrics" / where
        target.write_bytes(data)
        part = mlflow_files.read(folder)
        assert part.frame.schema["step"] == pl.Int64
        assert all(p.message for p in part.problems)
