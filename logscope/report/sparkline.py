"""Unicode sparklines: the shape of a whole run in a dozen characters."""

from __future__ import annotations

import math

import polars as pl

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: pl.Series, width: int = 16) -> str:
    """Bucket means of the finite values; a bucket holding NaN/Inf shows as '!'."""
    n = values.len()
    if n == 0:
        return ""
    width = min(width, n)
    frame = (
        pl.DataFrame({"v": values})
        .with_row_index("i")
        .with_columns((pl.col("i") * width // n).alias("b"))
    )
    buckets = (
        frame.group_by("b")
        .agg(
            pl.col("v").filter(pl.col("v").is_finite()).mean().alias("mean"),
            (~pl.col("v").is_finite()).any().alias("bad"),
        )
        .sort("b")
    )
    means = buckets.get_column("mean").to_list()
    finite = [m for m in means if m is not None and math.isfinite(m)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    span = high - low
    chars = []
    for mean, bad in zip(means, buckets.get_column("bad").to_list(), strict=False):
        if bad:
            chars.append("!")
        elif mean is None:
            chars.append(" ")
        else:
            level = 0 if span == 0 else int((mean - low) / span * (len(BARS) - 1) + 0.5)
            chars.append(BARS[level])
    return "".join(chars)
