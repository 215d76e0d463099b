"""The record framing of W&B's `.wandb` transaction log (LevelDB's log format), checked.
SwanLab's `.swanlab` run log uses the same framing with its own file header (`Header`).

After a 7-byte file header (`<4sHB`: b":W&B", 0xBEE1, version 0) the file is a sequence of
32 KiB blocks. A block holds chunks: `crc32 u32 LE | length u16 LE | type u8 | payload`,
where the CRC is plain zlib CRC-32 over the type byte and the payload, and the type says
whether the chunk is a whole record (FULL) or its FIRST, MIDDLE or LAST piece. A block
never starts a chunk in its last 6 bytes (they are zero padding). W&B's writer
(`core/pkg/leveldb` in the wandb repository) uses exactly LevelDB's layout with this CRC.

Damage is handled as LevelDB's reader does: a chunk with a bad checksum, length or type
loses the rest of its block (its length cannot be trusted) and reading resumes at the next
block; a record whose pieces are incomplete is dropped. Each loss is reported with its byte
offset; a file that simply ends mid-chunk (a live or killed run) reports the cut.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b":W&B"
MAGIC_NUMBER = 0xBEE1
VERSION = 0
FILE_HEADER = struct.Struct("<4sHB")


@dataclass(frozen=True)
class Header:
    """The 7-byte file header a tool writes before the blocks, and how messages name it."""

    ident: bytes  # 4 bytes
    magic: int
    version: int
    what: str  # "a W&B transaction log"
    suffix: str  # ".wandb"


WANDB = Header(MAGIC, MAGIC_NUMBER, VERSION, "a W&B transaction log", ".wandb")
CHUNK_HEADER = struct.Struct("<IHB")
BLOCK = 32 * 1024
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
_TYPE_CRC = {kind: zlib.crc32(bytes((kind,))) for kind in (FULL, FIRST, MIDDLE, LAST)}


@dataclass
class Records:
    """Where every readable record's payload lies in `data` (the file itself, with the records
    that span blocks appended joined), and the losses."""

    data: bytes
    start: np.ndarray  # payload start in `data`
    end: np.ndarray  # payload end (exclusive)
    offset: np.ndarray  # byte offset in the file of the record's first chunk
    problems: list[tuple[int, str]] = field(default_factory=list)  # (byte offset, message)


def looks_like_wandb(head: bytes) -> bool:
    """The file starts with a W&B transaction-log header (any version)."""
    return len(head) >= FILE_HEADER.size and head[:4] == MAGIC


def run_id(path: Path, header: Header, folder: re.Pattern[str]) -> str:
    """A tracker's run id: from the file name `run-<id><suffix>`, else from its folder
    (`folder` captures `id`), else the file name."""
    name = path.name
    if (
        name.startswith("run-")
        and name.endswith(header.suffix)
        and len(name) > 4 + len(header.suffix)
    ):
        return name[4 : -len(header.suffix)]
    found = folder.match(path.parent.name)
    return found.group("id") if found else name


def load(
    path: Path,
    header: Header,
    log: Callable[[int | None, str], None],
    name: str,
    progress: Callable[[str, int, int], None] | None,
) -> Records | None:
    """The records of a log file, each framing problem logged with its byte offset; None
    (with the reason logged) when the file cannot be read."""
    try:
        buf = path.read_bytes()
    except OSError as exc:
        log(None, f"could not be read ({exc.strerror or exc}); skipped")
        return None
    if progress:
        progress(name, len(buf), len(buf))
    records = read_records(buf, header)
    for offset, message in records.problems:
        log(None, message if message.startswith("byte ") else f"byte {offset}: {message}")
    return records


def read_records(buf: bytes, header: Header = WANDB) -> Records:
    """Split the file into records; never raises, whatever the bytes."""
    problems: list[tuple[int, str]] = []
    if len(buf) < FILE_HEADER.size or buf[:4] != header.ident:
        found = bytes(buf[:4])
        problems.append((0, f"not {header.what} (starts {found!r}, expected {header.ident!r})"))
        return _records(b"", [], [], [], problems)
    _, magic, version = FILE_HEADER.unpack_from(buf, 0)
    if magic != header.magic or version != header.version:
        problems.append(
            (
                4,
                f"unknown {header.suffix} header (magic {magic:#06x}, version {version}); "
                f"read as version {header.version}",
            )
        )
    joined: list[bytes] = []  # records that span blocks, appended to the file's bytes
    joined_size = 0
    pieces: list[memoryview] = []
    starts: list[int] = []
    ends: list[int] = []
    offsets: list[int] = []
    pending: int | None = None  # file offset of a record whose FIRST piece was read
    size = len(buf)
    view = memoryview(buf)
    pos = FILE_HEADER.size
    while pos < size:
        room = BLOCK - pos % BLOCK
        if room < CHUNK_HEADER.size:  # block trailer
            pos += room
            continue
        if size - pos < CHUNK_HEADER.size:
            problems.append((pos, _cut(pos, "a chunk header")))
            pending = None
            break
        crc, length, kind = CHUNK_HEADER.unpack_from(buf, pos)
        if crc == 0 and length == 0 and kind == 0:  # zero fill: the rest of the block is empty
            pos += room
            continue
        payload_at = pos + CHUNK_HEADER.size
        if length > room - CHUNK_HEADER.size or not FULL <= kind <= LAST:
            if payload_at + length > size and FULL <= kind <= LAST:
                problems.append((pos, _cut(pos, "a record")))
                pending = None
                break
            problems.append(
                (pos, _lost(pos, room, f"invalid chunk (type {kind}, length {length})"))
            )
            _drop(pending, problems)
            pending = None
            pos += room
            continue
        if payload_at + length > size:
            problems.append((pos, _cut(pos, "a record")))
            pending = None
            break
        payload = view[payload_at : payload_at + length]
        if zlib.crc32(payload, _TYPE_CRC[kind]) != crc:
            problems.append((pos, _lost(pos, room, "checksum mismatch")))
            _drop(pending, problems)
            pending = None
            pos += room
            continue
        if kind in (FULL, FIRST):
            _drop(pending, problems)
            pending, pieces = None, []
        if kind == FULL:
            starts.append(payload_at)
            ends.append(payload_at + length)
            offsets.append(pos)
        elif kind == FIRST:
            pending, pieces = pos, [payload]
        elif pending is None:
            problems.append((pos, f"byte {pos}: piece of a record whose start was lost; skipped"))
        else:
            pieces.append(payload)
            if kind == LAST:
                record = b"".join(pieces)
                starts.append(size + joined_size)
                joined_size += len(record)
                ends.append(size + joined_size)
                offsets.append(pending)
                joined.append(record)
                pending, pieces = None, []
        pos = payload_at + length
    if pending is not None:
        problems.append((pending, _cut(pending, "a record spanning blocks")))
    data = b"".join([buf, *joined]) if joined else bytes(buf)
    return _records(data, starts, ends, offsets, problems)


def _records(
    data: bytes,
    starts: list[int],
    ends: list[int],
    offsets: list[int],
    problems: list[tuple[int, str]],
) -> Records:
    def arr(values: list[int]) -> np.ndarray:
        return np.array(values, dtype=np.int64)

    return Records(data, arr(starts), arr(ends), arr(offsets), problems)


def _cut(pos: int, what: str) -> str:
    return (
        f"file ends inside {what} at byte {pos} (run killed mid-write, or still writing); "
        "everything before it was read"
    )


def _lost(pos: int, room: int, why: str) -> str:
    return (
        f"byte {pos}: {why}; bytes {pos}-{pos + room - 1} (the rest of this 32 KiB block) "
        "skipped, reading went on at the next block (the file is damaged)"
    )


def _drop(pending: int | None, problems: list[tuple[int, str]]) -> None:
    """Report a record whose later pieces never came (the caller forgets it)."""
    if pending is not None:
        problems.append((pending, f"byte {pending}: record lost, its later pieces are missing"))
