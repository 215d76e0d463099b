"""Random rule text never crashes the parsers: only their documented errors come out, and
the linear-time pattern matcher gives the same verdicts as a regular expression would."""

from __future__ import annotations

import re

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from logscope.rules import aliases, where
from logscope.rules.template import TemplateError, parse, render

WORDS = [" AND ", " OR ", " NOT ", " IN ", " IS ", " NULL ", " SELECT ", " BETWEEN "]
WHERE_ALPHABET = st.sampled_from(
    [*"abc_\"' ()=<>!+-*/%,.0123456789$;", *WORDS, "abs(", "read_csv("]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(WHERE_ALPHABET, max_size=30).map("".join))
def test_random_conditions_parse_or_are_refused(text: str) -> None:
    frame = pl.DataFrame({"step": [1, 2], "a": [1.0, None], "b": [0, 2], "abc": ["x", "y"]})
    try:
        where.parse(text)
    except where.WhereError as exc:
        assert 0 <= exc.offset <= max(len(text), where.MAX_LENGTH)
        return
    result = where.rows(text, frame)
    assert isinstance(result, str) or result.shape == (2,)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}:.![]0ab_ %fgr>")), max_size=25))
def test_random_templates_parse_or_are_refused(text: str) -> None:
    try:
        pieces = parse(text)
    except TemplateError as exc:
        assert 0 <= exc.offset <= len(text)
        return
    assert isinstance(render(text, {"a": 1.5, "b": None, "ab": "x"}), str)
    assert len(pieces) <= len(text)


def _regex(pattern: str) -> re.Pattern[str]:
    """The old matcher's semantics: `*` = [^/]*, `{name}` = [^/]+, the rest literal."""
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\}|\*)", pattern)
    out = []
    for part in parts:
        if part == "*":
            out.append(r"[^/]*")
        elif part.startswith("{") and part.endswith("}"):
            out.append(r"[^/]+")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


PATTERN = st.lists(st.sampled_from(["a", "b", "/", "*", "{x}", "{y}", "_", "ab"]), max_size=6)


@settings(max_examples=600, deadline=None)
@given(PATTERN.map("".join), st.text(alphabet="ab/_", max_size=10))
def test_the_matcher_agrees_with_a_regex(pattern: str, key: str) -> None:
    if aliases.check_pattern(pattern):  # a capture name used twice: refused at load
        assert aliases.captures(pattern) == []
        return
    expected = _regex(pattern).fullmatch(key) is not None
    caps = aliases._fullmatch(pattern, key)
    assert (caps is not None) == expected
    if caps is not None:  # every capture is filled, and each stays within one segment
        assert set(caps) == set(aliases.captures(pattern))
        assert all(value and "/" not in value for value in caps.values())
