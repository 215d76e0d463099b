"""Apply rule packs to a Run: the only place that loops over rules (never over rows)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from logscope.checks.base import Hit
from logscope.columns import col
from logscope.model import Finding, Severity
from logscope.rules import aliases
from logscope.rules.spec import Pack, Rule

if TYPE_CHECKING:
    from logscope.run import Run


@dataclass(frozen=True, slots=True)
class Skipped:
    rule: str
    reason: str


@dataclass
class RunReport:
    """The verdict on one run."""

    run: Run
    packs: list[str]
    findings: list[Finding] = field(default_factory=list)
    evaluated: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    metrics_checked: list[str] = field(default_factory=list)

    def failed(self, fail_on: Severity | None) -> bool:
        if fail_on is None:
            return False
        return any(f.severity.rank >= fail_on.rank for f in self.findings)


def applicable(run: Run, packs: list[Pack], forced: set[str]) -> list[Pack]:
    """Packs that always apply, were forced, or whose detect metrics the run logged."""
    shared = shared_aliases(packs)
    keys = run.metrics
    chosen = []
    for pack in packs:
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
) -> RunReport:
    shared = shared if shared is not None else shared_aliases(packs)
    report = RunReport(run, [p.name for p in packs])
    checked: dict[str, None] = {}
    for pack in packs:
        for rule in pack.rules:
            if (select and not _selected(rule, select)) or (ignore and _selected(rule, ignore)):
                continue
            reason = _evaluate_rule(run, pack, rule, shared, report, checked)
            if reason:
                report.skipped.append(Skipped(rule.id, reason))
            else:
                report.evaluated += 1
    report.findings.sort(
        key=lambda f: (-f.severity.rank, f.step if f.step is not None else -1, f.rule)
    )
    report.metrics_checked = list(checked)
    return report


def _selected(rule: Rule, names: set[str]) -> bool:
    """`--select kto` picks a whole pack; `--select kto/grad-norm` one rule; prefixes work."""
    return any(
        rule.id == n or rule.pack == n or rule.id.startswith(n.rstrip("/") + "/") for n in names
    )


def _evaluate_rule(
    run: Run,
    pack: Pack,
    rule: Rule,
    shared: dict[str, tuple[str, ...]],
    report: RunReport,
    checked: dict[str, None],
) -> str | None:
    """Evaluate one rule on every key it matches; return why it was skipped, if it was."""
    matches = aliases.resolve(pack.patterns(rule.metric, shared), run.metrics)
    if not matches:
        return "metric not found"
    frame = run.frame
    if rule.where:
        condition = pl.sql_expr(rule.where)
        missing = [c for c in condition.meta.root_names() if c not in frame.columns]
        if missing:
            return f"where: column {missing[0]!r} not in this run"
        frame = frame.filter(condition.fill_null(False))
    if rule.after_step is not None:
        frame = frame.filter(pl.col("step") > rule.after_step)
    if rule.before_step is not None:
        frame = frame.filter(pl.col("step") <= rule.before_step)
    other_keys: list[str] = []
    if rule.kind.needs_other:
        other_keys = [
            k for k, _ in aliases.resolve(pack.patterns(rule.params.other, shared), run.metrics)
        ]
        if not other_keys:
            return f"metric to compare with ({rule.params.other}) not found"
    for key, caps in matches:
        checked[key] = None
        columns = [pl.col("step"), col(key).alias("value")]
        other = _closest(key, other_keys) if other_keys else None
        if other:
            checked[other] = None
            columns.append(col(other).alias("other"))
        data = frame.select(columns).filter(pl.col("value").is_not_null())
        for hit in rule.kind.evaluate(data, rule.params):
            report.findings.append(_finding(rule, key, caps, hit, other))
    return None


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
    fields: dict[str, Any] = {
        ("limit" if f.name == "value" else f.name): getattr(rule.params, f.name)
        for f in dataclasses.fields(rule.params)
    }
    fields.update(caps)
    fields.update(
        {
            "metric": key,
            "step": hit.step,
            "last_step": hit.last_step,
            "value": hit.value,
            "count": 1,
            "worst": hit.value,
            "worst_step": hit.step,
        }
    )
    fields.update(hit.extra)
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
        last_step=hit.last_step,
        value=hit.value,
        message=render(rule.message, fields),
        advice=render(rule.advice, fields),
        source=rule.source,
        extra=extra,
    )


class _Value:
    """Formats like the wrapped value, but never fails on None or a spec that does not fit."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        if self.value is None:
            return "n/a"
        try:
            return format(self.value, spec)
        except (ValueError, TypeError):
            return str(self.value)

    def __str__(self) -> str:
        return format(self, "")


def render(template: str, fields: dict[str, Any]) -> str:
    """Fill a message template; fields were checked when the pack was loaded."""
    wrapped = {k: _Value(v) for k, v in fields.items()}
    try:
        return template.format_map(wrapped)
    except (KeyError, IndexError, ValueError, AttributeError):
        return template
