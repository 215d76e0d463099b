"""checkpoints: each framework's layout is found, and `before` is strictly before."""

from __future__ import annotations

from pathlib import Path

import pytest

from logscope import checkpoints
from logscope.checkpoints import find


def _save(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"")
    return folder


def test_hugging_face_checkpoints_in_the_output_dir(tmp_path: Path) -> None:
    for step in (50, 100):
        _save(tmp_path / f"checkpoint-{step}")
    (tmp_path / "checkpoint-150").mkdir()  # an empty folder was never written: not one
    found = find(str(tmp_path))
    assert [c.step for c in found.checkpoints] == [50, 100]
    assert found.before(85).step == 50  # type: ignore[union-attr]
    assert found.before(100).step == 50  # type: ignore[union-attr]  # strictly before
    assert found.before(50) is None
    assert (
        found.before(101).resume == f"resume_from_checkpoint={str(tmp_path / 'checkpoint-100')!r}"
    )  # type: ignore[union-attr]


def test_verl_checkpoints_under_project_and_experiment(tmp_path: Path) -> None:
    for step in (20, 40):
        _save(tmp_path / "checkpoints" / "proj" / "exp" / f"global_step_{step}" / "actor")
    found = find(str(tmp_path))
    assert [(c.step, c.layout) for c in found.checkpoints] == [(20, "verl"), (40, "verl")]
    assert found.before(30).resume.startswith("trainer.resume_mode=resume_path ")  # type: ignore[union-attr]


def test_tinyzero_actor_global_step_layout(tmp_path: Path) -> None:
    _save(tmp_path / "actor" / "global_step_10")
    assert [c.step for c in find(str(tmp_path)).checkpoints] == [10]


def test_ms_swift_checkpoints_in_the_versioned_run_folder(tmp_path: Path) -> None:
    run = tmp_path / "output" / "v0-20250101-120000"
    _save(run / "checkpoint-30")
    (run / "logging.jsonl").write_text("")
    assert [c.path for c in find(str(run)).checkpoints] == [str(run / "checkpoint-30")]


def test_trinity_checkpoints_next_to_the_monitor_folder(tmp_path: Path) -> None:
    name = tmp_path / "Trinity-RFT" / "example"
    (name / "monitor" / "tensorboard" / "trainer").mkdir(parents=True)
    _save(name / "global_step_8")
    assert [c.step for c in find(str(name / "monitor")).checkpoints] == [8]


def test_a_sample_folder_does_not_borrow_its_neighbours_checkpoints(tmp_path: Path) -> None:
    _save(tmp_path / "other_run" / "checkpoint-10")
    (tmp_path / "this_run").mkdir()
    assert find(str(tmp_path / "this_run")).checkpoints == ()


def test_checkpoints_elsewhere_are_named_by_the_option(tmp_path: Path) -> None:
    _save(tmp_path / "ckpt" / "checkpoint-5")
    found = find(str(tmp_path / "run-in-a-db.db/run-1"), str(tmp_path / "ckpt"))
    assert [c.step for c in found.checkpoints] == [5]
    assert found.looked_in == (str(tmp_path / "ckpt"),)
    assert find(str(tmp_path / "store.db/run-1")).looked_in == ()


def test_a_log_in_a_big_folder_costs_a_bounded_search_nearest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "MAX_FOLDERS", 50)
    for n in range(60):  # a data folder holding many other things, deep
        (tmp_path / f"sweep_{n:02d}" / "a" / "b").mkdir(parents=True)
    _save(tmp_path / "checkpoint-40")  # the run's own, beside its log
    found = find(str(tmp_path / "metrics.jsonl"))
    assert [c.step for c in found.checkpoints] == [40]
    assert not found.complete
    assert find(str(tmp_path / "sweep_00")).complete
