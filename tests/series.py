"""Series notation for tests, after promtool: "1 2 _ nan inf -inf 1+0.5x3 2x2".

- a number, `nan`, `inf`, `-inf`: one value;
- `_`: missing (null) at that step;
- `A+BxN` / `A-BxN`: A, then N more values stepping by B (1+0.5x3 -> 1 1.5 2 2.5);
- `AxN`: A repeated N+1 times.
Steps are 1, 2, 3, ... unless given.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from logscope.checks.base import Series
from logscope.run import Run

_EXPAND = re.compile(r"^(-?[\d.]+(?:e-?\d+)?)(?:([+-][\d.]+(?:e-?\d+)?))?x(\d+)$")


def parse(text: str) -> list[float | None]:
    values: list[float | None] = []
    for token in text.split():
        if token == "_":
            values.append(None)
            continue
        match = _EXPAND.match(token)
        if match:
            start, delta, count = float(match[1]), float(match[2] or 0), int(match[3])
            values.extend(start + delta * i for i in range(count + 1))
        else:
            values.append(float(token))
    return values


def make_run(series: dict[str, str | list[float | None]], steps: list[int] | None = None) -> Run:
    """A Run whose frame holds the given series (equal lengths; padded with missing)."""
    columns = {k: parse(v) if isinstance(v, str) else list(v) for k, v in series.items()}
    length = max(len(v) for v in columns.values())
    for values in columns.values():
        values.extend([None] * (length - len(values)))
    frame = pl.DataFrame(
        {
            "step": steps or list(range(1, length + 1)),
            "wall_time": [None] * length,
            **columns,
        },
        schema={"step": pl.Int64, "wall_time": pl.Float64, **dict.fromkeys(columns, pl.Float64)},
    )
    return Run("test-run", frame)


def series(text: str, other: str | None = None) -> Series:
    """A check's input, missing points dropped as the engine does; `other` for compare
    (NaN where the other metric was not logged)."""
    values = parse(text)
    keep = [i for i, v in enumerate(values) if v is not None]
    others = parse(other) if other else None
    return Series(
        np.array([i + 1 for i in keep], dtype=np.int64),
        np.array([values[i] for i in keep], dtype=np.float64),
        None if others is None else np.array(
            [np.nan if others[i] is None else others[i] for i in keep], dtype=np.float64),
    )
