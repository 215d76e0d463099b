"""The writer under injected faults (tests/writer/faults.py): short writes, a full disk
(ENOSPC) mid-line and at start, EIO on write and fsync, a kill between write and fsync or
inside a write. Whatever happens, the log stays readable line by line (a fragment is one
bad line, never glued to the next record), run.json is whole (the old one or the new one),
no temporary file stays behind, one warning is given, and nothing raises into training
unless on_error="raise"."""

from __future__ import annotations

import errno
import io
import json
import logging
import math
import tempfile
from pathlib import Path

import pytest
from faults import Disk, Killed
from hypothesis import example, given, settings
from hypothesis import strategies as st
from writer_support import strict_lines, strict_loads

import logscope
from logscope.ingest import read_run
from logscope.writer import MetricWriter


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "run"
    path.mkdir()
    return path


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Disk:
    return Disk(monkeypatch, folder)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def read_back(folder: Path) -> tuple[list[int], list[str]]:
    """Steps `logscope check` reads from the log, and the problems it reports."""
    read = read_run(folder / "metrics.jsonl")
    return read.frame.get_column("step").to_list(), [p.message for p in read.problems]


def test_a_short_write_is_finished(folder: Path, disk: Disk) -> None:
    with MetricWriter(folder) as writer:
        writer.log({"loss": 1.0}, step=1)
        disk.short = 7
        writer.log({"loss": 2.0, "note": "x" * 100}, step=2)
    assert [r["step"] for r in strict_lines(folder / "metrics.jsonl")] == [1, 2]


def test_disk_full_mid_line_then_space_returns(
    folder: Path, disk: Disk, caplog: pytest.LogCaptureFixture
) -> None:
    """The reported case: after a disk-full error the next record was glued onto the
    partial line. Now the fragment is one bad line and the next record stands alone."""
    with caplog.at_level(logging.INFO, logger="logscope"), MetricWriter(folder) as writer:
        writer.log({"loss": 1.0}, step=1)
        disk.free = 15  # the next line gets 15 bytes, then the disk is full
        for step in (2, 3, 4):
            record = writer.log({"loss": float(step)}, step=step)  # no exception
            assert record["step"] == step
        disk.heal()
        writer.log({"loss": 5.0}, step=5)
        assert (writer.lines, writer.unsaved) == (2, 3)
    steps, problems = read_back(folder)
    assert steps == [1, 5]
    assert len(problems) == 1 and "not valid JSON" in problems[0]
    lines = (folder / "metrics.jsonl").read_bytes().split(b"\n")
    assert lines[1] == b'{"step": 2, "wa'  # the fragment, ended by the next write
    assert strict_loads(lines[2])["step"] == 5
    messages = warnings_of(caplog)
    assert len(messages) == 1 and "ENOSPC" in messages[0] and "training goes on" in messages[0]
    assert any("works again; 3 row(s)" in r.getMessage() for r in caplog.records)
    manifest = json.loads((folder / "run.json").read_text())
    assert manifest["unsaved_rows"] == 3 and manifest["lines"] == 2
    assert temp_files(folder) == []


def test_a_fragment_is_ended_at_once_when_the_disk_takes_a_byte(folder: Path, disk: Disk) -> None:
    """EIO after a partial write: the newline goes in right away, before any next record."""
    with MetricWriter(folder) as writer:
        writer.log({"loss": 1.0}, step=1)
        disk.fail_after = (9, errno.EIO)
        writer.log({"loss": 2.0}, step=2)
        assert (folder / "metrics.jsonl").read_bytes().endswith(b'\n{"step": \n')
        writer.log({"loss": 3.0}, step=3)
    steps, problems = read_back(folder)
    assert steps == [1, 3] and len(problems) == 1


def test_eio_on_write_and_fsync_warns_once_and_resumes(
    folder: Path, disk: Disk, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="logscope"):
        with MetricWriter(folder, fsync="line") as writer:
            writer.log({"loss": 1.0}, step=1)
            disk.error = errno.EIO
            for step in range(2, 12):
                writer.log({"loss": 1.0}, step=step)
            writer.flush()
            disk.heal()
            writer.log({"loss": 1.0}, step=12)
        messages = warnings_of(caplog)
    assert len(messages) == 1 and "EIO" in messages[0]
    assert read_back(folder) == ([1, 12], [])


