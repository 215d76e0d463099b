"""The metric catalogue: what each key the five stacks log means and its good range, from the
reference documents (rules/catalogue/metrics.yaml), for `logscope explain` and `rules lint`.

A catalogue key is written as the stack logs it, with `{name}` for a variable segment
(`eval/{taskset}/accuracy/mean@{k}`); it is matched like a rule's metric pattern, so
`train/rewards/margins`, `eval/loss` and MLflow's `mean_at_4` find their entries too.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from logscope.errors import RulePackError
from logscope.rules import aliases
from logscope.rules.spec import builtin_dir

FIELDS = ("key", "family", "meaning", "good", "source")
_CAPTURE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    family: str
    meaning: str
    good: str
    source: str
    warning: str = ""
    also: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.key, *self.also)


def catalogue_path() -> Path:
    return builtin_dir() / "catalogue" / "metrics.yaml"


@lru_cache(maxsize=4)
def load(path: Path | None = None) -> tuple[Entry, ...]:
    """Every entry; RulePackError names the entry that is malformed."""
    path = path or catalogue_path()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RulePackError([f"{path}: cannot read the metric catalogue ({exc})"]) from None
    raw = doc.get("metrics") if isinstance(doc, dict) else None
    if not isinstance(raw, list):
        raise RulePackError([f"{path}: expected a mapping with a 'metrics' list"])
    entries, errors = [], []
    for index, item in enumerate(raw, 1):
        missing = [f for f in FIELDS if not isinstance((item or {}).get(f), str)]
        if not isinstance(item, dict) or missing:
            errors.append(f"{path}: entry {index}: needs text fields {', '.join(missing)}")
            continue
        also = item.get("also") or []
        entries.append(
            Entry(
                key=item["key"],
                family=item["family"],
                meaning=" ".join(item["meaning"].split()),
                good=" ".join(item["good"].split()),
                source=item["source"],
                warning=" ".join(str(item.get("warning") or "").split()),
                also=tuple(str(a) for a in also),
            )
        )
    if errors:
        raise RulePackError(errors)
    return tuple(entries)


def lookup(name: str, entries: tuple[Entry, ...]) -> list[tuple[Entry, dict[str, str]]]:
    """The entries `name` is a spelling of, with what their `{captures}` matched.

    Only the most specific entries are kept (fewest `{captures}`: `eval/{taskset}/accuracy/
    mean@{k}` over `eval/{taskset}/{metric}/{statistic}@{k}`). An `eval_x` / `eval/x` key
    with no entry of its own falls back to the entry of `x`: the same quantity measured on
    the evaluation set."""
    found = _matches(name, entries)
    if not found:
        base = aliases.canonical(name)
        if base.startswith("eval_"):
            found = _matches(base[len("eval_") :], entries)
    if not found:
        return []
    fewest = min(len(caps) for _, caps in found)
    return [(entry, caps) for entry, caps in found if len(caps) == fewest]


def _matches(name: str, entries: tuple[Entry, ...]) -> list[tuple[Entry, dict[str, str]]]:
    found = []
    for entry in entries:
        for spelling in entry.spellings:
            caps = aliases.match(spelling, name)
            if caps is not None:
                found.append((entry, caps))
                break
    return found


def examples(entries: tuple[Entry, ...]) -> list[str]:
    """One concrete key per catalogue spelling (`{taskset}` becomes `x`), for matching
    rule patterns against what stacks really log."""
    return [_CAPTURE.sub("x", s) for entry in entries for s in entry.spellings]


def suggestions(name: str, entries: tuple[Entry, ...], limit: int = 3) -> list[str]:
    """Catalogue keys spelled like `name`, for 'did you mean' (one per entry)."""
    owner = {aliases.canonical(s): entry.key for entry in entries for s in entry.spellings}
    close = difflib.get_close_matches(aliases.canonical(name), list(owner), limit * 3, 0.8)
    return list(dict.fromkeys(owner[c] for c in close))[:limit]
