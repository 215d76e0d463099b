"""Settings you can see: `check --show-settings`, and the config file named in reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

RUN = "kto_diverging"


@pytest.fixture
def project(tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with a logscope.yaml and a run folder that carries its own (ignored)."""
    shutil.copytree(samples / RUN, tmp_path / "run")
    (tmp_path / "logscope.yaml").write_text(
        "select: [kto, common]\n"
        "ignore: [kto/stage-target-loss]\n"
        'set: ["kto/grad-norm-high.value=200"]\n'
        "rules: [team.yaml]\n"
    )
    (tmp_path / "team.yaml").write_text(
        "pack: team\nrules:\n  - id: team/loss-high\n    severity: warning\n"
        '    metric: loss\n    check: threshold\n    op: ">"\n    value: 10\n'
        '    message: "loss {value} high"\n    advice: "look"\n    source: "team notes"\n'
    )
    (tmp_path / "run" / "logscope.yaml").write_text("ignore: [kto]\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_show_settings_prints_what_applies_without_reading_runs(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "run" / "logs" / "training_metrics.jsonl").write_text("not a log\n")
    result = cli(["check", "run", "--show-settings", "--set", "kto/kl-low.severity=info"])
    lines = result.stdout.splitlines()
    assert lines[0] == "config      logscope.yaml"
    assert (
        "ignored     run/logscope.yaml (inside the run folders: data, not configuration)" in lines
    )
    assert "rule file   team.yaml (from logscope.yaml)" in lines
    assert "set         kto/grad-norm-high.value=200 (from logscope.yaml)" in lines
    assert "set         kto/kl-low.severity=info (from --set)" in lines
    assert "select      common, kto (from logscope.yaml)" in lines
    assert "ignore      kto/stage-target-loss (from logscope.yaml)" in lines
    # the team pack is loaded but the selection leaves it nothing: packs in force say so
    packs = {line.split()[0]: line for line in lines if line.startswith("  ") and "rules" in line}
    assert set(packs) == {"common", "kto"}
    from logscope.rules.load import load_builtin

    kto = next(len(p.rules) for p in load_builtin() if p.name == "kto")
    assert f"{kto - 1}/{kto}" in packs["kto"] and "if detected" in packs["kto"]
    assert "team" in lines[-1] and lines[-1].startswith("  off by select/ignore:")
    assert "not a log" not in result.stdout + result.stderr  # the run was never read


def test_show_settings_json_and_command_line_wins(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", "--show-settings", "-f", "json", "--select", "team"]).stdout
    info = json.loads(out)
    assert info["config"] == {"file": "logscope.yaml", "ignored": []}
    assert info["select"] == {"names": ["team"], "from": "--select"}
    assert info["ignore"]["from"] == "logscope.yaml"
    in_force = {p["name"]: p for p in info["packs"] if p["rules"]}
    assert list(in_force) == ["team"] and in_force["team"]["applies"] == "always"
    assert info["rule_files"] == [{"path": "team.yaml", "from": "logscope.yaml"}]


def test_show_settings_isolated_and_errors(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", "--show-settings", "--isolated"]).stdout
    assert out.startswith("config      none")
    assert "select" not in out and "rule file" not in out
    typo = cli(["check", "--show-settings", "--select", "kot"], exit_code=2)
    assert "did you mean 'kto'?" in typo.stderr
    assert "name at least one run" in cli(["check"], exit_code=2).stderr


def test_reports_name_the_config_applied_and_ignored(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(cli(["check", "run", "-f", "json"], exit_code=1).stdout)
    assert doc["config"] == {"file": "logscope.yaml", "ignored": ["run/logscope.yaml"]}
    assert doc["runs"][0]["findings"]  # the ignored `ignore: [kto]` did not apply
    table = cli(["check", "run"], exit_code=1).stdout
    assert "config   logscope.yaml" in table
    isolated = json.loads(cli(["check", "run", "-f", "json", "--isolated"], exit_code=1).stdout)
    assert isolated["config"]["file"] is None
    assert "config " not in cli(["check", "run", "--isolated"], exit_code=1).stdout


def test_pyproject_table_is_named(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "logscope.yaml").unlink()
    (project / "pyproject.toml").write_text('[tool.logscope]\nselect = ["kto"]\n')
    info = json.loads(cli(["check", "--show-settings", "-f", "json"]).stdout)
    assert info["config"]["file"] == "pyproject.toml [tool.logscope]"
    assert info["select"] == {"names": ["kto"], "from": "pyproject.toml [tool.logscope]"}
