"""JSON Lines logs: HF/TRL log lines, ms-swift `logging.jsonl`, veRL's file logger, flat JSONL.

The file is read in newline-aligned chunks so memory stays near one chunk plus the frame,
whatever the file size; each chunk goes to the Polars decoder (see decode.py).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

import polars as pl

from logscope.columns import LINE
from logscope.ingest.base import Ingested, ProblemLog, tabulate
from logscope.ingest.decode import Nulled, decode_chunk, null_nonfinite, prepare, sanitize
from logscope.ingest.jsondepth import loads
from logscope.ingest.jsonschema import Early, SchemaDecoder
from logscope.ingest.textfile import DAMAGED, compression, open_text, read_some, read_text_bytes

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

# 8 MiB: big enough for Polars to parse in parallel, small enough that the allocator
# reuses freed chunks (blocks past 32 MiB are fresh mappings, page-faulted on every read)
CHUNK_BYTES = 8 << 20
_COMPRESSED = ((b"\x28\xb5\x2f\xfd", "zstd"),)
_TOOLS = {"zstd": "unzstd"}
MAX_LINE_BYTES = 256 << 20  # a longer "line" (no newline in 256 MiB) is skipped
_SNIFF_BYTES = 1 << 20  # enough for the first line of any real log
_PROBE_BYTES = 64 << 10  # where a chunk's last newline is looked for before reading it
T = TypeVar("T")


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    """Read one JSONL file; every problem is reported, none is fatal."""
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    damage: list[str] = []
    try:
        head = read_text_bytes(
            path, limit=_SNIFF_BYTES, log=lambda _, why: damage.append(why.split(";")[0])
        )
    except OSError as error:
        log(None, f"cannot read the file ({error.strerror or error}); skipped")
        return _result(name, pl.DataFrame(), log, notes)
    if damage and not _looks_like_jsonl(head):  # e.g. a gzip header over junk
        log(None, f"{_compression(path)}-compressed, and {damage[0]}; nothing could be read")
        return _result(name, pl.DataFrame(), log, notes)
    if not head.strip():
        log(None, "file is empty")
        return _result(name, pl.DataFrame(), log, notes)
    compressed = next((kind for magic, kind in _COMPRESSED if head.startswith(magic)), None)
    if compressed:  # one that textfile cannot open
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
    return _result(name, _concat(frames), log, notes)


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The frames one under the other, a key missing from some read as null there. When
    the keys they share have one type in all (they have, unless a key is a number in some
    chunks and text in others), "diagonal" gives what "diagonal_relaxed" would, without
    its copy of every column into one chunk (~0.2 s per GB at the end of the read, with
    nothing to run beside it; each chunk's frame is one chunk already, see
    jsonschema._parse)."""
    if not frames:
        return pl.DataFrame()
    types: dict[str, pl.DataType] = {}
    for frame in frames:
        for name, dtype in frame.schema.items():
            if types.setdefault(name, dtype) != dtype:
                return pl.concat(frames, how="diagonal_relaxed")
    return pl.concat(frames, how="diagonal")


def _result(name: str, raw: pl.DataFrame, log: ProblemLog, notes: list[str]) -> Ingested:
    frame, meta = tabulate(raw, log, notes)
    return Ingested(name, "jsonl", frame, log.finish(), notes, meta)


