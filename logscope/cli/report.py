"""`logscope report`: the HTML page of runs, findings and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from logscope.cli.boundary import say, stderr
from logscope.cli.common import (
    EXIT_ERROR,
    AllowEmptyOption,
    CheckpointsOption,
    ConfigOption,
    FailOn,
    IgnoreOption,
    IsolatedOption,
    PackOption,
    ProgressOption,
    RulesOption,
    SelectOption,
    SetOption,
    app,
    choose_rules,
    fail_level,
    fail_on_option,
    with_progress,
    write,
)


@app.command()
def report(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Run folders, log files, or object-storage URLs (s3://, gs://, hf://).",
            show_default=False,
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    fail_on: Annotated[FailOn, fail_on_option("Severity that marks a run as failed.")] = (
        FailOn.error
    ),
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
    progress: ProgressOption = None,
    config_file: ConfigOption = None,
    isolated: IsolatedOption = False,
    allow_empty: AllowEmptyOption = False,
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
    from logscope.cli.startup import loading

    with loading():  # Polars, numpy, the rules and checks (see cli/startup.py)
        from logscope.pipeline import check as run_check
        from logscope.report import REPORTERS, Document, Layout

    chosen = choose_rules(paths, config_file, isolated, rules, pack, settings, select, ignore)
    packs = chosen.packs
    result = with_progress(
        lambda progress: run_check(
            paths,
            packs,
            forced=chosen.forced,
            select=chosen.select,
            ignore=chosen.ignore,
            progress=progress,
            settings=chosen.settings,
            allow_empty=allow_empty,
            checkpoints=checkpoints,
        ),
        show=progress,
    )
    if result.reports:
        doc = Document(
            reports=result.reports, fail_on=fail_level(fail_on), errors=result.errors, packs=packs
        )
        write(REPORTERS["html"].render(doc, Layout(points=points)), output)
        stderr().print(f"wrote {output}", markup=False, soft_wrap=True)
    for error in result.errors:
        say("error", error)
    if result.errors:
        raise typer.Exit(EXIT_ERROR)
