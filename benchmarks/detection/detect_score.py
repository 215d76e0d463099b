"""Score logscope's verdict on the generated scenarios.

Each run goes through the same library call as `logscope check --format json`
(`logscope.pipeline.check` with the built-in packs, findings as `Finding.to_dict()`), and
the exit code is derived as the CLI derives it (`--fail-on error`: 2 unreadable, 1 an
error finding, else 0).

Definitions (also in benchmarks/README.md, "Detection accuracy"):

- A finding *counts* when its severity is warning or error (info never counts either way).
- A pathology is *detected* when a counting finding names one of the label's metrics (the
  key as logged; the label lists every key that shows the problem).
- *False alarm*: a counting finding on a healthy run. FP rate = healthy runs with at least
  one / healthy runs. Counting findings on a broken run that name neither a label metric
  nor a listed secondary symptom (`also`) are listed as *unexpected*, not in the FP rate.
- *Delay* (logged points): from the labelled onset (the first logged step whose value is
  bad) to the earliest matching finding's `step`, counted in logged points of the label's
  first metric (E-steps only for E-step metrics, evaluations for eval metrics). Negative =
  the finding is dated before the problem began. When findings carry `onset`, its error is
  reported too.
- *Duplicate*: a detected pathology reported by more than one counting finding (different
  rules, or the same rule on several of its metrics) that are not grouped into one incident
  (findings with the same `incident` value count once). Duplicate rate = detected
  pathologies with a duplicate / detected pathologies.
- *Exit-code agreement*: the exit code equals 1 for labels of severity error, 0 otherwise.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COUNTING = ("warning", "error")


@dataclass
class Outcome:
    id: str
    family: str
    format: str
    pathology: str
    healthy: bool
    severity: str
    exit_code: int
    expected_exit: int
    findings: list[dict[str, Any]]
    matched: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    detected: bool = False
    delay: int | None = None
    onset_error: int | None = None
    duplicate: bool = False
    errors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """detected / missed for a broken run, silent / false-alarm for a healthy one."""
        if self.healthy:
            return "false-alarm" if self.unexpected else "silent"
        return "detected" if self.detected else "missed"


def check_run(
    path: Path, packs: list[Any], expect: list[str] = ()
) -> tuple[list[dict[str, Any]], int, list[str]]:
    """The JSON findings and exit code `logscope check PATH --format json` gives. A metric
    in `expect` (the label's) that the run does not hold is a benchmark bug, said as an
    error: a pathology nobody can see is not a miss."""
    from logscope.incidents import assess
    from logscope.model import Severity
    from logscope.pipeline import check

    result = check([path], packs)
    findings = []
    for report in result.reports:  # as the JSON report has them: with their incident
        assessment = assess(report)
        findings += [
            {**f.to_dict(), "incident": assessment.incident_of(f)} for f in report.findings
        ]
    errors = list(result.errors)
    if len(result.reports) != 1:
        errors.append(f"discovery found {len(result.reports)} runs, expected 1")
    else:
        held = set(result.reports[0].run.metrics)
        errors += [f"label metric {m!r} not in the run as read" for m in expect if m not in held]
    if errors:
        return findings, 2, errors
    failed = any(r.failed(Severity.ERROR) for r in result.reports)
    return findings, 1 if failed else 0, errors


def _points_index(points: list[int], step: int | None) -> int | None:
    if step is None:
        return None
    return bisect.bisect_left(points, step)


def judge(
    case: dict[str, Any], findings: list[dict[str, Any]], exit_code: int, errors: list[str]
) -> Outcome:
    label = case["label"]
    healthy = label["pathology"] == "healthy"
    out = Outcome(
        id=case["id"],
        family=case["family"],
        format=case["format"],
        pathology=label["pathology"],
        healthy=healthy,
        severity=label["severity"],
        exit_code=exit_code,
        expected_exit=1 if label["severity"] == "error" else 0,
        findings=findings,
        errors=errors,
        tags=case.get("tags", []),
    )
    counting = [f for f in findings if f["severity"] in COUNTING]
    if healthy:
        out.unexpected = counting
        return out
    metrics = set(label["metrics"])
    also = set(label["also"])
    out.matched = [f for f in counting if f["metric"] in metrics]
    out.unexpected = [f for f in counting if f["metric"] not in metrics | also]
    out.detected = bool(out.matched)
    if not out.detected:
        return out
    points = label["points"]
    onset_at = _points_index(points, label["onset"]) or 0
    first = min(out.matched, key=lambda f: f["step"] if f["step"] is not None else 1 << 62)
    at = _points_index(points, first["step"])
    if at is not None:
        out.delay = at - onset_at
    onsets = [f["onset"] for f in out.matched if f.get("onset") is not None]
    if onsets:
        out.onset_error = (_points_index(points, min(onsets)) or 0) - onset_at
    groups = {f.get("incident") if f.get("incident") is not None else id(f) for f in out.matched}
    out.duplicate = len(groups) > 1
    return out


def score(
    root: Path, labels: list[dict[str, Any]], packs: list[Any] | None = None
) -> list[Outcome]:
    """Check every scenario folder under `root` and judge it against its label."""
    if packs is None:
        from logscope.pipeline import load_packs

        packs = load_packs()
    outcomes = []
    for case in labels:
        findings, code, errors = check_run(root / case["id"], packs, case["label"]["metrics"])
        outcomes.append(judge(case, findings, code, errors))
    return outcomes


# --- summaries -------------------------------------------------------------------------


@dataclass
class Summary:
    broken: int
    detected: int
    healthy: int
    false_alarms: int
    delays: list[int]
    duplicates: int
    exit_agree: int
    total: int
    early: int
    onset_errors: list[int] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.detected / self.broken if self.broken else None

    @property
    def fp_rate(self) -> float | None:
        return self.false_alarms / self.healthy if self.healthy else None

    @property
    def median_delay(self) -> float | None:
        late = self.delays
        return statistics.median(late) if late else None

    @property
    def median_onset_error(self) -> float | None:
        """Findings' own `onset` vs the labelled onset (logged points), where they give one."""
        return statistics.median(self.onset_errors) if self.onset_errors else None

    @property
    def duplicate_rate(self) -> float | None:
        return self.duplicates / self.detected if self.detected else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "broken": self.broken,
            "detected": self.detected,
            "recall": self.recall,
            "healthy": self.healthy,
            "false_alarms": self.false_alarms,
            "fp_rate": self.fp_rate,
            "median_delay": self.median_delay,
            "dated_before_onset": self.early,
            "median_onset_error": self.median_onset_error,
            "duplicates": self.duplicates,
            "duplicate_rate": self.duplicate_rate,
            "exit_code_agreement": self.exit_agree / self.total if self.total else None,
        }


def summarise(outcomes: list[Outcome]) -> Summary:
    broken = [o for o in outcomes if not o.healthy]
    healthy = [o for o in outcomes if o.healthy]
    delays = [o.delay for o in broken if o.detected and o.delay is not None]
    return Summary(
        broken=len(broken),
        detected=sum(o.detected for o in broken),
        healthy=len(healthy),
        false_alarms=sum(bool(o.unexpected) for o in healthy),
        delays=delays,
        duplicates=sum(o.duplicate for o in broken),
        exit_agree=sum(o.exit_code == o.expected_exit for o in outcomes),
        total=len(outcomes),
        early=sum(d < 0 for d in delays),
        onset_errors=[o.onset_error for o in broken if o.onset_error is not None],
    )


def grouped(outcomes: list[Outcome], key: str) -> dict[str, Summary]:
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(str(getattr(o, key)), []).append(o)
    return {name: summarise(group) for name, group in sorted(groups.items())}
