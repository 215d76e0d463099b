"""Worker processes started from the raw command line, before the check has loaded
(logscope.workers.prestart), and taken over by the check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from logscope import pipeline, workers

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


@pytest.fixture
def sweepish(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The samples folder counts as a mid-size sweep on a machine with an idle core."""
    monkeypatch.setattr(workers, "SPARE_JOBS_RUNS", 4)
    monkeypatch.setattr(workers, "cores", lambda: 2)
    monkeypatch.setattr(workers, "spare_core", lambda: True)
    yield
    workers.discard()


@pytest.mark.usefixtures("sweepish")
def test_the_check_takes_the_workers_started_before_it_and_says_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    packs = pipeline.load_packs()
    alone = pipeline.check([SAMPLES], packs, jobs=1)
    workers.prestart([str(SAMPLES), "--format", "json", "--fail-on", "never"])
    assert workers.prestarted_spare() is True
    spawned: list[int] = []
    real = workers.spawn

    def spy(jobs: int):  # type: ignore[no-untyped-def]
        spawned.append(jobs)
        return real(jobs)

    monkeypatch.setattr(workers, "spawn", spy)
    pooled = pipeline.check([SAMPLES], packs, jobs=None)
    assert spawned == []  # the check spawned none of its own
    assert workers.take() is None  # and owns (and closed) the ones it took
    assert [repr(r.findings) for r in pooled.reports] == [repr(r.findings) for r in alone.reports]


@pytest.mark.usefixtures("sweepish")
@pytest.mark.parametrize(
    "options",
    [
        ["--jobs", "1"],
        ["-j1"],
        ["--executor", "ray"],
        ["--help"],
        ["--show-settings"],
        ["--jobs", "two"],  # malformed: Typer's message, not a guess
    ],
)
def test_choices_the_check_makes_itself_start_nothing(options: list[str]) -> None:
    workers.prestart([str(SAMPLES), *options])
    assert workers.take() is None


@pytest.mark.usefixtures("sweepish")
@pytest.mark.parametrize("options", [["--jobs", "3"], ["--jobs=3"], ["-j", "3"], ["-j3"]])
def test_an_explicit_process_count_is_started_early(options: list[str]) -> None:
    workers.prestart([*options, str(SAMPLES)])
    started = workers.take()
    assert started is not None and started[1] == 3
    started[0].shutdown(cancel_futures=True)


@pytest.mark.usefixtures("sweepish")
def test_a_single_run_or_a_missing_path_starts_nothing(tmp_path: Path) -> None:
    run = SAMPLES / "kto_diverging"
    workers.prestart([str(run), "--jobs", "2"])  # one run: nothing to share
    workers.prestart([str(tmp_path / "nowhere"), "json", "never"])  # option values, no folder
    assert workers.take() is None


@pytest.mark.usefixtures("sweepish")
def test_workers_the_check_does_not_want_are_let_go() -> None:
    """Started for the default (two processes), but the check is asked for one."""
    workers.prestart([str(SAMPLES)])
    processes = _processes()
    result = pipeline.check([SAMPLES], pipeline.load_packs(), jobs=1)
    assert workers.take() is None and len(result.reports) >= 20
    _stopped(processes)


@pytest.mark.usefixtures("sweepish")
def test_workers_nobody_took_are_let_go_when_the_command_ends() -> None:
    workers.prestart([str(SAMPLES)])
    processes = _processes()
    workers.discard()
    assert workers.take() is None
    _stopped(processes)


def _processes() -> list[int]:
    """The prestarted workers' process ids (started: one was submitted a task)."""
    executor = workers._Started.executor
    assert executor is not None
    found = list(executor._processes)  # type: ignore[attr-defined]
    assert found
    return found


def _stopped(pids: list[int]) -> None:
    """Stopped at once, not left to finish importing (which held up the command's exit)."""
    for pid in pids:
        assert _ends_within(pid, 5)


def test_a_busy_machine_keeps_a_mid_size_sweep_in_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "SPARE_JOBS_RUNS", 4)
    monkeypatch.setattr(workers, "spare_core", lambda: False)
    workers.prestart([str(SAMPLES)])
    assert workers.take() is None


def _ends_within(pid: int, seconds: float) -> bool:
    """Whether the process is gone or a zombie in time. Not `Process.is_alive()`: the pool's
    own thread may reap the worker first, and a Process whose pid someone else reaped
    reports itself alive for ever (its waitpid gets ECHILD, read as "not started yet")."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):  # reaped, or vanishing as read
            return True
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False


def test_workers_let_go_are_stopped_even_in_the_middle_of_a_task() -> None:
    """Shutting the pool down would wait for the task (here 60 s; in a real check a worker
    still importing); letting go stops it now."""
    import time

    executor = workers.spawn(2)
    busy = executor.submit(time.sleep, 60)
    pids = list(executor._processes)  # type: ignore[attr-defined]
    workers.let_go(executor)
    for pid in pids:
        assert _ends_within(pid, 10)
    assert busy.cancelled() or busy.exception(timeout=10) is not None
