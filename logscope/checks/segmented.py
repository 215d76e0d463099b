"""Screens: each check kind's firing condition over many runs at once.

A sweep is checked as one long series per metric (the runs' points concatenated, `bounds`
marking where each run starts). A screen computes, vectorised over all runs, a condition
every hit of the kind requires, and returns which runs may fire; `evaluate` then runs only
on those (most runs of a sweep are healthy, so most are never looked at one by one). A
screen may let a run through that does not fire — never the reverse: it uses the same
arithmetic as `evaluate` (or a slightly looser limit where a rolling sum's rounding could
differ), and tests/checks/test_segmented.py compares both on random sweeps for every kind.

A kind without a screen here is evaluated run by run. When a kind's `evaluate` changes what
it fires on, its screen must change too; the property test fails until it does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from logscope.checks import (
    change,
    compare,
    consecutive,
    drawdown,
    flat,
    nonfinite,
    spike,
    stage,
    start,
    threshold,
    trend,
    window,
    zscore,
)
from logscope.checks import range as range_kind
from logscope.checks.base import OPS, Array, Hit

SLACK = 1e-6  # relative: how much looser than the kind's limit a screen on a rolling sum is
_LOOSER = {"<": 1.0, "<=": 1.0, ">": -1.0, ">=": -1.0}  # which way a limit moves to loosen


@dataclass(frozen=True, slots=True)
class Segments:
    """Many runs' points of one metric, concatenated: run i is `steps[bounds[i]:bounds[i+1]]`
    (after the rule's `where:` and step window, missing points dropped, as `evaluate` sees
    them); `other` the compared metric at the same points."""

    steps: Array
    values: Array
    bounds: Array
    other: Array | None = None

    @property
    def count(self) -> int:
        return len(self.bounds) - 1

    def ids(self) -> Array:
        """The run of each point."""
        return np.repeat(np.arange(self.count), np.diff(self.bounds))

    def select(self, keep: Array) -> Segments:
        """The points where `keep` holds, runs kept apart (a run may become empty)."""
        counts = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        other = None if self.other is None else self.other[keep]
        return Segments(self.steps[keep], self.values[keep], counts[self.bounds], other)

    def finite(self) -> Segments:
        return self.select(np.isfinite(self.values))

    def firsts(self) -> Array:
        """Whether each point is the first of its run."""
        mark = np.zeros(len(self.values), dtype=bool)
        starts = self.bounds[:-1][np.diff(self.bounds) > 0]
        mark[starts] = True
        return mark

    def lengths(self) -> Array:
        return np.diff(self.bounds)


Screen = Callable[[Segments, Any], Array]


def counts(segments: Segments, mask: Array) -> Array:
    """How many points of each run hold `mask`."""
    total = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    return np.asarray(total[segments.bounds[1:]] - total[segments.bounds[:-1]])


def longest(segments: Segments, mask: Array) -> Array:
    """The longest stretch of consecutive points holding `mask` in each run."""
    best = np.zeros(segments.count, dtype=np.int64)
    if not mask.any():
        return best
    firsts = segments.firsts()
    begins = mask & (firsts | ~np.concatenate(([False], mask[:-1])))
    ends = mask & (np.concatenate((firsts[1:], [True])) | ~np.concatenate((mask[1:], [False])))
    starts, stops = np.flatnonzero(begins), np.flatnonzero(ends)
    owner = segments.ids()[starts]
    np.maximum.at(best, owner, stops - starts + 1)
    return best


def streak_screen(segments: Segments, bad: Array, length: int) -> Array:
    """`base.streaks` fires: a stretch of >= length bad points (NaN points never bad)."""
    return longest(segments, bad & ~np.isnan(segments.values)) >= max(length, 1)


def looser(op: str, limit: float) -> float:
    """The limit moved by SLACK (relative) in the direction that admits more points."""
    return limit + _LOOSER[op] * SLACK * max(1.0, abs(limit))


def rolling(segments: Segments, aggregate: str, size: int, min_samples: int | None = None) -> Array:
    """window.rolling for each run on its own (NaN until a run has a full window)."""
    import polars as pl

    frame = pl.DataFrame({"v": segments.values, "run": segments.ids()})
    expr = getattr(pl.col("v"), f"rolling_{aggregate}")(size, min_samples=min_samples)
    out = frame.select(expr.over("run")).to_series()
    return np.asarray(out.fill_null(np.nan).to_numpy(), dtype=np.float64)


def shifted(segments: Segments, values: Array, by: int = 1) -> Array:
    """Each point's value `by` points earlier in its run (NaN before that)."""
    out = np.full(len(values), np.nan)
    if by < len(values):
        out[by:] = values[:-by]
    position = np.arange(len(values)) - np.repeat(segments.bounds[:-1], segments.lengths())
    out[position < by] = np.nan
    return out


