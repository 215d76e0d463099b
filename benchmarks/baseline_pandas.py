"""Contender (a): the health check researchers write today with ``json.loads`` + pandas.

Deliberately the straightforward version (no chunking, no dtype tuning): read the file line by
line with ``json.loads`` (which accepts bare NaN/Infinity), build ``pd.DataFrame(records)``, then
apply the same thresholds ``logscope check`` applies by default. Prints one JSON line with the
findings and the in-process time (excluding interpreter start-up and imports).

Usage: python benchmarks/baseline_pandas.py FILE
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def load(path: Path) -> pd.DataFrame:
    records = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                records.append(json.loads(line))
    return pd.DataFrame(records)


def first_run(df: pd.DataFrame, mask: pd.Series, n: int) -> int | None:
    """Step at which the first run of ``n`` consecutive True rows starts (None if no run)."""
    full = mask.astype(int).rolling(n).sum() >= n
    if not full.any():
        return None
    end = int(np.argmax(full.to_numpy()))
    return int(df["step"].iloc[end - n + 1])


def first_step(df: pd.DataFrame, mask: pd.Series) -> int | None:
    return int(df.loc[mask, "step"].iloc[0]) if mask.any() else None


def check(df: pd.DataFrame) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = []

    def add(name: str, step: int | None, count: int | None = None) -> None:
        if step is not None:
            findings.append({"check": name, "step": step, "count": count})

    for col in ("loss", "grad_norm", "kl"):
        if col in df.columns:
            bad = ~np.isfinite(df[col])
            add(f"{col}_non_finite", first_step(df, bad), int(bad.sum()))

    if "grad_norm" in df.columns:
        g = df["grad_norm"]
        add("grad_norm_above_100_for_5", first_run(df, g > 100, 5))
        add("grad_norm_above_1000", first_step(df, g > 1000), int((g > 1000).sum()))

    if "rewards/margins" in df.columns:
        negative = (df["step"] > 20) & (df["rewards/margins"] < 0)
        add("margin_negative_for_5", first_run(df, negative, 5))

    if "loss" in df.columns:
        add("loss_increasing_for_10", first_run(df, df["loss"].diff() > 0, 10))

    if "kl" in df.columns:
        kl = df["kl"]
        add("kl_above_1", first_step(df, kl > 1), int((kl > 1).sum()))
        add("kl_below_0.001", first_step(df, kl < 0.001), int((kl < 0.001).sum()))
    return findings


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    start = time.perf_counter()
    df = load(Path(argv[0]))
    findings = check(df)
    result = {
        "contender": "a",
        "inner_seconds": time.perf_counter() - start,
        "rows": len(df),
        "columns": len(df.columns),
        "findings": findings,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
