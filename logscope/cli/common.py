"""What every `logscope` command shares: the Typer apps, option enums, exit codes, and the
error boundary (`fail`: every problem as one `error:` line on stderr, exit code 2)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from logscope import __version__

if TYPE_CHECKING:
    from rich.console import Console

    from logscope.checking import CheckResult
    from logscope.config import ProjectConfig
    from logscope.ingest import Progress
    from logscope.model import Severity
    from logscope.run import Run

T = TypeVar("T")

# Exit codes (contract): 0 no finding at or above --fail-on, 1 findings at or above it,
# 2 usage error or input that could not be read at all.
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

app = typer.Typer(
    name="logscope",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
rules_app = typer.Typer(help="List and validate rule packs.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


# options that choose and tune rules, shared by check, report and tail
PackOption = Annotated[
    list[str] | None,
    typer.Option(
        "--pack", "-p", help="Apply this built-in pack even if not detected (repeatable)."
    ),
]
RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", "-r", help="Add a rule pack YAML file (repeatable)."),
]
SelectOption = Annotated[
    str | None,
    typer.Option(help="Only these rules or packs, comma-separated (e.g. kto,common/loss-rising)."),
]
CheckpointsOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        exists=True,
        file_okay=False,
        help="Folder holding the run's checkpoints (checkpoint-N/, global_step_N/), when they "
        "are not in the run folder: advice names the last one before a problem began.",
    ),
]
IgnoreOption = Annotated[
    str | None, typer.Option(help="Skip these rules or packs, comma-separated.")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        help="Override a rule parameter or severity: RULE.PARAM=VALUE (repeatable), "
        "e.g. kto/grad-norm-high.value=200 or kto/kl-low.severity=info; coordexp.estep_key=KEY "
        "sets a pack var.",
    ),
]


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    junit = "junit"
    github = "github"
    markdown = "markdown"


class FailOn(str, Enum):
    info = "info"
    warning = "warning"
    error = "error"
    never = "never"


class ColorMode(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"logscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Health checks for LLM fine-tuning and RL training logs (SFT, KTO, DPO, GRPO, PPO).

    [b]Examples[/b]

      logscope check runs/kto-7b/                  [dim]# is this run healthy?[/dim]
      logscope check output/ --format json         [dim]# machine-readable verdict[/dim]
      logscope report runs/a runs/b -o report.html [dim]# plots, runs overlaid[/dim]
      logscope tail runs/kto-7b/ --follow          [dim]# watch a live run[/dim]
      logscope explain rewards/margins             [dim]# what a metric means[/dim]
      logscope export run/logging.jsonl -o m.parquet
      logscope rules list
    """


def fail(error: Exception | str) -> NoReturn:
    """Report a user error (every problem of a rule pack, one per line) and exit 2."""
    from logscope.errors import RulePackError

    for message in error.errors if isinstance(error, RulePackError) else [str(error)]:
        say("error", message)
    raise typer.Exit(EXIT_ERROR)


def say(level: str, message: str) -> None:
    """One unwrapped line on stderr: `error: <file>:<line>: <what>` (greppable, copyable)."""
    from rich.text import Text

    style = {"error": "bold red", "warning": "yellow"}.get(level, "")
    from logscope.report.text import safe

    line = Text(f"{level}:", style=style)
    line.append(f" {safe(message)}")
    stderr().print(line, soft_wrap=True)


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def finish(result: CheckResult, level: Severity | None, *, quiet: int = 0) -> NoReturn:
    """The exit code contract: 2 if an input could not be read, else 1 if a finding is at or
    above `level`, else 0; unreadable inputs are named on stderr (unless -qq)."""
    for error in result.errors:
        if quiet < 2:
            say("error", error)
    if result.errors:
        raise typer.Exit(EXIT_ERROR)
    failed = any(r.failed(level) for r in result.reports)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


def fail_level(fail_on: FailOn) -> Severity | None:
    from logscope.model import Severity

    return None if fail_on is FailOn.never else Severity(fail_on.value)


def project_config(paths: list[Path]) -> ProjectConfig:
    """The nearest logscope.yaml above the first path (or the current folder), if any."""
    from logscope.config import find_config, load_config
    from logscope.errors import LogscopeError

    try:
        found = find_config([*(p if p.is_dir() else p.parent for p in paths[:1]), Path.cwd()])
        return load_config(found)
    except LogscopeError as exc:
        fail(exc)


def read_baseline(path: Path | None) -> Run | None:
    """The baseline run, or None; unreadable baselines are a usage error (exit 2)."""
    if path is None:
        return None
    from logscope.errors import InputError
    from logscope.ingest import read_run

    run = read_run(path)
    if run.frame.height == 0:
        raise InputError(f"{path}: the baseline has no metric rows that could be read")
    return run


class ExitOn(str, Enum):
    warning = "warning"
    error = "error"


def csv_set(value: str | None) -> set[str] | None:
    return {v.strip() for v in value.split(",") if v.strip()} if value else None


def output_style(mode: ColorMode) -> tuple[bool, int]:
    """Colour and width as Rich decides for stdout (NO_COLOR, FORCE_COLOR, COLUMNS apply)."""
    from rich.console import Console

    from logscope.report.terminal import UNWRAPPED

    console = Console()
    # off a terminal (a pipe, a file, CI) no line is folded: grep and diff get whole lines
    width = console.width if console.is_terminal else UNWRAPPED
    if mode is ColorMode.never:
        return False, width
    if mode is ColorMode.always:
        return True, width
    return (
        console.is_terminal and not console.no_color and console.color_system is not None,
        width,
    )


def with_progress(work: Callable[[Progress | None], T]) -> T:
    """Run `work(progress)` with a transient bar (file or run count, percent, time left) on
    stderr, only when stderr is a terminal; piped output and CI logs stay clean."""
    console = stderr()
    if not console.is_terminal:
        return work(None)
    from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Bar(*columns, console=console, transient=True) as bar:
        task = bar.add_task("reading", total=None)

        def update(item: str, done: int, size: int) -> None:
            bar.update(task, description=f"reading {item}", completed=done, total=size)

        return work(update)


def write(text: str, output: Path | None, *, append: bool = False) -> None:
    """To stdout, or to a file (a clear error, exit 2, when it cannot be written)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        with output.open("a" if append else "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        fail(f"{output}: cannot write the report ({exc.strerror})")
