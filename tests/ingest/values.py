"""Comparing what a tracker SDK logged with what a reader read back."""

from __future__ import annotations

import math


def flat(row: dict[str, object], sep: str, prefix: str = "") -> dict[str, object]:
    """Nested dicts named as the tracker names them: `train.kl` (W&B), `train/kl` (SwanLab)."""
    out: dict[str, object] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(flat(value, sep, f"{prefix}{key}{sep}"))
        else:
            out[prefix + key] = value
    return out


def same(a: float | None, b: float | None) -> bool:
    """Equal, or both NaN, or both missing."""
    if a is None or b is None:
        return a is b
    return (math.isnan(a) and math.isnan(b)) or a == b
