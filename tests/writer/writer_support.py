"""Helpers shared by the writer tests (a plain module: conftest names clash across folders)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _no_constants(name: str) -> Any:
    raise ValueError(f"bare {name} is not strict JSON")


def strict_loads(line: str | bytes) -> Any:
    """RFC 8259 JSON only: Python's bare NaN / Infinity tokens are an error."""
    return json.loads(line, parse_constant=_no_constants)


def strict_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a finished metrics file, parsed strictly; the file ends with a newline."""
    data = path.read_bytes()
    assert data.endswith(b"\n"), "the last line must be complete"
    data.decode("ascii")  # ensure_ascii: no byte above 0x7f
    return [strict_loads(line) for line in data.splitlines()]
