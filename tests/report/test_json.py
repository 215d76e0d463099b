"""The JSON reporter's own encoder writes exactly what `json.dumps(indent=2)` writes."""

from __future__ import annotations

import enum
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logscope.model import Severity
from logscope.report import Layout
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


def _sample_document() -> tuple[object, list[object]]:
    from logscope.pipeline import check, load_packs
    from logscope.report import ConfigUsed, Document

    result = check([SAMPLES, SAMPLES / "no such run"], load_packs())
    doc = Document(
        reports=result.reports,
        fail_on=Severity.ERROR,
        errors=result.errors,
        config=ConfigUsed(file="logscope.yaml", ignored=("runs/a/logscope.yaml",)),
    )
    return doc, list(result.reports)


SAMPLES = Path(__file__).resolve().parent.parent.parent / "sample_logs"


@pytest.mark.parametrize("sizes", [[], [1], [3, 0, 5], [100]])
def test_a_document_streamed_in_batches_is_the_document(sizes: list[int]) -> None:
    """The JSON a sweep writes batch by batch is, byte for byte, the one rendered whole:
    no run, one, several batches (an empty one among them), all at once."""
    from logscope.report import Document
    from logscope.report.json import Stream, render

    doc, reports = _sample_document()
    assert isinstance(doc, Document)
    taken = reports[: sum(sizes)]
    whole = Document(reports=taken, fail_on=doc.fail_on, errors=doc.errors, config=doc.config)
    pieces: list[str] = []
    stream = Stream(pieces.append, doc.fail_on)
    start = 0
    for size in sizes:
        stream.batch(taken[start : start + size])
        start += size
    stream.close(doc.errors, doc.config)
    text = "".join(pieces)
    assert text == render(whole, Layout())
    assert len(json.loads(text)["runs"]) == len(taken)