def test_on_error_raise_raises_and_still_leaves_the_file_ready(folder: Path, disk: Disk) -> None:
    writer = MetricWriter(folder, on_error="raise")
    writer.log({"loss": 1.0}, step=1)
    disk.free = 20
    with pytest.raises(OSError, match="No space left"):
        writer.log({"loss": 2.0}, step=2)
    disk.heal()
    writer.log({"loss": 3.0}, step=3)
    writer.close()
    steps, problems = read_back(folder)
    assert steps == [1, 3] and len(problems) == 1


def test_monitor_on_a_disk_full_at_start(
    folder: Path, disk: Disk, caplog: pytest.LogCaptureFixture
) -> None:
    """The reported case: logscope.monitor() raised OSError into the training script.
    Now: one warning, live checks on the rows in memory, the log once space returns."""
    disk.free = 0
    out = io.StringIO()
    with caplog.at_level(logging.WARNING, logger="logscope"):
        mon = logscope.monitor(folder, stop_on="error", every=1, stream=out)
        mon.log({"loss": 1.0}, step=1)
        mon.log({"loss": math.nan}, step=2)
        assert mon.should_stop  # checked in memory although nothing could be saved
        disk.heal()
        mon.log({"loss": 0.5}, step=3)
        mon.close()
    writes = [m for m in warnings_of(caplog) if "cannot write" in m]
    assert len(writes) == 1 and "ENOSPC" in writes[0]
    assert read_back(folder) == ([3], [])
    manifest = json.loads((folder / "run.json").read_text())
    assert manifest["unsaved_rows"] == 2 and manifest["stopped"]["step"] == 2
    assert temp_files(folder) == []


def test_run_json_on_a_nearly_full_disk_keeps_the_old_one(
    folder: Path, disk: Disk, caplog: pytest.LogCaptureFixture
) -> None:
    """The reported case: a short write renamed a partial run.json over the good one and
    left `.run.json.<pid>.tmp` behind with 3 KiB free."""
    config = {f"key{i}": "v" * 40 for i in range(100)}  # ~5 KB of manifest
    with caplog.at_level(logging.WARNING, logger="logscope"):
        writer = MetricWriter(folder, config=config)
        before = (folder / "run.json").read_text()
        disk.free = 3 << 10
        writer.update_manifest(stopped={"step": 1})
        assert (folder / "run.json").read_text() == before
        assert temp_files(folder) == []
        disk.heal()
        writer.close()
    assert len(warnings_of(caplog)) == 1
    assert json.loads((folder / "run.json").read_text())["stopped"] == {"step": 1}


