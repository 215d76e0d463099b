"""A folder of many runs takes the sweep path (pipeline._batched: ingest.many + rules.batch);
its reports are exactly those of checking each run on its own."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from logscope import pipeline, workers
from logscope.report import REPORTERS, Document

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def _runs_json(result: pipeline.CheckResult, packs: list) -> list[dict]:  # type: ignore[type-arg]
    doc = Document(reports=result.reports, fail_on=None, packs=packs)
    return json.loads(REPORTERS["json"].render(doc))["runs"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("batch", [pipeline.BATCH_RUNS, 3])
def test_a_sweep_says_what_each_run_says_alone(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sample format (one-file JSONL runs batched, the others read one by one, runs of
    one process merged): the sweep path equals checking each group of runs alone, also when
    it spans many batches (each read in a thread while the one before is judged)."""
    from logscope.ingest.discover import discover

    monkeypatch.setattr(pipeline, "BATCH_RUNS", batch)
    from logscope.rules import engine

    packs = pipeline.load_packs()
    shared = engine.shared_aliases(packs)
    options = pipeline._Options(frozenset(), None, None)
    groups = pipeline._same_run_candidates([(found, SAMPLES) for found in discover(SAMPLES)])
    alone = pipeline.CheckResult()
    for group in groups:
        alone.reports.extend(pipeline._check_group(group, packs, shared, options))
    together = pipeline.check([SAMPLES], packs)
    assert len(together.reports) == len(alone.reports) >= 20
    assert _runs_json(together, packs) == _runs_json(alone, packs)


def test_a_sweep_against_a_baseline_says_what_each_run_says_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Against a baseline each run is judged on its own, batch after batch."""
    import logscope
    from logscope.ingest.discover import discover
    from logscope.rules import engine

    monkeypatch.setattr(pipeline, "BATCH_RUNS", 2)
    baseline = logscope.read(SAMPLES / "kto_healthy")
    packs = pipeline.load_packs()
    shared = engine.shared_aliases(packs)
    options = pipeline._Options(frozenset(), None, None, baseline)
    kto = [SAMPLES / name for name in ("kto_healthy", "kto_diverging", "dpo_broken")]
    targets = [(found, path) for path in kto for found in discover(path)]
    alone = pipeline.CheckResult()
    for group in pipeline._same_run_candidates(targets):
        alone.reports.extend(pipeline._check_group(group, packs, shared, options))
    together = pipeline.check(kto, packs, baseline=baseline)
    runs = _runs_json(together, packs)
    assert runs == _runs_json(alone, packs) and len(runs) == 3
    assert any(f["rule"].startswith("baseline/") for r in runs for f in r["findings"])


def test_progress_counts_runs_of_a_sweep(tmp_path: Path) -> None:
    for index in range(5):
        run = tmp_path / f"run_{index}"
        run.mkdir()
        lines = [json.dumps({"step": s, "loss": 1.0 / s}) for s in range(1, 30)]
        (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    seen: list[tuple[str, int, int]] = []
    result = pipeline.check([tmp_path], pipeline.load_packs(), progress=lambda *a: seen.append(a))
    assert len(result.reports) == 5 and not result.errors
    assert seen[-1] == ("5/5 runs", 5, 5)


def test_a_streamed_sweep_hands_on_batches_in_order_and_releases_frames(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`on_batch` gets every report once, batch by batch, in the order of a plain check,
    with the same errors; afterwards the runs' frames are released (memory of one batch)."""
    monkeypatch.setattr(pipeline, "BATCH_RUNS", 3)
    packs = pipeline.load_packs()
    plain = pipeline.check([SAMPLES], packs)
    expected = _runs_json(plain, packs)
    seen: list[list[str]] = []
    texts: list[str] = []

    def take(reports: list) -> None:  # type: ignore[type-arg]
        assert all(r.run.frame.height for r in reports if r.run.sources[0].rows)
        seen.append([r.run.path for r in reports])
        doc = Document(reports=reports, fail_on=None, packs=packs)
        texts.extend(json.dumps(r) for r in json.loads(REPORTERS["json"].render(doc))["runs"])

    streamed = pipeline.check([SAMPLES], packs, on_batch=take)
    assert len(seen) > 3  # three groups of runs (of one process maybe) a batch
    assert [path for batch in seen for path in batch] == [r.run.path for r in plain.reports]
    assert [json.loads(t) for t in texts] == expected
    assert streamed.errors == plain.errors
    assert all(r.run.frame.height == 0 and r.run.origins is None for r in streamed.reports)


