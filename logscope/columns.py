"""Column names every layer shares, and column references that take a logged metric name
literally.

`pl.col("^loss$")` is a regex and `pl.col("*")` means every column; a log may use any text
as a key, so dynamic names go through `col`, which falls back to an exact-name selector.
"""

from __future__ import annotations

import polars as pl
import polars.selectors as cs

LINE = "\u0000line"  # 1-based source line of each row (a name no log uses); not in the Run


def col(name: str) -> pl.Expr:
    """An expression for the column called exactly `name`."""
    if name == "*" or (name.startswith("^") and name.endswith("$")):
        return cs.by_name(name).as_expr()
    return pl.col(name)


def logged(series: pl.Series) -> pl.Series:
    """The logged (non-null) values of a metric column, as a series named `value`: Series
    methods run through `pl.col(series.name)`, which reads a name like `^x_loss$` as a
    regex, so the metric's own name is not kept."""
    return series.alias("value").drop_nulls()
