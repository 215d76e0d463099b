"""Rule evaluation on Runs: aliases, where filters, pack detection, selection, messages."""

from __future__ import annotations

from pathlib import Path

from series import make_run

from logscope.pipeline import load_packs
from logscope.rules import aliases, engine
from logscope.rules.spec import load_pack

PACK = """\
pack: t
aliases:
  grad_norm: ["grad_norm", "actor/grad_norm"]
rules:
  - id: t/grad-high
    severity: warning
    metric: grad_norm
    check: threshold
    op: ">"
    value: 100
    message: "{metric} {value:.0f} at {step}"
    advice: "lower lr"
    source: "test"
"""


def test_alias_spellings() -> None:
    assert aliases.match("grad_norm", "train/grad_norm") == {}
    assert aliases.match("eval_loss", "eval/loss") == {}
    assert aliases.match("eval/math/accuracy/mean@4", "eval/math/accuracy/mean_at_4") == {}
    assert aliases.match("loss", "eval_loss") is None
    assert aliases.match("loss", "train_loss") is None
    assert aliases.match("eval/{taskset}/accuracy/mean@{k}", "eval/gsm8k/accuracy/mean@4") == {
        "taskset": "gsm8k",
        "k": "4",
    }


def test_one_rule_matches_every_spelling(tmp_path: Path) -> None:
    pack = _pack(tmp_path)
    run = make_run(
        {
            "grad_norm": "1 200",
            "train/grad_norm": "1 300",
            "actor/grad_norm": "1 400",
            "critic/grad_norm": "1 500",
        }
    )
    report = engine.evaluate(run, [pack])
    assert sorted(f.metric for f in report.findings) == [
        "actor/grad_norm",
        "grad_norm",
        "train/grad_norm",
    ]
    assert {f.message for f in report.findings} >= {"actor/grad_norm 400 at 2"}


def test_where_filter_judges_e_steps_only(tmp_path: Path) -> None:
    text = PACK.replace("    message:", "    where: '\"rollout/buffer_reuse\" = 0'\n    message:")
    pack = _pack(tmp_path, text)
    # the spike happens on an M-step (buffer_reuse = 1): it must neither hide nor fake a problem
    run = make_run({"grad_norm": "1 500 1 1", "rollout/buffer_reuse": "0 1 0 0"})
    assert engine.evaluate(run, [pack]).findings == []
    run = make_run({"grad_norm": "1 1 500 1", "rollout/buffer_reuse": "0 1 0 0"})
    assert [f.step for f in engine.evaluate(run, [pack]).findings] == [3]


def test_where_on_a_missing_column_skips_with_a_reason(tmp_path: Path) -> None:
    text = PACK.replace("    message:", "    where: '\"rollout/buffer_reuse\" = 0'\n    message:")
    report = engine.evaluate(make_run({"grad_norm": "1 500"}), [_pack(tmp_path, text)])
    assert report.findings == []
    assert report.skipped[0].reason == "where: column 'rollout/buffer_reuse' not in this run"


def test_missing_metric_is_skipped_not_failed(tmp_path: Path) -> None:
    report = engine.evaluate(make_run({"loss": "1 2"}), [_pack(tmp_path)])
    assert (report.evaluated, [s.reason for s in report.skipped]) == (0, ["metric not found"])


def test_pack_detection() -> None:
    packs = load_packs()
    kto = make_run({"loss": "1 1", "rewards/margins": "0 0"})
    dpo = make_run({"loss": "1 1", "rewards/margins": "0 0", "rewards/accuracies": "1 1"})
    sft = make_run({"loss": "1 1"})
    grpo = make_run({"loss": "1 1", "reward": "0 1", "frac_reward_zero_std": "0.1 0.1"})
    verl = make_run({"actor/pg_loss": "1 1", "critic/score/mean": "0 1"})
    names = lambda run, forced=(): [p.name for p in engine.applicable(run, packs, set(forced))]  # noqa: E731
    assert names(kto) == ["common", "kto"]
    assert names(dpo) == ["common", "trl"]
    assert names(grpo) == ["common", "trl"]
    assert names(verl) == ["common", "verl"]
    maxent = make_run(
        {"train/loss": "1 1", "train/tau": "0.5 0.5", "train/frac_reward_zero_std": "0 0"}
    )
    assert names(maxent) == ["common", "maxent_grpo"]
    assert names(sft) == ["common"]
    assert names(sft, ["kto"]) == ["common", "kto"]


def test_select_and_ignore() -> None:
    packs = load_packs()
    run = make_run({"loss": "1 nan", "grad_norm": "1 nan"})
    every = {f.rule for f in engine.evaluate(run, packs).findings}
    assert {"common/loss-nonfinite", "common/grad-norm-nonfinite"} <= every
    only = engine.evaluate(run, packs, select={"common/loss-nonfinite"})
    assert {f.rule for f in only.findings} == {"common/loss-nonfinite"}
    ignored = engine.evaluate(run, packs, ignore={"common"})
    assert ignored.findings == []


def test_findings_sorted_by_severity_then_step() -> None:
    packs = load_packs()
    run = make_run({"loss": "1 1 1 nan", "grad_norm": "1 nan 1 1", "rewards/margins": "1 1 1 1"})
    findings = engine.evaluate(run, packs).findings
    assert [(f.severity, f.step) for f in findings] == sorted(
        [(f.severity, f.step) for f in findings], key=lambda x: (-x[0].rank, x[1])
    )
    assert findings[0].step == 2


def test_message_rendering_survives_missing_values() -> None:
    assert engine.render("{value:.3f} at {step}", {"value": None, "step": 3}) == "n/a at 3"
    assert engine.render("{value:.3f}", {"value": float("nan")}) == "nan"


def _pack(tmp_path: Path, text: str = PACK):  # type: ignore[no-untyped-def]
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return load_pack(path)
