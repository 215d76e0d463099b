"""TensorBoard event files written by real writers, read as TensorBoard itself reads them.

Every value is compared with EventAccumulator(size_guidance 0) on the same files; writers
and the reference reader are test extras (importorskip).
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest
from tb import long, reference, same, tw

import logscope
from logscope.ingest import ReadOptions, read_run, read_runs
from logscope.ingest.discover import event_prefixes, sniff
from logscope.ingest.tfrecord import length_crc

SPECIAL = [0.1, 1e-8, 3.4e38, -0.0, float("nan"), float("inf"), float("-inf"), 123456789.0]


def torch_writer():  # type: ignore[no-untyped-def]
    return pytest.importorskip("torch.utils.tensorboard").SummaryWriter


def write_torch(folder: Path, **style: bool) -> None:
    writer = torch_writer()(str(folder))
    for step in [0, 1, 2, 7, 1000, 2**40]:
        for i, tag in enumerate(["train/loss", "actor/grad_norm", "eval/reward"]):
            value = SPECIAL[(step + i) % len(SPECIAL)] if step < 100 else step * 0.5 + i
            writer.add_scalar(tag, value, step, walltime=1_700_000_000 + step % 1000 + i, **style)
    writer.close()


@pytest.mark.parametrize(
    "style",
    [{}, {"new_style": True}, {"new_style": True, "double_precision": True}],
    ids=["simple_value", "tensor_float_val", "tensor_double_val"],
)
def test_torch_scalars_match_event_accumulator(tmp_path: Path, style: dict[str, bool]) -> None:
    write_torch(tmp_path, **style)
    run = logscope.read(tmp_path)
    assert same(long(run), reference(tmp_path))
    assert run.problems == []
    assert sorted(run.metrics) == ["actor/grad_norm", "eval/reward", "train/loss"]


def test_float32_values_are_exact_and_doubles_keep_their_precision(tmp_path: Path) -> None:
    writer = torch_writer()(str(tmp_path))
    writer.add_scalar("single", 0.1, 1)
    writer.add_scalar("double", 0.1, 1, new_style=True, double_precision=True)
    writer.close()
    frame = logscope.read(tmp_path).frame
    assert frame["single"][0] == float(np.float32(0.1)) == 0.10000000149011612
    assert frame["double"][0] == 0.1


def test_wall_time_is_the_latest_of_the_step(tmp_path: Path) -> None:
    write_torch(tmp_path)
    frame = logscope.read(tmp_path).frame
    assert frame.filter(frame["step"] == 7)["wall_time"].item() == 1_700_000_000 + 7 + 2


def test_tensorboardx_scalars_match_event_accumulator(tmp_path: Path) -> None:
    tbx = pytest.importorskip("tensorboardX")
    writer = tbx.SummaryWriter(str(tmp_path))
    for step in range(0, 300, 3):
        writer.add_scalar("loss", SPECIAL[step % len(SPECIAL)] * step, step)
        writer.add_scalar("timing_s/gen", 1.5 + step, step)
    writer.close()
    run = logscope.read(tmp_path)
    assert same(long(run), reference(tmp_path))
    assert run.steps["count"] == 100


def test_histograms_images_text_and_hparams_are_skipped(tmp_path: Path) -> None:
    writer = torch_writer()(str(tmp_path))
    for step in range(3):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_histogram("weights", np.arange(10.0) * step, step)
        writer.add_image("sample", np.zeros((3, 4, 4)), step)
        writer.add_text("note", f"step {step}", step)
    writer.add_hparams({"lr": 0.1}, {"hparam/accuracy": 0.5}, run_name="hp")
    writer.close()
    run = logscope.read(tmp_path)
    assert run.metrics == ["loss", "hp/hparam/accuracy"]
    notes = " ".join(n for s in run.sources for n in s.notes)
    assert "3 histogram" in notes and "3 image" in notes and "'text' tensor" in notes
    assert same(long(run), {**reference(tmp_path), ("hp/hparam/accuracy", 0): 0.5})


def content(code: str, value: float) -> bytes:
    return tw.f_bytes(4, struct.pack(code, value))


TENSORS = {
    "f32 content": (tw.tensor(tw.DT_FLOAT, c=content("<f", 0.3)), float(np.float32(0.3))),
    "f64 content": (tw.tensor(tw.DT_DOUBLE, c=content("<d", 0.3)), 0.3),
    "f16 content": (tw.tensor(tw.DT_HALF, c=content("<e", 0.3)), float(np.float16(0.3))),
    "bf16 content": (tw.tensor(tw.DT_BFLOAT16, c=tw.f_bytes(4, b"\x99\x3e")), 0.298828125),
    "i32 content": (tw.tensor(tw.DT_INT32, c=content("<i", -7)), -7.0),
    "i64 content": (tw.tensor(tw.DT_INT64, c=content("<q", 2**40)), float(2**40)),
    "float_val unpacked": (tw.tensor(tw.DT_FLOAT, v=tw.f_float(5, 2.5)), 2.5),
    "double_val packed": (
        tw.tensor(tw.DT_DOUBLE, v=tw.f_bytes(6, struct.pack("<d", 1e-300))),
        1e-300,
    ),
    "half_val": (tw.tensor(tw.DT_HALF, v=tw.f_bytes(13, tw.varint(0x3C00))), 1.0),
    "bf16 half_val": (tw.tensor(tw.DT_BFLOAT16, v=tw.f_varint(13, 0x4049)), 3.140625),
    "int_val negative": (tw.tensor(tw.DT_INT32, v=tw.f_bytes(7, tw.varint(-3))), -3.0),
    "int64_val": (tw.tensor(tw.DT_INT64, v=tw.f_varint(10, 12345678901)), 12345678901.0),
    "no values": (tw.tensor(tw.DT_FLOAT), 0.0),
    "float_val before content": (
        tw.tensor(tw.DT_FLOAT, v=tw.f_bytes(5, struct.pack("<f", 4.0)), c=content("<f", 9.0)),
        4.0,
    ),
}


def test_every_scalar_tensor_encoding(tmp_path: Path) -> None:
    path = tmp_path / tw.file_name(1_700_000_000)
    with tw.EventWriter(path, 1_700_000_000.0) as writer:
        for step, (name, (tensor, _)) in enumerate(TENSORS.items()):
            value = tw.tensor_value(name, tensor)
            writer.write(tw.event(wall_time=1.7e9, step=step, summary=tw.summary(value)))
        text = tw.tensor(tw.DT_STRING, s=tw.f_bytes(8, b"hello"))
        writer.write(
            tw.event(
                wall_time=1.7e9, step=1, summary=tw.summary(tw.tensor_value("t", text, "text"))
            )
        )
        vector = tw.tensor(tw.DT_FLOAT, c=tw.f_bytes(4, struct.pack("<2f", 1, 2)))
        writer.write(
            tw.event(
                wall_time=1.7e9, step=1, summary=tw.summary(tw.tensor_value("v", vector, None))
            )
        )
    run = logscope.read(path)
    got = long(run)
    assert got == {
        (name, step): expected for step, (name, (_, expected)) in enumerate(TENSORS.items())
    }
    assert run.problems == []


def test_tf2_style_tensor_content_matches_event_accumulator(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    path = tmp_path / (tw.file_name(1_700_000_000) + ".v2")
    with tw.EventWriter(path, 1.7e9) as writer:
        for step in range(50):
            value = tw.tensor_value(
                "epoch_loss", tw.tensor(tw.DT_FLOAT, c=content("<f", 1 / (step + 1)))
            )
            writer.write(tw.event(wall_time=1.7e9 + step, step=step, summary=tw.summary(value)))
    run = logscope.read(tmp_path)
    assert sniff(path) == "tensorboard"
    assert same(long(run), reference(tmp_path))


def test_tf2_layout_follows_each_tags_first_metadata(tmp_path: Path) -> None:
    """Values in tf.summary.scalar's exact layout (read without tokenising) are kept or
    skipped by the first metadata of their tag, as TensorBoard does: a tag first described
    by another plugin stays skipped when later values say 'scalars'; values without
    metadata follow their tag's first one; a double tensor takes the general path."""
    pytest.importorskip("tensorboard")
    path = tmp_path / (tw.file_name(1_700_000_000) + ".v2")
    with tw.EventWriter(path, 1.7e9) as writer:
        for step in range(40):
            f32 = tw.tensor(tw.DT_FLOAT, c=content("<f", step / 3))
            f64 = tw.tensor(tw.DT_DOUBLE, c=content("<d", step / 7))
            values = [
                tw.tensor_value("loss", f32, plugin="scalars" if step % 3 == 0 else None),
                tw.tensor_value("custom", f32, plugin="custom" if step == 0 else "scalars"),
                tw.tensor_value("acc", f64),
                tw.tensor_value("x" * 200, f32),  # a tag longer than one varint byte
            ]
            for value in values:
                writer.write(tw.event(wall_time=1.7e9 + step, step=step, summary=tw.summary(value)))
    run = logscope.read(tmp_path)
    assert same(long(run), reference(tmp_path))
    assert "custom" not in run.frame.columns
    assert run.frame["loss"].to_list()[5] == float(np.float32(5 / 3))


