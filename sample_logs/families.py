"""A healthy and a broken run for each training family the rule packs cover (SFT, TRL DPO,
GRPO and PPO, veRL, ms-swift CoordExp, Trinity-RFT, MaxEnt-GRPO), in the format each stack
writes. Called by generate.py; README.md lists what `logscope check` finds in each.

The healthy runs carry the noise real runs have (one-step blips, warmup transients, noisy
but rising curves, M-steps that look bad while E-steps are fine): no rule may fire on them.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
Row = dict[str, object]


def _write(path: Path, rows: list[Row]) -> None:
    shutil.rmtree(path.parent, ignore_errors=True)
    path.parent.mkdir(parents=True)
    with path.open("w") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def _rows(steps: range, make: Callable[[int, random.Random], Row], seed: int) -> list[Row]:
    rng = random.Random(seed)
    return [{"step": step, **make(step, rng)} for step in steps]


def _r(value: float) -> float:
    return round(value, 5)


# --- SFT: a hand-written loop's HF-style JSONL ------------------------------------------


def sft_healthy() -> None:
    """Loss falls from 2.1 with batch noise and one blip at step 120 (a hard batch that
    does not last); warmup to step 30; eval every 50 steps."""

    def row(step: int, rng: random.Random) -> Row:
        loss = 1.2 + 0.9 * math.exp(-step / 60) + rng.gauss(0, 0.04) + (0.6 if step == 120 else 0)
        out: Row = {
            "loss": _r(loss),
            "grad_norm": _r(1.1 * math.exp(rng.gauss(0, 0.15)) * (3 if step < 5 else 1)),
            "learning_rate": 2e-5 * min(1.0, step / 30),
            "epoch": _r(step / 300),
        }
        if step % 50 == 0:
            out["eval_loss"] = _r(1.3 + 0.8 * math.exp(-step / 60) + rng.gauss(0, 0.01))
        return out

    _write(HERE / "sft_healthy" / "metrics.jsonl", _rows(range(1, 301), row, 21))


# --- TRL DPO ----------------------------------------------------------------------------


def _dpo_row(accuracy: float, margin: float, rng: random.Random) -> Row:
    chosen = 0.4 * margin + rng.gauss(0, 0.05)
    margin += rng.gauss(0, 0.05)
    return {
        "loss": _r(math.log1p(math.exp(-margin)) + rng.gauss(0, 0.01)),
        "grad_norm": _r(8 * math.exp(rng.gauss(0, 0.2))),
        "learning_rate": 5e-7,
        "rewards/chosen": _r(chosen),
        "rewards/rejected": _r(chosen - margin),
        "rewards/accuracies": _r(min(1.0, max(0.0, accuracy + rng.gauss(0, 0.03)))),
        "rewards/margins": _r(margin),
        "logps/chosen": _r(-310 + 4 * chosen),
        "logps/rejected": _r(-330 + 4 * (chosen - margin)),
    }


def dpo_healthy() -> None:
    """Accuracy rises from chance to about 0.8, the margin from 0 to about 2."""

    def row(step: int, rng: random.Random) -> Row:
        progress = 1 - math.exp(-step / 60)
        return _dpo_row(0.5 + 0.3 * progress, 2.0 * progress, rng)

    _write(HERE / "dpo_healthy" / "metrics.jsonl", _rows(range(1, 201), row, 22))


def dpo_broken() -> None:
    """Preference pairs flipped by a data bug: the model learns the rejected answers, so the
    margin goes negative after step 30 and accuracy sinks below chance."""

    def row(step: int, rng: random.Random) -> Row:
        drift = max(0, step - 25) / 50
        return _dpo_row(0.52 - 0.2 * min(drift, 1.0), 0.1 - 0.8 * drift, rng)

    _write(HERE / "dpo_broken" / "metrics.jsonl", _rows(range(1, 201), row, 23))


# --- TRL GRPO (healthy: swift_grpo) -----------------------------------------------------


def grpo_no_signal() -> None:
    """The reward saturates (every completion in a group solves the task): from step 40 the
    groups have no reward spread, so GRPO's advantages are zero; completions hit the
    length limit."""

    def row(step: int, rng: random.Random) -> Row:
        saturated = step >= 40
        return {
            "loss": _r(rng.gauss(0, 0.002) if saturated else 0.02 + rng.gauss(0, 0.005)),
            "grad_norm": _r(0.3 * math.exp(rng.gauss(0, 0.1))),
            "learning_rate": 1e-6,
            "reward": _r(0.99 if saturated else 0.5 + 0.012 * step + rng.gauss(0, 0.03)),
            "reward_std": _r(0.0 if saturated else 0.3 + rng.gauss(0, 0.02)),
            "frac_reward_zero_std": _r(0.97 if saturated else 0.2 + rng.random() * 0.05),
            "kl": _r(0.0005 * step),
            "completions/mean_length": _r(900 + 3 * step),
            "completions/clipped_ratio": _r(0.45 if step >= 60 else 0.05),
            "clip_ratio/region_mean": 0.0,
        }

    _write(HERE / "grpo_no_signal" / "metrics.jsonl", _rows(range(1, 101), row, 24))


# --- TRL PPO ----------------------------------------------------------------------------


def _ppo_row(step: int, rng: random.Random, ratio: float, kl: float, reward: float) -> Row:
    return {
        "objective/kl": _r(kl),
        "objective/entropy": _r(2.1 - 0.004 * step + rng.gauss(0, 0.02)),
        "objective/rlhf_reward": _r(reward),
        "objective/scores": _r(reward + kl * 0.05),
        "policy/approxkl_avg": _r(0.002 + abs(rng.gauss(0, 0.001))),
        "policy/clipfrac_avg": _r(0.01 + abs(rng.gauss(0, 0.005))),
        "loss/policy_avg": _r(-0.01 + rng.gauss(0, 0.005)),
        "loss/value_avg": _r(0.4 * math.exp(-step / 80) + 0.05),
        "val/clipfrac_avg": _r(0.02 + abs(rng.gauss(0, 0.01))),
        "val/ratio": _r(ratio),
        "val/ratio_var": _r(abs(rng.gauss(0, 0.001))),
        "lr": 3e-6,
        "episode": step * 64,
    }


def ppo_healthy() -> None:
    """val/ratio stays near 1.0, the KL grows slowly and stays positive, the reward rises."""

    def row(step: int, rng: random.Random) -> Row:
        reward = -1.0 + 2.5 * (1 - math.exp(-step / 70)) + rng.gauss(0, 0.1)
        return _ppo_row(step, rng, 1.0 + rng.gauss(0, 0.01), 0.02 * step**0.5, reward)

    _write(HERE / "ppo_healthy" / "metrics.jsonl", _rows(range(1, 151), row, 25))


def ppo_broken() -> None:
    """TRL's own warning signs: the KL turns negative (below -1 from step 90, a precursor
    of failure) and val/ratio jumps to 2.5 at step 110 (the value head blew up)."""

    def row(step: int, rng: random.Random) -> Row:
        kl = 0.5 - 0.03 * max(0, step - 60) + rng.gauss(0, 0.05)
        ratio = 2.5 + rng.gauss(0, 0.05) if step >= 110 else 1.0 + rng.gauss(0, 0.01)
        reward = 0.5 + 0.01 * min(step, 80) + rng.gauss(0, 0.1)
        return _ppo_row(step, rng, ratio, kl, reward)

    _write(HERE / "ppo_broken" / "metrics.jsonl", _rows(range(1, 151), row, 26))


# --- veRL file logger: {"step": N, "data": {...}} ---------------------------------------


def _verl_data(step: int, rng: random.Random, **over: float) -> dict[str, float]:
    length = 300 + step + rng.gauss(0, 8)
    data = {
        "actor/pg_loss": -0.01 + rng.gauss(0, 0.01),
        "actor/pg_clipfrac": 0.003 + abs(rng.gauss(0, 0.001)),
        "actor/ppo_kl": 0.0004 + abs(rng.gauss(0, 0.0002)),
        "actor/entropy": 0.9 - 0.002 * step + rng.gauss(0, 0.01),
        "actor/grad_norm": 0.6 * math.exp(rng.gauss(0, 0.1)),
        "actor/is_ratio/mean": 1.0 + rng.gauss(0, 0.005),
        "critic/vf_explained_var": 0.2 + 0.5 * (1 - math.exp(-step / 40)) + rng.gauss(0, 0.03),
        "critic/score/mean": 0.2 + 0.004 * step + rng.gauss(0, 0.02),
        "critic/rewards/mean": 0.2 + 0.004 * step + rng.gauss(0, 0.02),
        "response_length/mean": length,
        "response_length/clip_ratio": 0.01 + abs(rng.gauss(0, 0.004)),
        "prompt_length/clip_ratio": 0.0,
        "timing_s/gen": 40 + rng.gauss(0, 2),
        "timing_per_token_ms/gen": 0.05 + rng.gauss(0, 0.002),
    }
    data.update(over)
    return {k: _r(v) for k, v in data.items()}


def _verl_write(name: str, data: Callable[[int, random.Random], dict[str, float]]) -> None:
    rng = random.Random(sum(map(ord, name)))
    rows: list[Row] = [{"step": s, "data": data(s, rng)} for s in range(1, 121)]
    _write(HERE / name / "metrics.jsonl", rows)


def verl_healthy() -> None:
    """A veRL PPO run of 120 steps (file logger): score rising, clip fractions small,
    explained variance positive and rising, responses rarely cut."""
    _verl_write("verl_healthy", _verl_data)


def verl_broken() -> None:
    """The policy moves too far per update from step 60: clip fraction and response
    truncation climb, the critic stops explaining returns, entropy collapses, and from step
    100 the importance ratio leaves [0.5, 2]."""

    def data(step: int, rng: random.Random) -> dict[str, float]:
        if step < 60:
            return _verl_data(step, rng)
        return _verl_data(
            step,
            rng,
            **{
                "actor/pg_clipfrac": 0.42 + rng.gauss(0, 0.02),
                "critic/vf_explained_var": -0.1 + rng.gauss(0, 0.03),
                "response_length/clip_ratio": 0.35 + rng.gauss(0, 0.02),
                "actor/entropy": 0.004,
                "actor/is_ratio/mean": 2.6 if step >= 100 else 1.0,
            },
        )

    _verl_write("verl_broken", data)


# --- ms-swift CoordExp stage-2: logging.jsonl, E-steps (reuse 0) and M-steps (reuse 1) --


def _coordexp(name: str, broken: bool) -> None:
    rng = random.Random(31 if broken else 30)
    rows: list[Row] = []
    for step in range(1, 121):
        e_step = step % 2 == 1
        bad = broken and e_step and step >= 61
        row: Row = {
            "loss": _r(0.8 * math.exp(-step / 100) + 0.3 + rng.gauss(0, 0.01)),
            "grad_norm": _r(0.9 * math.exp(rng.gauss(0, 0.1))),
            "learning_rate": 2e-5,
            "rollout/buffer_reuse": 0 if e_step else 1,
            # M-steps report the stale cached batch: it looks bad and must be ignored
            "rollout/parse_truncated_rate": _r(
                0.3 if bad or not e_step else 0.02 + abs(rng.gauss(0, 0.01))
            ),
            "rollout/gen_new_tokens_p99": 4096 if bad or not e_step else 1800,
            "rollout/parse_obj_drop_frac": _r(0.03 + abs(rng.gauss(0, 0.01))),
            "rollout/excluded_rate": _r(0.05 + abs(rng.gauss(0, 0.01))),
            "rollout/gen_tokens_per_s": _r(950 + rng.gauss(0, 20)),
            "coord_monitor/flip_coord_to_noncoord": _r(0.01 + abs(rng.gauss(0, 0.005))),
            "global_step/max_steps": f"{step}/120",
        }
        if step % 20 == 0:
            f1 = 0.4 + 0.003 * step if not (broken and step >= 60) else 0.58 - 0.004 * step
            row["eval_rollout_f1"] = _r(f1)
        rows.append(row)
    _write(HERE / name / "logging.jsonl", rows)


def coordexp_healthy() -> None:
    """E-steps healthy; M-steps (cached targets) carry truncation and max-length values
    that would fire every E-step rule if they were not filtered out."""
    _coordexp("coordexp_healthy", broken=False)


def coordexp_broken() -> None:
    """From step 61 the E-step rollouts hit max_new_tokens and their JSON is cut off, and
    eval_rollout_f1 falls at every evaluation from step 60."""
    _coordexp("coordexp_broken", broken=True)


# --- Trinity-RFT: TensorBoard (its default monitor), task sets gsm8k and math500 --------


def _trinity(name: str, broken: bool) -> None:
    from eventwriter import EventWriter, file_name

    rng = random.Random(41 if broken else 40)
    root = HERE / name
    shutil.rmtree(root, ignore_errors=True)
    start = 1_762_000_000
    with EventWriter(root / file_name(start, host="trinity-0"), wall_time=start) as writer:
        for step in range(1, 101):
            values = {
                "rollout/accuracy/mean": 0.3 + 0.004 * step + rng.gauss(0, 0.02),
                "rollout/format_score/mean": 0.9 + rng.gauss(0, 0.02),
                "experience_pipeline/experience_count": 0.0 if broken and step > 90 else 512.0,
                "time/wait_explore_step": 3.0 + rng.gauss(0, 0.3),
            }
            if step % 10 == 0:
                for taskset, base in (("gsm8k", 0.55), ("math500", 0.30)):
                    mean = base + 0.002 * step
                    if broken and taskset == "math500" and step >= 60:
                        mean = base + 0.12 - 0.03 * (step - 50) / 10
                    values[f"eval/{taskset}/accuracy/mean@4"] = mean
                    values[f"eval/{taskset}/accuracy/best@4"] = mean + 0.15
            writer.scalars(step, start + 30.0 * step, values)


def trinity_healthy() -> None:
    """Evaluation accuracy of both task sets rising, experiences flowing."""
    _trinity("trinity_healthy", broken=False)


def trinity_broken() -> None:
    """math500 accuracy falls at every evaluation from step 60 while gsm8k rises (one rule
    covers both task sets and names math500), and from step 91 the explorer delivers no
    experiences."""
    _trinity("trinity_broken", broken=True)


# --- MaxEnt-GRPO (001): train/* keys --------------------------------------------------


def _maxent(name: str, broken: bool) -> None:
    def row(step: int, rng: random.Random) -> Row:
        pinned = broken and step >= 50
        tau = 0.5 if pinned else 0.1 + 0.002 * step + rng.gauss(0, 0.005)
        return {
            "train/loss": _r(0.05 + rng.gauss(0, 0.01)),
            "train/grad_norm": _r(0.4 * math.exp(rng.gauss(0, 0.1))),
            "train/reward": _r(0.3 + 0.004 * step + rng.gauss(0, 0.02)),
            "train/kl": _r(0.002 * step**0.5),
            "train/tau": _r(tau),
            "train/tau_min": 0.01,
            "train/tau_max": 0.5,
            "train/delta_tau": _r(0.0 if pinned else 0.002),
            "train/weight_entropy": _r(0.02 if pinned else 1.2 + rng.gauss(0, 0.05)),
            "train/frac_reward_zero_std": _r(0.95 if pinned else 0.15 + rng.random() * 0.05),
            "train/clip_ratio/region_mean": _r(0.02 + abs(rng.gauss(0, 0.01))),
            "train/completions/clipped_frac": _r(0.03 + abs(rng.gauss(0, 0.01))),
        }

    _write(HERE / name / "metrics.jsonl", _rows(range(1, 101), row, 51 if broken else 50))


def maxent_healthy() -> None:
    """The tau controller moves inside its bounds; weights keep their entropy."""
    _maxent("maxent_healthy", broken=False)


def maxent_broken() -> None:
    """From step 50 the controller saturates at tau_max, the weights collapse onto one
    completion, and nearly every group has zero reward spread."""
    _maxent("maxent_broken", broken=True)


ALL = (
    sft_healthy,
    dpo_healthy,
    dpo_broken,
    grpo_no_signal,
    ppo_healthy,
    ppo_broken,
    verl_healthy,
    verl_broken,
    coordexp_healthy,
    coordexp_broken,
    trinity_healthy,
    trinity_broken,
    maxent_healthy,
    maxent_broken,
)
