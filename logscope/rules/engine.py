"""Apply rule packs to a Run: the only place that loops over rules (never over rows)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from logscope.checks.base import Array, Hit, Series
from logscope.model import Finding
from logscope.outcome import RunReport, Skipped
from logscope.rules import aliases, template, where
from logscope.rules.selection import selected
from logscope.rules.spec import Pack, Rule

if TYPE_CHECKING:
    from logscope.run import Run


def applicable(
    run: Run, packs: list[Pack], forced: set[str], *, baseline: bool = False
) -> list[Pack]:
    """Packs that always apply, were forced, or whose detect metrics the run logged; packs
    of baseline rules only when there is a baseline to compare with."""
    shared = shared_aliases(packs)
    keys = run.metrics
    chosen = []
    for pack in packs:
        if pack.requires_baseline and not baseline:
            continue
        if pack.name in forced or pack.detect is None:
            chosen.append(pack)
            continue
        logged = any(aliases.resolve(pack.patterns(m, shared), keys) for m in pack.detect)
        other = any(aliases.resolve(pack.patterns(m, shared), keys) for m in pack.unless)
        if logged and not other:
            chosen.append(pack)
    return chosen


def shared_aliases(packs: list[Pack]) -> dict[str, tuple[str, ...]]:
    """Aliases of the `common` pack are available to every pack."""
    return next((dict(p.aliases) for p in packs if p.name == "common"), {})


def evaluate(
    run: Run,
    packs: list[Pack],
    *,
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    shared: dict[str, tuple[str, ...]] | None = None,
    baseline: Run | None = None,
) -> RunReport:
    shared = shared if shared is not None else shared_aliases(packs)
    report = RunReport(run, [p.name for p in packs], baseline=baseline.path if baseline else None)
    columns = _Columns(run.frame)
    resolver = aliases.Resolver(run.metrics)
    reference = (_Columns(baseline.frame), aliases.Resolver(baseline.metrics)) if baseline else None
    checked: dict[str, None] = {}
    for pack in packs:
        for rule in pack.rules:
            if (select and not selected(rule, select)) or (ignore and selected(rule, ignore)):
                continue
            reason = _evaluate_rule(
                pack, rule, shared, resolver, columns, report, checked, reference
            )
            if reason:
                report.skipped.append(Skipped(rule.id, reason))
            else:
                report.evaluated += 1
                report.rules.append(rule.id)
    report.findings.sort(
        key=lambda f: (-f.severity.rank, f.step if f.step is not None else -1, f.rule)
    )
    report.metrics_checked = list(checked)
    return report


class _Columns:
    """The run's columns as numpy arrays, converted once and shared by all rules."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.steps: Array = frame.get_column("step").to_numpy()
        self._cache: dict[str, tuple[Array, Array]] = {}

    def get(self, key: str) -> tuple[Array, Array]:
        """(values with NaN where missing, mask of logged points)."""
        if key not in self._cache:
            # renamed: Polars runs some Series methods as pl.col(name), a regex for `^x$`
            column = self.frame.get_column(key).alias("values")
            # to_numpy turns nulls into NaN, so the mask of logged points keeps them apart;
            # most columns have no nulls, and then no Polars query is needed at all
            if column.null_count() == 0:
                present = np.ones(column.len(), dtype=bool)
            else:
                present = column.is_not_null().to_numpy()
            self._cache[key] = (column.cast(pl.Float64).to_numpy(), present)
        return self._cache[key]

    def rows(self, rule: Rule) -> Array | str:
        """Rows a rule may look at (its `where:` and step window), or why it cannot run."""
        keep = np.ones(len(self.steps), dtype=bool)
        if rule.where:
            selected = where.rows(rule.where, self.frame)
            if isinstance(selected, str):
                return selected
            keep &= selected
        if rule.after_step is not None:
            keep &= self.steps > rule.after_step
        if rule.before_step is not None:
            keep &= self.steps <= rule.before_step
        return keep


def coverage(run: Run, packs: list[Pack]) -> dict[str, list[str]]:
    """For each logged metric, the ids of the rules (in these packs) that look at it."""
    shared = shared_aliases(packs)
    resolve = aliases.Resolver(run.metrics)
    covered: dict[str, list[str]] = {key: [] for key in run.metrics}
    for pack in packs:
        for rule in pack.rules:
            for key, _ in resolve(pack.patterns(rule.metric, shared)):
                covered[key].append(rule.id)
    return covered


