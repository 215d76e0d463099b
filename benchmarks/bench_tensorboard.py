"""Benchmark reading a TensorBoard event file into memory: logscope vs tbparse vs TensorBoard.

Contenders, each in a fresh process (round-robin, ``--repeat`` times), all keeping every point:

* ``logscope``          - ``logscope.read(FOLDER)``: the Run frame (a column per tag), CRCs checked
* ``logscope-no-crc``   - the same with ``ReadOptions(check_crc=False)``
* ``tbparse``           - ``SummaryReader(FOLDER).scalars`` (long pandas frame; ``.tensors`` for
                          a tf.summary file, whose scalars are tensors)
* ``tbparse-no-tf``     - the same with ``import tensorflow`` made to fail: with TensorFlow
                          installed, tensorboard reads records through it (C++), without it
                          through its own pure-Python reader, which most PyTorch users have
* ``event-accumulator`` - ``EventAccumulator(FOLDER, size_guidance={"scalars": 0})``, ``Reload()``
                          and ``Scalars(tag)`` for every tag

Each contender prints its in-process time and a digest of what it read (point count, sum of
values, sum of steps), and the digests must agree: identical values, or the run fails.
Wall time and peak RSS are measured per process exactly as in bench_check.py (the MEASURE
wrapper and ``os.wait4``), so interpreter start-up and imports are included.

    python benchmarks/bench_tensorboard.py                    # generates data/tb_20000x50 first
    python benchmarks/bench_tensorboard.py --repeat 5 --only logscope,tbparse
    python benchmarks/bench_tensorboard.py --writer all --only logscope,tbparse --repeat 3
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import make_tfevents
from bench_check import REPO_ROOT, digests, finish, round_robin, warm_page_cache

CONTENDERS = ("logscope", "logscope-no-crc", "tbparse", "tbparse-no-tf", "event-accumulator")
LABELS = {
    "logscope": "logscope.read (CRCs checked)",
    "logscope-no-crc": "logscope.read, check_crc=False",
    "tbparse": "tbparse SummaryReader(...).scalars (TensorFlow importable, if installed)",
    "tbparse-no-tf": "tbparse, TensorFlow hidden (tensorboard's pure-Python reader)",
    "event-accumulator": "EventAccumulator, size_guidance scalars=0",
}
# The contender programs: each prints one JSON line with its digest and in-process seconds.
PROGRAMS = {
    "logscope": """
import json, sys, time
t = time.perf_counter()
from logscope.ingest import ReadOptions, read_run
run = read_run(sys.argv[1], options=ReadOptions(check_crc=sys.argv[2] == "crc"))
long = run.frame.drop("wall_time").unpivot(index="step").drop_nulls("value")
digest = [long.height, float(long["value"].sum()), int(long["step"].sum())]
print(json.dumps({"inner_seconds": time.perf_counter() - t, "digest": digest}))
""",
    "tbparse": """
import json, sys, time
t = time.perf_counter()
if sys.argv[2] == "no-tf":  # as where TensorFlow is not installed: tensorboard's own stub
    sys.modules["tensorflow"] = None
from tbparse import SummaryReader
reader = SummaryReader(sys.argv[1])
df = reader.scalars
if len(df) == 0:  # tf.summary.scalar writes tensors, which tbparse lists under .tensors
    df = reader.tensors
digest = [len(df), float(df["value"].sum()), int(df["step"].sum())]
print(json.dumps({"inner_seconds": time.perf_counter() - t, "digest": digest}))
""",
    "event-accumulator": """
import json, sys, time
t = time.perf_counter()
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
acc.Reload()
count, total, steps = 0, 0.0, 0
for tag in acc.Tags()["scalars"]:
    for event in acc.Scalars(tag):
        count, total, steps = count + 1, total + event.value, steps + event.step
print(json.dumps({"inner_seconds": time.perf_counter() - t, "digest": [count, total, steps]}))
""",
}


def commands(folder: Path) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "logscope": [py, "-c", PROGRAMS["logscope"], str(folder), "crc"],
        "logscope-no-crc": [py, "-c", PROGRAMS["logscope"], str(folder), "no-crc"],
        "tbparse": [py, "-c", PROGRAMS["tbparse"], str(folder), "tf"],
        "tbparse-no-tf": [py, "-c", PROGRAMS["tbparse"], str(folder), "no-tf"],
        "event-accumulator": [py, "-c", PROGRAMS["event-accumulator"], str(folder)],
    }


def precompile() -> None:
    """Byte-compile logscope as pip does when it installs a package: the other contenders
    come from site-packages, compiled at install, while a checkout run with
    PYTHONDONTWRITEBYTECODE set (as here) would compile logscope's modules in every run."""
    compileall.compile_dir(REPO_ROOT / "logscope", quiet=1)


def summarise(runs: list[Any]) -> dict[str, float]:
    secs = [r.seconds for r in runs]
    inner = [r.inner_seconds for r in runs if r.inner_seconds is not None]
    return {
        "median_s": statistics.median(secs),
        "min_s": min(secs),
        "max_s": max(secs),
        "median_inner_s": statistics.median(inner) if inner else float("nan"),
        "median_peak_rss_mb": statistics.median(r.peak_rss_mb for r in runs),
        "median_cpu_s": statistics.median(r.cpu_seconds for r in runs),
        "min_cpu_s": min(r.cpu_seconds for r in runs),
        "max_cpu_s": max(r.cpu_seconds for r in runs),
    }


