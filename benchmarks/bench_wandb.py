"""Benchmark reading a W&B `.wandb` transaction log: logscope vs wandb's own DataStore reader.

The file is written by the real wandb SDK in offline mode (`--steps` x `--metrics` values via
`run.log(..., step=step)`; 20,000 x 50 gives about 60 MB, one history and one summary record
per step, as wandb-core writes them). Contenders, each in a fresh process (round-robin,
``--repeat`` times), all keeping every point:

* ``logscope``  - ``logscope.read(FILE)``: the Run frame (a column per metric), CRCs checked
* ``datastore`` - what wandb's ``tools/inspect_tool.py`` does: ``DataStore.open_for_scan`` /
                  ``scan_data`` (CRC-checked framing), ``Record.ParseFromString``, then
                  ``json.loads`` of every history item's ``value_json``. The Python DataStore
                  was removed from recent wandb (0.31 has none); pass an interpreter that has
                  it with ``--datastore-python`` (e.g. a venv with ``pip install wandb==0.18.7``).

Both print a digest (points, sum of values, sum of steps over the non-`_` numeric keys) that
must agree. Wall time and peak RSS come from bench_check.run_measured (start-up included).

    python benchmarks/bench_wandb.py --datastore-python /tmp/venv-wandb-old/bin/python
    python benchmarks/bench_wandb.py --steps 2000 --metrics 20      # quick
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_check import digests, finish, round_robin, warm_page_cache
from bench_tensorboard import same_digest, summarise

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
LABELS = {
    "logscope": "logscope.read (CRCs checked)",
    "datastore": "wandb DataStore + ParseFromString + json.loads",
}

WRITER = """
import math, random, sys
import wandb
steps, metrics = int(sys.argv[1]), int(sys.argv[2])
settings = wandb.Settings(x_disable_meta=True, x_disable_stats=True, x_save_requirements=False,
                          disable_code=True, disable_git=True, console="off")
run = wandb.init(project="bench", id="bench0001", settings=settings)
keys = [f"actor/metric_{i:03d}" for i in range(metrics)]
rng = random.Random(0)
for step in range(steps):
    run.log({k: math.exp(-step / 5000) + rng.gauss(0, 0.01) + i for i, k in enumerate(keys)},
            step=step)
run.finish()
"""

PROGRAMS = {
    "logscope": """
import json, math, sys, time
t = time.perf_counter()
import logscope
run = logscope.read(sys.argv[1])
metrics = [m for m in run.metrics if not m.startswith("_")]
long = run.frame.select("step", *metrics).unpivot(index="step").drop_nulls("value")
digest = [long.height, float(long["value"].sum()), int(long["step"].sum())]
print(json.dumps({"inner_seconds": time.perf_counter() - t, "digest": digest}))
""",
    "datastore": """
import json, sys, time
t = time.perf_counter()
from wandb.proto import wandb_internal_pb2
from wandb.sdk.internal import datastore
ds = datastore.DataStore()
ds.open_for_scan(sys.argv[1])
count, total, steps = 0, 0.0, 0
while True:
    data = ds.scan_data()
    if data is None:
        break
    record = wandb_internal_pb2.Record()
    record.ParseFromString(data)
    if record.WhichOneof("record_type") != "history":
        continue
    row = {}
    for item in record.history.item:
        row[".".join(item.nested_key) or item.key] = json.loads(item.value_json)
    step = row.get("_step", record.history.step.num)
    for key, value in row.items():
        if not key.startswith("_") and isinstance(value, (int, float)):
            count, total, steps = count + 1, total + value, steps + step
print(json.dumps({"inner_seconds": time.perf_counter() - t, "digest": [count, total, steps]}))
""",
}


def generate(path: Path, steps: int, metrics: int) -> None:
    """Write the file with the wandb SDK (offline) and keep only the `.wandb` log."""
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": work, "WANDB_SILENT": "true"}
        subprocess.run(
            [sys.executable, "-c", WRITER, str(steps), str(metrics)], env=env, cwd=work, check=True
        )
        (made,) = Path(work).glob("wandb/offline-run-*/run-bench0001.wandb")
        path.parent.mkdir(parents=True, exist_ok=True)
        made.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--metrics", type=int, default=50)
    parser.add_argument("--file", type=Path, help=".wandb file (default: generated)")
    parser.add_argument("--datastore-python", help="interpreter whose wandb has DataStore")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args(argv)
    path = args.file or DATA_DIR / f"wandb_{args.steps}x{args.metrics}" / "run-bench0001.wandb"
    path = path.resolve()
    if not path.exists():
        print(f"generating {path} with the wandb SDK (offline) ...", file=sys.stderr)
        generate(path, args.steps, args.metrics)
    warm_page_cache(path)
    cmds = {"logscope": [sys.executable, "-c", PROGRAMS["logscope"], str(path)]}
    if args.datastore_python:
        cmds["datastore"] = [args.datastore_python, "-c", PROGRAMS["datastore"], str(path)]
    else:
        print("no --datastore-python: only logscope is timed", file=sys.stderr)
    runs, errors = round_robin(cmds, list(cmds), args.repeat, args.timeout)
    found, first, mismatched = digests(runs, same_digest)
    summary = {name: summarise(rs) for name, rs in runs.items()}
    size_mb = path.stat().st_size / 1e6
    lines = [
        f"File: `{path.parent.name}/{path.name}` ({size_mb:.1f} MB, "
        f"{first[0] if first else '?':,} values), {args.repeat} run(s) per contender",
        "",
        "| contender | median s | min s | max s | in-process s | median peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {LABELS[name]} | {s['median_s']:.2f} | {s['min_s']:.2f} | {s['max_s']:.2f} "
            f"| {s['median_inner_s']:.2f} | {s['median_peak_rss_mb']:.0f} |"
        )
    if {"logscope", "datastore"} <= set(summary):
        ratio = summary["datastore"]["median_s"] / summary["logscope"]["median_s"]
        lines += ["", f"- logscope vs wandb DataStore: **{ratio:.1f}x faster**"]
    result = {
        "summary": summary,
        "digests": found,
        "first": first,
        "mismatched": mismatched,
        "errors": errors,
        "labels": LABELS,
    }
    return finish(lines, result, args.json_out)


if __name__ == "__main__":
    raise SystemExit(main())
