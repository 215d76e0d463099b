"""`where:` is a whitelisted expression over the run's columns, parsed by logscope."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from rule_text import GOOD_RULE
from series import make_run

from logscope.errors import RulePackError
from logscope.rules import engine, where
from logscope.rules.spec import load_pack

RULE = "pack: my\nrules:\n" + GOOD_RULE.replace(
    "value: 3\n", 'value: 3\n    where: "WHERE"\n'
).replace("{value:.2f} at step", "{value} at")

FRAME = pl.DataFrame(
    {
        "step": [1, 2, 3, 4],
        "rollout/buffer_reuse": [0.0, 1.0, 0.0, None],
        "^x_loss$": [1.0, 5.0, -3.0, 2.0],
        "loss": [1.0, 2.0, 3.0, 4.0],
    }
)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('"rollout/buffer_reuse" = 0', [True, False, True, False]),
        ('"^x_loss$" > 1.5', [False, True, False, True]),  # a key, never a regex
        ('abs("^x_loss$") > 2 AND NOT loss = 2', [False, False, True, False]),
        ("step IN (1, 4)", [True, False, False, True]),
        ("step IN (1.0, 4.5)", [True, False, False, False]),  # floats against whole numbers
        ("loss IN (2, 3.0)", [False, True, True, False]),
        ("step NOT IN (1, 4)", [False, True, True, False]),
        ('"rollout/buffer_reuse" IS NULL', [False, False, False, True]),
        ('"rollout/buffer_reuse" IS NOT NULL', [True, True, True, False]),
        ("loss BETWEEN 2 AND 3", [False, True, True, False]),
        ("loss * 2 - 1 >= 5 OR step % 2 = 1", [True, False, True, True]),
        ("-loss < -3", [False, False, False, True]),
        ('greatest(loss, "^x_loss$") > 4', [False, True, False, False]),
        ('"rollout/buffer_reuse" <> 1', [True, False, True, False]),  # NULL: not selected
    ],
)
def test_conditions_select_rows(condition: str, expected: list[bool]) -> None:
    assert where.rows(condition, FRAME).tolist() == expected  # type: ignore[union-attr]


# the attack strings: subqueries, table functions, files and the network
ATTACKS = [
    ("exists(select 1)", 0, "is SQL"),
    ("loss > (SELECT zzz FROM read_csv('/etc/passwd'))", 8, "is SQL"),
    ("read_csv('http://127.0.0.1:9/x.csv') IS NULL", 0, "function 'read_csv' is not allowed"),
    ("loss IN (SELECT 1)", 9, "is SQL"),
    ("read_parquet('/etc/passwd') = 1", 0, "function 'read_parquet' is not allowed"),
    ("loss = 1; DROP TABLE x", 8, "unexpected character ';'"),
    ("(" * 60 + "loss" + ")" * 60, 41, "nested more than"),
    ("round(loss, step) > 1", 0, "n must be a whole number"),
]


@pytest.mark.parametrize(("attack", "offset", "problem"), ATTACKS)
def test_attacks_are_refused_at_load_with_file_line_col(
    tmp_path: Path, attack: str, offset: int, problem: str
) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(RULE.replace('"WHERE"', "'" + attack.replace("'", "''") + "'"))
    with pytest.raises(RulePackError) as info:
        load_pack(path)
    (error,) = info.value.errors
    assert error.startswith(f"{path}:9:") and problem in error
    if "'" not in attack:  # escaped quotes shift columns after them
        assert error.startswith(f"{path}:9:{len('    where: ') + 2 + offset}:")


def test_attacks_never_read_files_or_call_polars_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the SQL engine was asked")

    monkeypatch.setattr(pl, "sql_expr", refuse)
    for attack, _, _ in ATTACKS:
        with pytest.raises(where.WhereError):
            where.parse(attack)
    assert where.rows('"rollout/buffer_reuse" = 0', FRAME).tolist()[0]  # type: ignore[union-attr]


def test_rules_check_names_the_place(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "pack.yaml"
    path.write_text(RULE.replace('"WHERE"', "'loss > (SELECT zzz FROM read_csv(''/etc/passwd''))'"))
    result = cli(["rules", "check", path], exit_code=2)
    assert f"{path}:9:21: rule 'my/loss-high': 'where' is not a valid condition" in result.stderr
    assert "root:" not in result.stderr and "Traceback" not in result.stderr


def test_a_where_on_a_regex_like_key_filters_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(RULE.replace('"WHERE"', "'\"^x_loss$\" > 0'"))
    run = make_run({"loss": [1, 5, 5], "^x_loss$": [1, -1, 1]})
    report = engine.evaluate(run, [load_pack(path)])
    # step 2 (loss 5) is filtered out by the condition; step 3 fires
    assert [(f.step, f.value) for f in report.findings] == [(3, 5.0)]


def test_a_condition_on_types_that_do_not_compare_is_a_skip_not_a_crash() -> None:
    reason = where.rows("loss > 'high'", FRAME)
    assert isinstance(reason, str) and reason.startswith("where: cannot be evaluated")


def test_a_missing_column_is_a_skip() -> None:
    assert where.rows('"nope" = 1', FRAME) == "where: column 'nope' not in this run"


def test_a_constant_condition_covers_every_row() -> None:
    assert np.asarray(where.rows("1 = 1", FRAME)).tolist() == [True] * 4


def test_shipped_conditions_still_parse() -> None:
    assert where.columns('"rollout/buffer_reuse" = 0') == ["rollout/buffer_reuse"]
    assert where.columns('"rewards/margins" < 0') == ["rewards/margins"]
