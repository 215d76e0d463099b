"""The metric catalogue behind `logscope explain`: grounded, unique, and found by any spelling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logscope import catalogue
from logscope.documents import DOCUMENTS
from logscope.errors import RulePackError

SOURCES = (
    *DOCUMENTS,  # the five reference documents, by title (issue 16)
    "TRL docs",
    "veRL source",
    "Hugging Face Trainer",
)


def test_every_entry_cites_a_source_and_keys_are_unique() -> None:
    entries = catalogue.load()
    assert len(entries) > 250
    spellings = [s for e in entries for s in e.spellings]
    assert len(spellings) == len(set(spellings))
    families = {"common", "kto", "trl", "verl", "coordexp", "trinity", "maxent_grpo"}
    for entry in entries:
        assert entry.source.startswith(SOURCES), entry.key
        assert entry.family in families and entry.meaning and entry.good, entry.key


@pytest.mark.parametrize(
    ("name", "key", "captures"),
    [
        ("train/rewards/margins", "rewards/margins", {}),  # HF's TensorBoard/W&B prefix
        ("eval/rewards/margins", "rewards/margins", {}),
        ("eval/loss", "eval_loss", {}),
        (
            "eval/gsm8k/accuracy/mean_at_4",
            "eval/{taskset}/accuracy/mean@{k}",  # MLflow's @
            {"taskset": "gsm8k", "k": "4"},
        ),
        ("timing_s/gen", "timing_s/{stage}", {"stage": "gen"}),
        ("actor/entropy", "actor/entropy_loss", {}),
    ],
)
def test_lookup_by_any_spelling(name: str, key: str, captures: dict[str, str]) -> None:
    ((entry, caps),) = catalogue.lookup(name, catalogue.load())
    assert (entry.key, caps) == (key, captures)


def test_unknown_metric_gets_suggestions() -> None:
    entries = catalogue.load()
    assert catalogue.lookup("rewards/margin", entries) == []
    assert catalogue.suggestions("rewards/margin", entries)[0] == "rewards/margins"


def test_malformed_catalogue_names_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "metrics.yaml"
    bad.write_text("metrics:\n  - key: loss\n    family: common\n")
    with pytest.raises(RulePackError, match=r"entry 1: needs text fields meaning, good, source"):
        catalogue.load(bad)


def test_explain_shows_meaning_range_source_and_rules(cli) -> None:  # type: ignore[no-untyped-def]
    out = " ".join(cli(["explain", "train/rewards/margins"]).stdout.split())
    assert out.startswith("rewards/margins (kto)")
    assert "good steadily increasing" in out
    assert "source KTO Training Metrics Guide: Key Metrics Explained" in out
    assert "document 003_503a8f4e22c4be84.txt (reference set)" in out
    assert "kto/margin-negative-after-warmup (error)" in out


def test_explain_json_and_captures(cli) -> None:  # type: ignore[no-untyped-def]
    (doc,) = json.loads(cli(["explain", "eval/math500/accuracy/mean@4", "-f", "json"]).stdout)
    (entry,) = doc["entries"]
    assert entry["family"] == "trinity" and entry["captures"] == {"taskset": "math500", "k": "4"}
    assert {"id": "trinity/eval-accuracy-falling", "severity": "warning"} in doc["rules"]


def test_explain_unknown_metric_exits_1_with_a_hint(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["explain", "rewards/margin", "loss"], exit_code=1)
    assert "loss  (common)" in result.stdout
    assert (
        "error: rewards/margin: not in the metric catalogue; did you mean rewards/margins?"
    ) in result.stderr


def test_explain_escapes_hostile_names(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["explain", "loss\x1b[31m[bold]x"], exit_code=1)
    assert "\x1b" not in result.stdout + result.stderr
    assert "\\x1b[31m[bold]x" in result.stdout


def test_explain_list(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli(["explain", "--list", "kto"]).stdout
    assert "rewards/margins" in out and out.rstrip().endswith("3 metrics")
    assert "no catalogue family 'ktoo'" in cli(["explain", "--list", "ktoo"], exit_code=2).stderr
    assert "name a metric" in cli(["explain"], exit_code=2).stderr
