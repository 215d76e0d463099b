"""W&B offline run folders written by the real wandb SDK (offline, no network), read back
without wandb: every logged value, NaN/Inf, nested keys, resumed runs, damaged files."""

from __future__ import annotations

import json
import math
import shutil
import struct
from pathlib import Path

import polars as pl
import pytest
from values import flat, same
from wandb_sdk import MAIN_ROWS, make_runs, wandb_file

import logscope
from logscope.ingest import read_run, read_runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_runs(tmp_path_factory.mktemp("wandb"))


def test_every_logged_value_is_read_as_logged(runs):
    run = read_run(wandb_file(runs["two"], "main0001").parent)

    rows = {r["step"]: r for r in run.frame.to_dicts()}
    for step, logged in MAIN_ROWS:
        for key, value in flat(logged, ".").items():
            if isinstance(value, (bool, str)):
                assert key not in run.frame.columns
            else:
                assert same(rows[step][key], float(value)), (step, key)
    assert [rows[s]["grad_norm"] for s in (4, 5)] == [math.inf, -math.inf]
    assert math.isnan(rows[3]["grad_norm"])
    assert rows[20]["train/loss"] == 0.05 and rows[20]["train.kl"] is None
    assert run.frame.get_column("wall_time").min() > 1.6e9


def test_nested_dicts_are_joined_with_dots_as_wandb_shows_them(runs):
    run = read_run(wandb_file(runs["two"], "main0001"))

    assert {"train.kl", "train.deep.x", "train/loss"} <= set(run.metrics)
    assert "<img src=x onerror=alert(1)>" in run.metrics


def test_text_booleans_and_media_are_not_metrics_and_are_said(runs):
    run = read_run(wandb_file(runs["two"], "main0001"))
    (source,) = run.sources

    assert run.meta["phase"] == "main"  # the last text value
    assert run.meta["big"].startswith("xxx") and run.meta["big"].endswith("…")
    assert not any(m.startswith(("table", "flag", "big", "phase")) for m in run.metrics)
    assert "'flag' holds true/false values on 8 step(s): not a metric, skipped" in source.notes
    assert any(n.startswith("'table' holds W&B table-file media") for n in source.notes)
    assert source.problems == ()


def test_run_metadata_comes_from_the_log_itself(runs):
    run = read_run(wandb_file(runs["two"], "main0001"))

    assert run.meta["wandb.run_id"] == "main0001"
    assert run.meta["wandb.name"] == "main run"
    assert run.meta["wandb.project"] == "logscope-test"
    assert run.meta["config"] == {"lr": 1e-3, "model": {"name": "tiny"}}
    assert run.meta["wandb.exit_code"] == 0


def test_files_folder_adds_config_and_summary_and_reports_bad_yaml(runs, tmp_path):
    folder = tmp_path / "run-20260101_000000-main0001"
    shutil.copytree(wandb_file(runs["two"], "main0001").parent, folder)
    (folder / "files").mkdir(exist_ok=True)
    (folder / "files" / "config.yaml").write_text(
        "_wandb:\n  value: {}\nlr:\n  desc: null\n  value: 0.002\nseed:\n  value: 7\n"
    )
    (folder / "files" / "wandb-summary.json").write_text('{"train/loss": 0.05, "_wandb": {}}')
    (folder / "files" / "wandb-metadata.json").write_text("{not json")

    run = read_run(folder)

    assert run.meta["config"]["lr"] == 0.002 and run.meta["config"]["seed"] == 7
    assert run.meta["summary"] == {"train/loss": 0.05}
    (problem,) = run.problems
    assert problem.path.endswith("files/wandb-metadata.json")
    assert "not readable" in problem.message


def test_a_record_spanning_several_blocks_and_many_steps_are_read(runs):
    path = wandb_file(runs["two"], "long0001")
    assert path.stat().st_size > 3 * 32 * 1024

    run = read_run(path)

    assert run.steps == {"first": 0, "last": 399, "count": 400}
    assert run.frame.get_column("loss").to_list() == [1.0 / (s + 1) for s in range(400)]
    assert run.problems == []


def test_resumed_folders_of_one_id_merge_into_one_run(runs):
    (run,) = read_runs(runs["resumed"])

    assert run.frame.get_column("step").to_list() == [0, 1, 2, 3, 4, 5]
    assert run.frame.get_column("loss").to_list() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    (resume,) = run.resumes
    assert (resume.step, resume.previous_step) == (3, 2)
    assert len(run.sources) == 2
    assert "read as one run" in run.notes[0]


