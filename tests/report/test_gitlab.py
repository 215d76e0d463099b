"""`--format gitlab`: GitLab's Code Quality schema, stable fingerprints, hostile text inert."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_hostile_text import FOLDER, KEY

SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def _issues(cli, *args: object, exit_code: int = 1) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    out = cli(["check", *args, "--format", "gitlab"], exit_code=exit_code).stdout
    issues = json.loads(out)  # stdout is exactly the document
    assert isinstance(issues, list)
    return issues


def _valid(issue: dict[str, Any]) -> None:
    """The fields GitLab requires, with the types its schema gives them."""
    assert isinstance(issue["description"], str) and issue["description"]
    assert isinstance(issue["check_name"], str) and issue["check_name"]
    assert isinstance(issue["fingerprint"], str) and len(issue["fingerprint"]) == 64
    assert issue["severity"] in SEVERITIES
    assert isinstance(issue["location"]["path"], str) and issue["location"]["path"]
    begin = issue["location"]["lines"]["begin"]
    assert isinstance(begin, int) and begin >= 1


def test_one_issue_per_finding_at_the_logged_line(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    run = samples / "kto_diverging"
    issues = _issues(cli, run)
    findings = json.loads(cli(["check", run, "-f", "json"], exit_code=1).stdout)["runs"][0]
    assert len(issues) == len(findings["findings"])
    for issue in issues:
        _valid(issue)
    by_rule = {i["check_name"]: i for i in issues}
    margin = by_rule["kto/margin-negative-after-warmup"]
    assert margin["severity"] == "major"  # an error finding
    path = margin["location"]["path"]
    assert (Path.cwd() / path).resolve() == run / "logs" / "training_metrics.jsonl"
    # the JSONL line the first firing step was logged at
    lines = (Path.cwd() / path).read_text().splitlines()
    step = next(f["step"] for f in findings["findings"] if f["rule"] == margin["check_name"])
    assert json.loads(lines[margin["location"]["lines"]["begin"] - 1])["step"] == step
    assert by_rule["kto/margin-not-increasing"]["severity"] == "minor"  # a warning
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_fingerprints_are_stable_across_runs_and_copies(  # type: ignore[no-untyped-def]
    cli, samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same run checked twice, by an absolute or a relative path, or from another
    checkout, gives the same fingerprints and repository paths; another run gives others."""
    monkeypatch.chdir(samples.parent)
    first = [i["fingerprint"] for i in _issues(cli, samples / "kto_diverging")]
    relative = _issues(cli, Path("sample_logs/kto_diverging"))
    assert first == [i["fingerprint"] for i in relative]
    assert (
        relative[0]["location"]["path"] == "sample_logs/kto_diverging/logs/training_metrics.jsonl"
    )
    shutil.copytree(samples / "kto_diverging", tmp_path / "sample_logs" / "kto_diverging")
    monkeypatch.chdir(tmp_path)
    assert first == [i["fingerprint"] for i in _issues(cli, Path("sample_logs/kto_diverging"))]
    other = _issues(cli, samples / "dpo_broken")
    assert not set(first) & {i["fingerprint"] for i in other}


def test_a_clean_run_is_an_empty_array(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    assert _issues(cli, samples / "kto_healthy", exit_code=0) == []


def test_an_unreadable_input_is_a_blocker(cli, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "metrics.jsonl").write_bytes(b"\x00 not a log")
    issues = _issues(cli, samples / "kto_healthy", broken, exit_code=2)
    assert [i["severity"] for i in issues] == ["blocker"]
    _valid(issues[0])
    assert (Path.cwd() / issues[0]["location"]["path"]).resolve() == broken.resolve()


def test_hostile_names_are_inert(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = tmp_path / FOLDER
    run.mkdir()
    rows = [{"step": s, KEY: "NaN" if s == 4 else 1.0 / s} for s in range(1, 8)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = cli(["check", run, "--format", "gitlab"], exit_code=1).stdout
    assert out.isascii() and "\n::" not in out  # every control character is escaped
    issues = json.loads(out)
    assert issues
    for issue in issues:
        _valid(issue)
        for text in (issue["description"], issue["location"]["path"]):
            for raw in ("\n", "\x1b", "\x00", "\u202e"):
                assert raw not in text, (raw, text)
        assert "\\x1b[31m" in issue["description"]  # visible, not applied
