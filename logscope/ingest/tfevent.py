"""Decode TensorBoard `Event` protobufs in bulk: every scalar, and nothing else is unpacked.

Decoding one record at a time in Python costs ~5 µs per record, and protobuf's own C parser
~8 µs once fields are read back into Python (measured, see benchmarks/README.md). Instead,
each level (Event, Summary, Value, TensorProto) is decoded for all messages at once with
numpy. An event holding one scalar in the layout torch, tensorboardX or tf.summary.scalar
writes is matched as a whole record, from a few 8-byte words (`_single_scalars`); for the
other records, the layout real writers use is checked level by level in a few array
operations (`_event_template`, `_value_fields`), and the rest are tokenised field by
field (protowire.tokens). Records that are not plain summaries (file_version, session_log,
graphs) or that fail to parse go through `_slow`, a plain Python walker that also says
what is wrong with a damaged record. Scalar tensors: tftensor.py.

Wire facts used (tensorboard/compat/proto): Event{wall_time=1 double, step=2 int64,
file_version=3, summary=5, session_log=7{status=1}}; Summary{value=1}; Value{tag=1,
simple_value=2 float, image=4, histo=5, audio=6, node_name=7, tensor=8, metadata=9};
SummaryMetadata{plugin_data=1{plugin_name=1}, data_class=4}; TensorProto{dtype=1,
tensor_shape=2, tensor_content=4, float_val=5, double_val=6, int_val=7, int64_val=10,
bool_val=11, half_val=13, uint32_val=16, uint64_val=17}.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from logscope.ingest import tftensor
from logscope.ingest.protowire import (
    Bytes,
    Malformed,
    fields,
    safe_fields,
    tokens,
    varint,
    walk_error,
)

if TYPE_CHECKING:
    from logscope.ingest.tfrecord import Buffer, Records

BATCH = 1 << 16  # records decoded together: bounds temporary memory
START = 1  # SessionLog.START
SCALAR_CLASS = 1  # SummaryMetadata.DataClass.SCALAR
_SKIPPED = {3: "histogram", 4: "image", 5: "histogram", 6: "audio"}  # Value fields
_EVENT_FIELDS = {1, 2, 5}  # fields of a plain summary event
_HASH = np.uint64(0x9E3779B97F4A7C15)
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


@dataclass
class Plugin:
    """What the first metadata of a tag said; only scalar-like tensors are read."""

    name: str
    data_class: int

    @property
    def scalar(self) -> bool:
        return self.name in ("scalars", "") or self.data_class == SCALAR_CLASS


@dataclass
class Decoded:
    """Scalars of one file in write order, plus the events that are not scalars."""

    record: np.ndarray  # record index of each scalar
    tag: np.ndarray  # index into `tags`
    value: np.ndarray  # float64
    step: np.ndarray  # per record
    wall: np.ndarray  # per record
    tags: list[str]
    versions: list[tuple[int, str]] = field(default_factory=list)  # (record, file_version)
    sessions: list[tuple[int, int]] = field(default_factory=list)  # (record, status)
    problems: list[tuple[int, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class _Values:
    """Summary values found so far (one row each), before their numbers are read."""

    record: list[np.ndarray] = field(default_factory=list)
    order: list[np.ndarray] = field(default_factory=list)  # position inside its Summary
    start: list[np.ndarray] = field(default_factory=list)
    end: list[np.ndarray] = field(default_factory=list)

    def add(
        self, record: np.ndarray, order: np.ndarray, start: np.ndarray, end: np.ndarray
    ) -> None:
        self.record.append(record)
        self.order.append(order)
        self.start.append(start)
        self.end.append(end)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(record, start, end), sorted into write order."""
        if not self.record:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        record, order = np.concatenate(self.record), np.concatenate(self.order)
        start, end = np.concatenate(self.start), np.concatenate(self.end)
        if len(record) > 1 and not (np.all(np.diff(record) > 0)):
            keep = np.lexsort((order, record))
            record, start, end = record[keep], start[keep], end[keep]
        return record, start, end


def batches(records: Records) -> range:
    """Where each batch of records decoded together starts (`BATCH` records each)."""
    return range(0, len(records.start), BATCH)


