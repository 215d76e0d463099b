"""The vectorised CRC-32C agrees with google-crc32c on every range, whatever its length."""

from __future__ import annotations

import google_crc32c
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from logscope.ingest import crc32c
from logscope.ingest.tfrecord import strided


def compiled(data: bytes, start: np.ndarray, end: np.ndarray) -> list[int]:
    return [
        google_crc32c.value(data[a:b]) for a, b in zip(start.tolist(), end.tolist(), strict=True)
    ]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    st.binary(min_size=8, max_size=700),
    st.lists(st.tuples(st.integers(7, 700), st.integers(0, 700)), min_size=1, max_size=40),
)
def test_crcs_match_the_compiled_crc(data: bytes, spans: list[tuple[int, int]]) -> None:
    n = len(data)
    start = np.array([min(a, n) for a, _ in spans], dtype=np.int64)
    end = np.array([min(a + k, n) for a, k in spans], dtype=np.int64)
    start = np.minimum(start, end)
    words = strided(np.frombuffer(data + bytes(8), dtype=np.uint8), "<u8")
    assert crc32c.crcs(words, start, end).tolist() == compiled(data, start, end)


def test_lengths_of_every_alignment_and_the_known_check_value() -> None:
    data = bytes(7) + b"123456789" + bytes(range(256)) * 3 + bytes(8)
    words = strided(np.frombuffer(data, dtype=np.uint8), "<u8")
    assert crc32c.crcs(words, np.array([7]), np.array([16])).tolist() == [0xE3069283]
    start = np.arange(7, 60).repeat(70)
    end = start + np.tile(np.arange(70), 53)
    assert crc32c.crcs(words, start, end).tolist() == compiled(data, start, end)
