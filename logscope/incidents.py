"""One problem, one incident; and the verdict on a run: healthy, watch or stop.

Findings whose bad stretches overlap or follow each other within `CHAIN` logged steps
(grad-norm explosion -> loss spike -> NaN; margin negative + falling + rejected above
chosen) describe one event. An incident names its first step, the earliest signal (the
likely cause), the symptoms in order, the worst value, and one action: the rule's advice
made concrete, with the checkpoint to go back to and the new learning rate when the
advice asks to revert or to reduce it. Info findings (targets, context) form no incident.

Pure functions of a RunReport: every reporter calls `assess` and says the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from logscope.model import Finding, Severity, _json_float

if TYPE_CHECKING:
    import polars as pl

    from logscope.checkpoints import Found
    from logscope.outcome import RunReport

CHAIN = 5  # logged steps between one symptom's end and the next one's onset
_REVERT = re.compile(r"\b(revert|checkpoint|restart|roll ?back|go back)\b", re.IGNORECASE)
_REDUCE = re.compile(
    r"(?:reduce|lower|cut|decrease) the learning rate by (\d+(?:\.\d+)?)\s*%"
    r"|\b(halve) the learning rate",
    re.IGNORECASE,
)
_LR_KEYS = ("learning_rate", "lr", "train/learning_rate", "train/lr", "actor/lr", "optim/lr")


def onset(finding: Finding) -> int | None:
    """The first bad step: `onset` when the rule engine gives one, else the firing step."""
    return getattr(finding, "onset", None) or finding.step


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """One event in a run, told once."""

    first_step: int | None
    last_step: int | None
    severity: Severity
    cause: Finding  # the earliest signal
    symptoms: tuple[Finding, ...]  # in order of onset, the cause first
    worst: Finding  # the symptom whose worst value is reported
    advice: str  # the rule's advice (the document's action)
    action: str  # what to do, concrete: checkpoint, learning rate, resume option
    checkpoint: str | None = None
    checkpoint_step: int | None = None
    learning_rate: float | None = None  # the new value, when the advice asks to reduce it

    @property
    def worst_value(self) -> float | None:
        value = self.worst.extra.get("worst", self.worst.value)
        return float(value) if isinstance(value, (int, float)) else self.worst.value

    @property
    def worst_step(self) -> int | None:
        step = self.worst.extra.get("worst_step", onset(self.worst))
        return int(step) if isinstance(step, (int, float)) else None

    @property
    def summary(self) -> str:
        """One sentence: what happened, from when."""
        if len(self.symptoms) == 1:
            name = self.cause.rule.rsplit("/", 1)[-1].replace("-", " ")
            return f"{self.cause.metric}: {name} from step {self.first_step}"
        metrics = list(dict.fromkeys(f.metric for f in self.symptoms))
        signs = f"{len(self.symptoms)} signs"
        return (
            f"{signs} of one problem from step {self.first_step}, first in "
            f"{self.cause.metric}"
            + (f" (then {', '.join(metrics[1:4])})" if len(metrics) > 1 else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_step": self.first_step,
            "last_step": self.last_step,
            "severity": str(self.severity),
            "summary": self.summary,
            "cause": {
                "rule": self.cause.rule,
                "metric": self.cause.metric,
                "step": onset(self.cause),
                "message": self.cause.message,
            },
            "symptoms": [
                {"rule": f.rule, "severity": str(f.severity), "metric": f.metric, "step": onset(f)}
                for f in self.symptoms
            ],
            "worst": {
                "rule": self.worst.rule,
                "metric": self.worst.metric,
                "value": _json_float(self.worst_value),
                "step": self.worst_step,
            },
            "advice": self.advice,
            "action": self.action,
            "checkpoint": self.checkpoint,
            "checkpoint_step": self.checkpoint_step,
            "learning_rate": self.learning_rate,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """healthy / watch / stop, why in one sentence, and what to do."""

    status: str
    reason: str
    action: str

    @property
    def line(self) -> str:
        return f"{self.status.upper()}: {self.reason}. {self.action}"

    def to_dict(self) -> dict[str, str]:
        return {"status": self.status, "reason": self.reason, "action": self.action}


@dataclass(frozen=True, slots=True)
class Assessment:
    verdict: Verdict
    incidents: tuple[Incident, ...]

    def incident_of(self, finding: Finding) -> int | None:
        """The number (from 1) of the incident a finding is a symptom of, if any: what lets
        a reader of the findings count one problem once."""
        for number, incident in enumerate(self.incidents, 1):
            if any(symptom is finding for symptom in incident.symptoms):
                return number
        return None


def assess(report: RunReport) -> Assessment:
    """The incidents of a run and its verdict (the same for every reporter)."""
    from logscope import checkpoints

    run = report.run
    found = None
    groups = group(report.findings, run.frame.get_column("step").to_numpy())
    if groups:
        found = checkpoints.find(run.path, run.checkpoint_dir)
    lr = _peak_learning_rate(report) if groups else None  # only an incident's action uses it
    incidents = tuple(_incident(g, found, lr) for g in groups)
    return Assessment(_verdict(report, incidents), incidents)


def group(findings: list[Finding], steps: np.ndarray[Any, Any]) -> list[list[Finding]]:
    """Warning and error findings in chains of overlapping (or near: CHAIN logged steps)
    bad stretches, each chain in order of onset."""
    serious = [f for f in findings if f.severity.rank >= Severity.WARNING.rank]
    order = sorted(serious, key=lambda f: (_at(f, steps), -f.severity.rank))
    groups: list[list[Finding]] = []
    reach = -1
    for finding in order:
        start = _at(finding, steps)
        end = _index(steps, finding.last_step if finding.last_step is not None else onset(finding))
        if groups and start <= reach + CHAIN:
            groups[-1].append(finding)
        else:
            groups.append([finding])
            reach = -1
        reach = max(reach, end)
    return groups


def _at(finding: Finding, steps: np.ndarray[Any, Any]) -> int:
    return _index(steps, onset(finding))


def _index(steps: np.ndarray[Any, Any], step: int | None) -> int:
    """Position of a step among the logged steps (so CHAIN counts logged steps)."""
    if step is None:
        return 0
    return int(np.searchsorted(steps, step, side="left"))


def _incident(symptoms: list[Finding], found: Found | None, lr: float | None) -> Incident:
    cause = symptoms[0]
    top = max(f.severity.rank for f in symptoms)
    principal = [f for f in symptoms if f.severity.rank == top]
    adviser = next((f for f in principal if _REVERT.search(f.advice)), principal[0])
    first = onset(cause)
    last_steps = [f.last_step for f in symptoms if f.last_step is not None]
    checkpoint, new_lr, action = _action(adviser.advice, first, found, lr)
    return Incident(
        first_step=first,
        last_step=max(last_steps) if last_steps else first,
        severity=principal[0].severity,
        cause=cause,
        symptoms=tuple(symptoms),
        worst=principal[0],
        advice=adviser.advice,
        action=action,
        checkpoint=checkpoint.path if checkpoint else None,
        checkpoint_step=checkpoint.step if checkpoint else None,
        learning_rate=new_lr,
    )


def _action(
    advice: str, first: int | None, found: Found | None, lr: float | None
) -> tuple[Any, float | None, str]:
    """The advice made concrete: which checkpoint (or none), which learning rate."""
    parts: list[str] = []
    checkpoint = None
    if _REVERT.search(advice) and first is not None and found is not None:
        checkpoint = found.before(first)
        if checkpoint is not None:
            parts.append(
                f"revert to {checkpoint.path} (step {checkpoint.step}, the last checkpoint "
                f"before step {first}; resume with {checkpoint.resume})"
            )
        else:
            parts.append(_no_checkpoint(first, found))
    new_lr = None
    reduce = _REDUCE.search(advice)
    if reduce and lr is not None:
        cut = 50.0 if reduce.group(2) else float(reduce.group(1))
        new_lr = lr * (1 - cut / 100)
        rate = f"the learning rate at {new_lr:.3g} ({cut:g}% below its logged peak {lr:.3g})"
        if parts:
            parts[-1] += f" with {rate}"
        else:
            parts.append(f"set {rate}")
    if not parts:
        return None, None, advice
    text = parts[0]
    return checkpoint, new_lr, text[0].upper() + text[1:] + "."


def _no_checkpoint(first: int, found: Found) -> str:
    later = found.checkpoints[0] if found.checkpoints else None
    where = ", ".join(found.looked_in) or "the run has no folder"
    if later is not None:
        return (
            f"no checkpoint before step {first} (the first, {later.path}, is from step "
            f"{later.step}, after the problem began): restart from the base model"
        )
    if not found.complete:
        from logscope.checkpoints import MAX_FOLDERS

        where = f"the first {MAX_FOLDERS:,} folders under {where}"
    return (
        f"no checkpoint before step {first} (none found in {where}; give --checkpoints DIR "
        "if they are elsewhere): restart from the base model"
    )


def _peak_learning_rate(report: RunReport) -> float | None:
    """The configured learning rate, as logged: the schedule's peak (warmup rises to it)."""
    frame = report.run.frame
    spellings = report.run.meta.get("spellings", {})
    for key in _LR_KEYS:
        name = (
            key
            if key in frame.columns
            else next((k for k, v in spellings.items() if key in v and k in frame.columns), None)
        )
        if name is None:
            continue
        peak = _peak(frame.get_column(name))
        if peak is not None and peak > 0:
            return peak
    return None


