"""YAML loading that remembers where each key was written, for file:line:col errors.

Still a safe loader underneath (`CSafeLoader` or `SafeLoader`): only plain data types are
ever constructed, and logscope.safe_yaml's limits on alias expansion and nesting apply.
"""

from __future__ import annotations

from typing import Any

import yaml

from logscope import safe_yaml
from logscope.rules.linedict import LineDict

__all__ = ["LineDict", "load"]


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
