"""JSON Lines ingestion as a user sees it through `read_run(path)`."""

from __future__ import annotations

import gzip
import math
import random
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from logscope.ingest import jsonl, read_run
from logscope.model import Problem
from logscope.run import Resume, Run


def notes_of(run: Run) -> list[str]:
    return [*run.notes, *(note for source in run.sources for note in source.notes)]


def column(run: Run, name: str) -> dict[int, float | None]:
    """step -> value of one metric."""
    return dict(zip(run.frame["step"].to_list(), run.frame[name].to_list(), strict=False))


def assert_index_contract(run: Run) -> None:
    """step Int64 strictly ascending, wall_time Float64, every metric Float64."""
    assert run.frame.columns[:2] == ["step", "wall_time"]
    assert run.frame.schema["step"] == pl.Int64
    assert run.frame.schema["wall_time"] == pl.Float64
    for name in run.metrics:
        assert run.frame.schema[name] == pl.Float64, name
    steps = run.frame["step"].to_list()
    assert steps == sorted(set(steps))


# --- schema: keys that appear late -----------------------------------------------------


def test_key_first_appearing_at_line_500_is_kept(write_jsonl):
    lines = []
    for step in range(1, 601):
        record = {"step": step, "loss": 1.0 / step}
        if step >= 500 and step % 50 == 0:
            record["eval_loss"] = step / 1000
        lines.append(record)
    run = read_run(write_jsonl(lines))

    assert_index_contract(run)
    assert run.frame.height == 600
    assert "eval_loss" in run.metrics
    evals = column(run, "eval_loss")
    assert {s: v for s, v in evals.items() if v is not None} == {
        500: 0.5,
        550: 0.55,
        600: 0.6,
    }
    assert evals[499] is None
    assert run.problems == []


def test_key_appearing_only_on_the_last_line_of_a_long_file_is_kept(write_jsonl):
    lines = [{"step": step, "loss": 0.5} for step in range(1, 3001)]
    lines.append({"step": 3001, "eval/gsm8k/accuracy/mean@4": 0.75})
    run = read_run(write_jsonl(lines))

    assert column(run, "eval/gsm8k/accuracy/mean@4")[3001] == 0.75
    assert run.frame.height == 3001


# --- non-finite values and numeric text ------------------------------------------------


def test_bare_and_quoted_nonfinite_values_read_as_floats(write_jsonl):
    nan, inf = float("nan"), float("inf")
    lines = [
        {"step": 1, "a": nan, "b": inf, "c": -inf},  # json.dumps writes bare NaN/Infinity
        {"step": 2, "a": "NaN", "b": "Infinity", "c": "-Infinity"},
        {"step": 3, "a": 1.5, "b": 2.5, "c": 3.5},
    ]
    path = write_jsonl(lines)
    assert b": NaN" in path.read_bytes() and b": -Infinity" in path.read_bytes()
    run = read_run(path)

    assert_index_contract(run)
    a, b, c = column(run, "a"), column(run, "b"), column(run, "c")
    for step in (1, 2):
        assert a[step] is not None and math.isnan(a[step])
        assert b[step] == inf
        assert c[step] == -inf
    assert (a[3], b[3], c[3]) == (1.5, 2.5, 3.5)
    assert run.problems == []


@pytest.mark.parametrize("at", [1, 17, 250, 500])
def test_a_nan_among_many_clean_lines_is_kept_at_its_step(write_jsonl, at):
    lines = [
        {"step": s, "grad_norm": float("nan") if s == at else 0.25, "loss": 1.0}
        for s in range(1, 501)
    ]
    run = read_run(write_jsonl(lines))

    grad = column(run, "grad_norm")
    assert math.isnan(grad[at])
    assert sum(1 for v in grad.values() if math.isnan(v)) == 1
    assert run.frame.height == 500
    assert run.problems == []


