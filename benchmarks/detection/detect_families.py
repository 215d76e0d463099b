"""Healthy simulated runs per training family, in the keys each stack logs.

A family builder returns a `Sim`: the logged training steps, one array per training key
(aligned with the steps), and the evaluation steps with one array per `eval_*` key. The
curves follow the reference documents' healthy pictures (003's KTO example and target
table, 000's E-/M-steps, 002's task-set keys, 004's veRL keys, 001's MaxEnt-GRPO keys) with
batch noise. Pathologies and look-alikes (scenarios.py) edit these arrays afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Rng = np.random.Generator


@dataclass
class Sim:
    family: str
    max_steps: int
    steps: np.ndarray  # logged training steps, ascending
    train: dict[str, np.ndarray]
    eval_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    evals: dict[str, np.ndarray] = field(default_factory=dict)
    estep: np.ndarray | None = None  # True on E-steps (rollout/buffer_reuse == 0)

    @property
    def t(self) -> np.ndarray:
        """Fraction of the run done at each logged step."""
        return np.asarray(self.steps / self.max_steps, dtype=float)

    @property
    def et(self) -> np.ndarray:
        return np.asarray(self.eval_steps / self.max_steps, dtype=float)


def logged_steps(max_steps: int, every: int) -> np.ndarray:
    """Trainer logging: steps every, 2*every, ... (every step from 1 when every == 1)."""
    return np.arange(every, max_steps + 1, every, dtype=np.int64)


def _axis(max_steps: int, every: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Logged steps, how many, and the fraction of the run done at each."""
    steps = logged_steps(max_steps, every)
    return steps, len(steps), np.asarray(steps / max_steps, dtype=float)


def lr_schedule(steps: np.ndarray, max_steps: int, peak: float, warmup: float = 0.05) -> np.ndarray:
    """Linear warmup from 0 over the first `warmup` of the run, then cosine decay."""
    w = max(1.0, warmup * max_steps)
    up = np.minimum(1.0, steps / w)
    decay = 0.5 * (1 + np.cos(np.pi * np.clip((steps - w) / max(1.0, max_steps - w), 0, 1)))
    return np.asarray(peak * up * np.where(steps <= w, 1.0, 0.1 + 0.9 * decay))


def lognormal(rng: Rng, n: int, center: float, sigma: float) -> np.ndarray:
    return np.asarray(center * np.exp(rng.normal(0, sigma, n)))


def _evals(max_steps: int, every: int, count: int) -> np.ndarray:
    """About `count` evaluations, at a multiple of the logging interval (Trainer's eval_steps
    is set so: an evaluation lands on a logged step)."""
    interval = every * max(1, round(max_steps / count / every))
    return np.arange(interval, max_steps + 1, interval, dtype=np.int64)


def sft(rng: Rng, max_steps: int, every: int, noise: float = 0.03) -> Sim:
    """A Trainer / hand-written SFT loop: loss falling from ~2.2 towards 0.6, eval loss just
    above it, grad norm ~1.2."""
    steps, n, t = _axis(max_steps, every)
    level = 0.6 + 1.6 * np.exp(-4 * t)
    sim = Sim("sft", max_steps, steps, {})
    sim.train = {
        "loss": level * (1 + rng.normal(0, noise, n)),
        "grad_norm": lognormal(rng, n, 1.2, 0.15),
        "learning_rate": lr_schedule(steps, max_steps, 2e-5),
    }
    sim.eval_steps = _evals(max_steps, every, 10)
    et = sim.et
    sim.evals = {
        "eval_loss": 0.66 + 1.55 * np.exp(-4 * et) + rng.normal(0, 0.008, len(et)),
        "eval_runtime": 30 + rng.normal(0, 1, len(et)),
    }
    return sim


