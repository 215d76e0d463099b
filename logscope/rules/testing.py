"""Rule unit tests written in YAML, in the spirit of `promtool test rules`.

    rule_files: [kto.yaml]             # relative to this file; default: the built-in packs
    tests:
      - name: margin negative after warmup is an error
        series: {"rewards/margins": "0.1x20 -0.2x9"}   # logscope.rules.series notation
        steps: [...]                   # optional; default 1, 2, 3, ...
        baseline: {loss: "..."}        # optional: a baseline run for baseline rules
        expect:                        # each must match a finding (only the fields given)
          - {rule: kto/margin-negative-after-warmup, step: 21}
        silent: [kto/margin-too-large] # these must not fire
        set: [coordexp.estep_key=is_m_step]  # optional: --set overrides for this test
        only: false                    # true: no finding other than those expected

Every pack in `rule_files` is applied (no auto-detection), so a test sees exactly the
rules it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from logscope.errors import RulePackError
from logscope.model import Finding
from logscope.rules import engine
from logscope.rules.load import builtin_dir, load_builtin, load_files
from logscope.rules.overrides import override
from logscope.rules.pack import Pack
from logscope.rules.series import make_run
from logscope.rules.yaml_lines import LineDict, load

TEST_KEYS = {"name", "series", "steps", "baseline", "expect", "silent", "set", "only"}


@dataclass
class Outcome:
    name: str
    where: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def run_file(path: Path) -> list[Outcome]:
    """Run every test of one file; RulePackError when the file itself is invalid."""
    doc = _load(path)
    packs = _packs(path, doc)
    shared = engine.shared_aliases(load_builtin() + packs)
    tests = doc.get("tests")
    if not isinstance(tests, list) or not tests:
        raise RulePackError([f"{path}: 'tests' must be a non-empty list"])
    return [_run_one(path, test, packs, shared) for test in tests]


def _load(path: Path) -> LineDict:
    try:
        doc = load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError([f"{path}: cannot read rule test file ({exc})"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise RulePackError([f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(doc, LineDict):
        raise RulePackError([f"{path}: a rule test file is a mapping with 'tests'"])
    return doc


def _packs(path: Path, doc: LineDict) -> list[Pack]:
    files = doc.get("rule_files")
    if files is None:
        return load_builtin()
    if not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
        line, column = doc.where("rule_files")
        raise RulePackError([f"{path}:{line}:{column}: 'rule_files' must be a list of paths"])
    resolved = []
    for name in files:
        candidate = path.parent / name
        resolved.append(candidate if candidate.exists() else builtin_dir() / name)
    return load_files(resolved)


def _run_one(
    path: Path, test: Any, packs: list[Pack], shared: dict[str, tuple[str, ...]]
) -> Outcome:
    if not isinstance(test, LineDict):
        return Outcome("?", str(path), ["a test must be a mapping"])
    where = f"{path}:{test.line}"
    outcome = Outcome(str(test.get("name", "?")), where)
    unknown = sorted(set(test) - TEST_KEYS)
    if unknown:
        outcome.problems.append(
            f"unknown key(s) {unknown} (expected: {', '.join(sorted(TEST_KEYS))})"
        )
        return outcome
    try:
        findings = _evaluate(test, packs, shared)
    except (TypeError, ValueError) as exc:
        outcome.problems.append(f"bad series: {exc}")
        return outcome
    except RulePackError as exc:
        outcome.problems.extend(exc.errors)
        return outcome
    expected = test.get("expect") or []
    matched: list[Finding] = []
    for item in expected:
        hit = next((f for f in findings if _matches(f, item)), None)
        if hit is None:
            outcome.problems.append(f"missing: {dict(item)}; got {_brief(findings)}")
        else:
            matched.append(hit)
    for rule in test.get("silent") or []:
        loud = [f for f in findings if f.rule == rule]
        if loud:
            outcome.problems.append(f"should be silent: {rule} fired ({loud[0].message})")
    if test.get("only"):
        extra = [f for f in findings if f not in matched]
        if extra:
            outcome.problems.append(f"unexpected: {_brief(extra)}")
    return outcome


def _evaluate(
    test: LineDict, packs: list[Pack], shared: dict[str, tuple[str, ...]]
) -> list[Finding]:
    """The findings of one test's series (ValueError: bad series; RulePackError: bad set)."""
    run = make_run(dict(test.get("series") or {}), test.get("steps"))
    base = test.get("baseline")
    baseline = make_run(dict(base), path="baseline") if base else None
    settings = test.get("set") or []
    if not (isinstance(settings, list) and all(isinstance(s, str) for s in settings)):
        raise RulePackError(["'set' must be a list of RULE.PARAM=VALUE texts"])
    packs = override(packs, settings)
    return engine.evaluate(run, packs, shared=shared, baseline=baseline).findings


@dataclass(frozen=True)
class Example:
    """A rule firing in its pack's own test file, for `logscope rules show`."""

    name: str
    where: str
    series: dict[str, str]
    message: str


def example(rule_id: str, pack_file: Path) -> Example | None:
    """The first test in `<pack>.test.yaml` beside `pack_file` where `rule_id` fires."""
    tests = pack_file.with_name(f"{pack_file.stem}.test.yaml")
    if not tests.is_file():
        return None
    try:
        doc = _load(tests)
        packs = _packs(tests, doc)
    except RulePackError:
        return None
    shared = engine.shared_aliases(load_builtin() + packs)
    for test in doc.get("tests") or []:
        expected = test.get("expect") if isinstance(test, LineDict) else None
        if not any(isinstance(e, dict) and e.get("rule") == rule_id for e in expected or []):
            continue
        try:
            findings = _evaluate(test, packs, shared)
        except (TypeError, ValueError, RulePackError):
            continue
        hit = next((f for f in findings if f.rule == rule_id), None)
        if hit is not None:
            series = {str(k): str(v) for k, v in dict(test.get("series") or {}).items()}
            return Example(str(test.get("name", "")), f"{tests}:{test.line}", series, hit.message)
    return None


def _matches(finding: Finding, expected: Any) -> bool:
    if not isinstance(expected, dict):
        return False
    actual = finding.to_dict()
    return all(actual.get(key) == value for key, value in expected.items())


def _brief(findings: list[Finding]) -> str:
    if not findings:
        return "no findings"
    return "; ".join(f"{f.rule} at step {f.step}" for f in findings)
