"""Small value types shared by ingesters, the rule engine and reporters."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10

    class StrEnum(str, Enum):
        """Backport of enum.StrEnum for Python 3.10."""

        def __str__(self) -> str:
            return str(self.value)


class Severity(StrEnum):
    """How bad a finding is; ordered so `--fail-on` can compare."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that went wrong while reading a source; shown to the user, never fatal."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Source:
    """One file that contributed rows to a Run."""

    path: str
    format: str
    rows: int
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resume:
    """A restart: the log went back from `previous_step` to `step` at `source`:`line`."""

    step: int
    previous_step: int
    source: str
    line: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One rule that fired on one metric of one run."""

    rule: str
    severity: Severity
    metric: str
    step: int | None
    last_step: int | None
    value: float | None
    message: str
    advice: str
    source: str
    extra: dict[str, Any] = field(default_factory=dict)
    # the first bad logged step; `step` is when the rule fires seeing the data up to it
    onset: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of DESIGN.md, plus additive fields."""
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "metric": self.metric,
            "step": self.step,
            "onset": self.onset if self.onset is not None else self.step,
            "last_step": self.last_step,
            "value": _json_float(self.value),
            "message": self.message,
            "advice": self.advice,
            "source": self.source,
            **{k: _json_float(v) if isinstance(v, float) else v for k, v in self.extra.items()},
        }


def _json_float(value: float | None) -> float | str | None:
    """Strict JSON has no NaN/Infinity: spell them as the strings the writer contract uses."""
    if value is None:
        return None
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return value
