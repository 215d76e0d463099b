"""A mapping parsed from YAML that remembers where it and each key were written (for
file:line:col errors). Apart from the YAML loader (rules.yaml_lines), so what inspects
parsed packs need not import PyYAML.
"""

from __future__ import annotations

from typing import Any


class LineDict(dict[str, Any]):
    """A mapping that knows the line and column of itself and of each key (1-based)."""

    line: int = 0
    column: int = 0
    key_lines: dict[str, tuple[int, int]]
    # where each scalar value starts, and how many characters its first line skips before
    # the text (the quote of a quoted scalar); None when the scalar spans several lines
    value_marks: dict[str, tuple[int, int, int] | None]

    def where(self, key: str | None = None) -> tuple[int, int]:
        if key is not None and key in self.key_lines:
            return self.key_lines[key]
        return self.line, self.column

    def where_in(self, key: str, offset: int) -> tuple[int, int]:
        """Line and column of the character at `offset` in the text of `key`'s value; the
        start of the value when it spans several lines (folded text cannot be mapped)."""
        mark = self.value_marks.get(key) if hasattr(self, "value_marks") else None
        if mark is None:
            return self.where(key)
        line, column, skip = mark
        return line, column + skip + offset