def test_run_json_that_reads_back_wrong_is_not_renamed(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that claims success but stored less (a lying network file system) is
    caught by the completeness check before the rename."""
    import os

    from logscope.writer import manifest

    writer = MetricWriter(folder, on_error="raise")
    before = (folder / "run.json").read_text()
    real = os.write

    def lying(fd: int, data: bytes) -> int:
        real(fd, data[:-10])
        return len(data)

    monkeypatch.setattr(manifest.os, "write", lying)
    with pytest.raises(OSError, match="bytes stored"):
        writer.update_manifest(note="x")
    monkeypatch.undo()
    assert (folder / "run.json").read_text() == before
    assert temp_files(folder) == []
    writer.close()


def test_kill_between_write_and_fsync_loses_nothing(folder: Path, disk: Disk) -> None:
    """The line is in the kernel before fsync: a process killed there loses none of it."""
    writer = MetricWriter(folder, fsync="line")
    writer.log({"loss": 1.0}, step=1)
    disk.kill_at = "fsync"
    with pytest.raises(Killed):
        writer.log({"loss": 2.0}, step=2)
    assert [r["step"] for r in strict_lines(disk.snapshot / "metrics.jsonl")] == [1, 2]
    assert json.loads((disk.snapshot / "run.json").read_text())["metrics_file"] == "metrics.jsonl"


def test_kill_inside_a_manifest_write_leaves_the_old_one_and_the_next_run_cleans_up(
    folder: Path, disk: Disk
) -> None:
    writer = MetricWriter(folder)
    writer.log({"loss": 1.0}, step=1)
    disk.kill_at = "manifest-fsync"
    with pytest.raises(Killed):
        writer.update_manifest(stopped={"step": 1})
    snapshot = disk.snapshot
    assert len(temp_files(snapshot)) == 1  # what the killed process left
    assert "stopped" not in json.loads((snapshot / "run.json").read_text())
    with MetricWriter(snapshot) as resumed:
        resumed.log({"loss": 2.0}, step=2)
    assert temp_files(snapshot) == []
    assert len(json.loads((snapshot / "run.json").read_text())["restarts"]) == 1


def test_kill_inside_a_write_then_resume(
    folder: Path, disk: Disk, caplog: pytest.LogCaptureFixture
) -> None:
    """A kill mid-line leaves a fragment; the next run ends it before its first line."""
    writer = MetricWriter(folder)
    writer.log({"loss": 1.0}, step=1)
    disk.kill_at, disk.kill_stored = "write", 12
    with pytest.raises(Killed):
        writer.log({"loss": 2.0}, step=2)
    snapshot = disk.snapshot
    assert (snapshot / "metrics.jsonl").read_bytes().endswith(b'\n{"step": 2, ')
    with caplog.at_level(logging.WARNING, logger="logscope"), MetricWriter(snapshot) as resumed:
        resumed.log({"loss": 3.0}, step=3)
    assert any("incomplete line" in m for m in warnings_of(caplog))
    steps, problems = read_back(snapshot)
    assert steps == [1, 3] and len(problems) == 1


FAULTS = st.one_of(
    st.tuples(st.just("log"), st.integers(0, 300)),  # a row with this much padding
    st.tuples(st.just("full"), st.integers(0, 200)),  # the disk takes this many more bytes
    st.tuples(st.just("eio"), st.just(0)),
    st.tuples(st.just("short"), st.integers(1, 60)),
    st.tuples(st.just("cut"), st.integers(0, 40)),  # stores this much, then EIO
    st.tuples(st.just("heal"), st.just(0)),
)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.lists(FAULTS, max_size=30))
@example([("log", 0), ("full", 10), ("log", 0), ("log", 0), ("heal", 0), ("log", 0)])
def test_any_sequence_of_faults_leaves_a_readable_log(actions: list[tuple[str, int]]) -> None:
    """Whatever faults come in whatever order: log() never raises; the lines read back are
    exactly the rows whose log() was written, in order; every other line is a fragment of
    one row that failed, and each is one bad line; one warning per failing episode."""
    from logscope.writer.jsonl import _encode

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        folder = Path(tmp)
        disk = Disk(patch, folder)
        writer = MetricWriter(folder, fsync="never")
        saved: list[int] = []
        intended: dict[int, bytes] = {}
        episodes, failing = 0, False
        handler = _Count()
        logging.getLogger("logscope.writer").addHandler(handler)
        try:
            for step, (action, size) in enumerate(actions):
                if action == "log":
                    before = writer.lines
                    record = writer.log({"loss": 0.5, "pad": "x" * size}, step=step)
                    intended[step] = _encode(record)
                    if writer.lines > before:
                        saved.append(step)
                        failing = False
                    elif not failing:
                        failing, episodes = True, episodes + 1
                elif action == "full":
                    disk.free = size
                elif action == "eio":
                    disk.error = errno.EIO
                elif action == "short":
                    disk.short = size
                elif action == "cut":
                    disk.fail_after = (size, errno.EIO)
                else:
                    disk.heal()
            disk.heal()
            writer.close()
        finally:
            logging.getLogger("logscope.writer").removeHandler(handler)
        data = (folder / "metrics.jsonl").read_bytes()
        assert data == b"" or data.endswith(b"\n")
        good, bad = [], []
        for line in data.splitlines():
            try:
                good.append(strict_loads(line)["step"])
            except ValueError:
                bad.append(line)
        assert good == saved
        for fragment in bad:
            step = int(fragment.split(b",")[0].split(b":")[1]) if b"," in fragment else None
            assert step is None or intended[step].startswith(fragment)
        if bad:  # what `logscope check` says: one problem per fragment
            assert len(read_run(folder / "metrics.jsonl").problems) == len(bad)
        assert handler.warnings == episodes
        assert json.loads((folder / "run.json").read_text())["lines"] == len(saved)


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warnings = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings += 1
