"""`logscope export RUN -o -`: the frame on stdout (format from --format), nothing else there."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = "sft_nan_truncated"  # NaN and a truncated last line: values that must survive


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_stdout_carries_exactly_the_file(cli, samples: Path, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    """What -o - prints is byte for byte what -o FILE writes; the note goes to stderr."""
    file = tmp_path / f"m.{fmt}"
    cli(["export", samples / RUN, "-o", file])
    result = cli(["export", samples / RUN, "-o", "-", "--format", fmt])
    assert result.stdout == file.read_text()
    assert "to stdout" in result.stderr and "wrote" not in result.stdout
    if fmt == "jsonl":
        rows = [json.loads(line) for line in result.stdout.splitlines()]  # strict JSON
        assert "NaN" in {v for row in rows for v in row.values()}


def test_parquet_into_a_pipe(samples: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "logscope",
            "export",
            str(samples / RUN),
            "-o",
            "-",
            "-f",
            "parquet",
        ],
        capture_output=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    frame = pl.read_parquet(io.BytesIO(proc.stdout))
    assert frame.height > 0 and frame.columns[0] == "step"


def test_parquet_to_a_terminal_is_refused(samples: Path) -> None:
    args = ["export", str(samples / RUN), "-o", "-", "--format", "parquet"]
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "logscope", *args],
            stdout=follower,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            check=False,
        )
    finally:
        os.close(follower)
    os.set_blocking(leader, False)
    try:
        shown = os.read(leader, 65536)
    except (BlockingIOError, OSError):
        shown = b""
    os.close(leader)
    assert proc.returncode == 2
    assert b"stdout is a terminal" in proc.stderr and b"-o metrics.parquet" in proc.stderr
    assert b"PAR1" not in shown  # no binary reached the terminal


def test_stdout_needs_a_format(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["export", samples / RUN, "-o", "-"], exit_code=2)
    assert "add --format csv or jsonl" in result.stderr and result.stdout == ""


def test_format_and_suffix_must_agree(cli, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "m.csv"
    result = cli(["export", samples / RUN, "-o", out, "-f", "jsonl"], exit_code=2)
    assert "--format jsonl contradicts the file's suffix '.csv'" in result.stderr
    assert not out.exists()
    bad = cli(["export", samples / RUN, "-o", "-", "-f", "xlsx"], exit_code=2)
    assert "--format xlsx: unknown export format" in bad.stderr


def test_format_names_a_file_without_suffix(cli, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "metrics"
    cli(["export", samples / RUN, "-o", out, "-f", "csv"])
    assert out.read_text().startswith("step,")
