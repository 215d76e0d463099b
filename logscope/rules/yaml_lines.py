"""YAML loading that remembers where each key was written, for file:line:col errors.

Still a safe loader underneath (`CSafeLoader` or `SafeLoader`): only plain data types are
ever constructed.
"""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict[str, Any]):
    """A mapping that knows the line and column of itself and of each key (1-based)."""

    line: int = 0
    column: int = 0
    key_lines: dict[str, tuple[int, int]]

    def where(self, key: str | None = None) -> tuple[int, int]:
        if key is not None and key in self.key_lines:
            return self.key_lines[key]
        return self.line, self.column


# libyaml's C parser when PyYAML was built with it (10x faster than the pure-Python one)
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line, mapping.column = node.start_mark.line + 1, node.start_mark.column + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load(text: str) -> Any:
    """Parse YAML text; raises yaml.YAMLError (with a mark) on a syntax error."""
    return yaml.load(text, Loader=_Loader)
