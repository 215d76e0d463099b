"""A big JSONL log read while the command starts up (logscope.ingest.ahead), taken by the
check when it gets to the file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from logscope.ingest import ahead, read_found
from logscope.ingest.discover import discover


@pytest.fixture(autouse=True)
def small_is_big(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(ahead, "MIN_BYTES", 1)
    yield
    ahead.discard()


def _log(path: Path, steps: int = 300, loss: float = 1.0) -> Path:
    path.write_text(
        "".join(
            json.dumps({"step": s, "loss": loss / s, "lr": 1e-5}) + "\n" for s in range(1, steps)
        )
    )
    return path


def _read(path: Path, progress: object = None) -> object:
    (found,) = discover(path)
    return read_found(found, path, progress)  # type: ignore[arg-type]


def test_the_check_takes_the_read_started_ahead_and_it_is_the_same_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _log(tmp_path / "metrics.jsonl")
    expected = _read(log)
    import threading

    from logscope.ingest import jsonl

    calls: list[str] = []
    real = jsonl.read

    def spy(*args: object) -> object:
        calls.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(jsonl, "read", spy)
    ahead.start([str(log), "--format", "json", "-o", str(tmp_path / "report.json")])
    seen: list[tuple[str, int, int]] = []
    run = _read(log, lambda *args: seen.append(args))
    assert calls == ["logscope-read-ahead"]  # read once, ahead
    assert run.frame.equals(expected.frame) and run.path == expected.path  # type: ignore[attr-defined]
    assert seen and seen[-1][0] == str(log) and seen[-1][1] == seen[-1][2]  # progress relayed
    assert ahead._State.reading is None


def test_a_file_written_to_meanwhile_is_read_again(tmp_path: Path) -> None:
    log = _log(tmp_path / "metrics.jsonl")
    ahead.start([str(log)])
    assert ahead._State.reading is not None
    ahead._State.reading.thread.join()
    _log(log, steps=400, loss=2.0)  # rewritten: another size
    run = _read(log)
    assert run.frame.height == 399  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "extra",
    [
        ["{other}"],  # two logs
        ["{folder}"],  # a folder too: a sweep, not one file
        ["--help"],
        ["--show-settings"],
        ["--baseline", "{other}"],
        ["--executor", "ray"],
    ],
)
def test_nothing_is_read_ahead_unless_one_big_log_is_all_the_check_reads(
    tmp_path: Path, extra: list[str]
) -> None:
    log = _log(tmp_path / "metrics.jsonl")
    other = _log(tmp_path / "other.jsonl")
    folder = tmp_path / "runs"
    folder.mkdir()
    ahead.start([str(log), *(e.format(other=other, folder=folder) for e in extra)])
    assert ahead._State.reading is None


def test_a_small_log_is_read_when_the_check_gets_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ahead, "MIN_BYTES", 1 << 30)
    ahead.start([str(_log(tmp_path / "metrics.jsonl"))])
    assert ahead._State.reading is None


def test_what_the_read_raised_is_raised_where_the_check_reads_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logscope.ingest import jsonl

    def crash(*args: object) -> None:
        raise IndexError("the bug being simulated")

    monkeypatch.setattr(jsonl, "read", crash)
    log = _log(tmp_path / "metrics.jsonl")
    ahead.start([str(log)])
    with pytest.raises(IndexError, match="simulated"):
        _read(log)
