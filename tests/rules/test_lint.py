"""`logscope rules lint`: valid packs whose rules can never fire get a warning with file:line."""

from __future__ import annotations

from pathlib import Path

from logscope import catalogue
from logscope.rules.engine import shared_aliases
from logscope.rules.lint import Known, lint
from logscope.rules.spec import load_builtin, load_files

TYPO_PACK = """\
pack: team
title: Team rules
aliases:
  margin: ["rewards/margin"]
  spare: ["loss"]
rules:
  - id: team/margin-low
    severity: warning
    metric: margin
    check: threshold
    op: "<"
    value: 0
    message: "{metric} below 0"
    advice: "look"
    source: "team wiki"
  - id: team/e-step-truncation
    severity: warning
    metric: rollout/parse_truncated_rate
    check: threshold
    op: ">"
    value: 0.1
    where: '"rollout/bufer_reuse" = 0'
    message: "{metric} high"
    advice: "look"
    source: "team wiki"
"""


def _lint(files: list[Path], extra: list[str] | None = None) -> list[str]:
    packs = load_files(files)
    shared = shared_aliases(load_builtin() + packs)
    return [str(w) for w in lint(packs, shared, Known(catalogue.load(), extra or []))]


def test_builtin_packs_match_the_catalogue() -> None:
    """Every metric, alias spelling, where: column and detect key of the built-in packs is
    a metric some stack logs (the catalogue); a typo would make a rule silently dead."""
    packs = load_builtin()
    assert [str(w) for w in lint(packs, shared_aliases(packs), Known(catalogue.load(), []))] == []


def test_typos_are_reported_with_line_and_suggestion(tmp_path: Path) -> None:
    pack = tmp_path / "team.yaml"
    pack.write_text(TYPO_PACK)
    warnings = _lint([pack])
    assert warnings == [
        f"{pack}:7: rule 'team/margin-low': metric 'rewards/margin' (alias 'margin') matches "
        "no known metric (did you mean rewards/margins?)",
        f"{pack}:16: rule 'team/e-step-truncation': where: column 'rollout/bufer_reuse' is no "
        "known metric (did you mean rollout/buffer_reuse?)",
        f"{pack}: pack 'team': alias 'spare' is not used by any rule",
    ]


def test_a_runs_own_keys_count_as_known(tmp_path: Path) -> None:
    pack = tmp_path / "team.yaml"
    pack.write_text(TYPO_PACK)
    warnings = _lint([pack], extra=["rewards/margin", "rollout/bufer_reuse"])
    assert warnings == [f"{pack}: pack 'team': alias 'spare' is not used by any rule"]


def test_cli_exit_codes(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "team.yaml"
    pack.write_text(TYPO_PACK)
    result = cli(["rules", "lint", pack], exit_code=1)
    assert "warning: " in result.stderr and f"{pack}: 3 warnings, 2 rules" in result.stdout
    clean = tmp_path / "clean.yaml"
    clean.write_text(
        TYPO_PACK.replace('rewards/margin"', 'rewards/margins"')
        .replace("bufer", "buffer")
        .replace('  spare: ["loss"]\n', "")
    )
    assert f"{clean}: no warnings, 2 rules" in cli(["rules", "lint", clean]).stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(TYPO_PACK.replace("check: threshold", "check: treshold", 1))
    assert (
        f"{broken}:10:5: rule 'team/margin-low': unknown check 'treshold'"
        in cli(["rules", "lint", broken], exit_code=2).stderr
    )


def test_a_rule_test_file_is_named_as_such(cli) -> None:  # type: ignore[no-untyped-def]
    from logscope.rules.spec import builtin_dir

    tests = builtin_dir() / "kto.test.yaml"
    result = cli(["rules", "lint", tests], exit_code=2)
    assert f"this is a rule test file; run it with: logscope rules test {tests}" in result.stderr


def test_where_columns_and_compared_metrics_are_linted(tmp_path: Path) -> None:
    pack = tmp_path / "team.yaml"
    where = "rollout_bufer_reuse = 0 AND ''say \"hi\"'' = ''x''"  # YAML single-quoted
    pack.write_text(
        TYPO_PACK.replace('"rollout/bufer_reuse" = 0', where)
        + """\
  - id: team/rejected-above
    severity: warning
    metric: rewards/chosen
    check: compare
    other: rewards/rejectd
    op: "<"
    message: "{metric} below {other}"
    advice: "look"
    source: "team wiki"
"""
    )
    warnings = _lint([pack])
    assert any("where: column 'rollout_bufer_reuse' is no known metric" in w for w in warnings)
    assert not any("'hi'" in w for w in warnings)  # a string literal is no column
    assert any("metric 'rewards/rejectd' matches no known metric" in w for w in warnings)
