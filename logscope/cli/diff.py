"""`logscope diff`: a run against a known-good baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from logscope.cli.common import (
    ColorMode,
    FailOn,
    FormatOption,
    ProgressOption,
    app,
    fail_level,
    fail_on_option,
    finish,
    output_style,
    read_baseline,
    show,
    with_progress,
    write,
)


@app.command()
def diff(
    baseline: Annotated[Path, typer.Argument(help="The known-good run.", show_default=False)],
    run: Annotated[Path, typer.Argument(help="The run to judge.", show_default=False)],
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Add a pack of baseline rules (repeatable)."),
    ] = None,
    fail_on: Annotated[FailOn, fail_on_option("Exit 1 at this severity.")] = FailOn.error,
    output_format: FormatOption = "table",
    progress: ProgressOption = None,
) -> None:
    """Compare a run with a baseline: final values and the baseline tolerance rules.

    The baseline pack: final loss/reward, the reward curve by step, step time, throughput.

    Exit codes as for check: 0 within tolerance, 1 a regression at or above --fail-on,
    2 an input that could not be read.

    [b]Examples[/b]

      logscope diff runs/known_good/ runs/new_recipe/
      logscope diff base.jsonl new.jsonl --rules team_tolerances.yaml --format markdown
    """
    from logscope.cli.startup import loading

    with loading():  # Polars, numpy, the rules and checks (see cli/startup.py)
        from logscope.pipeline import check as run_check
        from logscope.pipeline import load_packs
        from logscope.report import REPORTERS, Document, Layout

    packs = [p for p in load_packs(rules or []) if p.requires_baseline]
    reference = read_baseline(baseline)
    result = with_progress(
        lambda progress: run_check([run], packs, baseline=reference, progress=progress),
        show=progress,
    )
    severity = fail_level(fail_on)
    doc = Document(
        reports=result.reports,
        fail_on=severity,
        errors=result.errors,
        packs=packs,
        baseline=reference,
    )
    colored, width = output_style(ColorMode.auto)
    reporter = REPORTERS[output_format]
    layout = Layout() if reporter.machine else Layout(color=colored, width=width)
    text = reporter.render(doc, layout)
    if reporter.machine:
        write(text, None)
    else:
        show(text)
    finish(result, severity)
