"""flat measures each window by its highest and lowest point (Polars' rolling extremes, in
O(points)): the same spreads, and the same distances from `near`, as every point gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from logscope.checks.flat import _rolling_extremes


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(-1e300, 1e300), min_size=2, max_size=200),
    window=st.integers(2, 30),
    near=st.floats(-1e3, 1e3),
)
def test_window_extremes_are_those_of_every_point(
    values: list[float], window: int, near: float
) -> None:
    points = np.array(values)
    if window > len(points):
        window = len(points)
    high, low = _rolling_extremes(points, window)
    windows = sliding_window_view(points, window)
    np.testing.assert_array_equal(high - low, windows.max(axis=1) - windows.min(axis=1))
    farthest = np.abs(windows - near).max(axis=1)
    np.testing.assert_array_equal(np.maximum(high - near, near - low), farthest)