def _threshold(segments: Segments, p: threshold.Params) -> Array:
    return streak_screen(segments, OPS[p.op](segments.values, p.value), p.for_steps)


def _range(segments: Segments, p: range_kind.Params) -> Array:
    low = -np.inf if p.min is None else p.min
    high = np.inf if p.max is None else p.max
    distance = np.maximum(low - segments.values, segments.values - high)
    return streak_screen(segments, distance > 0, p.for_steps)


def _nonfinite(segments: Segments, p: nonfinite.Params) -> Array:
    return counts(segments, ~np.isfinite(segments.values)) >= max(p.for_steps, 1)


def _compare(segments: Segments, p: compare.Params) -> Array:
    if segments.other is None:
        return np.zeros(segments.count, dtype=bool)
    both = segments.select(~np.isnan(segments.other))
    assert both.other is not None
    with np.errstate(invalid="ignore"):
        bad = OPS[p.op](both.values - both.other, p.margin)
    return streak_screen(both, bad, p.for_steps)


def _consecutive(segments: Segments, p: consecutive.Params) -> Array:
    clean = segments.finite()
    delta = np.diff(clean.values, prepend=np.nan)
    moved = delta > p.min_delta if p.direction == "increasing" else delta < -p.min_delta
    moved &= ~clean.firsts()
    return longest(clean, moved) >= max(p.steps, 1)


def _flat(segments: Segments, p: flat.Params) -> Array:
    clean = segments.finite()
    fires = np.zeros(clean.count, dtype=bool)
    if len(clean.values) < p.window:
        return fires
    high, low = _rolling_extremes(clean.values, p.window)
    ids = clean.ids()
    whole = ids[: len(high)] == ids[p.window - 1 :]  # the window lies inside one run
    ok = whole & (high - low <= p.tolerance)
    if p.near is not None and p.within is not None:
        # the farthest point from `near` is the window's largest or smallest (|x - near|
        # rounds monotonically on each side of near): the same number evaluate finds
        ok &= np.maximum(np.abs(high - p.near), np.abs(low - p.near)) <= p.within
    fires[ids[: len(high)][ok]] = True
    return fires


def _rolling_extremes(values: Array, size: int) -> tuple[Array, Array]:
    """The largest and smallest of each `size` consecutive values (windows starting at
    0, 1, ...), exact, in O(points) rather than a points x size matrix."""
    import polars as pl

    series = pl.Series(values)
    high = series.rolling_max(size).to_numpy()[size - 1 :]
    low = series.rolling_min(size).to_numpy()[size - 1 :]
    return np.asarray(high, dtype=np.float64), np.asarray(low, dtype=np.float64)


def _window(segments: Segments, p: window.Params) -> Array:
    clean = segments.finite()
    aggregated = rolling(clean, p.aggregate, p.window)
    with np.errstate(invalid="ignore"):
        bad = OPS[p.op](aggregated, looser(p.op, p.value))
    return streak_screen(Segments(clean.steps, aggregated, clean.bounds), bad, p.for_steps)


def _change(segments: Segments, p: change.Params) -> Array:
    clean = segments.finite()
    current = rolling(clean, "mean", p.window)
    previous = shifted(clean, current, p.window)
    scale = SLACK * np.maximum(1.0, np.abs(previous))
    with np.errstate(invalid="ignore", divide="ignore"):
        delta = current - previous
        if p.mode == "relative":
            near_zero = np.abs(previous) <= scale  # rounding may decide 0 or not: let through
            relative = np.where(previous != 0, delta / np.abs(previous), np.sign(delta) * np.inf)
            bad = OPS[p.op](relative, looser(p.op, p.value)) | (near_zero & ~np.isnan(current))
        else:
            bad = OPS[p.op](delta, looser(p.op, p.value))
    return counts(clean, bad) >= 1


