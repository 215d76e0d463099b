"""JSON Lines logs: HF/TRL log lines, ms-swift `logging.jsonl`, veRL's file logger, flat JSONL.

The file is read in newline-aligned chunks so memory stays near one chunk plus the frame,
whatever the file size; each chunk goes to the Polars decoder (see decode.py).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import polars as pl

from logscope.ingest.base import Ingested, ProblemLog, tabulate
from logscope.ingest.decode import decode_chunk, prepare, sanitize

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

CHUNK_BYTES = 64 << 20
_COMPRESSED = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
_TOOLS = {"gzip": "gunzip", "zstd": "unzstd", "bzip2": "bunzip2", "xz": "unxz"}
_SNIFF_BYTES = 1 << 20  # enough for the first line of any real log


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    """Read one JSONL file; every problem is reported, none is fatal."""
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    head = _head(path)
    if not head.strip():
        log(None, "file is empty")
        return _result(name, pl.DataFrame(), log, notes)
    compressed = next((kind for magic, kind in _COMPRESSED if head.startswith(magic)), None)
    if compressed:
        log(None, f"{compressed}-compressed; decompress it first (e.g. {_TOOLS[compressed]} FILE)")
        return _result(name, pl.DataFrame(), log, notes)
    if not _looks_like_jsonl(head):
        found = head.lstrip()[:16]
        log(1, f"not a JSON Lines file (no line starts with '{{'; begins {found!r}); skipped")
        return _result(name, pl.DataFrame(), log, notes)
    verl = is_verl(_first_line(path))
    if verl:
        notes.append(
            "veRL file logger: metrics read from 'data'; "
            "null read as NaN (orjson writes NaN/Inf as null)"
        )
    frames = _frames(path, log, verl, progress and functools.partial(progress, name))
    raw = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    return _result(name, raw, log, notes)


def _result(name: str, raw: pl.DataFrame, log: ProblemLog, notes: list[str]) -> Ingested:
    frame, meta = tabulate(raw, log, notes)
    return Ingested(name, "jsonl", frame, log.finish(), notes, meta)


def _frames(
    path: Path, log: ProblemLog, verl: bool, progress: Callable[[int, int], None] | None
) -> list[pl.DataFrame]:
    """Decode the file chunk by chunk. For files of several chunks a helper thread reads,
    counts and sanitises the next chunk while Polars (which releases the GIL) parses the
    current one; a small file is read in the calling thread (a thread costs more there)."""
    frames: list[pl.DataFrame] = []
    line_no, done, size = 1, 0, path.stat().st_size
    with path.open("rb") as handle, ExitStack() as stack:
        prepared: Iterator[Prepared] = (
            _prepare(block, is_tail, verl) for block, is_tail in _chunks(handle)
        )
        if size > CHUNK_BYTES:
            prepared = _prefetch(prepared, stack.enter_context(ThreadPoolExecutor(1)))
        for block, is_tail, lines, clean in prepared:
            pieces = decode_chunk(
                block,
                line_no,
                log,
                null_is_nan=verl,
                unwrap="data" if verl else None,
                truncated_tail=is_tail,
                lines=lines,
                sanitized=clean,
            )
            frames.extend(_prepared(pieces, verl))
            line_no += lines
            done += len(block)
            if progress:
                progress(done, size)
    return frames


Prepared = tuple[bytes, bool, int, bytes]


def _prepare(block: bytes, is_tail: bool, verl: bool) -> Prepared:
    return block, is_tail, block.count(b"\n"), sanitize(block, null_is_nan=verl)


def _prefetch(items: Iterator[Prepared], pool: ThreadPoolExecutor) -> Iterator[Prepared]:
    """Yield `items`, computing the next one in `pool` while the caller works on this one."""
    pending = pool.submit(next, items, None)
    while (item := pending.result()) is not None:
        pending = pool.submit(next, items, None)
        yield item


def _chunks(handle: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """Newline-terminated blocks of about CHUNK_BYTES, then the unterminated tail if any.

    Seeking back to each cut avoids copying a carried-over partial line into the next block.
    """
    while block := handle.read(CHUNK_BYTES):
        cut = block.rfind(b"\n") + 1
        while cut == 0 and len(block) % CHUNK_BYTES == 0:  # a line longer than a chunk
            more = handle.readline()
            if not more:
                break
            block += more
            cut = len(block) if block.endswith(b"\n") else 0
        if cut == 0:
            yield block, True
            return
        if cut < len(block):
            handle.seek(cut - len(block), 1)
            block = block[:cut]
        yield block, False


def _prepared(frames: list[pl.DataFrame], verl: bool) -> list[pl.DataFrame]:
    """Flatten and type each piece before concatenation, so pieces agree on dtypes."""
    return [prepare(f, unwrap="data" if verl else None) for f in frames]


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(_SNIFF_BYTES)


def _looks_like_jsonl(head: bytes) -> bool:
    """Some line in the first megabyte opens a JSON object: other files are refused whole,
    while a log whose first line is damaged is still read."""
    return any(line.lstrip().startswith(b"{") for line in head.split(b"\n")[:1000])


def _first_line(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.readline()


def is_verl(first: bytes) -> bool:
    """veRL's file logger: every line is exactly {"step": N, "data": {...}}."""
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return (
        isinstance(record, dict)
        and set(record) == {"step", "data"}
        and isinstance(record["data"], dict)
    )
