"""A sweep checked on a (local) Ray cluster says exactly what a local check says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from logscope import remote  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


@pytest.fixture(scope="module")
def cluster():  # type: ignore[no-untyped-def]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_a_sweep_on_ray_gives_the_local_json(cluster, cli) -> None:  # type: ignore[no-untyped-def]
    local = json.loads(cli(["check", SAMPLES, "-f", "json"], exit_code=1).stdout)
    on_ray = json.loads(
        cli(["check", SAMPLES, "-f", "json", "--executor", "ray"], exit_code=1).stdout
    )
    assert len(on_ray["runs"]) == len(local["runs"]) >= 20
    assert on_ray == local


def test_a_failed_task_is_retried_once_then_reported_for_its_runs(cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from logscope import pipeline
    from logscope.ingest.discover import discover
    from logscope.rules import engine

    marks = tmp_path / "marks"
    marks.mkdir()
    groups = [[(found, SAMPLES)] for found in discover(SAMPLES)]
    packs = pipeline.load_packs()
    options = pipeline._Options(frozenset(), None, None)

    def check_group(group, packs, shared, options):  # type: ignore[no-untyped-def]
        root = Path(group[0][0].root)
        if root.name == "kto_diverging":
            raise RuntimeError("worker lost its disk")
        if root.name == "kto_healthy":  # fails once: the retry succeeds
            mark = marks / root.name
            if not mark.exists():
                mark.touch()
                raise RuntimeError("transient")
        return pipeline._check_group(group, packs, shared, options)

    reports, errors = remote.check_on_ray(
        groups, packs, engine.shared_aliases(packs), options, check_group, batch_size=1
    )
    names = [Path(g[0][0].root).name for g in groups]
    failed = names.index("kto_diverging")
    assert reports[failed] is None
    assert errors == [
        f"{groups[failed][0][0].root}: the Ray task checking it failed (RuntimeError: worker lost its disk)"
    ]
    assert reports[names.index("kto_healthy")] is not None and (marks / "kto_healthy").exists()
    assert sum(r is not None for r in reports) == len(groups) - 1


def test_a_misspelt_executor_is_a_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", SAMPLES / "kto_healthy", "--executor", "rya"], exit_code=2)
    assert "expected 'local', 'ray' or 'ray://HOST:PORT'" in result.stderr


def test_batches_cover_every_run_once() -> None:
    for count in (0, 1, 7, 100, 1001):
        for workers in (1, 2, 16):
            chunks = remote.batches(count, workers)
            assert [i for c in chunks for i in c] == list(range(count))
