"""Hugging Face `trainer_state.json`: its `log_history` is the run's metric history.

`TrainerState.save_to_json` uses `json.dumps(indent=2)`, so NaN/Infinity are bare tokens;
Python's json reads them. Every checkpoint holds a full, self-consistent copy up to its
step, so discovery keeps only the most complete copy (see discover.py). A copy cut short
(a save interrupted by a kill or a full disk) still yields the entries before the cut.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from logscope.ingest.base import Ingested, ProblemLog, tabulate
from logscope.ingest.decode import decode_chunk, prepare, records_to_ndjson
from logscope.ingest.jsondepth import TOO_DEEP, too_deep

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
_UNREADABLE = "not a readable trainer_state.json (invalid JSON); skipped"


def load(path: Path) -> dict[str, Any] | None:
    """The parsed state, or None when the file is not a readable trainer state."""
    state, _ = parse(path)
    return state


def parse(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(state, problem). A file cut short yields the keys and the complete `log_history`
    entries before the cut, and the problem says where the cut is."""
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, f"cannot read the file ({error.strerror or error}); skipped"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, f"not UTF-8 text (byte {error.start}); skipped"
    if too_deep(text):
        return None, f"not a readable trainer_state.json: {TOO_DEEP}"
    try:
        state = json.loads(text)
    except ValueError:
        return _salvage(text)
    if not isinstance(state, dict):
        return None, f"expected a JSON object, found {type(state).__name__}; skipped"
    return state, None


def _salvage(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Read the top-level object pair by pair, `log_history` entry by entry, up to the
    first thing that does not parse."""
    decoder = json.JSONDecoder()
    state: dict[str, Any] = {}
    at = _skip(text, 0)
    if not text.startswith("{", at):
        return None, _UNREADABLE
    at = _skip(text, at + 1)
    try:
        while not text.startswith("}", at):
            key, at = decoder.raw_decode(text, at)
            at = _skip(text, at)
            if not text.startswith(":", at):
                break
            at = _skip(text, at + 1)
            if key == "log_history" and text.startswith("[", at):
                state[key], at = _entries(decoder, text, _skip(text, at + 1))
            else:
                state[str(key)], at = decoder.raw_decode(text, at)
            at = _skip(text, at)
            if not text.startswith(",", at):
                break
            at = _skip(text, at + 1)
    except ValueError:
        pass
    if not state:
        return None, _UNREADABLE
    history = state.get("log_history")
    count = len(history) if isinstance(history, list) else 0
    cut = len(text[:at].encode())
    return state, (
        f"not valid JSON from byte {cut} on (cut short: a save interrupted by a kill or a full"
        f" disk?); read the {count} complete log_history entries before it"
    )


def _entries(decoder: json.JSONDecoder, text: str, at: int) -> tuple[list[Any], int]:
    """The list items that parse whole; stops at the first that does not."""
    found: list[Any] = []
    while not text.startswith("]", at):
        try:
            item, end = decoder.raw_decode(text, at)
        except ValueError:
            return found, at
        found.append(item)
        at = _skip(text, end)
        if text.startswith(",", at):
            at = _skip(text, at + 1)
        elif not text.startswith("]", at):
            return found, at
    return found, at + 1


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def global_step(path: Path) -> int:
    """How far this copy got; -1 when unreadable, so any readable copy beats it."""
    state, problem = parse(path)
    if state is None:
        return -1
    step = state.get("global_step")
    history = state.get("log_history")
    if problem is not None and isinstance(history, list):  # cut short: what was read counts
        steps = [e.get("step") for e in history if isinstance(e, dict)]
        return max((s for s in steps if isinstance(s, int)), default=-1)
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
    state, problem = parse(path)
    if problem:
        log(None, problem)
    if state is None:
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
