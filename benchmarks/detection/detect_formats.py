"""Write a simulated run in the file formats the training stacks really produce.

Standard library only (plus the project's own stdlib writers for TensorBoard, W&B and
MLflow's SQLite store):
JSONL (HF `log_history` lines), `trainer_state.json`, ms-swift `logging.jsonl`
(`"global_step/max_steps": "5/94"`, no `step` key), veRL's file logger
(`{"step": N, "data": {...}}`), TensorBoard event files, W&B offline `.wandb` logs, the
MLflow file store (`mlruns/<experiment>/<run>/metrics/<key>`) and MLflow's SQLite store.

A run is a list of records in the order the trainer logged them; a resumed run logs some
steps again (the step goes backwards), a torn run ends with half a line. Each writer also
says under which name a key lands (`logged_name`), since Hugging Face's TensorBoard and W&B
callbacks log `loss` as `train/loss` and `eval_loss` as `eval/loss`.
"""

from __future__ import annotations

import json
import math
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for _extra in (ROOT / "sample_logs", ROOT / "tests" / "ingest"):
    if str(_extra) not in sys.path:
        sys.path.append(str(_extra))

import eventwriter  # noqa: E402  (sample_logs/eventwriter.py: TensorBoard protobufs)
import wandb_writer  # noqa: E402  (tests/ingest/wandb_writer.py: LevelDB log + history records)


@dataclass
class Record:
    """One logging call: a training line, or an evaluation line (`eval_*` keys)."""

    step: int
    values: dict[str, float]
    eval: bool = False


@dataclass
class Layout:
    """What a writer needs besides the records."""

    max_steps: int
    torn: bool = False  # the last line is cut mid-write (a live or killed run)
    hf_names: bool = False  # Hugging Face callbacks: train/x and eval/x in TB and W&B
    sanitise_at: bool = False  # veRL / Trinity MLflow tracker: '@' written '_at_'
    extra: dict[str, object] = field(default_factory=dict)


def hf_callback_name(key: str) -> str:
    """transformers' TensorBoard/W&B callbacks: `eval_x` -> `eval/x`, others -> `train/x`."""
    if key.startswith("eval_"):
        return "eval/" + key[len("eval_") :]
    return "train/" + key


def logged_name(key: str, fmt: str, layout: Layout) -> str:
    """The name under which `key` appears in the written files of format `fmt`."""
    if layout.hf_names and fmt in ("tensorboard", "wandb"):
        return hf_callback_name(key)
    return key


def stored_name(key: str, fmt: str, layout: Layout) -> str:
    """The name written to the file: veRL's and Trinity's MLflow trackers write '@' as
    '_at_' (MLflow rejects '@'); logscope reads it back as '@', so labels use `logged_name`."""
    name = logged_name(key, fmt, layout)
    if layout.sanitise_at and fmt.startswith("mlflow"):
        return name.replace("@", "_at_")
    return name


def _num(value: float) -> float | int:
    """Round like a logger prints (keeps files small); non-finite values pass through."""
    if not math.isfinite(value):
        return value
    return float(f"{value:.6g}")