def kto(rng: Rng, max_steps: int, every: int, noise: float = 0.008) -> Sim:
    """TRL KTOTrainer keys along 003's healthy example: loss 0.66 -> ~0.41, margin rising
    from ~0 to 1.3, chosen above rejected, KL 0.01 -> 0.3, grad norm ~8."""
    steps, n, t = _axis(max_steps, every)
    # 003's example: -0.08 at step 5, positive by step 10, then rising all run long
    # the early rise of 003's example (positive by step 10, ~0.2 by step 25) in runs of any
    # length, then the slow climb of the run
    early = 1 - np.exp(-steps / 12)
    margin = -0.1 * np.exp(-steps / 4) + 0.3 * early + 1.1 * (1 - np.exp(-1.6 * t))
    margin += rng.normal(0, 0.03, n)
    chosen = -0.05 + 0.15 * early + 0.65 * (1 - np.exp(-1.6 * t)) + rng.normal(0, 0.02, n)
    sim = Sim("kto", max_steps, steps, {})
    sim.train = {
        # 003's example: 0.65 at step 5, 0.58 by step 25, 0.52 by 50, whatever the length
        "loss": 0.40
        + 0.12 * np.exp(-steps / 40)
        + 0.14 * np.exp(-2.2 * t)
        + rng.normal(0, noise, n),
        "grad_norm": lognormal(rng, n, 8.0, 0.25),
        "learning_rate": lr_schedule(steps, max_steps, 5e-7, warmup=0.1),
        "rewards/chosen": chosen,
        "rewards/rejected": chosen - margin,
        "rewards/margins": margin,
        "kl": np.maximum(0.01 + 0.29 * t + rng.normal(0, 0.01, n), 0.0),
        "logps/chosen": -120 + 3 * chosen,
        "logps/rejected": -135 + 3 * (chosen - margin),
    }
    return sim


def dpo(rng: Rng, max_steps: int, every: int, batch: int = 32) -> Sim:
    """TRL DPOTrainer: accuracy from chance (0.5) to ~0.8 with batch-level binomial noise,
    margin 0 -> 2, loss = log(1 + exp(-margin))."""
    steps, n, t = _axis(max_steps, every)
    acc = 0.5 + 0.3 * (1 - np.exp(-3 * t))
    margin = 2.0 * (1 - np.exp(-2.5 * t)) + rng.normal(0, 0.06, n)
    chosen = 0.4 * margin + rng.normal(0, 0.05, n)
    sim = Sim("dpo", max_steps, steps, {})
    sim.train = {
        "loss": np.log1p(np.exp(-margin)) + rng.normal(0, 0.01, n),
        "grad_norm": lognormal(rng, n, 8.0, 0.2),
        "learning_rate": lr_schedule(steps, max_steps, 5e-7, warmup=0.1),
        "rewards/chosen": chosen,
        "rewards/rejected": chosen - margin,
        "rewards/accuracies": rng.binomial(batch, acc) / batch,
        "rewards/margins": margin,
        "logps/chosen": -310 + 4 * chosen,
        "logps/rejected": -330 + 4 * (chosen - margin),
    }
    sim.eval_steps = _evals(max_steps, every, 8)
    et = sim.et
    sim.evals = {
        "eval_loss": np.log1p(np.exp(-1.8 * (1 - np.exp(-2.5 * et)))) + 0.02,
        "eval_rewards/accuracies": 0.5 + 0.27 * (1 - np.exp(-3 * et)),
    }
    return sim


def grpo(rng: Rng, max_steps: int, every: int) -> Sim:
    """TRL GRPOTrainer: reward rising, reward spread inside groups, KL from exactly 0 at the
    first step (policy == reference), per-token entropy ~0.7 -> 0.45, clip_ratio exactly 0
    (num_iterations = 1: nothing is clipped)."""
    steps, n, t = _axis(max_steps, every)
    kl = 0.0005 + 0.045 * t + np.abs(rng.normal(0, 0.003, n))
    kl[steps == 1] = 0.0
    reward = 0.2 + 0.5 * (1 - np.exp(-2 * t)) + rng.normal(0, 0.04, n)
    sim = Sim("grpo", max_steps, steps, {})
    sim.train = {
        "loss": 0.04 * kl + rng.normal(0, 0.002, n),
        "grad_norm": lognormal(rng, n, 0.3, 0.2),
        "learning_rate": lr_schedule(steps, max_steps, 1e-6),
        "num_tokens": steps * 41000.0,
        "completions/mean_length": 200 + 100 * t + rng.normal(0, 6, n),
        "completions/clipped_ratio": np.clip(0.02 + rng.normal(0, 0.01, n), 0, 1),
        "rewards/accuracy_reward/mean": reward,
        "rewards/accuracy_reward/std": 0.35 + rng.normal(0, 0.02, n),
        "reward": reward,
        "reward_std": 0.32 + rng.normal(0, 0.02, n),
        "frac_reward_zero_std": np.clip(0.12 + rng.normal(0, 0.04, n), 0, 1),
        "kl": kl,
        "entropy": 0.7 - 0.25 * t + rng.normal(0, 0.02, n),
        "clip_ratio/low_mean": np.zeros(n),
        "clip_ratio/high_mean": np.zeros(n),
        "clip_ratio/region_mean": np.zeros(n),
    }
    return sim


