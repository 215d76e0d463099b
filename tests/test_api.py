"""The Python API: a sweep in one frame and a check in one call, as a notebook user needs."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import logscope
from logscope.errors import InputError, RulePackError

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def test_read_runs_gives_a_sweep_as_one_frame_with_a_run_column() -> None:
    runs = logscope.read_runs([SAMPLES / "kto_healthy", SAMPLES / "kto_diverging"])
    frame = runs.frame
    assert frame.columns[:3] == ["run", "step", "wall_time"]
    assert frame.group_by("run").len().sort("run").get_column("len").to_list() == [40, 145]
    assert len(runs) == 2 and runs.names == [
        str(SAMPLES / "kto_healthy"),
        str(SAMPLES / "kto_diverging"),
    ]
    # the same values a single read gives
    one = logscope.read(SAMPLES / "kto_diverging").frame
    mine = frame.filter(pl.col("run") == str(SAMPLES / "kto_diverging")).drop("run")
    assert mine.select(one.columns).equals(one)


def test_a_folder_of_many_runs_is_read_whole_where_read_refuses() -> None:
    with pytest.raises(InputError, match="read_runs"):
        logscope.read(SAMPLES)
    runs = logscope.read_runs(SAMPLES)
    assert len(runs) >= 20
    assert runs.metadata.height == len(runs)
    assert set(runs.metadata.get_column("run")) == set(runs.frame.get_column("run"))


def test_long_view_keeps_nan_and_leaves_out_unlogged_points() -> None:
    runs = logscope.read_runs(SAMPLES / "sft_nan_truncated")
    long = runs.long()
    assert long.columns == ["run", "step", "wall_time", "metric", "value"]
    assert long.get_column("value").is_nan().any()
    assert long.get_column("value").null_count() == 0
    wide = runs.frame
    logged = sum(wide.get_column(c).is_not_null().sum() for c in wide.columns[3:])
    assert long.height == logged
    assert runs.to_pandas().shape == wide.shape


def test_reading_something_that_is_not_a_log_raises_what_the_cli_says(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    notes = tmp_path / "notes.jsonl"
    notes.write_text("hello\n")
    with pytest.raises(InputError) as raised:
        logscope.read(notes)
    printed = cli(["check", notes], exit_code=2).stderr
    assert str(raised.value) in printed.replace("\n", "")
    with pytest.raises(InputError):
        logscope.read_runs([notes])


def test_check_matches_the_cli_json(cli) -> None:  # type: ignore[no-untyped-def]
    outcome = logscope.check(SAMPLES / "kto_diverging")
    printed = json.loads(
        cli(["check", SAMPLES / "kto_diverging", "-f", "json"], exit_code=1).stdout
    )
    assert outcome.exit_code == 1 and not outcome.passed
    mine = outcome.to_dict()
    assert [f["rule"] for f in mine["runs"][0]["findings"]] == [
        f["rule"] for f in printed["runs"][0]["findings"]
    ]
    frame = outcome.frame
    assert frame.height == len(outcome.findings) == len(printed["runs"][0]["findings"])
    assert set(frame.get_column("severity")) <= {"info", "warning", "error"}
    assert outcome.status == {str(SAMPLES / "kto_diverging"): "fail"}


def test_check_takes_runs_already_read_and_the_cli_options() -> None:
    runs = logscope.read_runs([SAMPLES / "kto_healthy", SAMPLES / "kto_diverging"])
    outcome = logscope.check(runs, select="common")
    assert {f.rule.split("/")[0] for f in outcome.findings} == {"common"}
    assert logscope.check(runs, fail_on="never").exit_code == 0
    relaxed = logscope.check(
        runs[1], set=["kto/margin-negative-after-warmup.severity=info"], select=["kto"]
    )
    severities = {f.rule: str(f.severity) for f in relaxed.findings}
    assert severities["kto/margin-negative-after-warmup"] == "info"
    healthy = logscope.check(runs[str(SAMPLES / "kto_healthy")])
    assert healthy.exit_code == 0 and healthy.frame.height == len(healthy.findings)


def test_check_reports_unreadable_paths_and_refuses_unknown_packs(tmp_path: Path) -> None:
    outcome = logscope.check(tmp_path / "missing")
    assert outcome.exit_code == 2 and outcome.errors
    with pytest.raises(RulePackError, match="no such pack"):
        logscope.check(SAMPLES / "kto_healthy", packs=["kot"])


def test_notebook_display_shows_findings_and_escapes_names() -> None:
    outcome = logscope.check(SAMPLES / "kto_diverging")
    page = outcome._repr_html_()
    assert "FAIL" in page and "kto/margin-negative-after-warmup" in page
    assert page.count("<svg") == len(outcome.findings)
    assert "<logscope.CheckOutcome: 1 runs, exit 1>" in repr(outcome)
    run = logscope.read(SAMPLES / "kto_diverging")
    run.path = "<script>alert(1)</script>"
    hostile = logscope.check(run)._repr_html_()
    assert "<script>" not in hostile and "&lt;script&gt;" in hostile


def test_notebook_display_names_runs_shortly_with_the_path_on_hover() -> None:
    sweep = logscope.check([SAMPLES / "kto_diverging", SAMPLES / "kto_healthy"])
    page = sweep._repr_html_()
    assert ">kto_diverging <span" in page and ">kto_healthy <span" in page
    assert f'title="{SAMPLES / "kto_healthy"}"' in page
