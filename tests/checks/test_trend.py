"""trend's normal CDF is the standard library's erfc, not scipy.special (which alone costs
more to import than checking a small run): it must agree with scipy.special.ndtr."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

from logscope.checks.trend import (
    Params,
    _firing,
    _ndtr,
    _ndtr_array,
    _noise,
    _own_noise,
    _significant_below,
    _thirds,
)


def test_ndtr_agrees_with_scipy_where_p_values_are_judged_and_shown() -> None:
    z = np.concatenate([np.linspace(-8, 8, 20_001), [0.0, -0.0, 1.6448536269514722]])
    expected = ndtr(z)
    np.testing.assert_allclose(_ndtr_array(z), expected, rtol=1e-14, atol=0)
    np.testing.assert_allclose([_ndtr(float(v)) for v in z], expected, rtol=1e-14, atol=0)


def test_ndtr_far_tails_and_non_finite() -> None:
    z = np.array([-40.0, -37.5, -20.0, 20.0, 40.0, -np.inf, np.inf])
    np.testing.assert_allclose(_ndtr_array(z), ndtr(z), rtol=1e-9, atol=0)
    assert np.isnan(_ndtr_array(np.array([np.nan]))[0])
    assert _ndtr_array(np.array([])).shape == (0,)


@settings(max_examples=200, deadline=None)
@given(
    alpha=st.floats(1e-12, 0.999),
    above=st.floats(1e-12, 50.0),
)
def test_no_window_past_the_bound_can_be_significant(alpha: float, above: float) -> None:
    """Sliding windows whose argument is past `_significant_below(alpha)` get no p-value
    computed: each of them must have one of at least alpha."""
    bound = _significant_below(alpha)
    assert _ndtr_array(np.array([bound + above]))[0] >= alpha
    assert _ndtr(bound - 2e-6) < alpha  # and it is tight: the bound is the crossing itself


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6), min_size=25, max_size=300),
    window=st.integers(3, 20),
    direction=st.sampled_from(["increasing", "decreasing"]),
    alpha=st.sampled_from([0.01, 0.05, 0.3]),
    min_effect=st.sampled_from([0.0, 1.0]),
    trend=st.floats(-1e3, 1e3),
)
def test_sliding_windows_judged_as_if_every_one_were(
    values: list[float],
    window: int,
    direction: str,
    alpha: float,
    min_effect: float,
    trend: float,
) -> None:
    """Only the windows that can fire are measured; they are the windows a measurement of
    every window finds (the reference below measures them all, as the check once did),
    with the same p-values."""
    series = np.array(values) + trend * np.arange(len(values))
    p = Params(
        direction=direction,  # type: ignore[arg-type]
        window=window,
        alpha=alpha,
        min_effect=min_effect,
    )
    firing, pvalues = _firing(series, p)
    expected, all_pvalues = _every_window(series, p)
    np.testing.assert_array_equal(firing, expected)
    np.testing.assert_array_equal(pvalues[firing], all_pvalues[firing])


def _every_window(values: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
    n, w = len(values), int(p.window or 0)
    starts = n - w + 1
    s = np.zeros(starts)
    for lag in range(1, w):
        cum = np.concatenate(([0.0], np.cumsum(np.sign(values[lag:] - values[:-lag]))))
        s += cum[w - lag : w - lag + starts] - cum[:starts]
    z = (s - np.sign(s)) / np.sqrt(w * (w - 1) * (2 * w + 5) / 18.0)
    sign = 1 if p.direction == "increasing" else -1
    every = np.arange(starts)
    moved = sign * _thirds(values, w, every)
    pvalues = _ndtr_array(-sign * z)
    fires = (pvalues < p.alpha) & (moved > 0)
    if p.min_effect > 0:
        scale = _noise(values, w)[:starts]
        scale = np.where(np.isfinite(scale), scale, _own_noise(values, w, every))
        fires &= moved >= p.min_effect * scale
    return np.flatnonzero(fires), pvalues
