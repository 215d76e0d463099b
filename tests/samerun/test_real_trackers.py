"""One process, several trackers, one run; two runs stay two (folders written by the real
libraries: transformers Trainer + TensorBoard + W&B offline; veRL-style file logger +
TensorBoard + W&B + MLflow)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import trainer_folder
import verl_folder

from logscope.ingest import read_runs

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]


@pytest.fixture(scope="module")
def trainer_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("trainer")
    return {
        "a": trainer_folder.train(root / "a"),
        "b": trainer_folder.train(root / "b", learning_rate=1e-3, seed=1, run_id="tiny0002"),
    }


@pytest.fixture(scope="module")
def verl_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("verl")
    return {
        "one": verl_folder.write(root / "one"),
        "two": verl_folder.write(root / "two", seed=1, run_id="verl0002"),
    }


def _formats(run) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(s.format for s in run.sources)


def test_a_trainer_folder_with_tensorboard_and_wandb_is_one_run(
    trainer_runs: dict[str, Path],
) -> None:
    (run,) = read_runs(trainer_runs["a"])
    assert _formats(run) == ["tensorboard", "trainer_state", "wandb"]
    assert run.path == str(trainer_runs["a"])
    # `loss` (trainer_state) and `train/loss` (TensorBoard, W&B) are one metric
    assert "train/loss" not in run.metrics and "train/grad_norm" not in run.metrics
    assert run.meta["spellings"]["loss"] == ["loss", "train/loss"]
    assert run.frame.get_column("loss").null_count() == 0 and run.steps["count"] == 12
    wandb_source = next(s for s in run.sources if s.format == "wandb")
    assert any(f"same run as {run.path}: same values at 12 steps" in n for n in wandb_source.notes)


PROBE = """
pack: probe
title: Probe
aliases:
  anyloss: ["*loss*", "*/*loss*"]
rules:
  - id: probe/loss-positive
    severity: warning
    metric: anyloss
    check: threshold
    op: ">"
    value: 0
    message: "{metric} above 0 at step {step}"
    advice: "None."
    source: "test"
"""


def test_each_problem_is_reported_once_for_a_multi_tracker_trainer_run(
    trainer_runs: dict[str, Path], tmp_path: Path, cli
) -> None:  # type: ignore[no-untyped-def]
    """A rule on every loss fired three times before (loss, and train/loss twice)."""
    probe = tmp_path / "probe.yaml"
    probe.write_text(PROBE)
    args = ["check", trainer_runs["a"], "--rules", probe, "--format", "json", "--fail-on", "never"]
    (run,) = json.loads(cli(args).stdout)["runs"]
    assert run["spellings"]["loss"] == ["loss", "train/loss"]
    assert [f["metric"] for f in run["findings"]] == ["loss", "train/train_loss"]


def test_a_wandb_run_of_another_training_run_is_never_merged(
    trainer_runs: dict[str, Path], tmp_path: Path
) -> None:
    mixed = tmp_path / "a"
    shutil.copytree(trainer_runs["a"], mixed)
    (other,) = (trainer_runs["b"] / "wandb").glob("offline-run-*")
    shutil.copytree(other, mixed / "wandb" / other.name)
    runs = read_runs(mixed)
    assert [_formats(r) for r in runs] == [["tensorboard", "trainer_state", "wandb"], ["wandb"]]
    assert runs[1].path.endswith("tiny0002")
    assert not any("same run" in n for s in runs[1].sources for n in s.notes)


def test_a_verl_folder_with_four_trackers_is_one_run(verl_runs: dict[str, Path]) -> None:
    (run,) = read_runs(verl_runs["one"])
    assert _formats(run) == ["jsonl", "mlflow_files", "tensorboard", "wandb"]
    assert run.steps == {"first": 1, "last": 20, "count": 20}
    assert {"actor/pg_loss", "actor/kl_loss", "critic/score/mean"} <= set(run.metrics)
    merged = [n for n in run.notes if n.startswith("merged ")]
    assert len(merged) == 3 and all("same values at 20 steps" in n for n in merged)


def test_two_verl_runs_in_one_folder_stay_two(verl_runs: dict[str, Path], tmp_path: Path) -> None:
    mixed = tmp_path / "one"
    shutil.copytree(verl_runs["one"], mixed)
    (other,) = (verl_runs["two"] / "wandb").glob("offline-run-*")
    shutil.copytree(other, mixed / "wandb" / other.name)
    runs = read_runs(mixed)
    assert len(runs) == 2
    assert _formats(runs[0]) == ["jsonl", "mlflow_files", "tensorboard", "wandb"]
    assert _formats(runs[1]) == ["wandb"] and runs[1].meta["wandb.run_id"] == "verl0002"
