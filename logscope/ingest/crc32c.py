"""CRC-32C (Castagnoli) of many short byte ranges at once, with numpy.

TFRecord framing checks one CRC per record, and an event file of scalars is a million
records of ~40 bytes: one compiled call per record (google-crc32c) costs ~0.5 µs of Python
call overhead each, more than the checksum itself. Here every record advances together,
eight bytes per round (slicing-by-8 with four 64 Ki-entry tables), so a file costs a few
array operations per 8 bytes of its longest short record.

Two facts make this possible. The CRC register started at 0 is linear, and leading zero
bytes leave it at 0, so each range is read right-aligned in 8-byte words with the bytes
before its start masked to zero: ranges of different lengths run in the same rounds.
The standard CRC (register started at 0xFFFFFFFF, final complement) differs from that
register by the standard CRC of as many zero bytes, a constant per length.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

POLY = 0x82F63B78  # CRC-32C, reflected
MAX_WORDS = 32  # past 256 bytes, one compiled call per range costs less (tfrecord)
_HIGH = np.array([~((1 << (8 * k)) - 1) & (2**64 - 1) for k in range(9)], dtype=np.uint64)


@lru_cache(maxsize=1)
def tables() -> tuple[np.ndarray, ...]:
    """Slicing-by-8 tables T0..T7, paired into four tables of 16-bit indices: the register
    after 8 bytes x (register already xored in) is U0[x0] ^ U1[x1] ^ U2[x2] ^ U3[x3],
    with x0..x3 the 16-bit quarters of x, lowest first."""
    byte = [_byte_table()]
    for _ in range(7):
        prev = byte[-1]
        byte.append((prev >> np.uint32(8)) ^ byte[0][prev & 0xFF])
    v = np.arange(1 << 16)
    lo, hi = v & 0xFF, v >> 8
    return tuple(byte[7 - 2 * q][lo] ^ byte[6 - 2 * q][hi] for q in range(4))


@lru_cache(maxsize=1)
def _byte_table() -> np.ndarray:
    """The register after one byte: the classic 256-entry table."""
    t = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        t = np.where(t & 1, (t >> np.uint32(1)) ^ np.uint32(POLY), t >> np.uint32(1))
    return t.astype(np.uint32)


@lru_cache(maxsize=4096)
def zeros(length: int) -> int:
    """Standard CRC-32C of `length` zero bytes."""
    crc = 0xFFFFFFFF
    table = tables()
    for _ in range(length // 8):  # eight zero bytes: the register's own bytes, looked up
        crc = int(table[0][crc & 0xFFFF] ^ table[1][crc >> 16])
    byte = _byte_table()
    for _ in range(length % 8):
        crc = int(byte[crc & 0xFF]) ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crcs(words: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Standard CRC-32C of each range [start, end) of a buffer, as uint32.

    `words` has one little-endian uint64 starting at every byte of the buffer (tfrecord.strided).
    Every range must start at byte 7 or later (the 8-byte word ending at its first byte is
    read whole). Any length works; past MAX_WORDS words a compiled CRC call per range is
    faster, as each round is a few numpy calls."""
    count = len(start)
    if count == 0:
        return np.zeros(0, dtype=np.uint32)
    length = end - start
    longest = int(length.max())
    rounds = (longest + 7) // 8
    whole = rounds - int((length.min() + 7) // 8) + (1 if np.any(length % 8) else 0)
    u0, u1, u2, u3 = tables()
    crc = np.zeros(count, dtype=np.uint32)  # the register; the buffers below are reused
    x = np.empty(count, dtype=np.uint64)
    index = np.empty(count, dtype=np.uint64)
    at = index.view(np.int64)  # table positions (< 2**16): the same bits, signed
    looked = np.empty(count, dtype=np.uint32)
    low, sixteen = np.uint64(0xFFFF), np.uint64(16)
    below = int(end.min()) < 8 * rounds  # some early words would start before byte 0
    for r in range(rounds):  # every range, in file order: the gathers stream through it
        back = 8 * (rounds - r)  # this word starts `back` bytes before each range's end
        here = end - back
        if r < whole:  # some ranges start in (or after) this word: zero what precedes them
            # the bytes to zero depend on the length alone: one small table per round
            keep = _HIGH[np.clip(back - np.arange(longest + 1), 0, 8)]
            word = words[np.maximum(here, 0) if below else here] & keep[length]
        else:
            word = words[here]
        np.bitwise_xor(word, crc, out=x)
        for q, table in enumerate((u0, u1, u2, u3)):  # the 16-bit quarters of x
            shifted = np.right_shift(x, sixteen * np.uint64(q), out=index) if q else x
            if q < 3:
                np.bitwise_and(shifted, low, out=index)
            np.take(table, at, out=crc if q == 0 else looked, mode="clip")  # clip: unbuffered
            if q:
                np.bitwise_xor(crc, looked, out=crc)
    constant = np.zeros(longest + 1, dtype=np.uint32)
    for n in np.flatnonzero(np.bincount(length)).tolist():  # the lengths present
        constant[n] = zeros(n)
    out: np.ndarray = crc ^ constant[length]
    return out
