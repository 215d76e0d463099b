"""`logscope export`: the Run frame to Parquet, CSV or JSON Lines for pandas/polars/DuckDB users."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from logscope.columns import col
from logscope.errors import InputError

if TYPE_CHECKING:
    from logscope.run import Run

FORMATS = (".parquet", ".csv", ".jsonl", ".ndjson")


def write(run: Run, output: Path) -> int:
    """Write the frame; returns the number of rows. NaN/Inf survive in every format."""
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{output}: unknown export format '{suffix}' (use {', '.join(FORMATS)})")
    frame = run.frame
    try:
        if suffix == ".parquet":
            frame.write_parquet(output)
        elif suffix == ".csv":
            frame.write_csv(output)
        else:
            frame.select(_strict_json(frame)).write_ndjson(output)
    except OSError as exc:
        raise InputError(f"{output}: cannot write ({exc.strerror or exc})") from None
    return frame.height


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
