"""Turn whatever a training loop logs into plain JSON values, without importing torch or numpy.

Tensors and numpy scalars are recognised by duck typing (`.item()`, `.tolist()`), so the
writer costs nothing to import. Non-finite floats stay floats here; `strict` spells them
as the strings "NaN", "Infinity", "-Infinity" for the file (strict JSON has no such tokens).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

_PLAIN = (str, int, float)


class Unconvertible(TypeError):
    """A value that is neither a number, text, a container of those, nor tensor-like."""


def plain(value: Any, key: str) -> Any:
    """A JSON-shaped copy of `value`: None, bool, int, float, str, list or dict.

    Raises Unconvertible naming `key` for objects that are none of these.
    """
    if value is None or isinstance(value, (bool, *_PLAIN)):
        return _exact(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v, f"{key}/{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, key) for v in value]
    item = getattr(value, "item", None)
    if callable(item):
        try:
            scalar = item()  # numpy scalar, size-1 array, one-element tensor (syncs a GPU)
        except (ValueError, RuntimeError, TypeError, IndexError):
            scalar = None  # more than one element: fall through to tolist()
        else:
            if scalar is None or isinstance(scalar, (bool, *_PLAIN)):
                return _exact(scalar)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        listed = tolist()
        if isinstance(listed, (list, tuple)):
            return [plain(v, key) for v in listed]
        if listed is None or isinstance(listed, (bool, *_PLAIN)):
            return _exact(listed)
    if isinstance(value, (numbers.Real, Decimal)):
        return float(value)
    raise Unconvertible(
        f"metric {key!r}: cannot write a {type(value).__module__}.{type(value).__qualname__}"
        " (expected a number, text, a list or dict of those, or a tensor/array)"
    )


def _exact(value: Any) -> Any:
    """Builtin types only: a numpy float64 is a float subclass, a numpy str_ a str one."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def strict(value: Any) -> Any:
    """Non-finite floats as the strings of the writer contract, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        if value != value:
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strict(v) for v in value]
    return value


def lenient(value: Any, key: str) -> Any:
    """`plain`, but an unconvertible object becomes its repr text: configs hold anything."""
    try:
        return plain(value, key)
    except Unconvertible:
        pass
    if isinstance(value, Mapping):
        return {str(k): lenient(v, f"{key}/{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [lenient(v, key) for v in value]
    enum_value = getattr(value, "value", None)
    if enum_value is not None and isinstance(enum_value, (bool, *_PLAIN)):
        return _exact(enum_value)
    return str(value)


def numbers_of(record: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric leaves of a plain record as `logscope check` reads them: nested objects
    flatten to `parent/child`, numeric text ("5e-7", "NaN") counts, booleans and lists do not."""
    out: dict[str, float] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            for sub, number in numbers_of(value, f"{name}/").items():
                out.setdefault(sub, number)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, (int, float)):
            out.setdefault(name, float(value))
        elif isinstance(value, str):
            try:
                out.setdefault(name, float(value.strip()))
            except ValueError:
                continue
    return out
