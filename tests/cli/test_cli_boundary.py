"""The error boundary: a crash anywhere is one line naming the command and what it read, and
exit 2 (never 1, the findings code; never a traceback unless asked for)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from logscope.errors import InputError


def _deep(n: int = 0) -> None:
    _deep(n + 1)  # a real RecursionError, raised from deep down the stack


def _raiser(kind: str) -> Callable[..., Any]:
    def crash(*args: Any, **kwargs: Any) -> Any:
        if kind == "RecursionError":
            _deep()
        if kind == "IndexError":
            [][1]  # the bug being simulated
        raise RuntimeError("boom\nsecond line of the message")

    return crash


def _read_then_crash(kind: str) -> Callable[..., Any]:
    """A reader that reports progress on a file, as real readers do, then crashes."""

    def read(found: Any, base: Path, progress: Any = None, options: Any = None) -> Any:
        if progress:
            progress("run/metrics.jsonl", 10, 100)
        return _raiser(kind)()

    return read


def _run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text(
        "".join(json.dumps({"step": s, "loss": 1.0 / s}) + "\n" for s in range(1, 30))
    )
    return run


def _assert_one_line(result: Any, command: str) -> str:
    assert "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: logscope {command}: internal error")
    assert "this is a bug in logscope, please report this at" in line
    assert "--debug" in line
    return str(line)


@pytest.mark.parametrize("kind", ["RuntimeError", "IndexError", "RecursionError"])
def test_a_reader_crash_in_check_is_exit_2_naming_the_file(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr("logscope.ingest.read_found", _read_then_crash(kind))
    result = cli(["check", _run(tmp_path)], exit_code=2)
    line = _assert_one_line(result, "check")
    assert "while reading run/metrics.jsonl" in line
    assert f"({kind}" in line
    assert "second line" not in line  # one line, whatever the exception says


@pytest.mark.parametrize(
    ("args", "target"),
    [
        (["report", "{run}", "-o", "{tmp}/r.html"], "logscope.ingest.read_found"),
        (["diff", "{run}", "{run}"], "logscope.ingest.read_found"),
        (["metrics", "{run}"], "logscope.ingest.read_found"),
        (["export", "{run}", "-o", "{tmp}/m.csv"], "logscope.ingest.read_found"),
        (["explain", "loss"], "logscope.catalogue.load"),
        (["rules", "list"], "logscope.pipeline.load_packs"),
        (["rules", "lint", "{tmp}/none.yaml"], "logscope.rules.load.load_files"),
        (["tail", "{run}"], "logscope.follow.watch.Tail.scan"),
    ],
)
def test_every_command_runs_inside_the_boundary(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], target: str
) -> None:
    run = _run(tmp_path)
    monkeypatch.setattr(target, _raiser("IndexError"))
    argv = [a.format(run=run, tmp=tmp_path) for a in args]
    result = cli(argv, exit_code=2)
    line = _assert_one_line(result, " ".join(args[:2] if args[0] == "rules" else args[:1]))
    assert "(IndexError: list index out of range)" in line


def test_the_crash_names_the_paths_given_when_nothing_was_read_yet(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("logscope.pipeline.load_packs", _raiser("RuntimeError"))
    run = _run(tmp_path)
    line = _assert_one_line(cli(["check", run], exit_code=2), "check")
    assert f" on {run} " in line


@pytest.mark.parametrize("how", ["option", "env"])
def test_debug_shows_the_traceback(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setattr("logscope.ingest.read_found", _read_then_crash("IndexError"))
    if how == "env":
        monkeypatch.setenv("LOGSCOPE_DEBUG", "1")
    args = ["--debug"] if how == "option" else []
    result = cli([*args, "check", _run(tmp_path)], exit_code=2)
    assert "Traceback (most recent call last)" in result.stderr
    assert "IndexError: list index out of range" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: logscope check: internal error while reading")
    assert "--debug" not in last  # the traceback is already there


def test_a_user_error_is_its_message_not_a_bug_report(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise InputError("run/metrics.jsonl: a FIFO; pass a regular file")

    monkeypatch.setattr("logscope.ingest.read_found", refuse)
    result = cli(["metrics", _run(tmp_path)], exit_code=2)
    assert result.stderr.strip() == "error: run/metrics.jsonl: a FIFO; pass a regular file"


def test_ctrl_c_is_130_not_a_finding(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("logscope.ingest.read_found", interrupt)
    cli(["check", _run(tmp_path)], exit_code=130)


def test_usage_errors_keep_their_exit_code(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", _run(tmp_path), "--format", "xml"], exit_code=2)
    assert "internal error" not in result.output
    assert "'xml' is not one of" in result.output


def test_no_command_catches_errors_itself() -> None:
    """The boundary is the one place: no `except LogscopeError` left in the commands."""
    cli_dir = Path(__file__).resolve().parents[2] / "logscope" / "cli"
    for module in cli_dir.glob("*.py"):
        text = module.read_text()
        assert "except LogscopeError" not in text, module.name
        assert "except RulePackError" not in text, module.name
        if module.name != "boundary.py":
            assert "except Exception" not in text, module.name
