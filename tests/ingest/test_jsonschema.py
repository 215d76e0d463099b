"""The JSONL reader's schema path (ingest/jsonschema.py) reads exactly what full schema
inference reads: the same frame, the same problems, every key kept, whatever the bytes."""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from logscope.ingest import decode, jsonl, jsonschema
from logscope.ingest.base import Ingested
from logscope.ingest.decode import Nulled, null_nonfinite
from logscope.ingest.jsonschema import SchemaDecoder, widen


@pytest.fixture
def schema_hits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the chunks the schema path decoded (a test that never takes it proves nothing)."""
    hits: list[int] = []
    decode = SchemaDecoder.decode

    def counted(self: SchemaDecoder, *args: Any) -> pl.DataFrame | None:
        frame = decode(self, *args)
        if frame is not None:
            hits.append(frame.height)
        return frame

    monkeypatch.setattr(SchemaDecoder, "decode", counted)
    return hits


def read_both(path: Path, chunk: int) -> tuple[Ingested, Ingested]:
    """(schema path, full inference only), both with `chunk`-byte chunks."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl, "CHUNK_BYTES", chunk)
        fast = jsonl.read(path)
        patch.setattr(SchemaDecoder, "decode", lambda *_: None)
        exact = jsonl.read(path)
    return fast, exact


def assert_same(fast: Ingested, exact: Ingested) -> None:
    assert sorted(fast.frame.columns) == sorted(exact.frame.columns)
    assert_frame_equal(fast.frame.select(exact.frame.columns), exact.frame)
    assert fast.problems == exact.problems
    assert fast.notes == exact.notes
    assert fast.meta == exact.meta


def varied_lines(n: int = 600) -> Iterator[dict[str, Any]]:
    """Ints then floats in one key, text, NaN/Infinity (beside numbers, beside text, inside
    an object, alone under a late key), nested objects, booleans, lists and keys first
    logged late (eval_loss from line 400; a nested key on the last line)."""
    for step in range(1, n + 1):
        record: dict[str, Any] = {"step": step, "loss": step if step < 300 else 1.0 / step}
        record["grad_norm"] = math.nan if step % 97 == 0 else step / 7
        if step % 131 == 0:
            record["loss"] = math.inf
        record["perf"] = {"tokens": step * 10, "mfu": step / 1000}
        if step % 5 == 0:
            record["mode"] = "eval" if step % 2 else "train"
        if step % 50 == 0:
            record["done"] = step % 100 == 0
            record["shape"] = [step, 2]
        if step >= 400 and step % 20 == 0:
            record["eval_loss"] = step / 1000
        if step % 7 == 0:  # text, numbers and NaN under one key
            record["mixed"] = "n/a" if step % 2 else (math.nan if step % 3 else step)
        if step % 157 == 0:  # NaN inside an object: the line is quoted, not nulled
            record["perf"]["mfu"] = -math.inf
        if step in (450, 520):  # a key whose only values are NaN, first logged late
            record["only_nan"] = math.nan
        if step == n:
            record["perf"]["late"] = 1.5
            record["last/only"] = 7
        yield record


def write(lines: list[Any] | bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="logscope-schema-test-"))
    path = folder / "metrics.jsonl"
    if isinstance(lines, bytes):
        path.write_bytes(lines)
    else:
        path.write_text(
            "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
        )
    return path


@pytest.mark.parametrize("chunk", [2_000, 9_000, 40_000, 1 << 20])
def test_schema_path_reads_what_full_inference_reads(schema_hits, chunk):
    path = write(list(varied_lines()))
    fast, exact = read_both(path, chunk)

    assert_same(fast, exact)
    assert {"eval_loss", "last/only", "perf/late", "perf/mfu"} <= set(fast.frame.columns)
    assert fast.frame["last/only"].drop_nulls().to_list() == [7.0]
    assert fast.frame["only_nan"].is_nan().sum() == 2
    assert fast.frame["grad_norm"].is_nan().sum() == 6
    assert schema_hits, "the schema path was never taken"


