"""What checking one run produced: the contract between the engine and every reporter.

It sits at the bottom layer (beside `model` and `run`) so reporters, the API and the remote
executor depend on it without importing the rule engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from logscope.model import Finding, Severity

if TYPE_CHECKING:
    from logscope.run import Run


@dataclass(frozen=True, slots=True)
class Skipped:
    """A rule not evaluated on a run, and why (its metric was not logged, ...)."""

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
    rules: list[str] = field(default_factory=list)  # ids of the rules evaluated
    baseline: str | None = None  # path of the run compared against, if any

    def failed(self, fail_on: Severity | None) -> bool:
        if fail_on is None:
            return False
        return any(f.severity.rank >= fail_on.rank for f in self.findings)
