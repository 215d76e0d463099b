"""samerun: when two spellings are one metric and two tracker runs are one run (and when not)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logscope.model import Source
from logscope.run import Run
from logscope.samerun import (
    TRACKER_DIRS,
    canonical,
    fold_spellings,
    home,
    merge_runs,
    same_run,
)


def _run(path: str, meta: dict | None = None, wall: float = 1.7e9, **series: list[float]) -> Run:  # type: ignore[type-arg]
    n = len(next(iter(series.values())))
    frame = pl.DataFrame(
        {
            "step": pl.Series(range(1, n + 1), dtype=pl.Int64),
            "wall_time": [wall + i for i in range(n)],
            **{k.replace("__", "/"): pl.Series(v, dtype=pl.Float64) for k, v in series.items()},
        }
    )
    return Run(path, frame, [Source(path + "/x", "jsonl", n)], meta=dict(meta or {}))


LOSS = [2.0, 1.7, 1.5, 1.4, 1.33]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("loss", "train/loss"),
        ("train.kl", "train/kl"),
        ("eval_loss", "eval/loss"),
        ("completions/clipped_ratio", "train/completions/clipped_ratio"),
    ],
)
def test_tracker_spellings_share_a_canonical_name(a: str, b: str) -> None:
    assert canonical(a) == canonical(b)


def test_rewards_and_reward_std_are_not_spellings_of_each_other() -> None:
    assert canonical("reward") != canonical("reward_std")


def test_a_float32_copy_folds_into_one_metric_with_its_spellings() -> None:
    f32 = list(np.asarray(LOSS, dtype=np.float32).astype(float))
    run = fold_spellings(_run("r", loss=LOSS, train__loss=f32))
    assert run.metrics == ["loss"] and run.meta["spellings"] == {"loss": ["loss", "train/loss"]}
    assert run.frame.get_column("loss").to_list() == LOSS
    assert any("loss = train/loss" in note for note in run.notes)


def test_two_spellings_with_different_values_stay_two_metrics() -> None:
    run = fold_spellings(_run("r", loss=LOSS, train__loss=[2.0, 1.7, 1.5, 1.4, 9.0]))
    assert run.metrics == ["loss", "train/loss"] and "spellings" not in run.meta


def test_tracker_folders_share_the_home_of_their_run() -> None:
    assert home("out/wandb/offline-run-1-abc") == home("out/mlruns/0/abc") == "out"
    assert home("out/mlflow.db/run-1") == "out" and home("runs/a") == "runs/a"


def test_one_process_through_two_trackers_is_one_run() -> None:
    a = _run("out", loss=LOSS, lr=[1e-5] * 5)
    b = _run(
        "out/wandb/offline-run-x", {"wandb.run_id": "x"}, train__loss=LOSS, train__lr=[1e-5] * 5
    )
    (run,) = merge_runs([a, b])
    assert run.path == "out" and run.metrics == ["loss", "lr"] and len(run.sources) == 2
    assert "same run as out: same values at 5 steps (loss)" in run.sources[1].notes[-1]


def test_different_values_or_run_ids_or_times_keep_runs_apart() -> None:
    a = _run("out", {"wandb.run_id": "a"}, loss=LOSS)
    verdict = same_run(a, _run("out/wandb/r", train__loss=[x + 0.1 for x in LOSS]))
    assert not verdict.same and "differs" in verdict.reason
    verdict = same_run(a, _run("out/wandb/r", {"wandb.run_id": "b"}, loss=LOSS))
    assert not verdict.same and "different run ids" in verdict.reason
    verdict = same_run(a, _run("out/wandb/r", wall=1.8e9, loss=LOSS))
    assert not verdict.same and "apart" in verdict.reason
    assert len(merge_runs([a, _run("out/wandb/r", wall=1.8e9, loss=LOSS)])) == 2


def test_agreeing_schedules_alone_do_not_make_two_runs_one() -> None:
    """Two runs of one config share their learning-rate schedule and epochs, not losses."""
    a = _run("out", lr=[1e-5, 2e-5, 3e-5, 4e-5, 5e-5], epoch=[0.1, 0.2, 0.3, 0.4, 0.5])
    b = _run(
        "out/wandb/r",
        train__lr=[1e-5, 2e-5, 3e-5, 4e-5, 5e-5],
        train__epoch=[0.1, 0.2, 0.3, 0.4, 0.5],
    )
    assert not same_run(a, b).same and len(merge_runs([a, b])) == 2


def test_too_few_shared_steps_are_not_evidence() -> None:
    a = _run("out", loss=LOSS)
    b = _run("out/wandb/r", loss=LOSS[:2])
    assert not same_run(a, b).same


def test_a_wandb_dir_in_the_working_directory_meets_the_output_dir_below_it() -> None:
    """`python train.py` in project/: wandb/ there, output_dir=outputs/a; outputs/b is
    another run. The W&B run joins outputs/a (same values), never outputs/b."""
    a = _run("project/outputs/a", loss=LOSS)
    b = _run("project/outputs/b", loss=[x * 2 for x in LOSS])
    w = _run("project/wandb/offline-run-1-x", {"wandb.run_id": "x"}, train__loss=LOSS)
    runs = merge_runs([a, b, w])
    assert [r.path for r in runs] == ["project/outputs/a", "project/outputs/b"]
    assert [s.path for s in runs[0].sources] == [
        "project/outputs/a/x",
        "project/wandb/offline-run-1-x/x",
    ]


_SEGMENTS = st.sampled_from(
    ["a", "b", "run_1", "..", ".", "", "wandb", "mlruns", "x.db", "w.sqlite"]
)
_PATHS = st.builds(
    lambda lead, parts, tail: lead + "/".join(parts) + tail,
    st.sampled_from(["", "/", "//", "./"]),
    st.lists(_SEGMENTS, max_size=5),
    st.sampled_from(["", "/", "/."]),
)


def _families_by_path(paths: list[str]) -> list[list[int]]:
    """What `families` answers, the plain way: Path objects, each home against every
    other (the fast path avoids Path objects for a sweep's ten thousand folders)."""
    homes = [Path(_home_by_path(p)) for p in paths]
    parent = list(range(len(paths)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, a in enumerate(homes):
        for j, b in enumerate(homes):
            if i != j and b in (a, *a.parents) and root(i) != root(j):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(paths)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def _home_by_path(path: str) -> str:
    parts = Path(path).parts
    for i, part in enumerate(parts):
        if part in TRACKER_DIRS or part.endswith((".db", ".sqlite", ".sqlite3")):
            return str(Path(*parts[:i])) if i else "."
    return path


@settings(max_examples=300, deadline=None)
@given(st.lists(_PATHS, max_size=6))
def test_families_and_homes_are_those_of_path_objects(paths: list[str]) -> None:
    """Runs grouped as candidates for one run are the same whether folders are compared
    as Path objects or, as discovery's do, as text: any spelling of a path."""
    from logscope.samerun import families

    assert [home(p) for p in paths] == [_home_by_path(p) for p in paths]
    assert sorted(families(paths)) == _families_by_path(paths)


def test_sibling_run_folders_are_never_candidates() -> None:
    from logscope.samerun import families

    assert families(["runs/a", "runs/b", "runs/a/wandb/r", "/abs/x", "/abs/x/mlruns/0/1"]) == [
        [0, 2],
        [1],
        [3, 4],
    ]
