"""The `logscope` command: thin wrappers that parse options, call the library, pick a reporter.

This module is the one error boundary: a user error (missing path, broken rule file) becomes
one `error:` line on stderr and exit code 2, never a traceback. Heavy modules (polars, the
readers, plotly) are imported inside the commands, so `logscope --help` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from logscope import __version__

if TYPE_CHECKING:
    from rich.console import Console

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
    help="Health checks for LLM fine-tuning and RL training logs (SFT, KTO, DPO, GRPO, PPO).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
rules_app = typer.Typer(help="List and validate rule packs.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


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
    """Health checks for LLM fine-tuning and RL training logs.

    [b]Examples[/b]

      logscope check runs/kto-7b/                  [dim]# is this run healthy?[/dim]
      logscope check output/ --format json         [dim]# machine-readable verdict[/dim]
      logscope export run/logging.jsonl -o m.parquet
      logscope rules list
    """


def _fail(error: Exception | str) -> NoReturn:
    """Report a user error (every problem of a rule pack, one per line) and exit 2."""
    from logscope.errors import RulePackError

    for message in error.errors if isinstance(error, RulePackError) else [str(error)]:
        _say("error", message)
    raise typer.Exit(EXIT_ERROR)


def _say(level: str, message: str) -> None:
    """One unwrapped line on stderr: `error: <file>:<line>: <what>` (greppable, copyable)."""
    from rich.text import Text

    style = {"error": "bold red", "warning": "yellow"}.get(level, "")
    from logscope.report.text import safe

    line = Text(f"{level}:", style=style)
    line.append(f" {safe(message)}")
    _stderr().print(line, soft_wrap=True)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _severity(fail_on: FailOn) -> Severity | None:
    from logscope.model import Severity

    return None if fail_on is FailOn.never else Severity(fail_on.value)


@app.command()
def check(
    paths: Annotated[
        list[Path], typer.Argument(help="Run folders or log files.", show_default=False)
    ],
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", envvar="LOGSCOPE_FORMAT", help="Report format."),
    ] = OutputFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the --format report to this file; the table still shows on stdout.",
        ),
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            envvar="LOGSCOPE_FAIL_ON",
            help="Exit 1 when a finding is at or above this severity.",
        ),
    ] = FailOn.error,
    pack: Annotated[
        list[str] | None,
        typer.Option(
            "--pack", "-p", help="Apply this built-in pack even if not detected (repeatable)."
        ),
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Add a rule pack YAML file (repeatable)."),
    ] = None,
    select: Annotated[
        str | None,
        typer.Option(
            help="Only these rules or packs, comma-separated (e.g. kto,common/loss-rising)."
        ),
    ] = None,
    ignore: Annotated[
        str | None, typer.Option(help="Skip these rules or packs, comma-separated.")
    ] = None,
    quiet: Annotated[
        int,
        typer.Option(
            "--quiet", "-q", count=True, help="-q: findings only; -qq: nothing, exit code only."
        ),
    ] = 0,
    color: Annotated[ColorMode, typer.Option(help="Colour in the table report.")] = ColorMode.auto,
    summary: Annotated[
        bool, typer.Option("--summary", help="Only the table of runs, not each run's details.")
    ] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=0, help="Check runs in N processes (0: all cores).")
    ] = 1,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            "-b",
            help="A known-good run to compare with (adds the baseline pack's tolerance rules).",
        ),
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            help="Override a rule parameter or severity: RULE.PARAM=VALUE (repeatable), "
            "e.g. kto/grad-norm-high.value=200.",
        ),
    ] = None,
    tb_purge: Annotated[
        bool,
        typer.Option(
            "--tb-purge",
            help="TensorBoard restarts drop the points they overwrite, as TensorBoard shows "
            "them (default: later write wins per step, restart recorded).",
        ),
    ] = False,
    no_crc: Annotated[
        bool, typer.Option("--no-crc", help="Skip TensorBoard record checksums (faster).")
    ] = False,
) -> None:
    """Check runs against the rule packs; the exit code gates CI.

    Exit codes: 0 no finding at or above --fail-on; 1 such findings; 2 bad usage, an
    invalid rule file, or an input that could not be read at all. With many runs, an
    unreadable one is reported and the others are still checked; 2 wins over 1.

    [b]Examples[/b]

      logscope check sample_logs/kto_diverging
      logscope check runs/*/ --fail-on warning
      logscope check run/ --format json -o verdict.json
      logscope check runs/* --summary --jobs 0 --format junit -o logscope.xml
      logscope check run/ --rules my_rules.yaml --ignore kto/stage-target-loss
      logscope check new_run/ --baseline runs/known_good/
      logscope check run/ --set kto/grad-norm-high.value=200 --set kto/kl-low.severity=info
      logscope check wandb/                        [dim]# W&B run folders, offline too[/dim]
      logscope check wandb_export_2026-11-02.csv   [dim]# one run per exported W&B run[/dim]

    A logscope.yaml in the run folder or any folder above it (or the current one) sets
    defaults for --rules, --set, --select and --ignore: keys rules, set, select, ignore.
    """
    from logscope.checking import check as run_check
    from logscope.checking import load_packs
    from logscope.errors import LogscopeError
    from logscope.ingest import ReadOptions

    config = _project_config(paths)
    rules = [*config.rules, *(rules or [])]
    settings = [*config.settings, *(settings or [])]
    select = select or config.select
    ignore = ignore or config.ignore
    try:
        packs = load_packs(rules, pack or [], settings)
        reference = _read_baseline(baseline)
    except LogscopeError as exc:
        _fail(exc)
    result = _with_progress(
        lambda progress: run_check(
            paths,
            packs,
            forced=pack or [],
            select=_csv(select),
            ignore=_csv(ignore),
            progress=progress,
            jobs=jobs or (os.cpu_count() or 1),
            rule_files=rules,
            settings=settings,
            baseline=reference,
            read_options=ReadOptions(tensorboard_purge=tb_purge, check_crc=not no_crc),
        )
    )
    severity = _severity(fail_on)
    fmt = output_format.value
    if fmt != "table" or output is not None:
        from logscope import report

        if fmt == "table":
            from logscope.report import terminal

            document = terminal.render(result.reports, severity, color=False, width=120)
        else:
            document = report.render(fmt, result.reports, severity, result.errors)
        _write(document, output)
        if fmt == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
            markdown = report.render("markdown", result.reports, severity, result.errors)
            _write(markdown, Path(os.environ["GITHUB_STEP_SUMMARY"]), append=True)
    if fmt == "table" or output is not None:
        from logscope.report import terminal

        colored, width = _terminal(color)
        text = terminal.render(
            result.reports,
            severity,
            color=colored,
            width=width,
            quiet=quiet,
            summary_only=summary,
        )
        sys.stdout.write(text)
        sys.stdout.flush()
    for error in result.errors:
        if quiet < 2:
            _say("error", error)
    if result.errors:
        raise typer.Exit(EXIT_ERROR)
    failed = any(r.failed(severity) for r in result.reports)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


def _project_config(paths: list[Path]) -> ProjectConfig:
    """The nearest logscope.yaml above the first path (or the current folder), if any."""
    from logscope.config import find_config, load_config
    from logscope.errors import LogscopeError

    try:
        found = find_config([*(p if p.is_dir() else p.parent for p in paths[:1]), Path.cwd()])
        return load_config(found)
    except LogscopeError as exc:
        _fail(exc)


def _read_baseline(path: Path | None) -> Run | None:
    """The baseline run, or None; unreadable baselines are a usage error (exit 2)."""
    if path is None:
        return None
    from logscope.errors import InputError
    from logscope.ingest import read_run

    run = read_run(path)
    if run.frame.height == 0:
        raise InputError(f"{path}: the baseline has no metric rows that could be read")
    return run


@app.command()
def diff(
    baseline: Annotated[Path, typer.Argument(help="The known-good run.", show_default=False)],
    run: Annotated[Path, typer.Argument(help="The run to judge.", show_default=False)],
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Add a pack of baseline rules (repeatable)."),
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option("--fail-on", envvar="LOGSCOPE_FAIL_ON", help="Exit 1 at this severity."),
    ] = FailOn.error,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", envvar="LOGSCOPE_FORMAT", help="Report format."),
    ] = OutputFormat.table,
) -> None:
    """Compare a run with a baseline: final values side by side, and the baseline pack's
    tolerance rules (final loss/reward, reward curve by step, step time, throughput).

    Exit codes as for check: 0 within tolerance, 1 a regression at or above --fail-on,
    2 an input that could not be read.

    [b]Examples[/b]

      logscope diff runs/known_good/ runs/new_recipe/
      logscope diff base.jsonl new.jsonl --rules team_tolerances.yaml --format markdown
    """
    from logscope import report
    from logscope.checking import check as run_check
    from logscope.checking import load_packs
    from logscope.errors import LogscopeError

    try:
        packs = [p for p in load_packs(rules or []) if p.requires_baseline]
        reference = _read_baseline(baseline)
    except LogscopeError as exc:
        _fail(exc)
    result = _with_progress(
        lambda progress: run_check([run], packs, baseline=reference, progress=progress)
    )
    severity = _severity(fail_on)
    if output_format is OutputFormat.table:
        from logscope.report import terminal

        assert reference is not None
        colored, width = _terminal(ColorMode.auto)
        text = terminal.render_diff(reference, result.reports, severity, color=colored, width=width)
    else:
        text = report.render(output_format.value, result.reports, severity, result.errors)
    _write(text, None)
    for error in result.errors:
        _say("error", error)
    if result.errors:
        raise typer.Exit(EXIT_ERROR)
    failed = any(r.failed(severity) for r in result.reports)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


@app.command()
def metrics(
    path: Annotated[Path, typer.Argument(help="A run folder or log file.", show_default=False)],
) -> None:
    """List a run's metrics with their range and the rules that cover each.

    [b]Example[/b]

      logscope metrics runs/grpo-7b/
    """
    import polars as pl
    from rich.console import Console
    from rich.table import Table

    from logscope.checking import load_packs
    from logscope.errors import LogscopeError
    from logscope.ingest import read_run
    from logscope.report.sparkline import sparkline
    from logscope.report.text import safe
    from logscope.rules import engine

    try:
        run = read_run(path)
        packs = engine.applicable(run, load_packs(), set())
    except LogscopeError as exc:
        _fail(exc)
    covered = engine.coverage(run, packs)
    table = Table(box=None, header_style="dim", pad_edge=False)
    for column in ("metric", "points", "first", "last", "trend", "rules"):
        table.add_column(column, overflow="fold")
    for name in run.metrics:
        series = run.frame.get_column(name).drop_nulls()
        finite = series.filter(series.is_finite()) if series.dtype == pl.Float64 else series
        first = f"{finite[0]:.4g}" if finite.len() else ""
        last = f"{finite[-1]:.4g}" if finite.len() else ""
        rules = ", ".join(covered.get(name, [])) or "-"
        table.add_row(safe(name), str(series.len()), first, last, sparkline(series), rules)
    console = Console(highlight=False)
    console.print(table)
    uncovered = sum(1 for name in run.metrics if not covered.get(name))
    console.print(
        f"{len(run.metrics)} metrics, {uncovered} not covered by any rule; "
        f"packs: {', '.join(p.name for p in packs)}",
        markup=False,
    )


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="A run folder or log file.", show_default=False)],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Output file: .parquet, .csv or .jsonl.", show_default=False
        ),
    ],
) -> None:
    """Write a run's metric frame (step, wall_time, one column per metric) to a file.

    [b]Examples[/b]

      logscope export output/logging.jsonl -o metrics.parquet
      logscope export checkpoints/ -o metrics.csv
    """
    from logscope.errors import LogscopeError
    from logscope.export import write

    def load(progress: Progress | None) -> Run:
        from logscope.ingest import read_run

        return read_run(path, progress)

    try:
        run = _with_progress(load)
        rows = write(run, output)
    except LogscopeError as exc:
        _fail(exc)
    for problem in run.problems:
        _say("warning", str(problem))
    _stderr().print(
        f"wrote {rows} steps × {len(run.metrics)} metrics to {output}", markup=False, soft_wrap=True
    )


@rules_app.command("list")
def rules_list(
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Also list this rule pack file (repeatable)."),
    ] = None,
) -> None:
    """List every rule: id, severity, check, metric."""
    from rich.console import Console
    from rich.table import Table

    from logscope.checking import load_packs
    from logscope.errors import LogscopeError

    try:
        packs = load_packs(rules or [])
    except LogscopeError as exc:
        _fail(exc)
    table = Table(box=None, header_style="dim", pad_edge=False)
    for column in ("rule", "severity", "check", "metric"):
        table.add_column(column)
    for p in packs:
        for r in p.rules:
            table.add_row(r.id, str(r.severity), r.check, r.metric)
    console = Console(highlight=False)
    console.print(table)
    console.print(
        f"{sum(len(p.rules) for p in packs)} rules in {len(packs)} packs: "
        + ", ".join(p.name for p in packs),
        markup=False,
    )


@rules_app.command("check")
def rules_check(
    files: Annotated[list[Path], typer.Argument(help="Rule pack YAML files.", show_default=False)],
) -> None:
    """Validate rule pack files; every problem is listed with file:line:col.

    [b]Example[/b]

      logscope rules check my_rules.yaml
    """
    from logscope.errors import RulePackError
    from logscope.rules.spec import load_files

    try:
        packs = load_files(files)
    except RulePackError as exc:
        _fail(exc)
    for p in packs:
        typer.echo(f"{p.path}: ok, pack '{p.name}' with {len(p.rules)} rules")


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[
        str, typer.Argument(help="A rule id, e.g. kto/margin-negative-after-warmup.")
    ],
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", "-r", help="Also search this rule file.")
    ] = None,
) -> None:
    """Show one rule in full: what it checks, its message, advice and source.

    [b]Example[/b]

      logscope rules show common/grad-norm-nonfinite
    """
    import dataclasses

    from logscope.checking import load_packs
    from logscope.errors import LogscopeError

    try:
        packs = load_packs(rules or [])
    except LogscopeError as exc:
        _fail(exc)
    for pack in packs:
        for rule in pack.rules:
            if rule.id != rule_id:
                continue
            shared = next((dict(p.aliases) for p in packs if p.name == "common"), {})
            params = {f.name: getattr(rule.params, f.name) for f in dataclasses.fields(rule.params)}
            lines = [
                f"{rule.id}  ({rule.severity}, pack {pack.name}: {pack.title})",
                f"metric    {rule.metric}  = {', '.join(pack.patterns(rule.metric, shared))}",
                f"check     {rule.check} {params}",
            ]
            if rule.where:
                lines.append(f"where     {rule.where}")
            if rule.after_step is not None or rule.before_step is not None:
                lines.append(f"steps     after {rule.after_step}, up to {rule.before_step}")
            lines += [
                f"message   {rule.message}",
                f"advice    {rule.advice}",
                f"source    {rule.source}",
                f"defined   {rule.origin}",
            ]
            typer.echo("\n".join(lines))
            return
    known = sorted(r.id for p in packs for r in p.rules if rule_id.split("/")[0] in r.id)
    hint = f" (in that pack: {', '.join(known)})" if known else " (see: logscope rules list)"
    _fail(f"no rule '{rule_id}'{hint}")


@rules_app.command("test")
def rules_test(
    files: Annotated[
        list[Path], typer.Argument(help="Rule test files (*.test.yaml).", show_default=False)
    ],
) -> None:
    """Run rule unit tests written in YAML (series in, expected findings out).

    Exit 0 when all pass, 1 when one fails, 2 when a file is invalid.

    [b]Example[/b]

      logscope rules test rules/kto.test.yaml my_rules.test.yaml
    """
    from logscope.errors import RulePackError
    from logscope.rules.testing import run_file

    passed = failed = 0
    for file in files:
        try:
            outcomes = run_file(file)
        except RulePackError as exc:
            _fail(exc)
        for outcome in outcomes:
            if outcome.passed:
                passed += 1
                typer.echo(f"ok    {outcome.name}")
            else:
                failed += 1
                typer.echo(f"FAIL  {outcome.name}  ({outcome.where})")
                for problem in outcome.problems:
                    typer.echo(f"      {problem}")
    typer.echo(f"{passed} passed, {failed} failed")
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


def _csv(value: str | None) -> set[str] | None:
    return {v.strip() for v in value.split(",") if v.strip()} if value else None


def _terminal(mode: ColorMode) -> tuple[bool, int]:
    """Colour and width as Rich decides for stdout (NO_COLOR, FORCE_COLOR, COLUMNS apply)."""
    from rich.console import Console

    console = Console()
    if mode is ColorMode.never:
        return False, console.width
    if mode is ColorMode.always:
        return True, console.width
    return (
        console.is_terminal and not console.no_color and console.color_system is not None,
        console.width,
    )


def _with_progress(work: Callable[[Progress | None], T]) -> T:
    """Run `work(progress)` with a transient bar (file or run count, percent, time left) on
    stderr, only when stderr is a terminal; piped output and CI logs stay clean."""
    console = _stderr()
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


def _write(text: str, output: Path | None, *, append: bool = False) -> None:
    """To stdout, or to a file (a clear error, exit 2, when it cannot be written)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        with output.open("a" if append else "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        _fail(f"{output}: cannot write the report ({exc.strerror})")


def main() -> None:
    """Console-script entry point."""
    app()