def same_digest(a: list[float], b: list[float]) -> bool:
    """Equal counts and step sums; value sums equal up to summation order."""
    return a[0] == b[0] and a[2] == b[2] and abs(a[1] - b[1]) <= 1e-9 * max(1.0, abs(a[1]))


WRITERS = ("tensorboardx", "torch", "tf")
TARGET = 25.0  # issue 19: logscope >= 25x faster than tbparse, on every writer's file


def measure(
    folder: Path, selected: list[str], repeat: int, timeout: float
) -> tuple[list[str], dict[str, Any]]:
    """Every selected contender on one folder: the report lines and the result."""
    files = [p for p in folder.iterdir() if "tfevents" in p.name]
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    warm_page_cache(*files)
    load_before = os.getloadavg()[0]
    runs, errors = round_robin(commands(folder), list(selected), repeat, timeout)
    found, first, mismatched = digests(runs, same_digest)
    summary = {name: summarise(rs) for name, rs in runs.items()}
    load = f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    lines = [
        f"Folder: `{folder.name}` ({len(files)} file, {size_mb:.1f} MB, "
        f"{first[0] if first else '?':,} scalars), {repeat} run(s) per contender, {load}",
        "",
        "| contender | median s | min s | max s | in-process s | median CPU s (min-max) "
        "| median peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {LABELS[name]} | {s['median_s']:.2f} | {s['min_s']:.2f} | {s['max_s']:.2f} "
            f"| {s['median_inner_s']:.2f} "
            f"| {s['median_cpu_s']:.2f} ({s['min_cpu_s']:.2f}-{s['max_cpu_s']:.2f}) "
            f"| {s['median_peak_rss_mb']:.0f} |"
        )
    lines.append("")
    for name in ("logscope", "logscope-no-crc"):
        for other in ("tbparse", "tbparse-no-tf", "event-accumulator"):
            if name in summary and other in summary:
                ratio = summary[other]["median_s"] / summary[name]["median_s"]
                cpu = summary[other]["median_cpu_s"] / summary[name]["median_cpu_s"]
                lines.append(
                    f"- {LABELS[name]} vs {other}: **{ratio:.1f}x faster** (wall), "
                    f"**{cpu:.1f}x** (CPU time)"
                )
    result = {
        "summary": summary,
        "digests": found,
        "first": first,
        "mismatched": mismatched,
        "errors": errors,
        "labels": LABELS,
    }
    return lines, result


def verdict(writer: str, summary: dict[str, dict[str, float]]) -> list[str]:
    """Issue 19's target on one writer's file: wall-time ratio of each tbparse to logscope."""
    if "logscope" not in summary:
        return []
    mine = summary["logscope"]
    out = []
    for other in ("tbparse", "tbparse-no-tf"):
        if other in summary:
            wall = summary[other]["median_s"] / mine["median_s"]
            cpu = summary[other]["median_cpu_s"] / mine["median_cpu_s"]
            met = "met" if wall >= TARGET else "NOT met"
            out.append(
                f"| {writer} | {other} | {mine['median_s']:.2f} ({mine['min_s']:.2f}-"
                f"{mine['max_s']:.2f}) | {summary[other]['median_s']:.2f} "
                f"| **{wall:.1f}x** | {cpu:.1f}x | {met} |"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--tags", type=int, default=50)
    parser.add_argument("--folder", type=Path, help="run folder (default: generated)")
    parser.add_argument(
        "--writer",
        choices=(*WRITERS, "all"),
        default="torch",
        help="writer of the generated folder (make_tfevents.py --writer); all: each in turn, "
        f"then issue 19's verdict (>= {TARGET:g}x tbparse, wall medians)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(CONTENDERS))
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args(argv)
    selected = [c for c in CONTENDERS if c in {s.strip() for s in args.only.split(",")}]
    writers = WRITERS if args.writer == "all" else (args.writer,)
    if args.folder and len(writers) > 1:
        parser.error("--folder names one folder: give one --writer with it")
    folders = {}
    for writer in writers:
        folder = args.folder or make_tfevents.default_dir(args.steps, args.tags, "simple", writer)
        folders[writer] = folder.resolve()
        if not folders[writer].exists():
            print(f"generating {folders[writer]} ...", file=sys.stderr)
            make_tfevents.generate(folders[writer], args.steps, args.tags, 0, "simple", writer)
    precompile()
    lines: list[str] = []
    verdicts: list[str] = []
    merged: dict[str, Any] = {"summary": {}, "digests": {}, "errors": {}, "mismatched": []}
    for writer, folder in folders.items():
        part, result = measure(folder, selected, args.repeat, args.timeout)
        lines += ([f"### {writer}", ""] if len(writers) > 1 else []) + part + [""]
        verdicts += verdict(writer, result["summary"])
        tag = f"{writer}:" if len(writers) > 1 else ""  # one writer: keys as before
        for key in ("summary", "digests", "errors"):
            merged[key].update({f"{tag}{k}": v for k, v in result[key].items()})
        merged["mismatched"] += [f"{tag}{name}" for name in result["mismatched"]]
        merged["first"] = result["first"]
    if verdicts:
        lines += [
            f"Issue 19 target (logscope >= {TARGET:g}x tbparse, wall medians, whole process):",
            "",
            "| writer | vs | logscope s median (min-max) | tbparse s median | wall ratio "
            "| CPU ratio | target |",
            "|---|---|---:|---:|---:|---:|---|",
            *verdicts,
            "",
        ]
    merged["labels"] = LABELS
    return finish(lines, merged, args.json_out)


if __name__ == "__main__":
    raise SystemExit(main())
