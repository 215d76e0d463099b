"""Which files under a path are read, and which of them form one run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import logscope
from logscope.errors import InputError
from logscope.ingest import read_runs, walk


def write_lines(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def loss_lines(value: float, steps: range = range(1, 6)) -> list[dict]:
    return [{"step": s, "loss": value} for s in steps]


def write_state(folder: Path, last_step: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    history = [{"step": s, "loss": 1.0, "grad_norm": float("nan")} for s in range(1, last_step + 1)]
    path = folder / "trainer_state.json"
    path.write_text(json.dumps({"global_step": last_step, "log_history": history}, indent=2))
    return path


@pytest.fixture
def two_runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    write_lines(runs / "a" / "metrics.jsonl", loss_lines(1.0))
    write_lines(runs / "b" / "logs" / "training_metrics.jsonl", loss_lines(2.0, range(1, 9)))
    return runs


def test_folder_with_two_run_folders_gives_two_runs(two_runs):
    runs = read_runs(two_runs)

    assert [r.path for r in runs] == [str(two_runs / "a"), str(two_runs / "b")]
    a, b = runs
    assert a.frame["loss"].to_list() == [1.0] * 5
    assert b.frame["loss"].to_list() == [2.0] * 8
    assert [s.path for s in a.sources] == [str(two_runs / "a" / "metrics.jsonl")]
    assert [s.path for s in b.sources] == [str(two_runs / "b" / "logs" / "training_metrics.jsonl")]


def test_file_path_gives_one_run(two_runs):
    path = two_runs / "a" / "metrics.jsonl"
    runs = read_runs(path)

    assert len(runs) == 1
    assert runs[0].path == str(path)
    assert runs[0].steps == {"first": 1, "last": 5, "count": 5}


def test_file_with_unusual_suffix_is_read_as_jsonl(tmp_path):
    path = write_lines(tmp_path / "train.log", loss_lines(1.0))
    assert logscope.read(path).steps["count"] == 5


def test_missing_path_raises_input_error_naming_it(tmp_path):
    missing = tmp_path / "no" / "such_run"
    with pytest.raises(InputError, match="such_run"):
        read_runs(missing)
    with pytest.raises(InputError) as caught:
        logscope.read(str(missing))
    assert str(missing) in str(caught.value)


@pytest.mark.parametrize(
    "contents",
    [{}, {"README.md": "# notes", "config.json": "{}", "ckpt/model.safetensors": "\x00"}],
)
def test_folder_without_logs_raises_input_error(tmp_path, contents):
    folder = tmp_path / "empty_run"
    folder.mkdir()
    for name, text in contents.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    with pytest.raises(InputError) as caught:
        read_runs(folder)
    assert str(folder) in str(caught.value)


def test_read_refuses_a_folder_with_two_runs(two_runs):
    with pytest.raises(InputError) as caught:
        logscope.read(two_runs)
    message = str(caught.value)
    assert "2 runs" in message
    assert str(two_runs / "a") in message and str(two_runs / "b") in message


def test_logs_and_checkpoint_folders_belong_to_the_parent_run(tmp_path):
    run_dir = tmp_path / "kto_run"
    write_lines(run_dir / "logs" / "training_metrics.jsonl", loss_lines(1.0, range(1, 21)))
    write_lines(run_dir / "eval.jsonl", [{"step": 10, "eval_loss": 0.5}])
    write_state(run_dir / "checkpoint-10", 10)
    write_state(run_dir / "checkpoint-20", 20)

    runs = read_runs(run_dir)

    assert len(runs) == 1
    run = runs[0]
    assert run.path == str(run_dir)
    assert sorted(s.path for s in run.sources) == sorted(
        [
            str(run_dir / "eval.jsonl"),
            str(run_dir / "logs" / "training_metrics.jsonl"),
            str(run_dir / "checkpoint-20" / "trainer_state.json"),
        ]
    )
    assert run.steps == {"first": 1, "last": 20, "count": 20}
    assert run.frame.filter(run.frame["step"] == 10)["eval_loss"].to_list() == [0.5]


def test_hidden_and_tool_folders_are_not_read(tmp_path):
    run_dir = tmp_path / "run"
    write_lines(run_dir / "metrics.jsonl", loss_lines(1.0))
    write_lines(run_dir / ".cache" / "x.jsonl", loss_lines(9.0))
    write_lines(run_dir / "wandb" / "run-1" / "files" / "wandb-history.jsonl", loss_lines(9.0))

    run = logscope.read(run_dir)

    assert [s.path for s in run.sources] == [str(run_dir / "metrics.jsonl")]


def snapshot(folder: Path) -> dict[str, tuple[bool, int, bytes]]:
    state = {}
    for path in sorted(folder.rglob("*")):
        stat = path.stat()
        content = path.read_bytes() if path.is_file() else b""
        state[str(path.relative_to(folder))] = (path.is_dir(), stat.st_mtime_ns, content)
    return state


def test_reading_never_writes_into_the_run_folder(tmp_path):
    run_dir = tmp_path / "run"
    write_lines(run_dir / "logs" / "metrics.jsonl", loss_lines(1.0))
    (run_dir / "broken.jsonl").write_bytes(b'{"step": 1, "loss": 1.0}\n{"step": 2, "lo')
    write_state(run_dir, 5)
    write_state(run_dir / "checkpoint-3", 3)
    (run_dir / "empty.jsonl").write_bytes(b"")
    old = 1_600_000_000_000_000_000
    for path in run_dir.rglob("*"):
        os.utime(path, ns=(old, old))
    os.utime(run_dir, ns=(old, old))
    before = snapshot(run_dir)
    root_mtime = run_dir.stat().st_mtime_ns

    run = logscope.read(run_dir)
    read_runs(run_dir / "logs" / "metrics.jsonl")
    read_runs(tmp_path)

    assert run.problems  # the damaged files were read, and reported
    assert snapshot(run_dir) == before
    assert run_dir.stat().st_mtime_ns == root_mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_the_folder_a_file_really_sits_in_is_what_resolve_says(tmp_path: Path) -> None:
    """Discovery resolves each log's folder one lstat per folder (the sweep path); through
    symlinked folders, a symlinked file, `..` and a relative path it gives what
    `Path.resolve()` gives."""
    from logscope.ingest.discover import _real_folder

    real = tmp_path / "store" / "wandb" / "run-20240101_000000-abc"
    real.mkdir(parents=True)
    (real / "metrics.jsonl").write_text("{}\n")
    sweep = tmp_path / "sweep"
    (sweep / "a").mkdir(parents=True)
    (sweep / "linked").symlink_to(real)
    (sweep / "a" / "file.jsonl").symlink_to(real / "metrics.jsonl")
    (sweep / "a" / "plain.jsonl").write_text("{}\n")
    files = [
        sweep / "linked" / "metrics.jsonl",
        sweep / "a" / "file.jsonl",
        sweep / "a" / "plain.jsonl",
        sweep / "a" / ".." / "linked" / "metrics.jsonl",
        Path(os.path.relpath(sweep / "a" / "plain.jsonl")),
    ]
    cache: dict[Path, tuple[str, ...]] = {}
    for file in files + files:  # the second time from what the first one resolved
        assert _real_folder(file, cache) == file.resolve().parent.parts
    # told the links a walk of the sweep met (no lstat inside it): the same answers
    found, _, links = walk.walk(sweep)
    assert links == {sweep / "linked", sweep / "a" / "file.jsonl"}
    cache = {}
    for file in found + files + found:
        assert _real_folder(file, cache, links) == file.resolve().parent.parts
