"""`logscope rules test`: the built-in packs' YAML tests pass, and the runner reports
failures and invalid files the way a user needs to fix them."""

from __future__ import annotations

from pathlib import Path

import pytest

from logscope.rules.testing import run_file

RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.mark.parametrize("path", sorted(RULES.glob("*.test.yaml")), ids=lambda p: p.name)
def test_builtin_pack_tests_pass(path: Path) -> None:
    outcomes = run_file(path)
    assert outcomes
    assert [o.problems for o in outcomes if not o.passed] == []


def test_every_builtin_pack_has_a_test_file() -> None:
    packs = {p.stem for p in RULES.glob("*.yaml") if not p.name.endswith(".test.yaml")}
    tested = {p.name.removesuffix(".test.yaml") for p in RULES.glob("*.test.yaml")}
    assert packs == tested


def test_cli_reports_a_failing_test_with_its_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tests = tmp_path / "mine.test.yaml"
    tests.write_text(
        "rule_files: [common.yaml]\ntests:\n"
        "  - name: passes\n    series: {loss: '1 nan'}\n    expect: [{rule: common/loss-nonfinite, step: 2}]\n"
        "  - name: wrong step\n    series: {loss: '1 nan'}\n    expect: [{rule: common/loss-nonfinite, step: 1}]\n"
    )
    out = cli(["rules", "test", tests], exit_code=1).stdout
    assert "ok    passes" in out
    assert f"FAIL  wrong step  ({tests}:6)" in out
    assert "got common/loss-nonfinite at step 2" in out
    assert out.rstrip().endswith("1 passed, 1 failed")


def test_cli_rejects_an_invalid_test_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tests = tmp_path / "bad.test.yaml"
    tests.write_text("tests: [\n")
    assert f"error: {tests}:" in cli(["rules", "test", tests], exit_code=2).stderr
    tests.write_text("tests:\n  - name: x\n    series: {loss: '1 banana'}\n")
    out = cli(["rules", "test", tests], exit_code=1).stdout
    assert "bad series: not a value in series notation: 'banana'" in out


def test_rules_show(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli(["rules", "show", "kto/margin-negative-after-warmup"]).stdout
    assert out.startswith("kto/margin-negative-after-warmup  (error, pack kto")
    # sources cite the document by title; the file is named for those who have it (issue 16)
    assert "source    KTO Training Metrics Guide: When to Stop and Revert, 1" in out
    assert "document  003_503a8f4e22c4be84.txt (reference set)" in out
    # an example of the rule firing, taken from the pack's own YAML tests
    assert "example   margin negative after warmup (003, When to Stop and Revert 1)" in out
    assert "            rewards/margins: 0.1x20 -0.2x9\n" in out
    assert "→ reward margin -0.200 below 0 after warmup from step 22" in out
    assert "no rule 'kto/nope'" in cli(["rules", "show", "kto/nope"], exit_code=2).stderr