def test_merged_summaries_and_unknown_fields(tmp_path: Path) -> None:
    """TF1 writes several values per Summary; fields this reader does not know are skipped."""
    path = tmp_path / tw.file_name(1_700_000_000)
    with tw.EventWriter(path, 1.7e9) as writer:
        for step in range(1, 4):
            values = [tw.simple_value(f"m{i}", step * 10 + i) for i in range(3)]
            values.append(tw.simple_value("m0", -1.0))  # same tag twice: the later wins
            payload = tw.event(wall_time=1.7e9, step=step, summary=tw.summary(*values))
            writer.write(payload + tw.f_varint(99, 5))
    frame = logscope.read(path).frame
    assert frame["m0"].to_list() == [-1.0] * 3
    assert frame["m2"].to_list() == [12.0, 22.0, 32.0]


# --- restarts ------------------------------------------------------------------------------


def test_purge_step_restart_later_wins_or_tensorboard_purge(tmp_path: Path) -> None:
    writer_cls = torch_writer()
    first = writer_cls(str(tmp_path), filename_suffix=".a")
    for step in range(0, 30):
        first.add_scalar("loss", 1.0, step, walltime=1e9 + step)
        if step < 25:
            first.add_scalar("acc", 0.5, step, walltime=1e9 + step)
    first.close()
    second = writer_cls(str(tmp_path), purge_step=20, filename_suffix=".b")
    for step in range(20, 24):
        second.add_scalar("loss", 2.0, step, walltime=2e9 + step)
    second.close()

    run = logscope.read(tmp_path)
    assert [(r.step, r.previous_step) for r in run.resumes] == [(20, 29)]
    assert run.frame.filter(run.frame["step"] == 27)["loss"].item() == 1.0  # later wins only
    assert run.frame.filter(run.frame["step"] == 21)["loss"].item() == 2.0
    assert any("SessionLog.START" in n for s in run.sources for n in s.notes)

    purged = read_run(tmp_path, options=ReadOptions(tensorboard_purge=True))
    assert same(long(purged), reference(tmp_path, purge=True))
    assert purged.steps["last"] == 23
    assert [(r.step, r.previous_step) for r in purged.resumes] == [(20, 29)]


