"""Runs every case in cases/<kind>.yaml against that check kind.

Each case is a written-down edge-case decision: ids like `threshold-nan_breaks_a_streak`
work with `pytest -k`.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from series import series

from logscope.checks import KINDS
from logscope.checks.base import Series

CASES = Path(__file__).parent / "cases"


def _cases() -> list[Any]:
    params = []
    for file in sorted(CASES.glob("*.yaml")):
        doc = yaml.safe_load(file.read_text())
        for name, case in doc["cases"].items():
            params.append(pytest.param(doc["kind"], case, id=f"{doc['kind']}-{name}"))
    return params


def _data(case: dict[str, Any]) -> Series:
    data = series(case["series"], case.get("other"))
    if "baseline" in case:
        base = series(case["baseline"])
        data = Series(data.steps, data.values, data.other, (base.steps, base.values))
    if "noise" in case:
        rng = random.Random(case["noise"]["seed"])
        sigma = case["noise"]["sigma"]
        noise = np.array([rng.gauss(0, sigma) for _ in range(len(data))])
        data = Series(data.steps, data.values + noise, data.other, data.baseline)
    return data


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        if math.isnan(expected):
            return math.isnan(actual)
        return actual == expected or math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    return bool(expected == actual)


def test_every_kind_has_a_case_file() -> None:
    assert {f.stem for f in CASES.glob("*.yaml")} == set(KINDS)


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_case(kind: str, case: dict[str, Any]) -> None:
    check = KINDS[kind]
    params = check.params(**case["params"])
    hits = check.evaluate(_data(case), params)
    assert len(hits) == len(case["expect"]), f"hits: {hits}"
    for hit, expected in zip(hits, case["expect"], strict=False):
        observed = {
            "step": hit.step,
            "onset": hit.step if hit.onset is None else hit.onset,
            "last_step": hit.last_step,
            "value": hit.value,
            **hit.extra,
        }
        for key, want in expected.items():
            assert _same(want, observed[key]), f"{key}: expected {want!r}, got {observed[key]!r}"


def test_trend_on_a_long_series_stays_bounded_in_memory() -> None:
    """200,000 points: the whole-series test and a firing sliding window spanning the run
    must not build the n x n pair matrix (that would need hundreds of GiB)."""
    n = 200_000
    rising = Series(np.arange(1, n + 1), np.linspace(0, 1, n))
    # the whole-series test fires once it has seen the series; a sliding window at the end
    # of its first window, dated where the window's move passed its midpoint (point 26 of 50:
    # noise dips before a rise are not its onset)
    for params, fired, onset in (
        ({"direction": "increasing"}, n, 1),
        ({"direction": "increasing", "window": 50}, 50, 26),
    ):
        (hit,) = KINDS["trend"].evaluate(rising, KINDS["trend"].params(**params))
        assert hit.extra["slope"] > 0
        assert (hit.step, hit.onset, hit.last_step) == (fired, onset, n)


@pytest.mark.parametrize("seed", range(5))
def test_mann_kendall_agrees_with_scipy(seed: int) -> None:
    """Our numpy Mann–Kendall p-value matches scipy's asymptotic Kendall tau test."""
    from scipy.stats import kendalltau

    from logscope.checks import trend

    rng = np.random.default_rng(seed)
    steps = np.arange(1, 121, dtype=float)
    values = np.round(0.002 * seed * steps + rng.normal(0, 0.1, 120), 2)  # rounding makes ties
    for direction, alternative in (("increasing", "greater"), ("decreasing", "less")):
        ours = trend._one_sided_p(steps, values, trend.Params(direction=direction))
        theirs = kendalltau(steps, values, alternative=alternative, method="asymptotic").pvalue
        assert ours == pytest.approx(theirs, abs=0.01)
