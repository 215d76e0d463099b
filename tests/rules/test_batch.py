"""The sweep path (rules.batch + checks.segmented screens) says exactly what the engine says
run by run: same findings in the same order, same skipped rules, on random sweeps.

Every check kind of checks.KINDS except `baseline` (judged run by run against a baseline)
is exercised: by the built-in packs, all forced onto every run, and by a pack of every kind
with several settings. A change to a kind's `evaluate` that its screen does not follow
fails here.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscope.checks import KINDS
from logscope.checks.segmented import SCREENS
from logscope.outcome import RunReport
from logscope.pipeline import load_packs
from logscope.rules import batch, engine
from logscope.rules.spec import Pack, load_pack
from logscope.run import Run

KEYS = [
    "loss",
    "grad_norm",
    "learning_rate",
    "rewards/margins",
    "rewards/chosen",
    "rewards/rejected",
    "kl",
    "train/loss",
    "eval_loss",
    "reward",
    "entropy",
    "actor/pg_clipfrac",
    "critic/score/mean",
    "response_length/mean",
]

KIND_RULES = {
    "threshold": [{"op": ">", "value": 1.0, "for_steps": 3}, {"op": "<=", "value": 0.0}],
    "range": [{"min": -1.0, "max": 1.0, "for_steps": 2}, {"max": 0.5}],
    "nonfinite": [{}, {"for_steps": 2}],
    "compare": [{"other": "b", "op": ">", "margin": 0.1, "for_steps": 2}],
    "consecutive": [
        {"direction": "increasing", "steps": 3},
        {"direction": "decreasing", "steps": 4, "min_delta": 0.01},
    ],
    "flat": [
        {"window": 4, "tolerance": 0.05},
        {"window": 3, "tolerance": 0.5, "near": 0, "within": 0.5},
    ],
    "window": [
        {"aggregate": "mean", "window": 3, "op": ">", "value": 0.5, "for_steps": 2},
        {"aggregate": "median", "window": 4, "op": "<", "value": -0.3},
        {"aggregate": "max", "window": 2, "op": ">=", "value": 1.0},
    ],
    "change": [
        {"window": 2, "op": "<=", "value": -0.5},
        {"window": 3, "op": ">", "value": 0.5, "mode": "absolute"},
    ],
    "zscore": [
        {"window": 5, "threshold": 2.0},
        {"window": 4, "threshold": 1.5, "direction": "below"},
    ],
    "spike": [
        {"factor": 2.0, "window": 5, "min_points": 3},
        {"factor": 1.5, "window": 4, "min_points": 2, "statistic": "mean", "patience": 1},
    ],
    "start": [{"factor": 2.0}, {"factor": 1.5, "reference_points": 2, "for_steps": 2}],
    "drawdown": [
        {"better": "lower", "drop": 0.3},
        {"better": "higher", "drop": 0.2, "smooth": 3, "relative_to": "progress", "min_points": 2},
        {"better": "lower", "drop": 0.2, "smooth": 4, "min_points": 2},
    ],
    "stage": [
        {
            "stages": [
                {"name": "early", "steps": [1, 10], "min": -0.5, "max": 0.5},
                {"steps": [5, 30], "min": 0.0, "max": 2.0},
            ],
            "min_points": 2,
        },
        {
            "stages": [{"steps": [3, 12], "min": -0.2, "max": 0.2}],
            "min_points": 1,
            "max_run_step": 60,
        },
    ],
    "trend": [
        {"direction": "increasing", "min_points": 5},
        {"direction": "decreasing", "when": "absent", "min_points": 5, "alpha": 0.2},
        {"direction": "increasing", "when": "absent", "window": 6, "ignore_opposite": True},
        {"direction": "decreasing", "when": "absent", "alpha": 0.2, "ignore_opposite": True},
        {"direction": "decreasing", "window": 5, "alpha": 0.1},
        {"direction": "increasing", "window": 8, "alpha": 0.05, "min_effect": 1, "persist": 2},
    ],
}


def _yaml_value(value: object) -> str:
    import json

    return json.dumps(value)


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    lines = ["pack: kinds", "rules:"]
    for kind, variants in KIND_RULES.items():
        for n, params in enumerate(variants):
            lines += [
                f"  - id: kinds/{kind}-{n}",
                "    severity: warning",
                "    metric: a",
                f"    check: {kind}",
                *(f"    {k}: {_yaml_value(v)}" for k, v in params.items()),
                *(["    after_step: 2"] if n == 1 else []),
                *(["    where: 'b > -0.5'"] if n == 2 else []),
                '    message: "{metric} at {step}: {value}"',
                '    advice: "look"',
                '    source: "test"',
            ]
    path = tmp_path_factory.mktemp("pack") / "kinds.yaml"
    path.write_text("\n".join(lines) + "\n")
    return load_pack(path)


def test_every_kind_but_baseline_is_exercised_and_screened() -> None:
    assert set(KIND_RULES) == set(KINDS) - {"baseline"}
    assert set(SCREENS) == set(KINDS) - {"baseline"}


def _series(rng: np.random.Generator, length: int) -> np.ndarray:
    shape = rng.integers(6)
    t = np.arange(length, dtype=float)
    if shape == 0:
        values = rng.normal(0, 0.3, length)
    elif shape == 1:
        values = np.cumsum(rng.normal(0, 0.2, length))
    elif shape == 2:
        values = rng.choice([0.0, 0.5, 1.0, 2.0], length)  # ties and flat stretches
    elif shape == 3:
        values = 1.5 - 0.05 * t + rng.normal(0, 0.05, length)
    elif shape == 4:
        values = np.where(rng.random(length) < 0.1, 5.0, 0.3)  # spikes
    else:
        values = np.round(rng.normal(0, 1, length), 1) * 10.0 ** rng.integers(-3, 3)
    specials = rng.random(length)
    values[specials < 0.03] = np.nan
    values[(specials >= 0.03) & (specials < 0.05)] = np.inf
    values[(specials >= 0.05) & (specials < 0.06)] = -np.inf
    return values


def _run(rng: np.random.Generator, index: int, keys: list[str]) -> Run:
    length = int(rng.integers(0, 40))
    start = int(rng.integers(0, 3))
    steps = np.sort(rng.choice(np.arange(start, start + 3 * length + 1), length, replace=False))
    columns: dict[str, pl.Series] = {
        "step": pl.Series("step", steps, dtype=pl.Int64),
        "wall_time": pl.Series("wall_time", [None] * length, dtype=pl.Float64),
    }
    for key in keys:
        values = _series(rng, length)
        missing = rng.random(length) < rng.choice([0.0, 0.2, 0.6])
        column = pl.Series(key, values, dtype=pl.Float64, nan_to_null=False)
        columns[key] = column.scatter(np.flatnonzero(missing), None) if missing.any() else column
    return Run(f"run_{index}", pl.DataFrame(columns))


def _sweep(seed: int, pool: list[str]) -> list[Run]:
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 9))
    layouts = [
        list(rng.choice(pool, int(rng.integers(1, len(pool) + 1)), replace=False)) for _ in range(2)
    ]
    return [_run(rng, i, layouts[int(rng.integers(2))]) for i in range(count)]


def _as_dict(report: RunReport) -> dict[str, object]:
    return {
        "path": report.run.path,
        "packs": report.packs,
        "findings": [f.to_dict() for f in report.findings],
        "evaluated": report.evaluated,
        "skipped": report.skipped,
        "rules": report.rules,
        "metrics_checked": report.metrics_checked,
    }


def _compare(runs: list[Run], packs: list[Pack], forced: set[str]) -> None:
    shared = engine.shared_aliases(packs)
    chosen = [engine.applicable(r, packs, forced) for r in runs]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # range: -inf - -inf
        one_by_one = [
            engine.evaluate(r, c, shared=shared) for r, c in zip(runs, chosen, strict=True)
        ]
    together = batch.evaluate_many(runs, batch.applicable_many(runs, packs, forced), shared=shared)
    assert [_as_dict(r) for r in together] == [_as_dict(r) for r in one_by_one]


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_every_kind_batched_equals_run_by_run(seed: int, every_kind: Pack) -> None:
    _compare(_sweep(seed, ["a", "b", "c"]), [every_kind], {"kinds"})


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_builtin_packs_batched_equal_run_by_run(seed: int) -> None:
    packs = [p for p in load_packs() if not p.requires_baseline]
    forced = {p.name for p in packs} if seed % 2 else set()  # every rule, or detection
    _compare(_sweep(seed, KEYS), packs, forced)


def test_runs_of_a_sweep_with_different_keys_keep_their_order(every_kind: Pack) -> None:
    rng = np.random.default_rng(7)
    runs = [_run(rng, i, ["a", "b"] if i % 3 else ["a"]) for i in range(9)]
    _compare(runs, [every_kind], {"kinds"})


def test_a_long_sweep_is_identical_too(every_kind: Pack) -> None:
    """Runs past trend's TEST_POINTS are judged one by one; the others are screened."""
    rng = np.random.default_rng(3)
    runs = [_run(rng, i, ["a", "b"]) for i in range(30)]
    long = Run(
        "long",
        pl.DataFrame(
            {
                "step": np.arange(2100),
                "wall_time": [None] * 2100,
                "a": np.linspace(0, 1, 2100) + rng.normal(0, 0.01, 2100),
                "b": rng.normal(0, 1, 2100),
            },
            schema={"step": pl.Int64, "wall_time": pl.Float64, "a": pl.Float64, "b": pl.Float64},
        ),
    )
    _compare([*runs, long], [every_kind], {"kinds"})


