"""`logscope export`: a run's metric frame to Parquet, CSV or JSON Lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from logscope.cli.boundary import say, stderr
from logscope.cli.common import ProgressOption, app, with_progress


@app.command()
def export(
    path: Annotated[
        str,
        typer.Argument(help="A run folder, log file or object-storage URL.", show_default=False),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="Output file: .parquet, .csv or .jsonl; - for stdout (with --format).",
            show_default=False,
        ),
    ],
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="[csv|jsonl|parquet]",
            help="The format (default: from the file's suffix; needed with -o -). Parquet "
            "to stdout only into a pipe or file, never a terminal.",
            show_default=False,
        ),
    ] = None,
    progress: ProgressOption = None,
) -> None:
    """Write a run's metric frame (step, wall_time, one column per metric) to a file.

    [b]Examples[/b]

      logscope export output/logging.jsonl -o metrics.parquet
      logscope export checkpoints/ -o metrics.csv
      logscope export run/ -o - --format csv | duckdb -c "FROM read_csv('/dev/stdin')"
      logscope export run/ -o - -f jsonl | jq -c 'select(.loss > 2)'
    """
    from logscope.cli.startup import loading

    with loading():  # Polars and the readers (see cli/startup.py)
        from logscope.export import export_format, write
        from logscope.ingest import read_run
        from logscope.report.text import safe

    target = None if output == "-" else Path(output)
    export_format(target, output_format)  # a wrong format fails before the run is read
    run = with_progress(lambda report: read_run(path, report), show=progress)
    rows = write(run, target, output_format)
    for problem in run.problems:
        say("warning", str(problem))
    stderr().print(
        f"wrote {rows} steps × {len(run.metrics)} metrics to "
        + ("stdout" if target is None else safe(output)),
        markup=False,
        soft_wrap=True,
    )