def single_scalars(data: Buffer | Bytes, records: Records, lo: int) -> _Whole:
    """The records of the batch starting at `lo` that are one plain scalar event each
    (see _single_scalars). Depends on nothing else, so another thread may match a batch
    ahead of `decode` and hand it over (decode's `matched`)."""
    b = data if isinstance(data, Bytes) else Bytes(data)
    hi = min(len(records.start), lo + BATCH)
    whole = _single_scalars(b, records.start[lo:hi], records.end[lo:hi])
    if len(whole.ok) and whole.ok.all():  # these are all the batch's values: tag them too
        f = whole.fields
        whole.interned = _intern(b, f.tag_pos, f.tag_len, np.ones(f.count, dtype=bool))
    return whole


def decode(
    data: Buffer,
    records: Records,
    plugins: dict[str, Plugin],
    matched: Callable[[int], _Whole] | None = None,
) -> Decoded:
    """Every scalar in `records`; `plugins` (tag -> first metadata) is read and extended, so
    a tag described in an earlier file of the same run keeps that description. `matched`
    gives `single_scalars` of a batch (computed elsewhere); by default it is computed here."""
    b = Bytes(data)
    count = len(records.start)
    step = np.zeros(count, dtype=np.int64)
    wall = np.full(count, np.nan)
    out = Decoded(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0), step, wall, [])
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for lo in batches(records):
        whole = matched(lo) if matched else single_scalars(b, records, lo)
        hit = lo + np.flatnonzero(whole.ok)
        out.wall[hit], out.step[hit] = whole.wall, whole.step
        values = _Values()
        _events(b, records, lo + np.flatnonzero(~whole.ok), out, values)
        record, start, end = values.arrays()
        fields = _value_fields(b, start, end)
        interned = None
        if len(record):  # values of the records the whole-record layout did not match
            record, fields = _merge(hit, whole.fields, record, fields)
        else:
            record, fields, interned = hit, whole.fields, whole.interned
        pieces.append(_read_values(b, record, fields, records, plugins, out, interned))
    if pieces:
        out.record, out.tag, out.value = (np.concatenate(col) for col in zip(*pieces, strict=True))
    return out


def _events(b: Bytes, records: Records, index: np.ndarray, out: Decoded, values: _Values) -> None:
    """Event level of the records at `index`: step, wall time, and the Summary's value spans."""
    if len(index) == 0:
        return
    start, end = records.start[index], records.end[index]
    fast = _event_template(b, start, end)
    hit = np.flatnonzero(fast.ok)
    out.wall[index[hit]], out.step[index[hit]] = fast.wall[hit], fast.step[hit]
    summary_start, summary_end = fast.start[hit], end[hit]
    summary_record = index[hit]
    rest = np.flatnonzero(~fast.ok)
    if len(rest):
        tok = tokens(b, start[rest], end[rest])
        special = tok.bad.copy()
        special[tok.msg[~np.isin(tok.key >> 3, list(_EVENT_FIELDS))]] = True
        msg, pos, _ = tok.select(1, 1)
        out.wall[index[rest[msg]]] = b.read("<u8", pos).view(np.float64)
        msg, _, val = tok.select(2, 0)
        out.step[index[rest[msg]]] = val
        has, pos, size = tok.first(len(rest), 5, 2)
        plain = np.flatnonzero(has & ~special)
        summary_start = np.concatenate([summary_start, pos[plain]])
        summary_end = np.concatenate([summary_end, pos[plain] + size[plain]])
        summary_record = np.concatenate([summary_record, index[rest[plain]]])
        for i in rest[special].tolist():
            _slow(b, int(index[i]), records, out, values)
    _summaries(b, summary_record, summary_start, summary_end, values, out, records)


@dataclass
class _Fast:
    ok: np.ndarray
    start: np.ndarray  # payload start of the nested message
    wall: np.ndarray
    step: np.ndarray


