"""Pathologies: edits that inject one documented warning sign into a healthy simulated run,
each returning its label.

Every label is written from the reference documents, not from what logscope does today:
`metrics` are the keys that show the problem, `onset` is the FIRST logged step whose value
is bad (computed from the generated values with the document's criterion), `severity` is
what the document asks for ("stop", "revert", "restart", an explosion limit -> error; other
warning signs -> warning). Signs the logged metrics cannot show are not simulated (see
benchmarks/README.md, "Detection accuracy").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from detect_families import KEYS, ROLLOUT_QUALITY, Rng, Sim, family_keys

HEALTHY = "healthy"


@dataclass
class Label:
    """What a correct verdict on the run is."""

    pathology: str  # HEALTHY or a pathology id
    sign: str = ""  # the document's warning sign, quoted or paraphrased, with its source
    metrics: list[str] = field(default_factory=list)  # keys that show it (as logged)
    onset: int | None = None  # first logged step whose value is bad
    severity: str = "none"  # error | warning | none
    points: list[int] = field(default_factory=list)  # logged points of metrics[0] around onset
    also: list[str] = field(default_factory=list)  # secondary symptoms: may fire, not counted


# --- helpers ----------------------------------------------------------------------------


def _start(sim: Sim, frac: float) -> int:
    """Index of the first logged step at or after `frac` of the run."""
    return int(np.searchsorted(sim.t, frac))


def _first(
    sim: Sim, key: str, bad: Callable[[np.ndarray], np.ndarray], i0: int, *, estep: bool = False
) -> int:
    """The first logged step from index i0 whose value of `key` is bad."""
    values = sim.train[key]
    mask = bad(values)
    mask[:i0] = False
    if estep and sim.estep is not None:
        mask &= sim.estep
    hits = np.flatnonzero(mask)
    assert hits.size, f"{key}: the injected values never become bad"
    return int(sim.steps[hits[0]])


def _first_eval(sim: Sim, key: str, bad: Callable[[np.ndarray], np.ndarray], j0: int) -> int:
    mask = bad(sim.evals[key])
    mask[:j0] = False
    hits = np.flatnonzero(mask)
    assert hits.size, f"{key}: the injected evaluations never become bad"
    return int(sim.eval_steps[hits[0]])


def _ramp(n: int, i0: int, length: int) -> np.ndarray:
    """0 before i0, rising linearly to 1 over `length` points, then 1."""
    idx = np.arange(n)
    return np.asarray(np.clip((idx - i0 + 1) / max(1, length), 0, 1))


Pathology = Callable[[Sim, Rng], Label]


# --- common (every family): 003's NaN/Inf, grad norm, loss rising; llm-foundry spikes ---


def nan_grad(sim: Sim, rng: Rng) -> Label:
    """Gradients overflow while the logged loss stays finite (logging_nan_inf_filter)."""
    (key,) = KEYS["grad"][sim.family]
    i0 = _start(sim, 0.55)
    sim.train[key][i0:] = np.where(rng.random(len(sim.steps) - i0) < 0.3, np.inf, np.nan)
    sim.train[key][i0] = np.nan
    return Label(
        "nan-grad",
        "003 Stop and Revert 4: NaN/Inf values appear",
        [key],
        int(sim.steps[i0]),
        "error",
    )


def grad_explosion(sim: Sim, rng: Rng) -> Label:
    """Grad norm grows geometrically past 100 and then 1000 and stays there."""
    (key,) = KEYS["grad"][sim.family]
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    growth = np.exp(np.clip(np.arange(n) - i0 + 1, 0, 8) * 1.2)  # saturates at ~1.5e4x
    sim.train[key] = sim.train[key] * np.maximum(1.0, growth * 40 / np.median(sim.train[key][:i0]))
    onset = _first(sim, key, lambda v: v > 100, i0)
    return Label(
        "grad-explosion",
        "003 Grad Norm: > 100 -> training unstable; > 1000 -> about to explode, stop training",
        [key],
        onset,
        "error",
        also=list(KEYS["loss"].get(sim.family, ())),
    )


def loss_rising(sim: Sim, rng: Rng) -> Label:
    """The loss climbs steadily (every logged point higher than the last) from mid-run."""
    (key,) = KEYS["loss"][sim.family]
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    base = sim.train[key][i0 - 1]
    k = np.arange(n - i0) + 1
    sim.train[key][i0:] = base * (1 + 0.04 * k) + rng.normal(0, 0.002 * base, n - i0)
    return Label(
        "loss-rising",
        "003 Loss: Increasing -> diverging, revert; Stop and Revert 2: loss increases for 10+ "
        "consecutive steps",
        [key],
        int(sim.steps[i0]),
        "error",
    )


def loss_spike(sim: Sim, rng: Rng) -> Label:
    """The loss jumps to 4x its level for 8 logged points (a bad shard), then comes back; at
    least 2.5x the mean of the previous 100 logged points, so llm-foundry's criterion holds
    even where that window still holds the early, higher loss."""
    (key,) = KEYS["loss"][sim.family]
    i0 = _start(sim, 0.6)
    v = sim.train[key]
    floor = 2.5 * float(np.mean(v[max(0, i0 - 100) : i0]))  # the criterion's running mean
    v[i0 : i0 + 8] = np.maximum(4.0 * v[i0 : i0 + 8], floor) * (1 + rng.normal(0, 0.03, 8))
    return Label(
        "loss-spike",
        "common: a persistent loss spike (llm-foundry KillLossSpike: 2x the running mean, 5 in a "
        "row); 003 'unstable metrics'",
        [key],
        int(sim.steps[i0]),
        "warning",
    )


def instant_blowup(sim: Sim, rng: Rng) -> Label:
    """A real TRL SFT run at lr 1e3: loss 3.7 -> 1.3e8, grad norm 3.1 -> 124,620 at step 2."""
    loss, grad = sim.train["loss"], sim.train["grad_norm"]
    loss[0], grad[0] = 3.7, 3.1
    loss[1:] = 1.3e8 * np.exp(rng.normal(0, 0.3, len(loss) - 1))
    grad[1:] = 124_620 * np.exp(rng.normal(0, 0.3, len(grad) - 1))
    return Label(
        "instant-blowup",
        "003 Grad Norm: > 1000 -> about to explode, stop training; loss orders of magnitude above "
        "its first value",
        ["loss", "grad_norm"],
        int(sim.steps[1]),
        "error",
    )


def kl_high(sim: Sim, rng: Rng) -> Label:
    """KL jumps to 1.1-1.8 nats (the real TRL GRPO run's range) and stays."""
    (key,) = KEYS["kl"][sim.family]
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    sim.train[key][i0:] = rng.uniform(1.1, 1.8, n - i0)
    return Label(
        "kl-high",
        "003 KL Divergence: very high (> 1.0) -> model diverging too much from base",
        [key],
        int(sim.steps[i0]),
        "warning",
    )


def entropy_collapse(sim: Sim, rng: Rng) -> Label:
    """The policy entropy falls to ~0 within a few logged points and stays there."""
    keys = family_keys(sim, "entropy")
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    for key in keys:
        level = float(np.median(sim.train[key][:i0]))
        sim.train[key][i0:] = level * 0.003 * np.exp(rng.normal(0, 0.2, n - i0))
    return Label(
        "entropy-collapse",
        "004 actor/entropy_loss: higher = more randomness; entropy near 0 = a near-deterministic "
        "policy (exploration gone)",
        list(keys),
        int(sim.steps[i0]),
        "warning",
    )


def train_eval_divergence(sim: Sim, rng: Rng) -> Label:
    """Eval loss turns up while the train loss keeps falling (overfitting)."""
    key = "eval_loss"
    e = sim.evals[key]
    j0 = int(np.searchsorted(sim.et, 0.45))
    k = np.arange(len(e) - j0) + 1
    e[j0:] = e[j0 - 1] + 0.06 * k + rng.normal(0, 0.005, len(e) - j0)
    onset = _first_eval(sim, key, lambda v: v > v[j0 - 1], j0)
    return Label(
        "train-eval-divergence",
        "000 Reduction semantics: train loss is comparable to eval_loss; eval loss rising while "
        "train loss falls = overfitting",
        [key],
        onset,
        "warning",
    )


def reward_falling(sim: Sim, rng: Rng) -> Label:
    (key,) = KEYS["reward"][sim.family]
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    level = sim.train[key][:i0].max()
    sim.train[key][i0:] = (
        level - 0.5 * np.abs(level) * _ramp(n, i0, n - i0)[i0:] - 0.02 + rng.normal(0, 0.02, n - i0)
    )
    return Label(
        "reward-falling",
        "004 critic/score/mean, 002 rollout/accuracy/mean, 001 train/reward: the task reward must "
        "not keep falling",
        [key],
        int(sim.steps[i0]),
        "warning",
    )


# --- KTO (003) -------------------------------------------------------------------------


def _kto_margin(sim: Sim) -> None:
    """Keep rewards/rejected = chosen - margin after the margin is edited."""
    sim.train["rewards/rejected"] = sim.train["rewards/chosen"] - sim.train["rewards/margins"]


def kto_margin_negative(sim: Sim, rng: Rng) -> Label:
    """After warmup the margin drops below 0 and stays there (rejected above chosen)."""
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    sim.train["rewards/margins"][i0:] = -0.3 + rng.normal(0, 0.05, n - i0)
    _kto_margin(sim)
    return Label(
        "kto-margin-negative",
        "003 Stop and Revert 1: margin goes negative after initial warmup; Rewards/Rejected: "
        "higher than chosen -> model inverted",
        ["rewards/margins", "rewards/rejected"],
        _first(sim, "rewards/margins", lambda v: v < 0, i0),
        "error",
        also=["rewards/chosen"],
    )


def kto_learning_backwards(sim: Sim, rng: Rng) -> Label:
    """003's 'Example Problematic Training': loss rising, margin ever more negative."""
    n = len(sim.steps)
    t = sim.t
    sim.train["loss"] = 0.64 + 0.35 * t + rng.normal(0, 0.002, n)
    sim.train["rewards/margins"] = -0.05 - 0.6 * t + rng.normal(0, 0.01, n)
    sim.train["rewards/chosen"] = -0.04 - 0.3 * t + rng.normal(0, 0.01, n)
    _kto_margin(sim)
    return Label(
        "kto-learning-backwards",
        "003 Margins: negative and decreasing -> model learning backwards, stop immediately; Loss "
        "increasing -> diverging",
        ["rewards/margins", "loss", "rewards/rejected"],
        int(sim.steps[1]),
        "error",
        also=["rewards/chosen", "kl"],
    )


def kto_loss_increasing(sim: Sim, rng: Rng) -> Label:
    """The loss turns and rises with ordinary noise (not monotone) from mid-run."""
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    low = sim.train["loss"][i0 - 1]
    sim.train["loss"][i0:] = low + 0.25 * _ramp(n, i0, n - i0)[i0:] + rng.normal(0, 0.008, n - i0)
    return Label(
        "kto-loss-increasing",
        "003 Loss: Increasing -> diverging, revert to checkpoint",
        ["loss"],
        int(sim.steps[i0]),
        "error",
    )


def kto_margin_too_large(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.4)
    n = len(sim.steps)
    m = sim.train["rewards/margins"]
    m[i0:] = m[i0 - 1] + 7.0 * _ramp(n, i0, 8)[i0:] + rng.normal(0, 0.05, n - i0)
    _kto_margin(sim)
    return Label(
        "kto-margin-too-large",
        "003 Margins: very large (> 5.0) -> overfitting",
        ["rewards/margins"],
        _first(sim, "rewards/margins", lambda v: v > 5.0, i0),
        "warning",
        also=["rewards/rejected", "rewards/chosen"],
    )


def kto_reward_collapse(sim: Sim, rng: Rng) -> Label:
    """Chosen and rejected rewards sit at ~0 and do not move: the policy never leaves the
    reference (so the margin is stuck at ~0 too)."""
    n = len(sim.steps)
    sim.train["rewards/chosen"] = rng.normal(0, 0.004, n)
    sim.train["rewards/margins"] = rng.normal(0, 0.006, n)
    _kto_margin(sim)
    sim.train["kl"] = np.abs(rng.normal(0.0004, 0.0001, n))
    i0 = int(np.searchsorted(sim.steps, 11))  # 003's Start stage (1-10) allows -0.1..0.1
    return Label(
        "kto-reward-collapse",
        "003 Chosen/Rejected: near zero and not moving -> reward collapse; Margins: stuck at ~0 "
        "-> not learning",
        ["rewards/chosen", "rewards/rejected", "rewards/margins"],
        int(sim.steps[i0]),
        "warning",
        also=["kl"],
    )


def kto_loss_too_fast(sim: Sim, rng: Rng) -> Label:
    n = len(sim.steps)
    sim.train["loss"] = 0.02 + 0.6 * np.exp(-sim.steps / 2.5) + np.abs(rng.normal(0, 0.003, n))
    return Label(
        "kto-loss-drops-too-fast",
        "003 Loss: dropping too fast (< 0.1 in first 10 steps) -> learning rate too high",
        ["loss"],
        _first(sim, "loss", lambda v: v < 0.1, 0),
        "warning",
    )


def kto_loss_flat(sim: Sim, rng: Rng) -> Label:
    """The loss sits at its starting value: not decreasing after 20-30 steps (and the
    margin does not rise either)."""
    n = len(sim.steps)
    sim.train["loss"] = 0.67 + rng.normal(0, 0.006, n)
    sim.train["rewards/margins"] = 0.02 + rng.normal(0, 0.03, n)
    sim.train["rewards/chosen"] = 0.01 + rng.normal(0, 0.02, n)
    _kto_margin(sim)
    i0 = int(np.searchsorted(sim.steps, 31))
    return Label(
        "kto-loss-not-decreasing",
        "003 Loss: not decreasing after 20-30 steps -> learning rate too low; Margins: stuck at ~0",
        ["loss", "rewards/margins"],
        int(sim.steps[i0]),
        "warning",
        also=["rewards/chosen", "rewards/rejected"],
    )


# --- DPO / GRPO / PPO (TRL, ms-swift, MaxEnt) ------------------------------------------


def dpo_flipped(sim: Sim, rng: Rng) -> Label:
    """Preference pairs flipped from mid-run: margin negative, accuracy below chance."""
    i0 = _start(sim, 0.4)
    n = len(sim.steps)
    m = sim.train["rewards/margins"]
    m[i0:] = -0.2 - 1.0 * _ramp(n, i0, 10)[i0:] + rng.normal(0, 0.05, n - i0)
    sim.train["rewards/rejected"] = sim.train["rewards/chosen"] - m
    sim.train["rewards/accuracies"][i0:] = rng.binomial(32, 0.25, n - i0) / 32
    sim.train["loss"][i0:] = np.log1p(np.exp(-m[i0:]))
    return Label(
        "dpo-margin-negative",
        "003 Stop and Revert 1 (margin negative after warmup), applied to TRL DPO's "
        "rewards/margins; chosen must win",
        ["rewards/margins", "rewards/accuracies"],
        _first(sim, "rewards/margins", lambda v: v < 0, i0),
        "error",
        also=["loss", "rewards/rejected", "rewards/chosen"],
    )


def grpo_no_signal(sim: Sim, rng: Rng) -> Label:
    """Rewards saturate: every group gets identical rewards, advantages are zero."""
    pre = "train/" if sim.family == "maxent" else ""
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    sim.train[pre + "frac_reward_zero_std"][i0:] = np.clip(0.97 + rng.normal(0, 0.01, n - i0), 0, 1)
    sim.train[pre + "reward_std"][i0:] = np.abs(rng.normal(0, 0.0002, n - i0))
    return Label(
        "grpo-no-learning-signal",
        "001 train/frac_reward_zero_std and train/reward_std: groups with identical rewards carry "
        "no advantage",
        [pre + "frac_reward_zero_std", pre + "reward_std"],
        int(sim.steps[i0]),
        "warning",
        also=["rewards/accuracy_reward/std"],
    )


def completions_clipped(sim: Sim, rng: Rng) -> Label:
    key = {
        "grpo": "completions/clipped_ratio",
        "maxent": "train/completions/clipped_frac",
        "verl": "response_length/clip_ratio",
    }[sim.family]
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    sim.train[key][i0:] = np.clip(0.55 + rng.normal(0, 0.04, n - i0), 0, 1)
    also = ["completion/truncated_frac"] if sim.family == "verl" else []
    if sim.family == "verl":
        sim.train["completion/truncated_frac"] = sim.train[key].copy()
    return Label(
        "completions-truncated",
        "004 response_length/clip_ratio (fraction hitting max_response_length); 001 completions "
        "clipped_frac",
        [key],
        int(sim.steps[i0]),
        "warning",
        also=also,
    )


def ppo_kl_negative(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.6)
    n = len(sim.steps)
    sim.train["objective/kl"][i0:] = -1.5 - 0.05 * np.arange(n - i0) + rng.normal(0, 0.05, n - i0)
    return Label(
        "ppo-kl-negative",
        "TRL PPOTrainer: a KL below -1 is a precursor of failed training (trl#351)",
        ["objective/kl"],
        int(sim.steps[i0]),
        "warning",
        also=["objective/non_score_reward"],
    )


# --- Trinity-RFT (002) -----------------------------------------------------------------


def trinity_eval_decline(sim: Sim, rng: Rng) -> Label:
    """math500 accuracy falls at every evaluation after its peak while gsm8k keeps rising."""
    key = "eval/math500/accuracy/mean@4"
    e = sim.evals[key]
    j0 = int(np.searchsorted(sim.et, 0.4))
    k = np.arange(len(e) - j0) + 1
    e[j0:] = e[j0 - 1] - 0.03 * k + rng.normal(0, 0.003, len(e) - j0)
    sim.evals["eval/math500/accuracy/best@4"] = np.minimum(1.0, e + 0.2)
    return Label(
        "trinity-eval-decline",
        "002 Eval Metrics eval/{taskset}/accuracy/mean@k: accuracy on one task set falling at "
        "successive evaluations",
        [key],
        _first_eval(sim, key, lambda v: v < v[j0 - 1], j0),
        "warning",
        also=["eval/math500/accuracy/best@4"],
    )


# --- ms-swift / CoordExp stage 2 (000) -------------------------------------------------


def coordexp_rollout_collapse(sim: Sim, rng: Rng) -> Label:
    """Rollout precision/recall/F1 collapse on E-steps; M-steps keep reporting the healthy
    cached values, so the collapse shows only when judged on E-steps (000's advice)."""
    assert sim.estep is not None
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    late = np.zeros(n, dtype=bool)
    late[i0:] = True
    fresh = late & sim.estep
    scale = 0.25 + rng.normal(0, 0.02, n)
    for key in ROLLOUT_QUALITY:
        if key in ("rollout/sample_valid_pred_rate",):
            continue
        sim.train[key] = np.where(fresh, sim.train[key] * scale, sim.train[key])
    onset = _first(sim, "rollout/f1", lambda v: v < 0.4, i0, estep=True)
    return Label(
        "coordexp-rollout-collapse",
        "000 Buffering: interpret rollout-quality metrics on E-steps only (rollout/buffer_reuse "
        "== 0); rollout/precision, recall, f1",
        [
            "rollout/f1",
            "rollout/precision",
            "rollout/recall",
            "rollout/match_rate",
            "rollout/sample_any_match_rate",
        ],
        onset,
        "warning",
    )


def coordexp_parse_truncated(sim: Sim, rng: Rng) -> Label:
    assert sim.estep is not None
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    fresh = sim.estep & (np.arange(n) >= i0)
    sim.train["rollout/parse_truncated_rate"] = np.where(
        fresh,
        np.clip(0.35 + rng.normal(0, 0.03, n), 0, 1),
        sim.train["rollout/parse_truncated_rate"],
    )
    sim.train["rollout/gen_new_tokens_p99"] = np.where(
        fresh, 4096.0, sim.train["rollout/gen_new_tokens_p99"]
    )
    return Label(
        "coordexp-rollouts-truncated",
        "000 Parse health rollout/parse_truncated_rate; rollout/gen_new_tokens_p99 detects "
        "'always hit max_new_tokens'",
        ["rollout/parse_truncated_rate", "rollout/gen_new_tokens_p99"],
        _first(sim, "rollout/parse_truncated_rate", lambda v: v > 0.2, i0, estep=True),
        "warning",
    )


def coordexp_eval_f1_drop(sim: Sim, rng: Rng) -> Label:
    key = "eval_rollout_f1"
    e = sim.evals[key]
    j0 = int(np.searchsorted(sim.et, 0.4))
    k = np.arange(len(e) - j0) + 1
    e[j0:] = e[j0 - 1] - 0.04 * k
    sim.evals["eval_rollout_precision"] = e + 0.03
    sim.evals["eval_rollout_recall"] = e - 0.03
    return Label(
        "coordexp-eval-f1-drop",
        "000 eval_rollout_f1: the production-style metric to select checkpoints by "
        "(metric_for_best_model)",
        [key, "eval_rollout_precision", "eval_rollout_recall"],
        _first_eval(sim, key, lambda v: v < v[j0 - 1], j0),
        "warning",
    )


def _level_shift(
    sim: Sim,
    rng: Rng,
    key: str,
    value: float,
    sd: float,
    frac: float = 0.5,
    *,
    estep: bool = False,
) -> int:
    """From `frac` of the run on, `key` sits at `value` (+ noise), on E-steps only if asked.
    Returns the first logged step changed."""
    n = len(sim.steps)
    i0 = _start(sim, frac)
    mask = np.arange(n) >= i0
    if estep and sim.estep is not None:
        mask &= sim.estep
    sim.train[key] = np.where(mask, value + rng.normal(0, sd, n), sim.train[key])
    return int(sim.steps[np.flatnonzero(mask)[0]])


def coordexp_slowdown(sim: Sim, rng: Rng) -> Label:
    """Rollout generation throughput falls steadily on E-steps (M-steps keep the cached
    value)."""
    assert sim.estep is not None
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    fresh = sim.estep & (np.arange(n) >= i0)
    drop = 1 - 0.6 * _ramp(n, i0, n - i0)
    key = "rollout/gen_tokens_per_s"
    sim.train[key] = np.where(fresh, sim.train[key] * drop, sim.train[key])
    return Label(
        "coordexp-rollout-slowdown",
        "000 rollout/gen_tokens_per_s: detects rollout slowdowns (KV cache pressure / chunked "
        "prefill regressions)",
        [key],
        _first(sim, key, lambda v: v < 2400 * 0.97, i0, estep=True),
        "warning",
    )


def rising_timing(sim: Sim, rng: Rng) -> Label:
    key = {"verl": "timing_per_token_ms/gen", "trinity": "time/wait_explore_step"}[sim.family]
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    level = float(np.median(sim.train[key][:i0]))
    sim.train[key][i0:] = level * (1 + 1.5 * _ramp(n, i0, n - i0)[i0:]) + rng.normal(
        0, 0.01 * level, n - i0
    )
    return Label(
        "timing-regression",
        "004 timing_per_token_ms/gen and 002 time/wait_explore_step: timing metrics help identify "
        "bottlenecks (a steady rise is a regression)",
        [key],
        int(sim.steps[i0]),
        "warning",
    )


def clip_ratio_high(sim: Sim, rng: Rng) -> Label:
    key = {"grpo": "clip_ratio/region_mean", "maxent": "train/clip_ratio/region_mean"}[sim.family]
    onset = _level_shift(sim, rng, key, 0.35, 0.03)
    return Label(
        "clip-ratio-high",
        "001 train/clip_ratio/region_mean (clip ratios); PPO-style clipping active on most tokens",
        [key],
        onset,
        "warning",
    )


@dataclass(frozen=True)
class Shift:
    """A pathology whose story is metrics moving to a bad level from `frac` of the run on
    and staying there. The onset is the first changed point, or where `bad` first holds on
    the first metric."""

    pid: str
    sign: str
    levels: dict[str, tuple[float, float]]  # key (or @group of KEYS) -> (level, noise sd)
    severity: str = "warning"
    frac: float = 0.5
    estep: bool = False
    bad: Callable[[np.ndarray], np.ndarray] | None = None
    also: tuple[str, ...] = ()
    name: str | None = None  # the table's id, when several share one pathology id

    def __call__(self, sim: Sim, rng: Rng) -> Label:
        keys = {k: v for key, v in self.levels.items() for k in _resolve(key, sim.family)}
        onsets = [
            _level_shift(sim, rng, key, level, sd, self.frac, estep=self.estep)
            for key, (level, sd) in keys.items()
        ]
        onset = min(onsets)
        if self.bad is not None:
            first = next(iter(keys))
            onset = _first(sim, first, self.bad, _start(sim, self.frac), estep=self.estep)
        if sim.family == "kto":
            _kto_margin(sim)
        also = [k for key in self.also for k in _resolve(key, sim.family)]
        return Label(self.pid, self.sign, list(keys), onset, self.severity, also=also)


def _resolve(key: str, family: str) -> tuple[str, ...]:
    """`@grad` is the family's grad-norm key(s) (KEYS), any other key itself."""
    return KEYS[key[1:]].get(family, ()) if key.startswith("@") else (key,)


NAN_SIGN = (
    "003 Loss: NaN/Inf -> training collapsed, restart; Stop and Revert 4: NaN/Inf values appear"
)
SHIFTS: tuple[tuple[Shift, tuple[str, ...]], ...] = (
    (
        Shift("nan-loss", NAN_SIGN, {"@loss": (math.nan, 0.0)}, "error", 0.6, also=("@grad",)),
        ("sft", "kto", "dpo", "grpo", "swift_grpo", "coordexp", "maxent"),
    ),
    (  # veRL, Trinity and TRL PPO log their policy loss under their own key
        Shift(
            "nan-loss",
            NAN_SIGN,
            {"@policy_loss": (math.nan, 0.0)},
            "error",
            0.6,
            name="nan-policy-loss",
        ),
        ("verl", "trinity", "ppo"),
    ),
    (
        Shift("nan-kl", NAN_SIGN, {"@kl": (math.inf, 0.0)}, "error", 0.7),
        ("grpo", "verl"),
    ),
    (  # every update skipped (fp16 overflow skips, frozen parameters); the run goes on
        Shift(
            "frozen-grad-zero",
            "003 Grad Norm: very small (< 0.01) -> learning rate too low / nothing is learned",
            {"@grad": (0.0, 0.0)},
            frac=0.45,
        ),
        ("sft", "kto", "grpo", "verl", "coordexp"),
    ),
    (
        Shift(
            "kto-chosen-very-negative",
            "003 Rewards/Chosen: staying very negative (< -1.0) -> model not learning preferences",
            {"rewards/chosen": (-1.6, 0.05)},
            frac=0.35,
            also=("rewards/rejected",),
        ),
        ("kto",),
    ),
    (
        Shift(
            "kto-grad-norm-high",
            "003 Grad Norm: > 100 -> training unstable; Stop and Revert 3: grad norm > 100 "
            "persistently",
            {"grad_norm": (250.0, 40.0)},
            severity="error",
        ),
        ("kto",),
    ),
    (
        Shift(
            "kto-grad-norm-elevated",
            "003 When to Reduce Learning Rate 2: high grad norms (50-100) frequently",
            {"grad_norm": (75.0, 8.0)},
        ),
        ("kto",),
    ),
    (
        Shift(
            "kto-kl-low",
            "003 KL Divergence: very low (< 0.001) -> model not changing enough",
            {"kl": (0.0003, 0.00005)},
            frac=0.3,
        ),
        ("kto",),
    ),
    (
        Shift(
            "ppo-value-ratio",
            "TRL PPO docs: val/ratio should float around 1.0; 2.0 or 0.1 means value updates "
            "are too drastic",
            {"val/ratio": (2.6, 0.1)},
            frac=0.6,
        ),
        ("ppo",),
    ),
    (
        Shift(
            "maxent-tau-at-max",
            "001 train/tau with its controller bounds train/tau_min, train/tau_max: a "
            "saturated controller",
            {"train/tau": (0.5, 0.0)},  # the family's train/tau_max
        ),
        ("maxent",),
    ),
    (
        Shift(
            "maxent-tau-at-min",
            "001 train/tau with its controller bounds train/tau_min, train/tau_max: a "
            "saturated controller",
            {"train/tau": (0.01, 0.0)},  # the family's train/tau_min
        ),
        ("maxent",),
    ),
    (
        Shift(
            "verl-is-ratio-drift",
            "004 actor/is_ratio/mean: should be near 1.0; actor/is_ratio/std: large values "
            "indicate unstable updates",
            {"actor/is_ratio/mean": (2.6, 0.1), "actor/is_ratio/std": (0.9, 0.05)},
            frac=0.6,
        ),
        ("verl",),
    ),
    (
        Shift(
            "verl-value-function-useless",
            "004 critic/vf_explained_var: 1.0 = perfect predictions, 0.0 = no predictive power",
            {"critic/vf_explained_var": (-0.05, 0.02)},
            bad=lambda v: v <= 0,
        ),
        ("verl",),
    ),
    (
        Shift(
            "verl-clipfrac-high",
            "004 actor/pg_clipfrac (high = strong regularization), actor/ppo_kl (policy update "
            "magnitude)",
            {"actor/pg_clipfrac": (0.45, 0.03), "actor/ppo_kl": (0.33, 0.03)},
        ),
        ("verl",),
    ),
    (
        Shift(
            "verl-is-clip-outside",
            "004 actor/is_clip/outside_frac: fraction of tokens whose IS ratio is outside the "
            "PPO clip range",
            {"actor/is_clip/outside_frac": (0.5, 0.03)},
        ),
        ("verl",),
    ),
    (
        Shift(
            "verl-prompt-truncation",
            "004 prompt_length/clip_ratio: fraction of prompts hitting max_prompt_length",
            {"prompt_length/clip_ratio": (0.2, 0.02)},
        ),
        ("verl",),
    ),
    (
        Shift(
            "trinity-no-experiences",
            "002 experience_pipeline/experience_count: number of experiences processed (0: "
            "the trainer gets nothing)",
            {"experience_pipeline/experience_count": (0.0, 0.0)},
            frac=0.7,
        ),
        ("trinity",),
    ),
    (
        Shift(
            "trinity-format-score-low",
            "002 rollout/format_score/mean: average format correctness score",
            {"rollout/format_score/mean": (0.3, 0.03)},
        ),
        ("trinity",),
    ),
    (
        Shift(
            "coordexp-coord-mass-leak",
            "000 coord_monitor: low ..._at_gt_coord = coord slots bleeding probability into "
            "non-coord tokens; flip_coord_to_noncoord = slot collapse",
            {
                "coord_monitor/coord_vocab_mass_at_gt_coord": (0.3, 0.02),
                "coord_monitor/flip_coord_to_noncoord": (0.25, 0.02),
            },
        ),
        ("coordexp",),
    ),
    (
        Shift(
            "coordexp-objects-dropped",
            "000 Parse health rollout/parse_obj_drop_frac: predicted objects dropped by strict "
            "parsing",
            {"rollout/parse_obj_drop_frac": (0.4, 0.03)},
            estep=True,
        ),
        ("coordexp",),
    ),
    (
        Shift(
            "coordexp-excluded-rate",
            "000 rollout/excluded_rate: detects OT/target-construction instability",
            {"rollout/excluded_rate": (0.4, 0.03)},
            estep=True,
        ),
        ("coordexp",),
    ),
)

# which pathologies apply to which family
PATHOLOGIES: dict[str, tuple[Pathology, tuple[str, ...]]] = {
    "nan-grad": (nan_grad, ("sft", "kto", "dpo", "grpo", "verl", "trinity", "coordexp", "maxent")),
    "grad-explosion": (
        grad_explosion,
        ("sft", "kto", "dpo", "grpo", "verl", "trinity", "coordexp", "maxent"),
    ),
    "loss-rising": (loss_rising, ("sft", "kto", "dpo", "coordexp")),
    "loss-spike": (loss_spike, ("sft", "dpo", "coordexp")),
    "instant-blowup": (instant_blowup, ("sft",)),
    "kl-high": (kl_high, ("kto", "grpo", "swift_grpo", "verl", "trinity", "maxent")),
    "entropy-collapse": (entropy_collapse, ("grpo", "ppo", "verl", "trinity", "maxent")),
    "train-eval-divergence": (train_eval_divergence, ("sft", "dpo")),
    "reward-falling": (reward_falling, ("grpo", "ppo", "verl", "trinity", "maxent")),
    "timing-regression": (rising_timing, ("verl", "trinity")),
    "clip-ratio-high": (clip_ratio_high, ("grpo", "maxent")),
    "kto-margin-negative": (kto_margin_negative, ("kto",)),
    "kto-learning-backwards": (kto_learning_backwards, ("kto",)),
    "kto-loss-increasing": (kto_loss_increasing, ("kto",)),
    "kto-margin-too-large": (kto_margin_too_large, ("kto",)),
    "kto-reward-collapse": (kto_reward_collapse, ("kto",)),
    "kto-loss-drops-too-fast": (kto_loss_too_fast, ("kto",)),
    "kto-loss-not-decreasing": (kto_loss_flat, ("kto",)),
    "dpo-margin-negative": (dpo_flipped, ("dpo",)),
    "grpo-no-learning-signal": (grpo_no_signal, ("grpo", "swift_grpo", "maxent")),
    "completions-truncated": (completions_clipped, ("grpo", "maxent", "verl")),
    "ppo-kl-negative": (ppo_kl_negative, ("ppo",)),
    "trinity-eval-decline": (trinity_eval_decline, ("trinity",)),
    "coordexp-rollout-collapse": (coordexp_rollout_collapse, ("coordexp",)),
    "coordexp-rollouts-truncated": (coordexp_parse_truncated, ("coordexp",)),
    "coordexp-eval-f1-drop": (coordexp_eval_f1_drop, ("coordexp",)),
    "coordexp-rollout-slowdown": (coordexp_slowdown, ("coordexp",)),
    **{shift.name or shift.pid: (shift, families) for shift, families in SHIFTS},
}
