"""The labelled scenarios: pathologies injected into healthy runs, and healthy runs
carrying the look-alikes that fool naive checkers.

Every label is written from the reference documents, not from what logscope does today:
`metrics` are the keys that show the problem, `onset` is the FIRST logged step whose value
is bad (computed from the generated values with the document's criterion), `severity` is
what the document asks for ("stop", "revert", "restart" -> error; a warning sign -> warning).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from detect_families import (
    FAMILIES,
    FORMATS,
    HF_NAMES,
    KEYS,
    ROLLOUT_QUALITY,
    Rng,
    Sim,
)
from detect_formats import Layout, Record, logged_name

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


@dataclass
class Scenario:
    id: str
    family: str
    fmt: str
    label: Label
    sim: Sim
    layout: Layout
    resume_at: int | None = None  # steps from here are logged a second time (a resume)
    fast: bool = False  # part of the fast regression subset
    tags: list[str] = field(default_factory=list)


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


def nan_loss(sim: Sim, rng: Rng) -> Label:
    (key,) = KEYS["loss"][sim.family]
    i0 = _start(sim, 0.6)
    sim.train[key][i0:] = np.nan
    return Label(
        "nan-loss",
        "003 Loss: NaN/Inf -> training collapsed, restart; Stop and Revert 4",
        [key],
        int(sim.steps[i0]),
        "error",
        also=list(KEYS["grad"].get(sim.family, ())),
    )


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


def nan_kl(sim: Sim, rng: Rng) -> Label:
    (key,) = KEYS["kl"][sim.family]
    i0 = _start(sim, 0.7)
    sim.train[key][i0:] = np.inf
    return Label(
        "nan-kl", "003 Stop and Revert 4: NaN/Inf values appear", [key], int(sim.steps[i0]), "error"
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


def frozen_grad_zero(sim: Sim, rng: Rng) -> Label:
    """grad_norm exactly 0 from mid-run: every update skipped (fp16 overflow skips, frozen
    parameters), the run goes on logging."""
    (key,) = KEYS["grad"][sim.family]
    i0 = _start(sim, 0.45)
    sim.train[key][i0:] = 0.0
    return Label(
        "frozen-grad-zero",
        "003 Grad Norm: very small (< 0.01) -> learning rate too low / nothing is learned",
        [key],
        int(sim.steps[i0]),
        "warning",
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
    keys = KEYS["entropy"][sim.family]
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


def kto_chosen_very_negative(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.35)
    n = len(sim.steps)
    sim.train["rewards/chosen"][i0:] = -1.6 + rng.normal(0, 0.05, n - i0)
    _kto_margin(sim)
    return Label(
        "kto-chosen-very-negative",
        "003 Rewards/Chosen: staying very negative (< -1.0) -> model not learning preferences",
        ["rewards/chosen"],
        int(sim.steps[i0]),
        "warning",
        also=["rewards/rejected"],
    )


def kto_grad_norm_high(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    sim.train["grad_norm"][i0:] = 250 * np.exp(rng.normal(0, 0.2, n - i0))
    return Label(
        "kto-grad-norm-high",
        "003 Grad Norm: > 100 -> training unstable; Stop and Revert 3: grad norm > 100 "
        "persistently",
        ["grad_norm"],
        int(sim.steps[i0]),
        "error",
    )


def kto_kl_low(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.3)
    n = len(sim.steps)
    sim.train["kl"][i0:] = np.abs(rng.normal(0.0003, 0.0001, n - i0))
    return Label(
        "kto-kl-low",
        "003 KL Divergence: very low (< 0.001) -> model not changing enough",
        ["kl"],
        int(sim.steps[i0]),
        "warning",
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


def ppo_value_ratio(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.6)
    n = len(sim.steps)
    sim.train["val/ratio"][i0:] = 2.6 + rng.normal(0, 0.1, n - i0)
    return Label(
        "ppo-value-ratio",
        "TRL PPO docs: val/ratio should float around 1.0; 2.0 or 0.1 means value updates are too "
        "drastic",
        ["val/ratio"],
        int(sim.steps[i0]),
        "warning",
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


def maxent_tau_pinned(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.5)
    sim.train["train/tau"][i0:] = sim.train["train/tau_max"][i0:]
    return Label(
        "maxent-tau-at-max",
        "001 train/tau with its controller bounds train/tau_min, train/tau_max: a saturated "
        "controller",
        ["train/tau"],
        int(sim.steps[i0]),
        "warning",
    )


# --- veRL / TinyZero (004) -------------------------------------------------------------


def verl_is_ratio_far(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.6)
    n = len(sim.steps)
    sim.train["actor/is_ratio/mean"][i0:] = 2.6 + rng.normal(0, 0.1, n - i0)
    sim.train["actor/is_ratio/std"][i0:] = 0.9 + rng.normal(0, 0.05, n - i0)
    return Label(
        "verl-is-ratio-drift",
        "004 actor/is_ratio/mean: should be near 1.0; actor/is_ratio/std: large values indicate "
        "unstable updates",
        ["actor/is_ratio/mean", "actor/is_ratio/std"],
        int(sim.steps[i0]),
        "warning",
    )


def verl_vf_useless(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    sim.train["critic/vf_explained_var"][i0:] = -0.05 + rng.normal(0, 0.02, n - i0)
    return Label(
        "verl-value-function-useless",
        "004 critic/vf_explained_var: 1.0 = perfect predictions, 0.0 = no predictive power",
        ["critic/vf_explained_var"],
        _first(sim, "critic/vf_explained_var", lambda v: v <= 0, i0),
        "warning",
    )


def verl_clipfrac(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    sim.train["actor/pg_clipfrac"][i0:] = 0.45 + rng.normal(0, 0.03, n - i0)
    sim.train["actor/ppo_kl"][i0:] = 0.3 + np.abs(rng.normal(0, 0.03, n - i0))
    return Label(
        "verl-clipfrac-high",
        "004 actor/pg_clipfrac (high = strong regularization), actor/ppo_kl (policy update "
        "magnitude)",
        ["actor/pg_clipfrac", "actor/ppo_kl"],
        int(sim.steps[i0]),
        "warning",
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


def trinity_no_experiences(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.7)
    sim.train["experience_pipeline/experience_count"][i0:] = 0.0
    return Label(
        "trinity-no-experiences",
        "002 experience_pipeline/experience_count: number of experiences processed (0: the "
        "trainer gets nothing)",
        ["experience_pipeline/experience_count"],
        int(sim.steps[i0]),
        "warning",
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


def coordexp_mass_leak(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    sim.train["coord_monitor/coord_vocab_mass_at_gt_coord"][i0:] = 0.3 + rng.normal(0, 0.02, n - i0)
    sim.train["coord_monitor/flip_coord_to_noncoord"][i0:] = 0.25 + rng.normal(0, 0.02, n - i0)
    return Label(
        "coordexp-coord-mass-leak",
        "000 coord_monitor: low ..._at_gt_coord = coord slots bleeding probability into non-coord "
        "tokens; flip_coord_to_noncoord = slot collapse",
        ["coord_monitor/coord_vocab_mass_at_gt_coord", "coord_monitor/flip_coord_to_noncoord"],
        int(sim.steps[i0]),
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


def _shift_label(
    pid: str, key: str, value: float, sd: float, sign: str, *, estep: bool = False
) -> Pathology:
    """A pathology whose whole story is one metric moving to a bad level and staying."""

    def make(sim: Sim, rng: Rng) -> Label:
        onset = _level_shift(sim, rng, key, value, sd, estep=estep)
        return Label(pid, sign, [key], onset, "warning")

    make.__name__ = pid.replace("-", "_")
    return make


def nan_policy_loss(sim: Sim, rng: Rng) -> Label:
    """veRL / Trinity / TRL PPO log their policy loss under their own key."""
    key = {"verl": "actor/pg_loss", "trinity": "actor/pg_loss", "ppo": "loss/policy_avg"}[
        sim.family
    ]
    i0 = _start(sim, 0.6)
    sim.train[key][i0:] = np.nan
    return Label(
        "nan-loss",
        "003 Loss: NaN/Inf -> training collapsed, restart; Stop and Revert 4",
        [key],
        int(sim.steps[i0]),
        "error",
    )


def kto_grad_norm_elevated(sim: Sim, rng: Rng) -> Label:
    """Grad norm frequently in 50-100 (not above 100): reduce the learning rate."""
    i0 = _start(sim, 0.5)
    n = len(sim.steps)
    sim.train["grad_norm"][i0:] = rng.uniform(55, 95, n - i0)
    return Label(
        "kto-grad-norm-elevated",
        "003 When to Reduce Learning Rate 2: high grad norms (50-100) frequently",
        ["grad_norm"],
        int(sim.steps[i0]),
        "warning",
    )


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


def tau_at_min(sim: Sim, rng: Rng) -> Label:
    i0 = _start(sim, 0.5)
    sim.train["train/tau"][i0:] = sim.train["train/tau_min"][i0:]
    return Label(
        "maxent-tau-at-min",
        "001 train/tau with its controller bounds train/tau_min, train/tau_max: a saturated "
        "controller",
        ["train/tau"],
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


# which pathologies apply to which family
PATHOLOGIES: dict[str, tuple[Pathology, tuple[str, ...]]] = {
    "nan-loss": (nan_loss, ("sft", "kto", "dpo", "grpo", "swift_grpo", "coordexp", "maxent")),
    "nan-grad": (nan_grad, ("sft", "kto", "dpo", "grpo", "verl", "trinity", "coordexp", "maxent")),
    "nan-kl": (nan_kl, ("grpo", "verl")),
    "grad-explosion": (
        grad_explosion,
        ("sft", "kto", "dpo", "grpo", "verl", "trinity", "coordexp", "maxent"),
    ),
    "loss-rising": (loss_rising, ("sft", "kto", "dpo", "coordexp")),
    "loss-spike": (loss_spike, ("sft", "dpo", "coordexp")),
    "instant-blowup": (instant_blowup, ("sft",)),
    "frozen-grad-zero": (frozen_grad_zero, ("sft", "kto", "grpo", "verl", "coordexp")),
    "kl-high": (kl_high, ("kto", "grpo", "swift_grpo", "verl", "trinity", "maxent")),
    "entropy-collapse": (entropy_collapse, ("grpo", "ppo", "verl", "trinity", "maxent")),
    "train-eval-divergence": (train_eval_divergence, ("sft", "dpo")),
    "reward-falling": (reward_falling, ("grpo", "ppo", "verl", "trinity", "maxent")),
    "kto-margin-negative": (kto_margin_negative, ("kto",)),
    "kto-learning-backwards": (kto_learning_backwards, ("kto",)),
    "kto-loss-increasing": (kto_loss_increasing, ("kto",)),
    "kto-margin-too-large": (kto_margin_too_large, ("kto",)),
    "kto-reward-collapse": (kto_reward_collapse, ("kto",)),
    "kto-chosen-very-negative": (kto_chosen_very_negative, ("kto",)),
    "kto-grad-norm-high": (kto_grad_norm_high, ("kto",)),
    "kto-kl-low": (kto_kl_low, ("kto",)),
    "kto-loss-drops-too-fast": (kto_loss_too_fast, ("kto",)),
    "kto-loss-not-decreasing": (kto_loss_flat, ("kto",)),
    "dpo-margin-negative": (dpo_flipped, ("dpo",)),
    "grpo-no-learning-signal": (grpo_no_signal, ("grpo", "swift_grpo", "maxent")),
    "completions-truncated": (completions_clipped, ("grpo", "maxent", "verl")),
    "ppo-value-ratio": (ppo_value_ratio, ("ppo",)),
    "ppo-kl-negative": (ppo_kl_negative, ("ppo",)),
    "maxent-tau-at-max": (maxent_tau_pinned, ("maxent",)),
    "verl-is-ratio-drift": (verl_is_ratio_far, ("verl",)),
    "verl-value-function-useless": (verl_vf_useless, ("verl",)),
    "verl-clipfrac-high": (verl_clipfrac, ("verl",)),
    "trinity-eval-decline": (trinity_eval_decline, ("trinity",)),
    "trinity-no-experiences": (trinity_no_experiences, ("trinity",)),
    "coordexp-rollout-collapse": (coordexp_rollout_collapse, ("coordexp",)),
    "coordexp-rollouts-truncated": (coordexp_parse_truncated, ("coordexp",)),
    "coordexp-eval-f1-drop": (coordexp_eval_f1_drop, ("coordexp",)),
    "coordexp-coord-mass-leak": (coordexp_mass_leak, ("coordexp",)),
    "nan-policy-loss": (nan_policy_loss, ("verl", "trinity", "ppo")),
    "kto-grad-norm-elevated": (kto_grad_norm_elevated, ("kto",)),
    "coordexp-rollout-slowdown": (coordexp_slowdown, ("coordexp",)),
    "coordexp-objects-dropped": (
        _shift_label(
            "coordexp-objects-dropped",
            "rollout/parse_obj_drop_frac",
            0.4,
            0.03,
            "000 Parse health rollout/parse_obj_drop_frac: predicted objects dropped by strict "
            "parsing",
            estep=True,
        ),
        ("coordexp",),
    ),
    "coordexp-excluded-rate": (
        _shift_label(
            "coordexp-excluded-rate",
            "rollout/excluded_rate",
            0.4,
            0.03,
            "000 rollout/excluded_rate: detects OT/target-construction instability",
            estep=True,
        ),
        ("coordexp",),
    ),
    "verl-is-clip-outside": (
        _shift_label(
            "verl-is-clip-outside",
            "actor/is_clip/outside_frac",
            0.5,
            0.03,
            "004 actor/is_clip/outside_frac: fraction of tokens whose IS ratio is outside the "
            "PPO clip range",
        ),
        ("verl",),
    ),
    "verl-prompt-truncation": (
        _shift_label(
            "verl-prompt-truncation",
            "prompt_length/clip_ratio",
            0.2,
            0.02,
            "004 prompt_length/clip_ratio: fraction of prompts hitting max_prompt_length",
        ),
        ("verl",),
    ),
    "timing-regression": (rising_timing, ("verl", "trinity")),
    "trinity-format-score-low": (
        _shift_label(
            "trinity-format-score-low",
            "rollout/format_score/mean",
            0.3,
            0.03,
            "002 rollout/format_score/mean: average format correctness score",
        ),
        ("trinity",),
    ),
    "maxent-tau-at-min": (tau_at_min, ("maxent",)),
    "clip-ratio-high": (clip_ratio_high, ("grpo", "maxent")),
}


# --- healthy look-alikes ---------------------------------------------------------------


def warmup_transient(sim: Sim, rng: Rng) -> str:
    """Large grad norms and a high loss in the first logged points, decaying fast."""
    head = min(len(sim.steps), 4)
    for key in KEYS["grad"].get(sim.family, ()):
        sim.train[key][:head] *= np.array([25.0, 8.0, 3.0, 1.5])[:head]
    for key in KEYS["loss"].get(sim.family, ()):
        if sim.family not in ("grpo", "swift_grpo", "maxent"):
            sim.train[key][:head] *= np.array([1.6, 1.3, 1.1, 1.05])[:head]
    return "warmup transient: grad norm 25x and loss 1.6x in the first logged points, decaying"


def isolated_spike(sim: Sim, rng: Rng) -> str:
    """One grad-norm point 15x (and a loss blip) mid-run that recovers at once; kept below
    003's absolute limit of 100 (one point above it is a documented sign of its own)."""
    i = _start(sim, 0.55)
    for key in KEYS["grad"].get(sim.family, ()):
        sim.train[key][i] = min(15.0 * sim.train[key][i], 95.0)
    for key in KEYS["loss"].get(sim.family, ()):
        if sim.family not in ("grpo", "swift_grpo", "maxent"):
            sim.train[key][i] *= 1.4
    return "one isolated grad-norm spike (15x) with a loss blip, recovered at the next point"


