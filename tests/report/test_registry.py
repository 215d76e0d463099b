"""REPORTERS is the one list of formats: the CLI offers exactly its keys, each entry renders,
and commands that render something else (explain) accept only what they can render."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from logscope.report import REPORTERS, Document, Layout

CLI = Path(__file__).resolve().parents[2] / "logscope" / "cli"


@pytest.mark.parametrize("command", ["check", "diff"])
def test_the_cli_offers_exactly_the_registered_formats(  # type: ignore[no-untyped-def]
    cli, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # the choices on one line
    text = cli([command, "--help"]).stdout
    offered = re.search(r"\[(table\|[a-z|]+)\]", text)
    assert offered, text
    assert offered.group(1).split("|") == list(REPORTERS)


def test_no_format_name_chains_in_the_cli() -> None:
    for module in CLI.glob("*.py"):
        text = module.read_text()
        assert not re.search(r"fmt\s*==|format\s*==|\bis OutputFormat\.", text), module.name
        assert '"junit"' not in text and '"markdown"' not in text, module.name


@pytest.mark.parametrize("name", list(REPORTERS))
def test_every_reporter_renders_an_empty_check(name: str) -> None:
    reporter = REPORTERS[name]
    assert callable(importlib.import_module(f"logscope.report.{reporter.module}").render)
    text = reporter.render(Document(reports=[], fail_on=None), Layout())
    assert isinstance(text, str)
    if name == "json":
        assert json.loads(text)["runs"] == []


def test_a_new_reporter_is_one_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the registry asks of a format module: render(doc, layout) -> str."""
    from logscope import report
    from logscope.report import Reporter

    monkeypatch.setattr(
        report,
        "REPORTERS",
        {**REPORTERS, "count": Reporter("json", "the JSON contract, again")},
    )
    text = report.render("count", Document(reports=[], fail_on=None, errors=["x: unreadable"]))
    assert json.loads(text)["errors"] == ["x: unreadable"]


def test_every_format_through_the_cli(cli, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in REPORTERS:
        target = tmp_path / f"report.{name}"
        out = cli(["check", samples / "hf_output", "-f", name, "-o", target]).stdout
        assert "hf_output  PASS" in out  # the table still shows
        assert target.read_text().strip()


def test_diff_renders_machine_formats_and_the_side_by_side_table(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    run = samples / "kto_healthy"
    table = cli(["diff", run, run]).stdout
    assert "baseline final" in table
    doc = json.loads(cli(["diff", run, run, "-f", "json"]).stdout)
    assert [r["status"] for r in doc["runs"]] == ["pass"]


def test_explain_accepts_only_what_it_can_render(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["explain", "rewards/margins", "--format", "junit"], exit_code=2)
    assert "junit" in result.output and "is not one of" in result.output
    found = json.loads(cli(["explain", "rewards/margins", "--format", "json"]).stdout)
    assert found[0]["metric"] == "rewards/margins"