def test_check_streams_its_json_as_it_writes_it_whole(
    cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`check --format json` on stdout (streamed per batch) says what `-o FILE` (rendered
    at once, the table beside it) says, byte for byte, and exits alike."""
    monkeypatch.setattr(pipeline, "BATCH_RUNS", 3)
    streamed = cli(["check", SAMPLES, "-f", "json"], exit_code=1).stdout
    cli(["check", SAMPLES, "-f", "json", "-o", tmp_path / "whole.json"], exit_code=1)
    assert streamed == (tmp_path / "whole.json").read_text()
    assert len(json.loads(streamed)["runs"]) >= 20


@pytest.mark.parametrize("jobs", [2, None])
def test_worker_processes_stream_the_same_text_and_errors(
    jobs: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With worker processes (this one judging too, whenever the batch due is still in a
    worker) each run is rendered where it was judged and only its text comes back: the
    texts, their order, the errors and the findings are those of one process. `jobs=None`
    takes the workers once a sweep reaches AUTO_JOBS_RUNS runs."""
    from functools import partial

    from logscope.report.json import run_text

    monkeypatch.setattr(pipeline, "BATCH_RUNS", 3)
    monkeypatch.setattr(workers, "AUTO_JOBS_RUNS", 4)
    monkeypatch.setattr(workers, "cores", lambda: 2)
    used: list[int] = []
    real = pipeline._Pool._run

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        used.append(self.jobs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pipeline._Pool, "_run", spy)
    packs = pipeline.load_packs()
    select = {"kto", "common/loss-nan"}  # runs of other packs are left no rule: errors
    alone = pipeline.check([SAMPLES], packs, select=select)
    texts: list[str] = []
    sink = pipeline.TextSink(partial(run_text, fail_on=None), texts.extend)
    pooled = pipeline.check([SAMPLES], packs, select=select, jobs=jobs, on_texts=sink)
    assert used == [2]
    assert [json.loads(t) for t in texts] == _runs_json(alone, packs)
    assert pooled.errors == alone.errors and any("no rule to check" in e for e in alone.errors)
    assert [r.findings for r in pooled.reports] == [r.findings for r in alone.reports]
    assert all(r.run.frame.height == 0 for r in pooled.reports)


def test_a_small_sweep_stays_in_one_process_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below AUTO_JOBS_RUNS runs spawning workers costs more than it saves."""
    monkeypatch.setattr(pipeline, "_Pool", None)  # any use of a pool would fail
    result = pipeline.check([SAMPLES], pipeline.load_packs(), jobs=None)
    assert len(result.reports) >= 20


def test_a_folder_of_many_sub_folders_spawns_its_workers_before_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers start up while this process discovers the runs when the folders hint at
    a sweep; when discovery finds fewer runs they are let go and the check stays here."""
    monkeypatch.setattr(workers, "AUTO_JOBS_RUNS", 4)
    monkeypatch.setattr(workers, "cores", lambda: 2)
    assert workers.sweep_hint([SAMPLES]) == 4 and workers.sweep_hint([tmp_path]) == 0
    opened: list[int] = []

    class Spy(pipeline._Pool):  # type: ignore[misc]
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            opened.append(args[1])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_Pool", Spy)
    for index in range(5):  # five folders, one run: the hint was wrong
        (tmp_path / f"empty_{index}").mkdir()
    (tmp_path / "empty_0" / "metrics.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    alone = pipeline.check([tmp_path], pipeline.load_packs(), jobs=None)
    assert opened == [2] and len(alone.reports) == 1 and not alone.errors


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_batches_are_each_judged_once_and_handed_on_in_order(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_Feed, whatever the workers' speed: every batch judged once (by a worker or here),
    results in the order of discovery, this process never more than AHEAD batches ahead."""
    import random

    for seed in range(12):
        rng = random.Random(seed)
        monkeypatch.setattr(pipeline, "AHEAD", rng.randint(0, 3))
        _feed_round(rng, workers)


def _feed_round(rng: object, workers: int) -> None:
    import random
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    assert isinstance(rng, random.Random)
    count = rng.randint(1, 14)
    delays = [rng.random() * 0.004 for _ in range(count)]
    batches: list = [[[(index, Path())]] for index in range(count)]  # type: ignore[type-arg]
    judged: list[int] = []
    lock = threading.Lock()

    def judge(batch: list, where: str) -> tuple[str, int]:  # type: ignore[type-arg]
        index = batch[0][0][0]
        time.sleep(delays[index])
        with lock:
            judged.append(index)
        return where, index

    with ThreadPoolExecutor(workers) as pool:
        feed = pipeline._Feed(batches, lambda b: pool.submit(judge, b, "worker"))
        for _ in range(workers):
            feed.send()
        got = []
        for due in range(count):
            got.append(feed.result(due, lambda b: judge(b, "here")))
            assert len(feed.held) <= pipeline.AHEAD + 1
        feed.stop()
    assert [index for _, index in got] == list(range(count))
    assert sorted(judged) == list(range(count))


def test_a_batch_that_cannot_be_sent_fails_where_it_is_due() -> None:
    """A broken pool (submit raises) is not a traceback in the pool's thread: the error
    comes out of the check where that batch's results were due."""
    from concurrent.futures import Future

    def submit(batch: list) -> Future:  # type: ignore[type-arg]
        raise RuntimeError("the pool is broken")

    batches: list = [[[]], [[]]]  # type: ignore[type-arg]
    feed = pipeline._Feed(batches, submit)
    feed.send()
    with pytest.raises(RuntimeError, match="broken"):
        feed.result(0, lambda batch: "here")


@pytest.mark.parametrize("count", [1, 7, 99, 100, 1000, 2000, 10001])
@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_pool_batches_cover_the_runs_and_shrink_towards_the_end(count: int, jobs: int) -> None:
    bounds = pipeline._guided(count, jobs)
    assert bounds[0][0] == 0 and bounds[-1][1] == count
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    sizes = [b - a for a, b in bounds]
    assert all(0 < size <= pipeline.BATCH_RUNS for size in sizes)
    assert sizes == sorted(sizes, reverse=True)
    assert all(size >= pipeline.MIN_BATCH for size in sizes[:-1])


@pytest.mark.parametrize(("idle", "expected"), [(1.5, [2]), (0.2, [])])
def test_a_mid_size_sweep_takes_a_second_process_only_when_a_core_is_idle(
    idle: float, expected: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """From SPARE_JOBS_RUNS runs (below AUTO_JOBS_RUNS) a second process judges half the
    batches when the load average leaves a core idle, and none on a busy machine; the
    load is read once per check, and the reports are the same either way."""
    from logscope import cores

    monkeypatch.setattr(pipeline, "BATCH_RUNS", 3)
    monkeypatch.setattr(workers, "SPARE_JOBS_RUNS", 4)
    monkeypatch.setattr(workers, "cores", lambda: 2)
    asked: list[float] = []

    def load() -> float:
        asked.append(idle)
        return idle

    monkeypatch.setattr(cores, "idle", load)
    opened: list[int] = []

    class Spy(pipeline._Pool):  # type: ignore[misc]
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            opened.append(args[1])
            super().__init__(*args, **kwargs)

    packs = pipeline.load_packs()
    alone = pipeline.check([SAMPLES], packs, jobs=1)
    monkeypatch.setattr(pipeline, "_Pool", Spy)
    found = pipeline.check([SAMPLES], packs, jobs=None)
    assert opened == expected and len(asked) == 1
    assert [repr(r.findings) for r in found.reports] == [repr(r.findings) for r in alone.reports]
    assert workers.count(3, 5) == 3 and workers.count(None, 3) == 1  # --jobs exact


def test_the_idle_cores_are_the_usable_cores_minus_the_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from logscope import cores

    monkeypatch.setattr(cores, "usable", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.5, 0.0, 0.0))
    assert cores.idle() == 0.5


@pytest.mark.parametrize(
    ("failure", "code"), [(RuntimeError("boom"), 2), (KeyboardInterrupt(), 130)]
)
def test_a_streamed_report_stays_one_json_document_when_the_check_fails(
    cli, monkeypatch: pytest.MonkeyPatch, failure: BaseException, code: int
) -> None:  # type: ignore[no-untyped-def]
    """A crash (or Ctrl-C) after the first batch was written: stdout still parses, with the
    runs written so far and the failure among `errors`; the exit is the boundary's (2 for a
    crash, with its one line on stderr; 130 for Ctrl-C)."""
    monkeypatch.setattr(pipeline, "BATCH_RUNS", 3)
    real = pipeline._judge_groups
    calls: list[int] = []

    def fail_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise failure
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_judge_groups", fail_second)
    result = cli(["check", SAMPLES, "-f", "json", "--jobs", "1"], exit_code=code)
    document = json.loads(result.stdout)
    assert 1 <= len(document["runs"]) <= 3  # the first batch: groups of runs of one process
    (error,) = document["errors"]
    assert "stopped before every run was checked" in error
    assert code == 130 or "internal error" in result.stderr
