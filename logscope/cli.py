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

    from logscope.checking import CheckResult
    from logscope.config import ProjectConfig
    from logscope.ingest import Progress
    from logscope.model import Severity
    from logscope.rules.spec import Pack
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
    html_path: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the HTML report (plots, findings) to this file."),
    ] = None,
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
    pack: Annotated[
        list[str] | None,
        typer.Option("--pack", "-p", help="Apply this built-in pack even if not detected."),
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Add a rule pack YAML file (repeatable)."),
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="Override a rule parameter: RULE.PARAM=VALUE."),
    ] = None,
    select: Annotated[
        str | None, typer.Option(help="Only these rules or packs, comma-separated.")
    ] = None,
    ignore: Annotated[
        str | None, typer.Option(help="Skip these rules or packs, comma-separated.")
    ] = None,
    points: Annotated[
        int,
        typer.Option(
            "--points",
            min=100,
            help="Points per line before downsampling (min/max per bucket keeps spikes).",
        ),
    ] = 2000,
) -> None:
    """Write one self-contained HTML report (opens offline): runs, findings, and plots of
    the metrics the rules cover with their thresholds; several runs share the axes.

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

    config = _project_config(paths)
    rules = [*config.rules, *(rules or [])]
    settings = [*config.settings, *(settings or [])]
    try:
        packs = load_packs(rules, pack or [], settings)
    except LogscopeError as exc:
        _fail(exc)
    result = _with_progress(
        lambda progress: run_check(
            paths,
            packs,
            forced=pack or [],
            select=_csv(select or config.select),
            ignore=_csv(ignore or config.ignore),
            progress=progress,
            settings=settings,
        )
    )
    if result.reports:
        _write_html(output, result, packs, _severity(fail_on), points=points)
        _stderr().print(f"wrote {output}", markup=False, soft_wrap=True)
    for error in result.errors:
        _say("error", error)
    if result.errors:
        raise typer.Exit(EXIT_ERROR)


def _write_html(
    path: Path, result: CheckResult, packs: list[Pack], fail_on: Severity | None, points: int = 2000
) -> None:
    from logscope.report import html

    _write(html.render(result.reports, packs, fail_on, result.errors, budget=points), path)


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
def explain(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Metric keys as logged, e.g. rewards/margins.", show_default=False),
    ] = None,
    family: Annotated[
        str | None,
        typer.Option(
            "--list", "-l", help="List the catalogue: 'all' or a family (kto, verl, ...)."
        ),
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Also count this rule pack file's rules (repeatable)."),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json.")] = (
        OutputFormat.table
    ),
) -> None:
    """What a metric means, its good range and warning signs, where that comes from, and
    which rules watch it. Exit 1 when a metric is not in the catalogue (the rules that
    would watch it are still shown).

    [b]Examples[/b]

      logscope explain rewards/margins
      logscope explain train/actor/pg_clipfrac eval/gsm8k/accuracy/mean@4
      logscope explain --list verl
    """
    import json

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from logscope import catalogue
    from logscope.checking import load_packs
    from logscope.errors import LogscopeError
    from logscope.explain import explain as explain_one
    from logscope.explain import render
    from logscope.report.text import safe

    try:
        entries = catalogue.load()
        packs = load_packs(rules or [])
    except LogscopeError as exc:
        _fail(exc)
    console = Console(highlight=False)
    if family:
        shown = [e for e in entries if family in ("all", e.family)]
        if not shown:
            families = sorted({e.family for e in entries})
            _fail(f"no catalogue family '{family}' (families: all, {', '.join(families)})")
        table = Table(box=None, header_style="dim", pad_edge=False)
        for column in ("metric", "family", "good"):
            table.add_column(column, overflow="fold")
        for e in shown:
            table.add_row(Text(e.key), Text(e.family), Text(e.good))
        console.print(table)
        console.print(f"{len(shown)} metrics", markup=False)
        return
    if not names:
        _fail("name a metric (e.g. logscope explain rewards/margins) or use --list all")
    found = [explain_one(name, entries, packs) for name in names]
    if fmt is OutputFormat.json:
        typer.echo(json.dumps([f.to_dict() for f in found], indent=2))
    else:
        for i, one in enumerate(found):
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(overflow="fold")
            for label, text in render(one):
                grid.add_row(label, Text(safe(text), style="" if label else "bold"))
            if i:
                console.print()
            console.print(grid)
    unknown = [f for f in found if not f.known]
    for f in unknown:
        hint = f"; did you mean {', '.join(f.suggestions)}?" if f.suggestions else ""
        _say(
            "error",
            f"{f.name}: not in the metric catalogue{hint} "
            "(logscope explain --list all shows every key)",
        )
    if unknown:
        raise typer.Exit(1)


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


@rules_app.command("lint")
def rules_lint(
    files: Annotated[list[Path], typer.Argument(help="Rule pack YAML files.", show_default=False)],
    runs: Annotated[
        list[Path] | None,
        typer.Option("--run", help="Also accept the metric keys this run logs (repeatable)."),
    ] = None,
) -> None:
    """Validate rule packs (like `rules check`), then flag what a valid pack can still get
    wrong: metric patterns, aliases, `where:` columns and detect keys that match no metric
    in the catalogue (or in the --run given), and aliases no rule uses. Exit 1 on warnings.

    [b]Examples[/b]

      logscope rules lint team_rules.yaml
      logscope rules lint team_rules.yaml --run runs/grpo-7b/   # your own metric names
    """
    from logscope import catalogue
    from logscope.errors import LogscopeError
    from logscope.ingest import read_run
    from logscope.rules.engine import shared_aliases
    from logscope.rules.lint import Known, lint
    from logscope.rules.spec import load_builtin, load_files

    try:
        packs = load_files(files)
        shared = shared_aliases(load_builtin() + packs)
        extra = [key for run in runs or [] for key in read_run(run).metrics]
        warnings = lint(packs, shared, Known(catalogue.load(), extra))
    except LogscopeError as exc:
        _fail(exc)
    for warning in warnings:
        _say("warning", str(warning))
    for p in packs:
        mine = sum(1 for w in warnings if w.where.startswith(p.path))
        typer.echo(f"{p.path}: {mine or 'no'} warning{'s' * (mine != 1)}, {len(p.rules)} rules")
    if warnings:
        raise typer.Exit(1)


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[
        str, typer.Argument(help="A rule id, e.g. kto/margin-negative-after-warmup.")
    ],
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", "-r", help="Also search this rule file.")
    ] = None,
) -> None:
    """Show one rule in full: what it checks, its message, advice, source, and an example
    of it firing (from its pack's YAML tests).

    [b]Example[/b]

      logscope rules show common/grad-norm-nonfinite
    """
    import dataclasses

    from logscope.checking import load_packs
    from logscope.errors import LogscopeError
    from logscope.rules.testing import example

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
                if rule.where_template != rule.where:
                    names = ", ".join(f"{k}={v}" for k, v in pack.vars.items())
                    lines.append(f"          from {rule.where_template} with {names}")
            if rule.after_step is not None or rule.before_step is not None:
                lines.append(f"steps     after {rule.after_step}, up to {rule.before_step}")
            lines += [
                f"message   {rule.message}",
                f"advice    {rule.advice}",
                f"source    {rule.source}",
                f"defined   {rule.origin}",
            ]
            found = example(rule.id, Path(pack.path))
            if found:
                lines.append(f"example   {found.name} ({found.where})")
                lines += [f"            {key}: {value}" for key, value in found.series.items()]
                lines.append(f"          → {found.message}")
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


class ExitOn(str, Enum):
    warning = "warning"
    error = "error"


@app.command()
def tail(
    path: Annotated[Path, typer.Argument(help="A run folder or log file.", show_default=False)],
    lines: Annotated[
        int, typer.Option("--lines", "-n", min=0, help="Show the last N steps of key metrics.")
    ] = 10,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep reading as the run writes.")
    ] = False,
    exit_on: Annotated[
        ExitOn | None,
        typer.Option(
            "--exit-on", help="With --follow: exit 1 as soon as a finding at this level fires."
        ),
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            envvar="LOGSCOPE_FAIL_ON",
            help="Exit 1 at the end (caught up, --idle, Ctrl-C) when a finding is at or "
            "above this severity.",
        ),
    ] = FailOn.error,
    idle: Annotated[
        float | None,
        typer.Option(
            "--idle",
            min=0,
            metavar="SECONDS",
            help="With --follow: end after SECONDS without new data.",
        ),
    ] = None,
    stall: Annotated[
        float | None,
        typer.Option(
            "--stall",
            min=0,
            metavar="MINUTES",
            help="With --follow: a finding (warning) when no new data arrived for MINUTES.",
        ),
    ] = None,
    every: Annotated[
        int, typer.Option("--every", min=1, help="Plain output: a PROGRESS line every N steps.")
    ] = 100,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="Show this metric (name or glob, repeatable)."),
    ] = None,
    plain: Annotated[
        bool, typer.Option("--plain", help="Plain lines even on a terminal (no live view).")
    ] = False,
    pack: Annotated[
        list[str] | None,
        typer.Option("--pack", "-p", help="Apply this built-in pack even if not detected."),
    ] = None,
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", "-r", help="Add a rule pack YAML file.")
    ] = None,
    select: Annotated[str | None, typer.Option(help="Only these rules or packs.")] = None,
    ignore: Annotated[str | None, typer.Option(help="Skip these rules or packs.")] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="Override a rule parameter: RULE.PARAM=VALUE."),
    ] = None,
    poll: Annotated[float, typer.Option("--poll", min=0.01, hidden=True)] = 0.25,
) -> None:
    """Show a run's latest steps and findings; with --follow, watch it live.

    With --follow, new JSONL lines and TensorBoard records are read from where the last
    read stopped (a half-written line waits until it is complete; truncated, rotated and
    new files are picked up) and the rules are re-evaluated as rows arrive. Each finding
    is announced once, when it first fires. On a terminal a live view shows the key
    metrics with sparklines and the current findings; otherwise (a pipe, a job log) one
    line per event: FINDING / STALLED lines, a PROGRESS line every --every steps, NOTE lines.

    Exit codes: 1 at once when a finding at --exit-on fires; otherwise, when reading ends
    (caught up without --follow, --idle, Ctrl-C), 1 if a finding is at or above --fail-on
    (default error) and 0 if not; 2 for bad usage or a run that cannot be read.

    TensorBoard: torch's SummaryWriter flushes every 120 s by default, so points arrive in
    bursts; the time of the last record seen is shown.

    [b]Examples[/b]

      logscope tail runs/kto-7b/ -n 20
      logscope tail runs/kto-7b/ --follow
      logscope tail output/ -f --exit-on error          [dim]# scheduler kills the job on 1[/dim]
      logscope tail run/ -f --idle 600 --stall 15 | grep -E '^(FINDING|STALLED)'
      logscope tail tb_logs/ -f -m loss -m 'rewards/*'
    """
    from rich.console import Console

    from logscope.checking import load_packs
    from logscope.errors import InputError, LogscopeError
    from logscope.follow.view import LiveView, PlainView
    from logscope.follow.watch import Options, SeveralRuns, Tail
    from logscope.follow.window import Rules
    from logscope.model import Severity

    if not follow and (exit_on or idle is not None or stall is not None):
        _fail("--exit-on, --idle and --stall need --follow")
    config = _project_config([path])
    rules = [*config.rules, *(rules or [])]
    settings = [*config.settings, *(settings or [])]
    try:
        packs = load_packs(rules, pack or [], settings)
    except LogscopeError as exc:
        _fail(exc)
    console = Console(highlight=False)
    live = follow and not plain and console.is_terminal
    view = (LiveView if live else PlainView)(every, console)
    options = Options(
        follow=follow,
        lines=lines,
        poll=poll,
        idle=idle,
        stall=stall,
        exit_on=Severity(exit_on.value) if exit_on else None,
        fail_on=_severity(fail_on),
        every=every,
        metrics=metric or [],
    )
    engine_rules = Rules(
        packs,
        forced=set(pack or []),
        select=_csv(select or config.select),
        ignore=_csv(ignore or config.ignore),
        path=str(path),
    )
    watcher = Tail(path, engine_rules, view, options)
    try:
        watcher.scan()
    except SeveralRuns as exc:
        _fail(exc)
    except InputError as exc:
        if not (follow and path.is_dir()):
            _fail(exc)
        view.note(f"{exc}; waiting for a log to appear")
    outcome = watcher.run()
    if not follow and watcher.window.rows == 0:
        _fail(f"{path}: no metric rows could be read")
    counts = dict.fromkeys(Severity, 0)
    for finding in outcome.tracker.seen.values():
        counts[finding.severity] += 1
    summary = (
        f"{outcome.reason}: step {watcher.window.last_step}, {watcher.window.rows} rows, "
        f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
        f"{counts[Severity.INFO]} info"
    )
    console.print(("SUMMARY " if not live else "") + summary, markup=False, soft_wrap=True)
    raise typer.Exit(outcome.code)


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
