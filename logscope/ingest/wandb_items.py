"""Columnar decoding of W&B HistoryItems: names, numbers and raw text for all items at once.

An item's name is its `nested_key` parts joined with `.` (wandb-core), else its `key`; its
value is `value_json` (JSON text written by `json.dumps`, so bare NaN/Infinity) or one of
the typed fields newer clients may set (`number` double, `integer` sint64, `text`, `json`,
`boolean`). Strings are gathered from the record bytes with numpy into Arrow buffers (no
per-item Python); values are parsed by one Polars cast. Objects from the legacy Python
writer (`"train": {"kl": 0.1}`) are flattened to `train.kl` here too.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from logscope.ingest import wandb_meta
from logscope.ingest.base import ProblemLog
from logscope.ingest.protowire import Bytes, Tokens, tokens

_GATHER_BYTES = 4 << 20


@dataclass
class Items:
    """One row per history item: which history record, its name, number and raw text."""

    record: np.ndarray
    name: pl.Series
    value: pl.Series  # Float64; null when the value is no number
    text: pl.Series  # the value as written (JSON), for the ones that are no number


def items(b: Bytes, htok: Tokens, log: ProblemLog) -> Items:
    """Every HistoryItem of every history record: record index, name, number, raw text."""
    h, pos, size = htok.select(1, 2)
    itok = tokens(b, pos, pos + size)
    n = len(h)
    has_key, key_pos, key_len = itok.first(n, 1, 2)
    names = place(n, has_key, strings(b, key_pos[has_key], key_len[has_key]))
    part_of, part_pos, part_len = itok.select(2, 2)
    if len(part_of):
        parts = strings(b, part_pos, part_len)
        counts = np.bincount(part_of, minlength=n)
        single = counts[part_of] == 1  # most items: one part, nothing to join
        nested = place(n, part_of[single], parts.filter(pl.Series(single)))
        if not single.all():
            joined = (
                pl.DataFrame({"i": part_of[~single], "p": parts.filter(pl.Series(~single))})
                .group_by("i", maintain_order=True)
                .agg(pl.col("p").str.join("."))
            )
            several = place(n, joined.get_column("i").to_numpy(), joined.get_column("p"))
            nested = pl.select(pl.coalesce(pl.lit(nested), pl.lit(several))).to_series()
        names = pl.select(pl.coalesce(pl.lit(nested), pl.lit(names))).to_series()
    texts = []
    for num in (16, 8, 7):  # value_json, json, text
        has, at, length = itok.first(n, num, 2)
        if has.any():
            raw = strings(b, at[has], length[has])
            if num == 7:  # plain text: quote it as JSON, like the value_json of a str
                raw = pl.Series([json.dumps(v) for v in raw.to_list()], dtype=pl.String)
            texts.append(place(n, has, raw))
    has_bool, _, bools = itok.first(n, 4, 0)
    if has_bool.any():
        flags = pl.Series(np.where(bools[has_bool] != 0, "true", "false"))
        texts.append(place(n, has_bool, flags))
    text = (
        pl.select(pl.coalesce(pl.lit(t) for t in texts)).to_series()
        if texts
        else pl.Series([None] * n, dtype=pl.String)
    )
    numbers = [text.str.strip_chars().cast(pl.Float64, strict=False)]
    has_num, num_pos, _ = itok.first(n, 6, 1)
    if has_num.any():
        numbers.insert(0, place(n, has_num, pl.Series(b.read("<f8", num_pos[has_num]))))
    has_int, _, raw_int = itok.first(n, 5, 0)
    if has_int.any():
        u = raw_int[has_int].view(np.uint64)
        ints = (u >> np.uint64(1)).view(np.int64) ^ -(u & np.uint64(1)).view(np.int64)
        numbers.insert(0, place(n, has_int, pl.Series(ints.astype(np.float64))))
    value = pl.select(pl.coalesce(pl.lit(v) for v in numbers)).to_series()
    keep = ~itok.bad
    if not keep.all():
        log(None, f"{int((~keep).sum())} damaged history item(s) skipped")
        mask = pl.Series(keep)
        return Items(h[keep], names.filter(mask), value.filter(mask), text.filter(mask))
    return Items(h, names, value, text)


def step_numbers(b: Bytes, htok: Tokens, count: int) -> np.ndarray:
    """HistoryRecord.step.num per history record (0 when absent, as protobuf defaults)."""
    has, pos, size = htok.first(count, 2, 2)
    steps = np.zeros(count, dtype=np.int64)
    if has.any():
        at = np.flatnonzero(has)
        stok = tokens(b, pos[at], pos[at] + size[at])
        has_num, _, num = stok.first(len(at), 1, 0)
        steps[at[has_num]] = num[has_num]
    return steps


def strings(b: Bytes, pos: np.ndarray, length: np.ndarray) -> pl.Series:
    """The UTF-8 strings at (pos, length), gathered in one numpy step (no per-item Python)."""
    import pyarrow as pa  # type: ignore[import-untyped]

    length = length.astype(np.int64)
    offsets = np.zeros(len(length) + 1, dtype=np.int64)
    np.cumsum(length, out=offsets[1:])
    raw = np.empty(offsets[-1], dtype=np.uint8)
    # in slices of about _GATHER_BYTES, so the byte index stays small whatever the file size
    cuts = np.searchsorted(offsets, np.arange(0, offsets[-1] + 1, _GATHER_BYTES)[1:])
    for lo, hi in itertools.pairwise([0, *cuts.tolist(), len(length)]):
        first, last = offsets[lo], offsets[hi]
        if last > first:
            shift = pos[lo:hi].astype(np.int64) - offsets[lo:hi]
            index = np.repeat(shift, length[lo:hi]) + np.arange(first, last)
            raw[first:last] = b.u8[index]
    array = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(length), [None, pa.py_buffer(offsets), pa.py_buffer(raw)]
    )
    try:
        text = array.cast(pa.large_string())
    except pa.ArrowInvalid:  # invalid UTF-8 somewhere: decode one by one, replacing
        text = pa.array(
            [v.decode("utf-8", "replace") for v in array.to_pylist()], type=pa.large_string()
        )
    series = pl.from_arrow(text)
    assert isinstance(series, pl.Series)
    result: pl.Series = series.cast(pl.String)
    return result


def place(n: int, at: np.ndarray, values: pl.Series) -> pl.Series:
    """A Series of length n holding `values` at `at` (indices or a mask), null elsewhere: one
    gather, where Series.scatter of strings is slow."""
    index = np.full(n, len(values), dtype=np.int64)
    index[at] = np.arange(len(values), dtype=np.int64)
    padded = values.append(pl.Series([None], dtype=values.dtype))
    placed: pl.Series = padded.gather(index)
    return placed


def flatten_objects(long: pl.DataFrame) -> pl.DataFrame:
    """The Python writer of wandb before wandb-core (the legacy service) kept a nested dict as
    one item whose value_json is an object; name its numbers `train.kl`, as wandb-core and
    W&B's UI do. Media objects (with a `_type`) stay whole, for _kind to name them."""
    objects = long.filter(pl.col("value").is_null() & pl.col("text").str.starts_with("{"))
    if objects.height == 0:
        return long
    long = long.with_row_index("\u0000i").with_columns(pl.col("\u0000i").cast(pl.Int64))
    objects = long.filter(pl.col("value").is_null() & pl.col("text").str.starts_with("{"))
    rows: list[int] = []
    names: list[str] = []
    values: list[float | None] = []
    texts: list[str | None] = []
    done: list[int] = []
    for index, row, name, text in objects.select("\u0000i", "row", "name", "text").iter_rows():
        parsed = wandb_meta.parse_json(text)
        if not isinstance(parsed, dict) or "_type" in parsed:
            continue
        done.append(index)
        for key, value in leaves(parsed, name):
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            rows.append(row)
            names.append(key)
            values.append(float(value) if number else None)
            texts.append(None if number else json.dumps(value))
    flat = pl.DataFrame(
        {"row": rows, "name": names, "value": values, "text": texts},
        schema={"row": pl.Int64, "name": pl.String, "value": pl.Float64, "text": pl.String},
    )
    kept = long.filter(~pl.col("\u0000i").is_in(pl.Series(done, dtype=pl.Int64).implode()))
    return pl.concat([kept.drop("\u0000i"), flat]).sort("row", maintain_order=True)


def leaves(value: dict[str, Any], prefix: str) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for key, inner in value.items():
        name = f"{prefix}.{key}"
        if isinstance(inner, dict) and "_type" not in inner:
            found.extend(leaves(inner, name))
        else:
            found.append((name, inner))
    return found