def _lines(objects: list[dict[str, object]], path: Path, torn: bool) -> None:
    """JSON Lines as Python's json.dumps writes them (bare NaN / Infinity tokens included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(o) + "\n" for o in objects)
    if torn and objects:
        text += json.dumps(objects[-1])[: max(5, len(json.dumps(objects[-1])) // 2)]
    path.write_text(text)


def _hf_object(rec: Record, layout: Layout) -> dict[str, object]:
    out: dict[str, object] = {k: _num(v) for k, v in rec.values.items()}
    out["epoch"] = round(rec.step / layout.max_steps, 4)
    out["step"] = rec.step
    return out


def write_jsonl(folder: Path, records: list[Record], layout: Layout) -> None:
    """HF-style lines (a hand-written loop or the KTO guide's training_metrics.jsonl)."""
    name = str(layout.extra.get("jsonl_name", "metrics.jsonl"))
    _lines([_hf_object(r, layout) for r in records], folder / name, layout.torn)


def write_trainer_state(folder: Path, records: list[Record], layout: Layout) -> None:
    """trainer_state.json: a resumed Trainer reloads log_history from its checkpoint, so
    re-logged steps replace the earlier ones; the file is rewritten whole (never torn)."""
    kept: dict[tuple[int, bool], Record] = {}
    for rec in records:
        kept[(rec.step, rec.eval)] = rec
    history = [_hf_object(r, layout) for r in sorted(kept.values(), key=lambda r: r.step)]
    state = {
        "best_metric": None,
        "epoch": 1.0,
        "global_step": max(r.step for r in records),
        "is_world_process_zero": True,
        "log_history": history,
        "logging_steps": layout.extra.get("logging_steps", 1),
        "max_steps": layout.max_steps,
        "train_batch_size": 8,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trainer_state.json").write_text(json.dumps(state, indent=1))


def write_swift(folder: Path, records: list[Record], layout: Layout) -> None:
    """ms-swift logging.jsonl: the step only inside "global_step/max_steps"; a resumed run
    appends to the same file, so re-logged steps appear twice."""
    objects = []
    for rec in records:
        out: dict[str, object] = {k: _num(v) for k, v in rec.values.items()}
        out["epoch"] = round(rec.step / layout.max_steps, 4)
        out["global_step/max_steps"] = f"{rec.step}/{layout.max_steps}"
        out["percentage"] = f"{100 * rec.step / layout.max_steps:.2f}%"
        out["elapsed_time"] = f"{rec.step // 60}m {rec.step % 60}s"
        if not rec.eval:
            out["memory(GiB)"] = 41.2
            out["train_speed(iter/s)"] = 0.052
        objects.append(out)
    _lines(objects, folder / "logging.jsonl", layout.torn)


def write_verl(folder: Path, records: list[Record], layout: Layout) -> None:
    """veRL's file logger: one `{"step": N, "data": {...}}` object per step."""
    merged = _merge(records)
    objects: list[dict[str, object]] = [
        {"step": step, "data": {k: _num(v) for k, v in values.items()}} for step, values in merged
    ]
    _lines(objects, folder / "metrics.jsonl", layout.torn)


def _merge(records: list[Record]) -> list[tuple[int, dict[str, float]]]:
    """Train and eval lines of the same step as one logging call (trackers log per step),
    keeping re-logged steps in order."""
    out: list[tuple[int, dict[str, float]]] = []
    for rec in records:
        if out and out[-1][0] == rec.step:
            out[-1][1].update(rec.values)
        else:
            out.append((rec.step, dict(rec.values)))
    return out


def _segments(records: list[Record]) -> list[list[tuple[int, dict[str, float]]]]:
    """Split where the step goes backwards: each resume writes a new file or folder."""
    parts: list[list[tuple[int, dict[str, float]]]] = [[]]
    for step, values in _merge(records):
        if parts[-1] and step <= parts[-1][-1][0]:
            parts.append([])
        parts[-1].append((step, values))
    return parts


def _masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC-32C: google-crc32c (a logscope dependency) when installed,
    else eventwriter's pure-Python one (same bytes, slower)."""
    try:
        import google_crc32c
    except ImportError:
        return eventwriter.masked_crc(data)
    crc = int(google_crc32c.value(data))
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _tf_record(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (
        header
        + struct.pack("<I", _masked_crc(header))
        + payload
        + struct.pack("<I", _masked_crc(payload))
    )


def _tb_scalar(wall_time: float, step: int, tag: bytes, value: float) -> bytes:
    """Event{wall_time, step, summary{value{tag, simple_value}}} as eventwriter.event builds
    it, with the tag's bytes encoded once per tag (this writer's hot loop)."""
    if math.isfinite(value) and abs(value) > 3.4e38:  # float32, as add_scalar stores it
        value = math.copysign(math.inf, value)
    body = eventwriter.f_bytes(1, tag + b"\x15" + struct.pack("<f", value))  # field 2, fixed32
    head = eventwriter.f_double(1, wall_time) + (eventwriter.f_varint(2, step) if step else b"")
    return head + eventwriter.f_bytes(5, body)


def write_tensorboard(folder: Path, records: list[Record], layout: Layout) -> None:
    """One event per scalar (torch / tensorboardX add_scalar); a resume starts a new event
    file, as a restarted SummaryWriter does."""
    start = 1_761_000_000
    tags: dict[str, bytes] = {}
    parts = _segments(records)
    for index, part in enumerate(parts):
        began = start + 100_000 * index
        path = folder / eventwriter.file_name(began, host="gpu-node-1", pid=4000 + index)
        path.parent.mkdir(parents=True, exist_ok=True)
        chunks = [_tf_record(eventwriter.event(wall_time=began, file_version="brain.Event:2"))]
        for step, values in part:
            for key, value in values.items():
                tag = tags.get(key)
                if tag is None:
                    name = logged_name(key, "tensorboard", layout)
                    tag = tags[key] = eventwriter.f_bytes(1, name.encode())
                chunks.append(_tf_record(_tb_scalar(began + step, step, tag, value)))
        if layout.torn and index == len(parts) - 1:  # killed mid-write: half a record
            chunks.append(chunks[-1][: len(chunks[-1]) // 2])
        path.write_bytes(b"".join(chunks))


def _wandb_history(step: int, row: dict[str, float], keys: dict[str, bytes]) -> bytes:
    """wandb_writer.history_record, with each key's nested_key parts encoded once."""
    field = wandb_writer.field
    items = [("_step", json.dumps(step)), ("_timestamp", json.dumps(1.7e9 + step))]
    items += [(k, json.dumps(_num(v))) for k, v in row.items()]
    body = bytearray()
    for key, text in items:
        parts = keys.get(key)
        if parts is None:
            parts = keys[key] = b"".join(field(2, p.encode()) for p in key.split("."))
        body += field(1, parts + field(16, text.encode()))
    body += field(2, wandb_writer.varint(1 << 3 | 0) + wandb_writer.varint(step) if step else b"")
    return field(2, bytes(body))


def write_wandb(folder: Path, records: list[Record], layout: Layout) -> None:
    """W&B offline run folders; a resumed run (same id) gets a second folder."""
    run_id = str(layout.extra.get("run_id", "bench0001"))
    parts = _segments(records)
    keys: dict[str, bytes] = {}
    for index, part in enumerate(parts):
        sub = folder / "wandb" / f"offline-run-20261101_1{index}0000-{run_id}"
        sub.mkdir(parents=True, exist_ok=True)
        history = [
            _wandb_history(
                step, {logged_name(k, "wandb", layout): v for k, v in values.items()}, keys
            )
            for step, values in part
        ]
        frames = [wandb_writer.run_record(run_id, run_id), *history]
        if index == len(parts) - 1 and not layout.torn:
            frames.append(wandb_writer.exit_record())
        (sub / f"run-{run_id}.wandb").write_bytes(wandb_writer.frame(frames))


def write_mlflow(folder: Path, records: list[Record], layout: Layout) -> None:
    """MLflow file store: one file per metric, `timestamp value step` per line (Python's
    float repr, so nan and inf are spelled as MLflow spells them)."""
    run = folder / "mlruns" / "1" / "0f3c2b9e5d7a4c1b8e6f0a2d4c6b8e01"
    files: dict[str, list[str]] = {}
    for step, values in _merge(records):
        for key, value in values.items():
            name = stored_name(key, "mlflow", layout)
            files.setdefault(name, []).append(
                f"{1_761_000_000_000 + 1000 * step} {float(value)!r} {step}"
            )
    for name, lines in files.items():
        path = run / "metrics" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    (run / "meta.yaml").write_text(
        "artifact_uri: file:///tmp/mlruns/1/0f3c2b9e5d7a4c1b8e6f0a2d4c6b8e01/artifacts\n"
        "experiment_id: '1'\nlifecycle_stage: active\nrun_id: 0f3c2b9e5d7a4c1b8e6f0a2d4c6b8e01\n"
        "run_name: bench\nstatus: 3\n"
    )
    (folder / "mlruns" / "1" / "meta.yaml").write_text(
        "experiment_id: '1'\nlifecycle_stage: active\nname: bench\n"
    )


def write_mlflow_sqlite(folder: Path, records: list[Record], layout: Layout) -> None:
    """An MLflow SQLite tracking store (veRL's default `sqlite:////tmp/mlruns.db`), written
    by sample_logs/mlflowwriter.py with MLflow's table layout; one run in it."""
    from mlflowwriter import write_store

    rows = [
        (
            step,
            1_761_000_000_000 + 1000 * index,  # re-logged steps get later timestamps
            {stored_name(k, "mlflow_sqlite", layout): float(v) for k, v in values.items()},
        )
        for index, (step, values) in enumerate(_merge(records))
    ]
    folder.mkdir(parents=True, exist_ok=True)
    write_store(
        folder / "mlruns.db",
        experiment="bench",
        run_name="bench-run",
        rows=rows,
        params={"trainer.total_training_steps": str(layout.max_steps)},
        seed=7,
    )


WRITERS: dict[str, Callable[[Path, list[Record], Layout], None]] = {
    "jsonl": write_jsonl,
    "trainer_state": write_trainer_state,
    "swift": write_swift,
    "verl": write_verl,
    "tensorboard": write_tensorboard,
    "wandb": write_wandb,
    "mlflow": write_mlflow,
    "mlflow_sqlite": write_mlflow_sqlite,
}