def test_check_finds_each_run_of_a_wandb_folder_and_the_nonfinite_grad_norm(cli, runs):
    result = cli(["check", runs["two"], "--format", "json"], exit_code=1)
    report = json.loads(result.stdout)

    paths = [Path(r["path"]).name for r in report["runs"]]
    assert [p.rsplit("-", 1)[1] for p in paths] == ["main0001", "long0001"] or sorted(
        p.rsplit("-", 1)[1] for p in paths
    ) == ["long0001", "main0001"]
    main = next(r for r in report["runs"] if r["path"].endswith("main0001"))
    assert ("common/grad-norm-nonfinite", 3) in [(f["rule"], f["step"]) for f in main["findings"]]
    assert main["sources"][0]["format"] == "wandb"


@pytest.mark.parametrize("target", ["wandb", "folder", "file"])
def test_check_accepts_the_wandb_folder_a_run_folder_or_the_file(cli, runs, target):
    path = wandb_file(runs["resumed"], "resume01")
    given = {"wandb": runs["resumed"] / "wandb", "folder": path.parent, "file": path}[target]

    report = json.loads(cli(["check", given, "--format", "json"]).stdout)

    (run,) = report["runs"]
    assert run["steps"]["first"] == 0
    assert run["steps"]["last"] == (5 if target == "wandb" else 2)


# --- damaged files: read what can be read, report the rest with its byte offset ----------


def chunks(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, length, type) of every chunk, walked independently of logscope."""
    found, pos = [], 7
    while pos + 7 <= len(data):
        room = 32768 - pos % 32768
        if room < 7:
            pos += room
            continue
        _, length, kind = struct.unpack_from("<IHB", data, pos)
        found.append((pos, length, kind))
        pos += 7 + length
    return found


def damaged(runs, tmp_path, change) -> tuple[logscope.Run, bytes]:  # type: ignore[name-defined]
    data = bytearray(wandb_file(runs["two"], "long0001").read_bytes())
    change(data)
    path = tmp_path / "run-long0001.wandb"
    path.write_bytes(bytes(data))
    return read_run(path), bytes(data)


def test_a_file_cut_mid_block_keeps_every_step_before_the_cut(runs, tmp_path):
    full = wandb_file(runs["two"], "long0001").read_bytes()
    cut = 2 * 32768 + 1000

    run, _ = damaged(runs, tmp_path, lambda d: d.__delitem__(slice(cut, None)))

    steps = run.frame.get_column("step").to_list()
    assert 100 < len(steps) < 400 and steps == list(range(len(steps)))
    assert run.frame.get_column("loss").to_list() == [1.0 / (s + 1) for s in steps]
    (problem,) = run.problems
    assert "file ends inside" in problem.message and "byte" in problem.message
    assert len(full) > cut


def test_a_bad_checksum_loses_only_the_rest_of_its_block(runs, tmp_path):
    data = wandb_file(runs["two"], "long0001").read_bytes()
    target = next(c for c in chunks(data) if c[0] > 32768 + 2000 and c[2] == 1)

    run, _ = damaged(runs, tmp_path, lambda d: d.__setitem__(target[0], d[target[0]] ^ 0xFF))

    problem, *rest = run.problems
    assert problem.message.startswith(f"byte {target[0]}: checksum mismatch")
    assert f"bytes {target[0]}-65535" in problem.message
    # a record that started in the lost part and goes on in the next block is dropped too
    assert all("piece of a record whose start was lost" in p.message for p in rest)
    steps = run.frame.get_column("step").to_list()
    assert steps[-1] == 399  # blocks after the damaged one are read
    assert 300 < len(steps) < 400
    assert run.frame.get_column("loss").to_list() == [1.0 / (s + 1) for s in steps]


def test_a_log_cut_right_after_its_header_says_the_run_never_finished(runs, tmp_path):
    run, _ = damaged(runs, tmp_path, lambda d: d.__delitem__(slice(7, None)))

    assert run.frame.height == 0 and run.problems == []
    notes = [n for s in run.sources for n in s.notes]
    assert any("no exit record" in n for n in notes), notes


def test_a_damaged_file_header_is_reported_and_nothing_is_invented(runs, tmp_path):
    run, _ = damaged(runs, tmp_path, lambda d: d.__setitem__(slice(0, 4), b"XXXX"))

    assert run.frame.height == 0
    (problem,) = run.problems
    assert "not a W&B transaction log" in problem.message


def test_cli_on_an_unreadable_wandb_file_says_so_and_exits_2(cli, tmp_path):
    path = tmp_path / "run-x.wandb"
    path.write_bytes(b"\x00" * 10)

    result = cli(["check", path], exit_code=2)

    assert "not a W&B transaction log" in result.output


def test_reading_never_changes_the_run_folder(runs):
    folder = wandb_file(runs["resumed"], "resume01").parent.parent
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}

    read_runs(folder)

    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before


def test_a_log_from_wandbs_legacy_python_writer_reads_the_same():
    """Committed fixture (wandb 0.18.7, legacy service): see wandb_legacy/README.md."""
    run = read_run(Path(__file__).parent / "wandb_legacy" / "wandb")

    assert run.frame.get_column("step").to_list() == [0, 1, 2, 3]
    assert run.frame.get_column("loss").to_list() == [1.0, 0.5, 1 / 3, 0.25]
    assert run.frame.get_column("train.kl").to_list() == [0.0, 0.1, 0.2, 0.1 * 3]
    assert run.frame.get_column("train.deep.x").to_list() == [0.0, 1.0, 2.0, 3.0]
    grad = run.frame.get_column("grad_norm").to_list()
    assert grad[:2] == [0.5, 0.5] and math.isnan(grad[2]) and grad[3] == math.inf
    assert run.meta["phase"] == "main"
    assert run.meta["wandb.name"] == "legacy run"
    assert run.meta["config"] == {"lr": 0.001}
    assert run.problems == []


def records_by_wandb(data: bytes) -> list[object]:
    """Every record decoded with wandb's own protobuf classes (framing walked here)."""
    from wandb.proto import wandb_internal_pb2

    found, pending = [], b""
    for pos, length, kind in chunks(data):
        payload = data[pos + 7 : pos + 7 + length]
        pending = payload if kind in (1, 2) else pending + payload
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            found.append(record)
    return found


