"""How long `logscope check` takes on a sweep: N small runs (default 1,000 KTO runs of 145
steps), one process and a process pool. Medians of several runs, each a fresh process.

    python benchmarks/bench_many_runs.py [--runs 1000] [--repeat 3]

The runs are generated under benchmarks/data/many_runs_<N>/ (git-ignored) on first use.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def make_runs(folder: Path, count: int, steps: int = 145) -> None:
    """Healthy KTO runs, and every tenth one diverging, so findings are real work too."""
    rng = random.Random(0)
    for index in range(count):
        run = folder / f"run_{index:04d}"
        run.mkdir(parents=True, exist_ok=True)
        sign = -1 if index % 10 == 0 else 1
        lines = []
        for step in range(1, steps + 1):
            margin = sign * 1.3 * step / steps + rng.gauss(0, 0.03)
            chosen = 0.8 * step / steps + rng.gauss(0, 0.02)
            lines.append(
                json.dumps(
                    {
                        "step": step,
                        "loss": 0.66 - sign * 0.25 * step / steps + rng.gauss(0, 0.008),
                        "grad_norm": 10 * math.exp(rng.gauss(0, 0.25)),
                        "learning_rate": 5e-7 * min(1.0, step / 15),
                        "rewards/chosen": chosen,
                        "rewards/rejected": chosen - margin,
                        "rewards/margins": margin,
                        "kl": 0.01 + 0.3 * step / steps,
                        "epoch": step / steps,
                    }
                )
            )
        (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = DATA / f"many_runs_{args.runs}"
    if not folder.exists():
        print(f"generating {args.runs} runs in {folder} ...", file=sys.stderr)
        make_runs(folder, args.runs)
    base = [
        sys.executable,
        "-m",
        "logscope",
        "check",
        str(folder),
        "--summary",
        "--format",
        "json",
        "-o",
        "/dev/null",
        "--fail-on",
        "never",
    ]
    contenders = {
        "--jobs 1": [*base, "--jobs", "1"],
        "--jobs 0 (all cores)": [*base, "--jobs", "0"],
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.repeat):
        for name, command in contenders.items():
            times[name].append(timed(command))
    print(f"{args.runs} runs x 145 steps x 8 metrics, {args.repeat} runs each\n")
    print("| command | median s | min s | max s | ms per run |")
    print("|---|---:|---:|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"| logscope check DIR {name} | {median:.2f} | {min(values):.2f} | "
            f"{max(values):.2f} | {1000 * median / args.runs:.1f} |"
        )


if __name__ == "__main__":
    main()
