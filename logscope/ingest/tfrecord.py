"""TFRecord framing of TensorBoard event files: every record found, checked and located.

A record is `uint64 length | uint32 masked CRC-32C of those 8 bytes | payload | uint32 masked
CRC-32C of the payload`, little-endian. A healthy file is one unbroken chain of records.
Most files log the same tags step after step, so record lengths repeat: `_predicted` reads
a few records, finds the period, and checks the predicted headers all at once (length,
zero high half, header CRC). Otherwise all headers are found at once with numpy (a real
header has a zero high half and a CRC that matches its length) and checked to chain from
byte 0; only a damaged file is walked record by record, which is where resynchronisation
after corruption happens.

Every payload's CRC is checked (crc32c.py: all records at once in numpy; a compiled call
per record for the few long ones): TensorBoard's pure-Python CRC is what makes its own
loader slow (tensorboard#4354). `verify=False` skips them.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

import numpy as np

from logscope.ingest import crc32c

if TYPE_CHECKING:
    import mmap

Buffer = Union[bytes, "mmap.mmap"]  # sliced to bytes for the CRC, viewed by numpy

HEADER = 12  # length + its CRC
FOOTER = 4  # payload CRC
_MASK_DELTA = np.uint32(0xA282EAD8)
_WINDOW = 4 << 20  # header scan window: bounds the scan's temporary memory
_CRC_CHUNK = 1 << 16
_U64 = struct.Struct("<Q")


@dataclass
class Records:
    """Payload spans of the readable records, in file order, and what went wrong."""

    offset: np.ndarray  # byte offset of each record (its length field)
    start: np.ndarray  # payload start
    end: np.ndarray  # payload end (exclusive)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (byte offset, message)
    checked: bool = True  # payload CRCs were verified
    crc_cut: bool = False  # the last record's payload CRC was cut off (it is read unchecked)


def mask(crc: np.ndarray) -> np.ndarray:
    """TensorFlow's masked CRC: rotate right by 15 bits, add a constant (mod 2**32)."""
    crc = crc.astype(np.uint32)
    masked: np.ndarray = ((crc >> np.uint32(15)) | (crc << np.uint32(17))) + _MASK_DELTA
    return masked


def length_crc(length: np.ndarray) -> np.ndarray:
    """Masked CRC-32C of each length written as 8 little-endian bytes (length < 2**32):
    one round of crc32c's slicing-by-8 with the high half zero, plus the constant of 8
    bytes."""
    u0, u1, _, _ = crc32c.tables()
    length = length.astype(np.int64)
    crc = u0[length & 0xFFFF] ^ u1[length >> 16] ^ np.uint32(crc32c.zeros(8))
    return mask(crc)


def split(data: Buffer, *, verify: bool = True) -> Records:
    """The records of `data` (a whole file); damage is reported, never raised."""
    records = frame(data)
    if verify:
        drop(records, failed(data, records))
    else:
        records.checked = False
    return records


