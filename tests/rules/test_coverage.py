"""docs/coverage.md: every warning sign of the reference documents mapped to rules (issue 14)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

from logscope.documents import cited_files

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "rules" / "catalogue" / "coverage.py"


@pytest.fixture(scope="module")
def coverage() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coverage_page", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_page_is_up_to_date(coverage: ModuleType) -> None:
    page = coverage.render(coverage.load_signs(), coverage.builtin_rules())
    assert (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8") == page, (
        "docs/coverage.md is stale: run python rules/catalogue/coverage.py"
    )


def test_every_sign_has_existing_rules_or_a_reason(coverage: ModuleType) -> None:
    rules = coverage.builtin_rules()
    for doc in coverage.load_signs():
        for sign in doc["signs"]:
            named = sign.get("rules") or []
            assert bool(named) != bool(sign.get("not_judged")), sign["sentence"]
            assert set(named) <= set(rules), (
                f"{sign['sentence']}: unknown {set(named) - set(rules)}"
            )


def test_every_rule_citing_a_reference_document_encodes_a_listed_sign(
    coverage: ModuleType,
) -> None:
    """A new rule whose source is one of the five documents must be added to the map."""
    cited = {r for doc in coverage.load_signs() for s in doc["signs"] for r in s.get("rules") or []}
    for rule, (_, _, source) in coverage.builtin_rules().items():
        if cited_files(source):  # sources cite the documents by title (issue 16)
            assert rule in cited, f"{rule} cites {source[:40]!r} but no warning sign lists it"


def test_the_five_documents_are_all_mapped(coverage: ModuleType) -> None:
    files = {doc["file"] for doc in coverage.load_signs()}
    assert {f[:4] for f in files} == {"000_", "001_", "002_", "003_", "004_"}
    reference = Path(os.environ.get("LOGSCOPE_REFERENCE", ROOT.parent / "shared" / "reference"))
    if reference.is_dir():  # the documents themselves live beside the project, not in it
        assert files <= {p.name for p in reference.iterdir()}
