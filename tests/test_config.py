"""Configuration is trusted, data is not: logscope.yaml comes from the working directory
(and its parents) or --config, never from the run folders being checked."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from logscope.config import find_config, project_config, untrusted_configs
from logscope.errors import RulePackError

DIVERGING = "kto_diverging"

# what a pull request could add next to its run: switch every check off, and add a rule
# whose message tries to print the CI job's environment
HOSTILE_CONFIG = "ignore: [common, kto]\nrules: [steal.yaml]\n"
STEAL = """\
pack: steal
rules:
  - id: steal/env
    severity: error
    metric: loss
    check: threshold
    op: ">"
    value: -1e9
    message: "{value.__class__.__init__.__globals__[os].environ}"
    advice: a
    source: b
"""


@pytest.fixture
def hostile_run(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    run = tmp_path / "repo" / "runs" / "evil"
    shutil.copytree(samples / DIVERGING, run)
    (run / "logscope.yaml").write_text(HOSTILE_CONFIG)
    (run / "steal.yaml").write_text(STEAL)
    monkeypatch.chdir(tmp_path / "repo")
    return run


def test_a_config_in_the_run_folder_is_ignored_and_named(cli, hostile_run: Path) -> None:  # type: ignore[no-untyped-def]
    for target in (hostile_run, hostile_run.parent):  # the run itself, or a sweep holding it
        result = cli(["check", target, "-f", "json"], exit_code=1)
        rules = {f["rule"] for run in json.loads(result.stdout)["runs"] for f in run["findings"]}
        assert "kto/kl-high" in rules and "steal/env" not in rules
        assert f"note: {hostile_run / 'logscope.yaml'}: a configuration inside" in result.stderr


def test_a_config_in_the_working_directory_is_read(  # type: ignore[no-untyped-def]
    cli, hostile_run: Path
) -> None:
    (hostile_run.parents[1] / "logscope.yaml").write_text("ignore: [kto]\n")
    result = cli(["check", hostile_run, "-f", "json"], exit_code=1)
    rules = {f["rule"] for f in json.loads(result.stdout)["runs"][0]["findings"]}
    assert rules and not any(r.startswith("kto/") for r in rules)


def test_config_file_and_isolated(cli, hostile_run: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (hostile_run.parents[1] / "logscope.yaml").write_text("ignore: [kto]\n")
    chosen = tmp_path / "ci.yaml"
    chosen.write_text("select: [kto/kl-high]\n")
    args = ["check", hostile_run, "--fail-on", "warning", "-f", "json"]
    doc = json.loads(cli([*args, "--config", chosen], exit_code=1).stdout)
    assert {f["rule"] for f in doc["runs"][0]["findings"]} == {"kto/kl-high"}
    doc = json.loads(cli([*args, "--isolated"], exit_code=1).stdout)
    assert any(f["rule"].startswith("kto/") for f in doc["runs"][0]["findings"])
    result = cli(["check", hostile_run, "--config", chosen, "--isolated"], exit_code=2)
    assert "--config and --isolated exclude each other" in result.stderr
    result = cli(["check", hostile_run, "--config", tmp_path / "nope.yaml"], exit_code=2)
    assert "nope.yaml: no such file" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("select: [kto\nignore: x\n", ":2:7: invalid YAML in the project configuration"),
        ("sett: []\n", ":1:1: unknown key 'sett'; did you mean 'set'"),
        ("select: [kto/kl-hgh]\n", ": select kto/kl-hgh: no such rule or pack; did you mean"),
        ("ignore: commn\n", ": ignore commn: no such rule or pack; did you mean 'common'?"),
        ("pack: [kot]\n", ": pack kot: no such pack; did you mean 'kto'?"),
        ("set: ['kto/kl-hihg.value=2']\n", "no rule 'kto/kl-hihg' (nor pack); did you mean"),
    ],
)
def test_mistakes_in_the_config_exit_2_with_the_place(  # type: ignore[no-untyped-def]
    cli, hostile_run: Path, text: str, expected: str
) -> None:
    config = hostile_run.parents[1] / "logscope.yaml"
    config.write_text(text)
    result = cli(["check", hostile_run], exit_code=2)
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_an_alias_bomb_in_the_config_is_refused(cli, hostile_run: Path) -> None:  # type: ignore[no-untyped-def]
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    (hostile_run.parents[1] / "logscope.yaml").write_text("\n".join(lines) + "\n")
    result = cli(["check", hostile_run], exit_code=2)
    assert "alias bomb" in result.stderr and "logscope.yaml:" in result.stderr


def test_only_the_working_directory_and_its_parents_are_searched(tmp_path: Path) -> None:
    (tmp_path / "runs" / "a").mkdir(parents=True)
    (tmp_path / "runs" / "a" / "logscope.yaml").write_text("ignore: [kto]\n")
    assert find_config(tmp_path) is None
    (tmp_path / "logscope.yaml").write_text("ignore: [common]\n")
    assert find_config(tmp_path / "runs") == tmp_path / "logscope.yaml"
    found = untrusted_configs([tmp_path / "runs"], tmp_path, tmp_path / "logscope.yaml")
    assert found == [(tmp_path / "runs" / "a" / "logscope.yaml").resolve()]


def test_outside_the_working_directory_the_whole_chain_is_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "data" / "run").mkdir(parents=True)
    (tmp_path / "data" / "logscope.yaml").write_text("ignore: [kto]\n")
    monkeypatch.chdir(tmp_path / "work")
    config = project_config([tmp_path / "data" / "run"])
    assert config.path is None and config.ignore is None
    assert len(config.notes) == 1 and str(tmp_path / "data" / "logscope.yaml") in config.notes[0]


def test_a_pyproject_table_is_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.logscope]\nselect = ["kto"]\n')
    monkeypatch.chdir(tmp_path)
    config = project_config([tmp_path / "runs"])
    assert config.select == "kto" and str(config.path).endswith("[tool.logscope]")
    with pytest.raises(RulePackError):
        project_config([], config_file=tmp_path / "missing.yaml")


def test_a_pyproject_naming_the_table_in_a_comment_only_is_not_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n  # see [tool.logscope] in the docs\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "tomllib", None)  # parsing would raise ImportError
    assert project_config([tmp_path / "runs"]).path is None
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    pyproject.write_text('# [tool.logscope] below\n[tool.logscope]\nselect = ["kto"]\n')
    assert project_config([tmp_path / "runs"]).select == "kto"
