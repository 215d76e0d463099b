"""Damaged inputs for every reader, shared by the CI fuzz tests (test_fuzz.py) and the long run
(benchmarks/bench_fuzz.py).

Each format has a small valid seed written in code (or copied from tests/ingest/data), put
where discovery finds it under its usual name; a mutation then truncates it, flips bytes,
splices in JSON-ish or binary junk, or replaces it with random bytes. `outcome` reads the
result the documented way: a list of Runs (whose problems say what was wrong) or a
LogscopeError. Anything else propagates: that is a crash.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import shutil
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "sample_logs"))

import eventwriter as tw  # noqa: E402
from wandb_writer import wandb_bytes  # noqa: E402

DATA = HERE / "data"
MLFLOW_RUN = next(p.parent for p in sorted((DATA / "mlruns").glob("*/*/meta.yaml")))


def _rows(n: int = 12) -> list[dict[str, float]]:
    return [
        {"loss": 2.0 - s / 10, "grad_norm": 1.0 + s / 100, "rewards/margins": s / 7}
        for s in range(n)
    ]


def _jsonl() -> bytes:
    rows = _rows()
    rows[5]["loss"] = float("nan")
    return b"".join(json.dumps({"step": s, **r}).encode() + b"\n" for s, r in enumerate(rows))


def _trainer_state() -> bytes:
    history = [{"step": s, "epoch": s / 12, **r} for s, r in enumerate(_rows(), start=1)]
    state = {"global_step": 12, "max_steps": 12, "log_history": history}
    return json.dumps(state, indent=2).encode()


def _tensorboard() -> bytes:
    records = [tw.record(tw.event(wall_time=1.7e9, file_version="brain.Event:2"))]
    for step, row in enumerate(_rows(), start=1):
        values = [tw.simple_value(k, v) for k, v in row.items()]
        records.append(
            tw.record(tw.event(wall_time=1.7e9 + step, step=step, summary=tw.summary(*values)))
        )
    return b"".join(records)


def _csv() -> bytes:
    lines = ["step,loss,grad_norm,note"]
    lines += [f"{s},{r['loss']},{r['grad_norm']},x" for s, r in enumerate(_rows())]
    return ("\n".join(lines) + "\n").encode()


def _parquet() -> bytes:
    import polars as pl

    frame = pl.DataFrame([{"step": s, **r, "tag": "a"} for s, r in enumerate(_rows())])
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _verl() -> bytes:
    lines = ["(TaskRunner pid=1) loading model", "Training: 0%|  | 0/12"]
    for s, r in enumerate(_rows(), start=1):
        body = " - ".join(f"actor/{k}:np.float64({v})" for k, v in r.items())
        lines.append(f"(TaskRunner pid=1) step:{s} - {body}")
    return ("\n".join(lines) + "\n").encode()


def _wandb() -> bytes:
    return wandb_bytes(_rows())


def _gzip_jsonl() -> bytes:
    return gzip.compress(_jsonl())


def _sqlite(name: str) -> bytes:
    return gzip.decompress((DATA / f"{name}.db.gz").read_bytes())


def _mlflow_metric() -> bytes:
    return (MLFLOW_RUN / "metrics" / "loss").read_bytes()


# format -> (file name, seed); the MLflow file store's metric file sits in a copied run folder
SEEDS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "jsonl": ("metrics.jsonl", _jsonl),
    "jsonl.gz": ("metrics.jsonl.gz", _gzip_jsonl),
    "trainer_state": ("trainer_state.json", _trainer_state),
    "tensorboard": ("events.out.tfevents.1700000000.host.1.0", _tensorboard),
    "wandb": ("run-abc123.wandb", _wandb),
    "csv": ("metrics.csv", _csv),
    "parquet": ("history.parquet", _parquet),
    "mlflow_files": ("metrics/loss", _mlflow_metric),
    "mlflow_sqlite": ("mlflow.db", lambda: _sqlite("mlflow")),
    "trackio": ("grpo-demo.db", lambda: _sqlite("trackio")),
    "verl_console": ("train.log", _verl),
}
_CACHE: dict[str, bytes] = {}

JUNK = [
    b"{", b"}", b"[", b"]", b'"', b":", b",", b"\n", b"\r\n", b"NaN", b"-Infinity", b"null",
    b"\xef\xbb\xbf", b"\xff", b"\x00", b"1.5", b"1e999", b"99999999999999999999999",
    b'"step"', b'"^x_loss$"', b" - ", b"step:", b"\x1b[31m", b'{"a":' * 80, b"[" * 700,
]  # fmt: skip


def seed(fmt: str) -> bytes:
    if fmt not in _CACHE:
        _CACHE[fmt] = SEEDS[fmt][1]()
    return _CACHE[fmt]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three damages of the kinds a crash, a disk or a hostile user leave."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(6)
        at = rng.randrange(len(out) + 1)
        if kind == 0:  # cut short
            del out[at:]
        elif kind == 1 and out:  # flipped bytes
            for _ in range(rng.randint(1, 8)):
                out[rng.randrange(len(out))] ^= rng.randint(1, 255)
        elif kind == 2:  # JSON-ish junk spliced in
            out[at:at] = b"".join(rng.choice(JUNK) for _ in range(rng.randint(1, 6)))
        elif kind == 3:  # binary junk
            out[at:at] = rng.randbytes(rng.randint(1, 64))
        elif kind == 4 and out:  # a slice repeated (a resumed writer, a doubled record)
            start = rng.randrange(len(out))
            out[at:at] = out[start : start + rng.randint(1, 200)]
        elif kind == 5:  # a slice removed
            del out[at : at + rng.randint(1, 64)]
    return bytes(out)


def random_input(rng: random.Random) -> tuple[str, bytes]:
    """(format, bytes): mostly a mutated seed, sometimes pure noise under the format's name."""
    fmt = rng.choice(sorted(SEEDS))
    if rng.random() < 0.1:
        return fmt, rng.randbytes(rng.randint(0, 2000))
    return fmt, mutate(seed(fmt), rng)


def materialize(fmt: str, data: bytes, folder: Path) -> Path:
    """Write the input where its reader looks; return the path to check (file or folder)."""
    name = SEEDS[fmt][0]
    if fmt == "mlflow_files":
        run = folder / "mlruns" / "0" / MLFLOW_RUN.name
        shutil.copytree(MLFLOW_RUN, run)
        (run / name).write_bytes(data)
        return folder / "mlruns"
    path = folder / name
    path.write_bytes(data)
    return path


def outcome(path: Path) -> str:
    """'runs' or 'error' (a LogscopeError: exit 2); any other exception is a crash."""
    from logscope.errors import LogscopeError
    from logscope.ingest import read_runs
    from logscope.model import Problem

    try:
        runs = read_runs(path)
    except LogscopeError as error:
        assert str(error), "an error must say what is wrong"
        return "error"
    except sqlite3.Error as error:  # pragma: no cover - a crash, named for the report
        raise AssertionError(f"sqlite3 error escaped a reader: {error}") from error
    for run in runs:
        assert run.frame.columns[:2] == ["step", "wall_time"]
        for problem in run.problems:
            assert isinstance(problem, Problem) and problem.message
    return "runs"
