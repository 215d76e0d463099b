"""Hostile names through every reporter: a run folder and a metric key holding a newline, a
GitHub workflow command, an ANSI escape, NUL, U+202E, Rich markup and a script tag must come
out visible and inert in every format REPORTERS lists (a new reporter is tested here too)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from logscope.report import REPORTERS
from logscope.report.text import github_data, github_property, markdown_cell, safe

HERE = Path(__file__).parent
FOLDER = "run\n::error file=x::pwned \x1b[31m \u202e [bold]red <script>alert(1)"
KEY = "\n::error file=x::pwned\x1b[31m\x00\u202e[bold]<script>alert(1)<x>loss"
# what must never reach any output as it is
RAW = ("\x1b[31m\x00", "\x1b[31m ", "\u202e", "\x00")


@pytest.fixture
def hostile(tmp_path: Path) -> list[Path]:
    """A run whose folder and metric key are hostile (the loss goes NaN: one finding), and
    an unreadable file in a hostile folder (an input error every format lists)."""
    run = tmp_path / FOLDER
    run.mkdir()
    rows = [{"step": s, KEY: "NaN" if s == 4 else 1.0 / s} for s in range(1, 8)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    broken = tmp_path / (FOLDER + " 2")
    broken.mkdir()
    (broken / "metrics.jsonl").write_bytes(b"\x00\x1b[2J not a log")
    return [run, broken]


def _no_command_line(text: str) -> None:
    """GitHub's runner takes a line that starts with `::` after indentation as a command."""
    for line in text.splitlines():
        assert not line.lstrip().startswith("::error file=x"), line


