"""Machine formats: golden files per format, JUnit against its schema, escaping of hostile
text, and the CI conveniences (--output keeps the table, $GITHUB_STEP_SUMMARY, --summary,
--jobs). Regenerate goldens with LOGSCOPE_UPDATE_GOLDEN=1 after an intended change."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from logscope import __version__

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
ROOT = HERE.parent.parent
RUNS = ["sample_logs/kto_diverging", "sample_logs/hf_output", "sample_logs/kto_healthy"]


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative sample paths, so goldens hold no machine-specific path."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LOGSCOPE_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"differs from {path}; rerun with LOGSCOPE_UPDATE_GOLDEN=1"


@pytest.mark.parametrize(
    ("fmt", "suffix"),
    [
        ("junit", "xml"),
        ("github", "txt"),
        ("markdown", "md"),
        ("json", "json"),
        ("gitlab", "gitlab.json"),
    ],
)
def test_golden(cli, in_repo, fmt: str, suffix: str) -> None:  # type: ignore[no-untyped-def]
    text = cli(["check", *RUNS, "--format", fmt], exit_code=1).stdout
    _golden(f"three_runs.{suffix}", text.replace(__version__, "VERSION"))


def test_junit_is_valid_against_the_schema(cli, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import xmlschema

    schema = xmlschema.XMLSchema(HERE / "junit-10.xsd")
    (tmp_path / "empty.jsonl").write_text("")
    text = cli(["check", *RUNS, tmp_path / "empty.jsonl", "-f", "junit"], exit_code=2).stdout
    schema.validate(text)
    root = ET.fromstring(text)
    assert root.get("errors") == "1"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    diverging = suites["sample_logs/kto_diverging"]
    assert diverging.get("failures") == "5"  # five rules with error findings
    failed = [c.get("name") for c in diverging.iter("testcase") if c.find("failure") is not None]
    assert "kto/margin-negative-after-warmup" in failed
    assert suites["sample_logs/kto_healthy"].get("failures") == "0"


def test_fail_on_moves_findings_between_failure_and_output(cli, in_repo) -> None:  # type: ignore[no-untyped-def]
    run = "sample_logs/hf_output"  # one info finding: a lone grad-norm spike (issue 14)
    strict = ET.fromstring(
        cli(["check", run, "-f", "junit", "--fail-on", "info"], exit_code=1).stdout
    )
    relaxed = ET.fromstring(cli(["check", run, "-f", "junit"]).stdout)
    assert strict.get("failures") == "1" and relaxed.get("failures") == "0"
    case = next(c for c in relaxed.iter("testcase") if c.get("name") == "common/grad-norm-spike")
    assert "step 85" in case.findtext("system-out", "")


def test_github_annotations_point_at_the_log_line(cli, in_repo) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", "sample_logs/sft_nan_truncated", "-f", "github"], exit_code=1).stdout
    verdict, line = out.splitlines()  # the run's verdict leads, then each finding
    assert verdict.startswith(
        "::error title=logscope verdict (sample_logs/sft_nan_truncated)%3A STOP,"
    )
    assert line.startswith(
        "::error title=logscope (common/grad-norm-nonfinite),"
        "file=sample_logs/sft_nan_truncated/metrics.jsonl,line="
    )
    step_260_line = 1 + next(
        i
        for i, text in enumerate(
            (ROOT / "sample_logs/sft_nan_truncated/metrics.jsonl").read_text().splitlines()
        )
        if '"step": 260' in text
    )
    assert f"line={step_260_line}::" in line
    assert "%0A  advice: " in line


def test_hostile_text_cannot_break_out(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = "loss::error ::x%0A|<img src=x onerror=alert(1)>`*"
    log = tmp_path / "m.jsonl"
    log.write_text(
        "".join(json.dumps({"step": s, name: v}) + "\n" for s, v in ((1, 1.0), (2, "NaN")))
    )
    github = cli(["check", log, "-f", "github"], exit_code=1).stdout
    verdict, line = github.splitlines()  # one command each; the name cannot start a third
    assert verdict.startswith("::error title=logscope verdict (") and "x%250A" in verdict
    command, data = line.split("::", 2)[1:]
    assert command.startswith("error title=logscope (common/loss-nonfinite),file=")
    assert "x%250A" in data  # a literal %0A in the name is not a newline
    markdown = cli(["check", log, "-f", "markdown"], exit_code=1).stdout
    assert "<img" not in markdown and "&lt;img" in markdown
    assert "\\|&lt;img" in markdown
    junit = cli(["check", log, "-f", "junit"], exit_code=1).stdout
    ET.fromstring(junit)  # still well-formed


def test_output_file_keeps_the_table_on_stdout(cli, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "report.xml"
    result = cli(["check", "sample_logs/kto_diverging", "-f", "junit", "-o", target], exit_code=1)
    assert "sample_logs/kto_diverging  FAIL" in result.stdout
    ET.fromstring(target.read_text())


def test_github_step_summary_is_appended(
    cli, in_repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    cli(["check", "sample_logs/hf_output", "-f", "github"])
    text = summary.read_text()
    assert text.startswith("earlier step\n## logscope")
    assert "| sample_logs/hf_output | ✅ pass | 0 | 0 | 1 |" in text


def test_summary_table_for_many_runs(cli, in_repo) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", "sample_logs", "--summary"], exit_code=1).stdout
    assert "ERROR   " not in out  # no per-run details
    rows = [line for line in out.splitlines() if line.startswith("sample_logs/")]
    # one row per run: one per sample folder, and a W&B chart export holds two runs
    runs = json.loads(cli(["check", "sample_logs", "-f", "json"], exit_code=1).stdout)["runs"]
    assert len(rows) == len(runs) == sum(1 for p in Path("sample_logs").iterdir() if p.is_dir()) + 1
    assert any(
        "kto_diverging" in r and "FAIL" in r and "common/loss-rising (step 11)" in r for r in rows
    )
    full = cli(["check", "sample_logs"], exit_code=1).stdout
    assert full.index("ERROR   ") < full.index("worst finding")  # details, then the table


def test_jobs_gives_the_same_verdict(cli, in_repo) -> None:  # type: ignore[no-untyped-def]
    serial = json.loads(cli(["check", "sample_logs", "-f", "json"], exit_code=1).stdout)
    parallel = json.loads(
        cli(["check", "sample_logs", "-f", "json", "--jobs", "2"], exit_code=1).stdout
    )
    assert parallel == serial


def test_an_unreadable_run_does_not_stop_the_others(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "m.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "m.jsonl").write_bytes(b"\x00\x01\x02 not a log")
    result = cli(["check", tmp_path, "-f", "json"], exit_code=2)
    doc = json.loads(result.stdout)
    assert [r["status"] for r in doc["runs"]] == ["error", "pass"]
    assert doc["errors"] == [
        f"{tmp_path / 'bad'}: no metric rows could be read "
        f"({tmp_path / 'bad' / 'm.jsonl'}:1: not a JSON Lines file "
        "(no line starts with '{'; begins b'\\x00\\x01\\x02 not a log'); skipped)"
    ]
