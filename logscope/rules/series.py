"""Series notation for rule tests, after promtool: "1 2 _ nan inf -inf 1+0.5x3 2x2".

- a number, `nan`, `inf`, `-inf`: one value;
- `_`: missing (not logged) at that step;
- `A+BxN` / `A-BxN`: A, then N more values stepping by B (1+0.5x3 -> 1 1.5 2 2.5);
- `AxN`: A repeated N+1 times.
Steps are 1, 2, 3, ... unless given.
"""

from __future__ import annotations

import re

import polars as pl

from logscope.run import Run

_EXPAND = re.compile(r"^(-?[\d.]+(?:e-?\d+)?)(?:([+-][\d.]+(?:e-?\d+)?))?x(\d+)$")


def parse(text: str) -> list[float | None]:
    """Values of a series written in the notation above; ValueError names a bad token."""
    values: list[float | None] = []
    for token in str(text).split():
        if token == "_":
            values.append(None)
            continue
        match = _EXPAND.match(token)
        if match:
            start, delta, count = float(match[1]), float(match[2] or 0), int(match[3])
            values.extend(start + delta * i for i in range(count + 1))
            continue
        try:
            values.append(float(token))
        except ValueError:
            raise ValueError(f"not a value in series notation: {token!r}") from None
    return values


def make_run(
    series: dict[str, str | list[float | None]], steps: list[int] | None = None, path: str = "test"
) -> Run:
    """A Run whose frame holds the given series (padded with missing to equal lengths)."""
    columns = {k: parse(v) if isinstance(v, str) else list(v) for k, v in series.items()}
    length = max((len(v) for v in columns.values()), default=0)
    for values in columns.values():
        values.extend([None] * (length - len(values)))
    frame = pl.DataFrame(
        {"step": steps or list(range(1, length + 1)), "wall_time": [None] * length, **columns},
        schema={"step": pl.Int64, "wall_time": pl.Float64, **dict.fromkeys(columns, pl.Float64)},
    )
    return Run(path, frame)
