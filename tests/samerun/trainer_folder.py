"""Real Hugging Face Trainer output folders with several trackers at once (the `test` extra).

A script trains a tiny random GPT-2 (built in code, no hub) with report_to=["tensorboard",
"wandb"] and wandb offline, in its own interpreter so wandb's process state and the
environment stay out of the test process. The folder then holds what the libraries wrote:
trainer_state.json, checkpoint-N/, runs/<date>_<host>/events.out.tfevents.*, and
wandb/offline-run-*/run-<id>.wandb.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_SUPPORT = _HERE.parent / "writer"

SCRIPT = """
import sys
sys.path.insert(0, SUPPORT)
import transformers
from hf_support import LMDataset, model, sentences, tokenizer

out, lr, seed, run_id = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
tok = tokenizer()
args = transformers.TrainingArguments(
    output_dir=out, per_device_train_batch_size=8, max_steps=12, learning_rate=lr,
    logging_steps=1, save_strategy="steps", save_steps=4, report_to=["tensorboard", "wandb"],
    run_name=run_id, use_cpu=True, disable_tqdm=True, seed=seed, data_seed=seed,
)
trainer = transformers.Trainer(
    model=model(tok.vocab_size, seed=seed), args=args,
    train_dataset=LMDataset(tok, sentences(64, seed=seed)),
)
trainer.train()
"""


def offline_wandb(folder: Path, home: Path) -> dict[str, str]:
    """The environment of a script that logs to W&B offline into `folder`, wandb's caches
    and config in `home` (never the user's)."""
    kinds = ("CACHE", "CONFIG", "DATA", "ARTIFACT")
    return {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(folder),
        **{f"WANDB_{k}_DIR": str(home / k.lower()) for k in kinds},
        "WANDB_SILENT": "true",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_CONSOLE": "off",
    }


def train(
    out: Path, *, learning_rate: float = 5e-4, seed: int = 0, run_id: str = "tiny0001"
) -> Path:
    """Train into `out` (created); returns it."""
    pytest.importorskip("transformers")
    pytest.importorskip("wandb")
    pytest.importorskip("tensorboard")
    out.mkdir(parents=True, exist_ok=True)
    env = {
        **offline_wandb(out, out.parent / f".home-{out.name}"),
        "WANDB_RUN_ID": run_id,
        "WANDB_PROJECT": "logscope-test",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    script = out.parent / f"train-{out.name}.py"
    script.write_text(textwrap.dedent(SCRIPT).replace("SUPPORT", repr(str(_SUPPORT))))
    subprocess.run(
        [sys.executable, str(script), str(out), str(learning_rate), str(seed), run_id],
        env=env,
        cwd=out.parent,
        check=True,
        capture_output=True,
        timeout=300,
    )
    script.unlink()
    return out
