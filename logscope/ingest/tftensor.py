"""Scalar tensors: the one number in a rank-0 (or one-element) numeric TensorProto.

Writers differ in where they put it: torch `new_style` uses float_val / double_val, TF2
`tf.summary.scalar` and tensorboard's writers tensor_content (little-endian bytes of the
dtype), half and bfloat16 values travel as 16-bit patterns in half_val. They are read in
that order of preference; a numeric tensor with no values at all is 0, as
tensorboard's tensor_util.make_ndarray reads it.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from logscope.ingest.protowire import Bytes, Tokens, safe_fields, tokens, varint

if TYPE_CHECKING:
    from logscope.ingest.tfrecord import Buffer

# DataType -> numpy dtype of its tensor_content; DT_BFLOAT16 is the upper half of a float32
CONTENT = {
    1: "<f4",  # DT_FLOAT
    2: "<f8",  # DT_DOUBLE
    3: "<i4",  # DT_INT32
    4: "u1",  # DT_UINT8
    5: "<i2",  # DT_INT16
    6: "i1",  # DT_INT8
    9: "<i8",  # DT_INT64
    10: "u1",  # DT_BOOL
    14: "<u2",  # DT_BFLOAT16
    17: "<u2",  # DT_UINT16
    19: "<f2",  # DT_HALF
    22: "<u4",  # DT_UINT32
    23: "<u8",  # DT_UINT64
}
_FLOATS = (5, 6)  # float_val, double_val: the first preference
_INTS = (7, 10, 16, 17, 11)  # int_val, int64_val, uint32_val, uint64_val, bool_val
_SIGNED = {7, 10}


def scalars(
    b: Bytes, start: np.ndarray, end: np.ndarray, skipped: Counter[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The number in each scalar tensor, in the order real writers differ on: float_val,
    double_val, tensor_content by dtype, half_val, then the integer fields; a numeric
    tensor with no values at all is 0 (as tensor_util.make_ndarray reads it)."""
    count = len(start)
    value = np.full(count, np.nan)
    got = np.zeros(count, dtype=bool)
    if count == 0:
        return got, value
    tok = tokens(b, start, end)
    _, _, dtype = tok.first(count, 1, 0)
    has_shape, shape_pos, shape_len = tok.first(count, 2, 2)
    scalar = ~tok.bad & np.isin(dtype, list(CONTENT))
    for i in np.flatnonzero(scalar & has_shape & (shape_len > 0)).tolist():
        scalar[i] = _elements(b.data, int(shape_pos[i]), int(shape_pos[i] + shape_len[i])) == 1
    skipped["string or non-scalar tensor"] += int(np.count_nonzero(~tok.bad & ~scalar))
    todo = scalar.copy()

    def take(sel: np.ndarray, numbers: np.ndarray) -> None:
        value[sel] = numbers
        got[sel] = True
        todo[sel] = False

    for num, code in zip(_FLOATS, ("<f4", "<f8"), strict=True):
        width = np.dtype(code).itemsize
        has, pos, size = tok.first(count, num, 2)  # packed
        sel = np.flatnonzero(todo & has & (size >= width))
        take(sel, b.read(code, pos[sel]).astype(np.float64))
        has, pos, _ = tok.first(count, num, 5 if width == 4 else 1)  # unpacked
        sel = np.flatnonzero(todo & has)
        take(sel, b.read(code, pos[sel]).astype(np.float64))
    has, pos, size = tok.first(count, 4, 2)
    for dt, code in CONTENT.items():
        sel = np.flatnonzero(todo & has & (dtype == dt))
        width = np.dtype(code).itemsize
        take(sel[size[sel] == width], _content(b, code, dt, pos[sel[size[sel] == width]]))
        todo[sel[size[sel] != width]] = False  # more than one element: not a scalar
    for num in (13, *_INTS):
        first_val = _first_varints(b, tok, count, num)
        has = first_val[0]
        sel = np.flatnonzero(todo & has)
        raw = first_val[1][sel]
        if num == 13:
            take(sel, _half_bits(raw.astype(np.uint16), dtype[sel]))
        elif num in _SIGNED:
            take(sel, raw.view(np.int64).astype(np.float64))
        else:
            take(sel, raw.astype(np.float64))
    take(np.flatnonzero(todo), np.zeros(int(np.count_nonzero(todo))))
    return got, value


def _content(b: Bytes, code: str, dtype: int, pos: np.ndarray) -> np.ndarray:
    raw = b.read(code, pos)
    if dtype == 14:  # bfloat16: the upper 16 bits of a float32
        raw = (raw.astype(np.uint32) << np.uint32(16)).view(np.float32)
    return raw.astype(np.float64)


def _half_bits(bits: np.ndarray, dtype: np.ndarray) -> np.ndarray:
    """half_val holds the 16-bit pattern of a DT_HALF or DT_BFLOAT16 value."""
    half = bits.view(np.float16).astype(np.float64)
    brain = (bits.astype(np.uint32) << np.uint32(16)).view(np.float32).astype(np.float64)
    return np.where(dtype == 14, brain, half)


def _first_varints(b: Bytes, tok: Tokens, count: int, num: int) -> tuple[np.ndarray, np.ndarray]:
    """First element of a repeated varint field, packed (wire 2) or not (wire 0)."""
    has0, _, single = tok.first(count, num, 0)
    has2, pos, size = tok.first(count, num, 2)
    value = single.view(np.uint64).copy()
    packed = np.flatnonzero(has2 & (size > 0))
    v, _, bad = varint(b, pos[packed], pos[packed] + size[packed])
    packed_ok = packed[~bad]
    value[packed_ok] = v[~bad]
    has = has0.copy()
    has[packed_ok] = True
    return has, value


def _elements(data: Buffer, start: int, end: int) -> int:
    """Element count of a TensorShapeProto (-1 when unknown)."""
    count = 1
    for num, wire, pos, val in safe_fields(data, start, end):
        if (num, wire) == (2, 2):
            size = [v for n, w, _, v in safe_fields(data, pos, pos + val) if (n, w) == (1, 0)]
            count *= size[-1] if size else 0
        elif (num, wire) == (3, 0) and val:
            return -1
    return count
