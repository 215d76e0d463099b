"""The check kinds, as an explicit read-only registry: adding a kind is one module + one line."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from logscope.checks import (
    baseline,
    change,
    compare,
    consecutive,
    drawdown,
    flat,
    nonfinite,
    range,
    spike,
    stage,
    start,
    threshold,
    trend,
    window,
    zscore,
)
from logscope.checks.base import Check

KINDS: Final[Mapping[str, Check]] = MappingProxyType(
    {
        "baseline": baseline.CHECK,
        "change": change.CHECK,
        "compare": compare.CHECK,
        "consecutive": consecutive.CHECK,
        "drawdown": drawdown.CHECK,
        "flat": flat.CHECK,
        "nonfinite": nonfinite.CHECK,
        "range": range.CHECK,
        "spike": spike.CHECK,
        "stage": stage.CHECK,
        "start": start.CHECK,
        "threshold": threshold.CHECK,
        "trend": trend.CHECK,
        "window": window.CHECK,
        "zscore": zscore.CHECK,
    }
)
