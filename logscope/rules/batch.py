"""Rules across many runs at once: the sweep path of the engine.

`engine.evaluate` judges one run: alias resolution, row selection, array building and one
call of each check per run — 10-16 ms of Python per run, which is most of the time a sweep
of small runs takes. Here the runs that logged the same keys (and so got the same packs)
are one group, checked as one long series per metric with the run boundaries kept:
aliases, `where:` and step windows are resolved once per group, each check kind's screen
(checks/segmented.py) finds the runs that may fire in one vectorised pass, and only those
runs are evaluated one by one and get their findings rendered. The reports are those of
`engine.evaluate`, run by run: same findings, same order, same skipped rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from logscope.checks.base import Array, Series
from logscope.checks.segmented import HITS, SCREENS, Segments
from logscope.outcome import RunReport, Skipped
from logscope.rules import aliases, engine, where
from logscope.rules.selection import selected

if TYPE_CHECKING:
    from logscope.rules.spec import Pack, Rule
    from logscope.run import Run


def applicable_many(runs: Sequence[Run], packs: list[Pack], forced: set[str]) -> list[list[Pack]]:
    """engine.applicable for each run, decided once per set of logged keys."""
    seen: dict[tuple[str, ...], list[Pack]] = {}
    out = []
    for run in runs:
        keys = tuple(run.metrics)
        if keys not in seen:
            seen[keys] = engine.applicable(run, packs, forced)
        out.append(seen[keys])
    return out


def evaluate_many(
    runs: Sequence[Run],
    chosen: Sequence[list[Pack]],
    *,
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    shared: dict[str, tuple[str, ...]] | None = None,
) -> list[RunReport]:
    """`engine.evaluate(run, packs)` for each run and its packs, in order, without a
    baseline (a check against a baseline run is judged run by run)."""
    reports: list[RunReport | None] = [None] * len(runs)
    groups: dict[tuple[tuple[tuple[str, str], ...], tuple[int, ...]], list[int]] = {}
    for index, (run, packs) in enumerate(zip(runs, chosen, strict=True)):
        schema = tuple((name, str(dtype)) for name, dtype in run.frame.schema.items())
        key = (schema, tuple(id(p) for p in packs))
        groups.setdefault(key, []).append(index)
    for members in groups.values():
        packs = chosen[members[0]]
        group = _Group([runs[i] for i in members], packs)
        for i, report in zip(members, group.evaluate(select, ignore, shared), strict=True):
            reports[i] = report
    return [r for r in reports if r is not None]


@dataclass
class _Rows:
    """The group's rows one rule may look at, or why it cannot run."""

    keep: Array | None
    reason: str | None = None


class _Group:
    """Runs with the same columns (in the same order) and the same packs."""

    def __init__(self, runs: list[Run], packs: list[Pack]) -> None:
        self.runs = runs
        self.packs = packs
        frames = [r.frame for r in runs]
        self.frame = (
            pl.concat(frames, how="vertical", rechunk=True) if len(frames) > 1 else frames[0]
        )
        heights = np.array([f.height for f in frames], dtype=np.int64)
        self.bounds = np.concatenate(([0], np.cumsum(heights)))
        self.columns = engine._Columns(self.frame)
        self.resolver = aliases.Resolver(runs[0].metrics)
        self.run_of = np.repeat(np.arange(len(runs)), heights)

    def evaluate(
        self,
        select: set[str] | None,
        ignore: set[str] | None,
        shared: dict[str, tuple[str, ...]] | None,
    ) -> list[RunReport]:
        shared = shared if shared is not None else engine.shared_aliases(self.packs)
        names = [p.name for p in self.packs]
        reports = [RunReport(run, list(names)) for run in self.runs]
        checked: dict[str, None] = {}
        evaluated: list[str] = []
        skipped: list[Skipped] = []
        for pack in self.packs:
            for rule in pack.rules:
                if (select and not selected(rule, select)) or (ignore and selected(rule, ignore)):
                    continue
                # infinities meet in the arithmetic (inf - inf): NaN there is never a hit
                with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                    reason = self._rule(pack, rule, shared, reports, checked)
                if reason:
                    skipped.append(Skipped(rule.id, reason))
                else:
                    evaluated.append(rule.id)
        for report in reports:
            report.evaluated = len(evaluated)
            report.rules = list(evaluated)
            report.skipped = list(skipped)
            report.findings.sort(
                key=lambda f: (-f.severity.rank, f.step if f.step is not None else -1, f.rule)
            )
            report.metrics_checked = list(checked)
        return reports

    def _rows(self, rule: Rule) -> _Rows:
        """As engine._Columns.rows, on the whole group (a `where:` reads one row at a time)."""
        keep = np.ones(len(self.columns.steps), dtype=bool)
        if rule.where:
            chosen = where.rows(rule.where, self.frame)
            if isinstance(chosen, str):
                return _Rows(None, chosen)
            keep &= chosen
        if rule.after_step is not None:
            keep &= self.columns.steps > rule.after_step
        if rule.before_step is not None:
            keep &= self.columns.steps <= rule.before_step
        return _Rows(keep)

    def _rule(
        self,
        pack: Pack,
        rule: Rule,
        shared: dict[str, tuple[str, ...]],
        reports: list[RunReport],
        checked: dict[str, None],
    ) -> str | None:
        """engine._evaluate_rule for every run of the group; why it was skipped, if it was."""
        if rule.kind.needs_baseline:
            return "no baseline given"
        matches = self.resolver(pack.patterns(rule.metric, shared))
        if not matches:
            return "metric not found"
        rows = self._rows(rule)
        if rows.keep is None:
            return rows.reason
        other_keys: list[str] = []
        if rule.kind.needs_other:
            other_keys = [k for k, _ in self.resolver(pack.patterns(rule.params.other, shared))]
            if not other_keys:
                return f"metric to compare with ({rule.params.other}) not found"
        screen = SCREENS.get(rule.kind.name)
        all_at_once = HITS.get(rule.kind.name)
        for key, caps in matches:
            checked[key] = None
            values, present = self.columns.get(key)
            keep = rows.keep & present
            other = engine._closest(key, other_keys) if other_keys else None
            other_values = None
            if other:
                checked[other] = None
                other_values = self.columns.get(other)[0][keep]
            counts = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))[self.bounds]
            segments = Segments(self.columns.steps[keep], values[keep], counts, other_values)
            found = (
                all_at_once(segments, self.columns.steps, self.bounds, rule.params)
                if all_at_once is not None
                else None
            )
            if found is not None:
                for report, hits in zip(reports, found, strict=True):
                    report.findings.extend(
                        engine._finding(rule, key, caps, hit, other) for hit in hits
                    )
                continue
            candidates = (
                np.flatnonzero(screen(segments, rule.params))
                if screen is not None
                else np.arange(len(self.runs))
            )
            for i in candidates:
                self._one(rule, key, caps, other, segments, int(i), reports[i])
        return None

    def _one(
        self,
        rule: Rule,
        key: str,
        caps: dict[str, str],
        other: str | None,
        segments: Segments,
        i: int,
        report: RunReport,
    ) -> None:
        """Evaluate one run that passed the screen, exactly as engine does."""
        a, b = int(segments.bounds[i]), int(segments.bounds[i + 1])
        data = Series(
            segments.steps[a:b],
            segments.values[a:b],
            None if segments.other is None else segments.other[a:b],
            None,
            run_steps=self.columns.steps[self.bounds[i] : self.bounds[i + 1]],
            until=rule.before_step,
        )
        for hit in rule.kind.evaluate(data, rule.params):
            report.findings.append(engine._finding(rule, key, caps, hit, other))
