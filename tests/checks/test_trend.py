"""trend's normal CDF is the standard library's erfc, not scipy.special (which alone costs
more to import than checking a small run): it must agree with scipy.special.ndtr."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from logscope.checks.trend import _ndtr, _ndtr_array


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
