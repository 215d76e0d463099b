"""`logscope export`: a run's metric frame to Parquet, CSV or JSON Lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from logscope.cli.common import ProgressOption, app, say, stderr, with_progress


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="A run folder or log file.", show_default=False)],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Output file: .parquet, .csv or .jsonl.", show_default=False
        ),
    ],
    progress: ProgressOption = None,
) -> None:
    """Write a run's metric frame (step, wall_time, one column per metric) to a file.

    [b]Examples[/b]

      logscope export output/logging.jsonl -o metrics.parquet
      logscope export checkpoints/ -o metrics.csv
    """
    from logscope.export import write
    from logscope.ingest import read_run
    from logscope.report.text import safe

    run = with_progress(lambda report: read_run(path, report), show=progress)
    rows = write(run, output)
    for problem in run.problems:
        say("warning", str(problem))
    stderr().print(
        f"wrote {rows} steps × {len(run.metrics)} metrics to {safe(str(output))}",
        markup=False,
        soft_wrap=True,
    )