def _zscore(segments: Segments, p: zscore.Params) -> Array:
    clean = segments.finite()
    mean = shifted(clean, rolling(clean, "mean", p.window))
    std = shifted(clean, rolling(clean, "std", p.window))
    with np.errstate(invalid="ignore", divide="ignore"):
        centered = clean.values - mean
        tiny = std <= SLACK * np.maximum(1.0, np.abs(mean))  # 0 or not may round either way
        z = np.where(std > 0, centered / std, np.sign(centered) * np.inf)
        limit = p.threshold * (1 - SLACK)
        far = {"above": z > limit, "below": z < -limit}.get(p.direction, np.abs(z) > limit)
        bad = far | (tiny & (centered != 0))
    return counts(clean, bad) >= 1


def _spike(segments: Segments, p: spike.Params) -> Array:
    clean = segments.finite()
    center = shifted(clean, rolling(clean, p.statistic, p.window, min_samples=p.min_points))
    least = max(p.min_baseline, 0.0)
    with np.errstate(invalid="ignore"):
        limit = p.factor * center
        bad = (
            (clean.values >= limit - SLACK * np.maximum(1.0, np.abs(limit)))
            & (clean.values > p.min_value)
            & (center > least - SLACK * max(1.0, least))
        )
    return longest(clean, bad) >= p.patience + 1


def _start(segments: Segments, p: start.Params) -> Array:
    clean = segments.finite()
    size = np.abs(clean.values)
    lengths = clean.lengths()
    position = np.arange(len(size)) - np.repeat(clean.bounds[:-1], lengths)
    reference = np.full(len(size), np.nan)
    owner = clean.ids()
    k = np.minimum(p.reference_points, lengths)
    for count in range(1, int(k.max(initial=0)) + 1):  # the median of a run's first points
        runs = np.flatnonzero(lengths >= count)
        by_run = np.full(clean.count, np.nan)
        by_run[runs] = np.median(size[clean.bounds[runs][:, None] + np.arange(count)], axis=1)
        mine = k[owner]
        # point i is judged against its first i points, up to the first k
        at = ((position == count) & (count < mine)) | ((position >= count) & (mine == count))
        reference[at] = by_run[owner[at]]
    with np.errstate(invalid="ignore"):
        limit = p.factor * reference
        bad = (size >= limit - SLACK * np.maximum(1.0, np.abs(limit))) & (
            reference > p.min_reference - SLACK * max(1.0, abs(p.min_reference))
        )
    return longest(clean, bad) >= max(p.for_steps, 1)


def _drawdown(segments: Segments, p: drawdown.Params) -> Array:
    import polars as pl

    clean = segments.finite()
    level = clean.values
    if p.smooth > 1:
        level = rolling(clean, "median", p.smooth, min_samples=1)
    values = level if p.better == "higher" else -level
    lengths = clean.lengths()
    position = np.arange(len(values)) - np.repeat(clean.bounds[:-1], lengths)
    first_full = np.minimum(p.smooth, lengths) - 1
    candidates = np.where(position < first_full[clean.ids()], -np.inf, values)  # full medians
    frame = pl.DataFrame({"v": candidates, "run": clean.ids()})
    peak = frame.select(pl.col("v").cum_max().over("run")).to_series().to_numpy()
    best = shifted(clean, np.asarray(peak, dtype=np.float64))
    best[~np.isfinite(best)] = np.nan
    best[position < p.min_points] = np.nan
    with np.errstate(invalid="ignore"):
        if p.relative_to == "progress":
            anchor_at = np.clip(clean.bounds[:-1] + first_full, 0, max(len(values) - 1, 0))
            anchor = values[anchor_at][clean.ids()] if len(values) else values
            best[position <= first_full[clean.ids()]] = np.nan
            scale = np.abs(best - anchor)
        else:
            scale = np.abs(best)
        bad = (best - values >= p.drop * scale) & (scale > p.min_best)
    short = lengths <= p.min_points
    return (longest(clean, bad) >= max(p.for_steps, 1)) & ~short


