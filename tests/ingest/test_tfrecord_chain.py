"""Framing by predicted record lengths: the same records as the header scan, damage found.

A file whose record lengths repeat is framed from a few records read one by one and the
period they show (tfrecord._predicted); these files are long enough for the prediction to
run, with the step's varint growing a byte twice (the period breaks there)."""

from __future__ import annotations

import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tb import long, tw

from logscope.ingest import read_run, tfrecord
from logscope.run import Run

TAGS = ["train/loss", "train/grad_norm", "train/learning_rate", "eval/loss", "x"]
STEPS = [i * 30 for i in range(700)]  # past 128 and 16,384: one and two more varint bytes


@lru_cache(maxsize=1)
def periodic() -> tuple[bytes, list[int]]:
    """3,501 records (file_version, then 5 tags a step) and the offset of each."""
    payloads = [tw.event(wall_time=1.0, file_version="brain.Event:2")]
    for step in STEPS:
        for i, tag in enumerate(TAGS):
            value = tw.simple_value(tag, step / 8 + i)
            payloads.append(tw.event(wall_time=1.0 + step, step=step, summary=tw.summary(value)))
    offsets, data = [], bytearray()
    for payload in payloads:
        offsets.append(len(data))
        data += tw.record(payload)
    return bytes(data), offsets


