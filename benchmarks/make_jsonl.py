"""Generate a synthetic LLM training-log JSONL file for benchmarking ``logscope check``.

The file imitates what trainers (TRL, verl, OpenRLHF, ...) dump: one ``json.dumps`` object per
line with default separators, full-precision floats, a handful of core metrics and many filler
metrics. It deliberately contains the awkward parts of real logs:

* bare ``NaN`` / ``Infinity`` / ``-Infinity`` tokens (what ``json.dumps`` writes for non-finite
  floats, and what strict JSON parsers such as polars' reject);
* eval keys (``eval_loss``, ``eval_rewards/margins``) that appear only after 80 % of the steps,
  on every 50th line, so a reader that infers the schema from the first 100 lines drops them.

Values are precomputed with numpy in chunks, so 200k x 120 (~1 GB) takes well under a minute
and the generator itself stays at a few hundred MB of RSS. Output is deterministic for a given
``--seed``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"

CORE_METRICS: tuple[str, ...] = (
    "loss",
    "grad_norm",
    "learning_rate",
    "rewards/margins",
    "rewards/chosen",
    "rewards/rejected",
    "kl",
)
NAMED_FILLERS: tuple[str, ...] = (
    "response_length/mean",
    "response_length/max",
    "response_length/min",
    "response_length/clip_ratio",
    "rewards/accuracies",
    "logps/chosen",
    "logps/rejected",
    "logits/chosen",
    "logits/rejected",
    "entropy",
    "critic/score/mean",
    "critic/advantages/mean",
    "perf/throughput",
    "perf/max_memory_allocated_gb",
    "epoch",
)
EVAL_KEYS: tuple[str, str] = ("eval_loss", "eval_rewards/margins")
EVAL_START_FRACTION = 0.8
EVAL_EVERY = 50
CHUNK_ROWS = 10_000


def default_path(steps: int, metrics: int) -> Path:
    """Canonical location of a generated file; ``data/`` is git-ignored."""
    return DATA_DIR / f"bench_{steps}x{metrics}.jsonl"


def metric_names(metrics: int) -> list[str]:
    """Core metrics first, then realistic named fillers, then numbered filler families."""
    if metrics < len(CORE_METRICS):
        raise ValueError(f"--metrics must be >= {len(CORE_METRICS)} (the core metrics)")
    names = list(CORE_METRICS) + list(NAMED_FILLERS)
    actor = timing = 0
    while len(names) < metrics:
        # Two actor metrics per timing metric, roughly the mix verl/OpenRLHF logs have.
        if len(names) % 3 == 2:
            names.append(f"timing_s/op_{timing:02d}")
            timing += 1
        else:
            names.append(f"actor/metric_{actor:03d}")
            actor += 1
    return names[:metrics]


def core_series(steps: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Whole-run series whose shape depends on global progress (trends, schedules, faults)."""
    n = steps
    t = np.arange(1, n + 1, dtype=np.float64) / n
    warmup = max(1, int(0.03 * n))
    step_idx = np.arange(1, n + 1, dtype=np.float64)
    lr_peak = 5e-7
    decay = np.clip((step_idx - warmup) / (n - warmup + 1), 0.0, 1.0)
    lr = np.where(
        step_idx <= warmup,
        lr_peak * step_idx / warmup,
        lr_peak * 0.5 * (1.0 + np.cos(np.pi * decay)),
    )
    margin = 2.5 * (1.0 - np.exp(-6.0 * t)) + 0.35 * rng.standard_normal(n)
    chosen = -0.4 * t + 0.25 * rng.standard_normal(n)
    grad_norm = np.exp(0.3 * rng.standard_normal(n)) * (1.2 - 0.5 * t)
    spikes = rng.random(n) < 5e-4
    grad_norm[spikes] *= rng.uniform(50.0, 500.0, spikes.sum())
    burst = int(0.6 * n)  # one sustained explosion episode, so the run-length checks fire
    grad_norm[burst : burst + 8] = rng.uniform(150.0, 900.0, len(grad_norm[burst : burst + 8]))
    series = {
        "wall_time": 1.7e9 + np.cumsum(1.2 * np.exp(0.1 * rng.standard_normal(n))),
        "loss": 0.6931 * np.exp(-3.0 * t) + 0.2 + 0.03 * rng.standard_normal(n),
        "grad_norm": grad_norm,
        "learning_rate": lr,
        "rewards/margins": margin,
        "rewards/chosen": chosen,
        "rewards/rejected": chosen - margin,
        "kl": np.abs(0.002 + 0.25 * t + 0.02 * rng.standard_normal(n)),
    }
    # Faults: ~0.1 % NaN grad_norm, a few +/-Infinity. Never on the first line.
    nan_rows = rng.choice(np.arange(1, n), size=max(1, n // 1000), replace=False)
    series["grad_norm"][nan_rows] = math.nan
    inf_rows = rng.choice(np.arange(1, n), size=min(n - 1, 5), replace=False)
    series["grad_norm"][inf_rows[:3]] = math.inf
    series["loss"][inf_rows[3:]] = math.inf
    return series


def filler_params(names: list[str], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-column level, noise, trend and sign so filler columns look like distinct metrics."""
    k = len(names)
    positive = np.array(
        [n.startswith(("timing_s/", "response_length/", "perf/", "epoch")) for n in names]
    )
    return {
        "level": 10.0 ** rng.uniform(-3, 3, k),
        "noise": rng.uniform(0.01, 0.3, k),
        "trend": rng.uniform(-0.5, 0.5, k),
        "positive": positive,
    }


def filler_chunk(
    t: np.ndarray, params: dict[str, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """Rows x fillers block: level * (1 + trend * t) with multiplicative or additive noise."""
    level, noise, trend = params["level"], params["noise"], params["trend"]
    z = rng.standard_normal((t.size, level.size))
    base = level * (1.0 + trend * t[:, None])
    block: np.ndarray = np.where(
        params["positive"], base * np.exp(noise * z), base + level * noise * z
    )
    return block


def encode_chunk(
    keys: tuple[str, ...], first_step: int, block: np.ndarray, evals: np.ndarray
) -> str:
    """Encode rows with ``json.dumps`` (default separators, bare NaN/Infinity); runs in workers.

    ``block`` holds wall_time + metric columns, ``evals`` the two eval columns (NaN = no eval on
    that line). Float formatting (repr, 17 significant digits) dominates generation time, which
    is why chunks are encoded in parallel processes.
    """
    lines = []
    eval_rows = evals.tolist()
    for i, row in enumerate(block.tolist()):
        record = dict(zip(keys, [first_step + i, *row], strict=True))
        ev_loss, ev_margin = eval_rows[i]
        if not math.isnan(ev_loss):
            record[EVAL_KEYS[0]] = ev_loss
            record[EVAL_KEYS[1]] = ev_margin
        lines.append(json.dumps(record))
    lines.append("")
    return "\n".join(lines)


def iter_chunks(
    steps: int, metrics: int, seed: int
) -> Iterator[tuple[tuple[str, ...], int, np.ndarray, np.ndarray]]:
    """Yield encode_chunk arguments; all randomness is drawn here, in order, for determinism."""
    rng = np.random.default_rng(seed)
    names = metric_names(metrics)
    keys = ("step", "wall_time", *names)
    fillers = names[len(CORE_METRICS) :]
    n_core = len(CORE_METRICS)
    core = core_series(steps, rng)
    params = filler_params(fillers, rng)
    neg_inf_col = None
    if "logps/rejected" in fillers:
        neg_inf_col = 1 + n_core + fillers.index("logps/rejected")
    neg_inf_rows = rng.choice(np.arange(1, steps), size=min(steps - 1, 3), replace=False)

    evals = np.full((steps, 2), math.nan)
    eval_start = int(EVAL_START_FRACTION * steps)
    eval_rows = np.arange(eval_start, steps, EVAL_EVERY)
    noise = rng.standard_normal((eval_rows.size, 2))
    evals[eval_rows, 0] = core["loss"][eval_rows] + 0.05 + 0.02 * noise[:, 0]
    evals[eval_rows, 1] = 0.8 * core["rewards/margins"][eval_rows] + 0.1 * noise[:, 1]

    for lo in range(0, steps, CHUNK_ROWS):
        hi = min(steps, lo + CHUNK_ROWS)
        t = np.arange(lo + 1, hi + 1, dtype=np.float64) / steps
        block = np.empty((hi - lo, 1 + len(names)), dtype=np.float64)
        block[:, 0] = core["wall_time"][lo:hi]
        for j, name in enumerate(CORE_METRICS, start=1):
            block[:, j] = core[name][lo:hi]
        if fillers:
            block[:, 1 + n_core :] = filler_chunk(t, params, rng)
        if neg_inf_col is not None:
            local = neg_inf_rows[(neg_inf_rows >= lo) & (neg_inf_rows < hi)] - lo
            block[local, neg_inf_col] = -math.inf
        yield keys, lo + 1, block, evals[lo:hi]


def generate(
    out: Path, steps: int = 200_000, metrics: int = 120, seed: int = 0, jobs: int | None = None
) -> Path:
    """Write the file atomically (temp file + rename) so a crash never leaves a truncated log.

    Output does not depend on ``jobs``: chunks are drawn in the parent and written in order.
    """
    jobs = jobs or min(8, os.cpu_count() or 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    chunks = iter_chunks(steps, metrics, seed)
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        if jobs == 1:
            for args in chunks:
                fh.write(encode_chunk(*args))
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                pending: deque[Future[str]] = deque()
                for args in chunks:  # bounded look-ahead keeps memory flat
                    pending.append(pool.submit(encode_chunk, *args))
                    if len(pending) >= 2 * jobs:
                        fh.write(pending.popleft().result())
                while pending:
                    fh.write(pending.popleft().result())
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000, help="number of lines / steps")
    parser.add_argument("--metrics", type=int, default=120, help="metric keys per line")
    parser.add_argument("--out", type=Path, default=None, help="default: data/bench_SxM.jsonl")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--jobs", type=int, default=None, help="encoder processes (default: CPUs, at most 8)"
    )
    args = parser.parse_args(argv)
    out = args.out or default_path(args.steps, args.metrics)
    start = time.perf_counter()
    generate(out, args.steps, args.metrics, args.seed, args.jobs)
    elapsed = time.perf_counter() - start
    size_mb = out.stat().st_size / 1e6
    print(f"wrote {out} ({args.steps} lines, {size_mb:.1f} MB) in {elapsed:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
