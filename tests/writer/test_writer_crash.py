"""Crash safety: a SIGKILL at any moment loses at most the line being written.

A real child process appends to one log as fast as it can (lines from 40 bytes to 70 KB,
so some kills land inside a multi-page write) and is killed at a random moment, again and
again, each new child resuming the same file. After every kill, every line written before
the one in flight must still be intact, and run.json must be whole.

A fast disk rarely lets a kill land inside a write, so a second test runs the child on a
slow disk: its `os.write` stores at most 4 KiB per call after a pause (short writes the
writer must finish) and its `os.fsync` pauses too, so most kills land inside a 20-40 KB
line, between a write and its fsync, or inside a run.json replacement; the test counts
them and requires the mid-line ones to be the majority.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from writer_support import strict_loads

import logscope
from logscope.writer import MetricWriter

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")

_CHILD = """
import sys
from logscope.writer import MetricWriter
folder, run = sys.argv[1], int(sys.argv[2])
sizes = [0, 10, 1000, 5000, 70000]
print("ready", flush=True)
with MetricWriter(folder, config={"run": run}, fsync="never") as writer:
    seq = 0
    while True:
        writer.log({"run": run, "seq": seq, "pad": "x" * sizes[seq % len(sizes)]}, step=seq)
        seq += 1
"""

KILLS = 15


def test_sigkill_at_random_moments_loses_at_most_the_line_in_flight(tmp_path: Path) -> None:
    rng = random.Random(20240611)
    folder = tmp_path / "run"
    path = folder / "metrics.jsonl"
    log = Log(path)
    deadline = time.monotonic() + 60
    for run in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(folder), str(run)], stdout=subprocess.PIPE
        )
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.0, 0.3))  # sometimes while opening or in run.json, mostly mid-loop
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
        child.stdout.close()
        log.check(kills=run + 1)
        manifest = folder / "run.json"
        if manifest.exists():
            assert isinstance(json.loads(manifest.read_text()), dict)
        assert time.monotonic() < deadline, "the crash loop should take seconds, not a minute"
    assert sum(len(s) for s in log.seqs.values()) > 100, "the kills should land mid-loop too"
    read = logscope.read(path)
    assert read.frame.height == max(len(s) for s in log.seqs.values())  # steps repeat per child
    unterminated = 0 if path.read_bytes().endswith(b"\n") else 1
    assert len(read.problems) == log.fragments + unterminated


_SLOW_CHILD = """
import os, sys, time
real_write = os.write
def slow_write(fd, data):
    # a slow disk: at most 4 KiB per call (a short write the writer must finish); after a
    # piece that is not the end of the buffer, say so and pause, so a kill lands mid-line
    done = real_write(fd, data[:4096])
    if done < len(data):
        sys.stdout.write("w")
        sys.stdout.flush()
        time.sleep(0.005)
    return done
def slow_fsync(fd):
    time.sleep(0.001)  # no real fsync: a killed process keeps what the kernel has anyway
os.write, os.fsync = slow_write, slow_fsync
from logscope.writer import MetricWriter
folder, run = sys.argv[1], int(sys.argv[2])
with MetricWriter(folder, config={"run": run}, fsync="line") as writer:
    seq = 0
    while True:
        writer.log({"run": run, "seq": seq, "pad": "x" * (20000 + 997 * (seq % 20))}, step=seq)
        if seq % 4 == 3:
            writer.update_manifest(progress=seq)
        seq += 1
"""

SLOW_KILLS = 12


def test_sigkill_inside_writes_loses_at_most_the_line_in_flight(tmp_path: Path) -> None:
    """Kills timed on the write calls: after a random number of partial writes (the child
    reports each), so they land inside lines, between a line's write and its fsync, or
    inside a run.json replacement."""
    rng = random.Random(17)
    folder = tmp_path / "run"
    path = folder / "metrics.jsonl"
    log = Log(path)
    mid_line = 0
    started = time.monotonic()
    for run in range(SLOW_KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", _SLOW_CHILD, str(folder), str(run)], stdout=subprocess.PIPE
        )
        assert child.stdout is not None
        for _ in range(rng.randint(1, 25)):  # partial writes to let by before the kill
            assert child.stdout.read(1) == b"w"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
        child.stdout.close()
        mid_line += 0 if path.read_bytes().endswith(b"\n") else 1
        log.check(kills=run + 1)
        assert isinstance(json.loads((folder / "run.json").read_text()), dict)
        temps = [p for p in folder.iterdir() if p.name.endswith(".tmp")]
        assert len(temps) <= 1  # at most the killed child's; the next child removes it
    assert time.monotonic() - started < 30
    assert mid_line >= SLOW_KILLS * 3 // 4, f"only {mid_line} kills landed inside a line"
    with MetricWriter(folder):  # the last fragment is ended, the last temp file removed
        pass
    log.check(kills=SLOW_KILLS)
    assert log.fragments == mid_line  # each cut line is one bad line, nothing glued to it
    assert sum(len(s) for s in log.seqs.values()) >= SLOW_KILLS  # and lines got written
    read = logscope.read(path)
    assert len(read.problems) == mid_line
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


class Log:
    """Checks the file after each kill, parsing only what is new since the last check, and
    comparing every byte checked before with what is there now."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.verified = b""  # the file up to the last complete line, as already checked
        self.fragments = 0
        self.seqs: dict[int, list[int]] = {}

    def check(self, kills: int) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        assert data.startswith(self.verified), "bytes written before an earlier kill changed"
        end = data.rfind(b"\n") + 1
        new = data[len(self.verified) : end]
        for line in new.splitlines():
            try:
                record = strict_loads(line)
            except ValueError:  # a line a kill cut short, ended by the next writer
                assert line.startswith(b'{"step": ')
                self.fragments += 1
                continue
            assert record["pad"] == "x" * len(record["pad"])
            self.seqs.setdefault(record["run"], []).append(record["seq"])
        self.verified = data[:end]
        assert self.fragments <= kills  # at most the line in flight, per kill
        for run, got in self.seqs.items():
            # each child's lines are a gap-free prefix of what it wrote
            assert got == list(range(len(got))), f"run {run}: lines missing or out of order"
