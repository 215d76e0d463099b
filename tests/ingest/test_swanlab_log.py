"""SwanLab offline run folders written by the real swanlab SDK (offline, no network), read
back without swanlab: every logged scalar at its step, NaN/Inf, nested keys, metadata,
resumed runs, discovery, tail, and damaged files."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from swanlab_sdk import LONG_ID, MAIN_ROWS, RESUME_ID, make_runs, swanlab_file
from values import flat, same

from logscope.follow.sources import open_feed
from logscope.ingest import read_run, read_runs
from logscope.ingest.discover import discover
from logscope.ingest.leveldblog import BLOCK
from logscope.ingest.swanlab_log import run_id


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_runs(tmp_path_factory.mktemp("swanlab"))


def test_every_logged_scalar_is_read_at_its_step(runs):
    run = read_run(swanlab_file(runs["two"]).parent)

    rows = {r["step"]: r for r in run.frame.to_dicts()}
    for step, logged in MAIN_ROWS:
        for key, value in flat(logged, "/").items():
            assert same(rows[step][key], float(value)), (step, key)  # type: ignore[arg-type]
    assert math.isnan(rows[3]["grad_norm"])
    assert [rows[s]["grad_norm"] for s in (4, 5)] == [math.inf, -math.inf]
    assert rows[0]["zero"] == 0.0 and rows[0]["train/kl"] == 0.0  # protobuf leaves zeros out
    assert rows[20]["train/loss"] == 0.05 and rows[20]["train/kl"] is None
    assert rows[23]["after"] == 1.0  # logged without a step: SwanLab counted on
    assert run.frame.get_column("wall_time").min() > 1.6e9
    assert {"train/deep/x", "<img src=x onerror=alert(1)>"} <= set(run.metrics)


def test_text_media_is_not_a_metric_and_is_said(runs):
    run = read_run(swanlab_file(runs["two"]))
    (source,) = run.sources

    assert "sample" not in run.metrics
    assert "'sample' holds SwanLab text on 2 step(s): not a metric, skipped" in source.notes
    assert source.problems == ()


def test_run_metadata_comes_from_the_log_and_its_files(runs):
    run = read_run(swanlab_file(runs["two"]))

    assert run.meta["swanlab.name"] == "main run"
    assert run.meta["swanlab.project"] == "logscope-test"
    assert run.meta["swanlab.tags"] == ["a", "b"]
    assert run.meta["swanlab.state"] == "finished"
    assert run.meta["config"] == {"lr": 1e-3, "model": {"name": "tiny"}}
    assert run.meta["swanlab.metadata"]["swanlab"]["version"].startswith("0.")


def test_a_run_over_many_blocks_is_read_whole(runs):
    path = swanlab_file(runs["two"], LONG_ID)
    assert path.stat().st_size > 4 * BLOCK
    run = read_run(path)

    assert run.steps == {"first": 0, "last": 1499, "count": 1500}
    assert run.frame.get_column("reward").to_list() == [s * 0.5 for s in range(1500)]
    assert run.sources[0].problems == ()


def test_discovery_finds_each_run_in_swanlog_and_nothing_else(runs):
    """The project folder holding `swanlog/`: one run per run id; SwanLab's own `media/`
    text files, `debug/debug.log` and `files/` are no logs of their own."""
    found = discover(runs["two"])

    assert sorted(f.root.parent.name for f in found) == ["swanlog", "swanlog"]
    assert [[(p.name, fmt) for p, fmt in f.files] for f in found] == [
        [(f"run-{run_id(f.files[0][0])}.swanlab", "swanlab")] for f in found
    ]
    assert LONG_ID in {run_id(f.files[0][0]) for f in found}


def test_resumed_folders_of_one_run_id_merge_into_one_run(runs):
    (run,) = read_runs(runs["resumed"])

    assert run.frame.get_column("loss").to_list() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert [(r.step, r.previous_step) for r in run.resumes] == [(3, 2)]
    assert "2 SwanLab folders of one run id (a resumed run) read as one run" in run.notes
    assert all(RESUME_ID in s.path for s in run.sources)


def test_check_reads_the_swanlog_folder(cli, runs):  # type: ignore[no-untyped-def]
    result = cli(["check", runs["two"] / "swanlog", "--format", "json"], exit_code=1)
    report = json.loads(result.stdout)

    assert len(report["runs"]) == 2
    main = next(r for r in report["runs"] if LONG_ID not in r["path"])
    assert main["sources"][0]["format"] == "swanlab"
    assert any(f["rule"] == "common/grad-norm-nonfinite" for f in main["findings"])


def test_read_without_the_swanlab_package(runs):
    """logscope never imports swanlab: reading works with the package made unimportable."""
    code = (
        "import sys; sys.modules['swanlab'] = None\n"
        "import logscope\n"
        f"run = logscope.read({str(swanlab_file(runs['two']))!r})\n"
        "assert run.steps['count'] == 10, run.steps\n"
        "print('swanlab' in [m.split('.')[0] for m in sys.modules if sys.modules[m]])"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "False"


def test_a_run_killed_mid_write_keeps_what_was_written(runs, tmp_path):
    source = swanlab_file(runs["two"], LONG_ID)
    data = source.read_bytes()
    cut = tmp_path / source.name
    cut.write_bytes(data[: 2 * BLOCK + 1000])

    run = read_run(cut)
    (problem,) = run.sources[0].problems

    assert 0 < run.steps["count"] < 1500
    assert "file ends inside" in problem.message and "byte" in problem.message
    assert "no finish record" in " ".join(run.sources[0].notes)


def test_a_damaged_block_is_reported_with_its_offset_and_the_rest_read(runs, tmp_path):
    source = swanlab_file(runs["two"], LONG_ID)
    data = bytearray(source.read_bytes())
    data[BLOCK + 500] ^= 0xFF  # inside the second block
    damaged = tmp_path / source.name
    damaged.write_bytes(bytes(data))

    run = read_run(damaged)
    messages = [p.message for p in run.sources[0].problems]

    assert any("checksum mismatch" in m for m in messages), messages
    assert any(f"-{2 * BLOCK - 1} " in m for m in messages)  # the rest of the block skipped
    assert run.steps["last"] == 1499  # later blocks still read
    assert 1000 < run.steps["count"] < 1500


def test_not_a_swanlab_log_is_one_problem(tmp_path):
    fake = tmp_path / "run-abc.swanlab"
    fake.write_bytes(b":W&B\xe1\xbe\x00" + b"\x00" * 100)

    run = read_run(fake)
    (problem,) = run.sources[0].problems

    assert "not a SwanLab run log" in problem.message and run.steps["count"] == 0


def test_tail_follows_a_growing_swanlab_log(runs, tmp_path):
    data = swanlab_file(runs["two"], LONG_ID).read_bytes()
    live = tmp_path / "swanlog" / f"run-20260101_000000-{LONG_ID}" / f"run-{LONG_ID}.swanlab"
    live.parent.mkdir(parents=True)
    live.write_bytes(data[: BLOCK + 100])
    (found,) = discover(tmp_path)
    ((path, fmt),) = found.files
    source = open_feed(path, fmt, "live")

    first = source.poll()
    assert first.frame is not None
    seen = first.frame.height
    with live.open("ab") as handle:
        handle.write(data[BLOCK + 100 :])
    later = source.poll()

    assert later.frame is not None
    assert seen + later.frame.height == 1500
    assert later.frame.get_column("step").max() == 1499


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_cut_or_flipped_byte_is_reported_never_raised(runs, tmp_path, data):
    path = swanlab_file(runs["two"])
    original = path.read_bytes()
    full = read_run(path).frame
    buf = bytearray(original)
    if data.draw(st.booleans(), label="cut"):
        buf = buf[: data.draw(st.integers(0, len(buf) - 1), label="cut at")]
    else:
        at = data.draw(st.integers(0, len(buf) - 1), label="flip at")
        buf[at] ^= data.draw(st.integers(1, 255), label="mask")
    copy = tmp_path / path.name
    copy.write_bytes(bytes(buf))

    run = read_run(copy)

    assert run.frame.height <= full.height
    if bytes(buf) != original:
        changed = run.frame.to_dicts() != full.to_dicts()
        # a cut exactly between records is what a run still being written looks like: rows
        # may be missing then, but the reader must say the run has no finish record
        unfinished = any("no finish record" in note for note in run.sources[0].notes)
        said = run.sources[0].problems or (unfinished and len(buf) < len(original))
        assert not changed or said, "values changed without a problem"


def test_tail_shows_a_swanlab_run_like_check(cli, runs, tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "one"
    shutil.copytree(swanlab_file(runs["two"]).parent, folder / "swanlog" / "run-1")
    out = cli(["tail", folder, "--plain"], exit_code=1).stdout

    assert "common/grad-norm-nonfinite" in out
