"""The W&B samples: an offline veRL GRPO run folder and a W&B chart export of two TRL runs.

    python sample_logs/generate.py        # rebuilds every sample, these two included

`verl_wandb/` is written by the real wandb SDK in offline mode (pip install wandb; no
network, no account): the committed `.wandb` files came from wandb 0.31.0. Without wandb
installed the committed files are kept as they are. The SDK's `files/`, `logs/` and `tmp/`
folders are left out (they hold machine paths); offline folders often lack `files/` anyway.
"""

from __future__ import annotations

import csv
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

VERL_ID = "k3x9q2v7"
# (folder timestamp, first step, last step, exit code): crashed after step 60, resumed from
# the step-40 checkpoint in a new process (W&B starts a second folder for the same run id)
VERL_SEGMENTS = (("20261101_101010", 1, 60, 1), ("20261101_123000", 41, 100, 0))

# veRL GRPO's metrics at each step (shared with swanlab_samples.py): a Python snippet that
# defines `rows(first, last, shift)`, yielding (step, metrics) with None for "not logged"
VERL_ROWS = """
def rows(first, last, shift):
    rng = random.Random(first)
    for step in range(first, last + 1):
        grad = 0.6 * math.exp(rng.gauss(0, 0.1))
        clip = 0.02 + max(0.0, step - 65) * 0.012 + abs(rng.gauss(0, 0.005))
        length = 420 + 4 * step + rng.gauss(0, 10)
        yield step, {
            "actor/pg_loss": -0.01 + rng.gauss(0, 0.01),
            "actor/pg_clipfrac": 0.003 + abs(rng.gauss(0, 0.001)),
            "actor/ppo_kl": 0.0004 + abs(rng.gauss(0, 0.0002)),
            "actor/entropy": 0.9 - 0.003 * step + shift,
            "actor/kl_loss": 0.001 * step / 10,
            "actor/grad_norm": float("nan") if step == 88 else grad,
            "actor/lr": 1e-6,
            "critic/score/mean": 0.3 + 0.004 * step + rng.gauss(0, 0.02) + shift,
            "critic/rewards/mean": 0.3 + 0.004 * step + rng.gauss(0, 0.02) + shift,
            "critic/advantages/mean": rng.gauss(0, 0.01),
            "response_length/mean": length,
            "response_length/max": min(1024.0, length + 500),
            "response_length/clip_ratio": min(clip, 1.0),
            "prompt_length/mean": 110 + rng.gauss(0, 3),
            "timing_s/gen": 35 + rng.gauss(0, 2),
            "timing_s/update_actor": 20 + rng.gauss(0, 1),
            "timing_s/step": 62 + rng.gauss(0, 3),
            "val-core/openai/gsm8k/reward/mean@1": (
                0.4 + 0.003 * step if step % 10 == 0 else None
            ),
        }
"""

_VERL_SCRIPT = """
import math, random, sys
import wandb

first, last, exit_code = (int(arg) for arg in sys.argv[1:4])
shift = float(sys.argv[4])
settings = wandb.Settings(
    x_disable_meta=True, x_disable_stats=True, x_save_requirements=False, disable_code=True,
    disable_git=True, host="gpu-node-3", program="main_ppo.py", console="off",
)
run = wandb.init(
    project="verl_grpo_gsm8k", name="qwen2.5-3b-grpo", id=sys.argv[5], resume="allow",
    settings=settings,
    config={
        "algorithm": {"adv_estimator": "grpo"},
        "actor_rollout_ref": {"actor": {"optim": {"lr": 1e-6}}},
        "data": {"max_response_length": 1024},
        "trainer": {"total_training_steps": 100},
    },
)
ROWS
for step, row in rows(first, last, shift):
    run.log(row, step=step)
run.finish(exit_code=exit_code)
"""


def verl_wandb() -> None:
    """veRL GRPO (Qwen2.5-3B on GSM8K) logging to W&B offline, crashed and resumed: two
    folders of run k3x9q2v7; responses hit max_response_length more and more from step 66;
    actor/grad_norm is NaN at step 88."""
    try:
        import wandb  # noqa: F401
    except ImportError:
        print("verl_wandb: wandb is not installed; the committed sample is kept", file=sys.stderr)
        return
    root = HERE / "verl_wandb"
    shutil.rmtree(root, ignore_errors=True)
    with tempfile.TemporaryDirectory() as work:
        script = Path(work) / "main_ppo.py"
        script.write_text(_VERL_SCRIPT.replace("ROWS", VERL_ROWS))
        env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": work, "WANDB_SILENT": "true"}
        env.update({f"WANDB_{k}_DIR": f"{work}/home/{k}" for k in ("CACHE", "CONFIG", "DATA")})
        for stamp, first, last, code in VERL_SEGMENTS:
            before = set(Path(work).glob("wandb/offline-run-*"))
            shift = "0.0" if first == 1 else "0.01"
            args = [str(first), str(last), str(code), shift, VERL_ID]
            subprocess.run(
                [sys.executable, str(script), *args], env=env, cwd=work, check=True, timeout=300
            )
            (made,) = set(Path(work).glob("wandb/offline-run-*")) - before
            target = root / "wandb" / f"offline-run-{stamp}-{VERL_ID}"
            target.mkdir(parents=True)
            shutil.copy(made / f"run-{VERL_ID}.wandb", target / f"run-{VERL_ID}.wandb")


# (run name, whether its learning signal dies) of the chart export
EXPORT_RUNS = (("grpo-lr1e-6", False), ("grpo-lr1e-5-collapsed", True))
EXPORT_METRICS = (
    "train/reward",
    "train/reward_std",
    "train/frac_reward_zero_std",
    "train/kl",
    "train/completions/mean_length",
)


def trl_grpo_wandb_export() -> None:
    """A W&B line panel's "Export CSV" of two TRL GRPO runs (keys under `train/`, as
    transformers' WandbCallback logs them): the second run's rewards stop varying within
    groups from step 60 (reward_std near 0, frac_reward_zero_std near 1)."""
    root = HERE / "trl_grpo_wandb_export"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    columns = ["Step"]
    for run, _ in EXPORT_RUNS:
        for metric in EXPORT_METRICS:
            columns += [f"{run} - {metric}", f"{run} - {metric}__MIN", f"{run} - {metric}__MAX"]
    rows = []
    rng = random.Random(21)
    for step in range(1, 121):
        row: list[str] = [str(step)]
        for _run, collapses in EXPORT_RUNS:
            dead = collapses and step >= 60
            values = {
                "train/reward": 0.2 + 0.004 * min(step, 60) + rng.gauss(0, 0.02),
                "train/reward_std": 0.0002 if dead else 0.3 + rng.gauss(0, 0.02),
                "train/frac_reward_zero_std": 0.97 if dead else 0.1 + rng.random() * 0.05,
                "train/kl": 0.0005 * step * (4 if collapses else 1),
                "train/completions/mean_length": 180 + step + rng.gauss(0, 4),
            }
            for metric in EXPORT_METRICS:
                value = values[metric]
                spread = 0.0 if step < 100 else abs(value) * 0.05  # W&B buckets the tail
                row += [_num(value), _num(value - spread), _num(value + spread)]
        rows.append(row)
    path = root / "wandb_export_2026-11-02T09_15_00.412+01_00.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(columns)
        csv.writer(handle).writerows(rows)


def _num(value: float) -> str:
    return "NaN" if math.isnan(value) else repr(round(value, 6))


if __name__ == "__main__":
    verl_wandb()
    trl_grpo_wandb_export()
