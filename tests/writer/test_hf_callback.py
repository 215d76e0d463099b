"""LogscopeCallback with Trainer-like arguments: fast, but needs transformers installed."""

from __future__ import annotations

import io
import json
import logging
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from writer_support import strict_lines

transformers = pytest.importorskip("transformers")
hf = pytest.importorskip("logscope.integrations.hf")


def args(output_dir: Path, rank: int = 0, world_size: int = 1) -> Any:
    """The TrainingArguments fields the callback reads."""
    return SimpleNamespace(
        output_dir=str(output_dir),
        process_index=rank,
        local_process_index=rank,
        world_size=world_size,
        to_dict=lambda: {"learning_rate": 5e-7, "output_dir": str(output_dir)},
    )


def state(step: int) -> Any:
    s = transformers.TrainerState()
    s.global_step = step
    return s


@pytest.mark.parametrize(
    ("logs", "kind"),
    [
        ({"loss": 1.0, "grad_norm": 2.0, "learning_rate": 1e-5, "epoch": 0.1}, "train"),
        ({"eval_loss": 1.0, "eval_runtime": 0.5, "epoch": 0.1}, "eval"),
        ({"test_loss": 1.0, "test_runtime": 0.5}, "test"),
        ({"train_runtime": 9.0, "train_loss": 1.2, "total_flos": 1.0}, "summary"),
    ],
)
def test_line_kind(logs: dict[str, float], kind: str) -> None:
    assert hf.line_kind(logs) == kind


def test_every_log_is_written_and_marked(tmp_path: Path) -> None:
    callback = hf.LogscopeCallback(stream=io.StringIO())
    control = transformers.TrainerControl()
    a = args(tmp_path)
    callback.on_train_begin(a, state(0), control)
    callback.on_log(a, state(1), control, logs={"loss": 2.0, "grad_norm": 1.0})
    callback.on_log(a, state(1), control, logs={"eval_loss": 2.1, "eval_runtime": 0.1})
    callback.on_train_end(a, state(1), control)
    callback.on_log(a, state(1), control, logs={"eval_loss": 2.0, "eval_runtime": 0.1})
    callback.close()
    folder = tmp_path / "logs"
    lines = strict_lines(folder / "metrics.jsonl")
    assert [(line["step"], line["kind"]) for line in lines] == [
        (1, "train"),
        (1, "eval"),
        (1, "eval"),
    ]
    manifest = json.loads((folder / "run.json").read_text())
    assert manifest["framework"]["name"] in ("transformers", "trl")
    assert manifest["framework"]["transformers"] == transformers.__version__
    assert manifest["config"]["training_args"]["learning_rate"] == 5e-7
    assert "end_time" in manifest


def test_an_error_stops_training_at_the_next_step(tmp_path: Path) -> None:
    out = io.StringIO()
    callback = hf.LogscopeCallback(tmp_path / "m", stop_on="error", every=1, stream=out)
    control = transformers.TrainerControl()
    a = args(tmp_path)
    for step, grad_norm in enumerate([1.0, 1.1, math.nan], 1):
        control = callback.on_log(
            a, state(step), control, logs={"loss": 1.0, "grad_norm": grad_norm}
        )
        assert control.should_training_stop is (step == 3)
    assert callback.should_stop
    assert "common/grad-norm-nonfinite" in out.getvalue()
    assert "Stopping training" in out.getvalue()
    callback.close()
    stopped = json.loads((tmp_path / "m" / "run.json").read_text())["stopped"]
    assert stopped["step"] == 3 and stopped["rule"] == "common/grad-norm-nonfinite"


def test_other_ranks_decide_but_do_not_write(tmp_path: Path) -> None:
    out = io.StringIO()
    callback = hf.LogscopeCallback(stop_on="error", every=1, stream=out)
    control = transformers.TrainerControl()
    a = args(tmp_path, rank=1, world_size=2)
    control = callback.on_log(a, state(1), control, logs={"loss": math.inf})
    assert control.should_training_stop
    assert out.getvalue() == ""
    assert not (tmp_path / "logs").exists()
    callback.close()


def test_a_log_that_cannot_be_opened_never_stops_training(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One warning; the callback stays on and the log starts once the path can be written
    (it used to turn itself off for the rest of the run: issue 17, logging resumes)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    callback = hf.LogscopeCallback(blocker / "logs", stop_on="error")
    control = transformers.TrainerControl()
    a = args(tmp_path)
    with caplog.at_level(logging.WARNING, logger="logscope"):
        callback.on_train_begin(a, state(0), control)
        for step in (1, 2):
            control = callback.on_log(a, state(step), control, logs={"loss": 1.0})
        blocker.unlink()
        control = callback.on_log(a, state(3), control, logs={"loss": 1.0})
    callback.close()
    assert not control.should_training_stop
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "cannot write" in messages[0] and "ENOTDIR" in messages[0]
    assert "training goes on" in messages[0]
    log_lines = (blocker / "logs" / "metrics.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in log_lines]
    assert [r["step"] for r in rows] == [3]
    assert json.loads((blocker / "logs" / "run.json").read_text())["unsaved_rows"] == 2


def test_bad_options_fail_in_the_script_not_at_the_first_log() -> None:
    with pytest.raises(ValueError, match="stop_on='errors'"):
        hf.LogscopeCallback(stop_on="errors")
