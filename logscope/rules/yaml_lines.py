"""YAML loading that remembers where each key was written, for file:line:col errors.

Still a safe loader underneath (`CSafeLoader` or `SafeLoader`): only plain data types are
ever constructed, and logscope.safe_yaml's limits on alias expansion and nesting apply.
"""

from __future__ import annotations

from typing import Any

import yaml

from logscope import safe_yaml


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


class _Loader(safe_yaml.Loader):  # type: ignore[misc]
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line, mapping.column = node.start_mark.line + 1, node.start_mark.column + 1
    mapping.key_lines = {}
    mapping.value_marks = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        mapping.value_marks[key] = _value_mark(value_node)
    return mapping


def _value_mark(node: yaml.Node) -> tuple[int, int, int] | None:
    """Where a one-line plain or quoted scalar's text starts (escapes are not undone)."""
    start, end = node.start_mark, node.end_mark
    if not isinstance(node, yaml.ScalarNode) or start.line != end.line:
        return None
    style = getattr(node, "style", None)
    if style in ("|", ">"):
        return None
    skip = 1 if style in ("'", '"') else 0
    return start.line + 1, start.column + 1, skip


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load(text: str) -> Any:
    """Parse YAML text; raises yaml.YAMLError (with a mark) on a syntax error."""
    return safe_yaml.load(text, _Loader)
