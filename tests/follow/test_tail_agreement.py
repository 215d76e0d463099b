"""`tail` and `check` agree on when a finding fires (issue 14).

Each run is replayed line by line through the follower's own pieces — a `JsonlFeed`
polling a file that grows one line at a time, the bounded `Window`, the `Rules` and the
announcement `Tracker` — and the step each finding is first announced at must be the step
`logscope check --format json` reports on the finished file: a rule's `step` is the first
logged step at which it fires seeing only the data up to it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from logscope.follow.announce import Tracker
from logscope.follow.buffer import Rules, Window
from logscope.follow.sources import JsonlFeed
from logscope.pipeline import load_packs

Record = dict[str, float]


def _lines(records: list[Record]) -> list[str]:
    def value(v: float) -> float | str:
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v

    return [json.dumps({k: value(v) for k, v in r.items()}) + "\n" for r in records]


def _kto_diverging() -> list[Record]:
    rng = np.random.default_rng(3)
    out = []
    for step in range(1, 121):
        bad = step > 60
        margin = 0.02 * step if not bad else 1.2 - 0.08 * (step - 60)
        out.append(
            {
                "step": step,
                "loss": 0.66
                - 0.002 * step
                + (0.01 * (step - 60) if bad else 0)
                + rng.normal(0, 0.004),
                "rewards/margins": margin + rng.normal(0, 0.02),
                "rewards/chosen": 0.3 + rng.normal(0, 0.02),
                "rewards/rejected": 0.3 - margin + rng.normal(0, 0.02),
                "grad_norm": (8 if step < 90 else 160) * math.exp(rng.normal(0, 0.1)),
                "kl": 0.05 + 0.001 * step,
            }
        )
    return out


def _sft_blowup() -> list[Record]:
    """TRL SFT at lr 1e3: loss 3.7 → 1.3e8, grad norm 3.1 → 124,620 at step 2, then NaN."""
    return [
        {"step": 1, "loss": 3.7, "grad_norm": 3.1, "learning_rate": 1e3},
        {"step": 2, "loss": 1.3e8, "grad_norm": 124620.0, "learning_rate": 1e3},
        *({"step": s, "loss": math.nan, "grad_norm": math.nan} for s in range(3, 8)),
    ]


def _sft_overfitting() -> list[Record]:
    rng = np.random.default_rng(5)
    out: list[Record] = []
    for step in range(1, 301):
        record = {"step": step, "loss": 2.0 * math.exp(-step / 80) + rng.normal(0, 0.02)}
        record["grad_norm"] = 0.0 if 200 <= step < 240 else 1.0 + rng.normal(0, 0.1)
        out.append(record)
        if step % 25 == 0:
            eval_loss = 1.5 - 0.002 * step if step <= 150 else 1.2 + 0.004 * (step - 150)
            out.append({"step": step, "eval_loss": eval_loss})
    return out


RUNS: dict[str, Callable[[], list[Record]]] = {
    "kto_diverging": _kto_diverging,
    "sft_blowup": _sft_blowup,
    "sft_overfitting": _sft_overfitting,
}


def _replay(path: Path, lines: list[str]) -> dict[tuple[str, str], int | None]:
    """Announcements of `tail`: the follower's source, window, rules and tracker."""
    rules = Rules(load_packs(), path=str(path))
    window, tracker = Window(), Tracker()
    with path.open("w") as out, JsonlFeed(path, path.name) as source:
        for line in lines:
            out.write(line)
            out.flush()
            batch = source.poll()
            if batch.frame is not None and batch.frame.height:
                window.add(batch.frame)
                tracker.update(rules.evaluate(window))
    return {key: f.step for key, f in tracker.seen.items()}


def _first(findings: list[dict[str, object]]) -> dict[tuple[str, str], int | None]:
    """Per (rule, metric), the first step it fired at (a stage table fires once per stage);
    the tracker announces each (rule, metric) once, at its first firing."""
    first: dict[tuple[str, str], int | None] = {}
    for f in sorted(findings, key=lambda f: int(f["step"])):  # type: ignore[call-overload]
        first.setdefault((str(f["rule"]), str(f["metric"])), f["step"])  # type: ignore[arg-type]
    return first


@pytest.mark.parametrize("name", sorted(RUNS))
def test_tail_announces_each_finding_at_the_step_check_reports(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, name: str
) -> None:
    lines = _lines(RUNS[name]())
    live = _replay(tmp_path / "metrics.jsonl", lines)
    result = cli(["check", tmp_path, "--format", "json", "--fail-on", "warning"], exit_code=1)
    (run,) = json.loads(result.stdout)["runs"]
    offline = _first(run["findings"])
    assert offline, "the run must have findings for the comparison to mean anything"
    assert live == offline
    for finding in run["findings"]:
        assert finding["onset"] <= finding["step"]


def test_instant_blowup_is_an_error_at_step_2_live_and_offline(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live = _replay(tmp_path / "metrics.jsonl", _lines(_sft_blowup()))
    assert live[("common/loss-blowup", "loss")] == 2
    assert live[("common/grad-norm-blowup", "grad_norm")] == 2
    result = cli(["check", tmp_path, "--format", "json"], exit_code=1)
    (run,) = json.loads(result.stdout)["runs"]
    errors = {(f["rule"], f["step"]) for f in run["findings"] if f["severity"] == "error"}
    assert {("common/loss-blowup", 2), ("common/grad-norm-blowup", 2)} <= errors


@pytest.mark.parametrize("sample", ["kto_diverging", "dpo_broken", "sft_nan_truncated"])
def test_bundled_samples_agree(cli, samples: Path, tmp_path: Path, sample: str) -> None:  # type: ignore[no-untyped-def]
    (source,) = sorted((samples / sample).rglob("*.jsonl"))
    lines = source.read_text().splitlines(keepends=True)
    replay_dir = tmp_path / "replay"
    replay_dir.mkdir()
    live = _replay(replay_dir / source.name, lines)
    result = cli(["check", replay_dir, "--format", "json", "--fail-on", "warning"], exit_code=1)
    (run,) = json.loads(result.stdout)["runs"]
    assert live == _first(run["findings"])