def test_nonfinite_inside_nested_objects_and_mixed_with_numbers(write_jsonl):
    lines = [
        {"step": 1, "eval": {"loss": float("nan"), "acc": 0.5}},
        {"step": 2, "eval": {"loss": float("inf"), "acc": 0.6}},
        {"step": 3, "eval": {"loss": 0.75, "acc": float("-inf")}},
    ]
    run = read_run(write_jsonl(lines))

    loss, acc = column(run, "eval/loss"), column(run, "eval/acc")
    assert math.isnan(loss[1]) and loss[2] == math.inf and loss[3] == 0.75
    assert acc == {1: 0.5, 2: 0.6, 3: -math.inf}


def test_numeric_strings_are_numbers(write_jsonl):
    lines = [
        {"step": 1, "learning_rate": "5e-7", "loss": " 0.5 "},
        {"step": 2, "learning_rate": "1E-06", "loss": "-2"},
    ]
    run = read_run(write_jsonl(lines))

    assert column(run, "learning_rate") == {1: 5e-7, 2: 1e-6}
    assert column(run, "loss") == {1: 0.5, 2: -2.0}
    assert run.problems == []


@pytest.mark.parametrize("lines_before", [0, 40])
def test_nan_text_inside_a_string_does_not_corrupt_other_values(write_jsonl, lines_before):
    lines: list[dict | str] = [{"step": s, "loss": 2.0} for s in range(1, lines_before + 1)]
    lines += [
        {"step": lines_before + 1, "note": "x: NaN, y", "loss": 1.0},
        {"step": lines_before + 2, "note": "[NaN, Infinity] and :-Infinity,", "loss": float("nan")},
        {"step": lines_before + 3, "note": "a: null, b", "loss": 3.0},
    ]
    run = read_run(write_jsonl(lines))

    loss = column(run, "loss")
    assert loss[lines_before + 1] == 1.0
    assert math.isnan(loss[lines_before + 2])
    assert loss[lines_before + 3] == 3.0
    assert run.frame.height == lines_before + 3
    assert "note" not in run.metrics
    assert run.meta["note"] == "a: null, b"
    assert run.problems == []


def test_nan_text_inside_a_key_does_not_lose_the_line(write_jsonl):
    lines = [{"step": 1, "odd: NaN, key": 1.0, "loss": float("nan")}, {"step": 2, "loss": 2.0}]
    run = read_run(write_jsonl(lines))

    assert column(run, "odd: NaN, key") == {1: 1.0, 2: None}
    assert math.isnan(column(run, "loss")[1])
    assert run.problems == []


# --- what is not a metric ---------------------------------------------------------------


def test_non_numeric_strings_are_metadata_not_metrics(write_jsonl):
    lines = [
        {"step": 12, "loss": 0.5, "global_step/max_steps": "12/200", "elapsed_time": "1m 3s"},
        {"step": 13, "loss": 0.4, "global_step/max_steps": "13/200", "elapsed_time": "1m 9s"},
    ]
    run = read_run(write_jsonl(lines))

    assert run.metrics == ["loss"]
    assert run.meta["global_step/max_steps"] == "13/200"
    assert run.meta["elapsed_time"] == "1m 9s"
    assert run.problems == []


def test_booleans_are_not_metrics(write_jsonl):
    lines = [{"step": 1, "loss": 0.5, "is_eval": False}, {"step": 2, "loss": 0.4, "is_eval": True}]
    run = read_run(write_jsonl(lines))

    assert run.metrics == ["loss"]
    assert run.problems == []


def test_boolean_metadata_is_the_last_value_not_a_list(write_jsonl):
    lines = [{"step": 1, "loss": 0.5, "is_eval": False}, {"step": 2, "loss": 0.4, "is_eval": True}]
    run = read_run(write_jsonl(lines))

    # like text metadata ('elapsed_time': '1m 9s'): the last value, as one scalar
    assert run.meta["is_eval"] in (True, "true")


def test_lists_are_not_metrics_and_do_not_fail(write_jsonl):
    lines = [{"step": 1, "loss": 0.5, "tokens": [1, 2, 3]}, {"step": 2, "loss": 0.4, "tokens": []}]
    run = read_run(write_jsonl(lines))

    assert run.metrics == ["loss"]
    assert run.problems == []


