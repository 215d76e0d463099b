"""Bounded JSON nesting: no log needs more than a few levels, and deep input must not crash.

Python's `json` raises RecursionError past ~1,000 levels and the recursive helpers that walk a
parsed value fail earlier; `pl.read_ndjson` kills the process (a native stack overflow) at
about 550 levels. So every JSON text the readers parse is checked first: a line nested deeper
than MAX_DEPTH is a bad line, reported by number, never handed to either parser.

The check costs one vectorised pass per chunk: only a line holding MAX_DEPTH opening brackets
(`{` or `[`, wherever they sit) can be that deep, and the rare such line is measured exactly.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

MAX_DEPTH = 64
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels (no log needs that); skipped"


def depth(text: bytes | str, stop: int | None = None) -> int:
    """The deepest nesting of `{`/`[` outside JSON strings (iterative: any input is safe);
    it stops counting once past `stop`."""
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    deepest = level = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):
            level += 1
            deepest = max(deepest, level)
            if stop is not None and deepest > stop:
                break
        elif byte in (0x7D, 0x5D):
            level = max(level - 1, 0)
    return deepest


def too_deep(text: bytes | str) -> bool:
    """Deeper than MAX_DEPTH; cheap for the usual text with few brackets."""
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    if data.count(b"{") + data.count(b"[") <= MAX_DEPTH:
        return False
    return depth(data, MAX_DEPTH) > MAX_DEPTH


def loads(text: bytes | str, **options: Any) -> Any:
    """`json.loads` that refuses deep nesting with ValueError, as it refuses bad syntax."""
    if too_deep(text):
        raise ValueError(TOO_DEEP)
    return json.loads(text, **options)


def deep_lines(chunk: bytes) -> list[tuple[int, int, int]]:
    """(line index, start, end) of each line of `chunk` nested deeper than MAX_DEPTH."""
    if chunk.count(b"{") + chunk.count(b"[") <= MAX_DEPTH:
        return []
    data = np.frombuffer(chunk, np.uint8)
    openers = np.flatnonzero((data | 0x20) == 0x7B)  # `{` 0x7B and `[` 0x5B
    if openers.size <= MAX_DEPTH:
        return []
    newlines = np.flatnonzero(data == 0x0A)
    line_of = np.searchsorted(newlines, openers)
    counts = np.bincount(line_of, minlength=newlines.size + 1)
    found = []
    for index in np.flatnonzero(counts > MAX_DEPTH).tolist():
        start = int(newlines[index - 1]) + 1 if index else 0
        end = int(newlines[index]) if index < newlines.size else len(chunk)
        if depth(chunk[start:end], MAX_DEPTH) > MAX_DEPTH:
            found.append((index, start, end))
    return found


def blank_deep_lines(chunk: bytes) -> tuple[bytes, list[int]]:
    """`chunk` with each too-deep line emptied (line numbers stay), and their indexes."""
    found = deep_lines(chunk)
    if not found:
        return chunk, []
    pieces, last = [], 0
    for _, start, end in found:
        pieces.append(chunk[last:start])
        last = end
    pieces.append(chunk[last:])
    return b"".join(pieces), [index for index, _, _ in found]
