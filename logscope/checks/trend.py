"""trend: a robust, significance-tested direction of change — never last-minus-first.

The test is Mann–Kendall (Kendall's tau between step order and value, normal approximation;
numpy and scipy.special only, since importing scipy.stats costs over a second), which ignores
how far single points jump, so one spike neither makes nor breaks a trend; the reported slope
is Theil–Sen (median of pairwise slopes, per step).

- `when: significant` fires when the metric significantly moves in `direction`. With a
  `window` (in logged points) every window position is tested — vectorised over lags, so the
  cost is O(points × window) in numpy, not a Python loop over rows — and the first
  significant window is reported. Use a small `alpha` here: many windows mean many tests.
- `when: absent` fires when the expected movement is missing: the metric does not
  significantly move in `direction`. It judges the whole step range, or the last `window`
  points (where the run stands now).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from logscope.checks.base import Check, Hit, Series

MAX_WINDOW = 2000
TEST_POINTS = 2000
SLOPE_POINTS = 1500


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    direction: Literal["increasing", "decreasing"]
    when: Literal["significant", "absent"] = "significant"
    window: int | None = None
    alpha: float = 0.05
    min_points: int = 10
    min_slope: float = 0.0
    ignore_opposite: bool = False  # absent: stay silent when it clearly moves the other way

    def problems(self) -> list[str]:
        errors = []
        if not 0 < self.alpha < 1:
            errors.append(f"alpha must be between 0 and 1, got {self.alpha}")
        if self.window is not None and not 3 <= self.window <= MAX_WINDOW:
            errors.append(f"window must be between 3 and {MAX_WINDOW} points, got {self.window}")
        if self.min_points < 3:
            errors.append(f"min_points must be at least 3, got {self.min_points}")
        return errors


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    steps, values = clean.steps.astype(np.float64), clean.values
    if len(values) < max(p.min_points, 3):
        return []
    if p.when == "absent":
        return _absent(steps, values, p)
    if p.window is None or p.window >= len(values):
        return _whole(steps, values, p)
    return _sliding(steps, values, p)


def _sign(p: Params) -> int:
    return 1 if p.direction == "increasing" else -1


def _one_sided_p(steps: np.ndarray, values: np.ndarray, p: Params) -> float:
    """Mann–Kendall one-sided p-value (normal approximation with tie and continuity
    corrections). Above TEST_POINTS points an even subsample is tested: plenty of power, and
    the pair matrix stays small."""
    from scipy.special import ndtr

    if len(values) > TEST_POINTS:
        values = values[np.linspace(0, len(values) - 1, TEST_POINTS).astype(int)]
    n = len(values)
    s = float(np.triu(np.sign(values[None, :] - values[:, None]), 1).sum())
    _, ties = np.unique(values, return_counts=True)
    variance = (n * (n - 1) * (2 * n + 5) - float((ties * (ties - 1) * (2 * ties + 5)).sum())) / 18
    if variance <= 0:
        return 1.0  # a constant series: no evidence either way
    z = (s - np.sign(s)) / np.sqrt(variance)
    return float(ndtr(-_sign(p) * z))


def _slope(steps: np.ndarray, values: np.ndarray) -> float:
    """Theil–Sen slope: the median of all pairwise slopes (on an even subsample above
    SLOPE_POINTS points, since the pairs grow with the square of the points)."""
    if len(values) > SLOPE_POINTS:
        keep = np.linspace(0, len(values) - 1, SLOPE_POINTS).astype(int)
        steps, values = steps[keep], values[keep]
    i, j = np.triu_indices(len(values), 1)
    dx = steps[j] - steps[i]
    valid = dx != 0
    return float(np.median((values[j][valid] - values[i][valid]) / dx[valid]))


def _hit(steps: np.ndarray, values: np.ndarray, pvalue: float, **extra: Any) -> Hit:
    return Hit(
        step=int(steps[0]),
        last_step=int(steps[-1]),
        value=float(values[-1]),
        extra={
            "p_value": pvalue,
            "slope": _slope(steps, values),
            "points": len(values),
            "start_value": float(values[0]),
            **extra,
        },
    )


def _whole(steps: np.ndarray, values: np.ndarray, p: Params) -> list[Hit]:
    pvalue = _one_sided_p(steps, values, p)
    if pvalue >= p.alpha:
        return []
    hit = _hit(steps, values, pvalue)
    return [hit] if abs(hit.extra["slope"]) >= p.min_slope else []


def _absent(steps: np.ndarray, values: np.ndarray, p: Params) -> list[Hit]:
    if p.window is not None:
        steps, values = steps[-p.window :], values[-p.window :]
    pvalue = _one_sided_p(steps, values, p)
    if pvalue < p.alpha:
        slope = _slope(steps, values)
        if _sign(p) * slope >= p.min_slope:
            return []
    if p.ignore_opposite:
        opposite = Params(direction="decreasing" if p.direction == "increasing" else "increasing")
        if _one_sided_p(steps, values, opposite) < p.alpha:
            return []  # a clear move the other way is another rule's finding
    return [_hit(steps, values, pvalue)]


def _sliding(steps: np.ndarray, values: np.ndarray, p: Params) -> list[Hit]:
    """Mann–Kendall S for every window at once: sum over lags of windowed sign sums."""
    from scipy.special import ndtr

    n, w = len(values), int(p.window or 0)
    starts = n - w + 1
    s = np.zeros(starts)
    for lag in range(1, w):  # loop over lags (<= window), each step vectorised over all rows
        signs = np.sign(values[lag:] - values[:-lag])
        cum = np.concatenate(([0.0], np.cumsum(signs)))
        s += cum[w - lag : w - lag + starts] - cum[:starts]
    variance = w * (w - 1) * (2 * w + 5) / 18.0
    z = (s - np.sign(s)) / np.sqrt(variance)
    pvalues = ndtr(-_sign(p) * z)
    firing = np.flatnonzero(pvalues < p.alpha)
    if p.min_slope > 0 and firing.size:
        firing = np.array(
            [
                i
                for i in firing[:64]
                if _sign(p) * _slope(steps[i : i + w], values[i : i + w]) >= p.min_slope
            ]
        )
    if firing.size == 0:
        return []
    first, last = int(firing[0]), int(firing[-1])
    span = slice(first, last + w)  # from the first firing window's start to the last one's end
    hit = _hit(steps[span], values[span], float(pvalues[first]))
    return [
        Hit(
            step=hit.step,
            last_step=hit.last_step,
            value=hit.value,
            extra={**hit.extra, "windows": int(firing.size)},
        )
    ]


CHECK = Check(
    name="trend",
    params=Params,
    evaluate=evaluate,
    fields=(
        "direction",
        "when",
        "window",
        "alpha",
        "p_value",
        "slope",
        "points",
        "start_value",
        "windows",
        "min_slope",
        "ignore_opposite",
    ),
)