def frame(data: Buffer) -> Records:
    """The records of `data` with their payload CRCs not checked yet (`checked` is False):
    `failed` checks them, `drop` removes the ones that fail. Split in two so a reader can
    check the CRCs while it decodes (tensorboard.py)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    n = len(buf)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return Records(empty, empty, empty, [(0, "file is empty")], checked=False)
    chain = _predicted(data, buf)
    if chain is not None:  # an intact file whose record lengths repeat
        offset, length = chain
        return Records(offset, offset + HEADER, offset + HEADER + length, checked=False)
    all_heads, all_lengths = _headers(buf)
    ends = all_heads + HEADER + all_lengths + FOOTER
    whole = ends <= n
    heads, lengths, ends = all_heads[whole], all_lengths[whole], ends[whole]
    chained = 0
    if len(heads) and heads[0] == 0:
        breaks = np.flatnonzero(heads[1:] != ends[:-1])
        chained = int(breaks[0]) + 1 if len(breaks) else len(heads)
    offset, length = heads[:chained], lengths[:chained]
    problems: list[tuple[int, str]] = []
    resume = int(ends[chained - 1]) if chained else 0
    unchecked = None
    if resume < n:  # damage, or an unfinished tail: walk the rest record by record
        more, unchecked = _walk(buf, all_heads, all_lengths, resume, problems)
        offset = np.concatenate([offset, more])
        length = np.concatenate([length, _lengths_at(buf, more)])
        if unchecked is not None:  # its payload is whole, only its CRC was cut off
            offset = np.append(offset, unchecked[0])
            length = np.append(length, unchecked[1])
    return Records(
        offset,
        offset + HEADER,
        offset + HEADER + length,
        problems,
        checked=False,
        crc_cut=unchecked is not None,
    )


_WALK = 2048  # most records read one by one before a period is looked for
_FIRST_WALK = 256  # the first walk (and each after a period held): doubled while none is found
_WALKED = 1 << 16  # at most this many in all: past it the file is not periodic enough
_PERIOD = 1024  # longest period looked for (records per repeat)
_FIRST_GUESS = 4096  # records predicted at once, doubled while the guesses hold


def _predicted(data: Buffer, buf: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The chain of records of an intact file, found without scanning every byte.

    A training loop logs the same tags in the same order, so record lengths repeat with a
    period (50 for 50 tags: one step's records). A few records are read one by one, the
    period is found, the next headers are predicted from it and checked all at once
    (length, zero high half and header CRC where predicted); where a guess fails (the
    step's varint grew a byte, an evaluation), a few records are read again. The chain must
    end exactly at the end of the file: anything else (damage, a cut last record, no
    period) returns None, and the file is scanned for headers instead."""
    n = len(buf)
    words, crcs = strided(buf, "<u8"), strided(buf, "<u4")
    offsets: list[np.ndarray] = []
    pos = walked = 0
    guess = _FIRST_GUESS
    walk = _FIRST_WALK
    while pos < n:
        if walked >= _WALKED:
            return None
        off, size = _walk_lengths(data, pos, n, walk)
        if len(off) == 0 or not np.array_equal(length_crc(size), crcs[off + 8]):
            return None
        walked += len(off)
        offsets.append(off)
        pos = int(off[-1] + HEADER + size[-1] + FOOTER)
        period = _period(size)
        pattern = size[-period:]
        held = 0  # records predicted from this period
        while period and pos < n:
            step = pattern + (HEADER + FOOTER)
            reps = min(-(-guess // period), (n - pos) // int(step.sum()))
            if reps == 0:
                break
            start = np.cumsum(step) - step  # offsets within one repeat
            at = pos + np.arange(reps)[:, None] * int(step.sum()) + start  # one row a repeat
            wrong = np.flatnonzero(
                (words[at] != pattern.astype(np.uint64)) | (crcs[at + 8] != length_crc(pattern))
            )
            off = at.ravel()
            good = int(wrong[0]) if len(wrong) else len(off)
            if good == 0:
                break
            offsets.append(off[:good])
            held += good
            pos = int(off[good - 1] + HEADER + pattern[(good - 1) % period] + FOOTER)
            if good < len(off):
                guess = _FIRST_GUESS
                break
            guess *= 2
        # a period that held for longer than the walk was real: walk little next time;
        # none, or one that soon failed (too few records to see a long one): walk more
        walk = _FIRST_WALK if held >= walk else min(2 * walk, _WALK)
    if pos != n:
        return None
    offset = np.concatenate(offsets)
    # the chain is unbroken: each record ends where the next starts, the last at the end
    length = np.diff(offset, append=n) - (HEADER + FOOTER)
    return offset, length


def _walk_lengths(data: Buffer, pos: int, n: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to `count` records from `pos`, read one by one (lengths unchecked, whole only)."""
    read = _U64.unpack_from
    off: list[int] = []
    size: list[int] = []
    while len(off) < count and pos + HEADER <= n:
        (length,) = read(data, pos)
        end = pos + HEADER + length + FOOTER
        if end > n:
            break
        off.append(pos)
        size.append(length)
        pos = end
    return np.array(off, dtype=np.int64), np.array(size, dtype=np.int64)


def _period(size: np.ndarray) -> int:
    """The shortest period of the second half of `size` (0 if none up to _PERIOD)."""
    tail = size[len(size) // 2 :]
    for period in range(1, min(_PERIOD, len(tail) // 2) + 1):
        if np.array_equal(tail[period:], tail[:-period]):
            return period
    return 0


def _headers(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and lengths of every 12-byte window that is a valid record header."""
    n = len(buf)
    if n < HEADER:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    u32 = strided(buf, "<u4")
    found: list[np.ndarray] = []
    for lo in range(0, n - HEADER + 1, _WINDOW):
        hi = min(n - HEADER + 1, lo + _WINDOW)
        at = np.flatnonzero(u32[lo + 4 : hi + 4] == 0) + lo  # length < 2**32
        at = at[u32[at] <= n - HEADER - at]  # fits in the file (a cut one too)
        at = at[length_crc(u32[at]) == u32[at + 8]]
        found.append(at)
    heads = np.concatenate(found).astype(np.int64)
    return heads, u32[heads].astype(np.int64)


def strided(buf: np.ndarray, dtype: str) -> np.ndarray:
    """A view with one (unaligned) element starting at every byte of `buf`."""
    size = np.dtype(dtype).itemsize
    count = max(len(buf) - size + 1, 0)
    view: np.ndarray = np.ndarray((count,), dtype=dtype, buffer=buf, strides=(1,))
    return view


def _lengths_at(buf: np.ndarray, offset: np.ndarray) -> np.ndarray:
    if len(offset) == 0:
        return np.zeros(0, np.int64)
    lengths: np.ndarray = strided(buf, "<u4")[offset].astype(np.int64)
    return lengths


def _walk(
    buf: np.ndarray,
    heads: np.ndarray,
    lengths: np.ndarray,
    pos: int,
    problems: list[tuple[int, str]],
) -> tuple[np.ndarray, tuple[int, int] | None]:
    """Follow the chain from `pos` one record at a time, skipping damage to the next valid
    header. Returns the complete records' offsets, and (offset, length) of a final record
    whose payload is whole but whose CRC was cut off."""
    n = len(buf)
    index = dict(zip(heads.tolist(), lengths.tolist(), strict=True))
    found: list[int] = []
    unchecked = None
    while pos < n:
        length = index.get(pos)
        if length is None and n - pos >= HEADER:
            length = _cut_header(buf, pos)  # a valid header whose record runs past the end
        if length is None:
            if n - pos < HEADER:
                problems.append((pos, _cut(n - pos, HEADER, "header")))
                break
            after = int(np.searchsorted(heads, pos, side="right"))
            if after == len(heads):
                problems.append(
                    (
                        pos,
                        f"corrupt record (length or header CRC wrong); no valid record "
                        f"follows: the last {n - pos} bytes were skipped",
                    )
                )
                break
            resume = int(heads[after])
            problems.append(
                (
                    pos,
                    f"corrupt record (length or header CRC wrong); {resume - pos} bytes "
                    f"skipped, reading resumes at byte {resume}",
                )
            )
            pos = resume
            continue
        if pos + HEADER + length > n:
            problems.append((pos, _cut(n - pos, HEADER + length + FOOTER, "record")))
            break
        if pos + HEADER + length + FOOTER > n:
            problems.append(
                (pos, "last record has no payload CRC (file cut while writing it); read unchecked")
            )
            unchecked = (pos, length)
            break
        found.append(pos)
        pos += HEADER + length + FOOTER
    return np.array(found, dtype=np.int64), unchecked


def _cut_header(buf: np.ndarray, pos: int) -> int | None:
    length, high, crc = (int(x) for x in buf[pos : pos + HEADER].view("<u4"))
    if high or int(length_crc(np.array([length]))[0]) != crc or pos + HEADER + length <= len(buf):
        return None
    return length


def _cut(have: int, need: int, what: str) -> str:
    return (
        f"last record is incomplete ({have} of {need} {what} bytes): the run was still "
        "writing or was killed; everything before it was read"
    )


def failed(data: Buffer, records: Records) -> np.ndarray:
    """Indices of the records whose payload fails its CRC (the last one is not checked
    when its CRC was cut off)."""
    check = PayloadCheck(data, records)
    check.work()
    return check.failed()


class PayloadCheck:
    """The payload CRCs of a file's records, computed in chunks that any thread may take:
    `work()` computes chunks until none is left (numpy releases the GIL in its array
    operations, so two threads share the cores), then `failed()` compares them."""

    def __init__(self, data: Buffer, records: Records) -> None:
        count = len(records.start) - (1 if records.crc_cut else 0)
        self._data = data
        self._buf = np.frombuffer(data, dtype=np.uint8)
        self._words = strided(self._buf, "<u8")
        self._start, self._end = records.start[: max(count, 0)], records.end[: max(count, 0)]
        self._short = self._end - self._start <= 8 * crc32c.MAX_WORDS
        self._stored = strided(self._buf, "<u4")
        self._bad = np.zeros(len(self._start), dtype=bool)
        self._chunks = range(0, len(self._start), _CRC_CHUNK)
        self._next = itertools.count()  # next() on it is atomic: each chunk is taken once

    def work(self) -> None:
        """Compute chunks until every one is taken (chunks keep temporaries in the cache)."""
        while self.work_one():
            pass

    def work_one(self) -> bool:
        """Check the next chunk nobody has taken; False when none is left. The comparison
        is made here too, while the chunk's values are in the cache, and in either thread."""
        i = next(self._next)
        if i >= len(self._chunks):
            return False
        lo = self._chunks[i]
        hi = min(len(self._start), lo + _CRC_CHUNK)
        sel = lo + np.flatnonzero(self._short[lo:hi])
        end = self._end[sel]
        found = crc32c.crcs(self._words, self._start[sel], end)
        self._bad[sel] = mask(found) != self._stored[end]
        return True

    def failed(self) -> np.ndarray:
        """Indices of the records whose payload CRC does not match (after all `work()`)."""
        long = np.flatnonzero(~self._short)
        if len(long):  # a few long records (graphs, images): one compiled call each
            end = self._end[long]
            found = _long_crcs(self._data, self._words, self._start[long], end)
            self._bad[long] = mask(found) != self._stored[end]
        bad: np.ndarray = np.flatnonzero(self._bad)
        return bad


def drop(records: Records, bad: np.ndarray) -> None:
    """Mark the CRCs checked and remove the records at `bad`, reporting each one."""
    records.checked = True
    if len(bad) == 0:
        return
    for i in bad.tolist():
        records.problems.append(
            (int(records.offset[i]), "record payload fails its CRC check (corrupt data); skipped")
        )
    keep = np.ones(len(records.start), dtype=bool)
    keep[bad] = False
    records.offset, records.start, records.end = (
        records.offset[keep],
        records.start[keep],
        records.end[keep],
    )


def _long_crcs(data: Buffer, words: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """CRCs of long payloads: google-crc32c's compiled loop where it has one."""
    try:
        import google_crc32c
    except ImportError:  # pragma: no cover - a declared dependency
        return crc32c.crcs(words, start, end)
    if google_crc32c.implementation != "c":  # pragma: no cover - platform without a wheel
        return crc32c.crcs(words, start, end)
    spans = zip(start.tolist(), end.tolist(), strict=True)
    return np.array([google_crc32c.value(data[a:b]) for a, b in spans], dtype=np.uint32)
