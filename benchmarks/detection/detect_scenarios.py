"""The labelled scenarios: every pathology in each family it applies to, and healthy runs
plain or carrying a look-alike, each in the formats its stack writes, with resumes and torn
lines; deterministic (each scenario is seeded from its id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from detect_families import FAMILIES, FORMATS, HF_NAMES, Rng, Sim
from detect_formats import Layout, Record, logged_name
from detect_lookalikes import LOOKALIKES
from detect_pathologies import HEALTHY, PATHOLOGIES, Label, _kto_margin

__all__ = ["HEALTHY", "Label", "Scenario", "records", "scenarios"]


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


# --- assembling scenarios --------------------------------------------------------------

# where a killed run shows: half a JSON line, half a TFRecord, a .wandb log with no exit record
TORN_FORMATS = ("jsonl", "swift", "verl", "tensorboard", "wandb")
# (max_steps, log every) pairs: short dense runs and sparse ones (every 10 or 25 steps)
SHAPES = ((200, 1), (600, 5), (1500, 10), (3000, 25))
# the fast subset (variant 0) keeps runs to ~100 logged points so the pytest gate stays quick
FAST_SHAPES = ((100, 1), (500, 5), (1000, 10), (2500, 25))


def run_shape(variant: int, index: int) -> tuple[int, int]:
    table = FAST_SHAPES if variant == 0 else SHAPES
    return table[index % len(table)]


# runs whose sign needs a particular length or dense logging: (variant 0, variant 1)
SPECIAL_SHAPES = {
    "instant-blowup": ((30, 1), (30, 1)),  # the real run: blown up at step 2
    "kto-loss-drops-too-fast": ((120, 1), (120, 1)),  # 003: "in first 10 steps"
    "kto-reward-collapse": ((150, 1), (300, 5)),
    "kto-loss-not-decreasing": ((150, 1), (300, 5)),  # 003: "after 20-30 steps"
    "kto-learning-backwards": ((150, 1), (300, 5)),  # 003's problematic example
    "heavy-noise": ((400, 1), (2000, 1)),  # logged every step
}


def _shape(family: str, name: str, variant: int) -> tuple[int, int]:
    if name in SPECIAL_SHAPES:
        return SPECIAL_SHAPES[name][variant]
    if family == "coordexp" and variant == 1:
        return (800, 1)  # every optimizer step logged: E-step every 4th
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
        torn=torn and fmt in TORN_FORMATS,
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
    """Logged names of the label's metrics, and the logged points around the onset (50
    before, every one from it: the scale delays are counted in, never capped)."""
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
    label.points = [int(x) for x in steps[max(0, at - 50) :]]
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
                    kwargs["entropy_key"] = "actor/entropy"  # veRL's name (TinyZero's in 0)
                yield _build(
                    f"{family}.{pid}.{variant}.{fmt}",
                    family,
                    fmt,
                    _shape(family, pid, variant),
                    _seed(family, pid, variant),
                    make,
                    kwargs=kwargs,
                    resume=variant == 1 and fmt in ("jsonl", "swift", "tensorboard", "wandb"),
                    torn=variant == 1,
                    fast=fast,
                )
    yield from _healthy(fast_only=fast_only, long_runs=long_runs)


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
                yield _build(
                    f"{family}.{name}.{variant}.{fmt}",
                    family,
                    fmt,
                    _shape(family, name, variant),
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
