"""trend: a robust, significance-tested direction of change — never last-minus-first.

The test is Mann–Kendall (Kendall's tau between step order and value, normal approximation;
numpy and the standard library's erfc only: importing scipy.special alone costs more than
checking a small run), which ignores
how far single points jump, so one spike neither makes nor breaks a trend; the reported slope
is Theil–Sen (median of pairwise slopes, per step).

- `when: significant` fires when the metric significantly moves in `direction`. With a
  `window` (in logged points) every window position is tested — vectorised over lags, so the
  cost is O(points × window) in numpy, not a Python loop over rows — and the first
  significant window is reported. A test repeated at every position of a 20,000-step run is
  thousands of tests: a small per-window `alpha` alone still fires on most long healthy runs
  (noise makes some 20-point stretch look monotone). What holds the false-alarm rate per
  run is size and persistence: `min_effect` asks the window to move by at least that many
  noise units of the run (the median absolute step-to-step change of the points before,
  scaled to a standard deviation: the run's own scale, so a rise of 0.01 is large for a
  loss that moves by 0.001 and nothing for one that moves by 0.1), and `persist` asks for
  that many consecutive windows. All of it uses only points up to the window's end, so the
  step reported is the one a live follower announces.
- `when: absent` fires when the expected movement is missing: the metric does not
  significantly move in `direction`. It judges the whole step range (with a `before_step`,
  once the run has reached it), or the last `window` points (where the run stands now).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from logscope.checks.base import Check, Hit, Series, runs_of

MAX_WINDOW = 2000
TEST_POINTS = 2000
SLOPE_POINTS = 1500


@dataclass(frozen=True, slots=True, kw_only=True)
class Params:
    """A trend rule's keys: the direction sought (or its absence) and the test's settings."""

    direction: Literal["increasing", "decreasing"]
    when: Literal["significant", "absent"] = "significant"
    window: int | None = None
    alpha: float = 0.05
    min_points: int = 10
    min_slope: float = 0.0
    ignore_opposite: bool = False  # absent: stay silent when it clearly moves the other way
    min_effect: float = 0.0  # sliding: move by this many noise units of the run in a window
    persist: int = 1  # sliding: consecutive firing windows needed

    def problems(self) -> list[str]:
        errors = []
        if not 0 < self.alpha < 1:
            errors.append(f"alpha must be between 0 and 1, got {self.alpha}")
        if self.window is not None and not 3 <= self.window <= MAX_WINDOW:
            errors.append(f"window must be between 3 and {MAX_WINDOW} points, got {self.window}")
        if self.min_points < 3:
            errors.append(f"min_points must be at least 3, got {self.min_points}")
        if self.persist < 1:
            errors.append(f"persist must be at least 1, got {self.persist}")
        if self.min_effect < 0:
            errors.append(f"min_effect must be 0 or more, got {self.min_effect}")
        return errors


def evaluate(data: Series, p: Params) -> list[Hit]:
    clean = data.finite()
    steps, values = clean.steps.astype(np.float64), clean.values
    if len(values) < max(p.min_points, 3):
        return []
    if p.when == "absent":
        judged = None
        if p.window is None and data.until is not None:
            judged = data.reached(data.until)  # the whole span, once the run went through it
            if judged is None:
                return []
        hits = _absent(steps, values, p)
        return [
            Hit(
                step=judged if judged is not None else h.last_step,
                onset=h.step,
                last_step=h.last_step,
                value=h.value,
                extra=h.extra,
            )
            for h in hits
        ]
    if p.window is None:
        return _whole(steps, values, p)
    if p.window > len(values):
        return []  # not one full window yet: live, the follower would not see a trend either
    return _sliding(steps, values, p)


def _sign(p: Params) -> int:
    return 1 if p.direction == "increasing" else -1


def _one_sided_p(steps: np.ndarray, values: np.ndarray, p: Params) -> float:
    """Mann–Kendall one-sided p-value (normal approximation with tie and continuity
    corrections). Above TEST_POINTS points an even subsample is tested: plenty of power, and
    the pair matrix stays small."""
    if len(values) > TEST_POINTS:
        values = values[np.linspace(0, len(values) - 1, TEST_POINTS).astype(int)]
    n = len(values)
    s = float(np.triu(np.sign(values[None, :] - values[:, None]), 1).sum())
    _, ties = np.unique(values, return_counts=True)
    variance = (n * (n - 1) * (2 * n + 5) - float((ties * (ties - 1) * (2 * ties + 5)).sum())) / 18
    if variance <= 0:
        return 1.0  # a constant series: no evidence either way
    z = (s - np.sign(s)) / np.sqrt(variance)
    return _ndtr(-_sign(p) * float(z))


def _ndtr(x: float) -> float:
    """The standard normal CDF: scipy.special.ndtr to a few ulps (tests/checks/test_trend.py)."""
    return 0.5 * math.erfc(-x * math.sqrt(0.5))


_ERFC = np.frompyfunc(math.erfc, 1, 1)  # a C loop over the C function: no Python per element


def _ndtr_array(x: np.ndarray) -> np.ndarray:
    """`_ndtr` of every element."""
    return 0.5 * np.asarray(_ERFC(-x * math.sqrt(0.5)), dtype=np.float64)


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
    if abs(hit.extra["slope"]) < p.min_slope:
        return []
    return [
        Hit(
            step=hit.last_step,
            onset=hit.step,
            last_step=hit.last_step,
            value=hit.value,
            extra=hit.extra,
        )
    ]


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
    """The first window (or run of `persist` windows) that fires; see `_firing`."""
    n, w = len(values), int(p.window or 0)
    starts = n - w + 1
    firing, pvalues = _firing(values, p)
    if firing.size == 0:
        return []
    if p.min_slope > 0:
        firing = np.array(
            [
                i
                for i in firing[:64]
                if _sign(p) * _slope(steps[i : i + w], values[i : i + w]) >= p.min_slope
            ],
            dtype=np.int64,
        )
    if p.persist > 1 and firing.size:
        marks = np.zeros(starts, dtype=bool)
        marks[firing] = True
        run_starts, run_ends = runs_of(marks)
        long = run_ends - run_starts + 1 >= p.persist
        if not long.any():
            return []
        first_run = int(run_starts[long][0])
        firing = firing[firing >= first_run]
        fired_at = first_run + p.persist - 1  # the window whose end announces it
    else:
        fired_at = int(firing[0]) if firing.size else 0
    if firing.size == 0:
        return []
    first, last = int(firing[0]), int(firing[-1])
    # the numbers quoted are those of the window that announced it: its end is `step`
    window = slice(fired_at, fired_at + w)
    part_steps, part_values = steps[window], values[window]
    third = max(w // 3, 1)
    # the onset: after the first firing window's extreme against the direction, the first
    # point past the midpoint of the move (noise dips before a rise are not its onset)
    opening = _sign(p) * values[first : first + w]
    low = int(np.argmin(opening[:-1]))
    third = max(w // 3, 1)
    middle = (np.median(opening[:third]) + np.median(opening[-third:])) / 2
    past = np.flatnonzero(opening[low + 1 :] >= middle)
    turn = first + low + (int(past[0]) if past.size else 0)
    return [
        Hit(
            step=int(part_steps[-1]),
            onset=int(steps[turn + 1]),
            last_step=int(steps[last + w - 1]),
            value=float(part_values[-1]),
            extra={
                "p_value": float(pvalues[fired_at]),
                "slope": _slope(part_steps, part_values),
                "points": w,
                "start_value": float(np.median(part_values[:third])),
                "end_value": float(np.median(part_values[-third:])),
                "start_step": int(part_steps[0]),
                "windows": int(firing.size),
            },
        )
    ]


def window_z(values: np.ndarray, w: int) -> np.ndarray:
    """Mann–Kendall's z (continuity-corrected S over its no-ties variance) of every window
    of `w` consecutive finite values, by first point: S as a sum over lags of windowed sign
    sums, each lag vectorised over all windows. Signs are bytes and their sums 32-bit
    integers (exact, as S is): a quarter of the memory traffic of float signs, 3x faster."""
    starts = len(values) - w + 1
    if starts <= 0:
        return np.zeros(0)
    s = np.zeros(starts, dtype=np.int32)
    cum = np.zeros(len(values), dtype=np.int32)
    for lag in range(1, w):
        later, earlier = values[lag:], values[:-lag]
        signs = (later > earlier).view(np.int8) - (later < earlier).view(np.int8)
        np.cumsum(signs, dtype=np.int32, out=cum[1 : len(signs) + 1])
        s += cum[w - lag : w - lag + starts] - cum[:starts]
    total = s.astype(np.float64)
    variance = w * (w - 1) * (2 * w + 5) / 18.0
    return np.asarray((total - np.sign(total)) / np.sqrt(variance))


@functools.cache
def _significant_below(alpha: float) -> float:
    """A bound past which `_ndtr` is at least `alpha` (bisection, then a margin far wider
    than any rounding of erfc): arguments above it need no p-value to be judged."""
    low, high = -40.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2
        if _ndtr(middle) >= alpha:
            high = middle
        else:
            low = middle
    return high + 1e-6


def _firing(values: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """The windows (by first point) significant in `direction`, moved in it and by
    `min_effect`, and the p-values (1 where none was needed; see `window_z`)."""
    w = int(p.window or 0)
    starts = len(values) - w + 1
    below = -_sign(p) * window_z(values, w)
    # p-values only where one can be under alpha (the normal CDF rises with its argument),
    # and the level, noise and effect only of the windows that pass: a few percent of them
    maybe = np.flatnonzero(below <= _significant_below(p.alpha))
    pvalues = np.ones(starts)
    pvalues[maybe] = _ndtr_array(below[maybe])
    firing = maybe[pvalues[maybe] < p.alpha]
    if firing.size == 0:
        return firing, pvalues
    # the level must have moved in `direction` too (median of the last third against the
    # first): what the message quotes, so it can never say "rising" of a falling window
    moved = _sign(p) * _thirds(values, w, firing)
    keep = moved > 0
    if p.min_effect > 0:
        scale = _noise(values, w)[firing]  # the run's scale before the window
        # too early for one: the window's own step-to-step noise (a clean rise still fires)
        early = ~np.isfinite(scale)
        scale[early] = _own_noise(values, w, firing[early])
        keep &= moved >= p.min_effect * scale
    return firing[keep], pvalues


def _thirds(values: np.ndarray, w: int, rows: np.ndarray) -> np.ndarray:
    """Per window starting at `rows`: the median of its last third minus that of its first."""
    third = max(w // 3, 1)
    windows = np.lib.stride_tricks.sliding_window_view(values, w)[rows]
    return np.asarray(
        np.median(windows[:, -third:], axis=1) - np.median(windows[:, :third], axis=1)
    )


def _own_noise(values: np.ndarray, w: int, rows: np.ndarray) -> np.ndarray:
    """Per window starting at `rows`: its median absolute step-to-step change, as a
    standard deviation."""
    moves = np.lib.stride_tricks.sliding_window_view(np.abs(np.diff(values)), w - 1)[rows]
    return np.asarray(np.maximum(np.median(moves, axis=1) / 0.954, 1e-12))


def _noise(values: np.ndarray, w: int) -> np.ndarray:
    """The run's own scale at each point, from the points up to it: how far the run wanders
    over one window's span beyond a straight line. The change over a span minus the change
    over the span before (x[i] - 2 x[i-w+1] + x[i-2w+2]: a steady trend cancels out, noise
    and wandering do not), its median over the last 10 windows (at least 5 of them), scaled
    to the spread of a single span's change (median |d| = 0.954 sigma, and the double
    difference has sqrt(3) times the spread of a single one for independent noise). Spans,
    not single steps: autocorrelated noise wanders further than step-to-step changes suggest.
    Never zero, so a stretch of identical values cannot make a move infinitely large."""
    import polars as pl

    lag = w - 1
    bend = np.full(len(values), np.nan)
    if len(values) > 2 * lag:
        bend[2 * lag :] = np.abs(values[2 * lag :] - 2 * values[lag:-lag] + values[: -2 * lag])
    level = (
        pl.Series(bend).fill_nan(None).rolling_median(10 * w, min_samples=5).fill_null(np.nan)
    ).to_numpy() / (0.954 * np.sqrt(3.0))
    floor = 1e-12 + 1e-9 * np.abs(values)
    return np.asarray(np.where(np.isfinite(level), np.maximum(level, floor), np.inf))


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
        "start_step",
        "end_value",
        "windows",
        "min_slope",
        "min_effect",
        "persist",
        "ignore_opposite",
    ),
)
