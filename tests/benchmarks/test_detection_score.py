"""The detection benchmark's scoring rules on hand-made outcomes (no runs generated)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "detection"))

from detect_score import judge, summarise

POINTS = [10, 20, 30, 40, 50, 60, 70, 80]


def case(pathology: str = "kl-high", severity: str = "warning", **label: Any) -> dict[str, Any]:
    base = {
        "pathology": pathology,
        "metrics": ["kl"] if pathology != "healthy" else [],
        "onset": 40 if pathology != "healthy" else None,
        "severity": severity if pathology != "healthy" else "none",
        "points": POINTS if pathology != "healthy" else [],
        "also": [],
    }
    base.update(label)
    return {"id": "x", "family": "grpo", "format": "jsonl", "label": base}


def finding(
    metric: str = "kl", step: int = 50, severity: str = "warning", **extra: Any
) -> dict[str, Any]:
    return {
        "rule": f"r/{metric}",
        "severity": severity,
        "metric": metric,
        "step": step,
        "message": "m",
        **extra,
    }


def test_detected_when_a_warning_names_a_label_metric_and_delay_counts_logged_points() -> None:
    o = judge(case(), [finding(step=60)], 0, [])
    assert o.status == "detected" and o.delay == 2 and not o.duplicate


def test_info_findings_and_other_metrics_do_not_detect() -> None:
    o = judge(case(), [finding(severity="info"), finding(metric="loss")], 0, [])
    assert o.status == "missed"
    assert [f["metric"] for f in o.unexpected] == ["loss"]


def test_a_finding_dated_before_the_onset_has_a_negative_delay() -> None:
    o = judge(case(), [finding(step=20)], 0, [])
    assert o.delay == -2
    assert summarise([o]).early == 1


def test_onset_field_is_scored_separately_from_step() -> None:
    o = judge(case(), [finding(step=70, onset=40)], 0, [])
    assert (o.delay, o.onset_error) == (3, 0)


def test_two_findings_on_one_problem_are_a_duplicate_unless_one_incident() -> None:
    two = [finding(step=50), finding(metric="kl", step=60, severity="error")]
    assert judge(case(), two, 1, []).duplicate
    grouped = [dict(f, incident=1) for f in two]
    assert not judge(case(), grouped, 1, []).duplicate


def test_secondary_symptoms_are_neither_detection_nor_unexpected() -> None:
    o = judge(case(also=["loss"]), [finding(metric="loss")], 0, [])
    assert o.status == "missed" and not o.unexpected


def test_any_warning_on_a_healthy_run_is_a_false_alarm_and_info_is_not() -> None:
    assert judge(case("healthy"), [finding(severity="info")], 0, []).status == "silent"
    alarm = judge(case("healthy"), [finding()], 0, [])
    s = summarise([alarm])
    assert alarm.status == "false-alarm" and (s.false_alarms, s.fp_rate) == (1, 1.0)


def test_exit_code_agreement_follows_the_label_severity() -> None:
    runs = [
        judge(case(severity="error"), [finding(severity="error")], 1, []),
        judge(case(severity="error"), [finding()], 0, []),
        judge(case(), [finding(severity="error")], 1, []),
        judge(case("healthy"), [], 0, []),
    ]
    s = summarise(runs)
    assert (s.exit_agree, s.total, s.recall) == (2, 4, 1.0)