def _event_template(b: Bytes, start: np.ndarray, end: np.ndarray) -> _Fast:
    """The layout writers use for a summary event, checked for all records at once:
    0x09 wall_time, optional 0x10 step, then 0x2a summary running to the record's end."""
    ok = (end - start >= 11) & (b.u8[np.minimum(start, b.n - 1)] == 0x09)
    wall = b.read("<u8", np.where(ok, start + 1, 0)).view(np.float64)
    at = np.where(ok, start + 9, start)
    has_step = ok & (b.u8[np.minimum(at, b.n - 1)] == 0x10)
    step, length, bad = varint(b, at + 1, np.where(has_step, end, at + 1))
    ok &= ~(has_step & bad)
    at = np.where(has_step, at + 1 + length, at)
    ok &= (at < end) & (b.u8[np.minimum(at, b.n - 1)] == 0x2A)
    size, length, bad = varint(b, at + 1, np.where(ok, end, at + 1))
    inner = at + 1 + length
    ok &= ~bad & (inner + size.view(np.int64) == end)
    return _Fast(ok, inner, wall, np.where(has_step, step.view(np.int64), 0))


def _summaries(
    b: Bytes,
    record: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    values: _Values,
    out: Decoded,
    records: Records,
) -> None:
    """Summary level: the span of each Value (one per Summary, except in TF1 merged ones)."""
    ok = (end - start >= 2) & (b.u8[np.minimum(start, b.n - 1)] == 0x0A)
    size, length, bad = varint(b, start + 1, np.where(ok, end, start + 1))
    inner = start + 1 + length
    ok &= ~bad & (inner + size.view(np.int64) == end)
    hit = np.flatnonzero(ok)
    values.add(record[hit], np.zeros(len(hit), dtype=np.int64), inner[hit], end[hit])
    rest = np.flatnonzero(~ok)
    if len(rest) == 0:
        return
    tok = tokens(b, start[rest], end[rest])
    msg, pos, size = tok.select(1, 2)
    if len(msg):
        order = np.arange(len(msg))  # rounds emit fields in order: increasing per message
        values.add(record[rest[msg]], order, pos, pos + size)
    for i in np.flatnonzero(tok.bad).tolist():
        _report_bad(b, int(record[rest[i]]), records, out)


def _report_bad(b: Bytes, rec: int, records: Records, out: Decoded) -> None:
    where, why = walk_error(b.data, int(records.start[rec]), int(records.end[rec]))
    out.problems.append(
        (int(records.offset[rec]), f"record is not a valid Event ({why} at byte {where}); skipped")
    )


def _slow(b: Bytes, rec: int, records: Records, out: Decoded, values: _Values) -> None:
    """A record that is not a plain summary: file_version, session_log, graphs, damage."""
    start, end = int(records.start[rec]), int(records.end[rec])
    try:
        found = fields(b.data, start, end)
    except Malformed:
        _report_bad(b, rec, records, out)
        return
    for num, wire, pos, val in found:
        if num == 3 and wire == 2:
            out.versions.append((rec, bytes(b.data[pos : pos + val]).decode("utf-8", "replace")))
        elif num == 7 and wire == 2:
            status = [v for n, w, _, v in safe_fields(b.data, pos, pos + val) if (n, w) == (1, 0)]
            out.sessions.append((rec, status[-1] if status else 0))
        elif num == 5 and wire == 2:
            spans = [
                (p, p + v) for n, w, p, v in safe_fields(b.data, pos, pos + val) if (n, w) == (1, 2)
            ]
            if spans:
                rec_col = np.full(len(spans), rec, dtype=np.int64)
                starts, ends = (np.array(col, dtype=np.int64) for col in zip(*spans, strict=True))
                values.add(rec_col, np.arange(len(spans)), starts, ends)


