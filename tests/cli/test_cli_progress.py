"""The progress bar: on a real terminal by default or when asked (--progress), never under
-qq, and never because FORCE_COLOR makes a CI log look like a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = "sample_logs/kto_diverging"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(COLUMNS="100", **extra)
    return env


def _piped(*args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "logscope", *args],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        timeout=120,
        check=False,
    )


def _stderr_on_a_terminal(*args: str) -> tuple[int, bytes, bytes]:
    """Run with stderr on a pseudo-terminal; (exit code, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "logscope", *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert process.stdout is not None
    with process.stdout:
        out = process.stdout.read()
    code = process.wait(timeout=120)
    os.close(master)
    return code, out, seen


def test_force_color_with_qq_writes_nothing() -> None:
    result = _piped("check", RUN, "-qq", FORCE_COLOR="1")
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr == b""


def test_no_bar_in_a_pipe_unless_asked() -> None:
    assert b"reading" not in _piped("check", RUN, FORCE_COLOR="1").stderr
    asked = _piped("check", RUN, "--progress")
    assert asked.returncode == 1
    assert b"reading" in asked.stderr
    assert b"reading" not in asked.stdout  # the payload stays clean
    assert _piped("check", RUN, "--progress", "-qq").stderr == b""


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal")
def test_on_a_terminal_the_bar_shows_but_not_with_qq() -> None:
    code, out, terminal = _stderr_on_a_terminal("check", RUN, "-f", "json")
    assert code == 1
    assert b"reading" in terminal
    assert out.startswith(b"{")
    code, out, terminal = _stderr_on_a_terminal("check", RUN, "-qq")
    assert (code, out, terminal) == (1, b"", b"")
