"""The pack model: a Rule and the Pack that holds it, as loaded and validated (rules.load)
and adjusted by `--set` (rules.overrides)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from logscope.checks import KINDS
from logscope.checks.base import Check
from logscope.model import Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One rule as loaded and validated: what it checks, how, and what it tells the user."""

    id: str
    pack: str
    severity: Severity
    metric: str
    check: str
    params: Any
    message: str
    advice: str
    source: str
    where: str | None = None
    where_template: str | None = None  # `where` before the pack's ${vars} were filled in
    after_step: int | None = None
    before_step: int | None = None
    description: str = ""
    origin: str = ""  # file:line, for messages about the rule itself

    @property
    def kind(self) -> Check:
        return KINDS[self.check]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pack:
    """A rule pack: its rules, the aliases they name metrics by, and when it applies."""

    name: str
    title: str
    path: str
    rules: tuple[Rule, ...]
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    detect: tuple[str, ...] | None = None  # None: the pack always applies
    unless: tuple[str, ...] = ()  # metrics that mark another family (DPO logs rewards/accuracies)
    description: str = ""
    # conventions of one stack that users may spell differently (coordexp's E-step key);
    # `where:` conditions use them as ${name}, `--set PACK.NAME=VALUE` replaces them
    vars: dict[str, str] = field(default_factory=dict)

    @property
    def requires_baseline(self) -> bool:
        """A pack of baseline rules only means something next to a baseline run."""
        return bool(self.rules) and all(r.kind.needs_baseline for r in self.rules)

    def patterns(self, metric: str, shared: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        """An alias name expands to its spellings; anything else is a key pattern itself."""
        return self.aliases.get(metric) or shared.get(metric) or (metric,)
