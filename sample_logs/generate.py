"""Rebuild the sample runs in this folder (deterministic: fixed seeds).

    python sample_logs/generate.py

Each sample is modelled on a reference document or on what a real tool writes; the
README beside this script says what a correct `logscope check` finds in each.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent


def interp(anchors: list[tuple[int, float]], step: int) -> float:
    """Piecewise-linear curve through (step, value) anchors."""
    for (s0, v0), (s1, v1) in itertools.pairwise(anchors):
        if s0 <= step <= s1:
            return v0 + (v1 - v0) * (step - s0) / (s1 - s0)
    return anchors[0][1] if step < anchors[0][0] else anchors[-1][1]


def write_jsonl(path: Path, records: list[dict], tail: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
        handle.write(tail)


def kto_row(step: int, rng: random.Random, *, loss, margin, chosen, kl, grad, lr_peak=5e-7) -> dict:
    """One line of the KTO guide's training_metrics.jsonl (TRL KTOTrainer keys)."""
    m = margin + rng.gauss(0, 0.03)
    c = chosen + rng.gauss(0, 0.02)
    return {
        "step": step,
        "loss": round(loss + rng.gauss(0, 0.008), 4),
        "grad_norm": round(grad * math.exp(rng.gauss(0, 0.25)), 4),
        "learning_rate": lr_peak * min(1.0, step / 15),
        "rewards/chosen": round(c, 4),
        "rewards/rejected": round(c - m, 4),
        "rewards/margins": round(m, 4),
        "kl": round(max(kl + rng.gauss(0, 0.01), 0.0), 4),
        "logps/chosen": round(-120 + 3 * c, 3),
        "logps/rejected": round(-135 + 3 * (c - m), 3),
        "epoch": round(step / 145, 4),
    }


def kto_healthy() -> None:
    """145 steps along the guide's 'Example Healthy Training' and its target table."""
    rng = random.Random(7)
    rows = []
    for step in range(1, 146):
        rows.append(
            kto_row(
                step,
                rng,
                loss=interp(
                    [
                        (1, 0.66),
                        (5, 0.65),
                        (10, 0.62),
                        (25, 0.58),
                        (50, 0.52),
                        (100, 0.45),
                        (145, 0.41),
                    ],
                    step,
                ),
                margin=interp(
                    [
                        (1, -0.09),
                        (5, -0.078),
                        (10, 0.027),
                        (25, 0.201),
                        (50, 0.423),
                        (100, 0.86),
                        (120, 1.07),
                        (145, 1.32),
                    ],
                    step,
                ),
                chosen=interp(
                    [
                        (1, -0.05),
                        (5, -0.045),
                        (10, 0.012),
                        (25, 0.089),
                        (50, 0.234),
                        (100, 0.512),
                        (145, 0.78),
                    ],
                    step,
                ),
                kl=interp([(1, 0.01), (30, 0.08), (145, 0.3)], step),
                grad=interp([(1, 12.0), (145, 6.0)], step),
            )
        )
    write_jsonl(HERE / "kto_healthy" / "logs" / "training_metrics.jsonl", rows)


def kto_diverging() -> None:
    """40 steps along the guide's 'Example Problematic Training': loss up, margin falling."""
    rng = random.Random(11)
    rows = []
    for step in range(1, 41):
        row = kto_row(
            step,
            rng,
            loss=interp([(1, 0.64), (5, 0.65), (10, 0.72), (25, 0.85), (40, 0.97)], step),
            margin=interp([(1, -0.05), (5, -0.078), (10, -0.201), (25, -0.432), (40, -0.65)], step),
            chosen=interp([(1, -0.04), (5, -0.045), (10, -0.112), (25, -0.234), (40, -0.33)], step),
            kl=interp([(1, 0.02), (20, 0.4), (40, 1.4)], step),
            grad=interp([(1, 10.0), (25, 40.0), (40, 160.0)], step),
        )
        row["loss"] = round(
            interp([(1, 0.64), (5, 0.65), (10, 0.72), (25, 0.85), (40, 0.97)], step)
            + rng.gauss(0, 0.001),
            4,
        )
        rows.append(row)
    write_jsonl(HERE / "kto_diverging" / "logs" / "training_metrics.jsonl", rows)


