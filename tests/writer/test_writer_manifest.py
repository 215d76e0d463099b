"""run.json: what produced the log; replaced atomically; end_time marks a clean close."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from logscope import __version__
from logscope.writer import MetricWriter


def manifest(folder: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((folder / "run.json").read_text())


def test_manifest_content(tmp_path: Path) -> None:
    before = time.time()
    config = {"lr": 5e-7, "beta": float("nan"), "path": tmp_path, "tags": {"a", "b"}}
    with MetricWriter(tmp_path, framework="verl 0.4", config=config) as writer:
        data = manifest(tmp_path)
        assert "end_time" not in data  # still running, or killed
        writer.log({"loss": 1.0})
    data = manifest(tmp_path)
    assert data["format"] == "logscope-metrics/1"
    assert data["logscope_version"] == __version__
    assert data["metrics_file"] == "metrics.jsonl"
    assert data["framework"] == "verl 0.4"
    assert data["config"]["lr"] == 5e-7
    assert data["config"]["beta"] == "NaN"
    assert data["config"]["path"] == str(tmp_path)
    assert sorted(data["config"]["tags"]) == ["a", "b"]
    assert before <= data["start_time"] <= data["end_time"] <= time.time()
    assert data["start_time_utc"].endswith("+00:00")
    assert (data["rank"], data["local_rank"], data["world_size"]) == (0, 0, 1)
    assert data["per_rank"] is False
    assert data["pid"] == os.getpid() and data["host"]
    assert data["lines"] == 1
    assert "restarts" not in data
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_objects_in_the_config_are_kept_as_text(tmp_path: Path) -> None:
    class Scheduler:
        def __str__(self) -> str:
            return "cosine"

    with MetricWriter(tmp_path, config={"scheduler": Scheduler(), "n": 3}):
        pass
    assert manifest(tmp_path)["config"] == {"scheduler": "cosine", "n": 3}


def test_a_resumed_run_keeps_its_start_time_and_counts_restarts(tmp_path: Path) -> None:
    with MetricWriter(tmp_path) as writer:
        writer.log({"loss": 1.0}, step=1)
    first = manifest(tmp_path)["start_time"]
    for _ in range(2):
        with MetricWriter(tmp_path) as writer:
            writer.log({"loss": 1.0}, step=1)
    data = manifest(tmp_path)
    assert data["start_time"] == first
    assert len(data["restarts"]) == 2 and all(t >= first for t in data["restarts"])


def test_update_manifest_adds_fields(tmp_path: Path) -> None:
    with MetricWriter(tmp_path) as writer:
        writer.update_manifest(stopped={"step": 3, "value": float("inf")})
    assert manifest(tmp_path)["stopped"] == {"step": 3, "value": "Infinity"}


def test_manifest_is_never_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The new manifest goes to a temporary file first: a failure leaves the old one whole.
    (on_error="raise": with the default the failure is a warning, see test_writer_faults.)"""
    with MetricWriter(tmp_path, on_error="raise") as writer:
        writer.log({"loss": 1.0})
        before = (tmp_path / "run.json").read_text()

        def fail(*args: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(Path, "replace", fail)
        with pytest.raises(OSError, match="disk full"):
            writer.update_manifest(stopped={"step": 1})
        monkeypatch.undo()
        assert (tmp_path / "run.json").read_text() == before
