"""Hugging Face `trainer_state.json`: its `log_history` is the run's metric history.

`TrainerState.save_to_json` uses `json.dumps(indent=2)`, so NaN/Infinity are bare tokens;
Python's json reads them. Every checkpoint holds a full, self-consistent copy up to its
step, so discovery keeps only the most complete copy (see discover.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from logscope.ingest.base import Ingested, ProblemLog, tabulate
from logscope.ingest.decode import decode_chunk, prepare, records_to_ndjson

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

_META_KEYS = (
    "global_step",
    "max_steps",
    "epoch",
    "best_metric",
    "best_model_checkpoint",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "train_batch_size",
)


def load(path: Path) -> dict[str, Any] | None:
    """The parsed state, or None when the file is not a readable trainer state."""
    try:
        state = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def global_step(path: Path) -> int:
    """How far this copy got; -1 when unreadable, so any readable copy beats it."""
    state = load(path)
    if state is None:
        return -1
    step = state.get("global_step")
    history = state.get("log_history")
    if isinstance(step, int):
        return step
    return len(history) if isinstance(history, list) else -1


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    name = display or str(path)
    if progress:
        size = path.stat().st_size
        progress(name, size, size)
    log = ProblemLog(name)
    notes: list[str] = []
    state = load(path)
    if state is None:
        log(None, "not a readable trainer_state.json (invalid JSON or truncated); skipped")
        empty, _ = tabulate(pl.DataFrame(), log, notes)
        return Ingested(name, "trainer_state", empty, log.finish(), notes)
    history = state.get("log_history")
    if not isinstance(history, list):
        log(None, "no 'log_history' list in trainer_state.json; skipped")
        history = []
    records = []
    for index, entry in enumerate(history):
        if isinstance(entry, dict):
            records.append(entry)
        else:
            log(
                None, f"log_history[{index}] is {type(entry).__name__}, expected an object; skipped"
            )
    raw = pl.DataFrame()
    if records:
        pieces = decode_chunk(records_to_ndjson(records), 1, log)
        raw = pl.concat([prepare(p) for p in pieces], how="diagonal_relaxed")
    frame, meta = tabulate(raw, log, notes)
    meta.update({k: state[k] for k in _META_KEYS if k in state and state[k] is not None})
    return Ingested(name, "trainer_state", frame, log.finish(), notes, meta)
