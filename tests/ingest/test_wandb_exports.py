"""W&B chart exports (several runs per CSV) and history exports (`run.history()` saved as
CSV, Parquet or JSONL), plus any CSV/Parquet with a step column."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from logscope.ingest import read_run, read_runs

EXPORT = (
    '"Step","brisk-pond-1 - train/loss","brisk-pond-1 - train/loss__MIN",'
    '"brisk-pond-1 - train/loss__MAX","brisk-pond-1 - train/grad_norm",'
    '"brisk-pond-1 - train/grad_norm__MIN","brisk-pond-1 - train/grad_norm__MAX",'
    '"Group: exp - 2 - train/loss","Group: exp - 2 - train/loss__MIN",'
    '"Group: exp - 2 - train/loss__MAX"\n'
    "0,1.5,1.5,1.5,0.5,0.5,0.5,,,\n"
    "1,1.4,1.3,1.45,NaN,NaN,NaN,2.0,2.0,2.0\n"
    "2,1.2,1.2,1.2,Infinity,Infinity,Infinity,1.9,1.8,2.0\n"
    "3,,,,,,,1.7,1.7,1.7\n"
)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "wandb_export_2022-08-08T11_24_12.761+02_00.csv"
    path.write_text(EXPORT)
    return path


def history_frame() -> pd.DataFrame:
    """What `run.history()` returns: _step, _runtime, _timestamp, metrics (nested with '.')."""
    return pd.DataFrame(
        {
            "_step": [0, 1, 2, 3],
            "_runtime": [1.0, 2.0, 3.0, 4.0],
            "_timestamp": [1.7e9, 1.7e9 + 1, 1.7e9 + 2, 1.7e9 + 3],
            "train/loss": [1.0, 0.8, math.nan, 0.5],
            "train.kl": [None, 0.1, None, math.inf],
            "phase": ["a", "a", "b", "b"],
        }
    )


def test_each_run_of_a_chart_export_is_its_own_run_named_after_it(export):
    runs = read_runs(export)

    assert [r.path for r in runs] == [
        f"{export} [brisk-pond-1]",
        f"{export} [Group: exp - 2]",
    ]
    brisk, group = runs
    assert brisk.frame.get_column("step").to_list() == [0, 1, 2]
    assert brisk.frame.get_column("train/loss").to_list() == [1.5, 1.4, 1.2]
    grad = brisk.frame.get_column("train/grad_norm").to_list()
    assert grad[0] == 0.5 and math.isnan(grad[1]) and grad[2] == math.inf
    assert group.frame.get_column("step").to_list() == [1, 2, 3]
    assert group.metrics == ["train/loss"]  # run names may contain ' - '
    assert brisk.meta["wandb.name"] == "brisk-pond-1"


def test_min_max_companions_are_not_metrics_and_are_said(export):
    brisk = read_runs(export)[0]

    assert not any("__M" in m for m in brisk.metrics)
    assert any("4 __MIN/__MAX columns" in n for n in brisk.sources[0].notes)


def test_check_reports_each_exported_run_with_its_findings(cli, export):
    result = cli(["check", export, "--format", "json"], exit_code=1)
    runs = json.loads(result.stdout)["runs"]

    assert [r["path"].rsplit(" [", 1)[1] for r in runs] == ["brisk-pond-1]", "Group: exp - 2]"]
    assert ("common/grad-norm-nonfinite", 1) in [
        (f["rule"], f["step"]) for f in runs[0]["findings"]
    ]
    assert runs[1]["status"] == "pass"


def test_an_export_next_to_other_logs_is_found_by_folder(cli, export):
    (export.parent / "metrics.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    (export.parent / "dataset.csv").write_text("prompt,answer\nhi,there\n")

    runs = read_runs(export.parent)

    assert len(runs) == 3
    assert runs[0].sources[0].path.endswith("metrics.jsonl")  # dataset.csv is no log
    assert len(runs[0].sources) == 1


def test_a_custom_x_axis_that_is_no_step_falls_back_to_the_run_step(tmp_path):
    path = tmp_path / "wandb_export.csv"
    path.write_text(
        '"epoch","r1 - _step","r1 - _step__MIN","r1 - _step__MAX","r1 - loss","r1 - loss__MIN","r1 - loss__MAX"\n'
        "0.5,10,10,10,1.0,1.0,1.0\n1.5,20,20,20,0.5,0.5,0.5\n"
    )

    (run,) = read_runs(path)

    assert run.frame.get_column("step").to_list() == [10, 20]
    assert any("x axis 'epoch' is not a step" in n for n in run.sources[0].notes)


def test_a_metric_named_like_the_x_axis_is_said_not_lost_silently(tmp_path):
    path = tmp_path / "wandb_export.csv"
    columns = [
        f"{run} - {m}{c}"
        for run, m in (("a", "loss"), ("a", "step"), ("b", "loss"))
        for c in ("", "__MIN", "__MAX")
    ]
    rows = ["1,1.0,1.0,1.0,7,7,7,2.0,2.0,2.0", "2,0.5,0.5,0.5,8,8,8,1.0,1.0,1.0"]
    path.write_text("\n".join([",".join(["Step", *columns]), *rows]) + "\n")

    runs = {run.path.rsplit(" [", 1)[1][:-1]: run for run in read_runs(path)}

    assert runs["a"].frame.get_column("step").to_list() == [1, 2]
    assert runs["a"].metrics == ["loss"] and runs["b"].metrics == ["loss"]
    assert any("'a - step' is named like the x axis" in n for n in runs["a"].sources[0].notes)


@pytest.mark.parametrize("kind", ["csv", "parquet", "jsonl"])
def test_history_exports_keep_step_wall_time_and_metrics(tmp_path, kind):
    frame = history_frame()
    path = tmp_path / f"history.{kind}"
    if kind == "csv":
        frame.to_csv(path, na_rep="NaN")  # pandas writes its index as an unnamed column
    elif kind == "parquet":  # pandas' to_parquet would store NaN as null; Polars keeps it
        pl.from_pandas(frame, nan_to_null=False).write_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True)

    run = read_run(path)

    assert run.frame.get_column("step").to_list() == [0, 1, 2, 3]
    assert run.frame.get_column("wall_time").to_list()[0] == 1.7e9
    loss = run.frame.get_column("train/loss").to_list()
    assert loss[:2] == [1.0, 0.8] and loss[3] == 0.5
    if kind != "jsonl":  # pandas' to_json writes NaN and inf as null
        assert math.isnan(loss[2])
        assert run.frame.get_column("train.kl").to_list()[3] == math.inf
    assert run.meta["phase"] == "b"
    assert "" not in run.metrics and "Unnamed: 0" not in run.metrics


def test_a_history_csv_with_default_nan_cells_says_nan_became_missing(tmp_path):
    path = tmp_path / "history.csv"
    history_frame().to_csv(path, index=False)

    run = read_run(path)

    assert run.frame.get_column("train/loss").to_list()[2] is None
    assert any("writes NaN as an empty cell" in n for n in run.sources[0].notes)


def test_a_generic_csv_with_a_step_column_and_bad_cells(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("global_step,loss,lr\n1,0.5,1e-5\n2,oops,1e-5\n3,0.25,1e-5,extra\n4,0.2")

    run = read_run(path)

    assert run.frame.get_column("step").to_list() == [1, 2, 3, 4]
    assert run.frame.get_column("loss").to_list() == [0.5, None, 0.25, 0.2]
    messages = [(p.line, p.message) for p in run.problems]
    assert any("more fields than the header" in m for _, m in messages)
    assert (3, "'loss' has 1 non-numeric value(s) such as 'oops'; read as missing") in messages
    assert any(line == 5 and "no line end" in m for line, m in messages)


@pytest.mark.parametrize("data", [b"", b"\xff\xfe\x00garbage", b"PAR1" + b"\x00" * 20])
def test_unreadable_tables_are_reported_not_raised(tmp_path, data):
    for name in ("bad.csv", "bad.parquet"):
        path = tmp_path / name
        path.write_bytes(data)

        run = read_run(path) if data else None

        if run is not None:
            assert run.frame.height == 0
            assert run.problems


def test_hostile_names_in_an_export_stay_plain_names(tmp_path):
    path = tmp_path / "export.csv"
    name = "<img src=x onerror=alert(1)>"
    path.write_text(f'"Step","{name} - loss","{name} - loss__MIN","{name} - loss__MAX"\n1,2,2,2\n')

    (run,) = read_runs(path)

    assert run.path.endswith(f"[{name}]")
    assert pl.Series(run.metrics).to_list() == ["loss"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_logscope_export_reads_back_identically(cli, samples, tmp_path, suffix):
    out = tmp_path / f"metrics{suffix}"
    cli(["export", samples / "verl_wandb", "-o", out])

    original, again = read_run(samples / "verl_wandb"), read_run(out)

    assert again.frame.equals(original.frame)  # NaN at step 88 included
    assert again.problems == []


def test_one_run_of_an_export_is_named_as_reports_name_it(cli, export):
    run = read_run(f"{export} [Group: exp - 2]")

    assert run.frame.get_column("step").to_list() == [1, 2, 3]
    result = cli(["metrics", f"{export} [brisk-pond-1]"])
    assert "train/grad_norm" in result.stdout
    error = cli(["check", f"{export} [nobody]"], exit_code=2)
    assert "holds no run named 'nobody'" in error.output