def swift_grpo(rng: Rng, max_steps: int, every: int) -> Sim:
    """ms-swift GRPO (logging.jsonl keys): as TRL's, with `clip_ratio` and no entropy."""
    sim = grpo(rng, max_steps, every)
    sim.family = "swift_grpo"
    for key in ("entropy", "clip_ratio/low_mean", "clip_ratio/high_mean", "num_tokens"):
        del sim.train[key]
    sim.train["clip_ratio"] = sim.train.pop("clip_ratio/region_mean")
    return sim


def ppo(rng: Rng, max_steps: int, every: int) -> Sim:
    """TRL PPOTrainer: value ratio near 1, small positive KL (sequence-level), per-token
    entropy ~1.2, RLHF reward rising."""
    steps, n, t = _axis(max_steps, every)
    sim = Sim("ppo", max_steps, steps, {})
    ent = 1.3 - 0.3 * t + rng.normal(0, 0.03, n)
    sim.train = {
        "objective/kl": 0.02 + 0.5 * t + np.abs(rng.normal(0, 0.02, n)),
        "objective/entropy": 60 * ent,
        "objective/non_score_reward": -0.05 * (0.02 + 0.5 * t),
        "objective/rlhf_reward": -1.0 + 2.0 * (1 - np.exp(-2 * t)) + rng.normal(0, 0.1, n),
        "objective/scores": -0.9 + 2.0 * (1 - np.exp(-2 * t)) + rng.normal(0, 0.1, n),
        "policy/approxkl_avg": np.abs(rng.normal(0.002, 0.0005, n)),
        "policy/clipfrac_avg": np.clip(0.01 + rng.normal(0, 0.003, n), 0, 1),
        "policy/entropy_avg": ent,
        "loss/policy_avg": rng.normal(-0.01, 0.005, n),
        "loss/value_avg": 0.3 * np.exp(-2 * t) + 0.05 + np.abs(rng.normal(0, 0.01, n)),
        "val/clipfrac_avg": np.clip(0.05 + rng.normal(0, 0.01, n), 0, 1),
        "val/ratio": 1.0 + rng.normal(0, 0.03, n),
        "lr": lr_schedule(steps, max_steps, 3e-6),
        "episode": steps * 64.0,
    }
    return sim


def verl(rng: Rng, max_steps: int, every: int, entropy_key: str = "actor/entropy_loss") -> Sim:
    """veRL / TinyZero PPO (004's keys): score rising, small clip fractions, importance
    ratio near 1, explained variance positive, few truncated responses."""
    steps, n, t = _axis(max_steps, every)
    length = 300 + 150 * t + rng.normal(0, 8, n)
    kl = 0.0004 + 0.05 * t + np.abs(rng.normal(0, 0.002, n))
    kl[steps == 1] = 0.0
    truncated = np.clip(0.01 + np.abs(rng.normal(0, 0.005, n)), 0, 1)
    sim = Sim("verl", max_steps, steps, {})
    sim.train = {
        "actor/pg_loss": rng.normal(-0.01, 0.01, n),
        "actor/pg_clipfrac": 0.003 + np.abs(rng.normal(0, 0.001, n)),
        "actor/ppo_kl": np.abs(rng.normal(0, 0.0005, n)),
        entropy_key: 1.1 - 0.4 * t + rng.normal(0, 0.01, n),
        "actor/kl_loss": kl,
        "actor/kl_coef": np.full(n, 0.001),
        "actor/is_ratio/mean": 1.0 + rng.normal(0, 0.01, n),
        "actor/is_ratio/std": 0.05 + np.abs(rng.normal(0, 0.01, n)),
        "actor/is_clip/outside_frac": np.clip(0.004 + np.abs(rng.normal(0, 0.002, n)), 0, 1),
        "actor/grad_norm": lognormal(rng, n, 0.6, 0.15),
        "actor/lr": lr_schedule(steps, max_steps, 1e-6, warmup=0.0),
        "critic/score/mean": 0.25 + 0.5 * (1 - np.exp(-2 * t)) + rng.normal(0, 0.02, n),
        "critic/rewards/mean": 0.25 + 0.5 * (1 - np.exp(-2 * t)) + rng.normal(0, 0.02, n),
        "critic/advantages/mean": rng.normal(0, 0.01, n),
        "critic/vf_loss": 0.1 * np.exp(-t) + np.abs(rng.normal(0, 0.01, n)),
        "critic/vf_explained_var": 0.2 + 0.5 * t + rng.normal(0, 0.03, n),
        "critic/grad_norm": lognormal(rng, n, 2.0, 0.15),
        "response_length/mean": length,
        "response_length/max": length + 400,
        "response_length/clip_ratio": truncated,
        "prompt_length/clip_ratio": np.zeros(n),
        "completion/truncated_frac": truncated,
        "completion/truncated_correct_frac": np.clip(0.3 + rng.normal(0, 0.05, n), 0, 1),
        "timing_s/gen": 40 + rng.normal(0, 2, n),
        "timing_s/step": 75 + rng.normal(0, 3, n),
        "timing_per_token_ms/gen": 0.09 + rng.normal(0, 0.004, n),
    }
    sim.eval_steps = _evals(max_steps, every, 10)
    sim.evals = {"val/test_score/gsm8k": 0.3 + 0.4 * (1 - np.exp(-2 * sim.et))}
    return sim


