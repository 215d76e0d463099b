"""What a user sees: the verdict on top in every format, whole lines off a terminal, `-q`
for grep, `--checkpoints`, and the JSON contract kept (new fields only added)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
KTO = SAMPLES / "kto_diverging"
RESTART = "No checkpoint before step 2 (none found in "


def test_q_prints_one_whole_line_per_incident_and_finding(cli) -> None:  # type: ignore[no-untyped-def]
    lines = cli(["check", KTO, "-q"], exit_code=1).stdout.splitlines()
    assert len(lines) == 1 + 9  # one incident, nine findings
    pattern = re.compile(rf"^{re.escape(str(KTO))}: (error|warning|info) \S+ step \d+: .+")
    assert all(pattern.match(line) for line in lines), lines
    assert lines[0].startswith(f"{KTO}: error incident step 2: 9 signs of one problem")
    assert lines[0].endswith(
        "restart from the base model with the learning rate at 2.5e-07 "
        "(50% below its logged peak 5e-07)."
    )


def test_off_a_terminal_no_line_is_wrapped(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", KTO], exit_code=1).stdout  # COLUMNS=100, stdout is not a terminal
    advice = (
        "→ Stop immediately, revert to the last checkpoint and reduce the learning rate "
        "by 50%; check that labels are not swapped."
    )
    assert any(line.strip() == advice for line in out.splitlines())
    assert max(len(line) for line in out.splitlines()) > 100


def test_the_verdict_leads_the_run_and_the_incident_leads_the_findings(cli) -> None:  # type: ignore[no-untyped-def]
    lines = cli(["check", KTO], exit_code=1).stdout.splitlines()
    assert lines[0].startswith(f"{KTO}  FAIL")
    assert lines[1].startswith("STOP    9 signs of one problem from step 2, first in loss")
    assert RESTART in lines[1]
    assert [i for i, line in enumerate(lines) if "incident 1" in line] < [lines.index("findings")]
    assert sum("incident " in line for line in lines) == 1


@pytest.mark.parametrize("fmt", ["json", "markdown", "github"])
def test_the_same_verdict_words_in_every_format(cli, fmt: str) -> None:  # type: ignore[no-untyped-def]
    text = cli(["check", KTO, "--format", fmt], exit_code=1).stdout
    document = json.loads(cli(["check", KTO, "--format", "json"], exit_code=1).stdout)
    verdict = document["runs"][0]["verdict"]
    words = verdict["reason"] if fmt != "github" else verdict["reason"].replace("%", "%25")
    assert words in text and RESTART in text


def test_html_leads_with_the_verdict(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "r.html"
    cli(["report", KTO, "-o", page])
    text = page.read_text()
    assert text.index("id=verdict") < text.index("id=runs") < text.index("id=findings")
    assert "incident 1 · error" in text and RESTART in text


def test_json_keeps_every_finding_and_old_field_and_adds_incidents(cli) -> None:  # type: ignore[no-untyped-def]
    (run,) = json.loads(cli(["check", KTO, "--format", "json"], exit_code=1).stdout)["runs"]
    old = {"path", "sources", "packs", "steps", "status", "findings"}
    assert old <= set(run) and run["status"] == "fail" and len(run["findings"]) == 9
    first = run["findings"][0]  # its fields: test_cli.py::test_json_output
    # fired at step 11 (ten rises in a row), onset at step 2 (issue 14)
    assert (first["rule"], first["step"], first["onset"]) == ("common/loss-rising", 11, 2)
    assert run["verdict"]["status"] == "stop"
    (incident,) = run["incidents"]
    assert incident["first_step"] == 2 and incident["cause"]["rule"] == "common/loss-rising"
    assert [s["step"] for s in incident["symptoms"]] == sorted(
        s["step"] for s in incident["symptoms"]
    )
    assert incident["checkpoint"] is None and incident["learning_rate"] == 2.5e-07
    assert incident["worst"] == {
        "rule": "common/loss-rising",
        "metric": "loss",
        "value": 0.9718,
        "step": 40,
    }


def test_checkpoints_option_names_the_one_to_go_back_to(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "step": s,
                    "loss": 1.0 - s / 100,
                    # varying: a grad norm stuck at one exact value is a finding of its own
                    "grad_norm": float("nan") if s >= 30 else 1.0 + (s % 3) / 10,
                    "learning_rate": 1e-5,
                }
            )
            + "\n"
            for s in range(1, 41)
        )
    )
    saved = tmp_path / "elsewhere"
    for step in (20, 30):
        (saved / f"checkpoint-{step}").mkdir(parents=True)
        (saved / f"checkpoint-{step}" / "config.json").write_text("{}")
    out = cli(["check", run, "--checkpoints", saved, "--format", "json"], exit_code=1).stdout
    (incident,) = json.loads(out)["runs"][0]["incidents"]
    assert incident["first_step"] == 30
    assert (incident["checkpoint"], incident["checkpoint_step"]) == (
        str(saved / "checkpoint-20"),
        20,
    )
    assert incident["action"].startswith(f"Revert to {saved / 'checkpoint-20'} (step 20")


def test_a_missing_checkpoints_folder_is_a_usage_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", KTO, "--checkpoints", tmp_path / "nope"], exit_code=2)
    assert "--checkpoints" in result.stderr


def test_the_runs_table_and_junit_carry_the_verdict(cli) -> None:  # type: ignore[no-untyped-def]
    healthy = SAMPLES / "kto_healthy"
    table = cli(["check", KTO, healthy, "--summary"], exit_code=1).stdout.splitlines()
    assert table[0].split()[:3] == ["run", "status", "verdict"]
    assert table[1].split()[1:3] == ["FAIL", "STOP"] and table[2].split()[1:3] == [
        "PASS",
        "HEALTHY",
    ]
    junit = cli(["check", KTO, "--format", "junit"], exit_code=1).stdout
    assert '<property name="verdict" value="STOP: 9 signs of one problem from step 2' in junit
