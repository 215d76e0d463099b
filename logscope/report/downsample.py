"""Display-only downsampling: min and max per bucket, so a one-step spike survives.

A browser draws a few thousand points per line comfortably; a 200,000-step run logs far
more. Averaging or striding would erase exactly what the report is for (the one grad-norm
spike), so each bucket of consecutive points keeps its smallest and its largest value, in
step order. Only the plot sees this; rules always run on every point.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]


def minmax(
    steps: Array, values: Array, budget: int, keep: Array | None = None
) -> tuple[Array, Array]:
    """At most `budget` points (when budget >= 4): the min and max of each bucket, and the
    first and last point; plus the points logged at the steps in `keep` (where a finding
    starts and ends, so its marker sits on the line).

    Non-finite values are not drawn on a line (they are marked separately), so they neither
    win a bucket nor hide a finite spike next to them. Vectorised: pad to whole buckets,
    reshape, one argmin and one argmax per row.
    """
    finite = np.isfinite(values)
    steps, values = steps[finite], values[finite]
    n = len(values)
    if n <= budget or budget < 2:
        return steps, values
    buckets = max((budget - 2) // 2, 1)  # two points per bucket, plus the two ends
    size = -(-n // buckets)  # ceil
    buckets = -(-n // size)
    padded = buckets * size
    low = np.full(padded, np.inf)
    high = np.full(padded, -np.inf)
    low[:n] = values
    high[:n] = values
    offsets = np.arange(buckets) * size
    first = offsets + low.reshape(buckets, size).argmin(axis=1)
    second = offsets + high.reshape(buckets, size).argmax(axis=1)
    # sorted: step order, no duplicates; the ends always kept, so a flat tail (whose min and
    # max are its first point) still reaches the last step
    chosen = [first, second, [0, n - 1]]
    if keep is not None and len(keep):
        at = np.clip(np.searchsorted(steps, keep), 0, n - 1)
        chosen.append(at[steps[at] == keep])
    kept = np.unique(np.concatenate(chosen))
    return steps[kept], values[kept]


def bucket_means(steps: Array, values: Array, budget: int) -> tuple[Array, Array, Array] | None:
    """Over `budget` points: the mean of each bucket of consecutive finite points, with its
    last step and its count, so a smoothing EMA in the page can weigh a bucket as the points
    it stands for (alpha ** count). None when the line is drawn whole (smooth that instead)."""
    finite = np.isfinite(values)
    steps, values = steps[finite], values[finite]
    n = len(values)
    if n <= budget or budget < 2:
        return None
    size = -(-n // max(budget // 2, 1))
    starts = np.arange(0, n, size)
    sums = np.add.reduceat(values, starts)
    counts = np.diff(np.append(starts, n))
    ends = np.append(starts[1:], n) - 1
    return steps[ends], sums / counts, counts


def spread(indices: Array, length: int, budget: int) -> Array:
    """At most about `budget` of `indices` (positions in a series of `length`), the first
    of each stretch of the series, so markers over a whole long run stay, thinned evenly."""
    if len(indices) <= budget or budget < 1:
        return indices
    bucket = indices * budget // max(length, 1)
    _, first = np.unique(bucket, return_index=True)
    return indices[first]
