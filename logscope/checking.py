"""`logscope check` as a library call: read runs, pick packs, evaluate. No printing here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from logscope.errors import InputError, LogscopeError, RulePackError
from logscope.rules import engine
from logscope.rules.spec import Pack, load_builtin, load_files

if TYPE_CHECKING:
    from logscope.ingest import Progress


@dataclass
class CheckResult:
    reports: list[engine.RunReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # inputs that could not be read at all


def load_packs(rule_files: Iterable[Path] = (), forced: Iterable[str] = ()) -> list[Pack]:
    """Built-in packs plus user files; unknown forced pack names are an error."""
    packs = load_builtin() + load_files(list(rule_files))
    known = {p.name for p in packs}
    unknown = sorted(set(forced) - known)
    if unknown:
        raise RulePackError(
            [f"--pack {name}: no such pack (known: {', '.join(sorted(known))})" for name in unknown]
        )
    return packs


def check(
    paths: Iterable[str | Path],
    packs: list[Pack],
    *,
    forced: Iterable[str] = (),
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    progress: Progress | None = None,
) -> CheckResult:
    """Check every run under `paths`. A path that cannot be read is recorded, not raised."""
    from logscope.ingest import read_runs

    result = CheckResult()
    shared = engine.shared_aliases(packs)
    forced_set = set(forced)
    for path in paths:
        try:
            runs = read_runs(path, progress)
        except InputError as exc:
            result.errors.append(str(exc))
            continue
        for run in runs:
            chosen = engine.applicable(run, packs, forced_set)
            report = engine.evaluate(run, chosen, select=select, ignore=ignore, shared=shared)
            result.reports.append(report)
            if run.frame.height == 0:
                first = run.problems[0] if run.problems else None
                detail = f" ({first})" if first else ""
                result.errors.append(f"{run.path}: no metric rows could be read{detail}")
    return result


__all__ = ["CheckResult", "LogscopeError", "check", "load_packs"]