@pytest.mark.parametrize("size", [40_000, 1 << 20])
def test_learnt_schema_equals_full_inference(size):
    """Learnt from the head and the lines the counts point at, chunk by chunk, the schema
    ends equal to inference over the whole file, and every chunk was read with it."""
    data = write(list(varied_lines())).read_bytes()
    decoder = SchemaDecoder()
    for start, chunk in _chunks(data, size):
        nulled = null_nonfinite(chunk)
        count = chunk.count(b"\n")
        assert decoder.decode(nulled, count, nulled.text.count(b":"), start) is not None
    # the text it parsed: non-finite numbers nulled (put back after the parse)
    whole = pl.read_ndjson(null_nonfinite(data).text, infer_schema_length=None).schema
    assert decoder.schema == {name: widen(dtype) for name, dtype in whole.items()}


def test_a_key_first_on_the_last_line_of_a_big_file_is_kept(schema_hits):
    lines = [{"step": s, "loss": 1.0 / s} for s in range(1, 3_001)]
    lines[-1]["late_key"] = 0.25
    fast, exact = read_both(write(lines), 8_000)
    assert_same(fast, exact)
    assert fast.frame["late_key"].drop_nulls().to_list() == [0.25]
    assert len(schema_hits) > 5


def test_a_null_under_a_key_never_seen_is_kept(schema_hits):
    """A key whose only value is null adds no value Polars could count; it is still a column
    (all null), as full inference gives."""
    lines: list[dict[str, Any]] = [{"step": s, "loss": 1.0 / s} for s in range(1, 2_001)]
    lines[1_500]["ghost"] = None
    fast, exact = read_both(write(lines), 8_000)
    assert_same(fast, exact)
    assert "ghost" in fast.frame.columns


def test_text_deep_lists_and_duplicates_after_the_schema_is_learnt(schema_hits):
    """Lines the schema would misread come after it is learnt: each is reported or read
    exactly as full inference and the per-line path do (a list nested too deep under a
    text key, a key written twice, text where a number was, a list holding an object)."""
    lines: list[Any] = [{"step": s, "loss": 1.0 / s, "note": "ok"} for s in range(1, 2_001)]
    lines[1_200] = '{"step": 1201, "loss": 0.1, "note": ' + "[" * 80 + "]" * 80 + "}"
    lines[1_800] = '{"step": 1801, "loss": 0.2, "loss": 0.3}'
    lines[1_400] = '{"step": 1401, "loss": "0.4", "extra": {"a": [1, {"b": 2}]}}'
    fast, exact = read_both(write(lines), 8_000)
    assert_same(fast, exact)
    assert [(p.line, p.message.split(" (")[0]) for p in fast.problems] == [
        (1201, "nested deeper than 64 levels"),
    ]
    loss = dict(zip(fast.frame["step"].to_list(), fast.frame["loss"].to_list(), strict=True))
    assert (loss[1401], loss[1801]) == (0.4, 0.2)
    assert schema_hits


def _chunks(data: bytes, size: int) -> Iterator[tuple[int, bytes]]:
    start, line = 0, 1
    while start < len(data):
        end = data.rfind(b"\n", start, start + size) + 1 or len(data)
        chunk = data[start:end]
        yield line, chunk
        line += chunk.count(b"\n")
        start = end


# --- any bytes: never a crash, never a lost key --------------------------------------------

KEYS = st.sampled_from(["loss", "step", "a/b", "eval_loss", "x", "note", "k:v", "ü"])
SCALARS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.booleans(),
    st.none(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=6,
)
RECORDS = st.lists(st.dictionaries(KEYS, VALUES, max_size=5), min_size=1, max_size=60)


