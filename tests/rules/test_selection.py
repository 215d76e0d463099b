"""Typos are errors: unknown rule ids and packs exit 2 with a suggestion; a selection
that leaves a run no rule to check is an error unless --allow-empty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logscope.errors import RulePackError
from logscope.pipeline import load_packs
from logscope.rules.overrides import override, parse_setting
from logscope.rules.selection import check_names, did_you_mean

RUN = "kto_diverging"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--select", "kto/kl-hgh"],
            "--select kto/kl-hgh: no such rule or pack; did you mean 'kto/kl-high'",
        ),
        (["--ignore", "commn"], "--ignore commn: no such rule or pack; did you mean 'common'?"),
        (
            ["--ignore", "common,kto/kl-hi"],
            "--ignore kto/kl-hi: no such rule or pack; did you mean",
        ),
        (["--pack", "kot"], "--pack kot: no such pack; did you mean 'kto'?"),
        (
            ["--set", "kto/kl-hgh.value=2"],
            "no rule 'kto/kl-hgh' (nor pack); did you mean 'kto/kl-high'",
        ),
        (["--set", "kto/kl-high.valeu=2"], "has no parameter 'valeu'"),
        (["--set", "coordexp/rollout-slowdown.window"], "coordexp/rollout-slowdown.window: no '='"),
    ],
)
def test_typos_exit_2_with_did_you_mean(cli, samples: Path, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / RUN, *args], exit_code=2)
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_that_selects_rules_checks_the_names(
    cli, samples: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    assert "did you mean 'kto'" in cli(["tail", samples / RUN, "--select", "kot"], 2).stderr
    out = tmp_path / "r.html"
    assert (
        "did you mean 'kto'" in cli(["report", samples / RUN, "--pack", "kot", "-o", out], 2).stderr
    )


def test_a_selection_that_leaves_no_rule_is_an_error_unless_allowed(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / RUN, "--select", "coordexp"], exit_code=2)
    assert "the rule selection leaves no rule to check in this run" in result.stderr
    assert "(packs that apply: common, kto)" in result.stderr
    cli(["check", samples / RUN, "--select", "coordexp", "--allow-empty"], exit_code=0)
    doc = json.loads(cli(["check", samples / RUN, "--select", "kto/kl-high", "-f", "json"]).stdout)
    assert {f["rule"] for f in doc["runs"][0]["findings"]} == {"kto/kl-high"}


def test_names_valid_forms() -> None:
    packs = load_packs()
    check_names(packs, [("--select", {"kto", "kto/kl-high", "common/"})], [("--pack", {"kto"})])
    with pytest.raises(RulePackError) as info:
        check_names(packs, [("--select", {"kto/kl-hgh", "nothing-like-it-at-all"})])
    assert len(info.value.errors) == 2
    assert "see: logscope rules list" in info.value.errors[1]
    assert did_you_mean("commn", ["common", "kto"]) == "; did you mean 'common'?"


@pytest.mark.parametrize(
    ("setting", "parsed"),
    [
        ("coordexp/rollout-slowdown.window=8", ("coordexp/rollout-slowdown", "window", "8")),
        ("kto/kl-high.value=", ("kto/kl-high", "value", "")),
        ("coordexp.estep_key=a=b", ("coordexp", "estep_key", "a=b")),
        ("coordexp/rollout-slowdown.window", "no '='"),
        ("window=3", "expected RULE.PARAM=VALUE"),
        (".window=3", "expected RULE.PARAM=VALUE"),
        ("kto/kl-high.=3", "expected RULE.PARAM=VALUE"),
    ],
)
def test_set_parsing(setting: str, parsed: tuple[str, str, str] | str) -> None:
    result = parse_setting(setting)
    if isinstance(parsed, tuple):
        assert result == parsed
    else:
        assert isinstance(result, str) and parsed in result


def test_a_forgotten_equals_is_never_a_silent_none() -> None:
    """The bug of issue 15: `--set RULE.window` set window=None."""
    packs = load_packs()
    with pytest.raises(RulePackError) as info:
        override(packs, ["coordexp/rollout-slowdown.window"])
    assert info.value.errors == [
        "--set coordexp/rollout-slowdown.window: no '=' (expected RULE.PARAM=VALUE "
        "(e.g. kto/kl-high.value=2) or PACK.VAR=VALUE)"
    ]
