"""A veRL-style multi-tracker folder written by the real tracker libraries (the `test` extra).

veRL's `Tracking` hands every step's metrics dict to each configured backend: its file
logger (`VERL_FILE_LOGGER_PATH`, lines `{"step": N, "data": {...}}`), TensorBoard
(`TENSORBOARD_DIR`, default `tensorboard_log/<project>/<experiment>/`), W&B (`wandb/`) and
MLflow (`mlruns/`). The script below does the same with each library's own writer
(torch's SummaryWriter, wandb offline, mlflow's file store), in its own interpreter.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from trainer_folder import offline_wandb

SCRIPT = """
import json, math, os, sys
import mlflow, wandb
from torch.utils.tensorboard import SummaryWriter

seed, run_id = int(sys.argv[1]), sys.argv[2]
os.makedirs("tensorboard_log/proj/exp", exist_ok=True)
board = SummaryWriter("tensorboard_log/proj/exp")
run = wandb.init(project="proj", name="exp", id=run_id)
mlflow.set_tracking_uri("file:" + os.path.abspath("mlruns"))
mlflow.set_experiment("proj")
mlflow.start_run(run_name="exp")
with open("metrics.jsonl", "a") as file_logger:
    for step in range(1, 21):
        kl = 0.001 * step * (1 + seed) + 0.0001 * math.sin(step + seed)
        data = {
            "actor/pg_loss": -0.05 + 0.01 * math.cos(step * (seed + 1)),
            "actor/kl_loss": kl,
            "actor/grad_norm": 0.4 + 0.05 * math.sin(step + 3 * seed),
            "critic/score/mean": 0.1 + 0.02 * step + 0.01 * seed,
            "actor/lr": 1e-6,
        }
        file_logger.write(json.dumps({"step": step, "data": data}) + "\\n")
        for key, value in data.items():
            board.add_scalar(key, value, step)
        run.log(data, step=step)
        mlflow.log_metrics({k.replace("@", "_at_"): v for k, v in data.items()}, step=step)
board.close()
run.finish()
mlflow.end_run()
"""


def write(folder: Path, *, seed: int = 0, run_id: str = "verl0001") -> Path:
    """One veRL-style run in `folder` (created) with its four trackers."""
    for module in ("wandb", "mlflow", "tensorboard"):
        pytest.importorskip(module)
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **offline_wandb(folder, folder.parent / f".home-{folder.name}"),
        "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
        "MLFLOW_ALLOW_FILE_STORE": "true",  # ./mlruns, the default of the MLflow veRL targets
        "PYTHONWARNINGS": "ignore",
    }
    script = folder.parent / f"log-{folder.name}.py"
    script.write_text(textwrap.dedent(SCRIPT))
    subprocess.run(
        [sys.executable, str(script), str(seed), run_id],
        env=env,
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=300,
    )
    script.unlink()
    return folder