@st.composite
def damaged_logs(draw: st.DrawFn) -> bytes:
    """Valid lines (repeated so the schema path has chunks to read), then damage: a cut,
    flipped bytes, spliced junk or nothing."""
    records = draw(RECORDS)
    repeat = draw(st.integers(1, 40))
    body = "".join(json.dumps(r) + "\n" for r in records) * repeat
    data = bytearray(body.encode())
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["cut", "flip", "junk"]))
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "cut":
            del data[where:]
        elif kind == "flip" and data:
            data[where] = draw(st.integers(0, 255))
        else:
            data[where:where] = draw(st.binary(max_size=20))
    return bytes(data)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged_logs(), chunk=st.sampled_from([300, 3_000, 1 << 20]))
def test_any_bytes_read_as_full_inference_reads_them(data, chunk):
    path = write(data)
    fast, exact = read_both(path, chunk)
    assert_same(fast, exact)
    for key in _numeric_keys(data):
        assert key in fast.frame.columns, key


def _numeric_keys(data: bytes) -> set[str]:
    """Top-level keys holding a number on some intact line (each must be a metric column)."""
    keys: set[str] = set()
    for line in data.split(b"\n"):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict) and len(record) == len(_pairs(line)):
            keys |= {
                k
                for k, v in record.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "step"
            }
    return keys


def _pairs(line: bytes) -> list[tuple[str, Any]]:
    return json.loads(line, object_pairs_hook=lambda pairs: pairs)


def test_nan_found_after_many_capital_ns_and_is(schema_hits):
    """The token search looks for the first byte (N, I) and, when that byte is everywhere
    (keys such as "NLL"), for the whole token: a NaN far down is still read as NaN."""
    lines: list[dict[str, Any]] = [
        {"step": s, "NLL": 1.0 / s, "IoU": s / 3, "Note": "NoNaN here"} for s in range(1, 2_001)
    ]
    lines[1_700]["NLL"] = math.nan
    lines[1_800]["IoU"] = -math.inf
    fast, exact = read_both(write(lines), 30_000)
    assert_same(fast, exact)
    nll = dict(zip(fast.frame["step"].to_list(), fast.frame["NLL"].to_list(), strict=True))
    iou = dict(zip(fast.frame["step"].to_list(), fast.frame["IoU"].to_list(), strict=True))
    assert math.isnan(nll[1_701]) and iou[1_801] == -math.inf
    assert fast.frame["NLL"].is_nan().sum() == 1
    assert schema_hits


@pytest.mark.parametrize("block", [64, 1_000, 1 << 18])
def test_nulled_rows_and_counts_are_right_across_count_blocks(monkeypatch, block):
    """The counts are taken block by block: a NaN line's row, the newlines and the `:`s of
    the text Polars parses are the same whatever the block size (and equal to a naive count)."""
    lines: list[dict[str, Any]] = [{"step": s, "loss": 1.0 / s} for s in range(1, 3_001)]
    for step in (1, 700, 701, 2_999):
        lines[step - 1]["loss"] = math.nan if step % 2 else math.inf
    lines[1_500]["nested"] = {"x": math.nan}  # quoted, not nulled: its `:`s change
    chunk = "".join(json.dumps(line) + "\n" for line in lines).encode()
    monkeypatch.setattr(decode, "_BLOCK", block)
    nulled = null_nonfinite(chunk)
    assert nulled.rows == [0, 699, 700, 2_998]
    assert nulled.lines == chunk.count(b"\n") == 3_000
    assert nulled.colons == nulled.text.count(b":")
    assert b'"x": "NaN"' in nulled.text


def test_a_parse_ahead_with_an_older_schema_is_not_used(monkeypatch):
    """The helper thread parses with the schema of its moment; when the decoder has learnt
    since (from the chunk between), that parse is dropped and the chunk parsed again."""

    def chunk(steps: range, **extra: float) -> Nulled:
        text = "".join(json.dumps({"step": s, "loss": 1.0 / s, **extra}) + "\n" for s in steps)
        return null_nonfinite(text.encode())

    decoder = SchemaDecoder()
    decoder.chunks = 1  # as if a first chunk had been read: the head is learnt from
    one, three = chunk(range(1, 400)), chunk(range(800, 900))
    assert decoder.decode(one, one.lines, one.colons, 1) is not None
    early = decoder.ahead(three)  # before `two` teaches the decoder "eval_loss"
    two = chunk(range(400, 800), eval_loss=2.0)
    assert decoder.decode(two, two.lines, two.colons, 400) is not None
    assert early is not None and early.schema is not decoder.schema
    parse = jsonschema._parse
    schemas: list[object] = []
    monkeypatch.setattr(
        jsonschema, "_parse", lambda data, schema: schemas.append(schema) or parse(data, schema)
    )
    frame = decoder.decode(three, three.lines, three.colons, 800, early)
    # the frames of one schema are stacked: this one has the column the stale parse lacks
    assert frame is not None and frame["eval_loss"].null_count() == 100
    assert schemas == [decoder.schema]