def test_nested_objects_flatten_with_slash(write_jsonl):
    lines = [
        {"step": 1, "a": {"b": 1}, "x": {"y": {"z": 2.5}}},
        {"step": 2, "a": {"b": 3}, "x": {"y": {"z": 4.5}}},
    ]
    run = read_run(write_jsonl(lines))

    assert sorted(run.metrics) == ["a/b", "x/y/z"]
    assert column(run, "a/b") == {1: 1.0, 2: 3.0}
    assert column(run, "x/y/z") == {1: 2.5, 2: 4.5}


# --- step keys --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["step", "global_step", "_step", "train/global_step"])
def test_each_step_key_gives_the_step(write_jsonl, key):
    lines = [{key: step, "loss": step / 100} for step in (10, 20, 30)]
    run = read_run(write_jsonl(lines))

    assert run.frame["step"].to_list() == [10, 20, 30]
    assert key not in run.metrics
    assert column(run, "loss") == {10: 0.1, 20: 0.2, 30: 0.3}
    assert not any("line numbers" in note for note in notes_of(run))


def test_nested_train_global_step_is_a_step_key(write_jsonl):
    lines = [{"train": {"global_step": step, "loss": 0.5}} for step in (5, 10)]
    run = read_run(write_jsonl(lines))

    assert run.frame["step"].to_list() == [5, 10]
    assert run.metrics == ["train/loss"]


def test_without_a_step_key_line_numbers_are_steps_and_a_note_says_so(write_jsonl):
    lines = [{"loss": 0.9}, {"loss": 0.8}, "", {"loss": 0.7}]
    run = read_run(write_jsonl(lines))

    assert column(run, "loss") == {1: 0.9, 2: 0.8, 4: 0.7}
    assert any("line numbers" in note for note in notes_of(run))


# --- merging and resumes ----------------------------------------------------------------


def test_train_and_eval_lines_at_one_step_merge_into_one_row(write_jsonl):
    lines = [
        {"step": 10, "loss": 0.5, "learning_rate": 1e-5},
        {"step": 10, "eval_loss": 0.6},
        {"step": 20, "loss": 0.4, "learning_rate": 1e-5},
        {"step": 20, "eval_loss": 0.55},
    ]
    run = read_run(write_jsonl(lines))

    assert run.frame.height == 2
    assert run.frame.row(0, named=True) == {
        "step": 10,
        "wall_time": None,
        "loss": 0.5,
        "learning_rate": 1e-5,
        "eval_loss": 0.6,
    }
    assert column(run, "eval_loss") == {10: 0.6, 20: 0.55}
    assert run.resumes == []


def test_resumed_run_later_value_wins_and_resume_is_recorded(write_jsonl):
    first = [{"step": s, "loss": float(s)} for s in range(1, 11)]
    second = [{"step": s, "loss": 100.0 + s} for s in range(5, 13)]
    path = write_jsonl(first + second)
    run = read_run(path)

    assert_index_contract(run)
    assert run.frame["step"].to_list() == list(range(1, 13))
    loss = column(run, "loss")
    assert [loss[s] for s in range(1, 5)] == [1.0, 2.0, 3.0, 4.0]
    assert [loss[s] for s in range(5, 13)] == [100.0 + s for s in range(5, 13)]
    assert run.resumes == [Resume(step=5, previous_step=10, source=str(path), line=11)]


def test_two_resumes_are_both_recorded(write_jsonl):
    steps = [1, 2, 3, 4, 2, 3, 4, 5, 6, 1, 2]
    lines = [{"step": s, "loss": float(i)} for i, s in enumerate(steps)]
    run = read_run(write_jsonl(lines))

    assert [(r.step, r.previous_step, r.line) for r in run.resumes] == [(2, 4, 5), (1, 6, 10)]
    assert column(run, "loss") == {1: 9.0, 2: 10.0, 3: 5.0, 4: 6.0, 5: 7.0, 6: 8.0}


