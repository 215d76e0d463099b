"""Protobuf wire format, decoded for many messages at once with numpy, or one in Python.

`tokens` splits every message of one nesting level into its fields in rounds: each round
reads one field (key, then varint / 8 bytes / length-delimited / 4 bytes) of every message
that still has bytes left, so a level whose messages have k fields costs k rounds of numpy
operations, whatever the number of messages. `fields` is the plain Python walker for the
few messages that need it (and says where a damaged one breaks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from logscope.ingest.tfrecord import strided

if TYPE_CHECKING:
    from logscope.ingest.tfrecord import Buffer

# numpy dtype codes read at arbitrary byte offsets (scalar tensor contents, words, doubles)
CODES = ("<f4", "<f8", "<f2", "<i4", "<i8", "<i2", "i1", "u1", "<u2", "<u4", "<u8")


class Bytes:
    """The file as uint8, plus views with one unaligned element starting at every byte."""

    def __init__(self, data: Buffer) -> None:
        self.data = data
        self.u8 = np.frombuffer(data, dtype=np.uint8)
        self.n = len(self.u8)
        self.views = {code: strided(self.u8, code) for code in CODES}

    def read(self, code: str, pos: np.ndarray) -> np.ndarray:
        """Values of type `code` at `pos`; callers guarantee they lie inside the file."""
        values: np.ndarray = self.views[code][pos]
        return values


@dataclass
class Tokens:
    """One row per field of every message: which message, its key (field number * 8 + wire
    type), where its payload starts, and its varint value or payload length."""

    msg: np.ndarray
    key: np.ndarray
    pos: np.ndarray
    val: np.ndarray
    bad: np.ndarray  # per message: malformed

    def select(self, num: int, wire: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hit = self.key == (num << 3 | wire)
        return self.msg[hit], self.pos[hit], self.val[hit]

    def first(self, count: int, num: int, wire: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per message: has the field, payload position, value (first occurrence wins)."""
        msg, pos, val = self.select(num, wire)
        has = np.zeros(count, dtype=bool)
        at = np.zeros(count, dtype=np.int64)
        out = np.zeros(count, dtype=np.int64)
        has[msg] = True
        at[msg[::-1]] = pos[::-1]  # with repeated indices the last assignment wins
        out[msg[::-1]] = val[::-1]
        return has, at, out


def varint(b: Bytes, pos: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one varint at each `pos` (< `end`): value (uint64), byte length, malformed."""
    bad = pos >= end
    byte = b.u8[np.minimum(pos, b.n - 1)]
    value = (byte & 0x7F).astype(np.uint64)
    length = np.ones(len(pos), dtype=np.int64)
    more = np.flatnonzero((byte >= 0x80) & ~bad)
    shift = 7
    while len(more) and shift < 70:
        at = pos[more] + length[more]
        inside = at < end[more]
        bad[more[~inside]] = True
        more, at = more[inside], at[inside]
        byte = b.u8[at]
        value[more] |= (byte & 0x7F).astype(np.uint64) << np.uint64(shift)
        length[more] += 1
        more = more[byte >= 0x80]
        shift += 7
    bad[more] = True  # longer than 10 bytes
    return value, length, bad


def tokens(b: Bytes, start: np.ndarray, end: np.ndarray) -> Tokens:
    """Split every message [start, end) into its fields, one field per message per round."""
    bad = np.zeros(len(start), dtype=bool)
    cur = start.copy()
    idx = np.flatnonzero(start < end)
    parts: list[tuple[np.ndarray, ...]] = []
    while len(idx):
        c, e = cur[idx], end[idx]
        key, klen, broken = varint(b, c, e)
        key = key.view(np.int64)
        wire = key & 7
        p = c + klen
        is_len = wire == 2
        varying = np.flatnonzero(is_len | (wire == 0))  # both start with a varint
        number = np.zeros(len(idx), dtype=np.int64)
        vlen = np.zeros(len(idx), dtype=np.int64)
        v, vl, vbad = varint(b, p[varying], e[varying])
        number[varying], vlen[varying] = v.view(np.int64), vl
        broken[varying] |= vbad
        pos = np.where(is_len, p + vlen, p)
        size = np.where(is_len, number, np.where(wire == 1, 8, np.where(wire == 5, 4, vlen)))
        broken |= (size < 0) | (size > e - pos) | (key < 8) | (wire == 3) | (wire == 4) | (wire > 5)
        bad[idx[broken]] = True
        ok = ~broken
        val = np.where(is_len, size, number)
        parts.append((idx[ok], key[ok], pos[ok], val[ok]))
        nxt = pos[ok] + size[ok]
        cur[idx[ok]] = nxt
        idx = idx[ok][nxt < e[ok]]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Tokens(empty, empty, empty, empty, bad)
    msg, key, pos, val = (np.concatenate(col) for col in zip(*parts, strict=True))
    return Tokens(msg, key, pos, val, bad)


class Malformed(ValueError):
    def __init__(self, at: int, why: str) -> None:
        super().__init__(why)
        self.at, self.why = at, why


def fields(data: Buffer, pos: int, end: int) -> list[tuple[int, int, int, int]]:
    """(field number, wire type, payload position, varint value or payload length)."""
    found = []
    while pos < end:
        key, pos = py_varint(data, pos, end)
        num, wire = key >> 3, key & 7
        if num == 0:
            raise Malformed(pos, "field number 0")
        if wire == 0:
            val, nxt = py_varint(data, pos, end)
            val = val - (1 << 64) if val >= 1 << 63 else val
        elif wire == 2:
            val, pos = py_varint(data, pos, end)
            nxt = pos + val
        elif wire in (1, 5):
            val, nxt = 0, pos + (8 if wire == 1 else 4)
        else:
            raise Malformed(pos, f"unsupported wire type {wire}")
        if nxt > end:
            raise Malformed(pos, f"field {num} runs past the end of its message")
        found.append((num, wire, pos, val))
        pos = nxt
    return found


def safe_fields(data: Buffer, pos: int, end: int) -> list[tuple[int, int, int, int]]:
    try:
        return fields(data, pos, end)
    except Malformed:
        return []


def py_varint(data: Buffer, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    start = pos
    while True:
        if pos >= end or shift >= 70:
            raise Malformed(start, "truncated varint")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7


def walk_error(data: Buffer, start: int, end: int) -> tuple[int, str]:
    """Where the outer message of a record stops parsing."""
    try:
        fields(data, start, end)
    except Malformed as exc:
        return exc.at, exc.why
    return start, "a nested message is damaged"