def sft_nan_truncated() -> None:
    """A hand-written SFT loop logging HF-style lines; grad_norm turns NaN at step 260 while
    the logged loss stays finite (as with logging_nan_inf_filter); killed mid-write."""
    rng = random.Random(3)
    lines = []
    for step in range(10, 410, 10):
        grad = float("nan") if step >= 260 else round(2.0 * math.exp(rng.gauss(0, 0.2)), 4)
        lines.append(
            json.dumps(
                {
                    "loss": round(2.1 * math.exp(-step / 300) + 0.6 + rng.gauss(0, 0.02), 4),
                    "grad_norm": grad,
                    "learning_rate": 2e-5 * (1 - step / 1000),
                    "epoch": round(step / 800, 4),
                    "step": step,
                }
            )
        )
        if step % 100 == 0:
            lines.append(
                json.dumps(
                    {
                        "eval_loss": round(1.9 * math.exp(-step / 300) + 0.7, 4),
                        "eval_runtime": 12.5,
                        "eval_samples_per_second": 80.1,
                        "eval_steps_per_second": 10.0,
                        "epoch": round(step / 800, 4),
                        "step": step,
                    }
                )
            )
    path = HERE / "sft_nan_truncated" / "metrics.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + '\n{"loss": 1.07, "grad_norm": Na')


def hf_output() -> None:
    """A TRL KTO output dir: trainer_state.json in the root and in checkpoint-50/ and -100/.

    Healthy, except one grad-norm spike at step 85 (one logged step: a blip for the KTO
    thresholds, a 10x jump for the common explosion rule)."""
    rng = random.Random(5)
    history = []
    for step in range(5, 151, 5):
        row = kto_row(
            step,
            rng,
            loss=interp([(1, 0.66), (10, 0.62), (50, 0.52), (100, 0.45), (150, 0.40)], step),
            margin=interp([(1, -0.05), (10, 0.03), (50, 0.43), (100, 0.87), (150, 1.35)], step),
            chosen=interp([(1, -0.04), (10, 0.01), (50, 0.24), (100, 0.52), (150, 0.8)], step),
            kl=interp([(1, 0.01), (150, 0.3)], step),
            grad=8.0,
        )
        del row["step"]
        if step == 85:
            row["grad_norm"] = 450.0
        row["step"] = step
        history.append(row)
        if step % 50 == 0:
            history.append(
                {
                    "eval_loss": round(row["loss"] + 0.03, 4),
                    "eval_rewards/margins": row["rewards/margins"],
                    "eval_runtime": 30.2,
                    "epoch": row["epoch"],
                    "step": step,
                }
            )
    history.append(
        {
            "train_runtime": 5012.3,
            "train_samples_per_second": 1.9,
            "train_steps_per_second": 0.03,
            "total_flos": 0.0,
            "train_loss": 0.512,
            "epoch": 1.0,
            "step": 150,
        }
    )
    root = HERE / "hf_output"
    shutil.rmtree(root, ignore_errors=True)
    for upto, folder in ((50, root / "checkpoint-50"), (100, root / "checkpoint-100"), (150, root)):
        folder.mkdir(parents=True, exist_ok=True)
        state = {
            "best_metric": None,
            "best_model_checkpoint": None,
            "epoch": upto / 150,
            "eval_steps": 50,
            "global_step": upto,
            "is_hyper_param_search": False,
            "is_local_process_zero": True,
            "is_world_process_zero": True,
            "log_history": [
                h
                for h in history
                if h["step"] <= upto and ("train_runtime" not in h or upto == 150)
            ],
            "logging_steps": 5,
            "max_steps": 150,
            "num_train_epochs": 1,
            "save_steps": 50,
            "total_flos": 0.0,
            "train_batch_size": 8,
            "trial_name": None,
            "trial_params": None,
        }
        (folder / "trainer_state.json").write_text(json.dumps(state, indent=2, sort_keys=True))