def test_absent_metric_and_json_null_are_missing_not_zero(write_jsonl):
    lines = [
        {"step": 1, "loss": 0.5, "eval_loss": 0.7},
        {"step": 2, "loss": 0.4},
        {"step": 3, "loss": None, "eval_loss": None},
        {"step": 4, "loss": 0.3, "eval_loss": 0.6},
    ]
    run = read_run(write_jsonl(lines))

    assert column(run, "loss") == {1: 0.5, 2: 0.4, 3: None, 4: 0.3}
    assert column(run, "eval_loss") == {1: 0.7, 2: None, 3: None, 4: 0.6}
    assert run.frame["eval_loss"].null_count() == 2
    assert run.frame["eval_loss"].is_nan().sum() == 0


# --- damaged files ----------------------------------------------------------------------


@pytest.mark.parametrize(("total", "bad"), [(5, 3), (40, 20), (1000, 2), (1000, 999)])
def test_malformed_line_in_the_middle_is_reported_and_the_rest_read(write_jsonl, total, bad):
    lines: list[dict | str] = [{"step": s, "loss": s / 10} for s in range(1, total + 1)]
    lines[bad - 1] = '{"step": %d, "loss": 0.5, oops' % bad
    path = write_jsonl(lines)
    run = read_run(path)

    assert run.frame.height == total - 1
    assert bad not in run.frame["step"].to_list()
    assert column(run, "loss")[bad + 1] == (bad + 1) / 10
    assert len(run.problems) == 1
    problem = run.problems[0]
    assert problem.line == bad
    assert problem.path == str(path)
    assert f":{bad}:" in str(problem)
    assert run.sources[0].rows == total - 1


def test_several_bad_lines_each_named(write_jsonl):
    lines: list[dict | str] = [{"step": s, "loss": 1.0} for s in range(1, 101)]
    for bad in (7, 8, 50, 93):
        lines[bad - 1] = "not json at all"
    lines[60] = "[1, 2, 3]"  # valid JSON, not an object
    run = read_run(write_jsonl(lines))

    assert sorted(p.line for p in run.problems) == [7, 8, 50, 61, 93]
    assert run.frame.height == 95


def test_truncated_last_line_keeps_rows_before_and_says_incomplete(write_jsonl):
    lines = [{"step": s, "loss": 0.5} for s in range(1, 4)]
    path = write_jsonl([*lines, '{"step": 4, "loss": 0.4'], final_newline=False)
    run = read_run(path)

    assert run.frame["step"].to_list() == [1, 2, 3]
    assert len(run.problems) == 1
    assert run.problems[0].line == 4
    assert "incomplete" in run.problems[0].message


def test_last_line_without_newline_but_complete_is_read(write_jsonl):
    lines = [{"step": s, "loss": 0.5} for s in range(1, 5)]
    run = read_run(write_jsonl(lines, final_newline=False))

    assert run.frame["step"].to_list() == [1, 2, 3, 4]
    assert run.problems == []


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file_is_a_problem_not_a_crash(tmp_path, content):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(content)
    run = read_run(path)

    assert run.frame.height == 0
    assert len(run.problems) == 1
    assert "empty" in run.problems[0].message
    assert run.sources[0].rows == 0


def _binary_samples() -> dict[str, bytes]:
    rng = random.Random(1234)
    noise = bytes(rng.randrange(256) for _ in range(8192))
    gz = gzip.compress(b'{"step": 1, "loss": 0.5}\n' * 200)
    return {"random": b"\x00\xff" + noise, "gzip": gz}


# a gzip-compressed log is read now (issue 13): see test_hostile_input.py
@pytest.mark.parametrize("kind", ["random"])
def test_binary_file_is_one_problem_not_a_crash(tmp_path, kind):
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(_binary_samples()[kind])
    run = read_run(path)

    assert run.frame.height == 0
    assert len(run.problems) == 1
    assert run.problems[0].path == str(path)


