"""`tail -f PATH` before PATH exists waits for it, like `tail -F`: one message, `--idle` bounds
the wait (exit 2, saying so), and once the run folder appears it is followed as usual.
Without --follow a missing path stays an error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from logscope.errors import InputError
from logscope.follow.appear import exists, wait_for

Cli = Any  # the `cli` fixture of tests/conftest.py
ROOT = Path(__file__).resolve().parents[2]


class FakeTime:
    """A clock that moves only when slept on, and creates `path` at `at` seconds."""

    def __init__(self, path: Path, at: float | None) -> None:
        self.now = 0.0
        self.path = path
        self.at = at
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.at is not None and self.now >= self.at and not self.path.exists():
            self.path.mkdir(parents=True)


def test_wait_for_returns_once_the_path_appears(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "new"
    fake = FakeTime(run, at=3.0)
    assert wait_for(run, idle=None, poll=0.25, clock=fake.clock, sleep=fake.sleep)
    assert fake.now == pytest.approx(3.0) and set(fake.sleeps) == {0.25}


def test_wait_for_gives_up_after_idle_seconds(tmp_path: Path) -> None:
    fake = FakeTime(tmp_path / "never", at=None)
    assert not wait_for(tmp_path / "never", idle=1.1, poll=0.25, clock=fake.clock, sleep=fake.sleep)
    assert fake.now == pytest.approx(1.1)  # the last sleep is cut to end on time
    assert not wait_for(tmp_path / "never", idle=0, poll=0.25, clock=fake.clock, sleep=fake.sleep)


def test_a_path_that_can_never_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be looked at"):
        exists(tmp_path / ("x" * 300))  # longer than a file name may be
    assert not exists(tmp_path / "file" / "below")  # ENOTDIR only once "file" is a file
    (tmp_path / "file").write_text("")
    assert not exists(tmp_path / "file" / "below")


def rows(first: int, last: int, nan_at: int | None = None) -> str:
    out = []
    for step in range(first, last + 1):
        loss = "NaN" if step == nan_at else str(round(2.0 - 0.01 * step, 4))
        out.append(f'{{"step": {step}, "loss": {loss}, "grad_norm": 1.0}}')
    return "\n".join(out) + "\n"


def test_tail_follow_waits_for_a_run_folder_created_later(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: a thread plays the trainer, creating the folder once tail waits, then
    its log."""
    from logscope.follow import appear

    run = tmp_path / "runs" / "kto-7b"
    waiting = threading.Event()

    def wait_for_seen(*args: Any, **kwargs: Any) -> bool:
        waiting.set()
        return wait_for(*args, **kwargs)

    monkeypatch.setattr(appear, "wait_for", wait_for_seen)

    def trainer() -> None:
        assert waiting.wait(60)
        time.sleep(0.3)
        run.mkdir(parents=True)
        time.sleep(0.3)
        (run / "metrics.jsonl").write_text(rows(1, 12, nan_at=12))

    thread = threading.Thread(target=trainer)
    thread.start()
    try:
        result = cli(["tail", run, "-f", "--idle", "3", "--poll", "0.05"], exit_code=1)
    finally:
        thread.join()
    lines = result.stdout.splitlines()
    assert lines[0] == f"NOTE waiting for {run} to appear"
    assert lines.count(lines[0]) == 1
    assert any(
        line.startswith("FINDING error common/loss-nonfinite metric=loss step=12") for line in lines
    )
    assert lines[-1].startswith("SUMMARY idle: step 12, 12 rows, 1 error(s)")


def test_tail_follow_gives_up_after_idle_with_exit_2(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "not-started"
    result = cli(["tail", missing, "-f", "--idle", "0.3", "--poll", "0.05"], exit_code=2)
    assert result.stdout.splitlines() == [f"NOTE waiting for {missing} to appear"]
    assert (
        f"error: {missing}: did not appear within 0.3 s (--idle 0.3); nothing to follow"
        in result.stderr
    )
    assert not missing.exists()  # waiting creates nothing


def test_a_folder_that_never_gets_a_log_ends_like_a_missing_one(cli: Cli, tmp_path: Path) -> None:
    result = cli(["tail", tmp_path, "-f", "--idle", "0.3", "--poll", "0.05"], exit_code=2)
    assert "no training log found" in result.stdout
    assert f"error: {tmp_path}: no log appeared within 0.3 s (--idle 0.3)" in result.stderr


def test_without_follow_a_missing_path_is_still_an_error(cli: Cli, tmp_path: Path) -> None:
    result = cli(["tail", tmp_path / "nope"], exit_code=2)
    assert "no such file or folder" in result.stderr and "waiting" not in result.stdout


def test_usage_errors_come_before_waiting(cli: Cli, tmp_path: Path) -> None:
    """A typo in --select is reported at once, not after the run has started."""
    result = cli(["tail", tmp_path / "later", "-f", "--select", "no-such-rule"], exit_code=2)
    assert "waiting" not in result.stdout and "no-such-rule" in result.stderr


def test_a_waiting_tail_process_follows_the_file_and_ctrl_c_while_waiting(tmp_path: Path) -> None:
    """As a user runs it: a separate process, a log file (not a folder) that appears later;
    then a second tail interrupted while it waits ends with exit 0 and a summary."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("LOGSCOPE_FAIL_ON", None)
    log = tmp_path / "metrics.jsonl"
    command = [sys.executable, "-m", "logscope", "tail", "--poll", "0.05", "-f"]
    follow = subprocess.Popen(
        [*command, str(log), "--idle", "30", "--exit-on", "error"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    waiting = subprocess.Popen(
        [*command, str(tmp_path / "never")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert follow.stdout is not None and waiting.stdout is not None
        assert follow.stdout.readline() == f"NOTE waiting for {log} to appear\n"
        assert waiting.stdout.readline() == f"NOTE waiting for {tmp_path / 'never'} to appear\n"
        with log.open("w") as handle:  # the trainer starts: healthy rows, then a NaN loss
            handle.write(rows(1, 5))
            handle.flush()
            time.sleep(0.5)
            handle.write(json.dumps({"step": 6, "loss": "NaN"}).replace('"NaN"', "NaN") + "\n")
        out, err = follow.communicate(timeout=60)
        assert follow.returncode == 1, err  # --exit-on error: the NaN ended it
        assert "FINDING error common/loss-nonfinite metric=loss step=6" in out
        waiting.send_signal(signal.SIGINT)
        out, err = waiting.communicate(timeout=60)
        assert waiting.returncode == 0, err
        assert f"SUMMARY interrupted: {tmp_path / 'never'} never appeared, 0 rows" in out
    finally:
        for process in (follow, waiting):
            if process.poll() is None:
                process.kill()
                process.communicate()
