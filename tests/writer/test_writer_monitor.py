"""Live monitoring: findings announced once, stop_on, cadence, and failures that never raise."""

from __future__ import annotations

import io
import json
import logging
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import logscope
from logscope.pipeline import check, load_packs
from logscope.writer import MetricWriter, Monitor, banner, jsonl, live
from logscope.writer.live import LiveCheck

PACK = """\
pack: t
rules:
  - id: t/loss-high
    severity: warning
    metric: loss
    check: threshold
    op: ">"
    value: 10
    message: "{metric} {value:g} above 10 at step {step}"
    advice: "lower the learning rate"
    source: "test"
"""


@pytest.fixture
def pack_file(tmp_path: Path) -> Path:
    path = tmp_path / "t.yaml"
    path.write_text(PACK)
    return path


def run_rows(mon: Monitor, losses: list[float], start: int = 1) -> list[int]:
    """Log one loss per step; return the steps at which should_stop was first seen."""
    stops = []
    for step, loss in enumerate(losses, start):
        mon.log({"loss": loss, "grad_norm": 1.0}, step=step)
        if mon.should_stop and not stops:
            stops.append(step)
    return stops


def test_nan_is_announced_once_and_stops_training(tmp_path: Path) -> None:
    out = io.StringIO()
    mon = logscope.monitor(tmp_path, stop_on="error", every=1, stream=out)
    stops = run_rows(mon, [2.0, 1.9, 1.8, math.nan, math.nan, 1.5, math.inf])
    mon.close()
    assert stops == [4]
    assert mon.stop_reason is not None and mon.stop_reason.rule == "common/loss-nonfinite"
    assert mon.stop_step == 4
    text = out.getvalue()
    assert text.count("logscope ERROR") == 1  # once per rule+metric, NaN after NaN or not
    assert "logscope ERROR at step 4: common/loss-nonfinite" in text
    assert 'Stopping training (stop_on="error")' in text
    assert [(f.rule, f.metric) for f in mon.findings] == [("common/loss-nonfinite", "loss")]
    stopped = json.loads((tmp_path / "run.json").read_text())["stopped"]
    assert stopped["rule"] == "common/loss-nonfinite" and stopped["step"] == 4
    assert stopped["value"] == "NaN" and stopped["stop_on"] == "error"


def test_nan_is_caught_on_its_row_whatever_the_cadence() -> None:
    mon = logscope.monitor(None, stop_on="error", every=1000, stream=io.StringIO())
    assert run_rows(mon, [2.0] * 50 + [math.nan]) == [51]
    assert mon.check_rows is not None and mon.check_rows.evaluations == 1


@pytest.mark.parametrize(
    ("stop_on", "losses", "stops"),
    [
        (None, [1.0, math.nan], []),  # announce only
        ("error", [1.0, 50.0, 60.0], []),  # a warning does not stop an error-level monitor
        ("warning", [1.0, 50.0, 60.0], [2]),
        ("info", [1.0, 50.0], [2]),
        ("warning", [1.0, 2.0, math.nan], [3]),  # an error is above a warning
    ],
)
def test_stop_on_levels(
    pack_file: Path, stop_on: str | None, losses: list[float], stops: list[int]
) -> None:
    mon = logscope.monitor(
        None,
        stop_on=stop_on,
        every=1,
        rules=[pack_file],
        select=["t", "common"],
        stream=io.StringIO(),
    )
    assert run_rows(mon, losses) == stops
    assert mon.should_stop is bool(stops)


def test_each_rule_and_metric_is_announced_once(pack_file: Path) -> None:
    out = io.StringIO()
    mon = logscope.monitor(None, every=1, rules=[pack_file], select=["t"], stream=out)
    for step in range(1, 6):
        mon.log({"loss": 50.0, "train/loss": 60.0}, step=step)
    mon.close()
    assert sorted((f.rule, f.metric) for f in mon.findings) == [
        ("t/loss-high", "loss"),
        ("t/loss-high", "train/loss"),
    ]
    assert out.getvalue().count("logscope WARNING") == 2
    assert out.getvalue().count("logscope: 2 finding(s) (2 warnings)") == 1