def _frames(
    path: Path, log: ProblemLog, verl: bool, progress: Callable[[int, int], None] | None
) -> list[pl.DataFrame]:
    """Decode the file chunk by chunk. For files of several chunks, a helper thread reads,
    counts and sanitises the chunk after next, a second one has Polars (which releases the
    GIL) parse the next with the schema learnt so far, while this thread checks the current
    one: Polars parses while Python checks. A small file is read in the calling thread
    (threads cost more there)."""
    frames: list[pl.DataFrame] = []
    line_no, done, size = 1, 0, path.stat().st_size
    with open_text(path) as handle, ExitStack() as stack:
        blocks = (
            _chunks(handle, log)
            if handle.seekable() and not _compressed(handle)
            else (_carried_chunks(handle, log))
        )
        schema = SchemaDecoder()
        prepared: Iterator[Prepared] = (_prepare(block, is_tail, verl) for block, is_tail in blocks)
        parsed: Iterator[Parsed]
        if size > CHUNK_BYTES:  # three stages at once: scan, parse ahead, check
            prepared = _prefetch(prepared, stack.enter_context(ThreadPoolExecutor(1)))
            ahead = ((*item, None if item[1] else schema.ahead(item[2])) for item in prepared)
            parsed = _prefetch(ahead, stack.enter_context(ThreadPoolExecutor(1)))
        else:
            parsed = ((*item, None) for item in prepared)
        known: list[pl.DataFrame] = []  # parsed with one schema: prepared together
        version = schema.version
        for block, is_tail, nulled, early in parsed:
            lines = nulled.lines
            count = lines + (0 if block.endswith(b"\n") else 1)
            frame = None if is_tail else schema.decode(nulled, count, nulled.colons, line_no, early)
            if known and (frame is None or schema.version != version):
                frames.extend(_group(known, verl))
                known = []
            version = schema.version
            if frame is not None:
                known.append(frame)
            else:  # the exact path: depth scan, full inference, bad lines one by one
                pieces = decode_chunk(
                    block,
                    line_no,
                    log,
                    null_is_nan=verl,
                    unwrap="data" if verl else None,
                    truncated_tail=is_tail,
                    lines=lines,
                )
                frames.extend(_prepared(pieces, verl))
            line_no += lines
            done += len(block)
            if progress:
                progress(done, size)
        if known:
            frames.extend(_group(known, verl))
    return frames


# block, is_tail, the block with bare NaN/Infinity nulled (its newlines and `:`s counted),
# and the parse of that one with the schema of the moment (see SchemaDecoder.ahead)
Prepared = tuple[bytes, bool, Nulled]
Parsed = tuple[bytes, bool, Nulled, Early | None]


def _prepare(block: bytes, is_tail: bool, verl: bool) -> Prepared:
    """The byte scans of a block, done in a helper thread (see `_frames`): numpy counts
    (several times faster than bytes.count, and they release the GIL)."""
    if not verl:
        return block, is_tail, null_nonfinite(block)
    import numpy as np  # veRL's nulls are NaN too: its lines are quoted the exact path's way

    lines = int(np.count_nonzero(np.frombuffer(block, np.uint8) == 0x0A))
    text = sanitize(block, null_is_nan=True)
    colons = int(np.count_nonzero(np.frombuffer(text, np.uint8) == 0x3A))
    return block, is_tail, Nulled(text, lines, [], [], [], colons)


def _prefetch(items: Iterator[T], pool: ThreadPoolExecutor) -> Iterator[T]:
    """Yield `items`, computing the next one in `pool` while the caller works on this one.
    (Two ahead removed no wait that mattered once `_group` stopped stalling the caller,
    and cost ~0.3 CPU-s per GB more: more buffers in flight, fresh pages for them.)"""
    pending = pool.submit(next, items, None)
    while (item := pending.result()) is not None:
        pending = pool.submit(next, items, None)
        yield item


def _compression(path: Path) -> str:
    with path.open("rb") as handle:
        return compression(handle.read(6)) or "compressed"


def _compressed(handle: BinaryIO) -> bool:
    return not isinstance(handle, io.BufferedReader)


def _chunks(handle: BinaryIO, log: ProblemLog) -> Iterator[tuple[bytes, bool]]:
    """Newline-terminated blocks of about CHUNK_BYTES, then the unterminated tail if any.

    Seeking back to each cut avoids copying a carried-over partial line into the next block,
    and reading exactly to the cut (found by a small read ahead) avoids copying the block.
    """
    while block := handle.read(_to_cut(handle)):
        cut = block.rfind(b"\n") + 1
        while cut == 0 and len(block) % CHUNK_BYTES == 0:  # a line longer than a chunk
            if len(block) >= MAX_LINE_BYTES:
                block = _skip_long_line(handle, block, log)
                cut = len(block)
                break
            more = handle.readline(CHUNK_BYTES)
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