@pytest.mark.parametrize("run_id", ["main0001", "long0001"])
def test_every_history_value_matches_wandbs_own_protobuf_decoding(runs, run_id):
    path = wandb_file(runs["two"], run_id)
    expected: dict[int, dict[str, float]] = {}
    for record in records_by_wandb(path.read_bytes()):
        if record.WhichOneof("record_type") != "history":  # type: ignore[attr-defined]
            continue
        items = {
            ".".join(i.nested_key) or i.key: json.loads(i.value_json)
            for i in record.history.item  # type: ignore[attr-defined]
        }
        numbers = {k: float(v) for k, v in items.items() if type(v) in (int, float)}
        expected[int(numbers.pop("_step"))] = {
            k: v for k, v in numbers.items() if not k.startswith(("_", "table."))
        }

    run = read_run(path)

    got = {
        row.pop("step"): {k: v for k, v in row.items() if v is not None and k != "wall_time"}
        for row in run.frame.drop("_runtime").to_dicts()
    }
    assert got.keys() == expected.keys()
    for step, values in expected.items():
        assert got[step].keys() == values.keys(), step
        assert all(same(got[step][k], v) for k, v in values.items()), step


def test_a_hugging_face_run_is_stepped_by_its_global_step(tmp_path: Path) -> None:
    """HF's WandbCallback logs train/global_step with every call: a train and an eval call
    at global step 20 are W&B steps 0 and 1, but one step of the training run."""
    from wandb_writer import wandb_bytes

    rows = [
        {"train/loss": 0.9, "train/global_step": 10.0},
        {"train/loss": 0.8, "train/global_step": 20.0},
        {"eval/loss": 0.85, "train/global_step": 20.0},
    ]
    path = tmp_path / "run-hf000001.wandb"
    path.write_bytes(wandb_bytes(rows))
    run = read_run(path)
    assert run.frame.get_column("step").to_list() == [10, 20]
    assert run.frame.filter(pl.col("step") == 20).select("train/loss", "eval/loss").row(0) == (
        0.8,
        0.85,
    )
    assert "train/global_step" not in run.metrics


def test_a_run_folder_given_directly_reads_only_its_wandb_log(
    tmp_path: Path, samples: Path
) -> None:
    """W&B copies the console into files/output.log: not a second run of veRL step lines."""
    source = next((samples / "verl_wandb" / "wandb").iterdir())
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    (folder / "files").mkdir(exist_ok=True)
    (folder / "files" / "output.log").write_text("step:1 - actor/pg_loss:0.1\n")
    (run,) = read_runs(folder)
    assert [s.format for s in run.sources] == ["wandb"]


def test_records_without_a_usable_step_are_reported(tmp_path: Path) -> None:
    from wandb_writer import exit_record, frame, history_record, run_record

    records = [
        history_record(0, {"loss": 1.0}),
        history_record(1, {"loss": 2.0, "_step": float("nan")}),
        history_record(2, {"loss": 3.0}),
    ]
    path = tmp_path / "run-nanstep01.wandb"
    path.write_bytes(frame([run_record("nanstep01", "x"), *records, exit_record()]))
    run = read_run(path)
    assert run.frame.get_column("loss").to_list() == [1.0, 3.0]
    (problem,) = run.problems
    assert "1 history record(s) with a step that is no whole number skipped" in problem.message
