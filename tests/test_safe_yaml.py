"""YAML alias bombs and deep nesting are refused, in every YAML file logscope reads."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from logscope import safe_yaml
from logscope.errors import RulePackError
from logscope.rules.spec import load_pack


def bomb(levels: int = 9) -> str:
    """The billion-laughs shape: 9 levels of 9 aliases = 9**9 values from ~300 bytes."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_bomb_is_refused_quickly_with_its_place() -> None:
    start = time.perf_counter()
    with pytest.raises(yaml.YAMLError) as info:
        safe_yaml.load(bomb())
    assert time.perf_counter() - start < 1
    assert "alias bomb" in str(info.value) and info.value.problem_mark is not None  # type: ignore[attr-defined]


def test_recursive_aliases_and_deep_nesting_are_refused() -> None:
    with pytest.raises(yaml.YAMLError, match="recursive alias"):
        safe_yaml.load("a: &a [1, *a]")
    with pytest.raises(yaml.YAMLError, match="nested more than"):
        safe_yaml.load("[" * (safe_yaml.MAX_DEPTH + 5) + "]" * (safe_yaml.MAX_DEPTH + 5))


def test_ordinary_aliases_still_load() -> None:
    assert safe_yaml.load("base: &b {x: 1}\nother: *b\n") == {"base": {"x": 1}, "other": {"x": 1}}
    assert safe_yaml.load("") is None


def test_a_bomb_in_a_rule_file_names_file_line_col(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(bomb() + "pack: my\nrules: []\n")
    with pytest.raises(RulePackError) as info:
        load_pack(path)
    (error,) = info.value.errors
    assert error.startswith(f"{path}:") and "alias bomb" in error


def test_rules_test_refuses_a_bomb_at_once(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "my.test.yaml"
    path.write_text(bomb() + "rule_files: []\ntests: []\n")
    start = time.perf_counter()
    result = cli(["rules", "test", path], exit_code=2)
    assert time.perf_counter() - start < 5
    assert "alias bomb" in result.stderr


def test_a_bomb_in_an_mlflow_meta_yaml_is_reported_and_the_metrics_read(tmp_path: Path) -> None:
    import logscope

    folder = tmp_path / "mlruns" / "0" / "abc"
    (folder / "metrics").mkdir(parents=True)
    (folder / "meta.yaml").write_text("run_id: abc\nlifecycle_stage: active\n" + bomb())
    (folder / "metrics" / "loss").write_text("1 0.5 1\n2 0.4 2\n")
    start = time.perf_counter()
    run = logscope.read(tmp_path / "mlruns")
    assert time.perf_counter() - start < 5
    assert run.frame.get_column("loss").to_list() == [0.5, 0.4]
    assert any("meta.yaml unreadable" in str(problem) for problem in run.problems)
