"""`logscope tail --follow` end to end: a writer process appends to a run while `tail` runs as
another process; what it prints, and when, is what a user (or a job log grep) sees."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("tail_writer.py")
LATENCY = 2.0  # seconds from bytes written to line printed (1 s goal; slack for a busy CI box)
WORDS = ("NOTE ", "FINDING ", "STALLED ", "PROGRESS ", "SUMMARY ")


def healthy(step: int) -> str:
    record = {
        "step": step,
        "loss": round(2.0 - 0.01 * step, 4),
        "grad_norm": 1.0 + 0.01 * (step % 3),
    }
    return json.dumps(record) + "\n"


class Tail:
    """`logscope tail ... --follow` in a subprocess; every output line with its arrival time."""

    started: ClassVar[list[Tail]] = []  # closed after each test, passed or failed

    def __init__(self, *args: str) -> None:
        Tail.started.append(self)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
        env.pop("LOGSCOPE_FAIL_ON", None)
        command = [sys.executable, "-m", "logscope", "tail", *args, "--follow", "--poll", "0.1"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
        )
        self.out: list[tuple[float, str]] = []
        self.err: list[str] = []
        self._threads = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, None), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read(self, stream, into) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            if into is None:
                self.err.append(line.rstrip("\n"))
            else:
                into.append((time.time(), line.rstrip("\n")))

    def wait_for(self, pattern: str, timeout: float = 15.0) -> float:
        """When the first stdout line matching `pattern` arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, line in list(self.out):
                if re.search(pattern, line):
                    return at
            if self.process.poll() is not None and not any(t.is_alive() for t in self._threads):
                break
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r}:\n{self.text()}\nstderr:\n{self.err}")

    def finish(self, timeout: float = 15.0) -> int:
        code = self.process.wait(timeout)
        self.close()
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for thread in self._threads:
            thread.join(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()

    def lines(self, pattern: str) -> list[str]:
        return [line for _, line in self.out if re.search(pattern, line)]

    def text(self) -> str:
        return "\n".join(line for _, line in self.out)


@pytest.fixture(autouse=True)
def _close_processes() -> Iterator[None]:
    yield
    while Tail.started:
        Tail.started.pop().close()
    while WRITERS:
        writer = WRITERS.pop()
        if writer.poll() is None:
            writer.kill()
        writer.communicate()


WRITERS: list[subprocess.Popen[str]] = []


def write(folder: Path, plan: list[dict[str, object]]) -> subprocess.Popen[str]:
    """Start the writer process on `plan` (see tail_writer.py)."""
    path = folder / ".plan.json"
    path.write_text(json.dumps(plan))
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(folder), str(path)], stdout=subprocess.PIPE, text=True
    )
    WRITERS.append(writer)
    return writer