def test_malformed_first_line_does_not_discard_the_rest_of_the_file(write_jsonl):
    lines: list[dict | str] = ["training started (this line is not JSON)"]
    lines += [{"step": s, "loss": 0.5} for s in range(1, 6)]
    run = read_run(write_jsonl(lines))

    assert run.frame["step"].to_list() == [1, 2, 3, 4, 5]
    assert [p.line for p in run.problems] == [1]


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_zero_filled_block_left_by_a_crash_does_not_discard_the_file(write_jsonl, where):
    """After a power loss a log can hold a run of NUL bytes where unflushed data was."""
    zeros = b"\x00" * 300
    lines: list[dict | bytes] = [{"step": s, "loss": 0.5} for s in range(1, 7)]
    position = {"start": 0, "middle": 3, "end": 6}[where]
    lines.insert(position, zeros)
    run = read_run(write_jsonl(lines, final_newline=where != "end"))

    assert run.frame["step"].to_list() == [1, 2, 3, 4, 5, 6]
    assert [p.line for p in run.problems] == [position + 1]


def test_a_ten_megabyte_line_is_read(write_jsonl):
    huge = "x" * (10 << 20)
    lines = [{"step": s, "loss": 1.0 / s} for s in range(1, 4)]
    lines.append({"step": 4, "loss": 0.25, "sample_completion": huge})
    lines += [{"step": s, "loss": 1.0 / s} for s in range(5, 8)]
    run = read_run(write_jsonl(lines))

    assert run.frame["step"].to_list() == list(range(1, 8))
    assert column(run, "loss")[4] == 0.25
    assert "sample_completion" not in run.metrics
    assert run.problems == []


def test_a_line_with_thousands_of_keys_is_read(write_jsonl):
    wide = {"step": 1, **{f"layer_{i}/grad_norm": i / 10 for i in range(3000)}}
    run = read_run(write_jsonl([wide, {"step": 2, "layer_7/grad_norm": 9.0}]))

    assert len(run.metrics) == 3000
    assert column(run, "layer_7/grad_norm") == {1: 0.7, 2: 9.0}
    assert column(run, "layer_2999/grad_norm") == {1: 299.9, 2: None}


@pytest.mark.parametrize("count", [3, 100])
def test_crlf_line_endings(write_jsonl, count):
    lines = [
        {"step": s, "loss": float("nan") if s == 2 else 0.5, "elapsed_time": f"{s}s"}
        for s in range(1, count + 1)
    ]
    run = read_run(write_jsonl(lines, newline=b"\r\n"))

    assert run.frame["step"].to_list() == list(range(1, count + 1))
    assert math.isnan(column(run, "loss")[2])
    assert run.meta["elapsed_time"] == f"{count}s"
    assert run.problems == []


def test_blank_lines_in_between_are_skipped_and_line_numbers_stay_true(write_jsonl):
    lines: list[dict | str] = []
    for s in range(1, 41):
        lines += [{"step": s, "loss": 0.5}, "", "   "]
    lines[3 * 19] = "{broken"  # line 58 in the file
    run = read_run(write_jsonl(lines))

    assert run.frame.height == 39
    assert [p.line for p in run.problems] == [58]


# --- dialects ---------------------------------------------------------------------------


def _swift_line(step: int, total: int, loss: float) -> dict:
    return {
        "loss": loss,
        "grad_norm": 0.4,
        "learning_rate": 1e-6,
        "reward": 0.2,
        "epoch": round(step / total, 2),
        "global_step/max_steps": f"{step}/{total}",
        "percentage": f"{100 * step / total:.2f}%",
        "elapsed_time": f"{step}m 0s",
        "remaining_time": "1m 0s",
        "memory(GiB)": 37.5,
        "train_speed(iter/s)": 0.021,
    }


