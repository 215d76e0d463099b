"""`logscope rules list`: --format json for tools, --pack to narrow, typos are errors."""

from __future__ import annotations

import json
from pathlib import Path

FIELDS = ["id", "pack", "severity", "check", "metric", "source"]


def test_json_lists_every_rule_with_its_fields(cli) -> None:  # type: ignore[no-untyped-def]
    rules = json.loads(cli(["rules", "list", "--format", "json"]).stdout)
    from logscope.pipeline import load_packs

    assert len(rules) == sum(len(p.rules) for p in load_packs([]))
    assert all(list(rule) == FIELDS for rule in rules)
    margin = next(r for r in rules if r["id"] == "kto/margin-negative-after-warmup")
    assert margin["pack"] == "kto" and margin["severity"] == "error"
    assert margin["check"] and margin["metric"] and margin["source"]
    assert len({r["id"] for r in rules}) == len(rules)


def test_pack_filter(cli) -> None:  # type: ignore[no-untyped-def]
    kto = json.loads(cli(["rules", "list", "-f", "json", "--pack", "kto"]).stdout)
    assert kto and {r["pack"] for r in kto} == {"kto"}
    both = json.loads(cli(["rules", "list", "-f", "json", "-p", "kto", "-p", "common"]).stdout)
    assert {r["pack"] for r in both} == {"kto", "common"}
    table = cli(["rules", "list", "--pack", "kto"]).stdout
    assert "kto/margin-negative-after-warmup" in table and "common/" not in table
    assert f"{len(kto)} rules in 1 packs: kto" in table


def test_unknown_pack_is_an_error_with_a_suggestion(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["rules", "list", "--pack", "kot", "-f", "json"], exit_code=2)
    assert "--pack kot: no such pack; did you mean 'kto'?" in result.stderr
    assert result.stdout == ""


def test_a_rule_file_is_listed_and_its_text_kept_exactly(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    team = tmp_path / "team.yaml"
    team.write_text(
        "pack: team\n"
        "rules:\n"
        "  - id: team/loss-high\n"
        "    severity: warning\n"
        "    metric: loss\n"
        "    check: threshold\n"
        '    op: ">"\n'
        "    value: 10\n"
        '    message: "loss {value} high"\n'
        '    advice: "look"\n'
        '    source: "team notes \\u202e <b>"\n'
    )
    out = cli(["rules", "list", "-r", team, "-p", "team", "-f", "json"]).stdout
    assert out.isascii()  # JSON escapes what a terminal would act on
    assert json.loads(out) == [
        {
            "id": "team/loss-high",
            "pack": "team",
            "severity": "warning",
            "check": "threshold",
            "metric": "loss",
            "source": "team notes \u202e <b>",
        }
    ]