def trinity(rng: Rng, max_steps: int, every: int) -> Sim:
    """Trinity-RFT (002): rollout accuracy rising, two eval task sets rising with the
    noise of repeat_times=4 evaluations, experiences flowing; veRL-style trainer keys."""
    steps, n, t = _axis(max_steps, every)
    kl = 0.0003 + 0.04 * t + np.abs(rng.normal(0, 0.002, n))
    sim = Sim("trinity", max_steps, steps, {})
    sim.train = {
        "actor/pg_loss": rng.normal(0, 0.01, n),
        "actor/entropy": 0.9 - 0.3 * t + rng.normal(0, 0.01, n),
        "actor/kl_loss": kl,
        "actor/pg_clipfrac": 0.002 + np.abs(rng.normal(0, 0.001, n)),
        "actor/ppo_kl": np.abs(rng.normal(0, 0.0004, n)),
        "actor/grad_norm": lognormal(rng, n, 0.4, 0.15),
        "critic/score/mean": 0.3 + 0.4 * (1 - np.exp(-2 * t)) + rng.normal(0, 0.02, n),
        "response_length/mean": 280 + 60 * t + rng.normal(0, 6, n),
        "rollout/accuracy/mean": 0.3 + 0.4 * (1 - np.exp(-2 * t)) + rng.normal(0, 0.02, n),
        "rollout/format_score/mean": np.clip(0.92 + rng.normal(0, 0.02, n), 0, 1),
        "experience_pipeline/experience_count": np.full(n, 512.0),
        "time/wait_explore_step": 12 + rng.normal(0, 0.8, n),
    }
    sim.eval_steps = _evals(max_steps, every, 12)
    et = sim.et
    m = len(et)
    for task, base, gain in (("gsm8k", 0.45, 0.3), ("math500", 0.2, 0.2)):
        mean = base + gain * (1 - np.exp(-2.5 * et)) + rng.normal(0, 0.006, m)
        sim.evals[f"eval/{task}/accuracy/mean@4"] = mean
        sim.evals[f"eval/{task}/accuracy/std@4"] = 0.15 + rng.normal(0, 0.01, m)
        sim.evals[f"eval/{task}/accuracy/best@4"] = np.minimum(1.0, mean + 0.2)
    return sim


ROLLOUT_QUALITY = (
    "rollout/precision",
    "rollout/recall",
    "rollout/f1",
    "rollout/match_rate",
    "rollout/sample_valid_pred_rate",
    "rollout/sample_any_match_rate",
)