def test_ms_swift_logging_jsonl(write_jsonl):
    total = 94
    first = [_swift_line(s, total, loss=1.0 * s) for s in range(1, 7)]
    resumed = [_swift_line(s, total, loss=100.0 + s) for s in range(4, 9)]
    summary = {
        "last_model_checkpoint": "output/v0-20250101/checkpoint-8",
        "best_model_checkpoint": None,
        "best_metric": None,
        "global_step": 8,
        "log_history": [
            {k: v for k, v in line.items() if k != "global_step/max_steps"}
            for line in first + resumed
        ],
        "memory": {"cuda:0": "37.5GiB"},
        "model_parameter_info": "Qwen2ForCausalLM: 494.0M Params",
    }
    path = write_jsonl([*first, *resumed, summary], name="logging.jsonl")
    run = read_run(path)

    assert_index_contract(run)
    assert run.frame["step"].to_list() == list(range(1, 9))
    loss = column(run, "loss")
    assert [loss[s] for s in range(1, 4)] == [1.0, 2.0, 3.0]
    assert [loss[s] for s in range(4, 9)] == [104.0, 105.0, 106.0, 107.0, 108.0]
    assert run.resumes == [Resume(step=4, previous_step=6, source=str(path), line=7)]
    assert "log_history" not in run.frame.columns
    assert "global_step" not in run.metrics
    assert set(run.metrics) == {
        "loss",
        "grad_norm",
        "learning_rate",
        "reward",
        "epoch",
        "memory(GiB)",
        "train_speed(iter/s)",
    }
    assert run.meta["last_model_checkpoint"] == "output/v0-20250101/checkpoint-8"
    assert run.meta["model_parameter_info"] == "Qwen2ForCausalLM: 494.0M Params"
    assert run.meta["elapsed_time"] == "8m 0s"
    assert run.problems == []


def test_ms_swift_step_comes_from_global_step_max_steps(write_jsonl):
    lines = [_swift_line(s, 94, loss=0.5) for s in (5, 10, 15)]
    run = read_run(write_jsonl(lines, name="logging.jsonl"))

    assert run.frame["step"].to_list() == [5, 10, 15]
    assert not any("line numbers" in note for note in notes_of(run))


@pytest.mark.parametrize("count", [2, 50])
def test_verl_file_logger(write_jsonl, count):
    lines = [
        {
            "step": s,
            "data": {
                "actor/pg_clipfrac": 0.1 * s,
                "critic/score/mean": 0.5,
                "actor/entropy": None if s == 2 else 1.5,
            },
        }
        for s in range(1, count + 1)
    ]
    run = read_run(write_jsonl(lines))

    assert set(run.metrics) == {"actor/pg_clipfrac", "critic/score/mean", "actor/entropy"}
    assert not any(name.startswith("data/") for name in run.frame.columns)
    entropy = column(run, "actor/entropy")
    assert math.isnan(entropy[2])
    assert entropy[1] == 1.5
    assert column(run, "actor/pg_clipfrac")[count] == pytest.approx(0.1 * count)
    assert run.problems == []


# --- chunked reading --------------------------------------------------------------------


def _chunk_test_lines() -> list[dict | str]:
    lines: list[dict | str] = []
    for s in range(1, 81):
        record: dict = {"step": s, "loss": 1.0 / s, "note": f"s{s}: NaN, ok"}
        if s % 7 == 0:
            record["grad_norm"] = float("nan")
        if s >= 70:
            record["eval_loss"] = s / 100
        lines.append(record)
        if s % 11 == 0:
            lines.append("")
    lines[30] = '{"step": 31, "loss": '
    lines.insert(50, "[]")
    lines += [{"step": s, "loss": 5.0} for s in range(60, 66)]  # a resume
    lines.append({"step": 999, "data": "x" * 700})  # longer than a chunk
    lines.append('{"step": 1000, "loss"')
    return lines


