"""Broken rule files: every problem is reported with file:line:col, the rule id and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from rule_text import GOOD_RULE

from logscope.errors import RulePackError
from logscope.rules.spec import load_builtin, load_files, load_pack


def write(tmp_path: Path, text: str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(RulePackError) as info:
        load_pack(path)
    return info.value.errors


def test_a_valid_pack_loads(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, "pack: my\nrules:\n" + GOOD_RULE))
    assert [r.id for r in pack.rules] == ["my/loss-high"]
    assert pack.rules[0].params.value == 3.0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("value: 3", "vaule: 3"),
            ":8:5: rule 'my/loss-high': unknown key 'vaule' for check 'threshold' (expected: op, value, for_steps)",
        ),
        (
            ("check: threshold", "check: plateau"),
            ":6:5: rule 'my/loss-high': unknown check 'plateau' (known: ",
        ),
        (
            ("severity: error", "severity: fatal"),
            ":4:5: rule 'my/loss-high': severity 'fatal' is not one of info, warning, error",
        ),
        (
            ('op: ">"', 'op: "=>"'),
            ":7:5: rule 'my/loss-high': 'op' must be one of '<', '<=', '>', '>=', got '=>'",
        ),
        (
            ("value: 3", "value: high"),
            ":8:5: rule 'my/loss-high': 'value' must be a number, got 'high'",
        ),
        (
            ("{step}", "{steps}"),
            ":9:47: rule 'my/loss-high': message uses {steps}, which check 'threshold' does not provide",
        ),
        (('    source: "my notes"\n', ""), ": rule 'my/loss-high': 'source' is required (a text)"),
        (
            ("value: 3", "value: 3\n    where: 'loss >>> 2'"),
            ":9:19: rule 'my/loss-high': 'where' is not a valid condition: expected a column",
        ),
        (
            ("value: 3", "value: 3\n    after_step: ten"),
            ":9:5: rule 'my/loss-high': 'after_step' must be a whole number",
        ),
        (
            ("{value:.2f}", "{value:.2q}"),
            ":9:27: rule 'my/loss-high': message has a bad format spec in {value:.2q}",
        ),
    ],
)
def test_each_mistake_names_file_line_rule_and_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = write(tmp_path, "pack: my\nrules:\n" + GOOD_RULE.replace(*change))
    errors = errors_of(path)
    assert any(e.startswith(str(path)) and expected in e for e in errors), errors


def test_all_errors_are_collected_not_just_the_first(tmp_path: Path) -> None:
    text = "pack: my\nrules:\n" + GOOD_RULE.replace("vaule", "x").replace(
        "value: 3", "vaule: 3"
    ).replace("severity: error", "severity: loud")
    assert len(errors_of(write(tmp_path, text))) >= 3


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "pack: my\nrules:\n  - id: [unclosed\n")
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:") and "invalid YAML" in error


def test_unknown_top_level_key_and_duplicate_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "pack: my\nrulez: []\nrules:\n" + GOOD_RULE + GOOD_RULE)
    errors = errors_of(path)
    assert any("unknown key 'rulez'" in e for e in errors)
    assert any("rule id 'my/loss-high' is used twice" in e for e in errors)


def test_not_a_mapping(tmp_path: Path) -> None:
    assert "a rule pack is a mapping" in errors_of(write(tmp_path, "- just\n- a list\n"))[0]


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = write(tmp_path, "pack: !!python/object/apply:os.system ['echo owned']\nrules: []\n")
    assert "invalid YAML" in errors_of(path)[0]


def test_check_specific_validation(tmp_path: Path) -> None:
    rule = GOOD_RULE.replace("check: threshold", "check: range").replace(
        '    op: ">"\n    value: 3\n', ""
    )
    errors = errors_of(write(tmp_path, "pack: my\nrules:\n" + rule))
    assert any("range needs 'min', 'max' or both" in e for e in errors)


def test_the_same_rule_id_in_two_files(tmp_path: Path) -> None:
    a = write(tmp_path, "pack: a\nrules:\n" + GOOD_RULE, "a.yaml")
    b = write(tmp_path, "pack: b\nrules:\n" + GOOD_RULE, "b.yaml")
    with pytest.raises(RulePackError) as info:
        load_files([a, b])
    assert "also defined in" in info.value.errors[0]


def test_captures_are_template_fields(tmp_path: Path) -> None:
    rule = GOOD_RULE.replace("metric: loss", "metric: 'eval/{taskset}/accuracy/mean@{k}'").replace(
        "{metric} is", "{taskset} at k={k} is"
    )
    pack = load_pack(write(tmp_path, "pack: my\nrules:\n" + rule))
    assert pack.rules[0].metric == "eval/{taskset}/accuracy/mean@{k}"


def test_builtin_packs_load_and_are_shipped_as_data() -> None:
    names = {p.name for p in load_builtin()}
    assert {"common", "kto"} <= names
