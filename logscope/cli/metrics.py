"""`logscope metrics`: what a run logged, and which rules watch it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from logscope.cli.common import app, show


@app.command()
def metrics(
    path: Annotated[Path, typer.Argument(help="A run folder or log file.", show_default=False)],
) -> None:
    """List a run's metrics with their range and the rules that cover each.

    [b]Example[/b]

      logscope metrics runs/grpo-7b/
    """
    from logscope.cli.startup import loading

    with loading():  # Polars, numpy, Rich, the rules (see cli/startup.py)
        import polars as pl
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        from logscope.columns import logged
        from logscope.ingest import read_run
        from logscope.pipeline import load_packs
        from logscope.report.sparkline import sparkline
        from logscope.report.text import safe
        from logscope.rules import engine

    run = read_run(path)
    packs = engine.applicable(run, load_packs(), set())
    covered = engine.coverage(run, packs)
    table = Table(box=None, header_style="dim", pad_edge=False)
    for column in ("metric", "points", "first", "last", "trend", "rules"):
        table.add_column(column, overflow="fold")
    for name in run.metrics:
        series = logged(run.frame.get_column(name))
        finite = series.filter(series.is_finite()) if series.dtype == pl.Float64 else series
        first = f"{finite[0]:.4g}" if finite.len() else ""
        last = f"{finite[-1]:.4g}" if finite.len() else ""
        rules = ", ".join(covered.get(name, [])) or "-"
        table.add_row(
            Text(safe(name)), str(series.len()), first, last, sparkline(series), Text(safe(rules))
        )
    console = Console(highlight=False)
    uncovered = sum(1 for name in run.metrics if not covered.get(name))
    with console.capture() as captured:
        console.print(table)
        console.print(
            f"{len(run.metrics)} metrics, {uncovered} not covered by any rule; "
            f"packs: {safe(', '.join(p.name for p in packs))}",
            markup=False,
        )
    show(captured.get())