class _Ranked:
    """Medians of subsets of a metric's finite points (a stage's steps), per run.

    Each subset is laid out as one row per run (padded with +inf) and the rows sorted at
    once: numpy sorts short rows of floats with SIMD, ~50x faster than an argsort of the
    whole series by run and value. A sweep whose runs differ much in length (the grid
    would be mostly padding) sorts by run and value once instead, as before."""

    def __init__(self, clean: Segments) -> None:
        self.clean = clean
        self.order: Array | None = None
        self.ranked: Array | None = None

    def medians(self, keep: Array, inside: Segments | None = None) -> Array:
        """Each run's median of the points where `keep` holds (np.median's arithmetic: the
        middle value, or the mean of the two middle ones); NaN for a run with none.
        `inside`: `clean.select(keep)`, when the caller has it already."""
        inside = inside if inside is not None else self.clean.select(keep)
        lengths = inside.lengths()
        if len(inside.values) == 0:
            return np.full(inside.count, np.nan)
        width = int(lengths.max())
        if inside.count * width > 2 * len(inside.values) + 4096:
            return self._by_ranks(keep, inside, lengths)
        grid = np.full((inside.count, width), np.inf)
        ids = inside.ids()
        grid[ids, np.arange(len(ids)) - inside.bounds[ids]] = inside.values
        grid.sort(axis=1)
        rows = np.arange(inside.count)
        low = grid[rows, np.maximum(lengths - 1, 0) // 2]
        high = grid[rows, np.minimum(lengths // 2, width - 1)]
        with np.errstate(invalid="ignore"):
            found = (low + high) / 2
        found[lengths == 0] = np.nan
        return np.asarray(found)

    def _by_ranks(self, keep: Array, inside: Segments, lengths: Array) -> Array:
        """`medians` from the points sorted by run and value (sorted once)."""
        if self.order is None:
            values = self.clean.values
            by_value = np.argsort(values)  # then a stable (radix) sort of the run numbers
            self.order = by_value[np.argsort(self.clean.ids()[by_value], kind="stable")]
            self.ranked = values[self.order]
        assert self.ranked is not None
        ranked = self.ranked[keep[self.order]]
        low = np.clip(inside.bounds[:-1] + (lengths - 1) // 2, 0, len(ranked) - 1)
        high = np.clip(inside.bounds[:-1] + lengths // 2, 0, len(ranked) - 1)
        found = (ranked[low] + ranked[high]) / 2
        found[lengths == 0] = np.nan
        return np.asarray(found)


def _stage(segments: Segments, p: stage.Params) -> Array:
    clean = segments.finite()
    fires = np.zeros(clean.count, dtype=bool)
    ranked = _Ranked(clean)
    for part in p.stages:
        first, last = part["steps"]
        keep = (clean.steps >= first) & (clean.steps <= last)
        enough = counts(clean, keep) >= p.min_points
        if not enough.any():
            continue
        median = ranked.medians(keep)
        slack = SLACK * np.maximum(1.0, np.abs(median))
        fires |= enough & ((median < part["min"] + slack) | (median > part["max"] - slack))
    return fires


def stage_hits(
    segments: Segments, run_steps: Array, run_bounds: Array, p: stage.Params
) -> list[list[Hit]] | None:
    """stage.evaluate for every run at once (a stage table fires on many runs of a sweep,
    so screening alone would leave most of them to evaluate). `run_steps` are all rows'
    steps, run i's at run_bounds[i]:run_bounds[i+1]. None: evaluate run by run."""
    if p.min_points < 1:
        return None  # an empty stage would be judged: left to evaluate
    clean = segments.finite()
    hits: list[list[Hit]] = [[] for _ in range(clean.count)]
    runs = Segments(run_steps, run_steps.astype(np.float64), run_bounds)
    silent = np.zeros(clean.count, dtype=bool)
    ranked = _Ranked(clean)
    if p.max_run_step is not None:  # logged past it: the table does not fit this run
        silent = counts(runs, run_steps >= p.max_run_step + 1) > 0
    for part in p.stages:
        first, last = part["steps"]
        keep = (clean.steps >= first) & (clean.steps <= last)
        inside = clean.select(keep)
        lengths = inside.lengths()
        before = counts(runs, run_steps < last)  # the run reached `last` at the next row
        judged = before < runs.lengths()
        median = ranked.medians(keep, inside)
        with np.errstate(invalid="ignore"):
            outside = (median < part["min"]) | (median > part["max"])
        fires = (lengths >= p.min_points) & judged & outside & ~silent
        for i in np.flatnonzero(fires):
            a, b = int(inside.bounds[i]), int(inside.bounds[i + 1])
            value = float(median[i])
            if value == 0:  # 0.0 or -0.0: which one np.median picks depends on its partition
                value = float(np.median(inside.values[a:b]))
            judged_at = int(run_steps[run_bounds[i] + before[i]])
            hits[i].append(
                stage.stage_hit(
                    part, judged_at, int(inside.steps[a]), int(inside.steps[b - 1]), value, b - a
                )
            )
    return hits


def _trend(segments: Segments, p: trend.Params) -> Array:
    clean = segments.finite()
    if p.when == "absent" and p.window is not None:
        return np.ones(clean.count, dtype=bool)  # the last window only: judged run by run
    if p.when == "significant" and p.window is not None:
        return _trend_sliding(clean, p)
    return _trend_whole(clean, p)


def _trend_sliding(clean: Segments, p: trend.Params) -> Array:
    """A window inside a run significant in `direction`, moved in it by `min_effect` of the
    run's noise, `persist` such windows in a row (as trend._firing; min_slope only ever
    silences a window, so it is left to `evaluate`)."""
    w = int(p.window or 0)
    fires = np.zeros(clean.count, dtype=bool)
    values, n = clean.values, len(clean.values)
    starts = n - w + 1
    if starts <= 0:
        return fires
    z = trend.window_z(values, w)  # windows across two runs are dropped below (`whole`)
    ids = clean.ids()
    whole = ids[:starts] == ids[w - 1 :]
    sign = 1 if p.direction == "increasing" else -1
    enough = clean.lengths() >= max(p.min_points, 3)
    # p-values (trend's own normal CDF) only where one can be under alpha: the CDF rises
    # with its argument, and most windows of a sweep are far from significant
    limit = p.alpha * (1 + SLACK)
    below = -sign * z
    maybe = np.flatnonzero(whole & (below <= trend._significant_below(limit)))
    rows = maybe[trend._ndtr_array(below[maybe]) < limit]
    rows = rows[_moved_enough(clean, p, rows)]
    if p.persist > 1:
        marks = np.zeros(starts, dtype=bool)
        marks[rows] = True  # consecutive whole windows are of one run (they overlap)
        streak = np.convolve(marks, np.ones(p.persist, dtype=np.int64), mode="valid")
        rows = np.flatnonzero(streak >= p.persist)
    fires[ids[rows]] = True
    return fires & enough


def _moved_enough(clean: Segments, p: trend.Params, rows: Array) -> Array:
    """Which windows (by first point, each inside one run) moved in `direction` and by
    `min_effect` of their run's noise, as trend._firing (the effect limit SLACK looser)."""
    w = int(p.window or 0)
    sign = 1 if p.direction == "increasing" else -1
    moved = sign * trend._thirds(clean.values, w, rows)
    keep = moved > 0
    if p.min_effect > 0 and keep.any():
        moving = np.flatnonzero(keep)
        scale = _noise_at(clean, w, rows[moving])
        early = ~np.isfinite(scale)
        scale[early] = trend._own_noise(clean.values, w, rows[moving][early])
        keep[moving] = moved[moving] >= p.min_effect * scale * (1 - SLACK)
    return np.asarray(keep)


def _noise_at(clean: Segments, w: int, rows: Array) -> Array:
    """trend._noise of each run at the points `rows`, from its own points only: the median
    of the bends over the 10 w points up to each row (NaN ones left out, at least 5), only
    where asked (a rolling median over the whole sweep costs more than the windows it
    screens out)."""
    values, lag, size = clean.values, w - 1, 10 * w
    position = np.arange(len(values)) - np.repeat(clean.bounds[:-1], clean.lengths())
    bend = np.full(len(values), np.nan)
    if len(values) > 2 * lag:
        bend[2 * lag :] = np.abs(values[2 * lag :] - 2 * values[lag:-lag] + values[: -2 * lag])
    bend[position < 2 * lag] = np.nan  # spans reaching into the run before
    ending = np.lib.stride_tricks.sliding_window_view(
        np.concatenate((np.full(size - 1, np.nan), bend)), size
    )
    level = np.empty(len(rows))
    middle = [(size - 1) // 2, size // 2]
    for lo in range(0, len(rows), NOISE_ROWS):  # bounded memory: NOISE_ROWS x 10 w floats
        part = rows[lo : lo + NOISE_ROWS]
        windows = ending[part]
        outside = position[part][:, None] < np.arange(size - 1, -1, -1)[None, :]
        windows = np.where(outside, np.nan, windows)
        count = np.sum(~np.isnan(windows), axis=1)
        full = count == size  # most rows: the median is two order statistics, no sort
        found = np.empty(len(part))
        if full.any():
            ranked = np.partition(windows[full], middle, axis=1)
            found[full] = (ranked[:, middle[0]] + ranked[:, middle[1]]) / 2
        if not full.all():
            ordered = np.sort(windows[~full], axis=1)  # NaN last
            some = count[~full]
            pick = np.arange(len(ordered))
            low = ordered[pick, np.maximum(some - 1, 0) // 2]
            high = ordered[pick, some // 2]
            found[~full] = np.where(some >= 5, (low + high) / 2, np.nan)
        level[lo : lo + NOISE_ROWS] = found
    level /= 0.954 * np.sqrt(3.0)
    floor = 1e-12 + 1e-9 * np.abs(values[rows])
    return np.asarray(np.where(np.isfinite(level), np.maximum(level, floor), np.inf))


NOISE_ROWS = 4096  # windows whose noise is taken at once


def _trend_whole(clean: Segments, p: trend.Params) -> Array:
    """Mann–Kendall over each whole run (runs above trend.TEST_POINTS are judged one by one).
    `significant` needs p < alpha; `absent` is silent when p < alpha and more than half
    the pairs move in `direction` (then Theil–Sen's median slope does too), and with
    `ignore_opposite` when the run moves the other way at p < alpha."""
    lengths = clean.lengths()
    too_long = lengths > trend.TEST_POINTS
    enough = lengths >= max(p.min_points, 3)
    sign = 1 if p.direction == "increasing" else -1
    if too_long.any():  # subsampled by evaluate: not screened here
        clean = clean.select(~too_long[clean.ids()])
    ups, downs = _pair_signs(clean, clean.lengths().max(initial=0))
    s = ups - downs
    n = lengths.astype(np.float64)
    ties = _tie_term(clean)
    variance = (n * (n - 1) * (2 * n + 5) - ties) / 18
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (s - np.sign(s)) / np.sqrt(variance)
        z = np.where(variance > 0, z, 0.0)  # 1.0 below, whatever z says
        pvalues = np.where(variance > 0, trend._ndtr_array(-sign * z), 1.0)
    significant = pvalues < p.alpha * (1 + SLACK)
    if p.when == "significant":
        return (significant & enough) | (too_long & enough)
    pairs = n * (n - 1) / 2
    along = ups if sign > 0 else downs
    surely_moving = (pvalues < p.alpha * (1 - SLACK)) & (along > pairs / 2 + 1)
    silent = surely_moving & (p.min_slope <= 0)
    if p.ignore_opposite:  # a clear move the other way (trend._absent): silent too
        with np.errstate(invalid="ignore"):
            opposite = np.where(variance > 0, trend._ndtr_array(sign * z), 1.0)
        silent |= opposite < p.alpha * (1 - SLACK)
    return enough & (~silent | too_long)


def _pair_signs(clean: Segments, longest_run: int) -> tuple[Array, Array]:
    """For each run, how many later points lie above / below each earlier one."""
    ups = np.zeros(clean.count)
    downs = np.zeros(clean.count)
    values, ids = clean.values, clean.ids()
    for lag in range(1, int(longest_run)):
        same = ids[lag:] == ids[:-lag]
        delta = values[lag:] - values[:-lag]
        owner = ids[lag:]
        ups += np.bincount(owner, weights=(delta > 0) & same, minlength=clean.count)
        downs += np.bincount(owner, weights=(delta < 0) & same, minlength=clean.count)
    return ups, downs


def _tie_term(clean: Segments) -> Array:
    """Each run's sum over groups of equal values of t(t-1)(2t+5), as trend's variance."""
    ids = clean.ids()
    order = np.lexsort((clean.values, ids))
    values, owner = clean.values[order], ids[order]
    if len(values) == 0:
        return np.zeros(clean.count)
    new = np.concatenate(([True], (values[1:] != values[:-1]) | (owner[1:] != owner[:-1])))
    group = np.cumsum(new) - 1
    sizes = np.bincount(group).astype(np.float64)
    group_owner = owner[new]
    term = sizes * (sizes - 1) * (2 * sizes + 5)
    return np.bincount(group_owner, weights=term, minlength=clean.count)


# kinds whose hits are computed for all runs at once, beside their screens
HitsOfAll = Callable[[Segments, Array, Array, Any], "list[list[Hit]] | None"]
HITS: Mapping[str, HitsOfAll] = MappingProxyType({"stage": stage_hits})

SCREENS: Mapping[str, Screen] = MappingProxyType(
    {
        "change": _change,
        "compare": _compare,
        "consecutive": _consecutive,
        "drawdown": _drawdown,
        "flat": _flat,
        "nonfinite": _nonfinite,
        "range": _range,
        "spike": _spike,
        "stage": _stage,
        "start": _start,
        "threshold": _threshold,
        "trend": _trend,
        "window": _window,
        "zscore": _zscore,
    }
)