def coordexp(rng: Rng, max_steps: int, every: int, window: int = 4) -> Sim:
    """ms-swift CoordExp stage-2 (000): an E-step every `window` optimizer steps (fresh
    rollouts, rollout/buffer_reuse 0), M-steps reusing the cached targets (buffer_reuse 1,
    rollout timings forced to 0, quality keys carrying the cached window's values)."""
    steps, n, t = _axis(max_steps, every)
    estep = (steps - 1) % window == 0 if every == 1 else np.arange(n) % window == 0
    precision = 0.55 + 0.2 * (1 - np.exp(-2 * t)) + rng.normal(0, 0.02, n)
    recall = 0.5 + 0.2 * (1 - np.exp(-2 * t)) + rng.normal(0, 0.02, n)
    sim = Sim("coordexp", max_steps, steps, {}, estep=estep)
    sim.train = {
        "loss": 0.9 + 0.8 * np.exp(-3 * t) + rng.normal(0, 0.02, n),
        "grad_norm": lognormal(rng, n, 2.0, 0.2),
        "learning_rate": lr_schedule(steps, max_steps, 1e-5),
        "token_acc": 0.7 + 0.15 * t + rng.normal(0, 0.01, n),
        "coord_softce_w1/loss": 0.5 * np.exp(-2 * t) + 0.2 + rng.normal(0, 0.01, n),
        "coord_monitor/flip_coord_to_noncoord": np.clip(0.02 + rng.normal(0, 0.005, n), 0, 1),
        "coord_monitor/coord_vocab_mass_at_gt_coord": np.clip(0.9 + rng.normal(0, 0.01, n), 0, 1),
        "rollout/buffer_reuse": np.where(estep, 0.0, 1.0),
        "rollout/precision": precision,
        "rollout/recall": recall,
        "rollout/f1": 2 * precision * recall / (precision + recall),
        "rollout/match_rate": recall,
        "rollout/sample_valid_pred_rate": np.clip(0.95 + rng.normal(0, 0.01, n), 0, 1),
        "rollout/sample_any_match_rate": np.clip(0.85 + rng.normal(0, 0.02, n), 0, 1),
        "rollout/gating_rejection_rate": np.clip(0.1 + rng.normal(0, 0.01, n), 0, 1),
        "rollout/parse_truncated_rate": np.clip(0.02 + rng.normal(0, 0.01, n), 0, 1),
        "rollout/parse_obj_drop_frac": np.clip(0.03 + rng.normal(0, 0.01, n), 0, 1),
        "rollout/excluded_rate": np.clip(0.02 + rng.normal(0, 0.005, n), 0, 1),
        "rollout/gen_new_tokens_p99": 1400 + rng.normal(0, 40, n),
        "rollout/gen_tokens_per_s": 2400 + rng.normal(0, 60, n),
        "rollout/desc_pairs_total": 40 + rng.normal(0, 3, n),
        "rollout/desc_sem_acc_on_matched": np.clip(0.8 + rng.normal(0, 0.02, n), 0, 1),
        "time/rollout_generate_s": 30 + rng.normal(0, 1, n),
    }
    _cache_msteps(sim)
    sim.eval_steps = _evals(max_steps, every, 8)
    et = sim.et
    f1 = 0.55 + 0.15 * (1 - np.exp(-2 * et)) + rng.normal(0, 0.004, len(et))
    sim.evals = {
        "eval_rollout_f1": f1,
        "eval_rollout_precision": f1 + 0.03,
        "eval_rollout_recall": f1 - 0.03,
    }
    return sim


def _cache_msteps(sim: Sim) -> None:
    """M-steps report the cached window's rollout keys; their timings are forced to 0."""
    assert sim.estep is not None
    last = np.maximum.accumulate(np.where(sim.estep, np.arange(len(sim.steps)), 0))
    for key, values in sim.train.items():
        if key.startswith("rollout/") and key != "rollout/buffer_reuse":
            sim.train[key] = values[last]
    sim.train["time/rollout_generate_s"] = np.where(
        sim.estep, sim.train["time/rollout_generate_s"], 0.0
    )


