"""How long `logscope check SWEEP_DIR` takes on sweeps of 1 to 10,000 runs of 200 steps,
end to end (a fresh process: start-up, discovery, reading, rules, JSON report), and where
the time goes in process (read / evaluate / report, batched path vs run by run).

    python benchmarks/bench_sweep.py [--runs 1 2000 10000] [--repeat 3] [--split 1000]

prints, for each size, wall and CPU time (medians with min-max; CPU of the process and of
its worker processes), the ratio to one run (of the medians, and the median of each
round's ratio: sizes are interleaved, so a round's runs share the machine's speed of the
moment) and the peak RSS: what issue 19's targets ask, in one command. Without --jobs the
CLI's default applies (all cores from 4,000 runs on, workers.AUTO_JOBS_RUNS; from 1,000
two processes when the load average leaves a core idle, workers.SPARE_JOBS_RUNS; else
one); --jobs 1 measures one process.

Runs are bench_many_runs' KTO runs (8 metrics, every tenth diverging), generated under
benchmarks/data/sweep_<N>/ (git-ignored) on first use. Reports medians with min and max.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
STEPS = 200
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def sweep(count: int) -> Path:
    from bench_many_runs import make_runs

    folder = DATA / f"sweep_{count}"
    if not (folder / f"run_{count - 1:04d}").exists():
        print(f"generating {count} runs x {STEPS} steps in {folder} ...", file=sys.stderr)
        make_runs(folder, count, STEPS)
    return folder if count > 1 else folder / "run_0000"


def end_to_end(folder: Path, extra: list[str]) -> tuple[float, float, float]:
    """Wall and CPU seconds (user + system, all threads) and peak RSS (MB) of one fresh
    `logscope check`. CPU time is less at the mercy of other processes on a shared machine
    than wall time."""
    command = [sys.executable, "-m", "logscope", "check", str(folder), "--format", "json"]
    start = time.perf_counter()
    child = subprocess.Popen(
        [*command, "--fail-on", "never", *extra], stdout=subprocess.DEVNULL, cwd=HERE.parent
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"logscope check {folder} exited {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def split(folder: Path) -> dict[str, float]:
    """In-process CPU seconds (this process and its threads: Polars' pool included; steadier
    than wall time on a shared machine): discovery, read, evaluate, JSON report; batched
    and run by run."""
    from logscope import pipeline
    from logscope.ingest.discover import discover
    from logscope.report import REPORTERS, Document
    from logscope.rules import engine

    packs = pipeline.load_packs()
    shared = engine.shared_aliases(packs)
    out: dict[str, float] = {}
    t0 = time.process_time()
    targets = [(found, folder) for found in discover(folder)]
    out["discover"] = time.process_time() - t0

    from logscope.ingest import read_found
    from logscope.ingest.many import read_many
    from logscope.rules import batch

    t0 = time.process_time()
    runs = read_many(targets)
    out["read (batched)"] = time.process_time() - t0
    t0 = time.process_time()
    reports = batch.evaluate_many(runs, batch.applicable_many(runs, packs, set()), shared=shared)
    out["evaluate (batched)"] = time.process_time() - t0
    t0 = time.process_time()
    REPORTERS["json"].render(Document(reports=reports, fail_on=None, packs=packs))
    out["JSON report"] = time.process_time() - t0
    sample = targets[: max(1, len(targets) // 10)]  # run by run on a tenth, scaled up
    scale = len(targets) / len(sample)
    t0 = time.process_time()
    one = [read_found(*t) for t in sample]
    out["read (run by run, est.)"] = (time.process_time() - t0) * scale
    t0 = time.process_time()
    for run in one:
        engine.evaluate(run, engine.applicable(run, packs, set()), shared=shared)
    out["evaluate (run by run, est.)"] = (time.process_time() - t0) * scale
    return out


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 2000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--split", type=int, default=1000, help="runs of the in-process split")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="passed on as --jobs (default: none, i.e. the CLI's default: all cores for a "
        "sweep of 4,000 runs or more, two from 1,000 when a core is idle, else one)",
    )
    args = parser.parse_args()
    folders = {n: sweep(n) for n in args.runs}
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    jobs = [] if args.jobs is None else ["--jobs", str(args.jobs)]
    walls: dict[int, list[float]] = {n: [] for n in args.runs}
    cpus: dict[int, list[float]] = {n: [] for n in args.runs}
    peaks: dict[int, list[float]] = {n: [] for n in args.runs}
    for _ in range(args.repeat):  # interleaved, so load changes hit every size alike
        for n, folder in folders.items():
            wall, cpu, peak = end_to_end(folder, jobs)
            walls[n].append(wall)
            cpus[n].append(cpu)
            peaks[n].append(peak)
    print(f"\n`logscope check DIR --format json {' '.join(jobs)}`, {STEPS} steps per run,")
    print(f"medians of {args.repeat} (min-max)")
    print("| runs | wall s | CPU s | x one run, wall / CPU | per round | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    one = min(walls)
    one_wall = statistics.median(walls[one])
    one_cpu = statistics.median(cpus[one])
    for n in args.runs:
        w, c = walls[n], cpus[n]
        # each round's wall against the one run of the same round: steadier on a machine
        # whose speed drifts between rounds
        rounds = [a / b for a, b in zip(w, walls[one], strict=True)]
        print(
            f"| {n:,} | {_spread(w)} | {_spread(c)} | "
            f"{statistics.median(w) / one_wall:.2f} / {statistics.median(c) / one_cpu:.2f} | "
            f"{_spread(rounds)} | {max(peaks[n]):.0f} |"
        )
    print("targets (issue 19): 10,000 runs <= 15 s; 2,000 runs <= 5x one run")
    if args.split:
        parts = split(sweep(args.split))
        print(f"\nin process, {args.split} runs (CPU s)")
        for name, seconds in parts.items():
            print(f"| {name} | {seconds:.2f} | {1000 * seconds / args.split:.2f} ms/run |")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
