"""The writer contract of DESIGN.md: strict JSON Lines, NaN/Inf as strings, step and wall_time."""

from __future__ import annotations

import json
import logging
import math
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from writer_support import strict_lines, strict_loads

import logscope
from logscope.writer import MetricWriter

NONFINITE = {"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf")}


class TensorLike:
    """What torch.Tensor offers the writer: .item() for one element, .tolist() for more."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)

    def item(self) -> float:
        if len(self.values) != 1:
            raise RuntimeError("a Tensor with 2 elements cannot be converted to Scalar")
        return self.values[0]

    def tolist(self) -> list[float]:
        return list(self.values)


def write(tmp_path: Path, rows: list[dict[str, Any]], **options: Any) -> Path:
    with MetricWriter(tmp_path / "run", **options) as writer:
        for row in rows:
            writer.log(row)
    return writer.path


def test_every_line_is_strict_json_with_step_and_wall_time(tmp_path: Path) -> None:
    before = time.time()
    path = write(tmp_path, [{"loss": 1.5, **NONFINITE}, {"loss": 1.25}, {"eval_loss": 2.0}])
    lines = strict_lines(path)
    assert [line["step"] for line in lines] == [0, 1, 2]
    assert all(before <= line["wall_time"] <= time.time() for line in lines)
    assert list(lines[0]) == ["step", "wall_time", "loss", "nan", "inf", "ninf"]
    assert (lines[0]["nan"], lines[0]["inf"], lines[0]["ninf"]) == ("NaN", "Infinity", "-Infinity")
    assert path == tmp_path / "run" / "metrics.jsonl"


def test_polars_reads_every_line_and_every_key(tmp_path: Path) -> None:
    rows = [{"loss": float(i)} for i in range(150)] + [{"loss": float("nan"), "late_key": 1.0}]
    frame = pl.read_ndjson(write(tmp_path, rows), infer_schema_length=None)
    assert frame.height == 151
    assert frame.get_column("late_key").drop_nulls().to_list() == [1.0]
    assert frame.get_column("loss")[-1] == "NaN"  # a string column: jq/polars never fail on it


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_jq_reads_every_line(tmp_path: Path) -> None:
    path = write(tmp_path, [{"rewards/margins": 0.5}, {"rewards/margins": float("nan")}])
    out = subprocess.run(
        ["jq", "-c", '.["rewards/margins"]', str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["0.5", '"NaN"']


def test_round_trip_through_logscope_read(tmp_path: Path) -> None:
    rows = [
        {"step": 1, "loss": 2.0, "grad_norm": 1.0},
        {"step": 2, "loss": float("nan"), "grad_norm": float("inf")},
        {"step": 3, "loss": 1.0, "grad_norm": float("-inf")},
    ]
    write(tmp_path, rows)
    run = logscope.read(tmp_path / "run")
    assert run.problems == []
    assert run.frame.get_column("step").to_list() == [1, 2, 3]
    loss = run.frame.get_column("loss").to_list()
    assert loss[0] == 2.0 and math.isnan(loss[1]) and loss[2] == 1.0
    assert run.frame.get_column("grad_norm").to_list() == [1.0, math.inf, -math.inf]
    assert run.frame.schema["wall_time"] == pl.Float64
    assert run.frame.get_column("wall_time").null_count() == 0


def test_numpy_and_tensor_like_values(tmp_path: Path) -> None:
    row = {
        "f32": np.float32(0.5),
        "f64": np.float64(0.25),
        "i64": np.int64(7),
        "nan32": np.float32("nan"),
        "zero_d": np.array(1.5),
        "one_element": np.array([2.5]),
        "vector": np.array([1.0, 2.0]),
        "bool": np.bool_(True),
        "tensor": TensorLike(3.0),
        "tensor_inf": TensorLike(float("inf")),
        "tensor_vector": TensorLike(1.0, float("nan")),
        "fraction": Fraction(1, 4),
        "decimal": Decimal("0.125"),
        "nested": {"a": np.float16(1.0), "b": [np.int32(1)]},
        "text": "5/94",
        "none": None,
    }
    (line,) = strict_lines(write(tmp_path, [row]))
    assert line == {
        "step": 0,
        "wall_time": line["wall_time"],
        "f32": 0.5,
        "f64": 0.25,
        "i64": 7,
        "nan32": "NaN",
        "zero_d": 1.5,
        "one_element": 2.5,
        "vector": [1.0, 2.0],
        "bool": True,
        "tensor": 3.0,
        "tensor_inf": "Infinity",
        "tensor_vector": [1.0, "NaN"],
        "fraction": 0.25,
        "decimal": 0.125,
        "nested": {"a": 1.0, "b": [1]},
        "text": "5/94",
        "none": None,
    }


def test_log_returns_the_record_with_float_nonfinite_values(tmp_path: Path) -> None:
    with MetricWriter(tmp_path) as writer:
        record = writer.log({"loss": np.float32("nan")}, step=np.int64(4))
    assert record["step"] == 4 and type(record["step"]) is int
    assert math.isnan(record["loss"])


def test_unwritable_value_becomes_text_and_is_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    with caplog.at_level(logging.WARNING, logger="logscope.writer"):
        lines = strict_lines(write(tmp_path, [{"x": Opaque(), "loss": 1.0}, {"x": Opaque()}]))
    assert [line["x"] for line in lines] == ["<opaque>", "<opaque>"]
    assert lines[0]["loss"] == 1.0
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "metric 'x': cannot write a" in warnings[0] and "Opaque" in warnings[0]


def test_steps_given_taken_from_metrics_or_counted(tmp_path: Path) -> None:
    with MetricWriter(tmp_path) as writer:
        writer.log({"loss": 1.0}, step=10)
        writer.log({"loss": 1.0})  # previous + 1
        writer.log({"step": 20, "loss": 1.0})
        writer.log({"step": 30.0, "loss": 1.0}, step=30)  # the same value twice is fine
        with pytest.raises(ValueError, match="step=40 conflicts with metrics\\['step'\\]=41"):
            writer.log({"step": 41}, step=40)
        with pytest.raises(ValueError, match="whole number"):
            writer.log({}, step=1.5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="step must be an integer"):
            writer.log({}, step="7")  # type: ignore[arg-type]
        writer.log({"wall_time": 12.5, "loss": 1.0})
    lines = strict_lines(writer.path)
    assert [line["step"] for line in lines] == [10, 11, 20, 30, 31]
    assert lines[-1]["wall_time"] == 12.5


def test_lines_are_single_ascii_lines_whatever_the_keys(tmp_path: Path) -> None:
    row = {"naïve/λ": 1.0, "with\nnewline": 2.0, 'quote"': "a\u2028b"}
    (line,) = strict_lines(write(tmp_path, [row]))
    assert line["naïve/λ"] == 1.0 and line["with\nnewline"] == 2.0 and line['quote"'] == "a\u2028b"


def test_file_path_instead_of_folder(tmp_path: Path) -> None:
    target = tmp_path / "logs" / "training_metrics.jsonl"
    with MetricWriter(target) as writer:
        writer.log({"loss": 1.0})
    assert writer.path == target
    assert (tmp_path / "logs" / "run.json").exists()


def test_append_resumes_and_append_false_starts_afresh(tmp_path: Path) -> None:
    for step in (1, 2):
        with MetricWriter(tmp_path) as writer:
            writer.log({"loss": 1.0}, step=step)
    assert [line["step"] for line in strict_lines(writer.path)] == [1, 2]
    with MetricWriter(tmp_path, append=False) as writer:
        writer.log({"loss": 1.0}, step=9)
    assert [line["step"] for line in strict_lines(writer.path)] == [9]


def test_a_fragment_left_by_a_kill_is_ended_before_new_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"step": 1, "loss": 1.0}\n{"step": 2, "lo')
    with caplog.at_level(logging.WARNING, logger="logscope.writer"), MetricWriter(tmp_path) as w:
        w.log({"loss": 0.5}, step=3)
    assert "incomplete line" in caplog.text
    lines = path.read_bytes().splitlines()
    assert lines[1] == b'{"step": 2, "lo'
    assert strict_loads(lines[2])["step"] == 3
    run = logscope.read(path)
    assert run.frame.get_column("step").to_list() == [1, 3]
    assert len(run.problems) == 1 and run.problems[0].line == 2


def test_closed_writer_refuses_and_close_is_idempotent(tmp_path: Path) -> None:
    writer = MetricWriter(tmp_path)
    writer.close()
    writer.close()
    assert writer.closed
    with pytest.raises(ValueError, match="is closed"):
        writer.log({"loss": 1.0})


def test_bad_options_fail_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fsync='sometimes'"):
        MetricWriter(tmp_path, fsync="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fsync=0"):
        MetricWriter(tmp_path, fsync=0)
    assert not (tmp_path / "metrics.jsonl").exists()


def test_importing_the_writer_loads_no_heavy_module() -> None:
    code = (
        "import sys, logscope; logscope.MetricWriter; logscope.monitor; "
        "import logscope.writer; "
        "print(','.join(m for m in ('polars', 'numpy', 'torch', 'transformers', 'yaml', "
        "'logscope.rules.engine') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_writer_contract_example_is_what_design_md_promises(tmp_path: Path) -> None:
    """One object per line, in the spelling DESIGN.md shows, readable by plain json too."""
    path = write(tmp_path, [{"step": 5, "wall_time": 1.0, "loss": float("nan")}])
    assert path.read_text() == '{"step": 5, "wall_time": 1.0, "loss": "NaN"}\n'
    assert json.loads(path.read_text()) == {"step": 5, "wall_time": 1.0, "loss": "NaN"}
