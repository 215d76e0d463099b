"""Shared fixtures: the CLI runner asserts the exit code every time (sqlfluff's habit)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"


class Cli:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NO_COLOR", "1")
        monkeypatch.setenv("COLUMNS", "100")
        monkeypatch.delenv("LOGSCOPE_FORMAT", raising=False)
        monkeypatch.delenv("LOGSCOPE_FAIL_ON", raising=False)
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)  # the table as anywhere else
        self.runner = CliRunner()

    def __call__(self, args: list[str], exit_code: int = 0):  # type: ignore[no-untyped-def]
        from logscope.cli import app

        result = self.runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == exit_code, (
            f"exit {result.exit_code} != {exit_code}\nstdout:\n{result.stdout}\n"
            f"stderr:\n{result.stderr}\n{result.exception!r}"
        )
        return result


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(monkeypatch)


@pytest.fixture
def samples() -> Path:
    return SAMPLES
