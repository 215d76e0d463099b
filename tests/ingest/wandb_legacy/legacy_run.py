"""Writes the committed legacy fixture; see README.md beside it (needs wandb 0.18.7)."""

import math

import wandb

settings = wandb.Settings(
    _disable_meta=True,
    _disable_stats=True,
    disable_code=True,
    disable_git=True,
    host="node-0",
    program="train.py",
    console="off",
    save_code=False,
    mode="offline",
    _save_requirements=False,
)
run = wandb.init(
    project="logscope-fixture",
    name="legacy run",
    id="legacy01",
    settings=settings,
    config={"lr": 0.001},
)
for step in range(4):
    run.log(
        {
            "loss": 1.0 / (step + 1),
            "train": {"kl": 0.1 * step, "deep": {"x": step}},
            "grad_norm": math.nan if step == 2 else math.inf if step == 3 else 0.5,
            "phase": "warmup" if step < 2 else "main",
        },
        step=step,
    )
run.finish()
