"""Test helpers over logscope's series notation (see logscope/rules/series.py)."""

from __future__ import annotations

import numpy as np

from logscope.checks.base import Series
from logscope.rules.series import make_run, parse

__all__ = ["make_run", "parse", "series"]


def series(text: str, other: str | None = None) -> Series:
    """A check's input, missing points dropped as the engine does; `other` for compare
    (NaN where the other metric was not logged)."""
    values = parse(text)
    keep = [i for i, v in enumerate(values) if v is not None]
    others = parse(other) if other else None
    return Series(
        np.array([i + 1 for i in keep], dtype=np.int64),
        np.array([values[i] for i in keep], dtype=np.float64),
        None
        if others is None
        else np.array([np.nan if others[i] is None else others[i] for i in keep], dtype=np.float64),
    )
