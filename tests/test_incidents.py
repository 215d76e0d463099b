"""Incidents: one event is told once, with its cause, symptoms, worst value and one action
that names the checkpoint to go back to (or says there is none) — and the verdict."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from logscope.incidents import assess, group
from logscope.model import Finding, Severity
from logscope.outcome import RunReport
from logscope.pipeline import check, load_packs
from logscope.run import Run

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def _finding(
    rule: str, severity: str, metric: str, step: int, last: int, **extra: float
) -> Finding:
    return Finding(
        rule=rule,
        severity=Severity(severity),
        metric=metric,
        step=step,
        last_step=last,
        value=1.0,
        message=f"{metric} bad from step {step}",
        advice="Stop, revert to the last checkpoint, reduce the learning rate by 50%.",
        source="test",
        extra=dict(extra),
    )


def _report(
    path: Path, findings: list[Finding], steps: int = 100, lr: float | None = 1e-5
) -> RunReport:
    data: dict[str, object] = {"step": list(range(1, steps + 1)), "wall_time": [None] * steps}
    data["loss"] = [1.0] * steps
    if lr is not None:
        data["learning_rate"] = [lr * min(1.0, i / 10) for i in range(1, steps + 1)]
    frame = pl.DataFrame(data, schema_overrides={"wall_time": pl.Float64})
    return RunReport(Run(str(path), frame), ["common"], findings=findings, evaluated=5)


CHAIN = [
    _finding(
        "common/grad-norm-explosion", "warning", "grad_norm", 60, 62, worst=5000.0, worst_step=61
    ),
    _finding("common/loss-spike", "error", "loss", 63, 64, worst=40.0, worst_step=64),
    _finding("common/loss-nonfinite", "error", "loss", 66, 70),
]


def test_a_chain_of_symptoms_is_one_incident_caused_by_the_earliest(tmp_path: Path) -> None:
    for step in (40, 65):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    (incident,) = assess(_report(tmp_path, CHAIN)).incidents
    assert incident.first_step == 60 and incident.severity is Severity.ERROR
    assert incident.cause.rule == "common/grad-norm-explosion"
    assert [f.rule for f in incident.symptoms] == [f.rule for f in CHAIN]
    assert (incident.worst.metric, incident.worst_value, incident.worst_step) == ("loss", 40.0, 64)
    # checkpoint-65 is after the onset: the one to go back to is checkpoint-40
    assert incident.checkpoint == str(tmp_path / "checkpoint-40") and incident.checkpoint_step == 40
    assert incident.action.startswith(f"Revert to {tmp_path / 'checkpoint-40'} (step 40")
    assert (
        incident.learning_rate == 5e-6
        and "5e-06 (50% below its logged peak 1e-05)" in incident.action
    )


def test_events_far_apart_are_two_incidents(tmp_path: Path) -> None:
    later = _finding("common/kl-high", "warning", "kl", 90, 95)
    assessment = assess(_report(tmp_path, [*CHAIN, later]))
    assert [i.first_step for i in assessment.incidents] == [60, 90]
    assert assessment.verdict.status == "stop" and "(1 more incident)" in assessment.verdict.reason


def test_chaining_counts_logged_steps_not_step_numbers() -> None:
    """veRL logs every step, a Trainer every 10: five logged steps apart is still one chain."""
    steps = pl.Series(range(0, 1000, 10)).to_numpy()
    a = _finding("a", "error", "loss", 100, 120)
    b = _finding("b", "error", "kl", 160, 170)  # 4 logged steps after a ends
    c = _finding("c", "error", "kl", 300, 310)
    assert [[f.rule for f in g] for g in group([c, b, a], steps)] == [["a", "b"], ["c"]]


def test_no_checkpoint_before_the_onset_is_said_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "checkpoint-80").mkdir()
    (tmp_path / "checkpoint-80" / "config.json").write_text("{}")
    (incident,) = assess(_report(tmp_path, CHAIN)).incidents
    assert incident.checkpoint is None
    assert incident.action.startswith(
        f"No checkpoint before step 60 (the first, {tmp_path / 'checkpoint-80'}, is from step 80"
    )
    assert "restart from the base model with the learning rate at 5e-06" in incident.action


def test_without_a_logged_learning_rate_no_value_is_invented(tmp_path: Path) -> None:
    (incident,) = assess(_report(tmp_path, CHAIN, lr=None)).incidents
    assert incident.learning_rate is None and "learning rate at" not in incident.action


def test_info_notes_form_no_incident_and_leave_the_run_healthy(tmp_path: Path) -> None:
    note = _finding("kto/stage-target-loss", "info", "loss", 11, 40)
    assessment = assess(_report(tmp_path, [note]))
    assert assessment.incidents == ()
    assert assessment.verdict.status == "healthy"
    assert (
        assessment.verdict.reason
        == "no warning sign in 100 logged steps (5 rule checks); 1 note below"
    )


def test_warnings_alone_say_watch(tmp_path: Path) -> None:
    assessment = assess(_report(tmp_path, [CHAIN[0]]))
    assert assessment.verdict.status == "watch"
    assert assessment.verdict.reason == "grad_norm: grad norm explosion from step 60"


def test_the_diverging_kto_sample_is_one_incident_with_an_honest_restart() -> None:
    (report,) = check([SAMPLES / "kto_diverging"], load_packs()).reports
    assessment = assess(report)
    (incident,) = assessment.incidents
    # onsets are the first bad points (issue 14): the loss first rises at step 2
    assert incident.first_step == 2 and incident.cause.rule == "common/loss-rising"
    assert len(incident.symptoms) == 9  # every warning and error finding, none twice
    assert incident.action.startswith("No checkpoint before step 2 (none found in ")
    assert "learning rate at 2.5e-07 (50% below its logged peak 5e-07)" in incident.action
    assert assessment.verdict.status == "stop" and assessment.verdict.action == incident.action


def test_the_healthy_samples_are_healthy() -> None:
    for name in ("kto_healthy", "dpo_healthy", "verl_healthy"):
        (report,) = check([SAMPLES / name], load_packs()).reports
        assert assess(report).verdict.status == "healthy", name


def test_peak_learning_rate_ignores_nulls_and_nan_as_polars_does() -> None:
    """The numpy read of the learning rate's peak equals Polars' max over its finite and
    infinite values; a column of nothing but nulls and NaN has no peak."""
    from logscope.incidents import _peak

    cases: list[list[float | None]] = [
        [None, 1e-5, float("nan"), 3e-5, None],
        [float("nan"), None],
        [],
        [2.0, float("inf")],
        [-1.0, -3.0],
    ]
    for values in cases:
        column = pl.Series("lr", values, dtype=pl.Float64)
        expected = column.drop_nulls().drop_nans().max()
        assert _peak(column) == expected
    assert _peak(pl.Series("lr", [3, None, 7])) == 7.0


def test_a_search_cut_short_says_how_far_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logscope import checkpoints

    monkeypatch.setattr(checkpoints, "MAX_FOLDERS", 3)
    run = tmp_path / "kto"
    shutil.copytree(SAMPLES / "kto_diverging", run)
    for n in range(5):
        (run / f"data_{n}").mkdir()
    (report,) = check([run], load_packs()).reports
    (incident,) = assess(report).incidents
    assert f"(none found in the first 3 folders under {run};" in incident.action
