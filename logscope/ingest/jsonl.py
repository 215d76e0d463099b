"""JSON Lines logs: HF/TRL log lines, ms-swift `logging.jsonl`, veRL's file logger, flat JSONL.

The file is read in newline-aligned chunks so memory stays near one chunk plus the frame,
whatever the file size; each chunk goes to the Polars decoder (see decode.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from logscope.ingest.base import Ingested, ProblemLog, tabulate
from logscope.ingest.decode import decode_chunk, flatten, normalize

CHUNK_BYTES = 64 << 20
_SNIFF_BYTES = 1 << 20  # enough for the first line of any real log


def read(path: Path, display: str | None = None) -> Ingested:
    """Read one JSONL file; every problem is reported, none is fatal."""
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    head = _head(path)
    if not head.strip():
        log(None, "file is empty")
        return _result(name, pl.DataFrame(), log, notes)
    if not head.lstrip().startswith(b"{"):
        log(1, f"not a JSON Lines file (expected '{{' first, found {head.lstrip()[:16]!r}); skipped")
        return _result(name, pl.DataFrame(), log, notes)
    verl = _is_verl(head)
    if verl:
        notes.append("veRL file logger: metrics read from 'data'; null read as NaN (orjson writes NaN/Inf as null)")
    frames = list(_frames(path, log, verl))
    raw = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return _result(name, raw, log, notes)


def _result(name: str, raw: pl.DataFrame, log: ProblemLog, notes: list[str]) -> Ingested:
    frame, meta = tabulate(raw, log, notes)
    return Ingested(name, "jsonl", frame, log.finish(), notes, meta)


def _frames(path: Path, log: ProblemLog, verl: bool) -> list[pl.DataFrame]:
    """Decode the file chunk by chunk; a last line without newline is checked on its own."""
    frames: list[pl.DataFrame] = []
    line_no = 1
    carry = b""
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            data = carry + block if carry else block
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            chunk, carry = data[: cut + 1], data[cut + 1 :]
            frames.extend(_prepared(decode_chunk(chunk, line_no, log, null_is_nan=verl), verl))
            line_no += chunk.count(b"\n")
    if carry.strip():
        tail = decode_chunk(carry, line_no, log, null_is_nan=verl, truncated_tail=True)
        frames.extend(_prepared(tail, verl))
    return frames


def _prepared(frames: list[pl.DataFrame], verl: bool) -> list[pl.DataFrame]:
    """Flatten and type each piece before concatenation, so pieces agree on dtypes."""
    return [normalize(flatten(f, unwrap="data" if verl else None)) for f in frames]


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(_SNIFF_BYTES)


def _is_verl(head: bytes) -> bool:
    """veRL's file logger: every line is exactly {"step": N, "data": {...}}."""
    first = head.split(b"\n", 1)[0]
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and set(record) == {"step", "data"} and isinstance(
        record["data"], dict
    )