def test_restart_without_start_event_across_files(tmp_path: Path) -> None:
    """veRL/HF resumes: a new file whose steps go back; files ordered by their timestamp."""
    late = tmp_path / tw.file_name(1_700_000_500, host="a.example.org")
    early = tmp_path / tw.file_name(1_700_000_100, host="z.example.org")
    with tw.EventWriter(early, 1.0) as writer:
        for step in range(1, 11):
            writer.scalars(step, 100.0 + step, {"loss": 1.0, "kl": 0.5})
    with tw.EventWriter(late, 2.0) as writer:
        for step in range(6, 9):
            writer.scalars(step, 500.0 + step, {"loss": 2.0, "kl": 0.2})
    run = logscope.read(tmp_path)
    assert [(r.step, r.previous_step, r.source) for r in run.resumes] == [(6, 10, str(late))]
    assert run.frame["loss"].to_list() == [1.0] * 5 + [2.0] * 3 + [1.0] * 2
    assert run.frame.filter(run.frame["step"] == 7)["wall_time"].item() == 507.0
    assert [s.path for s in run.sources] == [str(early), str(late)]

    purged = read_run(tmp_path, options=ReadOptions(tensorboard_purge=True))
    assert purged.frame["loss"].to_list() == run.frame["loss"].to_list()  # no START: kept


def test_interleaved_step_counters_are_not_restarts(tmp_path: Path) -> None:
    """Keras logs epoch_* at the epoch and batch_* at the batch into one file."""
    path = tmp_path / tw.file_name(1_700_000_000)
    with tw.EventWriter(path, 1.0) as writer:
        for epoch in range(3):
            for batch in range(epoch * 10, epoch * 10 + 10):
                writer.scalars(batch, 1.0, {"batch_loss": 1.0})
            writer.scalars(epoch, 1.0, {"epoch_loss": 0.5})
    run = logscope.read(path)
    assert run.resumes == []
    assert run.steps["count"] == 30


