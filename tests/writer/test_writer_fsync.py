"""fsync policy: never, at close (default), every line, or at most every N seconds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from logscope.writer import MetricWriter, jsonl


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


def metrics_fsyncs(tmp_path: Path, fsyncs: list[int], policy: jsonl.FsyncPolicy) -> int:
    """fsyncs of the metrics file (run.json's temp files are fsynced on their own fds)."""
    writer = MetricWriter(tmp_path, fsync=policy)
    fd = writer._fd
    fsyncs.clear()
    for _ in range(5):
        writer.log({"loss": 1.0})
    during = fsyncs.count(fd)
    writer.close()
    return during * 100 + fsyncs.count(fd) - during


@pytest.mark.parametrize(
    ("policy", "during_and_at_close"),
    [("never", 0), ("close", 1), ("line", 501)],
)
def test_fsync_policies(
    tmp_path: Path, fsyncs: list[int], policy: jsonl.FsyncPolicy, during_and_at_close: int
) -> None:
    assert metrics_fsyncs(tmp_path, fsyncs, policy) == during_and_at_close


def test_fsync_interval(tmp_path: Path, fsyncs: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(0, 1000, 4))  # each reading 4 s later
    monkeypatch.setattr(jsonl.time, "monotonic", lambda: float(next(clock)))
    writer = MetricWriter(tmp_path, fsync=10.0)  # reads 0
    fd = writer._fd
    for _ in range(6):  # reads 4; 8; 12 -> sync (reads 16); 20; 24; 28 -> sync (reads 32)
        writer.log({"loss": 1.0})
    assert fsyncs.count(fd) == 2
    writer.close()


def test_never_means_no_fsync_at_all(tmp_path: Path, fsyncs: list[int]) -> None:
    with MetricWriter(tmp_path, fsync="never") as writer:
        writer.log({"loss": 1.0})
        writer.update_manifest(note="x")
    assert fsyncs == []


def test_flush_forces_an_fsync(tmp_path: Path, fsyncs: list[int]) -> None:
    with MetricWriter(tmp_path, fsync="never") as writer:
        writer.flush()
        assert fsyncs == [writer._fd]
