"""Project configuration: a `logscope.yaml` beside the runs, so a team's rule files,
parameter overrides and rule selection apply without repeating flags.

    rules: [team_rules.yaml]          # paths relative to this file
    set: ["kto/grad-norm-high.value=200", "kto/kl-low.severity=info"]
    select: [common, kto]             # or a comma-separated string
    ignore: [kto/stage-target-loss]

The same keys may sit under `[tool.logscope]` in a pyproject.toml instead; in one folder,
logscope.yaml wins. Command-line options win: --rules and --set add to these, --select and
--ignore replace them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from logscope.errors import RulePackError

NAME = "logscope.yaml"
PYPROJECT = "pyproject.toml"
KEYS = {"rules", "set", "select", "ignore"}


@dataclass(frozen=True)
class ProjectConfig:
    path: Path | None = None
    rules: list[Path] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    select: str | None = None
    ignore: str | None = None


def find_config(starts: list[Path]) -> Path | None:
    """The nearest logscope.yaml, or pyproject.toml with a [tool.logscope] table, in each
    start folder or its parents, first start first."""
    for start in starts:
        for folder in [start.resolve(), *start.resolve().parents]:
            candidate = folder / NAME
            if candidate.is_file():
                return candidate
            pyproject = folder / PYPROJECT
            if pyproject.is_file() and _has_section(pyproject):
                return pyproject
    return None


def load_config(path: Path | None) -> ProjectConfig:
    if path is None:
        return ProjectConfig()
    try:
        if path.name == PYPROJECT:
            doc = _toml(path).get("tool", {}).get("logscope", {})
            path = path.with_name(f"{PYPROJECT} [tool.logscope]")
        else:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise RulePackError([f"{path}: cannot read the project configuration ({exc})"]) from None
    if not isinstance(doc, dict):
        raise RulePackError([f"{path}: expected a mapping with keys {', '.join(sorted(KEYS))}"])
    errors = [
        f"{path}: unknown key '{k}' (expected: {', '.join(sorted(KEYS))})"
        for k in sorted(set(doc) - KEYS)
    ]
    rules = _strings(doc.get("rules"), "rules", path, errors)
    settings = _strings(doc.get("set"), "set", path, errors)
    if errors:
        raise RulePackError(errors)
    return ProjectConfig(
        path=path,
        rules=[path.parent / r for r in rules],  # relative to the file that names them
        settings=settings,
        select=_csv(doc.get("select")),
        ignore=_csv(doc.get("ignore")),
    )


def _strings(value: Any, key: str, path: Path, errors: list[str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    errors.append(f"{path}: '{key}' must be a list of texts")
    return []


def _csv(value: Any) -> str | None:
    if value is None:
        return None
    return ",".join(value) if isinstance(value, list) else str(value)


def _toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    with path.open("rb") as handle:
        data: dict[str, Any] = tomllib.load(handle)
    return data


def _has_section(path: Path) -> bool:
    """Whether a pyproject.toml has a [tool.logscope] table; a broken one that mentions it
    counts, so that its error shows rather than being skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if "tool.logscope" not in text:  # most pyproject files: no parse needed
        return False
    try:
        return isinstance(_toml(path).get("tool", {}).get("logscope"), dict)
    except (OSError, ValueError):
        return True
