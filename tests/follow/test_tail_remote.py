"""`logscope tail` on object storage, against a real S3-compatible server (moto's server mode,
tests/s3server.py): the same table as a local tail, new bytes of a growing log read by
ranged requests while following, whole re-reads for rewritten objects, and a clear exit 2
for a missing bucket, denied credentials or an empty prefix."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto")

import s3server
from s3server import upload

from logscope.errors import InputError
from logscope.follow.remote import Mirror

SAMPLES = Path(__file__).resolve().parents[2] / "sample_logs"
s3, aws, denied = s3server.s3, s3server.aws, s3server.denied  # fixtures


def _put(url: str, data: bytes) -> None:
    """Write one object whole (how a sync job ships a growing log: a bigger object)."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    bucket = url.removeprefix("s3://").split("/")[0]
    if not fs.exists(bucket):
        fs.mkdir(bucket)
    fs.pipe_file(url.removeprefix("s3://"), data)


def _line(step: int, loss: float) -> bytes:
    return (json.dumps({"step": step, "loss": loss, "grad_norm": 1.0}) + "\n").encode()


def test_tail_of_a_run_in_s3_shows_what_a_local_tail_shows(aws: str, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = tmp_path / "kto_diverging"
    shutil.copytree(SAMPLES / "kto_diverging", run)
    upload(run, "s3://tails/team/kto_diverging")
    local = cli(["tail", run, "-n", "5"], exit_code=1).stdout
    remote = cli(["tail", "s3://tails/team/kto_diverging/", "-n", "5"], exit_code=1).stdout
    assert remote == local.replace(str(run), "s3://tails/team/kto_diverging")
    assert "SUMMARY caught up: step 40, 40 rows" in remote


def test_a_single_object_url(aws: str, cli) -> None:  # type: ignore[no-untyped-def]
    _put("s3://tails/one/metrics.jsonl", b"".join(_line(s, 2.0 - s / 100) for s in range(1, 31)))
    out = cli(["tail", "s3://tails/one/metrics.jsonl", "-n", "3"]).stdout
    assert "SUMMARY caught up: step 30, 30 rows" in out


def test_follow_reads_appended_lines_by_range_and_rewrites_whole(aws: str, tmp_path: Path) -> None:
    url = "s3://tails/live/run"
    body = b"".join(_line(s, 2.0 - s / 100) for s in range(1, 21))
    _put(f"{url}/metrics.jsonl", body)
    _put(f"{url}/trainer_state.json", json.dumps({"log_history": []}).encode())
    mirror = Mirror(url + "/", tmp_path, every=0)
    assert mirror.start()
    copy = mirror.local / "metrics.jsonl"
    assert copy.read_bytes() == body and mirror.requests == 2
    assert mirror.shown(copy) == f"{url}/metrics.jsonl"

    mirror.appendable = lambda path: path.name.endswith(".jsonl")
    grown = body + b"".join(_line(s, 2.0 - s / 100) for s in range(21, 41))
    _put(f"{url}/metrics.jsonl", grown)
    assert mirror.refresh() == []
    assert copy.read_bytes() == grown
    assert (mirror.requests, mirror.ranged) == (3, 1)  # one ranged GET, nothing else fetched

    rewritten = b"".join(_line(s, 9.0) for s in range(1, 50))  # not an append: new content
    _put(f"{url}/metrics.jsonl", rewritten)
    mirror.refresh()
    assert copy.read_bytes() == rewritten and mirror.ranged == 1  # fetched whole

    state = json.dumps({"log_history": [{"step": 1, "loss": 1.0}]}).encode()
    _put(f"{url}/trainer_state.json", state)  # a snapshot format: always whole
    mirror.refresh()
    assert (mirror.local / "trainer_state.json").read_bytes() == state

    import s3fs

    s3fs.S3FileSystem(skip_instance_cache=True).rm("tails/live/run/trainer_state.json")
    mirror.refresh()
    assert not (mirror.local / "trainer_state.json").exists()


def test_tail_follow_on_s3_announces_rows_written_after_it_started(
    aws: str, cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    url = "s3://tails/growing/run"
    lines = [_line(s, 2.0 - s / 100) for s in range(1, 11)]
    _put(f"{url}/metrics.jsonl", b"".join(lines))
    following = threading.Event()  # set once tail has made its first copy
    first_sync = Mirror.start

    def start(mirror: Mirror) -> bool:
        synced = first_sync(mirror)
        following.set()
        return synced

    monkeypatch.setattr(Mirror, "start", start)

    def grow() -> None:  # the sync job: a bigger object, twice, while tail follows
        assert following.wait(60)  # rows written before tail started would not be "new"
        for last in (30, 60):
            time.sleep(1.0)
            lines.extend(_line(s, 2.0 - s / 100) for s in range(len(lines) + 1, last + 1))
            _put(f"{url}/metrics.jsonl", b"".join(lines))

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        args = ["tail", f"{url}/", "-f", "--plain", "--every", "10", "-n", "1", "--idle", "3"]
        out = cli([*args, "--poll", "0.05"]).stdout
    finally:
        writer.join()
    assert "PROGRESS step=60" in out
    assert "SUMMARY idle: step 60, 60 rows" in out


def test_a_missing_bucket_or_empty_prefix_is_a_clear_usage_error(
    aws: str, cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    result = cli(["tail", "s3://no-such-bucket/runs/x"], exit_code=2)
    assert "s3://no-such-bucket/runs/x: no such bucket or prefix" in result.stderr
    _put("s3://tails/other/file.jsonl", _line(1, 1.0))
    result = cli(["tail", "s3://tails/nothing-here/"], exit_code=2)
    assert "s3://tails/nothing-here: no such bucket or prefix, or nothing under it" in result.stderr
    with pytest.raises(InputError, match="no such bucket"):
        Mirror("s3://no-such-bucket/x", tmp_path).start()


def test_denied_credentials_are_a_clear_usage_error(denied: str, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["tail", "s3://private/runs/x", "-f", "--idle", "1"], exit_code=2)
    assert "s3://private/runs/x: access denied" in result.stderr
    assert "not-a-secret" not in result.stderr
