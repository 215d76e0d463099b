"""Rebuild the MLflow fixtures with the real mlflow package (not needed to run the tests).

    python -m venv /tmp/mlv && /tmp/mlv/bin/pip install mlflow-skinny sqlalchemy alembic
    cd tests/ingest/data && /tmp/mlv/bin/python make_mlflow.py

Writes `mlflow.db.gz` (the SQLite store, gzipped: its ~70 empty tables take 950 KB) and
`mlruns/` (file store; MLflow >= 3.13 needs MLFLOW_ALLOW_FILE_STORE=true), both built in a
temporary folder so no path of this machine's checkout is recorded. Both hold the same runs
of one experiment: `ppo-good` (steps 0-4 of veRL-style keys, then NaN, +inf and -inf at
step 5, a key sanitised from `@4`, step 4 logged again later), `crashed` (3 steps) and
`deleted` (moved to the trash). Produced with mlflow-skinny 3.17.2.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from pathlib import Path

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
os.environ.setdefault("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "false")

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

HERE = Path(__file__).parent
T0 = 1_761_000_000_000  # ms


def fill(uri: str) -> None:
    client = MlflowClient(uri)
    exp = client.create_experiment("verl-ppo")
    run = client.create_run(exp, run_name="ppo-good", tags={"team": "rl"}).info.run_id
    client.log_param(run, "actor_rollout_ref.actor.clip_ratio", "0.2")
    client.log_param(run, "data.max_response_length", "512")
    for step in range(5):
        metrics = [
            Metric("actor/pg_loss", -0.01 * step, T0 + 1000 * step, step),
            Metric("actor/grad_norm", 1.0 + step, T0 + 1000 * step, step),
            Metric("critic/score/mean", 0.1 * step, T0 + 1000 * step, step),
            Metric("val-core/gsm8k/reward/mean_at_4", 0.5, T0 + 1000 * step, step),
        ]
        client.log_batch(run, metrics=metrics)
    client.log_metric(run, "actor/pg_loss", float("nan"), T0 + 5000, 5)
    client.log_metric(run, "actor/grad_norm", float("inf"), T0 + 5000, 5)
    client.log_metric(run, "critic/score/mean", float("-inf"), T0 + 5000, 5)
    client.log_metric(run, "critic/score/mean", 0.75, T0 + 6000, 4)  # step 4 logged again
    client.set_terminated(run)
    crashed = client.create_run(exp, run_name="crashed").info.run_id
    for step in range(3):
        client.log_metric(crashed, "loss", 2.0 - step / 10, T0 + 1000 * step, step)
    client.set_terminated(crashed, status="FAILED")
    deleted = client.create_run(exp, run_name="deleted").info.run_id
    client.log_metric(deleted, "loss", 9.0, T0, 0)
    client.delete_run(deleted)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)  # the SQLite store's default artifact root is ./mlruns
        db = Path(scratch) / "mlflow.db"
        fill(f"sqlite:///{db}")
        (HERE / "mlflow.db.gz").write_bytes(gzip.compress(db.read_bytes(), 9, mtime=0))
        store = Path(scratch) / "mlruns"
        fill(store.as_uri())
        shutil.rmtree(HERE / "mlruns", ignore_errors=True)
        shutil.copytree(store, HERE / "mlruns")
    print("mlflow", mlflow.__version__)


if __name__ == "__main__":
    main()