def swift_grpo() -> None:
    """ms-swift GRPO logging.jsonl: step only in "global_step/max_steps", resumed at step 41
    (the file is appended, so steps 41-60 appear twice), and the end-of-training summary line."""
    rng = random.Random(9)

    def line(step: int, seed_shift: float) -> dict:
        reward = 0.2 + 0.5 * step / 100 + rng.gauss(0, 0.03) + seed_shift
        return {
            "loss": round(0.02 + rng.gauss(0, 0.005), 8),
            "grad_norm": round(0.3 + rng.random() * 0.2, 8),
            "learning_rate": 1e-6,
            "reward": round(reward, 8),
            "reward_std": round(0.3 + rng.gauss(0, 0.02), 8),
            "frac_reward_zero_std": round(0.1 + rng.random() * 0.05, 8),
            "kl": round(0.001 * step / 10, 8),
            "clip_ratio": 0.0,
            "completions/mean_length": round(200 + step + rng.gauss(0, 5), 8),
            "epoch": round(step / 100, 8),
            "global_step/max_steps": f"{step}/100",
            "percentage": f"{step:.2f}%",
            "elapsed_time": f"{step // 2}m {step % 60}s",
            "remaining_time": f"{(100 - step) // 2}m 0s",
            "memory(GiB)": 37.5,
            "train_speed(iter/s)": 0.021,
        }

    records = [line(s, 0.0) for s in range(1, 61)]
    records += [line(s, 0.01) for s in range(41, 101)]  # resumed from checkpoint-40
    records.append(
        {
            "last_model_checkpoint": "output/v1-20261101-101010/checkpoint-100",
            "best_model_checkpoint": None,
            "best_metric": None,
            "global_step": 100,
            "log_history": [
                {k: v for k, v in r.items() if not isinstance(v, str)} for r in records[-5:]
            ],
            "memory": {"cuda:0": "37.5GiB"},
            "model_parameter_info": "Qwen2ForCausalLM: 494.0M Params",
        }
    )
    write_jsonl(HERE / "swift_grpo" / "logging.jsonl", records)


def verl_tensorboard() -> None:
    """veRL's TensorBoard logger (torch SummaryWriter in tensorboard_log/<project>/<exp>/):
    one event per scalar. The run crashed after step 60 and was resumed from its step-40
    checkpoint, so the second file starts again at step 41 (no SessionLog.START, as veRL
    writes none). actor/grad_norm spikes 10x at step 75."""
    from eventwriter import EventWriter, file_name

    rng = random.Random(13)
    root = HERE / "verl_tensorboard"
    shutil.rmtree(root, ignore_errors=True)

    def metrics(step: int, shift: float) -> dict[str, float]:
        grad = 0.8 * math.exp(rng.gauss(0, 0.1)) * (10.0 if step == 75 else 1.0)
        length = 350 + 2 * step + rng.gauss(0, 8)
        return {
            "actor/pg_loss": -0.02 + rng.gauss(0, 0.01),
            "actor/pg_clipfrac": 0.002 + abs(rng.gauss(0, 0.001)),
            "actor/ppo_kl": 0.0005 * step / 10 + abs(rng.gauss(0, 0.0002)),
            "actor/entropy_loss": 1.2 - 0.004 * step + shift,
            "actor/grad_norm": grad,
            "actor/lr": 1e-6,
            "critic/score/mean": 0.25 + 0.004 * step + rng.gauss(0, 0.02) + shift,
            "critic/rewards/mean": 0.25 + 0.004 * step + rng.gauss(0, 0.02) + shift,
            "critic/advantages/mean": rng.gauss(0, 0.01),
            "response_length/mean": length,
            "response_length/max": length + 400,
            "response_length/clip_ratio": 0.01 + abs(rng.gauss(0, 0.005)),
            "timing_s/gen": 40 + rng.gauss(0, 2),
            "timing_s/update_actor": 25 + rng.gauss(0, 1),
            "timing_s/step": 70 + rng.gauss(0, 3),
        }

    start = 1_761_000_000
    for first, last, began, shift in ((1, 60, start, 0.0), (41, 100, start + 9000, 0.01)):
        name = file_name(began, host="gpu-node-3.cluster.local", pid=51234 + first)
        with EventWriter(root / name, wall_time=began) as writer:
            for step in range(first, last + 1):
                writer.scalars(step, began + 70.0 * (step - first + 1), metrics(step, shift))