def test_a_tag_written_twice_at_one_step_keeps_the_later_value(tmp_path: Path) -> None:
    """Steps that never go back take a shortcut (no sort by tag); a (tag, step) written
    twice, here in two files, must still merge to the later write, without counting as a
    restart, and the earlier file keeps only the steps it still holds."""
    first = tmp_path / tw.file_name(1_700_000_000)
    second = tmp_path / tw.file_name(1_700_000_100)
    with tw.EventWriter(first, 1.0) as writer:
        writer.scalars(0, 10.0, {"loss": 1.0, "kl": 0.5})
        writer.scalars(1, 11.0, {"loss": 2.0, "kl": 0.75})
    with tw.EventWriter(second, 2.0) as writer:
        writer.scalars(1, 12.0, {"loss": 3.0, "kl": 0.25})
        writer.scalars(2, 13.0, {"loss": 4.0})
    run = logscope.read(tmp_path)
    assert run.frame["loss"].to_list() == [1.0, 3.0, 4.0]
    assert run.frame["kl"].to_list() == [0.5, 0.25, None]
    assert run.frame["wall_time"].to_list() == [10.0, 12.0, 13.0]
    assert [s.rows for s in run.sources] == [1, 2]
    assert run.resumes == [] and run.problems == []


# --- layouts -------------------------------------------------------------------------------


def test_add_scalars_folders_keep_series_apart(tmp_path: Path) -> None:
    writer = torch_writer()(str(tmp_path))
    for step in range(5):
        writer.add_scalars("loss", {"train": 1.0 + step, "val": 2.0 + step}, step)
        writer.add_scalar("lr", 0.1, step)
    writer.close()
    run = logscope.read(tmp_path)
    assert sorted(run.metrics) == ["loss_train/loss", "loss_val/loss", "lr"]
    assert run.frame["loss_val/loss"].to_list() == [2.0, 3.0, 4.0, 5.0, 6.0]


def test_train_and_eval_folders_are_one_run_with_prefixed_tags(tmp_path: Path) -> None:
    for split, value in (("train", 1.0), ("validation", 2.0)):
        with tw.EventWriter(
            tmp_path / "logs" / "fit" / split / tw.file_name(1_700_000_000), 1.0
        ) as w:
            for epoch in range(4):
                w.scalars(epoch, 1.0, {"epoch_loss": value})
    (run,) = read_runs(tmp_path)
    assert sorted(run.metrics) == ["train/epoch_loss", "validation/epoch_loss"]


def test_hugging_face_output_dir_reads_its_runs_folder(tmp_path: Path) -> None:
    out = tmp_path / "kto-out"
    (out / "checkpoint-4").mkdir(parents=True)
    history = [{"step": s, "loss": 1.0, "grad_norm": 2.0} for s in range(1, 5)]
    (out / "trainer_state.json").write_text(json.dumps({"global_step": 4, "log_history": history}))
    for session, steps in (
        ("Nov20_10-00-00_gpu-node-3.cluster", (1, 5)),
        ("Nov21_09-00-00_gpu-node-3", (3, 7)),
    ):
        with tw.EventWriter(
            out / "runs" / session / tw.file_name(1_700_000_000 + steps[0]), 1.0
        ) as w:
            for step in range(*steps):
                w.scalars(step, 1.0, {"train/loss": float(step), "train/grad_norm": 2.0})
    (run,) = read_runs(out)
    # grad_norm and train/grad_norm hold the same values at the same steps: one metric
    # (logscope.samerun); loss and train/loss differ here, so they stay two
    assert sorted(run.metrics) == ["grad_norm", "loss", "train/loss"]
    assert run.meta["spellings"] == {"grad_norm": ["grad_norm", "train/grad_norm"]}
    assert [(r.step, r.previous_step) for r in run.resumes] == [(3, 4)]
    assert len(run.sources) == 3

    runs = read_runs(out / "runs")  # a folder of TensorBoard runs: one run each
    assert [Path(r.path).name for r in runs] == [
        "Nov20_10-00-00_gpu-node-3.cluster",
        "Nov21_09-00-00_gpu-node-3",
    ]