@pytest.mark.parametrize("chunk", [1, 7, 64, 200, 1000])
def test_chunk_boundaries_do_not_change_the_result(write_jsonl, monkeypatch, chunk):
    path = write_jsonl(_chunk_test_lines(), final_newline=False)
    whole = read_run(path)
    assert "eval_loss" in whole.metrics
    assert len(whole.problems) == 3

    monkeypatch.setattr(jsonl, "CHUNK_BYTES", chunk)
    chunked = read_run(path)

    assert_frame_equal(chunked.frame, whole.frame)
    assert chunked.problems == whole.problems
    assert chunked.resumes == whole.resumes
    assert chunked.meta == whole.meta
    assert chunked.sources == whole.sources


@pytest.mark.parametrize("kind", ["gzip", "verl"])
def test_chunked_in_threads_gzip_and_verl_read_as_one_chunk(write_jsonl, monkeypatch, kind):
    """A gzip stream (carried chunks) and a veRL log (nulls read as NaN) go through the
    threaded stages like any file: the same frame, problems and notes as one chunk."""
    if kind == "verl":
        lines: list = [
            {"step": s, "data": {"loss": None if s % 9 == 0 else 1.0 / s, "kl": s / 7}}
            for s in range(1, 400)
        ]
        lines[200] = '{"step": 201, "data": {"loss": 0.1'
        path = write_jsonl(lines)
    else:
        lines = [
            {"step": s, "loss": float("nan") if s % 13 == 0 else 1.0 / s} for s in range(1, 400)
        ]
        lines[200] = '{"step": 201, "loss": '
        plain = write_jsonl(lines)
        path = plain.with_suffix(".jsonl.gz")
        path.write_bytes(gzip.compress(plain.read_bytes()))
        plain.unlink()
    whole = read_run(path)
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 700)
    chunked = read_run(path)

    assert_frame_equal(chunked.frame, whole.frame)
    assert chunked.problems == whole.problems and len(whole.problems) == 1
    assert chunked.meta == whole.meta and notes_of(chunked) == notes_of(whole)
    assert whole.frame.height == 398


def test_problems_are_problem_objects_naming_the_file(write_jsonl):
    path = write_jsonl(["{bad", {"step": 1, "loss": 1.0}, "{also bad"])
    run = read_run(path)

    assert len(run.problems) == 2
    assert all(isinstance(p, Problem) and p.path == str(path) for p in run.problems)


def test_reading_by_str_or_path_is_the_same(write_jsonl):
    path: Path = write_jsonl([{"step": 1, "loss": 1.0}])
    assert_frame_equal(read_run(str(path)).frame, read_run(path).frame)


# --- value types that change between lines ----------------------------------------------


@pytest.mark.parametrize(
    "odd",
    [
        {"x": {"a": 1}},
        {"x": [1, 2]},
        {"x": True},
        {"x": "abc"},
        {"x": None},
    ],
    ids=["object", "list", "bool", "text", "null"],
)
@pytest.mark.parametrize("where", ["one_line", "second_half"])
def test_a_key_whose_type_changes_between_lines_does_not_crash(write_jsonl, odd, where):
    """One odd line among numbers, or numbers for 32 lines and the odd type for the next 32."""
    lines: list[dict] = [{"step": s, "loss": 0.5, "x": 1.5} for s in range(1, 65)]
    odd_steps = [2] if where == "one_line" else list(range(33, 65))
    for step in odd_steps:
        lines[step - 1] = {"step": step, "loss": 0.5, **odd}
    run = read_run(write_jsonl(lines))

    assert run.frame["step"].to_list() == list(range(1, 65))
    assert set(column(run, "loss").values()) == {0.5}
    if "x" in run.metrics:
        assert column(run, "x")[1] == 1.5


