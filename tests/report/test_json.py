"""The JSON reporter's own encoder writes exactly what `json.dumps(indent=2)` writes."""

from __future__ import annotations

import enum
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logscope.report.json import dumps

_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


def _reference(value: object) -> str:
    return json.dumps(value, indent=2, allow_nan=False, default=str)


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_same_text_as_json_dumps(value: object) -> None:
    assert dumps(value) == _reference(value)


class _Level(enum.StrEnum):
    ERROR = "error"


class _Count(enum.IntEnum):
    ONE = 1


def test_subclasses_keys_and_other_objects_as_json_writes_them() -> None:
    value = {
        "severity": _Level.ERROR,
        "count": _Count.ONE,
        "numpy": np.float64(0.1),
        "path": object.__new__(_Path),
        1: "int key",
        2.5: "float key",
        False: "bool key",
        None: "null key",
        "text": 'caf\u00e9 \u2192 \x00 "quoted"\n',
        "empty": [[], {}, ()],
    }
    assert dumps(value) == _reference(value)


class _Path:
    def __str__(self) -> str:
        return "runs/a"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_non_finite_numbers_are_refused_as_json_refuses_them(bad: float) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        _reference({"v": [bad]})
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps({"v": [bad]})