def test_event_prefixes() -> None:
    root = Path("/r")
    files = [
        root / "runs" / "Nov22_10-00-00_host" / "e1",
        root / "runs" / "Nov22_10-00-00_host" / "loss_train" / "e2",
        root / "runs" / "Nov23_10-00-00_host" / "e3",
    ]
    assert list(event_prefixes(root, files).values()) == ["", "loss_train/", ""]
    files = [root / "tensorboard_log" / "proj" / "exp" / "e"]
    assert list(event_prefixes(root, files).values()) == [""]
    files = [root / "tb" / "train" / "e"]
    assert list(event_prefixes(root, files).values()) == ["train/"]


def test_sniff_event_file_names() -> None:
    for name in [
        "events.out.tfevents.1716200000.node17.cluster.local.12345.0",
        "events.out.tfevents.1716200000.host.v2",
        "events.out.tfevents.1716200000.host.profile-empty",
    ]:
        assert sniff(Path(name)) == "tensorboard"


def test_skipping_crcs_reads_the_same(tmp_path: Path) -> None:
    write_torch(tmp_path)
    checked = logscope.read(tmp_path)
    unchecked = read_run(tmp_path, options=ReadOptions(check_crc=False))
    assert same(long(checked), long(unchecked))


def test_length_crc_matches_the_writer() -> None:
    lengths = [0, 1, 49, 255, 256, 65535, 2**24 + 3, 2**32 - 1]
    ours = length_crc(np.array(lengths, dtype=np.int64)).tolist()
    assert ours == [tw.masked_crc(struct.pack("<Q", n)) for n in lengths]


def test_sample_writer_output_matches_event_accumulator(tmp_path: Path) -> None:
    path = tmp_path / tw.file_name(1_700_000_000)
    with tw.EventWriter(path, 1.0) as writer:
        for step in range(20):
            writer.scalars(step, 10.0 + step, {"a": math.sin(step), "b/c": step * 1e6})
    assert same(long(logscope.read(path)), reference(tmp_path))


def test_old_file_version_purges_by_tag_like_tensorboard(tmp_path: Path) -> None:
    """Before file_version 2, TensorBoard purges only the out-of-order event's tags."""
    path = tmp_path / tw.file_name(1_700_000_000)
    with path.open("wb") as handle:
        handle.write(tw.record(tw.event(wall_time=1.0, file_version="brain.Event:1")))
        writes = [(s, {"loss": float(s), "acc": s / 10}) for s in range(1, 11)]
        writes += [(s, {"loss": s + 0.5}) for s in (5, 6, 7)]  # restarted; acc not re-logged
        for step, values in writes:
            for tag, value in values.items():
                summary = tw.summary(tw.simple_value(tag, value))
                handle.write(tw.record(tw.event(wall_time=2.0, step=step, summary=summary)))
    default = logscope.read(path)
    purged = read_run(path, options=ReadOptions(tensorboard_purge=True))
    assert same(long(purged), reference(tmp_path, purge=True))
    assert purged.frame["loss"].to_list()[4:] == [5.5, 6.5, 7.5, None, None, None]
    assert default.frame["loss"].to_list()[4:] == [5.5, 6.5, 7.5, 8.0, 9.0, 10.0]
    assert purged.frame["acc"].null_count() == 0
    assert [(r.step, r.previous_step) for r in default.resumes] == [(5, 10)]


def test_tags_of_every_length_are_told_apart_byte_for_byte(tmp_path: Path) -> None:
    """Tags are grouped from whole 8-byte words (the last one overlapping): tags 1 to 30
    bytes long, sharing prefixes and suffixes, or differing in one middle byte or in
    length alone, each keep their own series."""
    tbx = pytest.importorskip("tensorboardX")
    tags = ["a", "ab", "b", "abcdefg", "abcdefgh", "abcdefghi", "xbcdefgh", "abcdefgX"]
    tags += ["m" * n for n in range(1, 31)]
    tags += ["train/loss_abc", "train/lossXabc", "train/loss_ab", "rain/loss_abc"]
    tags += ["é/ü", "é/ü/"]
    writer = tbx.SummaryWriter(str(tmp_path))
    for step in range(40):
        for i, tag in enumerate(tags):
            writer.add_scalar(tag, step * 100.0 + i, step)
    writer.close()
    run = logscope.read(tmp_path)
    assert same(long(run), reference(tmp_path))
    assert sorted(run.metrics) == sorted(tags)
    for i, tag in enumerate(tags):
        assert run.frame[tag].to_list() == [step * 100.0 + i for step in range(40)]
