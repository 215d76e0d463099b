"""Metric patterns: globs and {captures} matched in linear time; never regular expressions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from series import make_run

from logscope.errors import RulePackError
from logscope.rules import aliases, engine
from logscope.rules.spec import load_pack


def test_captures_and_globs() -> None:
    pattern = "eval/{taskset}/accuracy/mean@{k}"
    assert aliases.match(pattern, "eval/gsm8k/accuracy/mean_at_4") == {"taskset": "gsm8k", "k": "4"}
    assert aliases.match("actor/*_loss", "actor/pg_loss") == {}
    assert aliases.match("actor/*_loss", "actor/x/pg_loss") is None  # `*` stays in a segment
    assert aliases.match("a{x}a", "aa") is None  # a capture takes at least one character
    assert aliases.match("{x}_{y}", "a_b_c") == {"x": "a", "y": "b_c"}


def test_metric_names_are_literal_not_regex() -> None:
    assert aliases.match("^x_loss$", "^x_loss$") == {}
    assert aliases.match("x.loss", "xyloss") is None
    assert aliases.match("loss+", "losss") is None
    assert aliases.match("(a|b)", "a") is None


@pytest.mark.parametrize(
    "pattern",
    ["*a" * 30 + "*b", "".join(f"{{c{i}}}" for i in range(12)) + "b", "*" * 200 + "b"],
)
def test_hostile_patterns_finish_at_once(pattern: str) -> None:
    key = "a" * 60
    start = time.perf_counter()
    for _ in range(100):
        assert aliases.match(pattern, key) is None
    assert time.perf_counter() - start < 0.5  # the regex took > 90 s for one match


def test_a_regex_like_key_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(
        "pack: my\nrules:\n  - id: my/x\n    severity: error\n    metric: '^x_loss$'\n"
        "    check: threshold\n    op: '>'\n    value: 3\n    message: '{metric} {value}'\n"
        "    advice: a\n    source: b\n"
    )
    run = make_run({"^x_loss$": [1, None, 5], "x_loss": [9, 9, 9]})  # a gap: a null
    report = engine.evaluate(run, [load_pack(path)])
    assert [(f.metric, f.step) for f in report.findings] == [("^x_loss$", 3)]


@pytest.mark.parametrize(
    ("metric", "problem"),
    [
        ("eval/{task", "'{' in metric pattern"),
        ("a}b", "'}' in metric pattern"),
        ("{a}/{a}", "capture {a} appears twice"),
        ("{a.b}", "'{a.b}' in metric pattern"),
    ],
)
def test_bad_patterns_are_refused_at_load(tmp_path: Path, metric: str, problem: str) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(
        "pack: my\nrules:\n  - id: my/x\n    severity: error\n"
        f"    metric: '{metric}'\n    check: threshold\n    op: '>'\n    value: 3\n"
        "    message: '{metric}'\n    advice: a\n    source: b\n"
    )
    with pytest.raises(RulePackError) as info:
        load_pack(path)
    assert any(
        e.startswith(f"{path}:5:5: rule 'my/x': ") and problem in e for e in info.value.errors
    )
