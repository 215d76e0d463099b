"""`logscope tail RUN` without --follow: the last rows of the key metrics and the findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Cli = Any  # the `cli` fixture of tests/conftest.py


def test_tail_shows_the_last_rows_and_every_finding(cli: Cli, samples: Path) -> None:
    result = cli(["tail", samples / "kto_diverging", "-n", "3"], exit_code=1)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["step", "loss", "grad_norm", "rewards/margins"]
    assert [line.split()[0] for line in lines[1:4]] == ["38", "39", "40"]
    assert any(
        line.startswith("FINDING error kto/margin-negative-after-warmup metric=rewards/margins")
        and "advice: " in line
        for line in lines
    )
    assert lines[-1].startswith("SUMMARY caught up: step 40, 40 rows, 5 error(s)")


def test_fail_on_never_and_chosen_metrics(cli: Cli, samples: Path) -> None:
    result = cli(
        [
            "tail",
            samples / "kto_diverging",
            "-n",
            "2",
            "-m",
            "kl",
            "-m",
            "rewards/*",
            "--fail-on",
            "never",
        ]
    )
    header = result.stdout.splitlines()[0].split()
    assert header == ["step", "kl", "rewards/chosen", "rewards/rejected", "rewards/margins"]


def test_follow_only_options_need_follow(cli: Cli, samples: Path) -> None:
    result = cli(["tail", samples / "kto_healthy", "--idle", "5"], exit_code=2)
    assert "error: --exit-on, --idle and --stall need --follow" in result.stderr


def test_a_missing_run_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli(["tail", tmp_path / "nope"], exit_code=2)
    assert "no such file or folder" in result.stderr


def test_hostile_metric_names_are_shown_escaped(cli: Cli, tmp_path: Path) -> None:
    name = "\x1b[2Jloss<img src=x onerror=alert(1)>"
    rows = [{"step": s, "loss": 1.0 / s, name: float(s)} for s in range(1, 4)]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli(["tail", tmp_path, "-m", "*img*"])
    assert "\x1b" not in result.stdout
    assert "\\x1b[2Jloss<img" in result.stdout.replace("\n", "")


def test_a_folder_of_several_runs_is_refused_even_when_following(cli: Cli, samples: Path) -> None:
    result = cli(["tail", samples, "--follow"], exit_code=2)
    assert "runs" in result.stderr and "tail one of them" in result.stderr


def test_rich_markup_in_names_is_text(cli: Cli, tmp_path: Path) -> None:
    """`[/]` or `[bold red]` in a metric name is text, in tail and in metrics."""
    rows = [{"step": s, "loss[/]": 1.0, "[bold red]loss": float("nan")} for s in range(1, 4)]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli(["tail", tmp_path, "-m", "*"], exit_code=1)
    assert (
        "loss[/]" in result.stdout
        and "FINDING error common/loss-nonfinite metric=[bold red]loss" in result.stdout
    )
    assert "loss[/]" in cli(["metrics", tmp_path]).stdout


def test_catching_up_on_a_long_log_judges_every_row(cli: Cli, tmp_path: Path) -> None:
    """One poll can bring far more rows than the rule window holds: a NaN in the middle of
    a 30,000-step log must still be found, at its own step."""
    rows = [{"step": s, "loss": 1.0 if s != 12_345 else float("nan")} for s in range(1, 30_001)]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = cli(["tail", tmp_path, "--plain"], exit_code=1).stdout
    (finding,) = [line for line in out.splitlines() if line.startswith("FINDING")]
    assert "common/loss-nonfinite" in finding and "step=12345" in finding


def test_a_finding_keeps_the_step_where_it_first_fired() -> None:
    from logscope.follow.announce import Tracker
    from logscope.model import Finding, Severity

    def finding(step: int, last: int) -> Finding:
        return Finding(
            rule="r",
            severity=Severity.WARNING,
            metric="m",
            step=step,
            last_step=last,
            value=1.0,
            message=f"from {step}",
            advice="",
            source="",
        )

    tracker = Tracker()
    assert tracker.update([finding(1000, 1000)]) != []
    assert tracker.update([finding(15001, 15044)]) == []  # the window moved on
    (kept,) = tracker.ordered()
    assert (kept.step, kept.last_step, kept.message) == (1000, 15044, "from 1000")
