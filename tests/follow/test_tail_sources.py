"""The incremental readers of `tail --follow`: however the bytes arrive, the rows are the ones
the batch reader finds in the whole file; damage is reported, never raised."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import logscope
from logscope.follow.buffer import Window
from logscope.follow.sources import EventFeed, Feed, JsonlFeed, complete_records

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sample_logs"))

import eventwriter as tw

PROPS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def jsonl_log(rows: int, bad: set[int] = frozenset()) -> bytes:  # type: ignore[assignment]
    lines = []
    for i in range(1, rows + 1):
        if i in bad:
            lines.append(b'{"step": ' + str(i).encode() + b', "loss": oops}')
            continue
        record = {"step": i, "loss": 1 / i, "grad_norm": float("nan") if i % 7 == 0 else i * 0.5}
        if i % 5 == 0:
            record["eval_loss"] = 2 / i  # a key that appears late and sparsely
        lines.append(json.dumps(record).encode())  # NaN as Python's bare token
    return b"\n".join(lines) + b"\n"


def events_log(rows: int) -> bytes:
    out = tw.record(tw.event(wall_time=1.0e9, file_version="brain.Event:2"))
    for i in range(1, rows + 1):
        values = [tw.simple_value("loss", 1 / i), tw.simple_value("lr", 1e-5 * i)]
        out += tw.record(tw.event(wall_time=1.0e9 + i, step=i, summary=tw.summary(*values)))
        if i % 4 == 0:  # a second event at the same step
            out += tw.record(
                tw.event(wall_time=1.0e9 + i, step=i, summary=tw.summary(tw.simple_value("kl", i)))
            )
    return out


@pytest.fixture
def opened() -> Iterator[list[Feed]]:
    """Sources a test opened, closed after it."""
    sources: list[Feed] = []
    yield sources
    for source in sources:
        source.close()


def cuts(size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, size), max_size=12).map(lambda c: sorted(set(c)))


def feed(source: Feed, path: Path, data: bytes, at: list[int]) -> tuple[Window, list[str]]:
    """Append `data` to `path` in the pieces `at` marks, polling after each piece."""
    window = Window(head=10**6)
    problems: list[str] = []
    previous = 0
    for end in [*at, len(data)]:
        with path.open("ab") as handle:
            handle.write(data[previous:end])
        previous = end
        while True:
            batch = source.poll(limit=331)  # tiny reads: pieces split lines and records further
            problems += [str(p) for p in batch.problems]
            if batch.frame is not None:
                window.add(batch.frame)
            if not batch.more:
                break
    source.close()
    return window, problems


def same_rows(window: Window, path: Path) -> None:
    expected = logscope.read(path).frame
    got = window.frame.select(expected.columns) if window.frame.height else window.frame
    assert_frame_equal(got, expected, check_column_order=False)


@PROPS
@given(st.data())
def test_jsonl_rows_do_not_depend_on_how_the_bytes_arrive(data: st.DataObject) -> None:
    log = jsonl_log(40, bad={13})
    at = data.draw(cuts(len(log)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "metrics.jsonl"
        path.touch()
        window, problems = feed(JsonlFeed(path, str(path)), path, log, at)
        same_rows(window, path)
        assert problems == [str(p) for p in logscope.read(path).problems]
        assert len(problems) == 1 and problems[0].startswith(f"{path}:13: not valid JSON")


@PROPS
@given(st.data())
def test_event_rows_do_not_depend_on_how_the_bytes_arrive(data: st.DataObject) -> None:
    log = events_log(30)
    at = data.draw(cuts(len(log)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / tw.file_name(1_000_000_000)
        path.touch()
        window, problems = feed(EventFeed(path, str(path)), path, log, at)
        same_rows(window, path)
        assert problems == []
        assert window.last_step == 30
        assert window.last_wall == 1.0e9 + 30


def test_a_half_written_line_waits_for_its_end(tmp_path: Path, opened: list[Feed]) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"step": 1, "loss": 0.5}\n{"step": 2, "lo')
    source = JsonlFeed(path, "m.jsonl")
    opened.append(source)
    first = source.poll()
    assert first.frame is not None and first.frame.get_column("step").to_list() == [1]
    assert first.problems == []
    assert [str(p) for p in source.finish()] == [
        "m.jsonl:2: last line is incomplete (no newline yet); not read"
    ]
    with path.open("ab") as handle:
        handle.write(b'ss": 0.25}\n')
    second = source.poll()
    assert second.frame is not None
    assert second.frame.select("step", "loss").rows() == [(2, 0.25)]
    assert source.finish() == []


def test_a_cut_record_waits_for_its_end(tmp_path: Path) -> None:
    log = events_log(3)
    record = tw.record(
        tw.event(wall_time=2.0e9, step=9, summary=tw.summary(tw.simple_value("loss", 9.0)))
    )
    whole, used = complete_records(log + record[:-5])
    assert used == len(log) and whole.problems == []
    whole, used = complete_records(log + record)
    assert used == len(log) + len(record)


def test_truncation_restarts_from_the_top(tmp_path: Path, opened: list[Feed]) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(jsonl_log(10))
    source = JsonlFeed(path, "m.jsonl")
    opened.append(source)
    assert source.poll().frame is not None
    path.write_bytes(b'{"step": 1, "loss": 9.0}\n')  # `>` rewrites the file: shorter now
    batch = source.poll()
    assert batch.notes == [
        "m.jsonl: truncated to 25 bytes: reading it from the start",
        "m.jsonl: step went back from 10 to 1 (restart); later values win",
    ]
    assert batch.frame is not None and batch.frame.select("step", "loss").rows() == [(1, 9.0)]
    assert source.line == 2


def test_rotation_reads_the_old_file_to_its_end_then_the_new_one(
    tmp_path: Path, opened: list[Feed]
) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"step": 1, "loss": 1.0}\n')
    source = JsonlFeed(path, "m.jsonl")
    opened.append(source)
    source.poll()
    with path.open("ab") as handle:
        handle.write(b'{"step": 2, "loss": 2.0}\n')
    path.rename(tmp_path / "m.jsonl.1")
    path.write_bytes(b'{"step": 3, "loss": 3.0}\n')
    batch = source.poll()
    assert batch.frame is not None
    assert batch.frame.select("step", "loss").rows() == [(2, 2.0), (3, 3.0)]
    assert batch.notes == [
        "m.jsonl: replaced by a new file (rotated, or a restarted run): reading it from the start"
    ]


def test_a_vanished_file_is_noted_once_and_read_again_when_back(
    tmp_path: Path, opened: list[Feed]
) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"step": 1, "loss": 1.0}\n')
    source = JsonlFeed(path, "m.jsonl")
    opened.append(source)
    source.poll()
    path.unlink()
    assert source.poll().notes == ["m.jsonl: file disappeared; waiting for it to come back"]
    assert source.poll().notes == []
    path.write_bytes(b'{"step": 5, "loss": 5.0}\n')
    batch = source.poll()
    assert batch.frame is not None and batch.frame.get_column("step").to_list() == [5]


def test_gzip_is_refused_with_a_reason(tmp_path: Path, opened: list[Feed]) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(50))
    source = JsonlFeed(path, "m.jsonl")
    opened.append(source)
    assert [p.message for p in source.poll().problems] == [
        "gzip-compressed; tail reads uncompressed logs"
    ]
    assert source.poll().problems == []


def test_verl_lines_are_unwrapped(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"step": 1, "data": {"actor/kl": null, "critic/score": 0.5}}\n')
    with JsonlFeed(path, "m.jsonl") as source:
        batch = source.poll()
    assert batch.frame is not None
    row = batch.frame.row(0, named=True)
    assert math.isnan(row["actor/kl"]) and row["critic/score"] == 0.5


@PROPS
@given(st.binary(max_size=600), st.data())
def test_corrupt_bytes_never_crash_a_reader(junk: bytes, data: st.DataObject) -> None:
    for name, good in (("m.jsonl", jsonl_log(5)), (tw.file_name(1_000_000_000), events_log(5))):
        log = good[: data.draw(st.integers(0, len(good)))] + junk + good
        at = data.draw(cuts(len(log)))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.touch()
            cls = EventFeed if "tfevents" in name else JsonlFeed
            source = cls(path, str(path))
            window, problems = feed(source, path, log, at)
            assert all(p.startswith(str(path)) for p in problems)
            for problem in source.finish():
                assert problem.path == str(path)
            assert window.frame.schema["step"] == pl.Int64


def test_the_window_stays_bounded_and_keeps_the_start(tmp_path: Path) -> None:
    window = Window(head=5, recent=20)
    for start in range(0, 1000, 50):
        window.add(
            pl.DataFrame(
                {"step": range(start, start + 50), "wall_time": [None] * 50, "loss": [1.0] * 50}
            )
        )
    steps = window.frame.get_column("step").to_list()
    assert steps == [0, 1, 2, 3, 4, *range(980, 1000)]
    assert window.rows == 1000 and window.last_step == 999


def test_trainer_state_rewrites_give_only_the_new_steps(tmp_path: Path) -> None:
    from logscope.follow.sources import open_feed

    path = tmp_path / "trainer_state.json"

    def save(steps: int) -> None:
        history = [{"step": s, "loss": 1 / s, "epoch": s / 10} for s in range(1, steps + 1)]
        path.write_text(json.dumps({"global_step": steps, "log_history": history}, indent=2))

    save(3)
    source = open_feed(path, "trainer_state", "trainer_state.json")
    first = source.poll()
    assert first.frame is not None and first.frame.get_column("step").to_list() == [1, 2, 3]
    assert source.poll().read == 0  # unchanged: not read again
    save(5)
    os.utime(path, ns=(1, 2))  # a rewrite within the same clock tick is still seen
    second = source.poll()
    assert second.frame is not None and second.frame.get_column("step").to_list() == [4, 5]


def test_formats_without_line_boundaries_are_re_read_for_new_steps(tmp_path: Path) -> None:
    """A W&B history export (CSV) rewritten with more rows: only the new steps arrive, and a
    problem of the file is reported once, not on every re-read."""
    from logscope.follow.sources import open_feed

    path = tmp_path / "history.csv"
    path.write_text("_step,loss\n1,0.9\n2,0.8\n3,0.7,extra\n")
    source = open_feed(path, "csv", "history.csv")
    first = source.poll()
    assert first.frame is not None and first.frame.get_column("step").to_list() == [1, 2, 3]
    assert [p.message for p in first.problems] == [
        "some lines have more fields than the header; the extra fields were ignored"
    ]
    path.write_text("_step,loss\n1,0.9\n2,0.8\n3,0.7,extra\n4,0.6\n5,0.5\n")
    os.utime(path, ns=(1, 2))
    second = source.poll()
    assert second.frame is not None and second.frame.get_column("step").to_list() == [4, 5]
    assert second.problems == []


def test_tail_reads_a_wandb_run_like_check(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["tail", samples / "verl_wandb", "--plain"], exit_code=1).stdout
    findings = [line.split()[2] for line in out.splitlines() if line.startswith("FINDING")]
    assert findings == ["common/grad-norm-nonfinite", "verl/response-truncation"]


def test_a_tracker_database_run_is_followed_through_its_file(tmp_path: Path, samples: Path) -> None:
    """`mlruns.db/<run>` is no file: the database (and its -wal) is what changes."""
    import shutil
    import sqlite3

    from logscope.follow.sources import open_feed

    database = tmp_path / "mlruns.db"
    shutil.copy(samples / "mlflow_ppo" / "mlruns.db", database)
    run = database / "gsm8k-qwen2.5-0.5b-ppo"
    source = open_feed(run, "mlflow_sqlite", str(run))
    first = source.poll()
    assert first.frame is not None and first.frame.get_column("step").max() == 90
    with sqlite3.connect(database) as db:
        (uuid,) = db.execute("SELECT DISTINCT run_uuid FROM metrics").fetchone()
        db.execute(
            "INSERT INTO metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES ('actor/grad_norm', 0.5, 1, 91, 0, ?)",
            (uuid,),
        )
    os.utime(database, ns=(1, 2))
    second = source.poll()
    assert second.frame is not None and second.frame.get_column("step").to_list() == [91]
