"""Builders for ingest tests: every input is written in code into a fresh tmp_path."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

Line = dict[str, Any] | str | bytes


def encode_lines(
    lines: Iterable[Line], *, newline: bytes = b"\n", final_newline: bool = True
) -> bytes:
    """Dicts are written as Python's json.dumps writes them (bare NaN/Infinity); text is raw."""
    encoded = []
    for line in lines:
        if isinstance(line, dict):
            encoded.append(json.dumps(line).encode())
        elif isinstance(line, str):
            encoded.append(line.encode())
        else:
            encoded.append(line)
    data = newline.join(encoded)
    return data + newline if final_newline and encoded else data


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """write_jsonl(lines, name="metrics.jsonl", newline=b"\\n", final_newline=True) -> path."""

    def write(
        lines: Iterable[Line],
        name: str = "metrics.jsonl",
        *,
        newline: bytes = b"\n",
        final_newline: bool = True,
    ) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_lines(lines, newline=newline, final_newline=final_newline))
        return path

    return write
