"""Crash safety: a SIGKILL at any moment loses at most the line being written.

A real child process appends to one log as fast as it can (lines from 40 bytes to 70 KB,
so some kills land inside a multi-page write) and is killed at a random moment, again and
again, each new child resuming the same file. After every kill, every line written before
the one in flight must still be intact, and run.json must be whole.
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

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")

_CHILD = """
import sys
from logscope.writer import MetricWriter
folder, run = sys.argv[1], int(sys.argv[2])
sizes = [0, 10, 1000, 5000, 70000]
with MetricWriter(folder, config={"run": run}, fsync="never") as writer:
    seq = 0
    while True:
        writer.log({"run": run, "seq": seq, "pad": "x" * sizes[seq % len(sizes)]}, step=seq)
        seq += 1
"""

KILLS = 25


def test_sigkill_at_random_moments_loses_at_most_the_line_in_flight(tmp_path: Path) -> None:
    rng = random.Random(20240611)
    folder = tmp_path / "run"
    path = folder / "metrics.jsonl"
    log = Log(path)
    deadline = time.monotonic() + 60
    for run in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(folder), str(run)])
        time.sleep(rng.uniform(0.02, 0.35))  # sometimes during startup or run.json, mostly mid-loop
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
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