def _to_cut(handle: BinaryIO) -> int:
    """How many bytes from here end at the last newline within CHUNK_BYTES, found in the
    last _PROBE_BYTES of that span; CHUNK_BYTES when none is there or the file ends first."""
    probe = min(_PROBE_BYTES, CHUNK_BYTES)
    here = handle.tell()
    handle.seek(here + CHUNK_BYTES - probe)
    window = handle.read(probe)
    handle.seek(here)
    cut = window.rfind(b"\n")
    if len(window) < probe or cut < 0:
        return CHUNK_BYTES
    return CHUNK_BYTES - probe + cut + 1


def _carried_chunks(handle: BinaryIO, log: ProblemLog) -> Iterator[tuple[bytes, bool]]:
    """As `_chunks`, for a stream that cannot seek (a compressed file): the partial last
    line of each block is carried into the next. A damaged stream ends the file, reported."""
    carry = b""
    broken: str | None = None
    while broken is None:
        block, broken = read_some(handle, CHUNK_BYTES)
        if broken:
            log(
                None,
                f"compressed data damaged or cut short ({broken}); the lines before it were read",
            )
        if not block:
            break
        block = carry + block
        cut = block.rfind(b"\n") + 1
        if cut == 0 and len(block) >= MAX_LINE_BYTES:
            carry = b""
            yield _skip_long_line(handle, block, log), False
            continue
        carry = block[cut:]
        if cut:
            yield block[:cut], False
    if carry:
        yield carry, True


def _skip_long_line(handle: BinaryIO, block: bytes, log: ProblemLog) -> bytes:
    """A line past MAX_LINE_BYTES (no log writes one; /dev/zero does) is read through to its
    end without being kept; it stands as an empty line so line numbers stay right."""
    log(None, f"a line longer than {MAX_LINE_BYTES >> 20} MiB was skipped")
    while True:
        try:
            piece = handle.readline(CHUNK_BYTES)
        except DAMAGED:
            return b"\n"
        if not piece or piece.endswith(b"\n"):
            return b"\n"


def _group(frames: list[pl.DataFrame], verl: bool) -> list[pl.DataFrame]:
    """Frames parsed with one schema, as one frame prepared once; as they are when they
    hold only numbers (`prepare` would change nothing, yet cost the calling thread, which
    the parse ahead waits for, ~0.2 s per GB at once)."""
    frame = pl.concat(frames)
    return [frame] if _numbers_only(frame) else _prepared([frame], verl)


def _numbers_only(frame: pl.DataFrame) -> bool:
    """Only Float64 columns (and `_line`): what `prepare` leaves."""
    return all(dtype == pl.Float64 or name == LINE for name, dtype in frame.schema.items())


def _prepared(frames: list[pl.DataFrame], verl: bool) -> list[pl.DataFrame]:
    """Flatten and type each piece before concatenation, so pieces agree on dtypes."""
    return [prepare(f, unwrap="data" if verl else None) for f in frames]


def _looks_like_jsonl(head: bytes) -> bool:
    """Some line in the first megabyte opens a JSON object: other files are refused whole,
    while a log whose first line is damaged is still read."""
    return any(line.lstrip().startswith(b"{") for line in head.split(b"\n")[:1000])


def _first_line(path: Path) -> bytes:
    try:
        with open_text(path) as handle:
            return handle.readline(CHUNK_BYTES)
    except DAMAGED:
        return b""


def is_verl(first: bytes) -> bool:
    """veRL's file logger: every line is exactly {"step": N, "data": {...}}."""
    try:
        record = loads(first)
    except ValueError:
        return False
    return (
        isinstance(record, dict)
        and set(record) == {"step", "data"}
        and isinstance(record["data"], dict)
    )
