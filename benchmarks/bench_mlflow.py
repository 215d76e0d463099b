"""Benchmark reading one MLflow run's full metric history: logscope vs MlflowClient vs pandas.

One run of ``--steps`` steps x ``--keys`` metric keys is written twice, as a file store
(``mlruns/``, one text file per key) and as a SQLite store (``mlflow.db``). With
``--mlflow-python`` (an interpreter that has mlflow, e.g. a venv with
``pip install mlflow-skinny sqlalchemy alembic``) the stores are created by the real mlflow
(experiment, run, schema and migrations) and the metric rows are then bulk-written in
MLflow's own format (text lines ``ts value step``; rows of the ``metrics`` table), because
logging a million points through the client would take longer than any contender.

Contenders, each in a fresh process (round-robin, ``--repeat`` times):

* ``logscope-files``  - ``logscope.read(mlruns/<exp>/<run>)``: the Run frame
* ``logscope-sqlite`` - ``logscope.read(mlflow.db/<run>)``
* ``pandas-files``    - ``pd.read_csv(sep=" ")`` per metric file, concatenated (what users write)
* ``mlflow-files``    - ``MlflowClient(file store).get_metric_history(run, key)`` for every key
* ``mlflow-sqlite``   - the same against the SQLite store

Each prints a digest (point count, sum of values, sum of steps); digests must agree.

    python benchmarks/bench_mlflow.py --mlflow-python /tmp/mlv/bin/python
    python benchmarks/bench_mlflow.py --steps 2000 --keys 100 --only logscope-files,pandas-files
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench_check import digests, finish, round_robin, warm_page_cache
from bench_tensorboard import same_digest, summarise

HERE = Path(__file__).resolve().parent
CONTENDERS = ("logscope-files", "logscope-sqlite", "pandas-files", "mlflow-files", "mlflow-sqlite")
T0 = 1_761_000_000_000

DIGEST = """
def digest(long):  # long: (step, value) pairs of every point
    return [len(long), float(sum(v for _, v in long)), int(sum(s for s, _ in long))]
"""
PROGRAMS = {
    "logscope": """
import json, sys, time
t = time.perf_counter()
import logscope
run = logscope.read(sys.argv[1])
long = run.frame.drop("wall_time").unpivot(index="step").drop_nulls("value")
digest = [long.height, float(long["value"].sum()), int(long["step"].sum())]
print(json.dumps({"inner_seconds": time.perf_counter() - t, "digest": digest}))
""",
    "pandas": """
import json, sys, time
from pathlib import Path
t = time.perf_counter()
import pandas as pd
root = Path(sys.argv[1]) / "metrics"
frames = []
for f in sorted(p for p in root.rglob("*") if p.is_file()):
    df = pd.read_csv(f, sep=" ", header=None, names=["timestamp", "value", "step"])
    df["key"] = f.relative_to(root).as_posix()
    frames.append(df)
long = pd.concat(frames, ignore_index=True)
wide = long.pivot_table(index="step", columns="key", values="value", aggfunc="last")
digest = [int(wide.count().sum()), float(long["value"].sum()), int(long["step"].sum())]
print(json.dumps({"inner_seconds": time.perf_counter() - t, "digest": digest}))
""",
    "mlflow": """
import json, os, sys, time
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
t = time.perf_counter()
from mlflow.tracking import MlflowClient
client = MlflowClient(sys.argv[1])
run_id = sys.argv[2]
count, total, steps = 0, 0.0, 0
for key in client.get_run(run_id).data.metrics:
    for m in client.get_metric_history(run_id, key):
        count, total, steps = count + 1, total + m.value, steps + m.step
