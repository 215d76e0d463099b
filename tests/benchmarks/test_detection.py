"""The detection benchmark's fast subset as a regression gate.

It regenerates the subset (deterministic) and checks every run with the rules of this
tree: a scenario recorded as detected in benchmarks/detection/expected.json must stay
detected, a healthy run recorded as silent must stay silent. Improvements (a miss now
detected, a false alarm gone) pass and are listed; record them with
`python benchmarks/detection/run.py --fast --update-expected`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "detection"
sys.path.insert(0, str(BENCH))

import detect_bench  # noqa: E402
import detect_generate  # noqa: E402
import detect_scenarios  # noqa: E402

UPDATE = "python benchmarks/detection/run.py --fast --update-expected"


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    return detect_bench.evaluate(tmp_path_factory.mktemp("detection"), fast=True)


@pytest.fixture(scope="module")
def expected() -> dict[str, str]:
    cases: dict[str, str] = json.loads(detect_bench.EXPECTED.read_text())["cases"]
    return cases


def _lines(outcomes: list[Any], ids: list[str]) -> str:
    by_id = {o.id: o for o in outcomes}
    out = []
    for case in ids:
        o = by_id[case]
        seen = [f"{f['severity']} {f['rule']} [{f['metric']}] step {f['step']}" for f in o.findings]
        out.append(f"  {case}: {o.status}; findings: {seen or 'none'}")
    return "\n".join(out)


def test_expected_file_lists_exactly_the_fast_subset(
    outcomes: list[Any], expected: dict[str, str]
) -> None:
    generated = {o.id for o in outcomes}
    assert set(expected) == generated, (
        f"expected.json is stale (missing {sorted(generated - set(expected))[:5]}, "
        f"gone {sorted(set(expected) - generated)[:5]}): run {UPDATE}"
    )


def test_detected_cases_stay_detected(outcomes: list[Any], expected: dict[str, str]) -> None:
    lost = [o.id for o in outcomes if expected.get(o.id) == "detected" and o.status != "detected"]
    assert not lost, "a rule change lost detected pathologies:\n" + _lines(outcomes, lost)


def test_silent_healthy_runs_stay_silent(outcomes: list[Any], expected: dict[str, str]) -> None:
    alarms = [o.id for o in outcomes if expected.get(o.id) == "silent" and o.status != "silent"]
    assert not alarms, "a rule change added false alarms on healthy runs:\n" + _lines(
        outcomes, alarms
    )


def test_findings_come_no_later_than_recorded(outcomes: list[Any]) -> None:
    """A rule change that dates a detected problem later (a longer window, a larger
    consecutive count) fails: the delay is what a live user waits."""
    recorded: dict[str, int] = json.loads(detect_bench.EXPECTED.read_text())["delays"]
    later = [
        f"  {o.id}: {o.delay} logged points (recorded {recorded[o.id]})"
        for o in outcomes
        if o.id in recorded and o.delay is not None and o.delay > recorded[o.id]
    ]
    assert not later, "findings now come later:\n" + "\n".join(later)


def test_targets_hold_on_the_fast_subset(outcomes: list[Any]) -> None:
    """The issue's targets, on the subset: median delay <= 2 logged points, no pathology
    reported twice, no finding dated before its problem began, the exit code as labelled."""
    total = detect_bench.summarise(outcomes)
    assert total.median_delay is not None and total.median_delay <= 2, total.median_delay
    dups = [o.id for o in outcomes if o.duplicate]
    assert not dups, "reported twice (not one incident):\n" + _lines(outcomes, dups)
    early = [o.id for o in outcomes if o.delay is not None and o.delay < 0]
    assert not early, "dated before the labelled onset:\n" + _lines(outcomes, early)
    wrong = [o.id for o in outcomes if o.exit_code != o.expected_exit]
    assert not wrong, "exit code not as labelled:\n" + _lines(outcomes, wrong)


def test_every_run_is_read(outcomes: list[Any]) -> None:
    """Exit code 2 (unreadable input, discovery finding several runs) is a benchmark bug."""
    broken = [f"{o.id}: {o.errors}" for o in outcomes if o.errors]
    assert not broken, "\n".join(broken)


def test_labels_are_well_formed() -> None:
    """Every pathology names metrics, a severity and an onset among its logged points;
    there are at least as many healthy runs as broken ones."""
    healthy = broken = 0
    for s in detect_scenarios.scenarios(long_runs=False):
        label = s.label
        if label.pathology == detect_scenarios.HEALTHY:
            healthy += 1
            assert label.onset is None and not label.metrics
            continue
        broken += 1
        assert label.metrics and label.severity in ("warning", "error"), s.id
        assert label.onset in label.points, s.id
    assert healthy >= broken


def test_generation_is_deterministic(tmp_path: Path) -> None:
    picked = list(detect_scenarios.scenarios(fast_only=True))[::25]
    for s in picked:
        detect_generate.write_scenario(tmp_path / "a", s)
    again = {s.id: s for s in detect_scenarios.scenarios(fast_only=True)}
    for s in picked:
        detect_generate.write_scenario(tmp_path / "b", again[s.id])
    first = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    assert first
    for rel in first:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