def test_banner_looks_like_003s_warning_system_and_escapes_control_characters() -> None:
    mon = logscope.monitor(None, every=1, stream=io.StringIO())
    mon.log({"\x1b[2Jloss": math.nan}, step=3)
    (finding,) = mon.findings
    text = banner(finding, stop_on="error", log="runs/x")
    lines = text.splitlines()
    assert lines[0] == lines[-1] == "!" * 78
    assert lines[1] == "  logscope ERROR at step 3: common/loss-nonfinite"
    assert any(line.startswith("  Consider: ") for line in lines)
    assert "\x1b" not in text and "\\x1b[2Jloss" in text
    assert lines[-2] == '  Stopping training (stop_on="error"); the log is in runs/x'
    assert all(len(line) <= 78 for line in lines)


def test_info_findings_go_to_the_logger_not_a_banner(
    pack_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = io.StringIO()
    mon = logscope.monitor(
        None, every=1, announce="error", rules=[pack_file], select=["t"], stream=out
    )
    with caplog.at_level(logging.INFO, logger="logscope.monitor"):
        mon.log({"loss": 50.0}, step=1)
    assert "!!!" not in out.getvalue()
    assert "t/loss-high at step 1: loss 50 above 10 at step 1" in caplog.text


def test_only_the_writing_rank_prints_but_every_rank_decides(tmp_path: Path) -> None:
    outs = {0: io.StringIO(), 1: io.StringIO()}
    mons = {
        rank: Monitor(
            MetricWriter(tmp_path, rank=rank, world_size=2),
            stop_on="error",
            every=1,
            stream=outs[rank],
        )
        for rank in (0, 1)
    }
    for step, loss in enumerate([1.0, 1.0, math.nan], 1):
        for mon in mons.values():
            mon.log({"loss": loss}, step=step)
    assert all(mon.should_stop and mon.stop_step == 3 for mon in mons.values())
    assert "logscope ERROR" in outs[0].getvalue()
    assert outs[1].getvalue() == ""
    for mon in mons.values():
        mon.close()


def test_the_live_frame_equals_what_logscope_read_sees(tmp_path: Path) -> None:
    """Train and eval lines at one step merge; a resumed run's repeated steps: later wins."""
    mon = logscope.monitor(tmp_path, every=1000, stream=io.StringIO())
    rows: list[tuple[int, dict[str, Any]]] = [
        (1, {"loss": 2.0}),
        (2, {"loss": 1.5, "grad_norm": math.inf}),
        (2, {"eval_loss": 1.7, "kind": "eval"}),
        (3, {"loss": 1.4, "nested": {"kl": 0.1}, "flag": True, "text": "x"}),
        (2, {"loss": 1.45, "grad_norm": 1.0}),  # resumed from a checkpoint at step 1
        (3, {"loss": 1.3, "ratio": "5e-7"}),
    ]
    for step, row in rows:
        mon.log(row, step=step)
    assert mon.check_rows is not None
    live_frame = mon.check_rows.frame()
    mon.close()
    read = logscope.read(tmp_path).frame
    assert_frame_equal(
        live_frame.drop("wall_time"),
        read.drop("wall_time").select(live_frame.drop("wall_time").columns),
    )
    assert sorted(live_frame.columns) == sorted(read.columns)


def test_offline_findings_were_all_announced_live(tmp_path: Path) -> None:
    """What `logscope check` finds afterwards, the monitor announced while it ran."""
    mon = logscope.monitor(tmp_path, every=1, stream=io.StringIO())
    for step in range(1, 61):
        margin = 0.5 - step * 0.02  # negative from step 26: a KTO error
        mon.log(
            {
                "loss": 0.5 + step * 0.01,
                "grad_norm": 1.0 if step != 45 else 500.0,
                "rewards/chosen": 0.1,
                "rewards/rejected": 0.1 - margin,
                "rewards/margins": margin,
                "kl": 0.1,
            },
            step=step,
        )
    mon.close()
    (report,) = check([tmp_path], load_packs()).reports
    offline = {(f.rule, f.metric) for f in report.findings}
    assert offline, "the synthetic run should produce findings"
    assert offline <= {(f.rule, f.metric) for f in mon.findings}


def test_a_failing_evaluation_warns_once_and_training_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from logscope.rules import engine

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("rule engine exploded")

    monkeypatch.setattr(engine, "evaluate", broken)
    mon = logscope.monitor(tmp_path, stop_on="error", every=1, stream=io.StringIO())
    with caplog.at_level(logging.WARNING, logger="logscope.monitor"):
        run_rows(mon, [1.0, math.nan, 2.0])
        mon.close()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "live checks failed (RuntimeError: rule engine exploded)" in warnings[0]
    assert "the log is still written" in warnings[0]
    assert not mon.should_stop
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 3


def test_a_failing_write_warns_once_and_checks_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The one warning now comes from the writer, which keeps trying: once the disk takes
    writes again, logging resumes (issue 17)."""
    mon = logscope.monitor(tmp_path, stop_on="error", every=1, stream=io.StringIO())

    def full(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jsonl.os, "write", full)
    with caplog.at_level(logging.WARNING, logger="logscope"):
        assert run_rows(mon, [1.0, 1.0, math.nan]) == [3]
    monkeypatch.undo()
    mon.log({"loss": 0.5}, step=4)
    mon.close()
    writes = [r.getMessage() for r in caplog.records if "No space left" in r.getMessage()]
    assert len(writes) == 1 and "cannot write" in writes[0]
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in lines]
    assert steps == [4]


def test_a_broken_stream_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise ValueError("I/O operation on closed file")

    mon = logscope.monitor(None, stop_on="error", every=1, stream=Closed())
    with caplog.at_level(logging.WARNING, logger="logscope.monitor"):
        assert run_rows(mon, [1.0, math.nan]) == [2]
        mon.close()
    assert sum("printing failed" in r.getMessage() for r in caplog.records) == 1


def test_summary_is_printed_once(tmp_path: Path) -> None:
    out = io.StringIO()
    mon = logscope.monitor(tmp_path, every=1, stream=out)
    run_rows(mon, [1.0, 2.0])
    mon.summarize()
    mon.close()
    assert out.getvalue() == (
        f"logscope: no findings in 2 logged rows; full report: logscope check {tmp_path}\n"
    )


def test_options_are_checked_and_a_closed_monitor_refuses_rows() -> None:
    with pytest.raises(ValueError, match="stop_on='fatal': expected one of info, warning, error"):
        logscope.monitor(None, stop_on="fatal")
    with pytest.raises(ValueError, match="every=0"):
        logscope.monitor(None, every=0)
    mon = logscope.monitor(None, stream=io.StringIO())
    mon.close()
    with pytest.raises(ValueError, match="closed"):
        mon.log({"loss": 1.0})


def test_live_false_only_writes(tmp_path: Path) -> None:
    with logscope.monitor(tmp_path, live=False, stop_on="error") as mon:
        run_rows(mon, [math.nan])
    assert not mon.should_stop and mon.check_rows is None
    assert (tmp_path / "metrics.jsonl").exists()


def test_auto_cadence_grows_with_the_run() -> None:
    checker = LiveCheck(packs=[])
    due = []
    for step in range(1, 10_001):
        due.append(checker.add(step, None, {"loss": 1.0}))
        if due[-1]:
            checker.evaluate()
    assert checker.evaluations == sum(due)
    first_100 = sum(due[:100])
    assert first_100 == 100  # short runs: every row
    # then once per 1% of the rows so far: about 100 * ln(100) more for 10,000 rows
    assert 400 < sum(due) < 700
    last = [i for i, d in enumerate(due, 1) if d][-2:]
    assert 0.98 * 10_000 // live.AUTO_SHARE <= last[1] - last[0] <= 10_000 // live.AUTO_SHARE


def test_live_frame_is_empty_before_any_row() -> None:
    frame = LiveCheck(packs=[]).frame()
    assert frame.height == 0 and frame.schema["step"] == pl.Int64


def test_a_misspelt_option_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="announce='warn'"):
        logscope.monitor(tmp_path / "run", announce="warn")
    assert not (tmp_path / "run").exists()


def test_announce_none_shows_only_the_stop(pack_file: Path) -> None:
    out = io.StringIO()
    mon = logscope.monitor(
        None, stop_on="error", announce=None, every=1, rules=[pack_file], stream=out
    )
    run_rows(mon, [50.0, math.nan])
    text = out.getvalue()
    assert "logscope WARNING" not in text and text.count("logscope ERROR") == 1