def verl_console_grpo() -> None:
    """A TinyZero GRPO run (countdown task) as its stdout log: Ray start-up, the config dump,
    vLLM warnings, tqdm bars redrawn with \\r, and `step:N - key:value` lines (TinyZero's
    `{v:.3f}`) behind Ray's coloured `(main_task pid=...)` prefix. Responses hit
    max_response_length more and more from step 50; at step 73 a worker's output is
    interleaved into the step line; the job dies of CUDA OOM after step 100."""
    rng = random.Random(21)
    prefix = "\x1b[36m(main_task pid=2174)\x1b[0m "
    lines = [
        "+ python3 -m verl.trainer.main_ppo algorithm.adv_estimator=grpo "
        "data.train_files=data/countdown/train.parquet data.max_response_length=1024 "
        "actor_rollout_ref.model.path=Qwen/Qwen2.5-3B trainer.logger=['console'] "
        "trainer.project_name=TinyZero trainer.experiment_name=countdown-qwen2.5-3b-grpo",
        "2025-02-03 14:02:11,512\tINFO worker.py:1821 -- Started a local Ray instance.",
        prefix + "{'actor_rollout_ref': {'actor': {'clip_ratio': 0.2, 'entropy_coeff': 0.001,",
        prefix + "                                 'ppo_mini_batch_size': 128},",
        prefix + "                       'rollout': {'n': 5, 'temperature': 1.0}},",
        prefix + " 'algorithm': {'adv_estimator': 'grpo', 'kl_ctrl': {'kl_coef': 0.001}}}",
        "\x1b[36m(WorkerDict pid=2633)\x1b[0m WARNING 02-03 14:03:02 cuda.py:22] You are "
        "using a deprecated `pynvml` package. Please install `nvidia-ml-py` instead.",
        "\x1b[36m(WorkerDict pid=2633)\x1b[0m Processed prompts: 100%|##########| "
        "640/640 [00:41<00:00, 15.52it/s]",
        prefix + "Using LocalLogger is deprecated. The constructor API will change ",
    ]
    for step in range(1, 101):
        late = max(0, step - 50)
        length = 180 + 4.0 * step + rng.gauss(0, 10)
        metrics = {
            "global_seqlen/mean": 41000 + rng.gauss(0, 900),
            "actor/kl_loss": 0.0004 * step + abs(rng.gauss(0, 0.0002)),
            "actor/kl_coef": 0.001,
            "actor/entropy_loss": 0.55 - 0.002 * step + rng.gauss(0, 0.01),
            "actor/pg_loss": rng.gauss(0, 0.01),
            "actor/pg_clipfrac": 0.003 + abs(rng.gauss(0, 0.001)),
            "actor/ppo_kl": abs(rng.gauss(0, 0.0004)),
            "actor/grad_norm": 0.35 * math.exp(rng.gauss(0, 0.15)),
            "actor/lr": 1e-6,
            "critic/score/mean": 0.05 + 0.004 * step + rng.gauss(0, 0.02),
            "critic/score/max": 1.0,
            "critic/score/min": 0.0,
            "critic/rewards/mean": 0.05 + 0.004 * step + rng.gauss(0, 0.02),
            "critic/advantages/mean": rng.gauss(0, 0.005),
            "critic/advantages/max": 1.79,
            "critic/advantages/min": -1.79,
            "response_length/mean": length,
            "response_length/max": 1024.0,
            "response_length/min": 60 + rng.gauss(0, 5),
            "response_length/clip_ratio": 0.02 + 0.009 * late + abs(rng.gauss(0, 0.01)),
            "prompt_length/mean": 131 + rng.gauss(0, 2),
            "prompt_length/clip_ratio": 0.0,
            "timing/gen": 38 + 0.1 * step + rng.gauss(0, 2),
            "timing/old_log_prob": 6.1 + rng.gauss(0, 0.3),
            "timing/ref": 5.8 + rng.gauss(0, 0.3),
            "timing/adv": 0.12,
            "timing/update_actor": 24 + rng.gauss(0, 1),
            "timing/step": 75 + rng.gauss(0, 3),
        }
        if step % 10 == 0:
            metrics["val/test_score/countdown"] = 0.08 + 0.003 * step + rng.gauss(0, 0.01)
        text = " - ".join([f"step:{step}"] + [f"{k}:{v:.3f}" for k, v in metrics.items()])
        if step == 73:  # another actor's output lands in the middle of the line
            cut = text.index(" - actor/pg_loss:") + len(" - actor/pg_loss:")
            text = text[:cut] + "(WorkerDict pid=2633) INFO flush" + text[text.index(" - ", cut) :]
        bar = f"Training:  {step}%|{'#' * (step // 10):<10}| {step}/100 [{step * 75}s]"
        lines.append(f"{bar}\r{prefix}{text}")
    lines += [
        prefix + "Traceback (most recent call last):",
        prefix + '  File "verl/trainer/main_ppo.py", line 103, in main_task',
        prefix + "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.31 GiB.",
    ]
    folder = HERE / "verl_console_grpo"
    folder.mkdir(exist_ok=True)
    (folder / "train.log").write_text("\n".join(lines) + "\n")


