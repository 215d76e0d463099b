"""The console command pauses the garbage collector while it imports and freezes what the
imports built; the collector is on again for the command's own work, and a process running
many commands (these tests, a notebook) never has anything frozen."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from logscope.cli.startup import loading

ROOT = Path(__file__).resolve().parents[2]


def _console_check(
    at_exit: str, *, freeze_at_end: bool = True, env: dict[str, str] | None = None
) -> str:
    """Run a small `check` as the console command does, printing `at_exit` (an expression)
    from an atexit handler: what the collector holds as the process ends."""
    code = (
        "import atexit, gc, os, sys\n"
        "import logscope.cli.startup as startup\n"
        + ("" if freeze_at_end else "startup.ending = lambda: None\n")
        + f"atexit.register(lambda: print({at_exit}))\n"
        "sys.argv = ['logscope', 'check', 'sample_logs/kto_healthy', '-qq']\n"
        "from logscope.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_console_command_freezes_its_imports_and_collects_afterwards() -> None:
    out = _console_check("'GC', gc.isenabled(), gc.get_freeze_count() > 10**4", freeze_at_end=False)
    assert out == "GC True True"  # on again; Polars & co. frozen as they were imported


def test_the_console_command_leaves_nothing_for_the_exit_to_collect() -> None:
    out = _console_check("'tracked', len(gc.get_objects())")
    assert out == "tracked 0"  # all frozen: the last collection reads nothing


@pytest.mark.parametrize(("given", "used"), [(None, "1"), ("3", "3")])
def test_the_console_command_asks_openblas_for_one_thread_unless_told(
    given: str | None, used: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenBLAS's spinning threads cost every command ~0.1 CPU-s (and a sweep's second
    process its core); a number the user set is kept."""
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    env = {} if given is None else {"OPENBLAS_NUM_THREADS": given}
    out = _console_check("'blas', os.environ.get('OPENBLAS_NUM_THREADS')", env=env)
    assert out == f"blas {used}"


@pytest.mark.parametrize(
    ("argv", "code"), [(["check", "sample_logs/kto_healthy"], 0), (["check", "no/such/run"], 2)]
)
def test_commands_run_in_process_freeze_nothing(argv: list[str], code: int, cli) -> None:  # type: ignore[no-untyped-def]
    frozen = gc.get_freeze_count()
    cli(argv, exit_code=code)
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_loading_leaves_the_collector_as_it_found_it() -> None:
    assert gc.isenabled()
    with pytest.raises(ImportError), loading():
        assert not gc.isenabled()
        import logscope.no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert gc.isenabled()
    gc.disable()
    try:
        with loading():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
