"""Healthy look-alikes: edits that give a healthy simulated run what fools naive checkers
(warmup transients, an isolated spike, KL exactly 0 at the start, a 0/0 NaN, bad-looking
M-steps, chance-level noise, a learning rate decaying to 0, heavy noise, plateaus, a
2-point excursion past a limit). Each
returns the sentence that describes it; the run stays labelled healthy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from detect_families import KEYS, ROLLOUT_QUALITY, Rng, Sim, family_keys
from detect_pathologies import _kto_margin, _start

# --- healthy look-alikes ---------------------------------------------------------------


def warmup_transient(sim: Sim, rng: Rng) -> str:
    """Large grad norms (capped below 003's limit of 100) and a high loss in the first logged
    points, decaying fast."""
    head = min(len(sim.steps), 4)
    for key in KEYS["grad"].get(sim.family, ()):
        boost = sim.train[key][:head] * np.array([25.0, 8.0, 3.0, 1.5])[:head]
        sim.train[key][:head] = np.minimum(boost, 95.0)  # below 003's limit of 100
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
    if sim.family == "kto":  # mid-run, where the margin is well above 0 (below 0 is a sign)
        mid = slice(int(n * 0.3), int(n * 0.5))
        sim.train["rewards/margins"][mid] += rng.normal(0, 0.06, mid.stop - mid.start)
        _kto_margin(sim)
        return "margin with twice its usual noise over 30-50% of the run (a noisy trend window)"
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
    for key in family_keys(sim, "entropy"):
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


# limits the packs judge with 3 logged points of persistence: a 2-point excursion past one
# that recovers is a blip, not a sign
EXCURSIONS = {
    "clip_ratio/region_mean": 0.3,
    "train/clip_ratio/region_mean": 0.3,
    "completions/clipped_ratio": 0.45,
    "train/completions/clipped_frac": 0.45,
    "response_length/clip_ratio": 0.35,
    "completion/truncated_frac": 0.45,
    "prompt_length/clip_ratio": 0.1,
    "frac_reward_zero_std": 0.95,
    "train/frac_reward_zero_std": 0.95,
    "actor/pg_clipfrac": 0.45,
    "actor/is_clip/outside_frac": 0.45,
    "actor/is_ratio/std": 0.7,
    "actor/ppo_kl": 0.15,
    "rollout/format_score/mean": 0.3,
    "critic/vf_explained_var": -0.2,
    "train/weight_entropy": 0.03,
    "coord_monitor/flip_coord_to_noncoord": 0.2,
    "coord_monitor/coord_vocab_mass_at_gt_coord": 0.3,
}


def brief_excursion(sim: Sim, rng: Rng) -> str:
    """Two logged points past a limit mid-run (KL above 1 nat, entropy near 0, clip and
    truncation fractions high, a negative margin), back to normal at the next point."""
    i = _start(sim, 0.55)
    two = slice(i, i + 2)
    touched = [key for key in EXCURSIONS if key in sim.train]
    for key in touched:
        sim.train[key][two] = EXCURSIONS[key]
    for key in KEYS["kl"].get(sim.family, ()):
        sim.train[key][two] = 1.4 if sim.family in ("kto", "grpo", "swift_grpo") else 0.8
        touched.append(key)
    for key in family_keys(sim, "entropy"):
        if key != "train/weight_entropy":
            sim.train[key][two] = 0.005
            touched.append(key)
    if sim.family in ("kto", "dpo"):
        sim.train["rewards/margins"][two] = -0.3
        if sim.family == "kto":
            sim.train["rewards/chosen"][two] = -1.3
            _kto_margin(sim)
        else:
            chosen, margins = sim.train["rewards/chosen"], sim.train["rewards/margins"]
            sim.train["rewards/rejected"] = chosen - margins
        touched += ["rewards/margins", "rewards/chosen"]
    assert touched, sim.family
    return f"2 logged points past a limit that recover at once ({', '.join(sorted(set(touched)))})"


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
    "brief-excursion": (
        brief_excursion,
        ("kto", "dpo", "grpo", "swift_grpo", "ppo", "verl", "trinity", "coordexp", "maxent"),
    ),
}
