"""Message templates cannot reach Python: only named fields with format specs load."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rule_text import GOOD_RULE
from series import make_run

from logscope.errors import RulePackError
from logscope.rules import engine
from logscope.rules.spec import load_pack
from logscope.rules.template import TemplateError, parse, render

RULE = "pack: my\nrules:\n" + GOOD_RULE.replace(
    "{metric} is {value:.2f} at step {step}", "{metric} is high: MESSAGE"
)

# the attack strings: attribute walks to the interpreter, indexing, conversions
ATTACKS = [
    "{value.__class__.__init__.__globals__}",
    "{metric.__class__.__mro__[1].__subclasses__}",
    "{value.__class__}",
    "{step.real}",
    "{metric[0]}",
    "{value!r}",
    "{metric!a}",
    "{0}",
    "{}",
    "{value:{metric}}",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_forbidden_field_is_refused_at_load_with_file_line_col(
    tmp_path: Path, attack: str
) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(RULE.replace("MESSAGE", attack))
    with pytest.raises(RulePackError) as info:
        load_pack(path)
    # `    message: "{metric} is high: ` puts the attack at column 14 + 1 + 18
    column = len('    message: "{metric} is high: ') + 1
    assert info.value.errors == [info.value.errors[0]]
    assert info.value.errors[0].startswith(f"{path}:9:{column}: rule 'my/loss-high': message has a")


def test_rules_check_reports_the_forbidden_field(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "pack.yaml"
    path.write_text(RULE.replace("MESSAGE", "{value.__class__.__init__.__globals__[environ]}"))
    result = cli(["rules", "check", path], exit_code=2)
    assert f"{path}:9:33: rule 'my/loss-high': message has a forbidden field" in result.stderr
    assert "environ" in result.stderr and "Traceback" not in result.stderr


def test_a_template_never_reaches_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a template that skipped loading is shown as written, never evaluated."""
    monkeypatch.setenv("LOGSCOPE_SECRET_FOR_TEST", "s3cr3t")
    for attack in ATTACKS:
        template = attack + " {value.__class__.__init__.__globals__[environ]}"
        assert render(template, {"value": 1.0, "metric": "loss", "step": 1}) == template
    assert os.environ["LOGSCOPE_SECRET_FOR_TEST"] == "s3cr3t"


def test_named_fields_and_specs_render() -> None:
    fields = {"metric": "loss", "value": 3.14159, "step": 7, "limit": None}
    assert render("{metric} {value:.2f} at {step} ({limit:.1%})", fields) == "loss 3.14 at 7 (n/a)"
    assert render("{{literal}} {metric:>6}", fields) == "{literal}   loss"
    assert render("{unknown} stays", fields) == "{unknown} stays"
    assert render("{metric:.2f}", fields) == "loss"  # a text under a number spec: shown plainly
    import numpy as np

    assert render("{a:.1%} {b:03d}", {"a": np.float32(0.25), "b": np.int64(7)}) == "25.0% 007"
    assert render("{a}", {"a": [0.1, 0.5]}) == "[0.1, 0.5]"


def test_the_offset_points_at_the_field() -> None:
    with pytest.raises(TemplateError) as info:
        parse("ok {{x}} {value} and {value.real}")
    assert info.value.offset == len("ok {{x}} {value} and ")


def test_findings_use_the_safe_formatter(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(RULE.replace("MESSAGE", "{value:.1f} at {step}"))
    pack = load_pack(path)
    report = engine.evaluate(make_run({"loss": [1, 5, 1]}), [pack])
    assert [f.message for f in report.findings] == ["loss is high: 5.0 at 2"]