def mlflow_ppo() -> None:
    """veRL PPO with `trainer.logger=['console','mlflow']`: its MLflow store at the default
    path's name (`mlruns.db`), one run named after trainer.experiment_name, keys sanitised
    for MLflow ('@' written '_at_'). The critic never learns (vf_explained_var <= 0 from
    step 45) and actor/grad_norm turns NaN at step 88 (stored as is_nan = 1)."""
    from mlflowwriter import write_store

    rng = random.Random(31)
    rows = []
    for step in range(1, 91):
        metrics = {
            "actor/pg_loss": rng.gauss(-0.01, 0.01),
            "actor/pg_clipfrac": 0.004 + abs(rng.gauss(0, 0.001)),
            "actor/ppo_kl": abs(rng.gauss(0, 0.0005)),
            "actor/entropy": 0.9 - 0.003 * step + rng.gauss(0, 0.01),
            "actor/grad_norm": math.nan if step >= 88 else 0.6 * math.exp(rng.gauss(0, 0.2)),
            "actor/lr": 1e-6,
            "critic/vf_loss": 0.08 + rng.gauss(0, 0.01),
            "critic/vf_explained_var": (0.3 if step < 45 else -0.05) + rng.gauss(0, 0.02),
            "critic/grad_norm": 2.0 * math.exp(rng.gauss(0, 0.2)),
            "critic/score/mean": 0.3 + 0.002 * step + rng.gauss(0, 0.02),
            "critic/rewards/mean": 0.3 + 0.002 * step + rng.gauss(0, 0.02),
            "response_length/mean": 260 + rng.gauss(0, 12),
            "response_length/clip_ratio": 0.01 + abs(rng.gauss(0, 0.005)),
            "timing_s/gen": 30 + rng.gauss(0, 2),
            "timing_s/step": 55 + rng.gauss(0, 3),
        }
        if step % 10 == 0:
            metrics["val-core/openai/gsm8k/reward/mean_at_1"] = 0.4 + 0.002 * step
        rows.append((step, 1_761_000_000_000 + 55_000 * step, metrics))
    folder = HERE / "mlflow_ppo"
    folder.mkdir(exist_ok=True)
    write_store(
        folder / "mlruns.db",
        experiment="verl_examples",
        run_name="gsm8k-qwen2.5-0.5b-ppo",
        rows=rows,
        params={"actor_rollout_ref.actor.clip_ratio": "0.2", "critic.cliprange_value": "0.5"},
        status="FAILED",
        seed=31,
    )


if __name__ == "__main__":
    kto_healthy()
    kto_diverging()
    sft_nan_truncated()
    hf_output()
    swift_grpo()
    verl_tensorboard()
    verl_console_grpo()
    mlflow_ppo()
    from families import ALL

    for make in ALL:
        make()

    from wandb_samples import trl_grpo_wandb_export, verl_wandb

    verl_wandb()  # needs the wandb SDK (offline); keeps the committed files without it
    trl_grpo_wandb_export()

    from swanlab_samples import verl_swanlab

    verl_swanlab()  # needs the swanlab SDK (offline); keeps the committed files without it