def kl_zero_start(sim: Sim, rng: Rng) -> str:
    for key in KEYS["kl"].get(sim.family, ()):
        sim.train[key][: min(3, len(sim.steps))] = 0.0
    return "KL exactly 0 at the first logged points (policy == reference before the first update)"


def benign_nan(sim: Sim, rng: Rng) -> str:
    """A ratio with nothing to count: 0/0 logged as NaN."""
    n = len(sim.steps)
    idx = rng.choice(n, size=max(2, n // 10), replace=False)
    if sim.family == "verl":
        sim.train["completion/truncated_frac"][idx] = 0.0
        sim.train["response_length/clip_ratio"][idx] = 0.0
        sim.train["completion/truncated_correct_frac"][idx] = np.nan
        return "completion/truncated_correct_frac NaN on steps with no truncated sample (0/0)"
    if sim.family == "coordexp":
        sim.train["rollout/desc_pairs_total"][idx] = 0.0
        sim.train["rollout/desc_sem_acc_on_matched"][idx] = np.nan
        return "rollout/desc_sem_acc_on_matched NaN on steps with no desc pair (0/0)"
    raise ValueError(sim.family)


def msteps_look_bad(sim: Sim, rng: Rng) -> str:
    """M-steps report degenerate rollout keys (no fresh rollout), E-steps are fine."""
    assert sim.estep is not None
    m = ~sim.estep
    for key in ROLLOUT_QUALITY:
        sim.train[key] = np.where(m, 0.0, sim.train[key])
    sim.train["rollout/parse_truncated_rate"] = np.where(
        m, 0.6, sim.train["rollout/parse_truncated_rate"]
    )
    sim.train["rollout/gen_new_tokens_p99"] = np.where(
        m, 4096.0, sim.train["rollout/gen_new_tokens_p99"]
    )
    sim.train["rollout/gen_tokens_per_s"] = np.where(m, 0.0, sim.train["rollout/gen_tokens_per_s"])
    return (
        "M-steps with precision/recall/F1 0, truncation 0.6, p99 at max_new_tokens; E-steps healthy"
    )


def chance_noise(sim: Sim, rng: Rng) -> str:
    """Small batches: metrics that sit at chance early jump around it."""
    n = len(sim.steps)
    if sim.family == "dpo":
        head = max(10, n // 5)
        sim.train["rewards/accuracies"][:head] = rng.binomial(8, 0.5, head) / 8
        return "rewards/accuracies at chance (batch of 8) for the first fifth of the run"
    if sim.family == "kto":
        head = max(10, n // 6)
        sim.train["rewards/margins"][:head] += rng.normal(0, 0.06, head)
        _kto_margin(sim)
        return "margin noise around 0 in the first sixth of the run"
    if sim.family == "trinity":
        for key in [k for k in sim.evals if k.endswith("mean@4")]:
            sim.evals[key] = sim.evals[key] + rng.normal(0, 0.012, len(sim.eval_steps))
        return "eval accuracy with repeat_times=4 noise (dips between evaluations)"
    raise ValueError(sim.family)


def lr_to_zero(sim: Sim, rng: Rng) -> str:
    """Linear decay to exactly 0 at the last steps: a frozen learning rate, but healthy."""
    for key in ("learning_rate", "train/learning_rate", "actor/lr", "lr"):
        if key in sim.train:
            peak = float(sim.train[key].max())
            sim.train[key] = peak * np.clip(1 - sim.t / 0.9, 0, 1) * np.minimum(1, sim.t / 0.1)
    return "learning rate warmup over 10% then linear decay to exactly 0 for the last 10%"


def heavy_noise(sim: Sim, rng: Rng) -> str:
    """Every step logged with heavy per-batch noise (small batches)."""
    n = len(sim.steps)
    for key in KEYS["loss"].get(sim.family, ()):
        v = sim.train[key]
        sim.train[key] = (
            v + np.abs(np.median(v)) * rng.normal(0, 0.12, n)
            if sim.family not in ("grpo",)
            else v + rng.normal(0, 0.02, n)
        )
    for key in KEYS["grad"].get(sim.family, ()):
        sim.train[key] = sim.train[key] * np.exp(rng.normal(0, 0.35, n))
    return (
        "logged every step, heavy batch noise (loss sd 12% of its level, grad norm x e^N(0,0.35))"
    )


def eval_plateau(sim: Sim, rng: Rng) -> str:
    """The eval metric stops improving after mid-run and wobbles by evaluation noise (two
    small dips in a row happen): a plateau, not a decline."""
    key = {"sft": "eval_loss", "dpo": "eval_loss", "coordexp": "eval_rollout_f1"}[sim.family]
    e = sim.evals[key]
    j0 = int(np.searchsorted(sim.et, 0.5))
    e[j0:] = e[j0 - 1] + rng.normal(0, 0.002, len(e) - j0)
    return f"{key} plateaus after mid-run with evaluation noise (+-0.002)"


def entropy_decline(sim: Sim, rng: Rng) -> str:
    """RL entropy falls steadily (to ~35% of its start) as the policy sharpens: normal."""
    for key in KEYS["entropy"][sim.family]:
        v = sim.train[key]
        start = float(np.median(v[: max(3, len(v) // 20)]))
        sim.train[key] = start * (1 - 0.65 * sim.t) * np.exp(rng.normal(0, 0.02, len(v)))
    return "entropy declining steadily to ~35% of its start (the policy sharpens)"


def kl_rising(sim: Sim, rng: Rng) -> str:
    """KL grows to ~0.4, inside 003's good range 0.01-0.5."""
    for key in KEYS["kl"][sim.family]:
        n = len(sim.steps)
        sim.train[key] = np.clip(0.01 + 0.38 * sim.t + rng.normal(0, 0.01, n), 0, None)
    return "KL rising gradually to ~0.4 (003: good values 0.01 to 0.5)"


def reward_plateau(sim: Sim, rng: Rng) -> str:
    """The reward saturates early and then only wobbles."""
    (key,) = KEYS["reward"][sim.family]
    v = sim.train[key]
    n = len(v)
    top = float(np.median(v[n // 2 :]))
    sim.train[key] = top - (top - v[0]) * np.exp(-12 * sim.t) + rng.normal(0, 0.02, n)
    return "reward saturating in the first fifth of the run, then flat with batch noise"


LOOKALIKES: dict[str, tuple[Callable[[Sim, Rng], str], tuple[str, ...]]] = {
    "warmup-transient": (
        warmup_transient,
        ("sft", "kto", "dpo", "grpo", "verl", "coordexp", "maxent"),
    ),
    "isolated-spike": (
        isolated_spike,
        ("sft", "kto", "dpo", "grpo", "swift_grpo", "verl", "trinity", "coordexp", "maxent"),
    ),
    "kl-zero-start": (kl_zero_start, ("kto", "grpo", "swift_grpo", "verl", "trinity", "maxent")),
    "benign-nan": (benign_nan, ("verl", "coordexp")),
    "msteps-look-bad": (msteps_look_bad, ("coordexp",)),
    "chance-noise": (chance_noise, ("dpo", "kto", "trinity")),
    "lr-to-zero": (lr_to_zero, ("sft", "kto", "dpo", "grpo", "ppo", "verl", "coordexp", "maxent")),
    "heavy-noise": (heavy_noise, ("sft", "kto", "dpo", "grpo")),
    "eval-plateau": (eval_plateau, ("sft", "dpo", "coordexp")),
    "entropy-decline": (entropy_decline, ("grpo", "ppo", "verl", "trinity")),
    "kl-rising": (kl_rising, ("kto", "grpo", "swift_grpo", "verl", "trinity", "maxent")),
    "reward-plateau": (reward_plateau, ("grpo", "ppo", "verl", "trinity", "maxent")),
}


# --- assembling scenarios --------------------------------------------------------------

# (max_steps, log every) pairs: short dense runs and sparse ones (every 10 or 25 steps)
SHAPES = ((200, 1), (600, 5), (1500, 10), (3000, 25))
# the fast subset (variant 0) keeps runs to ~100 logged points so the pytest gate stays quick
FAST_SHAPES = ((100, 1), (500, 5), (1000, 10), (2500, 25))


def run_shape(variant: int, index: int) -> tuple[int, int]:
    table = FAST_SHAPES if variant == 0 else SHAPES
    return table[index % len(table)]


def _shape(family: str, pathology: str, variant: int) -> tuple[int, int]:
    if pathology in ("kto-loss-drops-too-fast",) or (
        family == "sft" and pathology == "instant-blowup"
    ):
        return (120, 1) if pathology != "instant-blowup" else (30, 1)
    if pathology in ("kto-reward-collapse", "kto-loss-not-decreasing", "kto-learning-backwards"):
        return (150, 1) if variant == 0 else (300, 5)
    if family == "coordexp" and variant == 1:
        return (800, 1)
    return run_shape(variant, variant + len(family))


def _seed(*parts: object) -> int:
    text = "|".join(map(str, parts))
    return sum((i + 1) * ord(c) for i, c in enumerate(text)) % (2**31)


def _build(
    sid: str,
    family: str,
    fmt: str,
    shape: tuple[int, int],
    seed: int,
    edit: Callable[[Sim, Rng], Label | str],
    *,
    kwargs: dict[str, Any] | None = None,
    resume: bool = False,
    torn: bool = False,
    fast: bool = False,
    tags: list[str] | None = None,
) -> Scenario:
    rng = np.random.default_rng(seed)
    max_steps, every = shape
    sim = FAMILIES[family](rng, max_steps, every, **(kwargs or {}))
    result = edit(sim, rng)
    label = result if isinstance(result, Label) else Label(HEALTHY, sign=result)
    layout = Layout(
        max_steps=max_steps,
        torn=torn and fmt in ("jsonl", "swift", "verl"),
        hf_names=family in HF_NAMES,
        sanitise_at=family in ("verl", "trinity"),
        extra={"logging_steps": every, "run_id": f"r{seed % 10**8:08d}"},
    )
    if family == "kto" and fmt == "jsonl":
        layout.extra["jsonl_name"] = "logs/training_metrics.jsonl"
    resume_at = (
        int(sim.steps[int(len(sim.steps) * 0.7)]) if resume and len(sim.steps) > 20 else None
    )
    scenario = Scenario(sid, family, fmt, label, sim, layout, resume_at, fast, tags or [])
    _finish_label(scenario)
    return scenario


def _finish_label(s: Scenario) -> None:
    """Logged names of the label's metrics, and the logged points from the onset on."""
    label = s.label
    if label.pathology == HEALTHY or label.onset is None:
        return
    primary = label.metrics[0]
    if primary in s.sim.evals:
        steps = s.sim.eval_steps
    else:
        steps = s.sim.steps
        if primary.startswith("rollout/") and s.sim.estep is not None:
            steps = steps[s.sim.estep]
    at = int(np.searchsorted(steps, label.onset))
    label.points = [int(x) for x in steps[max(0, at - 50) : at + 200]]
    label.metrics = [logged_name(k, s.fmt, s.layout) for k in label.metrics]
    label.also = [logged_name(k, s.fmt, s.layout) for k in label.also]


def records(s: Scenario) -> list[Record]:
    """The logging calls in order: train lines, eval lines at their steps, and after a
    resume the steps from the resume point again."""
    sim = s.sim
    evals_at = {int(step): j for j, step in enumerate(sim.eval_steps)}
    out: list[Record] = []

    def emit(i: int) -> None:
        step = int(sim.steps[i])
        out.append(Record(step, {k: float(v[i]) for k, v in sim.train.items()}))
        j = evals_at.get(step)
        if j is not None:
            out.append(Record(step, {k: float(v[j]) for k, v in sim.evals.items()}, eval=True))

    assert set(evals_at) <= set(sim.steps.tolist()), "evaluations land on logged steps"
    for i in range(len(sim.steps)):
        emit(i)
    if s.resume_at is not None:
        crash = int(sim.steps[min(len(sim.steps) - 1, int(len(sim.steps) * 0.8))])
        out = [r for r in out if r.step <= crash]
        for i in np.flatnonzero(sim.steps >= s.resume_at):
            emit(int(i))
    return out


def scenarios(*, fast_only: bool = False, long_runs: bool = True) -> Iterator[Scenario]:
    """Every scenario, deterministic. `fast_only` yields the regression subset."""
    for pid, (make, families) in PATHOLOGIES.items():
        for family in families:
            fmts = FORMATS[family]
            for variant in range(2):
                fmt = fmts[(variant + len(pid)) % len(fmts)]
                fast = variant == 0
                if fast_only and not fast:
                    continue
                kwargs: dict[str, Any] = {}
                if family == "verl" and variant == 1:
                    kwargs["entropy_key"] = "actor/entropy"
                edit = make
                if family == "verl" and variant == 1 and pid == "entropy-collapse":
                    edit = _verl_entropy_key(make)
                yield _build(
                    f"{family}.{pid}.{variant}.{fmt}",
                    family,
                    fmt,
                    _shape(family, pid, variant),
                    _seed(family, pid, variant),
                    edit,
                    kwargs=kwargs,
                    resume=variant == 1 and fmt in ("jsonl", "swift", "tensorboard", "wandb"),
                    torn=variant == 1,
                    fast=fast,
                )
    yield from _healthy(fast_only=fast_only, long_runs=long_runs)


def _verl_entropy_key(make: Pathology) -> Pathology:
    def edit(sim: Sim, rng: Rng) -> Label:
        saved = KEYS["entropy"]["verl"]
        KEYS["entropy"]["verl"] = ("actor/entropy",)
        try:
            return make(sim, rng)
        finally:
            KEYS["entropy"]["verl"] = saved

    return edit


def _plain(sim: Sim, rng: Rng) -> str:
    return "a plain healthy run"


def _healthy(*, fast_only: bool, long_runs: bool) -> Iterator[Scenario]:
    for family in FAMILIES:
        fmts = FORMATS[family]
        for k, fmt in enumerate(fmts):
            for variant in range(3):
                fast = variant == 0 and k == 0
                if fast_only and not fast:
                    continue
                yield _build(
                    f"{family}.healthy.{variant}.{fmt}",
                    family,
                    fmt,
                    run_shape(variant, variant + k),
                    _seed(family, "healthy", variant, fmt),
                    _plain,
                    resume=variant == 1,
                    torn=variant == 1,
                    fast=fast,
                )
    for name, (make, families) in LOOKALIKES.items():
        for family in families:
            fmts = FORMATS[family]
            for variant in range(2):
                fast = variant == 0
                if fast_only and not fast:
                    continue
                fmt = fmts[(variant + len(name)) % len(fmts)]
                shape = (
                    (2000, 1)
                    if name == "heavy-noise" and variant == 1
                    else (400, 1)
                    if name == "heavy-noise"
                    else run_shape(variant, variant + len(family))
                )
                yield _build(
                    f"{family}.{name}.{variant}.{fmt}",
                    family,
                    fmt,
                    shape,
                    _seed(family, name, variant),
                    make,
                    fast=fast,
                    tags=[name],
                )
    if fast_only or not long_runs:
        if fast_only:
            yield _build(
                "kto.long.fast.jsonl",
                "kto",
                "jsonl",
                (2000, 1),
                4242,
                _long_kto,
                fast=True,
                tags=["long"],
            )
        return
    # long healthy runs: 10,000+ logged steps, and nine KTO runs of 2,000-20,000 steps
    yield _build("sft.long.0.jsonl", "sft", "jsonl", (12000, 1), 101, _plain, tags=["long"])
    yield _build("verl.long.0.verl", "verl", "verl", (10000, 1), 102, _plain, tags=["long"])
    yield _build(
        "grpo.long.0.trainer_state", "grpo", "trainer_state", (10000, 1), 103, _plain, tags=["long"]
    )
    for k, n in enumerate((2000, 3000, 4000, 5000, 6000, 8000, 10000, 15000, 20000)):
        yield _build(
            f"kto.long.{k}.jsonl", "kto", "jsonl", (n, 1), 200 + k, _long_kto, tags=["long"]
        )


def _long_kto(sim: Sim, rng: Rng) -> str:
    """A long KTO run: loss falling from ~2 to ~0.06 with ordinary batch noise (sd ~8% of its
    level, heavier early), margin rising to ~3."""
    n = len(sim.steps)
    t = sim.t
    steps = sim.steps
    # an early drop (as 003's example, visible by step 25-50), then the long decline
    level = 0.05 + 0.35 * np.exp(-steps / 30) + 1.6 * np.exp(-6 * t)
    sim.train["loss"] = level * np.exp(rng.normal(0, 0.08, n))
    early = 1 - np.exp(-steps / 12)  # margin positive from ~step 10, as in 003's example
    sim.train["rewards/margins"] = (
        0.5 * early + 2.5 * (1 - np.exp(-4 * t)) + rng.normal(0, 0.1, n) - 0.1 * (1 - early)
    )
    sim.train["rewards/chosen"] = 0.3 * early + 0.9 * (1 - np.exp(-4 * t)) + rng.normal(0, 0.06, n)
    _kto_margin(sim)
    sim.train["kl"] = np.clip(0.02 + 0.3 * t + rng.normal(0, 0.02, n), 0.0, None)
    return (
        f"long KTO run ({sim.max_steps} steps): loss ~2 -> ~0.06 with ordinary noise, margin rising"
    )