def _peak(column: pl.Series) -> float | None:
    """The largest value, nulls and NaN ignored; None when there is none. A float column
    is read through numpy (no query plan: a sweep assesses thousands of runs)."""
    if column.dtype.is_float():
        values = column.to_numpy()  # nulls become NaN
        if values.size == 0 or bool(np.isnan(values).all()):
            return None
        return float(np.nanmax(values))
    peak = column.drop_nulls().max()
    return float(peak) if isinstance(peak, (int, float)) else None


def _verdict(report: RunReport, incidents: tuple[Incident, ...]) -> Verdict:
    run = report.run
    if run.frame.height == 0:
        return Verdict("watch", "no metric rows could be read", "Check the sources listed below.")
    stops = [i for i in incidents if i.severity is Severity.ERROR]
    if stops:
        first = stops[0]
        more = (
            f" ({len(incidents) - 1} more incident{'s' if len(incidents) > 2 else ''})"
            if len(incidents) > 1
            else ""
        )
        return Verdict("stop", first.summary + more, first.action)
    if incidents:
        first = incidents[0]
        more = f" ({len(incidents) - 1} more)" if len(incidents) > 1 else ""
        return Verdict("watch", first.summary + more, first.action)
    steps = run.steps
    notes = sum(1 for f in report.findings if f.severity is Severity.INFO)
    extra = f"; {notes} note{'s' if notes != 1 else ''} below" if notes else ""
    return Verdict(
        "healthy",
        f"no warning sign in {steps['count']} logged steps ({report.evaluated} rule checks){extra}",
        "Nothing to do.",
    )
