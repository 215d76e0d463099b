"""Commands on runs: check, report, diff, metrics, export."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from logscope.cli.common import (
    EXIT_ERROR,
    CheckpointsOption,
    ColorMode,
    FailOn,
    IgnoreOption,
    OutputFormat,
    PackOption,
    RulesOption,
    SelectOption,
    SetOption,
    app,
    csv_set,
    fail,
    fail_level,
    finish,
    output_style,
    project_config,
    read_baseline,
    say,
    stderr,
    with_progress,
    write,
)

if TYPE_CHECKING:
    from logscope.checking import CheckResult
    from logscope.ingest import Progress
    from logscope.model import Severity
    from logscope.rules.spec import Pack
    from logscope.run import Run


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
    pack: PackOption = None,
    rules: RulesOption = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    quiet: Annotated[
        int,
        typer.Option(
            "--quiet",
            "-q",
            count=True,
            help="-q: one line per incident and finding; -qq: nothing, exit code only.",
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
    settings: SetOption = None,
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
    html_path: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the HTML report (plots, findings) to this file."),
    ] = None,
    checkpoints: CheckpointsOption = None,
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
      logscope check run/ --html report.html       [dim]# plus the HTML report[/dim]
      logscope check wandb/                        [dim]# W&B run folders, offline too[/dim]
      logscope check wandb_export_2026-11-02.csv   [dim]# one run per exported W&B run[/dim]

    A logscope.yaml in the run folder or any folder above it (or the current one) sets
    defaults for --rules, --set, --select and --ignore: keys rules, set, select, ignore.
    """
    from logscope.checking import check as run_check
    from logscope.checking import load_packs
    from logscope.errors import LogscopeError
    from logscope.ingest import ReadOptions

    config = project_config(paths)
    rules = [*config.rules, *(rules or [])]
    settings = [*config.settings, *(settings or [])]
    select = select or config.select
    ignore = ignore or config.ignore
    try:
        packs = load_packs(rules, pack or [], settings)
        reference = read_baseline(baseline)
    except LogscopeError as exc:
        fail(exc)
    result = with_progress(
        lambda progress: run_check(
            paths,
            packs,
            forced=pack or [],
            select=csv_set(select),
            ignore=csv_set(ignore),
            progress=progress,
            jobs=jobs or (os.cpu_count() or 1),
            rule_files=rules,
            settings=settings,
            baseline=reference,
            read_options=ReadOptions(tensorboard_purge=tb_purge, check_crc=not no_crc),
            checkpoints=checkpoints,
        )
    )
    severity = fail_level(fail_on)
    if html_path is not None:
        _write_html(html_path, result, packs, severity)
    fmt = output_format.value
    if fmt != "table" or output is not None:
        from logscope import report

        if fmt == "table":
            from logscope.report import terminal

            document = terminal.render(result.reports, severity, color=False, width=120)
        else:
            document = report.render(fmt, result.reports, severity, result.errors)
        write(document, output)
        if fmt == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
            markdown = report.render("markdown", result.reports, severity, result.errors)
            write(markdown, Path(os.environ["GITHUB_STEP_SUMMARY"]), append=True)
    if fmt == "table" or output is not None:
        from logscope.report import terminal

        colored, width = output_style(color)
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
    finish(result, severity, quiet=quiet)


@app.command()
def report(
    paths: Annotated[
        list[Path], typer.Argument(help="Run folders or log files.", show_default=False)
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on", envvar="LOGSCOPE_FAIL_ON", help="Severity that marks a run as failed."
        ),
    ] = FailOn.error,
    pack: PackOption = None,
    rules: RulesOption = None,
    settings: SetOption = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    points: Annotated[
        int,
        typer.Option(
            "--points",
            min=100,
            help="Points per line before downsampling (min/max per bucket keeps spikes).",
        ),
    ] = 2000,
    checkpoints: CheckpointsOption = None,
) -> None:
    """Write one self-contained HTML report of runs, findings and plots (opens offline).

    Plots of the metrics the rules cover, with their thresholds; several runs share the axes.

    Exit codes: 0 written; 2 bad usage or an input that could not be read (the report is
    still written for the runs that could be read).

    [b]Examples[/b]

      logscope report sample_logs/kto_diverging -o report.html
      logscope report runs/lr-1e-6/ runs/lr-5e-7/ -o sweep.html    [dim]# runs overlaid[/dim]
      logscope report big_run/ --points 5000 -o big.html
    """
    from logscope.checking import check as run_check
    from logscope.checking import load_packs
    from logscope.errors import LogscopeError

    config = project_config(paths)
    rules = [*config.rules, *(rules or [])]
    settings = [*config.settings, *(settings or [])]
    try:
        packs = load_packs(rules, pack or [], settings)
    except LogscopeError as exc:
        fail(exc)
    result = with_progress(
        lambda progress: run_check(
            paths,
            packs,
            forced=pack or [],
            select=csv_set(select or config.select),
            ignore=csv_set(ignore or config.ignore),
            progress=progress,
            settings=settings,
            checkpoints=checkpoints,
        )
    )
    if result.reports:
        _write_html(output, result, packs, fail_level(fail_on), points=points)
        stderr().print(f"wrote {output}", markup=False, soft_wrap=True)
    for error in result.errors:
        say("error", error)
    if result.errors:
        raise typer.Exit(EXIT_ERROR)


def _write_html(
    path: Path, result: CheckResult, packs: list[Pack], fail_on: Severity | None, points: int = 2000
) -> None:
    from logscope.report import html

    write(html.render(result.reports, packs, fail_on, result.errors, budget=points), path)


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
    """Compare a run with a baseline: final values and the baseline tolerance rules.

    The baseline pack: final loss/reward, the reward curve by step, step time, throughput.

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
        reference = read_baseline(baseline)
    except LogscopeError as exc:
        fail(exc)
    result = with_progress(
        lambda progress: run_check([run], packs, baseline=reference, progress=progress)
    )
    severity = fail_level(fail_on)
    if output_format is OutputFormat.table:
        from logscope.report import terminal

        assert reference is not None
        colored, width = output_style(ColorMode.auto)
        text = terminal.render_diff(reference, result.reports, severity, color=colored, width=width)
    else:
        text = report.render(output_format.value, result.reports, severity, result.errors)
    write(text, None)
    finish(result, severity)


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
    from rich.text import Text

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
        fail(exc)
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
        table.add_row(Text(safe(name)), str(series.len()), first, last, sparkline(series), rules)
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
        run = with_progress(load)
        rows = write(run, output)
    except LogscopeError as exc:
        fail(exc)
    for problem in run.problems:
        say("warning", str(problem))
    stderr().print(
        f"wrote {rows} steps × {len(run.metrics)} metrics to {output}", markup=False, soft_wrap=True
    )