def maxent(rng: Rng, max_steps: int, every: int) -> Sim:
    """A MaxEnt-GRPO loop (001's train/* keys): tau moving inside [tau_min, tau_max],
    weight entropy ~1.2, KL small, groups with reward spread."""
    steps, n, t = _axis(max_steps, every)
    kl = 0.001 + 0.06 * t + np.abs(rng.normal(0, 0.004, n))
    sim = Sim("maxent", max_steps, steps, {})
    sim.train = {
        "train/loss": rng.normal(0.01, 0.005, n),
        "train/grad_norm": lognormal(rng, n, 0.5, 0.2),
        "train/learning_rate": lr_schedule(steps, max_steps, 1e-6),
        "train/reward": 0.3 + 0.35 * (1 - np.exp(-2 * t)) + rng.normal(0, 0.03, n),
        "train/reward_std": 0.3 + rng.normal(0, 0.02, n),
        "train/frac_reward_zero_std": np.clip(0.15 + rng.normal(0, 0.04, n), 0, 1),
        "train/kl": kl,
        "train/beta": np.full(n, 0.04),
        "train/tau": 0.1 + 0.05 * np.sin(6 * t) + rng.normal(0, 0.005, n),
        "train/tau_min": np.full(n, 0.01),
        "train/tau_max": np.full(n, 0.5),
        "train/weight_entropy": 1.2 + rng.normal(0, 0.05, n),
        "train/clip_ratio/region_mean": np.clip(0.01 + rng.normal(0, 0.004, n), 0, 1),
        "train/completions/clipped_frac": np.clip(0.03 + rng.normal(0, 0.01, n), 0, 1),
        "train/completions/mean_length_sampled": 240 + 60 * t + rng.normal(0, 6, n),
    }
    return sim


FAMILIES: dict[str, Callable[..., Sim]] = {
    "sft": sft,
    "kto": kto,
    "dpo": dpo,
    "grpo": grpo,
    "ppo": ppo,
    "swift_grpo": swift_grpo,
    "verl": verl,
    "trinity": trinity,
    "coordexp": coordexp,
    "maxent": maxent,
}

# the formats each family's stack really writes (first = the usual one)
FORMATS: dict[str, tuple[str, ...]] = {
    "sft": ("jsonl", "trainer_state", "tensorboard", "wandb", "mlflow"),
    "kto": ("jsonl", "trainer_state", "tensorboard", "wandb"),
    "dpo": ("trainer_state", "jsonl", "wandb", "tensorboard"),
    "grpo": ("trainer_state", "wandb", "tensorboard", "jsonl"),
    "ppo": ("trainer_state", "wandb", "tensorboard"),
    "swift_grpo": ("swift",),
    "verl": ("verl", "tensorboard", "wandb", "mlflow", "mlflow_sqlite"),
    "trinity": ("tensorboard", "wandb", "mlflow", "mlflow_sqlite"),
    "coordexp": ("swift", "tensorboard"),
    "maxent": ("jsonl", "wandb"),
}

# families whose TensorBoard / W&B keys go through transformers' callbacks (train/, eval/)
HF_NAMES = {"sft", "kto", "dpo", "grpo", "ppo", "coordexp"}

# the keys a common pathology is injected into, per family
KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "loss": dict.fromkeys(("sft", "kto", "dpo", "grpo", "swift_grpo", "coordexp"), ("loss",))
    | {"maxent": ("train/loss",)},
    "grad": dict.fromkeys(("sft", "kto", "dpo", "grpo", "swift_grpo", "coordexp"), ("grad_norm",))
    | {
        "verl": ("actor/grad_norm",),
        "trinity": ("actor/grad_norm",),
        "maxent": ("train/grad_norm",),
    },
    "kl": {
        "kto": ("kl",),
        "grpo": ("kl",),
        "swift_grpo": ("kl",),
        "verl": ("actor/kl_loss",),
        "trinity": ("actor/kl_loss",),
        "maxent": ("train/kl",),
    },
    "entropy": {
        "grpo": ("entropy",),
        "ppo": ("policy/entropy_avg", "objective/entropy"),
        "verl": ("actor/entropy_loss", "actor/entropy"),  # TinyZero's name, then veRL's
        "trinity": ("actor/entropy",),
        "maxent": ("train/weight_entropy",),
    },
    "policy_loss": {
        "verl": ("actor/pg_loss",),
        "trinity": ("actor/pg_loss",),
        "ppo": ("loss/policy_avg",),
    },
    "reward": {
        "grpo": ("reward",),
        "swift_grpo": ("reward",),
        "ppo": ("objective/rlhf_reward",),
        "verl": ("critic/score/mean",),
        "trinity": ("rollout/accuracy/mean",),
        "maxent": ("train/reward",),
    },
}


def family_keys(sim: Sim, group: str) -> tuple[str, ...]:
    """The keys of a KEYS group this simulated run logs."""
    return tuple(k for k in KEYS[group].get(sim.family, ()) if k in sim.train)
