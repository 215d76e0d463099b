"""What every `logscope` command shares: the Typer apps (run inside the error boundary of
`boundary.py`), shared options, exit codes, and `fail`/`say` (one `error:` line on stderr)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from logscope.cli.boundary import GuardedGroup, fail, reading, say, set_debug
from logscope.report import REPORTERS
from logscope.version import __version__

if TYPE_CHECKING:
    from logscope.config import ProjectConfig
    from logscope.ingest import Progress
    from logscope.model import Severity
    from logscope.pipeline import CheckResult
    from logscope.report import ConfigUsed
    from logscope.rules.pack import Pack
    from logscope.run import Run

T = TypeVar("T")

# Exit codes (contract): 0 no finding at or above --fail-on, 1 findings at or above it,
# 2 usage error or input that could not be read at all.
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

app = typer.Typer(
    name="logscope",
    cls=GuardedGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
rules_app = typer.Typer(
    cls=GuardedGroup, help="List and validate rule packs.", no_args_is_help=True
)
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

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Read the project configuration from this file (logscope.yaml or pyproject.toml) "
        "instead of the one in the working directory or its parents.",
    ),
]
IsolatedOption = Annotated[
    bool, typer.Option("--isolated", help="Read no project configuration at all.")
]
AllowEmptyOption = Annotated[
    bool,
    typer.Option(
        "--allow-empty",
        help="A --select/--ignore that leaves no rule to check for a run is not an error.",
    ),
]


def report_format(value: str) -> str:
    """A key of logscope.report.REPORTERS: the one list of report formats."""
    if value not in REPORTERS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(map(repr, REPORTERS))}.")
    return value


FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        envvar="LOGSCOPE_FORMAT",
        parser=report_format,
        metavar="[" + "|".join(REPORTERS) + "]",
        autocompletion=lambda: list(REPORTERS),
        help="Report format: "
        + "; ".join(f"{name} ({r.help})" for name, r in REPORTERS.items())
        + ".",
    ),
]
ProgressOption = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="A progress bar on stderr (default: only when stderr is a terminal; never with -qq).",
        show_default=False,
    ),
]


class FailOn(str, Enum):
    info = "info"
    warning = "warning"
    error = "error"
    never = "never"


def fail_on_option(help: str) -> Any:
    """`--fail-on` (env LOGSCOPE_FAIL_ON): each command says what the level decides."""
    return typer.Option("--fail-on", envvar="LOGSCOPE_FAIL_ON", help=help)


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
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="LOGSCOPE_DEBUG",
            help="Show the traceback of an internal error (a bug: please report it).",
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
    set_debug(debug)


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


@dataclass(frozen=True)
class RuleChoice:
    """The packs a command runs and the names that choose among them (all checked)."""

    packs: list[Pack]
    rule_files: list[Path]
    forced: list[str]
    settings: list[str]
    select: set[str] | None
    ignore: set[str] | None
    config: ProjectConfig


def choose_rules(
    paths: list[str],
    config_file: Path | None,
    isolated: bool,
    rules: list[Path] | None,
    pack: list[str] | None,
    settings: list[str] | None,
    select: str | None,
    ignore: str | None,
    *,
    quiet: int = 0,
) -> RuleChoice:
    """Project configuration (from trusted places only: notes name the ignored ones) merged
    with the options, packs loaded, every rule and pack name checked; exit 2 on a problem."""
    from logscope.cloud import is_url
    from logscope.config import choose_packs, project_config

    local = [Path(p) for p in paths if not is_url(p)]  # a bucket holds no trusted config
    config = project_config(local, config_file=config_file, isolated=isolated)
    for note in config.notes if quiet < 2 else []:
        say("note", note)
    chosen = choose_packs(
        config,
        rule_files=rules or [],
        forced=pack or [],
        settings=settings or [],
        select=select,
        ignore=ignore,
    )
    return RuleChoice(*chosen, config)


def config_used(config: ProjectConfig) -> ConfigUsed:
    """The configuration file applied and those ignored, as reports name them."""
    from logscope.config import config_file, shown
    from logscope.report import ConfigUsed

    return ConfigUsed(file=config_file(config), ignored=[shown(p) for p in config.ignored])


def print_settings(
    chosen: RuleChoice,
    rules: list[Path] | None,
    pack: list[str] | None,
    settings: list[str] | None,
    select: str | None,
    ignore: str | None,
    *,
    fmt: str = "table",
) -> None:
    """`check --show-settings`: the resolved configuration on stdout, as JSON with
    --format json, else as text (no other format describes settings)."""
    import json

    from logscope.config import resolved_settings, settings_text
    from logscope.report.text import safe

    info = resolved_settings(
        chosen.config,
        chosen.packs,
        rule_files=rules or [],
        forced=pack or [],
        settings=settings or [],
        select=select,
        ignore=ignore,
    )

    def as_text(info: dict[str, Any]) -> str:
        return "".join(safe(line) + "\n" for line in settings_text(info))

    renderers: dict[str, Callable[[dict[str, Any]], str]] = {
        "json": lambda info: json.dumps(info, indent=2) + "\n",
    }
    write(renderers.get(fmt, as_text)(info), None)


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


def with_progress(work: Callable[[Progress], T], *, show: bool | None = None, quiet: int = 0) -> T:
    """Run `work(progress)`; a transient bar (file or run count, percent, time left) shows on
    stderr when asked (`show`), or by default when stderr is a real terminal (FORCE_COLOR
    does not make a CI log one) — never with -qq. The error boundary learns from `progress`
    what is being read, bar or not."""

    def note(item: str, done: int, size: int) -> None:
        reading(item)

    if quiet >= 2 or not (show if show is not None else sys.stderr.isatty()):
        return work(note)
    from rich.console import Console
    from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar

    from logscope.report.text import safe

    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True, highlight=False, force_terminal=True)
    with Bar(*columns, console=console, transient=True) as bar:
        task = bar.add_task("reading", total=None)

        def update(item: str, done: int, size: int) -> None:
            reading(item)
            bar.update(task, description=f"reading {safe(item)}", completed=done, total=size)

        return work(update)


def stdout_writer() -> Callable[[str], None]:
    """Writes to the real stdout, flushed, even while a progress bar redirects sys.stdout."""
    out = sys.stdout

    def put(text: str) -> None:
        out.write(text)
        out.flush()

    return put


def show(text: str) -> None:
    """The human report on stdout. In GitHub Actions the runner takes any log line that
    starts with `::` (after indentation) for a workflow command, and a table can wrap a
    metric name so that part of it starts a line: commands are switched off around the
    report with an unguessable token, as GitHub advises for untrusted output."""
    if text and os.environ.get("GITHUB_ACTIONS") == "true":
        import secrets

        token = secrets.token_hex(16)
        text = f"::stop-commands::{token}\n{text}::{token}::\n"
    sys.stdout.write(text)
    sys.stdout.flush()


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