@pytest.mark.parametrize(
    "lines",
    [
        [
            {"global_step": 1, "step": None, "loss": 1.0},
            {"global_step": 2, "step": None, "loss": 2.0},
        ],
        [
            {"global_step": 1, "step": 1, "loss": 1.0},
            {"global_step": 2, "step": "eval", "loss": 2.0},
            {"global_step": 3, "step": 3, "loss": 3.0},
        ],
        [
            {"step": 1, "_timestamp": 10.0, "wall_time": "1.0"},
            {"step": 2, "_timestamp": 11.0, "wall_time": "n/a"},
        ],
        [{"step": None, "loss": 1.0}, {"step": None, "loss": 2.0}],
    ],
    ids=["all_null_step", "step_with_stray_text", "wall_time_with_stray_text", "only_null_step"],
)
def test_index_names_that_are_not_the_chosen_index_do_not_crash(write_jsonl, lines):
    run = read_run(write_jsonl(lines))

    assert run.frame.height == len(lines)
    assert run.frame.columns.count("step") == 1
    assert run.frame.columns.count("wall_time") == 1


@pytest.mark.parametrize(
    "value",
    [[[], False], [1, "a", None], [{"a": 1}, 2], [[1], {"b": 2}], {"a": [1, {"b": True}]}],
    ids=["list_bool", "list_mixed_scalars", "list_object_number", "list_list_object", "deep"],
)
def test_heterogeneous_nested_values_do_not_crash(write_jsonl, value):
    lines = [{"step": 1, "loss": 0.5, "x": value}, {"step": 2, "loss": 0.4}]
    run = read_run(write_jsonl(lines))

    assert column(run, "loss") == {1: 0.5, 2: 0.4}


def test_unusable_step_values_are_reported_not_silently_dropped(write_jsonl):
    lines = [
        {"step": 1, "loss": 0.5},
        {"step": float("nan"), "loss": 0.4},
        {"step": 1e30, "loss": 0.3},
        {"step": 4, "loss": 0.2},
    ]
    run = read_run(write_jsonl(lines))

    steps = run.frame["step"].to_list()
    assert 1 in steps and 4 in steps
    assert 2 in [p.line for p in run.problems]


def test_a_metric_named_like_the_internal_line_column_is_kept(write_jsonl):
    run = read_run(write_jsonl([{"step": 1, "_line": 7.5}, {"step": 2, "_line": 8.5}]))

    assert column(run, "_line") == {1: 7.5, 2: 8.5}


@pytest.mark.parametrize("name", ["*", "^loss$", "^.*$", "a*", "(", "\\d+", "col(*)"])
def test_metric_names_that_look_like_column_selectors_are_plain_names(write_jsonl, name):
    lines = [{"step": 1, "loss": 0.5, name: 1.5}, {"step": 2, "loss": 0.4, name: None}]
    run = read_run(write_jsonl(lines))

    assert column(run, "loss") == {1: 0.5, 2: 0.4}
    assert column(run, name) == {1: 1.5, 2: None}


@pytest.mark.parametrize(
    "value",
    [2**63, 2**64, 2**127, 2**128, -(2**127) - 1, 10**40],
    ids=["2^63", "2^64", "2^127", "2^128", "-2^127-1", "10^40"],
)
def test_integers_beyond_64_bits_do_not_crash(write_jsonl, value):
    lines = [{"step": 1, "loss": 0.5, "seed": value}, {"step": 2, "loss": 0.4, "seed": 7}]
    run = read_run(write_jsonl(lines))

    assert column(run, "loss") == {1: 0.5, 2: 0.4}


def test_duplicate_key_reads_the_same_whatever_the_neighbouring_lines(write_jsonl):
    clean = [b'{"step": 1, "a": 1, "a": 2}', {"step": 2, "a": 3.0}]
    alone = read_run(write_jsonl(clean, name="clean.jsonl"))
    beside_bad = read_run(write_jsonl([*clean, "{bad"], name="damaged.jsonl"))

    assert column(alone, "a") == column(beside_bad, "a")


def test_verl_file_with_a_long_first_line_is_still_verl(write_jsonl):
    first = {"step": 1, "data": {"actor/entropy": 0.1, "val/generations": "x" * (2 << 20)}}
    lines = [first, *({"step": s, "data": {"actor/entropy": None}} for s in (2, 3))]
    run = read_run(write_jsonl(lines))

    assert "actor/entropy" in run.metrics
    assert math.isnan(column(run, "actor/entropy")[2])