def _read_values(
    b: Bytes,
    record: np.ndarray,
    fields: _ValueFields,
    records: Records,
    plugins: dict[str, Plugin],
    out: Decoded,
    interned: tuple[np.ndarray, list[str]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value level: tag, then simple_value or a scalar tensor; other kinds are counted.
    `interned`: `_intern` of every value, made ahead (single_scalars), used when every
    value is readable.
    Returns (record, tag id into out.tags, value) of the scalars found."""
    count = len(record)
    for i in np.flatnonzero(fields.bad).tolist():
        _report_bad(b, int(record[i]), records, out)
    has_simple, simple_pos = fields.has_simple, fields.simple_pos
    tag_pos, tag_len = fields.tag_pos, fields.tag_len
    has_tensor, tensor_pos, tensor_len = fields.has_tensor, fields.tensor_pos, fields.tensor_len
    has_meta, meta_pos, meta_len = fields.has_meta, fields.meta_pos, fields.meta_len
    out.skipped.update(fields.skipped)
    ok = ~fields.bad & (tag_len > 0) & (has_simple | has_tensor)
    untagged = ~fields.bad & (tag_len == 0) & (has_simple | has_tensor)
    out.skipped["untagged value"] += int(np.count_nonzero(untagged))
    if interned is not None and ok.all():
        ids, batch_names = interned
    else:
        ids, batch_names = _intern(b, tag_pos, tag_len, ok)
    known = {name: i for i, name in enumerate(out.tags)}
    for name in batch_names:
        if name not in known:
            known[name] = len(out.tags)
            out.tags.append(name)
    names = out.tags
    if len(ids):
        ids = np.where(
            ids >= 0, np.array([known[n] for n in batch_names] or [0])[np.maximum(ids, 0)], -1
        )
    _learn_plugins(b, ids, names, has_meta & ok, meta_pos, meta_len, plugins)
    simple = ok & has_simple
    if simple.all():  # the usual batch: one simple_value each
        value = b.read("<f4", simple_pos).astype(np.float64)
    else:
        value = np.full(count, np.nan)
        sel = np.flatnonzero(simple)
        value[sel] = b.read("<f4", simple_pos[sel]).astype(np.float64)
    want = ok & ~has_simple
    readable = np.array([plugins.get(name, Plugin("", 0)).scalar for name in names], dtype=bool)
    if not readable.all():  # some tags are tensors of another plugin: count, not read
        other = want & ~readable[np.maximum(ids, 0)]
        for name_id in np.unique(ids[other]).tolist():
            kind = f"'{plugins[names[name_id]].name}' tensor"
            out.skipped[kind] += int(np.count_nonzero(other & (ids == name_id)))
        want &= ~other
        ok &= ~other
    sel = np.flatnonzero(want)
    direct = sel[fields.direct[sel]]
    value[direct] = b.read("<f4", fields.direct_pos[direct]).astype(np.float64)
    sel = sel[~fields.direct[sel]]
    got, number = tftensor.scalars(
        b, tensor_pos[sel], tensor_pos[sel] + tensor_len[sel], out.skipped
    )
    value[sel] = number
    ok[sel[~got]] = False
    if ok.all():
        return record, ids.astype(np.int32), value
    keep = np.flatnonzero(ok)
    return record[keep], ids[keep].astype(np.int32), value[keep]


@dataclass
class _ValueFields:
    """Where each Value's parts are (positions are -1/False where absent)."""

    count: int
    skipped: Counter[str] = field(default_factory=Counter)  # values of kinds not read
    bad: np.ndarray = field(init=False)
    tag_pos: np.ndarray = field(init=False)
    tag_len: np.ndarray = field(init=False)
    has_simple: np.ndarray = field(init=False)
    simple_pos: np.ndarray = field(init=False)
    has_tensor: np.ndarray = field(init=False)
    tensor_pos: np.ndarray = field(init=False)
    tensor_len: np.ndarray = field(init=False)
    has_meta: np.ndarray = field(init=False)
    meta_pos: np.ndarray = field(init=False)
    meta_len: np.ndarray = field(init=False)
    direct: np.ndarray = field(init=False)  # a float32 scalar tensor in TF2's exact layout
    direct_pos: np.ndarray = field(init=False)  # where its 4 bytes are

    def __post_init__(self) -> None:
        for name in _FLAGS:
            setattr(self, name, np.zeros(self.count, dtype=bool))
        for name in _SPANS:
            setattr(self, name, np.zeros(self.count, dtype=np.int64))

    def joined(self, other: _ValueFields, order: np.ndarray) -> _ValueFields:
        """This one's rows, then `other`'s, put in `order`."""
        both = _ValueFields(0, self.skipped + other.skipped)
        both.count = len(order)
        for name in (*_FLAGS, *_SPANS):
            column = np.concatenate([getattr(self, name), getattr(other, name)])
            setattr(both, name, column[order])
        return both


_FLAGS = ("bad", "has_simple", "has_tensor", "has_meta", "direct")
_SPANS = (
    *("tag_pos", "tag_len", "simple_pos", "tensor_pos", "tensor_len"),
    *("meta_pos", "meta_len", "direct_pos"),
)


def _merge(
    record: np.ndarray, fields: _ValueFields, more: np.ndarray, more_fields: _ValueFields
) -> tuple[np.ndarray, _ValueFields]:
    """Two sets of values (each in write order, from different records) in write order."""
    both = np.concatenate([record, more])
    order = np.argsort(both, kind="stable")
    return both[order], fields.joined(more_fields, order)


def _value_fields(b: Bytes, start: np.ndarray, end: np.ndarray) -> _ValueFields:
    """Value level. The torch/tensorboardX layout (0x0a tag, 0x15 simple_value, nothing
    else) is checked for all values at once; the others are tokenised."""
    f = _ValueFields(len(start))
    ok = (end - start >= 7) & (b.u8[np.minimum(start, b.n - 1)] == 0x0A)
    size, length, bad = varint(b, start + 1, np.where(ok, end, start + 1))
    tag_pos = start + 1 + length
    tag_end = tag_pos + size.view(np.int64)
    ok &= ~bad & (tag_end + 5 == end)
    ok &= b.u8[np.where(ok, tag_end, 0)] == 0x15
    hit = np.flatnonzero(ok)
    f.tag_pos[hit], f.tag_len[hit] = tag_pos[hit], tag_end[hit] - tag_pos[hit]
    f.has_simple[hit], f.simple_pos[hit] = True, tag_end[hit] + 1
    rest = np.flatnonzero(~ok)
    rest = rest[~_tf2_scalars(b, start[rest], end[rest], rest, f)]
    tok = tokens(b, start[rest], end[rest])
    tok.msg = rest[tok.msg]
    f.bad[rest] = tok.bad
    for num, kind in _SKIPPED.items():
        msg, _, _ = tok.select(num, 2)
        if len(msg):
            f.skipped[kind] += len(np.unique(msg))
    count = len(start)
    has_tag, pos, size_ = tok.first(count, 1, 2)
    has_node, node_pos, node_len = tok.first(count, 7, 2)
    use_node = (~has_tag | (size_ == 0)) & has_node
    sel = rest[has_tag[rest] | use_node[rest]]
    f.tag_pos[sel] = np.where(use_node, node_pos, pos)[sel]
    f.tag_len[sel] = np.where(use_node, node_len, size_)[sel]
    has, pos, _ = tok.first(count, 2, 5)
    f.has_simple[rest], f.simple_pos[rest] = has[rest], pos[rest]
    has, pos, size_ = tok.first(count, 8, 2)
    f.has_tensor[rest], f.tensor_pos[rest], f.tensor_len[rest] = has[rest], pos[rest], size_[rest]
    has, pos, size_ = tok.first(count, 9, 2)
    f.has_meta[rest], f.meta_pos[rest], f.meta_len[rest] = has[rest], pos[rest], size_[rest]
    return f


_TF2_TENSOR = int.from_bytes(bytes.fromhex("420a080112002204"), "little")  # see _tf2_scalars


def _tf2_scalars(
    b: Bytes, start: np.ndarray, end: np.ndarray, index: np.ndarray, f: _ValueFields
) -> np.ndarray:
    """The layout `tf.summary.scalar` writes, checked for all values at once: 0x0a tag,
    then tensor 0x42 0x0a {dtype DT_FLOAT, empty shape, 4 bytes of tensor_content}, then
    nothing or metadata 0x4a (shorter than 128 bytes) running to the end. Fills `f` at
    `index` for the values that match (which skip tokenising) and says which."""
    if len(start) == 0:
        return np.zeros(0, dtype=bool)
    last = b.n - 1
    ok = (end - start >= 14) & (b.u8[np.minimum(start, last)] == 0x0A)
    size, length, bad = varint(b, start + 1, np.where(ok, end, start + 1))
    tag_pos = start + 1 + length
    tag_end = tag_pos + size.view(np.int64)
    ok &= ~bad & (tag_end + 12 <= end)
    ok &= b.read("<u8", np.where(ok, tag_end, 0)) == np.uint64(_TF2_TENSOR)
    after = np.where(ok, tag_end + 12, 0)
    meta_len = b.u8[np.minimum(after + 1, last)].astype(np.int64)
    has_meta = ok & (after < end) & (b.u8[np.minimum(after, last)] == 0x4A) & (meta_len < 0x80)
    ok &= (after == end) | (has_meta & (after + 2 + meta_len == end))
    hit = np.flatnonzero(ok)
    at = index[hit]
    f.tag_pos[at], f.tag_len[at] = tag_pos[hit], tag_end[hit] - tag_pos[hit]
    f.has_tensor[at], f.tensor_pos[at], f.tensor_len[at] = True, tag_end[hit] + 2, 10
    f.direct[at], f.direct_pos[at] = True, tag_end[hit] + 8
    meta = hit[has_meta[hit]]
    f.has_meta[index[meta]], f.meta_pos[index[meta]] = True, after[meta] + 2
    f.meta_len[index[meta]] = meta_len[meta]
    matched: np.ndarray = ok
    return matched


@dataclass
class _Whole:
    """Records that are one plain scalar event: their step, wall time and Value parts."""

    ok: np.ndarray  # per record
    wall: np.ndarray  # per matching record, as the rest
    step: np.ndarray
    fields: _ValueFields
    interned: tuple[np.ndarray, list[str]] | None = None  # _intern of every match, if made


_SIMPLE_HEAD = 0x0A00_0A00_2A  # 0x2a S 0x0a V 0x0a: Event.summary, Summary.value, Value.tag
_HIGH_BITS = np.uint64(0x8080_8080_8080)  # the continuation bits of six varint bytes
_GATHER_BITS = np.uint64(0x0002_0408_1020_4081)  # moves bit 8j+7 to bit 56+j
# varint length (1-6) from the continuation bits of its first six bytes; 0 = longer
_VARINT_LENGTH = np.array(
    [next((j + 1 for j in range(6) if not m >> j & 1), 0) for m in range(256)], dtype=np.int64
)
_SEVEN = [np.uint64(0x7F << (7 * j)) for j in range(6)]
_LOW = np.array([(1 << (7 * k)) - 1 for k in range(7)], dtype=np.uint64)


def _single_scalars(b: Bytes, start: np.ndarray, end: np.ndarray) -> _Whole:
    """The whole-record layout of one scalar per event, checked for all records at once:
    0x09 wall_time, optional 0x10 step, 0x2a Summary{0x0a Value{0x0a tag, then either
    0x15 simple_value (torch, tensorboardX) or tf.summary.scalar's float32 tensor
    (_tf2_scalars: optional metadata)}}, every length one byte and each message running
    exactly to the end of its parent. Anything else (file_version, several values,
    other fields or orders, long tags or steps) is left to the general path.

    Each record is read as a few 8-byte words (its start, the step, the nested headers,
    its last 8 bytes), so the check costs a handful of gathers per record."""
    count = len(start)
    fits = np.flatnonzero(end - start >= 21)  # the smallest such record
    if len(fits) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Whole(np.zeros(count, dtype=bool), empty.astype(np.float64), empty, _ValueFields(0))
    if len(fits) < count:
        whole = _single_scalars(b, start[fits], end[fits])
        ok = np.zeros(count, dtype=bool)
        ok[fits[whole.ok]] = True
        return _Whole(ok, whole.wall, whole.step, whole.fields)
    words = b.views["<u8"]
    w0, w1 = words[start], words[start + 8]
    wall = ((w0 >> np.uint64(8)) | (w1 << np.uint64(56))).view(np.float64)
    ok = (w0 & np.uint64(0xFF)) == 0x09
    has_step = ((w1 >> np.uint64(8)) & np.uint64(0xFF)) == 0x10
    varint_bytes = w1 >> np.uint64(16)
    more = ((varint_bytes & _HIGH_BITS) * _GATHER_BITS) >> np.uint64(56)
    size = _VARINT_LENGTH[more]  # step's byte count
    ok &= ~has_step | (size > 0)
    size = np.where(has_step, size, 0)
    step = varint_bytes & _SEVEN[0]
    for j in range(1, int(size.max())):  # drop the continuation bits: 7 bits per byte
        step |= (varint_bytes >> np.uint64(j)) & _SEVEN[j]
    step = (step & _LOW[size]).view(np.int64)
    after = start + 9 + size + has_step
    head = words[np.minimum(after, b.n - 8)]
    summary = end - after - 2  # the Summary's length if it runs to the end of the record
    expect = summary * 0x100_0100 + (_SIMPLE_HEAD - (2 << 24))  # S at byte 1, S - 2 at byte 3
    ok &= (summary >= 8) & (summary < 0x80)
    ok &= (head & np.uint64(0xFF_FFFF_FFFF)).view(np.int64) == expect
    tag_len = ((head >> np.uint64(40)) & np.uint64(0xFF)).astype(np.int64)
    ok &= (tag_len >= 1) & (tag_len < 0x80)
    tag_end = after + 6 + tag_len
    tail = words[end - 8]  # 0x15 and the float32 of a simple_value
    simple = ok & (tag_end == end - 5) & (((tail >> np.uint64(24)) & np.uint64(0xFF)) == 0x15)
    tensor = np.zeros(count, dtype=bool)
    has_meta = np.zeros(count, dtype=bool)
    meta_len = np.zeros(count, dtype=np.int64)
    maybe = np.flatnonzero(ok & ~simple & (end - tag_end >= 12))
    if len(maybe):  # tf.summary.scalar's tensor, then nothing or a short metadata
        at = tag_end[maybe]
        tensor[maybe] = words[at] == np.uint64(_TF2_TENSOR)
        meta = b.views["<u2"][np.minimum(at + 12, b.n - 2)]
        size_ = (meta >> 8).astype(np.int64)
        with_meta = ((meta & 0xFF) == 0x4A) & (size_ < 0x80) & (at + 14 + size_ == end[maybe])
        tensor[maybe] &= (at + 12 == end[maybe]) | with_meta
        has_meta[maybe] = tensor[maybe] & with_meta
        meta_len[maybe] = size_
    ok &= simple | tensor
    every = bool(ok.all())
    hit = np.flatnonzero(ok)

    def pick(column: np.ndarray) -> np.ndarray:
        return column if every else column[hit]

    tag_end = pick(tag_end)
    f = _ValueFields(0)
    f.count, f.bad = len(hit), np.zeros(len(hit), dtype=bool)
    f.tag_pos, f.tag_len = tag_end - pick(tag_len), pick(tag_len)
    f.has_simple, f.simple_pos = pick(simple), tag_end + 1
    f.has_tensor = f.direct = pick(tensor)
    f.has_meta, f.meta_len = pick(has_meta), pick(meta_len)
    if len(maybe):
        f.tensor_pos, f.tensor_len = tag_end + 2, f.has_tensor * 10
        f.direct_pos, f.meta_pos = tag_end + 8, tag_end + 14
    else:  # simple_values only: no tensor or metadata to point at (zeros: absent)
        f.tensor_pos = f.tensor_len = f.direct_pos = f.meta_pos = np.zeros(len(hit), np.int64)
    return _Whole(ok, pick(wall), pick(step), f)


def _intern(
    b: Bytes, pos: np.ndarray, length: np.ndarray, ok: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Tag ids (index into the returned names) for every value; -1 where not `ok`.

    Tags are compared as whole byte strings, 8 bytes at a time: a 64-bit hash finds the
    groups, and an exact comparison with each group's first member proves them."""
    ids = np.full(len(pos), -1, dtype=np.int64)
    sel = np.flatnonzero(ok)
    if len(sel) == 0:
        return ids, []
    if len(sel) < len(pos):
        pos, length = pos[sel], length[sel]
    words = []
    h = length.astype(np.uint64) * _HASH
    # A tag's words are read whole, the last one as the 8 bytes ending at the tag's end
    # (overlapping the one before), then again past it; a tag shorter than 8 bytes is
    # shifted to drop the bytes before it. Tags of one length are read at the same
    # places, so equal words (and length) mean equal bytes. Past a tag's end the file's
    # next bytes are not read at all. Tags starting in the first 7 bytes: masked words.
    view = b.views["<u8"]
    inside = int(pos.min()) >= 7
    last = pos + length - 8
    shortest = int(length.min())
    shift = (np.maximum(8 - length, 0) * 8).astype(np.uint64) if shortest < 8 else None
    for k in range((int(length.max()) + 7) // 8):
        if not inside:
            word = _word(b, pos + 8 * k, length - 8 * k)
        elif 8 * k + 8 <= shortest:  # a whole word of every tag
            word = view[pos + 8 * k]
        else:
            word = view[np.minimum(pos + 8 * k, last)]
            if shift is not None:
                word = word >> shift
        words.append(word)
        h = (h ^ word) * _HASH
    first, inverse = _groups(h)
    exact = all(np.array_equal(w, w[first][inverse]) for w in [length, *words])
    if not exact:  # a 64-bit hash collision: group by the bytes themselves
        keys = [
            bytes(b.data[p : p + n]) for p, n in zip(pos.tolist(), length.tolist(), strict=True)
        ]
        table: dict[bytes, int] = {}
        inverse = np.array([table.setdefault(k, len(table)) for k in keys], dtype=np.int64)
        first = np.zeros(len(table), dtype=np.int64)
        first[inverse[::-1]] = np.arange(len(keys))[::-1]
    names: list[str] = []
    by_name: dict[str, int] = {}
    remap = np.zeros(len(first), dtype=np.int64)
    for g in np.argsort(first).tolist():  # names in order of first appearance
        i = int(first[g])
        p, n = int(pos[i]), int(length[i])
        name = bytes(b.data[p : p + n]).decode("utf-8", "replace")
        remap[g] = by_name.setdefault(name, len(by_name))
        if remap[g] == len(names):
            names.append(name)
    ids[sel] = remap[inverse]
    return ids, names


def _groups(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Groups of equal hashes: each group's first row, and each row's group.

    A run has few tags, so the top 16 bits of the hash usually tell them apart: one pass
    into a 65,536-slot table instead of sorting; a shared slot falls back to np.unique."""
    rows = np.arange(len(h))
    slot = (h >> np.uint64(48)).astype(np.intp)
    table = np.full(1 << 16, -1, dtype=np.int64)
    table[slot[::-1]] = rows[::-1]  # with repeated slots the last assignment wins
    rep = table[slot]
    if np.array_equal(h[rep], h):
        used = np.flatnonzero(table >= 0)
        first = table[used]
        table[used] = np.arange(len(used))
        return first, table[slot]
    groups = np.unique(h)
    inverse = np.searchsorted(groups, h)
    first = np.zeros(len(groups), dtype=np.int64)
    first[inverse[::-1]] = rows[::-1]
    return first, inverse


def _word(b: Bytes, pos: np.ndarray, rem: np.ndarray) -> np.ndarray:
    """The next min(8, rem) bytes at each `pos` as a little-endian uint64 (0 when rem <= 0).
    Near the end of the file the word is read from 8 bytes earlier and shifted down."""
    base = np.minimum(pos, b.n - 8)
    shift = np.minimum((pos - base) * 8, 63).astype(np.uint64)
    word: np.ndarray = (b.read("<u8", base) >> shift) & _MASKS[np.clip(rem, 0, 8)]
    return word


def _learn_plugins(
    b: Bytes,
    ids: np.ndarray,
    names: list[str],
    has_meta: np.ndarray,
    meta_pos: np.ndarray,
    meta_len: np.ndarray,
    plugins: dict[str, Plugin],
) -> None:
    """The first metadata of each tag describes it (as in TensorBoard's accumulator)."""
    sel = np.flatnonzero(has_meta)
    if len(sel) == 0:
        return
    _, first = np.unique(ids[sel], return_index=True)
    for i in sel[first].tolist():
        name = names[int(ids[i])]
        if name in plugins:
            continue
        plugin, data_class = "", 0
        start = int(meta_pos[i])
        for num, wire, pos, val in safe_fields(b.data, start, start + int(meta_len[i])):
            if (num, wire) == (1, 2):
                for n2, w2, p2, v2 in safe_fields(b.data, pos, pos + val):
                    if (n2, w2) == (1, 2):
                        plugin = bytes(b.data[p2 : p2 + v2]).decode("utf-8", "replace")
            elif (num, wire) == (4, 0):
                data_class = val
        plugins[name] = Plugin(plugin, data_class)