def marks(writer: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = writer.communicate(timeout=30)
    found = {}
    for line in out.splitlines():
        _, name, at = line.split()
        found[name] = float(at)
    return found


def test_a_finding_is_announced_once_within_a_second_and_half_lines_wait(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text("".join(healthy(s) for s in range(1, 6)))
    tail = Tail(str(run), "--idle", "1.5", "--every", "5")
    tail.wait_for(r"^\s+5\s+1\.95")  # the -n rows of what was there already
    plan: list[dict[str, object]] = [
        {"append": "metrics.jsonl", "text": healthy(s), "sleep": 0} for s in range(6, 11)
    ]
    plan += [
        {"append": "metrics.jsonl", "text": '{"step": 11, "loss": 1.'},  # half a line...
        {"sleep": 0.6},
        {"append": "metrics.jsonl", "text": '89, "grad_norm": 1.0}\n', "mark": "rest"},
        {"sleep": 0.3},
        {
            "append": "metrics.jsonl",
            "text": '{"step": 12, "loss": NaN, "grad_norm": 1.0}\n',
            "mark": "nan",
        },
    ]
    plan += [{"append": "metrics.jsonl", "text": healthy(s)} for s in range(13, 16)]
    at = marks(write(run, plan))
    shown = tail.wait_for(r"^FINDING error common/loss-nonfinite metric=loss step=12 value=NaN \| ")
    assert shown - at["nan"] < LATENCY
    assert tail.finish() == 1  # --idle ended it; an error finding exists (--fail-on error)
    assert len(tail.lines("common/loss-nonfinite")) == 1  # once, not on every evaluation
    assert tail.lines(r"^PROGRESS step=10 rows=10 ") and tail.lines(r"^PROGRESS step=15 ")
    assert not tail.err  # the half line was never reported as broken
    assert tail.lines(r"^SUMMARY idle: step 15, 15 rows, 1 error\(s\)")
    table_end = next(i for i, (_, line) in enumerate(tail.out) if line.lstrip().startswith("5 "))
    for _, line in tail.out[table_end + 1 :]:
        assert line.startswith(WORDS), line  # every event line is grep-able by its first word


def test_exit_on_error_ends_tail_while_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "m.jsonl").write_text(healthy(1))
    tail = Tail(str(tmp_path), "--exit-on", "error", "-n", "1")
    tail.wait_for(r"^\s+1\s+1\.99")  # started, and caught up
    plan: list[dict[str, object]] = [{"append": "m.jsonl", "text": healthy(2)}, {"sleep": 0.2}]
    plan += [
        {
            "append": "m.jsonl",
            "text": '{"step": 3, "loss": 1, "grad_norm": Infinity}\n',
            "mark": "inf",
        }
    ]
    plan += [{"append": "m.jsonl", "text": healthy(s), "sleep": 0.3} for s in range(4, 6)]
    plan += [{"sleep": 3.0}]
    writer = write(tmp_path, plan)
    assert tail.finish() == 1
    ended = time.time()
    assert writer.poll() is None  # the run was still going when tail gave up on it
    at = marks(writer)
    assert ended - at["inf"] < LATENCY
    assert tail.lines(
        r"^FINDING error common/grad-norm-nonfinite metric=grad_norm step=3 value=Infinity"
    )


def test_truncation_a_new_file_and_a_run_that_starts_later(tmp_path: Path) -> None:
    tail = Tail(str(tmp_path), "--idle", "2", "--every", "1")
    tail.wait_for(r"^NOTE .*no training log found.*waiting for a log to appear")
    plan: list[dict[str, object]] = [
        {"append": "a.jsonl", "text": healthy(1) + healthy(2) + healthy(3)},
        {"sleep": 1.0},
        {"truncate": "a.jsonl"},
        {"append": "a.jsonl", "text": '{"step": 1, "loss": 7.5}\n'},
        {"sleep": 1.0},
        {"append": "b.jsonl", "text": '{"step": 100, "loss": 0.25}\n'},
    ]
    marks(write(tmp_path, plan))
    tail.wait_for(r"^PROGRESS step=3 rows=3 ")
    tail.wait_for(r"^NOTE .*a\.jsonl: truncated to \d+ bytes: reading it from the start")
    tail.wait_for(r"^NOTE .*b\.jsonl")
    tail.wait_for(r"^PROGRESS step=100 rows=5 .*loss=0\.25")
    assert tail.finish() == 0
    assert not tail.err


def test_tensorboard_records_and_a_record_cut_in_half(tmp_path: Path) -> None:
    name = "events.out.tfevents.1700000000.host.1.0"
    first = write(
        tmp_path, [{"events": name, "steps": [[s, {"loss": 2 - s / 100}] for s in range(1, 4)]}]
    )
    marks(first)
    tail = Tail(str(tmp_path), "--idle", "1.5", "--every", "1")
    tail.wait_for(
        r"^NOTE following TensorBoard event files: torch's SummaryWriter flushes every 120 s"
    )
    tail.wait_for(r"^\s+3\s+1\.97")
    plan: list[dict[str, object]] = [
        {"events": name, "steps": [[4, {"loss": 1.96}]], "split": 0.5, "pause": 0.6},
        {"events": name, "steps": [[5, {"loss": float("nan")}]], "mark": "nan"},
    ]
    at = marks(write(tmp_path, plan))
    shown = tail.wait_for(r"^FINDING error common/loss-nonfinite metric=loss step=5 value=NaN")
    assert shown - at["nan"] < LATENCY
    assert tail.finish() == 1
    assert tail.lines(r"^SUMMARY idle: step 5, 5 rows, 1 error"), tail.text()  # step 4 read whole
    assert re.search(r"last_record=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", tail.lines("^PROGRESS")[0])
    assert not tail.err  # the half record waited for its other half


def test_a_stalled_run_is_a_finding_and_ctrl_c_ends_cleanly(tmp_path: Path) -> None:
    (tmp_path / "m.jsonl").write_text(healthy(1) + healthy(2))
    tail = Tail(str(tmp_path), "--stall", "0.01", "-n", "1")  # 0.6 s without data
    tail.wait_for(r"^STALLED warning tail/stalled metric=- step=2 value=")
    line = tail.lines("^STALLED")[0]
    assert re.search(r"last record \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+s ago\), step 2", line)
    tail.process.send_signal(signal.SIGINT)
    assert tail.finish() == 0  # a stall is a warning; --fail-on error
    assert tail.lines(r"^SUMMARY interrupted: step 2, 2 rows, 0 error\(s\), 1 warning\(s\)")
    assert not any("Traceback" in line for line in tail.err)


def test_on_a_terminal_a_live_view_with_sparklines_and_banners(tmp_path: Path) -> None:
    pty = pytest.importorskip("pty")
    rows = [healthy(s) for s in range(1, 30)]
    rows.append('{"step": 30, "loss": NaN, "grad_norm": 1.0}\n')
    (tmp_path / "m.jsonl").write_text("".join(rows))
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "120"}
    command = [sys.executable, "-m", "logscope", "tail", str(tmp_path), "-f", "--idle", "1"]
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert process.wait(15) == 1
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode("utf-8", "replace"))
    assert re.search(r"╭─ +ERROR +common/loss-nonfinite", text)  # the banner, once
    assert text.count("ERROR  common/loss-nonfinite") == 1
    assert re.search(r"grad_norm +1 +1 +1\.02 +[▁▂▃▄▅▆▇█]+", text)  # key metrics + sparkline
    assert "1 finding(s)" in text and "idle: step 30, 30 rows, 1 error(s)" in text