def test_a_parse_ahead_with_the_current_schema_is_used(monkeypatch):
    lines = "".join(json.dumps({"step": s, "loss": 1.0 / s}) + "\n" for s in range(1, 400))
    decoder = SchemaDecoder()
    decoder.chunks = 1
    chunk = null_nonfinite(lines.encode())
    assert decoder.decode(chunk, chunk.lines, chunk.colons, 1) is not None
    early = decoder.ahead(chunk)
    assert early is not None and early.schema is decoder.schema
    parses: list[object] = []
    monkeypatch.setattr(jsonschema, "_parse", lambda *args: parses.append(args))
    frame = decoder.decode(chunk, chunk.lines, chunk.colons, 1, early)
    assert parses == [] and frame is not None and frame.height == 399


@pytest.mark.parametrize(
    ("line", "in_place"),
    [
        (b'{"step":1,"loss":NaN,"lr":-Infinity,"x":Infinity}', True),
        (b'{"step":2,"loss":NaN,"note":"ok"}', True),
        (b'{"step":3,"loss":1e999,"note":"NaN"}', False),  # a token in text, a float too big
        (b'{"step":4,"loss":0.5,"loss":-Infinity}', False),  # a key written twice
        (b'{"step":5,"loss":NaN,"note":"k: v"}', False),  # a `:` in text
        (b'{"step":6,"perf":{"mfu":NaN},"loss":NaN}', False),  # one inside an object
        (b'{"step":7,"loss":Infinity,"tag":"Infinity"}', False),
        (b'{"step":8,"loss":NaN,"list":[NaN]}', False),
        (b'{"step":9,"loss":NaN', False),  # cut short
    ],
)
def test_a_nan_line_nulled_where_it_stands_reads_as_by_the_exact_route(line, in_place):
    """The fast route (tokens replaced where they stand, for flat lines with one `:` per
    key) gives the values and the patch the exact route (json.dumps of the parsed line)
    gives, and is taken only where that is so."""
    text, found = decode._nulled_line(line)
    exact, exact_found = decode._nulled_line_exact(line)
    assert [(k, str(v)) for k, v in found] == [(k, str(v)) for k, v in exact_found]
    assert (text == exact) if exact == line else json.loads(text) == json.loads(exact)
    replaced = line.replace(b"-Infinity", b"null").replace(b"Infinity", b"null")
    assert (text == replaced.replace(b"NaN", b"null") != exact) == in_place


def test_nan_lines_read_as_full_inference_reads_them(schema_hits):
    lines = [json.dumps({"step": s, "loss": 1.0 / s, "note": "ok"}) for s in range(1, 2_001)]
    lines[300] = '{"step": 301, "loss": NaN, "note": "ok"}'
    lines[700] = '{"step": 701, "loss": 1e999, "note": "NaN"}'
    lines[900] = '{"step": 901, "loss": 0.5, "loss": -Infinity, "note": "ok"}'
    lines[1_100] = '{"step": 1101, "loss": Infinity, "note": "Infinity and NaN"}'
    fast, exact = read_both(write(lines), 8_000)
    assert_same(fast, exact)
    loss = dict(zip(fast.frame["step"].to_list(), fast.frame["loss"].to_list(), strict=True))
    assert math.isnan(loss[301]) and loss[701] == loss[1101] == math.inf and loss[901] == 0.5
    assert schema_hits