def scanned(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    heads, lengths = tfrecord._headers(np.frombuffer(data, dtype=np.uint8))
    return heads, lengths


def read(data: bytes) -> tuple[Path, Run]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / tw.file_name(1_700_000_000)
        path.write_bytes(data)
        return path, read_run(path)


def count_walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many records each walk of tfrecord._predicted reads one by one (filled in as
    it runs)."""
    walked: list[int] = []
    walk = tfrecord._walk_lengths

    def counted(*args: Any) -> tuple[np.ndarray, np.ndarray]:
        found = walk(*args)
        walked.append(len(found[0]))
        return found

    monkeypatch.setattr(tfrecord, "_walk_lengths", counted)
    return walked


EXPECTED = {(tag, step): step / 8 + i for step in STEPS for i, tag in enumerate(TAGS)}


def test_predicted_chain_is_the_scanned_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    data, offsets = periodic()
    walked = count_walks(monkeypatch)
    chain = tfrecord._predicted(data, np.frombuffer(data, dtype=np.uint8))
    assert chain is not None
    assert sum(walked) < len(offsets) - 500  # most records were predicted, not walked
    heads, lengths = scanned(data)
    assert chain[0].tolist() == heads.tolist() == offsets
    assert chain[1].tolist() == lengths.tolist()
    _, run = read(data)
    assert run.problems == [] and long(run) == EXPECTED


def test_a_damaged_header_where_lengths_are_predicted_is_reported() -> None:
    data, offsets = periodic()
    bad = bytearray(data)
    bad[offsets[2500]] ^= 0x02  # its length: no longer the one predicted, nor its CRC's
    assert tfrecord._predicted(bytes(bad), np.frombuffer(bytes(bad), dtype=np.uint8)) is None
    _, run = read(bytes(bad))
    assert [p.message.split(":")[0] for p in run.problems] == [f"byte {offsets[2500]}"]
    lost = 2500 - 1  # record 2500 holds the value of this (step, tag)
    key = (TAGS[lost % 5], STEPS[lost // 5])
    assert long(run) == {k: v for k, v in EXPECTED.items() if k != key}


def test_a_corrupt_payload_where_lengths_are_predicted_fails_its_crc() -> None:
    data, offsets = periodic()
    bad = bytearray(data)
    bad[offsets[2600] + 14] ^= 0x10  # inside the payload (its wall time)
    _, run = read(bytes(bad))
    assert len(run.problems) == 1
    assert run.problems[0].message.startswith(f"byte {offsets[2600]}: ")
    assert "fails its CRC check" in run.problems[0].message
    assert len(long(run)) == len(EXPECTED) - 1


def test_a_cut_file_is_left_to_the_scan() -> None:
    data, offsets = periodic()
    cut = data[: offsets[2700] + 7]
    assert tfrecord._predicted(cut, np.frombuffer(cut, dtype=np.uint8)) is None
    _, run = read(cut)
    assert "last record is incomplete" in run.problems[0].message
    assert len(long(run)) == 2700 - 1


def test_lengths_without_a_period_are_read_one_by_one() -> None:
    rng = np.random.default_rng(0)
    data = bytearray(tw.record(tw.event(wall_time=1.0, file_version="brain.Event:2")))
    for step in range(2500):
        tag = "m" * int(rng.integers(1, 40))
        data += tw.record(
            tw.event(wall_time=1.0, step=step, summary=tw.summary(tw.simple_value(tag, 1.0)))
        )
    chain = tfrecord._predicted(bytes(data), np.frombuffer(bytes(data), dtype=np.uint8))
    heads, lengths = scanned(bytes(data))
    assert chain is not None
    assert chain[0].tolist() == heads.tolist() and chain[1].tolist() == lengths.tolist()


@pytest.mark.parametrize("parallel", [True, False])
def test_a_corrupt_tag_checked_while_decoding_leaves_no_trace(
    monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """CRCs are checked in a thread while the file is decoded (tensorboard._decode_checked);
    a record that fails must not leave its (garbled) tag, value or step behind."""
    from logscope.ingest import tensorboard

    monkeypatch.setattr(tensorboard, "_PARALLEL", 1 if parallel else 1 << 40)
    monkeypatch.setattr(tensorboard, "_spare_core", lambda: True)  # whatever the load
    data, offsets = periodic()
    bad = bytearray(data)
    record = 2601  # the first tag of a step: 'train/loss'
    at = bytes(bad).index(b"train/loss", offsets[record])
    assert at < offsets[record + 1]
    bad[at + 2] = ord("X")  # 'trXin/loss': a tag no other record has
    _, run = read(bytes(bad))
    assert [p.message for p in run.problems] == [
        f"byte {offsets[record]}: record payload fails its CRC check (corrupt data); skipped"
    ]
    assert sorted(run.frame.columns) == sorted(["step", "wall_time", *TAGS])
    lost = (TAGS[(record - 1) % 5], STEPS[(record - 1) // 5])
    assert long(run) == {k: v for k, v in EXPECTED.items() if k != lost}


@pytest.mark.parametrize("where", ["crc32c.crcs", "tfevent._single_scalars"])
def test_an_error_in_either_thread_reaches_the_caller(
    monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The work done in the other thread (CRCs, matching batches) must fail the read when
    it fails, never pass silently or hang."""
    from logscope.ingest import crc32c, tensorboard, tfevent

    def broken(*args: Any) -> np.ndarray:
        raise RuntimeError("broken")

    module, name = where.split(".")
    monkeypatch.setattr(tensorboard, "_PARALLEL", 1)
    monkeypatch.setattr(tensorboard, "_spare_core", lambda: True)
    monkeypatch.setattr({"crc32c": crc32c, "tfevent": tfevent}[module], name, broken)
    data, _ = periodic()
    with pytest.raises(RuntimeError, match="broken"):
        read(data)


@pytest.mark.parametrize(
    ("cores", "load", "spare"), [(2, 0.9, True), (2, 1.9, False), (1, 0.0, False), (8, 5.0, True)]
)
def test_a_second_thread_only_where_a_core_is_idle(
    monkeypatch: pytest.MonkeyPatch, cores: int, load: float, spare: bool
) -> None:
    import os

    from logscope import cores as usable_cores
    from logscope.ingest import tensorboard

    monkeypatch.setattr(usable_cores, "usable", lambda: cores)  # affinity and CPU quota
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(usable_cores, "running", lambda: load)  # and as busy right now
    assert tensorboard._spare_core() is spare


def test_a_long_period_is_found_after_short_walks(monkeypatch: pytest.MonkeyPatch) -> None:
    """300 tags a step of assorted lengths: the first short walks see no period (or a
    false one that soon fails), longer ones find it, and most records are predicted."""
    rng = np.random.default_rng(1)
    tags = ["t" * int(n) for n in rng.integers(1, 60, 300)]
    tags = [f"{i}/{t}" for i, t in enumerate(tags)]
    data = bytearray()
    for step in range(40):
        for i, tag in enumerate(tags):
            value = tw.simple_value(tag, float(i))
            data += tw.record(tw.event(wall_time=1.0, step=step, summary=tw.summary(value)))
    walked = count_walks(monkeypatch)
    chain = tfrecord._predicted(bytes(data), np.frombuffer(bytes(data), dtype=np.uint8))
    assert chain is not None
    assert sum(walked) < 40 * 300 // 2
    heads, lengths = scanned(bytes(data))
    assert chain[0].tolist() == heads.tolist() and chain[1].tolist() == lengths.tolist()


def test_many_batches_shared_by_two_threads_read_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small batches, so the second thread matches some from the back while the first
    decodes from the front: the same points, in the same order, as one thread."""
    from logscope.ingest import tensorboard, tfevent

    data, _ = periodic()
    _, alone = read(data)
    monkeypatch.setattr(tfevent, "BATCH", 64)
    monkeypatch.setattr(tensorboard, "_PARALLEL", 1)
    monkeypatch.setattr(tensorboard, "_spare_core", lambda: True)
    ran: list[str] = []
    single = tfevent.single_scalars

    def recorded(*args: Any) -> Any:
        ran.append(threading.current_thread().name)
        return single(*args)

    monkeypatch.setattr(tfevent, "single_scalars", recorded)
    _, shared = read(data)
    assert len(ran) == -(-3501 // 64)  # every batch matched exactly once
    assert long(shared) == long(alone) == EXPECTED
    assert shared.frame.equals(alone.frame)
