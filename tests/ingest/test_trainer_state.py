"""Hugging Face `trainer_state.json`, alone and in an output dir with checkpoint copies."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import logscope
from logscope.ingest import read_run

NAN_STEP = 30


def history(last_step: int) -> list[dict[str, Any]]:
    """log_history as Trainer writes it: train lines, eval lines, then a train_runtime summary."""
    entries: list[dict[str, Any]] = []
    for step in range(10, last_step + 1, 10):
        entries.append(
            {
                "epoch": step / 100,
                "grad_norm": float("nan") if step == NAN_STEP else 1.0 + step / 1000,
                "learning_rate": 5e-5,
                "loss": 2.0 - step / 100,
                "step": step,
            }
        )
        if step % 50 == 0:
            entries.append(
                {
                    "epoch": step / 100,
                    "eval_loss": 1.5 - step / 1000,
                    "eval_runtime": 3.2,
                    "eval_samples_per_second": 100.0,
                    "step": step,
                }
            )
    entries.append(
        {
            "epoch": last_step / 100,
            "step": last_step,
            "total_flos": 1.2e15,
            "train_loss": 1.4,
            "train_runtime": 321.5,
            "train_samples_per_second": 9.9,
            "train_steps_per_second": 0.31,
        }
    )
    return entries


def write_state(folder: Path, last_step: int, **overrides: Any) -> Path:
    state: dict[str, Any] = {
        "best_metric": None,
        "best_model_checkpoint": None,
        "epoch": last_step / 100,
        "eval_steps": 50,
        "global_step": last_step,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": history(last_step),
        "logging_steps": 10,
        "max_steps": 100,
        "num_train_epochs": 1,
        "save_steps": 50,
        "total_flos": 1.2e15,
        "train_batch_size": 8,
        "trial_name": None,
        "trial_params": None,
    }
    state.update(overrides)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "trainer_state.json"
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    return path


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    out = tmp_path / "output"
    write_state(out, 100)
    write_state(out / "checkpoint-50", 50)
    write_state(out / "checkpoint-100", 100)
    return out


def state_sources(run: logscope.run.Run) -> list[str]:
    return [s.path for s in run.sources if s.format == "trainer_state"]


def test_only_the_most_complete_copy_is_read(output_dir):
    run = read_run(output_dir)

    # root and checkpoint-100 both reach step 100: the root copy (saved last) is read
    assert state_sources(run) == [str(output_dir / "trainer_state.json")]
    assert len(run.sources) == 1
    assert run.steps == {"first": 10, "last": 100, "count": 10}
    assert run.resumes == []
    assert any("3 trainer_state.json" in note for note in run.notes)


def test_highest_global_step_wins_over_folder_order(tmp_path):
    out = tmp_path / "output"
    write_state(out, 40)  # a stale root copy from an earlier session
    write_state(out / "checkpoint-9", 90)
    write_state(out / "checkpoint-10", 100)
    write_state(out / "checkpoint-100", 70, log_history=history(70))
    run = read_run(out)

    assert state_sources(run) == [str(out / "checkpoint-10" / "trainer_state.json")]
    assert run.steps["last"] == 100


def test_nan_grad_norm_is_preserved(output_dir):
    path = output_dir / "trainer_state.json"
    assert b'"grad_norm": NaN' in path.read_bytes()
    run = read_run(output_dir)

    grad = dict(zip(run.frame["step"].to_list(), run.frame["grad_norm"].to_list(), strict=False))
    assert math.isnan(grad[NAN_STEP])
    assert grad[20] == pytest.approx(1.02)
    assert sum(math.isnan(v) for v in grad.values()) == 1


def test_eval_lines_merge_with_train_lines(output_dir):
    run = read_run(output_dir)

    row = run.frame.filter(run.frame["step"] == 50).row(0, named=True)
    assert row["loss"] == pytest.approx(1.5)
    assert row["eval_loss"] == pytest.approx(1.45)
    assert run.frame.filter(run.frame["step"] == 40)["eval_loss"].to_list() == [None]


def test_train_runtime_summary_line_does_not_break_the_last_step(output_dir):
    run = read_run(output_dir)

    last = run.frame.filter(run.frame["step"] == 100).row(0, named=True)
    assert last["loss"] == pytest.approx(1.0)
    assert last["eval_loss"] == pytest.approx(1.4)
    assert run.frame.height == 10
    assert run.problems == []


def test_state_fields_are_metadata(output_dir):
    run = read_run(output_dir)

    assert run.meta["global_step"] == 100
    assert run.meta["max_steps"] == 100
    assert "global_step" not in run.metrics
    assert "max_steps" not in run.metrics


def test_reading_the_file_directly(output_dir):
    path = output_dir / "checkpoint-50" / "trainer_state.json"
    run = read_run(path)

    assert state_sources(run) == [str(path)]
    assert run.steps == {"first": 10, "last": 50, "count": 5}


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_truncated_file_is_a_problem_not_a_crash(tmp_path, cut):
    path = write_state(tmp_path / "run", 100)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    run = read_run(path)

    assert len(run.problems) == 1
    assert run.problems[0].path == str(path)
    assert "cut short" in run.problems[0].message
    # the complete entries before the cut are kept, none after it is made up
    whole = read_run(write_state(tmp_path / "whole", 100))
    read = run.frame.get_column("step").to_list()
    assert 0 < len(read) <= whole.frame.height
    assert read == whole.frame.get_column("step").to_list()[: len(read)]
    assert (
        run.frame.get_column("loss").to_list()
        == whole.frame.get_column("loss").to_list()[: len(read)]
    )


def test_binary_file_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "trainer_state.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 50)
    run = read_run(path)

    assert run.frame.height == 0
    assert len(run.problems) == 1


def test_truncated_root_copy_falls_back_to_a_checkpoint(tmp_path):
    out = tmp_path / "output"
    root = write_state(out, 100)
    root.write_bytes(root.read_bytes()[:500])  # crash while saving
    write_state(out / "checkpoint-50", 50)
    run = read_run(out)

    assert state_sources(run) == [str(out / "checkpoint-50" / "trainer_state.json")]
    assert run.steps["last"] == 50


@pytest.mark.parametrize("log_history", [{"loss": 1.0}, "oops", None, 3])
def test_non_list_log_history_is_a_problem(tmp_path, log_history):
    path = write_state(tmp_path / "run", 100, log_history=log_history)
    run = read_run(path)

    assert run.frame.height == 0
    assert len(run.problems) == 1
    assert "log_history" in run.problems[0].message


def test_non_object_entries_in_log_history_are_problems(tmp_path):
    entries: list[Any] = history(30)
    entries.insert(1, "garbage")
    entries.insert(3, [1, 2])
    path = write_state(tmp_path / "run", 30, log_history=entries)
    run = read_run(path)

    assert run.frame["step"].to_list() == [10, 20, 30]
    assert len(run.problems) == 2


def test_empty_log_history_gives_an_empty_run(tmp_path):
    path = write_state(tmp_path / "run", 0, log_history=[])
    run = read_run(path)

    assert run.frame.height == 0
    assert run.frame.columns == ["step", "wall_time"]


def test_trainer_state_and_jsonl_of_one_run_merge(output_dir):
    lines = [{"step": s, "rewards/margins": s / 100} for s in range(10, 101, 10)]
    (output_dir / "logs").mkdir()
    (output_dir / "logs" / "metrics.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines)
    )
    run = read_run(output_dir)

    assert len(run.sources) == 2
    assert run.frame.height == 10
    row = run.frame.filter(run.frame["step"] == 60).row(0, named=True)
    assert row["rewards/margins"] == pytest.approx(0.6)
    assert row["loss"] == pytest.approx(1.4)
