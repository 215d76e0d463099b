"""What starting logscope imports (checked in fresh interpreters, not timed): importing the
package or the CLI loads nothing heavy, `logscope --version` answers before Typer loads, a
command imports only its own command module, and a small `check` loads neither scipy,
pydantic (Typer's coercion), plotly nor pyarrow, nor the smaller modules it has no use for
(AVOIDABLE) — nor PyYAML once the built-in packs are in the cache
(benchmarks/bench_startup.py times it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("polars", "numpy", "scipy", "pyarrow", "plotly", "yaml", "rich", "typer", "pydantic")
# smaller modules a small check on the table needs none of: a pyproject.toml parser (only
# for one with a [tool.logscope] table, unlike this checkout's), HTML entities (HTML and
# Markdown escaping), gzip (compressed logs), Rich's emoji table (`:name:` codes)
AVOIDABLE = ("tomllib", "html", "gzip", "rich._emoji_codes")
# `logscope check sample_logs/kto_healthy -qq` run as the console script runs it
SMALL_CHECK = (
    "sys.argv = ['logscope', 'check', 'sample_logs/kto_healthy', '-qq']\n"
    "from logscope.cli import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exc:\n"
    "    assert exc.code == 0, exc.code\n"
)
REPORT = "print('LOADED', ','.join(m for m in {heavy!r} if m in sys.modules))"


def _loaded(code: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """Run `code` in a fresh interpreter; the heavy modules it left loaded, and its stdout."""
    script = f"import sys\n{code}\n{REPORT.format(heavy=HEAVY + AVOIDABLE)}"
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    *before, last = proc.stdout.strip().splitlines()
    assert last.startswith("LOADED"), proc.stdout
    return set(filter(None, last.removeprefix("LOADED").strip().split(","))), "\n".join(before)


@pytest.mark.parametrize("module", ["logscope", "logscope.cli", "logscope.writer"])
def test_importing_loads_nothing_heavy(module: str) -> None:
    loaded, _ = _loaded(f"import {module}")
    assert loaded == set()


@pytest.mark.parametrize(
    "argv", [["--version"], ["--debug", "--version"], ["--version", "--version"]]
)
def test_version_answers_before_typer_loads(argv: list[str], cli) -> None:  # type: ignore[no-untyped-def]
    code = (
        f"sys.argv = ['logscope', *{argv!r}]\n"
        "import runpy\n"
        "try:\n"
        "    runpy.run_module('logscope', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
    )
    loaded, out = _loaded(code)
    assert loaded == set()
    assert out == cli(argv).stdout.strip()  # what Typer's eager --version prints


def test_version_among_other_arguments_is_typers_to_answer(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli(["--version", "check"]).stdout.startswith("logscope ")
    assert "No such option" in cli(["check", "--version"], exit_code=2).stderr


def test_a_small_check_loads_only_what_it_uses(tmp_path: Path) -> None:
    env = {"LOGSCOPE_CACHE_DIR": str(tmp_path / "cache")}
    first, _ = _loaded(SMALL_CHECK, env)  # parses the built-in packs, then caches them
    unused = {"scipy", "pydantic", "plotly", "pyarrow", *AVOIDABLE}
    assert "yaml" in first and first.isdisjoint(unused)
    again, _ = _loaded(SMALL_CHECK, env)
    assert again.isdisjoint({"yaml", *unused})
    assert {"polars", "numpy"} <= again  # (it did read and check the run)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["check", "sample_logs/kto_diverging", "-f", "json"], 1),
        (["--debug", "check", "sample_logs/kto_healthy"], 0),
        (["check", "--help"], 0),
        (["rules", "list", "--pack", "kto"], 0),
        (["tail", "sample_logs/kto_healthy", "-n", "3"], 0),
        (["report", "--help"], 0),
        (["diff", "--help"], 0),
        (["metrics", "--help"], 0),
        (["export", "--help"], 0),
        (["explain", "--help"], 0),
        (["--help"], 0),
        (["chek", "sample_logs/kto_healthy"], 2),
    ],
)
def test_main_builds_only_the_named_command_and_answers_as_the_full_app(
    argv: list[str], code: int, cli
) -> None:  # type: ignore[no-untyped-def]
    script = (
        f"import sys\nsys.argv = ['logscope', *{argv!r}]\nfrom logscope.cli import main\nmain()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "100"}
    for name in ("LOGSCOPE_FORMAT", "LOGSCOPE_FAIL_ON", "GITHUB_ACTIONS"):
        env.pop(name, None)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert proc.returncode == code, proc.stderr
    full = cli(argv, exit_code=code)
    assert proc.stdout == full.stdout
    assert proc.stderr == full.stderr


def test_a_command_imports_only_its_own_command_module() -> None:
    code = SMALL_CHECK + "print(sorted(m for m in sys.modules if m.startswith('logscope.cli.')))\n"
    _, out = _loaded(code)
    assert out == str(
        [
            "logscope.cli.boundary",
            "logscope.cli.check",
            "logscope.cli.coercion",
            "logscope.cli.common",
            "logscope.cli.startup",
        ]
    )


def test_the_full_app_lists_commands_in_the_same_order_whatever_was_imported_first() -> None:
    code = (
        "import logscope.cli.tail, logscope.cli.explain\n"
        "from logscope.cli import app\n"
        "import typer.main\n"
        "print(list(typer.main.get_command(app).commands))\n"
    )
    _, out = _loaded(code)
    assert out == str(["check", "report", "diff", "metrics", "export", "explain", "tail", "rules"])