@pytest.mark.parametrize("fmt", list(REPORTERS))
def test_every_format_shows_hostile_text_inert(cli, hostile: list[Path], fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", *hostile, "-f", fmt], exit_code=2).stdout
    for raw in RAW:
        assert raw not in out, (fmt, raw)
    _no_command_line(out)
    if fmt == "gitlab":  # JSON too: the visible escapes are in the texts it holds
        out = "\n".join(issue["description"] for issue in json.loads(out))
    if fmt != "json":  # JSON keeps the key exactly, in JSON's own escapes (checked below)
        assert "\\x1b[31m\\x00\\u202e" in out.replace("\\[", "[")


def test_table_shows_markup_and_escapes_as_text(cli, hostile: list[Path]) -> None:  # type: ignore[no-untyped-def]
    for args in ([], ["-q"], ["--color", "always"], ["--summary"]):
        out = cli(["check", *hostile, *args], exit_code=2).stdout
        assert "[bold]red" in out, args  # Rich markup is not applied
        assert "\u202e" not in out and "\x00" not in out
        assert "\x1b[31m " not in out  # the run folder's own escape, not Rich's colours
        _no_command_line(out)


@pytest.mark.parametrize("command", ["metrics", "diff"])
def test_metrics_and_diff_tables_escape_too(cli, hostile: list[Path], command: str) -> None:  # type: ignore[no-untyped-def]
    run = hostile[0]
    out = cli([command, run] if command == "metrics" else [command, run, run]).stdout
    assert "\\x1b[31m\\x00\\u202e[bold]" in out  # the key, visible (folded or not)
    for raw in RAW:
        assert raw not in out, raw
    _no_command_line(out)


def test_in_github_actions_the_table_cannot_issue_commands(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A terminal can wrap the `::` of a long key to the start of a line: commands are off
    around the table (off a terminal the table is not wrapped at all, issue 16)."""
    key = "loss " + "x" * 70 + " ::error file=x::pwned"
    log = tmp_path / "m.jsonl"
    log.write_text(
        "".join(json.dumps({"step": s, key: [1.0, "NaN"][s == 2]}) + "\n" for s in (1, 2))
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    out = cli(["check", log], exit_code=1).stdout
    lines = out.splitlines()
    assert lines[0].startswith("::stop-commands::")
    token = lines[0].removeprefix("::stop-commands::")
    assert len(token) == 32 and token not in key
    assert lines[-1] == f"::{token}::"
    inside = lines[1:-1]
    assert any("::error file=x::pwned" in line for line in inside)
    assert not any(line.lstrip().startswith("::error") for line in inside)
    assert cli(["check", log, "-qq"], exit_code=1).stdout == ""


def test_github_annotations_stay_one_per_finding(cli, hostile: list[Path]) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", *hostile, "-f", "github"], exit_code=2).stdout
    lines = out.splitlines()
    # per run its verdict first (issue 16), then the finding; then the unreadable input
    assert len(lines) == 4
    assert lines[0].startswith("::error title=logscope verdict (")
    assert lines[1].startswith("::error title=logscope (common/loss-nonfinite),file=")
    assert "/run\\n%3A%3Aerror file=x%3A%3Apwned \\x1b[31m \\u202e [bold]red" in lines[1]
    assert lines[2].startswith("::") and "logscope verdict (" in lines[2]
    assert lines[3].startswith("::error title=logscope (unreadable input)::")
    assert all(line.count("::") >= 2 for line in lines)


def test_junit_stays_valid_xml(cli, hostile: list[Path]) -> None:  # type: ignore[no-untyped-def]
    import xmlschema

    out = cli(["check", *hostile, "-f", "junit"], exit_code=2).stdout
    xmlschema.XMLSchema(HERE / "junit-10.xsd").validate(out)
    root = ET.fromstring(out)
    failure = next(root.iter("failure"))
    assert "\\x00\\u202e[bold]<script>" in failure.get("message", "")
    error = next(root.iter("error"))
    assert "\\x00\\x1b[2J" in error.get("message", "")


def test_json_keeps_the_exact_key_and_stays_ascii(cli, hostile: list[Path]) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", *hostile, "-f", "json"], exit_code=2).stdout
    assert out.isascii()
    doc = json.loads(out)
    (finding,) = doc["runs"][0]["findings"]
    assert finding["metric"] == KEY  # the machine format is lossless


def test_html_shows_bidi_overrides_and_runs_no_script(cli, hostile: list[Path]) -> None:  # type: ignore[no-untyped-def]
    page = cli(["check", *hostile, "-f", "html"], exit_code=2).stdout
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page
    assert "\u202e" not in page
    assert "\\u202e" in page  # shown, not applied
    assert page.count("<script") == 3  # the figure data, plotly.js, the drawing code


def test_markdown_cells_stay_in_their_row(cli, hostile: list[Path]) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", *hostile, "-f", "markdown"], exit_code=2).stdout
    rows = [line for line in out.splitlines() if "pwned" in line]
    # table rows, headings, and the verdict/incident lines of issue 16: one line each
    assert rows and all(line.startswith(("|", "###", "**", "- ", "  - ")) for line in rows)
    assert "<script>" not in out and "&lt;script&gt;" in out


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\tb", "a\\r\\tb"),
        ("\x1b[2J\x07\x00\x7f\x85", "\\x1b[2J\\x07\\x00\\x7f\\x85"),
        ("abc\u202edef\u2066\u200f", "abc\\u202edef\\u2066\\u200f"),
        ("line\u2028sep", "line\\u2028sep"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("grad_norm/µ é 日本 🙂", "grad_norm/µ é 日本 🙂"),  # ordinary text is kept
    ],
)
def test_safe_makes_one_visible_line(text: str, shown: str) -> None:
    assert safe(text) == shown
    safe(text).encode("utf-8")  # always writable


def test_format_escapes_start_from_safe() -> None:
    assert markdown_cell("a|b\n<i>*x*</i>") == "a\\|b\\n&lt;i&gt;\\*x\\*&lt;/i&gt;"
    assert github_property("a:b,c\n%") == "a%3Ab%2Cc\\n%25"
    assert github_data("50%\nnext") == "50%25%0Anext"