print(json.dumps({"inner_seconds": time.perf_counter() - t, "digest": [count, total, steps]}))
""",
}

CREATE = """
import os, sys
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
from mlflow.tracking import MlflowClient
client = MlflowClient(sys.argv[1])
exp = client.create_experiment("bench")
run = client.create_run(exp, run_name="bench-run")
client.set_terminated(run.info.run_id)
print(exp, run.info.run_id)
"""


def points(steps: int, keys: int) -> tuple[list[str], list[list[tuple[int, float, int]]]]:
    rng = random.Random(0)
    names = [
        f"{('actor', 'critic', 'timing_s', 'response_length')[k % 4]}/m{k:03d}" for k in range(keys)
    ]
    series = [[(T0 + 1000 * s, round(rng.gauss(0, 1), 6), s) for s in range(steps)] for _ in names]
    return names, series


def generate(folder: Path, steps: int, keys: int, mlflow_python: str | None) -> tuple[str, str]:
    """Write both stores into `folder`; returns (experiment id, run id)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    store, db = folder / "mlruns", folder / "mlflow.db"
    if mlflow_python:
        made = [
            subprocess.run(
                [mlflow_python, "-c", CREATE, uri], check=True, capture_output=True, text=True
            ).stdout.split()
            for uri in (store.as_uri(), f"sqlite:///{db}")
        ]
        (exp, run_id), (_, db_run) = made
    else:
        exp, run_id, db_run = "1", "0" * 31 + "1", "0" * 31 + "1"
        run_dir = store / exp / run_id
        (run_dir / "metrics").mkdir(parents=True)
        (run_dir / "meta.yaml").write_text(f"run_id: {run_id}\nlifecycle_stage: active\n")
        sys.path.insert(0, str(HERE.parent / "sample_logs"))
        from mlflowwriter import SCHEMA

        with sqlite3.connect(db) as connection:
            connection.executescript(SCHEMA)
            connection.execute(
                "INSERT INTO runs (run_uuid, name, status, lifecycle_stage, experiment_id)"
                " VALUES (?, 'bench-run', 'FINISHED', 'active', 1)",
                (db_run,),
            )
        connection.close()
    names, series = points(steps, keys)
    metrics = store / exp / run_id / "metrics"
    for name, rows in zip(names, series, strict=True):
        path = metrics / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{ts} {v!r} {s}\n" for ts, v, s in rows))
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
            " VALUES (?, ?, ?, ?, ?, 0)",
            (
                (n, v, ts, db_run, s)
                for n, rows in zip(names, series, strict=True)
                for ts, v, s in rows
            ),
        )
        # MlflowClient.get_run lists a run's keys from latest_metrics
        connection.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
            " VALUES (?, ?, ?, ?, 0, ?)",
            (
                (n, rows[-1][1], rows[-1][0], rows[-1][2], db_run)
                for n, rows in zip(names, series, strict=True)
            ),
        )
    connection.close()
    (folder / "ids.json").write_text(json.dumps({"exp": exp, "run": run_id, "db_run": db_run}))
    return exp, run_id


def commands(folder: Path, mlflow_python: str | None) -> dict[str, list[str]]:
    ids = json.loads((folder / "ids.json").read_text())
    run_dir = folder / "mlruns" / ids["exp"] / ids["run"]
    py = sys.executable
    cmds = {
        "logscope-files": [py, "-c", PROGRAMS["logscope"], str(run_dir)],
        "logscope-sqlite": [
            py,
            "-c",
            PROGRAMS["logscope"],
            str(folder / "mlflow.db" / "bench-run"),
        ],
        "pandas-files": [py, "-c", PROGRAMS["pandas"], str(run_dir)],
    }
    if mlflow_python:
        store_uri = (folder / "mlruns").as_uri()
        db_uri = f"sqlite:///{folder / 'mlflow.db'}"
        cmds["mlflow-files"] = [mlflow_python, "-c", PROGRAMS["mlflow"], store_uri, ids["run"]]
        cmds["mlflow-sqlite"] = [mlflow_python, "-c", PROGRAMS["mlflow"], db_uri, ids["db_run"]]
    return cmds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--mlflow-python", help="interpreter with mlflow installed")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(CONTENDERS))
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args(argv)
    folder = (
        HERE / "data" / f"mlflow_{args.steps}x{args.keys}{'_real' if args.mlflow_python else ''}"
    )
    if not (folder / "ids.json").exists():
        print(f"generating {folder} ...", file=sys.stderr)
        generate(folder, args.steps, args.keys, args.mlflow_python)
    cmds = commands(folder, args.mlflow_python)
    wanted = {s.strip() for s in args.only.split(",")}
    selected = [c for c in CONTENDERS if c in wanted and c in cmds]
    warm_page_cache(
        folder / "mlflow.db", *(p for p in (folder / "mlruns").rglob("*") if p.is_file())
    )

    runs, errors = round_robin(cmds, list(selected), args.repeat, args.timeout)
    found, first, mismatched = digests(runs, same_digest)
    summary = {name: summarise(rs) for name, rs in runs.items()}
    lines = [
        f"One MLflow run, {args.steps:,} steps x {args.keys} keys "
        f"({args.steps * args.keys:,} points), {args.repeat} run(s) per contender",
        "",
        "| contender | median s | min s | max s | in-process s | median peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {name} | {s['median_s']:.2f} | {s['min_s']:.2f} | {s['max_s']:.2f} "
            f"| {s['median_inner_s']:.2f} | {s['median_peak_rss_mb']:.0f} |"
        )
    lines.append("")
    for ours, others in (
        ("logscope-files", ("pandas-files", "mlflow-files")),
        ("logscope-sqlite", ("mlflow-sqlite",)),
    ):
        for other in others:
            if ours in summary and other in summary:
                ratio = summary[other]["median_s"] / summary[ours]["median_s"]
                lines.append(f"- {ours} vs {other}: **{ratio:.1f}x faster**")
    result = {
        "summary": summary,
        "digests": found,
        "first": first,
        "mismatched": mismatched,
        "errors": errors,
        "labels": {},
    }
    return finish(lines, result, args.json_out)


if __name__ == "__main__":
    raise SystemExit(main())
