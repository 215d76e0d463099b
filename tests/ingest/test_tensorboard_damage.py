"""Damaged event files: byte-level fixtures, then property tests on random damage.

Every problem is a Problem naming the file and the byte offset; nothing is ever raised.
"""

from __future__ import annotations

import re
import struct
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tb import long, tw

from logscope.ingest import ReadOptions, read_run
from logscope.run import Run

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
OFFSET = re.compile(r"^byte (\d+): ")


def events(steps: int = 20) -> tuple[bytes, list[int]]:
    """A small event file and the byte offset of each record."""
    payloads = [tw.event(wall_time=1.0, file_version="brain.Event:2")]
    for step in range(1, steps + 1):
        payloads.append(
            tw.event(
                wall_time=1.0 + step,
                step=step,
                summary=tw.summary(tw.simple_value("loss", step / 4)),
            )
        )
    data, offsets = b"", []
    for payload in payloads:
        offsets.append(len(data))
        data += tw.record(payload)
    return data, offsets


def read(data: bytes, *, check_crc: bool = True) -> tuple[Path, Run]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / tw.file_name(1_700_000_000)
        path.write_bytes(data)
        return path, read_run(path, options=ReadOptions(check_crc=check_crc))


def offsets_of(run: Run, path: Path, size: int) -> list[int]:
    """Every problem names the file and a byte offset inside it."""
    found = []
    for problem in run.problems:
        assert problem.path == str(path)
        match = OFFSET.match(problem.message)
        assert match, problem.message
        assert 0 <= int(match.group(1)) <= size
        found.append(int(match.group(1)))
    return found


def losses(run: Run) -> dict[int, float]:
    return {step: value for (name, step), value in long(run).items() if name == "loss"}


FULL = {step: step / 4 for step in range(1, 21)}


@pytest.mark.parametrize("cut", [1, 4, 11, 12, 20, 30])
def test_truncated_last_record_is_reported_and_the_rest_read(cut: int) -> None:
    data, offsets = events()
    path, run = read(data[: offsets[-1] + cut])
    assert losses(run) == {s: v for s, v in FULL.items() if s < 20}
    assert offsets_of(run, path, len(data)) == [offsets[-1]]
    assert "last record is incomplete" in run.problems[0].message


def test_last_record_without_its_crc_is_read_unchecked() -> None:
    data, offsets = events()
    path, run = read(data[:-2])
    assert losses(run) == FULL
    assert offsets_of(run, path, len(data)) == [offsets[-1]]
    assert "no payload CRC" in run.problems[0].message


def test_corrupt_payload_in_the_middle_is_skipped_with_its_offset() -> None:
    data, offsets = events()
    bad = bytearray(data)
    bad[offsets[5] + 20] ^= 0x40  # inside the payload of the record for step 5
    path, run = read(bytes(bad))
    assert losses(run) == {s: v for s, v in FULL.items() if s != 5}
    assert offsets_of(run, path, len(data)) == [offsets[5]]
    assert "fails its CRC check" in run.problems[0].message


def test_corrupt_length_resumes_at_the_next_valid_record() -> None:
    data, offsets = events()
    bad = bytearray(data)
    bad[offsets[8]] ^= 0x01  # the length of record 8: its header CRC no longer matches
    path, run = read(bytes(bad))
    assert losses(run) == {s: v for s, v in FULL.items() if s != 8}
    assert offsets_of(run, path, len(data)) == [offsets[8]]
    assert f"reading resumes at byte {offsets[9]}" in run.problems[0].message


def test_garbage_before_the_first_record() -> None:
    data, _ = events()
    path, run = read(b"\x00junk!" + data)
    assert losses(run) == FULL
    assert offsets_of(run, path, len(data)) == [0]


def test_valid_crc_but_not_an_event() -> None:
    data, _ = events(3)
    broken = tw.record(b"\x0a\x50abc")  # a field claiming 80 bytes in a 5-byte message
    path, run = read(data + broken)
    assert losses(run) == {1: 0.25, 2: 0.5, 3: 0.75}
    assert offsets_of(run, path, len(data) + len(broken)) == [len(data)]
    assert "not a valid Event" in run.problems[0].message


def test_a_file_of_only_short_records() -> None:
    """Records too short for any scalar (an event with a step only, an empty one)."""
    data = tw.record(tw.event(wall_time=1.0, step=1)) + tw.record(b"")
    _, run = read(data)
    assert run.problems == [] and run.frame.height == 0


def test_skipping_crcs_does_not_notice_a_changed_value() -> None:
    data, offsets = events()
    bad = bytearray(data)
    bad[offsets[6] - 5] ^= 0x01  # the last byte of step 5's float, just before its CRC
    _, checked = read(bytes(bad))
    _, unchecked = read(bytes(bad), check_crc=False)
    assert 5 not in losses(checked)
    assert losses(unchecked)[5] != FULL[5]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "file is empty"),
        (b"\x1f\x8b\x08\x00rest", "gzip-compressed"),
        (b"step,loss\n1,0.5\n", "corrupt record"),
    ],
)
def test_files_that_are_not_event_files(data: bytes, expected: str) -> None:
    _, run = read(data)
    assert run.frame.height == 0
    assert expected in run.problems[0].message


# --- properties ----------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_never_crash(data: bytes) -> None:
    path, run = read(data)
    offsets_of(run, path, len(data))


@FUZZ
@given(
    st.integers(min_value=0, max_value=4000),
    st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 255)), max_size=4),
)
def test_truncated_and_corrupted_files_keep_what_is_intact(
    cut: int, flips: list[tuple[int, int]]
) -> None:
    data, _ = events(60)
    bad = bytearray(data[:cut])
    for at, mask in flips:
        if at < len(bad):
            bad[at] ^= mask
    path, run = read(bytes(bad))
    offsets_of(run, path, len(data))
    got = losses(run)
    assert all(FULL.get(step, step / 4) == value for step, value in got.items())
    if not flips and cut >= len(data):
        assert run.problems == [] and len(got) == 60


SCALAR = st.one_of(
    st.floats(width=32, allow_nan=False),
    st.just(float("inf")),
)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2**50),
            st.lists(
                st.tuples(st.sampled_from(["a", "b/c", "ü", "x" * 40]), SCALAR, st.integers(0, 2)),
                min_size=1,
                max_size=3,
            ),
        ),
        max_size=30,
    )
)
def test_random_event_streams_decode_to_the_last_write(stream: list) -> None:  # type: ignore[type-arg]
    """Every value layout (simple_value, float_val, tensor_content), several values per
    Summary: the frame holds the last write per (tag, step)."""
    expected: dict[tuple[str, int], float] = {}
    data = tw.record(tw.event(wall_time=1.0, file_version="brain.Event:2"))
    for step, values in stream:
        encoded = []
        for tag, value, form in values:
            if form == 0:
                encoded.append(tw.simple_value(tag, value))
            elif form == 1:
                encoded.append(tw.tensor_value(tag, tw.tensor(tw.DT_FLOAT, v=tw.f_float(5, value))))
            else:
                content = tw.f_bytes(4, struct.pack("<f", value))
                encoded.append(tw.tensor_value(tag, tw.tensor(tw.DT_FLOAT, c=content), None))
            expected[tag, step] = value
        data += tw.record(tw.event(wall_time=2.0, step=step, summary=tw.summary(*encoded)))
    _, run = read(data)
    assert run.problems == []
    assert long(run) == expected
    assert run.frame.height == len({step for _, step in expected})
