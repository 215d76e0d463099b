"""Multi-process runs: rank 0 only by default, or one folder per rank; lines never interleave."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from writer_support import strict_lines

from logscope.writer import MetricWriter
from logscope.writer.ranks import Ranks, from_env


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, Ranks(0, 0, 1)),
        ({"RANK": "3", "LOCAL_RANK": "1", "WORLD_SIZE": "8"}, Ranks(3, 1, 8)),
        ({"LOCAL_RANK": "2", "WORLD_SIZE": "4"}, Ranks(2, 2, 4)),  # single-node launchers
        ({"RANK": "1"}, Ranks(1, 1, 2)),
        ({"RANK": " 0 ", "WORLD_SIZE": ""}, Ranks(0, 0, 1)),
    ],
)
def test_ranks_from_env(env: dict[str, str], expected: Ranks) -> None:
    assert from_env(env) == expected


def test_explicit_ranks_win_over_env() -> None:
    env = {"RANK": "3", "WORLD_SIZE": "8"}
    assert from_env(env, rank=0, local_rank=0, world_size=2) == Ranks(0, 0, 2)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RANK": "one"}, "RANK='one' is not an integer"),
        ({"RANK": "4", "WORLD_SIZE": "4"}, "rank 4 .* does not fit world size 4"),
    ],
)
def test_bad_rank_env_is_explained(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_env(env)


def test_only_rank_zero_writes_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with MetricWriter(tmp_path) as writer:
        record = writer.log({"loss": 1.0}, step=5)
    assert not writer.active
    assert record["step"] == 5 and record["loss"] == 1.0  # still returned, for live checks
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("RANK", "0")
    with MetricWriter(tmp_path) as writer:
        writer.log({"loss": 1.0}, step=5)
    assert writer.active and writer.path == tmp_path / "metrics.jsonl"


def test_per_rank_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    for rank in ("0", "1"):
        monkeypatch.setenv("RANK", rank)
        monkeypatch.setenv("LOCAL_RANK", rank)
        with MetricWriter(tmp_path, per_rank=True) as writer:
            writer.log({"loss": float(rank)}, step=1)
    for rank in (0, 1):
        folder = tmp_path / f"rank{rank}"
        assert strict_lines(folder / "metrics.jsonl")[0]["loss"] == float(rank)
        data = json.loads((folder / "run.json").read_text())
        assert (data["rank"], data["world_size"], data["per_rank"]) == (rank, 2, True)


_CONCURRENT = """
import sys
from logscope.writer import MetricWriter
path, who = sys.argv[1], int(sys.argv[2])
# rank=0 on purpose: every process appends to the same file
with MetricWriter(path, rank=0, world_size=1, fsync="never") as writer:
    for i in range(150):
        writer.log({"who": who, "i": i, "payload": "x" * (30000 + i)}, step=i)
"""


def test_concurrent_writers_never_interleave_partial_lines(tmp_path: Path) -> None:
    """Several processes appending to one file, each starting while the others write long
    (multi-page) lines: every line is whole, and no writer mistakes another's line in
    flight for a fragment left by a kill (O_APPEND, one write per line, flock)."""
    target = tmp_path / "shared.jsonl"
    procs = []
    for who in range(6):
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _CONCURRENT, str(target), str(who)],
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        time.sleep(0.03)
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    assert not any("incomplete line" in e for e in errors), errors
    lines = strict_lines(target)
    assert len(lines) == 900
    for who in range(6):
        assert [line["i"] for line in lines if line["who"] == who] == list(range(150))
