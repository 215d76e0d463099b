"""The README's sample output is what `logscope check` prints (off a terminal: unwrapped)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "$ logscope check sample_logs/kto_diverging\n"


def test_readme_sample_output_is_true(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    readme = (ROOT / "README.md").read_text()
    start = readme.index(COMMAND) + len(COMMAND)
    shown = readme[start : readme.index("\n...\n```", start)].splitlines()
    monkeypatch.chdir(ROOT)
    printed = cli(["check", "sample_logs/kto_diverging"], exit_code=1).stdout.splitlines()
    assert printed[: len(shown)] == shown
