"""`logscope export`: the Run frame to Parquet, CSV or JSON Lines for pandas/polars/DuckDB users."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from logscope.columns import col
from logscope.errors import InputError

if TYPE_CHECKING:
    from logscope.run import Run

FORMATS = (".parquet", ".csv", ".jsonl", ".ndjson")
NAMES = ("csv", "jsonl", "parquet")  # --format: what a file's suffix says, for stdout


def export_format(output: Path | None, fmt: str | None) -> str:
    """The format to write: `fmt` (--format), else the output file's suffix; stdout
    (`output` None) has no suffix, so it needs `fmt`. A format that contradicts the
    suffix is an error rather than a .csv file holding JSON."""
    if fmt is not None and fmt not in NAMES:
        raise InputError(f"--format {fmt}: unknown export format (use {', '.join(NAMES)})")
    if output is None:
        if fmt is None:
            raise InputError(
                "-o - writes to stdout, which has no suffix: add --format csv or jsonl"
            )
        return fmt
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        if fmt is not None:
            return fmt
        raise InputError(f"{output}: unknown export format '{suffix}' (use {', '.join(FORMATS)})")
    named = "jsonl" if suffix == ".ndjson" else suffix[1:]
    if fmt is not None and fmt != named:
        raise InputError(f"{output}: --format {fmt} contradicts the file's suffix '{suffix}'")
    return named


def write(run: Run, output: Path | None, fmt: str | None = None) -> int:
    """Write the frame to `output`, or to stdout when it is None; returns the number of
    rows. NaN/Inf survive in every format. Parquet is binary: never to a terminal."""
    chosen = export_format(output, fmt)
    if output is None and chosen == "parquet" and sys.stdout.isatty():
        raise InputError(
            "--format parquet is binary and stdout is a terminal: pipe it "
            "(| duckdb, > file) or write a file with -o metrics.parquet"
        )
    frame = run.frame
    target: Path | io.BytesIO = io.BytesIO() if output is None else output
    try:
        if chosen == "parquet":
            frame.write_parquet(target)
        elif chosen == "csv":
            frame.write_csv(target)
        else:
            frame.select(_strict_json(frame)).write_ndjson(target)
        if isinstance(target, io.BytesIO):
            sys.stdout.buffer.write(target.getvalue())
            sys.stdout.buffer.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        _quiet_broken_pipe()
    except OSError as exc:
        where = "stdout" if output is None else str(output)
        raise InputError(f"{where}: cannot write ({exc.strerror or exc})") from None
    return frame.height


def _quiet_broken_pipe() -> None:
    """Python would complain again when it flushes stdout at exit: point it at devnull."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _strict_json(frame: pl.DataFrame) -> list[pl.Expr]:
    """Strict JSON has no NaN/Infinity: spell them "NaN", "Infinity", "-Infinity" as the
    writer contract does, so jq and pl.read_ndjson read every line."""
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Float64 and name != "wall_time":
            column = col(name)
            exprs.append(
                pl.when(column.is_nan())
                .then(pl.lit("NaN"))
                .when(column == float("inf"))
                .then(pl.lit("Infinity"))
                .when(column == float("-inf"))
                .then(pl.lit("-Infinity"))
                .otherwise(column.cast(pl.String))
                .alias(name)
                if frame.select(column.is_nan().any() | column.is_infinite().any()).item()
                else column
            )
        else:
            exprs.append(col(name))
    return exprs