def _evaluate_rule(
    pack: Pack,
    rule: Rule,
    shared: dict[str, tuple[str, ...]],
    resolve: aliases.Resolver,
    columns: _Columns,
    report: RunReport,
    checked: dict[str, None],
    reference: tuple[_Columns, aliases.Resolver] | None = None,
) -> str | None:
    """Evaluate one rule on every key it matches; return why it was skipped, if it was."""
    if rule.kind.needs_baseline and reference is None:
        return "no baseline given"
    matches = resolve(pack.patterns(rule.metric, shared))
    if not matches:
        return "metric not found"
    rows = columns.rows(rule)
    if isinstance(rows, str):
        return rows
    other_keys: list[str] = []
    if rule.kind.needs_other:
        other_keys = [k for k, _ in resolve(pack.patterns(rule.params.other, shared))]
        if not other_keys:
            return f"metric to compare with ({rule.params.other}) not found"
    for key, caps in matches:
        checked[key] = None
        values, present = columns.get(key)
        keep = rows & present
        other = _closest(key, other_keys) if other_keys else None
        other_values = None
        if other:
            checked[other] = None
            other_values = columns.get(other)[0][keep]
        base = None
        if reference is not None and rule.kind.needs_baseline:
            base = _baseline_series(key, pack.patterns(rule.metric, shared), reference)
            if base is None:
                continue  # this metric was not logged by the baseline run
        data = Series(
            columns.steps[keep],
            values[keep],
            other_values,
            base,
            run_steps=columns.steps,
            until=rule.before_step,
        )
        for hit in rule.kind.evaluate(data, rule.params):
            report.findings.append(_finding(rule, key, caps, hit, other))
    return None


def _baseline_series(
    key: str, patterns: tuple[str, ...], reference: tuple[_Columns, aliases.Resolver]
) -> tuple[Array, Array] | None:
    """The same metric in the baseline: the same key, else its closest spelling there."""
    columns, resolve = reference
    candidates = [k for k, _ in resolve(patterns)]
    if not candidates:
        return None
    name = key if key in candidates else _closest(key, candidates)
    values, present = columns.get(name)
    return columns.steps[present], values[present]


def _closest(key: str, candidates: list[str]) -> str:
    """The candidate spelled most like `key` (train/rewards/chosen pairs with train/...)."""

    def shared_prefix(candidate: str) -> int:
        n = 0
        for a, b in zip(key, candidate, strict=False):
            if a != b:
                break
            n += 1
        return n

    return max(candidates, key=shared_prefix)


def _finding(rule: Rule, key: str, caps: dict[str, str], hit: Hit, other: str | None) -> Finding:
    onset = hit.onset if hit.onset is not None else hit.step
    fields = {
        **_param_fields(rule),
        **caps,
        "metric": key,
        "step": hit.step,
        "onset": onset,
        "last_step": hit.last_step,
        "value": hit.value,
        "count": 1,
        "worst": hit.value,
        "worst_step": hit.step,
        **hit.extra,
    }
    if other:
        fields["other"] = other
    extra = {k: v for k, v in hit.extra.items() if isinstance(v, (int, float, str)) or v is None}
    if other:
        extra["other"] = other
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        metric=key,
        step=hit.step,
        onset=onset,
        last_step=hit.last_step,
        value=hit.value,
        message=render(rule.message, fields),
        advice=render(rule.advice, fields),
        source=rule.source,
        extra=extra,
    )


_PARAMS: dict[int, tuple[object, dict[str, Any]]] = {}  # id(params) -> (params, fields)


def _param_fields(rule: Rule) -> dict[str, Any]:
    """A rule's parameters as template fields (`value` is shown as `limit`), built once per
    rule: a sweep renders thousands of findings of the same rules."""
    cached = _PARAMS.get(id(rule.params))
    if cached is not None and cached[0] is rule.params:
        return cached[1]
    fields = {
        ("limit" if f.name == "value" else f.name): getattr(rule.params, f.name)
        for f in dataclasses.fields(rule.params)
    }
    if len(_PARAMS) > 4096:
        _PARAMS.clear()
    _PARAMS[id(rule.params)] = (rule.params, fields)
    return fields


def render(text: str, fields: dict[str, Any]) -> str:
    """Fill a message template (rules.template: named fields and format specs only)."""
    return template.render(text, fields)
