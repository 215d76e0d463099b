"""Input made to break the readers (issue 13): each case reads to a Run that says what was
wrong, or to one clear InputError; never a traceback, never a silent loss."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import math
import os
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import logscope
from logscope.errors import InputError
from logscope.ingest import read_runs, stream
from logscope.ingest.jsondepth import MAX_DEPTH, depth

JSONL = b'{"step": 1, "loss": 1.0}\n{"step": 2, "loss": NaN}\n{"step": 3, "loss": 0.5}\n'


def messages(run: logscope.Run) -> list[str]:
    return [p.message for p in run.problems]


def loss(run: logscope.Run) -> dict[int, float]:
    return dict(zip(run.frame["step"].to_list(), run.frame["loss"].to_list(), strict=True))


# --- bounded nesting -----------------------------------------------------------------------


def nested(levels: int, opener: str = '{"a":', closer: str = "}") -> str:
    return opener * levels + "1" + closer * levels


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 600, 5_000, 100_000])
def test_deep_json_is_one_bad_line_not_a_crash(tmp_path, levels):
    path = tmp_path / "m.jsonl"
    path.write_text(
        '{"step": 1, "loss": 1.0}\n'
        f'{{"step": 2, "x": {nested(levels)}}}\n'
        f'{{"step": 3, "y": {nested(levels, "[", "]")}}}\n'
        '{"step": 4, "loss": 0.5}\n'
    )

    run = logscope.read(path)

    assert loss(run) == {1: 1.0, 4: 0.5}
    assert [(p.line, p.message) for p in run.problems] == [
        (2, f"nested deeper than {MAX_DEPTH} levels (no log needs that); skipped"),
        (3, f"nested deeper than {MAX_DEPTH} levels (no log needs that); skipped"),
    ]


def test_nesting_up_to_the_limit_is_read(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(f'{{"step": 1, "loss": 2.0, "x": {nested(MAX_DEPTH - 1)}}}\n')

    run = logscope.read(path)

    assert run.problems == []
    assert loss(run) == {1: 2.0}


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert depth(b'{"a": "[[[[[[[[[[{{{{{{{{", "b": [1, {"c": "\\"]]]"}]}') == 3


def test_a_deeply_nested_trainer_state_is_a_clear_problem(tmp_path):
    path = tmp_path / "trainer_state.json"
    path.write_text(f'{{"global_step": 1, "log_history": [{nested(10_000)}]}}')

    # a run with no readable row is the error the CLI reports (issue 18), naming the cause
    with pytest.raises(InputError) as raised:
        logscope.read(path)
    assert (
        f"not a readable trainer_state.json: nested deeper than {MAX_DEPTH} levels "
        "(no log needs that); skipped"
    ) in str(raised.value)
    (run,) = read_runs(path)
    assert run.frame.height == 0 and len(messages(run)) == 1


def test_a_truncated_trainer_state_keeps_its_complete_entries_and_says_where_it_ends(tmp_path):
    history = [{"step": s, "loss": 1.0 / s} for s in range(1, 6)]
    text = json.dumps({"global_step": 5, "log_history": history}, indent=2)
    cut = text.index('"step": 4') + 3  # inside the 4th entry
    path = tmp_path / "trainer_state.json"
    path.write_text(text[:cut])

    run = logscope.read(path)

    assert run.frame["step"].to_list() == [1, 2, 3]
    (problem,) = messages(run)
    assert "cut short" in problem
    assert "read the 3 complete log_history entries before it" in problem


# --- names that look like patterns ---------------------------------------------------------


@pytest.mark.parametrize("name", ["^x_loss$", "*", "^.*$", "a|b", "(x)"])
def test_metric_names_are_never_patterns(tmp_path, name):
    lines = [{"step": s, name: float(s), "other": 0.0} for s in (1, 2)]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    (tmp_path / "m.csv").write_text(f'step,"{name}"\n1,1\n2,2\n')
    (tmp_path / "train.log").write_text(f"step:1 - {name}:1 - other:0\nstep:2 - {name}:2\n")

    for file in ("m.jsonl", "m.csv", "train.log"):
        run = logscope.read(tmp_path / file)

        assert run.frame[name].to_list() == [1.0, 2.0], file


# --- text encodings and compression --------------------------------------------------------


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_bom_and_crlf_jsonl_is_read_even_through_the_exact_path(tmp_path, newline):
    # the bad last line sends the file through the line-by-line decoder too
    lines = [b'{"step": 1, "loss": 1.0}', b'{"step": 2, "loss": NaN}', b"{oops"]
    path = tmp_path / "m.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + newline.join(lines) + newline)

    run = logscope.read(path)

    assert run.frame["step"].to_list() == [1, 2]
    assert math.isnan(loss(run)[2])
    assert [p.line for p in run.problems] == [3]


@pytest.mark.parametrize(
    ("name", "pack"), [("m.jsonl.gz", gzip.compress), ("m.jsonl.bz2", bz2.compress)]
)
def test_compressed_jsonl_is_read_in_a_folder_and_by_name(tmp_path, name, pack):
    (tmp_path / name).write_bytes(pack(JSONL))

    for target in (tmp_path, tmp_path / name):
        run = logscope.read(target)

        assert run.frame["step"].to_list() == [1, 2, 3]
        assert run.problems == []


def test_a_cut_gzip_keeps_the_lines_before_the_cut(tmp_path):
    data = gzip.compress(b"".join(b'{"step": %d, "loss": 1.0}\n' % s for s in range(1, 201)))
    (tmp_path / "m.jsonl.gz").write_bytes(data[:-30])  # a writer still running

    run = logscope.read(tmp_path)

    assert 150 < run.frame.height < 200
    assert any("compressed data damaged or cut short" in m for m in messages(run))


def test_compressed_csv_and_console_logs_are_read(tmp_path):
    (tmp_path / "metrics.csv.gz").write_bytes(gzip.compress(b"step,loss\n1,1.0\n2,0.5\n"))
    (tmp_path / "train.log.gz").write_bytes(gzip.compress(b"step:1 - kl:0.1\nstep:2 - kl:0.2\n"))

    run = logscope.read(tmp_path)

    assert run.frame["loss"].to_list() == [1.0, 0.5]
    assert run.frame["kl"].to_list() == [0.1, 0.2]


def test_logrotate_copies_are_read_as_earlier_parts_of_the_run(tmp_path):
    def lines(steps: range) -> bytes:
        return b"".join(b'{"step": %d, "loss": %d.0}\n' % (s, s) for s in steps)

    (tmp_path / "metrics.jsonl.2.gz").write_bytes(gzip.compress(lines(range(1, 4))))
    (tmp_path / "metrics.jsonl.1").write_bytes(lines(range(4, 7)))
    (tmp_path / "metrics.jsonl").write_bytes(lines(range(7, 10)))
    (tmp_path / "train.log.1").write_bytes(b"step:1 - kl:0.1\nstep:2 - kl:0.2\n")

    run = logscope.read(tmp_path)

    assert run.frame["step"].to_list() == list(range(1, 10))
    assert run.frame["loss"].to_list() == [float(s) for s in range(1, 10)]
    assert run.frame["kl"].to_list()[:2] == [0.1, 0.2]
    assert run.problems == []


# --- steps and keys --------------------------------------------------------------------------


def test_a_fractional_step_is_reported_not_cut_onto_the_step_below(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(
        '{"step": 1, "loss": 1.0}\n{"step": 1.5, "loss": 9.0}\n{"step": 2, "loss": 2.0}\n'
    )

    run = logscope.read(path)

    assert loss(run) == {1: 1.0, 2: 2.0}
    assert [(p.line, p.message) for p in run.problems] == [
        (2, "'step' 1.5 is not a whole number on 1 line(s); those lines were left out"
            " (a step counts optimizer steps)")
    ]  # fmt: skip


def test_a_fractional_console_step_is_reported(tmp_path):
    path = tmp_path / "train.log"
    path.write_text("step:1 - loss:1\nstep:1.5 - loss:9\nstep:2 - loss:2\n")

    run = logscope.read(path)

    assert loss(run) == {1: 1.0, 2: 2.0}
    assert (2, "step '1.5' is not a whole number on 1 line(s); lines skipped") in [
        (p.line, p.message) for p in run.problems
    ]


@pytest.mark.parametrize("key", ["step", "wall_time", "\u0000line"])
def test_console_keys_named_like_the_frames_own_columns_are_reported(tmp_path, key):
    path = tmp_path / "train.log"
    path.write_text(f"step:1 - {key}:5 - loss:1\nstep:2 - loss:2\n")

    run = logscope.read(path)

    assert loss(run) == {1: 1.0, 2: 2.0}
    assert any(repr(key) in m and "no metric name" in m for m in messages(run))


def test_a_console_key_printed_twice_on_a_line_is_reported(tmp_path):
    path = tmp_path / "train.log"
    path.write_text("step:1 - loss:1 - loss:7\nstep:2 - loss:2\n")

    run = logscope.read(path)

    assert loss(run) == {1: 7.0, 2: 2.0}
    assert [(p.line, p.message) for p in run.problems] == [
        (1, "key 'loss' is printed twice on the line; the last value was read")
    ]


# --- tables ----------------------------------------------------------------------------------


def test_a_ragged_csv_row_is_one_reported_row(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('step,loss,note\n1,1.0,a\n2,2.0,"x,y",extra\n3\n4,4.0,d\n')

    run = logscope.read(path)

    assert loss(run) == {1: 1.0, 2: 2.0, 3: None, 4: 4.0}
    assert [p.line for p in run.problems] == [3, 4]
    assert "more fields than the header" in run.problems[0].message
    assert "fewer than the header's 3" in run.problems[1].message


def test_a_damaged_parquet_file_is_a_problem_not_a_panic(tmp_path, capfd):
    buffer = io.BytesIO()
    frame = pl.DataFrame({"step": [1, 2, 3], "loss": [1.0, 2.0, 3.0], "t": ["a", "b", "c"]})
    frame.write_parquet(buffer)
    good = bytearray(buffer.getvalue())
    seen = 0
    for at in range(4, len(good) - 8, 3):  # flip bytes all over the file, pages included
        data = bytearray(good)
        data[at] ^= 0xFF
        path = tmp_path / f"m{at}.parquet"
        path.write_bytes(bytes(data))

        for run in read_runs(path):
            seen += 1
            assert all(p.message for p in run.problems)
    assert seen
    assert "panicked" not in capfd.readouterr().err


# --- folders -----------------------------------------------------------------------------


def sweep(tmp_path: Path) -> Path:
    elsewhere = tmp_path / "scratch" / "run-b"
    elsewhere.mkdir(parents=True)
    (elsewhere / "m.jsonl").write_bytes(JSONL)
    root = tmp_path / "sweep"
    (root / "run-a").mkdir(parents=True)
    (root / "run-a" / "m.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    (root / "run-b").symlink_to(elsewhere, target_is_directory=True)
    return root


def test_a_symlinked_run_folder_in_a_sweep_is_read(tmp_path):
    runs = read_runs(sweep(tmp_path))

    assert [Path(r.path).name for r in runs] == ["run-a", "run-b"]
    assert math.isnan(loss(runs[1])[2])


def test_a_symlink_loop_is_noted_and_not_followed(tmp_path):
    root = sweep(tmp_path)
    (root / "run-a" / "back").symlink_to(root, target_is_directory=True)
    (root / "run-c").symlink_to(root / "run-a", target_is_directory=True)

    runs = read_runs(root)

    assert [Path(r.path).name for r in runs] == ["run-a", "run-b"]
    notes = runs[0].notes
    assert f"{root / 'run-a' / 'back'}: a link back to {root} (a loop); not followed" in notes
    assert any(n.startswith(f"{root / 'run-c'}: the same folder as") for n in notes)


def test_a_broken_link_to_a_log_is_noted(tmp_path):
    (tmp_path / "m.jsonl").write_bytes(JSONL)
    (tmp_path / "eval.jsonl").symlink_to(tmp_path / "gone.jsonl")

    run = logscope.read(tmp_path)

    assert run.notes == [
        f"{tmp_path / 'eval.jsonl'}: a broken link (its target is missing); not read"
    ]


def test_an_unreadable_logs_folder_is_noted(tmp_path, monkeypatch):
    (tmp_path / "m.jsonl").write_bytes(JSONL)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "eval.jsonl").write_bytes(JSONL)
    real_scandir = os.scandir

    def scandir(path):  # what chmod 000 does for a user who is not root
        if Path(path).name == "logs":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    run = logscope.read(tmp_path)

    assert run.frame.height == 3
    assert run.notes == [
        f"{tmp_path / 'logs'}: folder cannot be read (Permission denied); logs in it not read"
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_log_file_is_noted(tmp_path):
    (tmp_path / "m.jsonl").write_bytes(JSONL)
    (tmp_path / "eval.jsonl").write_bytes(JSONL)
    (tmp_path / "eval.jsonl").chmod(0)

    run = logscope.read(tmp_path)

    assert f"{tmp_path / 'eval.jsonl'}: cannot be read (permission denied); not read" in run.notes


# --- streams -------------------------------------------------------------------------------


def invoke(args: list[str], stdin: bytes | None = None):  # type: ignore[no-untyped-def]
    from logscope.cli import app

    return CliRunner().invoke(app, args, input=stdin, env={"NO_COLOR": "1"})


def test_stdin_dash_is_read_as_a_stream():
    result = invoke(["check", "-", "--format", "json"], JSONL)

    assert result.exit_code == 1, result.output  # the NaN loss is a finding
    report = json.loads(result.stdout)
    assert report["runs"][0]["path"] == "-"
    assert report["runs"][0]["sources"][0] == {
        "path": "-", "format": "jsonl", "rows": 3, "problems": [], "notes": []
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"step:1 - loss:1\nstep:2 - loss:2\n", "verl_console"),
        (json.dumps({"log_history": [{"step": 1, "loss": 1}]}, indent=2).encode(), "trainer_state"),
    ],
)
def test_a_stream_is_read_as_its_content_says(monkeypatch, data, fmt):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    run = logscope.read("-")

    assert run.sources[0].format == fmt
    assert run.sources[0].path == "-"
    assert run.frame["loss"].to_list()[0] == 1.0


def test_a_stream_that_is_no_log_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\x89PNG\r\n\x1a\n")))

    with pytest.raises(InputError, match=r"^-: neither JSON Lines nor a veRL console log"):
        logscope.read("-")


def test_a_fifo_is_read_when_its_writer_comes(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def write() -> None:
        time.sleep(0.2)
        fifo.write_bytes(JSONL)

    writer = threading.Thread(target=write)
    writer.start()
    run = logscope.read(fifo)
    writer.join()

    assert run.frame["step"].to_list() == [1, 2, 3]
    assert run.sources[0].path == str(fifo)


def test_a_fifo_without_a_writer_is_refused_not_waited_on_forever(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "WAIT_SECONDS", 0.2)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    with pytest.raises(InputError, match="nothing arrived in 0 s"):
        logscope.read(fifo)


def test_a_pipe_is_read_like_process_substitution(tmp_path):
    read_end, write_end = os.pipe()
    os.write(write_end, JSONL)
    os.close(write_end)
    try:
        run = logscope.read(f"/dev/fd/{read_end}")
    finally:
        os.close(read_end)

    assert run.frame["step"].to_list() == [1, 2, 3]


def test_dev_zero_is_refused_at_once():
    with pytest.raises(InputError, match=r"^/dev/zero: is a character device"):
        logscope.read("/dev/zero")


def test_an_endless_line_on_a_pipe_is_refused(monkeypatch):
    monkeypatch.setattr(stream, "LINE_LIMIT", 1 << 20)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"{" + b"0" * (3 << 20))))

    with pytest.raises(InputError, match="more than 1 MiB without a line end"):
        logscope.read("-")


def test_a_stream_past_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(stream, "STREAM_LIMIT", 1 << 20)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(JSONL * 50_000)))

    with pytest.raises(InputError, match="longer than 1 MiB"):
        logscope.read("-")


def test_dev_zero_on_the_command_line_exits_2_with_one_line():
    result = invoke(["check", "/dev/zero"])

    assert result.exit_code == 2
    assert "is a character device" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "line",
    [
        b'{"step": 1, "loss": 1.0, "loss": 5.0}',
        b'{"step": 1, "loss": 1.0, "loss": NaN}',  # through the NaN rewrite
        b'{"step": 1, "data": {"loss": 1.0, "loss": 5.0}}',
    ],
)
def test_a_key_written_twice_in_one_object_is_reported(tmp_path, line):
    path = tmp_path / "m.jsonl"
    path.write_bytes(line + b'\n{"step": 2, "loss": 2.0}\n')

    run = logscope.read(path)

    assert run.frame["step"].to_list() == [1, 2]
    assert [(p.line, p.message.split(";")[0]) for p in run.problems] == [
        (1, "key 'loss' appears twice in one object")
    ]


def test_strings_and_nulls_that_look_like_keys_are_no_duplicates(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"step": 1, "loss": null, "text": "a \\": b", "x": [{"a": 1}]}\n')

    run = logscope.read(path)

    assert run.problems == []
    assert run.frame["step"].to_list() == [1]


# --- SQLite stores read while written ------------------------------------------------------


def test_a_store_read_during_writes_never_goes_back_nor_fails(tmp_path):
    import sqlite3

    path = tmp_path / "live.db"
    with sqlite3.connect(path) as connection:  # trackio's schema before run ids
        connection.execute(
            "CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT,"
            " project_name TEXT, run_name TEXT, step INTEGER, metrics TEXT)"
        )
        connection.execute(
            "INSERT INTO metrics (run_name, step, metrics) VALUES ('r', 0, '{\"loss\": 1}')"
        )
    connection.close()
    stop = threading.Event()

    def write() -> None:
        with sqlite3.connect(path, timeout=30) as writer:
            step = 1
            while not stop.is_set():
                writer.execute(  # many statements per transaction: a reader must see all or none
                    "INSERT INTO metrics (run_name, step, metrics) VALUES ('r', ?, ?)",
                    (step, json.dumps({"loss": 1.0 / step})),
                )
                writer.execute("UPDATE metrics SET metrics = metrics WHERE step = ?", (step,))
                writer.commit()
                step += 1
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    seen: list[int] = []
    try:
        for _ in range(25):
            run = logscope.read(tmp_path / "live.db" / "r")
            steps = run.frame["step"].to_list()
            assert run.problems == []
            assert steps == list(range(len(steps)))
            seen.append(len(steps))
    finally:
        stop.set()
        thread.join()
    assert seen == sorted(seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.db"]


def test_a_trackio_database_with_hostile_rows_reads_what_it_can(tmp_path):
    import sqlite3

    path = tmp_path / "proj.db"
    rows = [
        ("r", 1, '{"loss": 1.0, "^x_loss$": 3.0}'),
        ("r", 2, '{"a":' * 5_000 + "1" + "}" * 5_000),  # nested 5,000 deep
        ("r", 3, b"\xff\x00\xfe"),  # a binary blob
        ("r", "four", '{"loss": 4.0}'),  # a text step
        ("r", 5, '{"loss": 5.0, "loss": 6.0}'),  # a key twice
        (None, 6, '{"loss": 0.0}'),  # no run name
        ("../..", 7, '{"loss": 0.0}'),  # a name that is a path
    ]
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT,"
            " project_name TEXT, run_name TEXT, step INTEGER, metrics TEXT)"
        )
        connection.executemany(
            "INSERT INTO metrics (run_name, step, metrics) VALUES (?, ?, ?)", rows
        )
    connection.close()

    runs = read_runs(path)

    run = next(r for r in runs if r.path.endswith("proj.db/r"))
    # the row with a text step keeps the step before it, and a note says so
    assert run.frame.filter(pl.col("loss").is_not_null()).rows() == [
        (1, None, 1.0, 3.0), (3, None, 4.0, None), (5, None, 5.0, None)
    ]  # fmt: skip
    assert any("given the step of the line before" in n for s in run.sources for n in s.notes)
    assert run.frame["^x_loss$"].to_list()[0] == 3.0
    found = " | ".join(messages(run))
    assert "nested deeper than" in found
    assert "key 'loss' appears twice" in found
    assert all(p.path == run.path for p in run.problems)


def test_a_text_column_named_like_a_regex_in_a_csv_is_read(tmp_path):
    """Found by the long fuzz run (benchmarks/bench_fuzz.py): a CSV column `^x_loss$` holding
    text crashed tabulating (Polars Series methods read the name as a pattern)."""
    path = tmp_path / "m.csv"
    path.write_text('step,loss,"^x_loss$"\n1,2.0,x\n2,1.9,0.5\n3,1.8,0.4\n')

    run = read_runs(path)[0]

    assert run.frame.get_column("^x_loss$").to_list() == [None, 0.5, 0.4]
    assert any("'^x_loss$' has 1 non-numeric value(s)" in p.message for p in run.problems)