def test_screens_skip_healthy_runs(every_kind: Pack) -> None:
    """The point of the screens: a run far from every limit is never evaluated one by one."""
    from logscope.checks.segmented import Segments

    values = np.full(50, 0.1) + np.linspace(0, 1e-3, 50)
    segments = Segments(np.arange(50), values, np.array([0, 25, 50]))
    threshold = next(r for r in every_kind.rules if r.id == "kinds/threshold-0")
    assert not SCREENS["threshold"](segments, threshold.params).any()


def test_trend_screen_passes_only_runs_that_move_past_their_noise() -> None:
    """A sliding trend rule with min_effect and persist: a significant but small rise in a
    run that wanders more than it rises is screened out (as evaluate stays silent), a large
    rise after a quiet start is kept; each run's noise comes from its own points only (a
    very noisy run just before the rising one does not hide the rise)."""
    from logscope.checks import trend
    from logscope.checks.base import Series
    from logscope.checks.segmented import Segments

    rng = np.random.default_rng(7)
    n = 200
    swing = rng.normal(0, 1.0, 150)  # noise far larger than the rise after it
    wander = np.concatenate((swing, swing[-1] + np.linspace(0, 0.2, 50) + rng.normal(0, 1e-3, 50)))
    noisy = rng.normal(0, 50.0, n)  # the run before the rising one: huge bends
    rising = np.concatenate((rng.normal(0, 0.01, 150), np.linspace(0, 5, 50)))
    p = trend.Params(direction="increasing", window=20, alpha=0.001, min_effect=5, persist=2)
    runs = [wander, noisy, rising]
    alone = [bool(trend.evaluate(Series(np.arange(n), v, None, None), p)) for v in runs]
    assert alone == [False, False, True]
    values = np.concatenate(runs)
    segments = Segments(np.tile(np.arange(n), 3), values, np.array([0, n, 2 * n, 3 * n]))
    assert SCREENS["trend"](segments, p).tolist() == alone
