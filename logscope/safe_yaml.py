"""YAML loading with a size limit, for every YAML file logscope reads (rule packs,
logscope.yaml, MLflow's meta.yaml).

`yaml.safe_load` constructs only plain data, but an alias bomb (`b: [*a, *a, ...]` nested a
few levels) is a few hundred bytes that stand for billions of values: loading shares the
nodes, and whatever walks the result afterwards (printing, comparing, copying) does not.
Here the composed document is measured before anything is built: its size with every alias
expanded must stay within `MAX_NODES`, its nesting within `MAX_DEPTH`, and an alias may not
contain itself. Beyond that the file is refused as a YAML error with its line and column.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_NODES = 100_000  # values in the document once every alias is expanded
MAX_DEPTH = 200  # nesting of lists and mappings

# libyaml's C parser when PyYAML was built with it (10x faster than the pure-Python one)
Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TooLargeError(yaml.MarkedYAMLError):
    """A document beyond the limits; carries the mark of the node where it was noticed."""


def load(text: str, loader: type = Loader) -> Any:
    """Parse YAML text like `yaml.safe_load`, refusing alias bombs and deep nesting;
    raises yaml.YAMLError (with a problem_mark) on any problem."""
    parser = loader(text)
    try:
        node = parser.get_single_node()
        if node is None:
            return None
        measure(node)
        return parser.construct_document(node)
    finally:
        parser.dispose()


def measure(root: yaml.Node) -> int:
    """The number of values in the document with aliases expanded; raises TooLargeError
    past MAX_NODES or MAX_DEPTH, or for an alias that contains itself. Each distinct node
    is visited once (sizes are memoised), so measuring a bomb is as cheap as parsing it."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > MAX_NODES:
                raise _refuse(
                    node,
                    f"more than {MAX_NODES:,} values once aliases are expanded "
                    "(an alias bomb?); logscope refuses YAML this large",
                )
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in active:
            raise _refuse(node, "an alias refers to a node that contains it (a recursive alias)")
        if len(active) >= MAX_DEPTH:
            raise _refuse(node, f"nested more than {MAX_DEPTH} levels deep")
        active.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in active:
                raise _refuse(
                    child, "an alias refers to a node that contains it (a recursive alias)"
                )
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _refuse(node: yaml.Node, problem: str) -> TooLargeError:
    return TooLargeError(problem=problem, problem_mark=node.start_mark)
