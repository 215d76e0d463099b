"""`logscope explain METRIC`: a metric's catalogue entry and the rules that watch it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from logscope.catalogue import Entry, lookup, suggestions
from logscope.documents import cited_files
from logscope.rules import aliases
from logscope.rules.engine import shared_aliases
from logscope.rules.spec import Pack, Rule


@dataclass
class Explanation:
    name: str
    entries: list[tuple[Entry, dict[str, str]]] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return bool(self.entries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.name,
            "entries": [
                {
                    "key": e.key,
                    "family": e.family,
                    "captures": caps,
                    "meaning": e.meaning,
                    "good": e.good,
                    "warning": e.warning,
                    "source": e.source,
                }
                for e, caps in self.entries
            ],
            "rules": [{"id": r.id, "severity": str(r.severity)} for r in self.rules],
            "suggestions": self.suggestions,
        }


def explain(name: str, entries: tuple[Entry, ...], packs: list[Pack]) -> Explanation:
    found = Explanation(name, lookup(name, entries), watching(name, packs))
    if not found.entries:
        found.suggestions = suggestions(name, entries)
    return found


def watching(name: str, packs: list[Pack]) -> list[Rule]:
    """The rules of `packs` whose metric pattern `name` is a spelling of."""
    shared = shared_aliases(packs)
    return [
        rule
        for pack in packs
        for rule in pack.rules
        if aliases.resolve(pack.patterns(rule.metric, shared), [name])
    ]


def render(found: Explanation) -> list[tuple[str, str]]:
    """(label, text) lines for the terminal; the label column is printed dim."""
    lines: list[tuple[str, str]] = []
    for entry, caps in found.entries:
        where = ", ".join(f"{k}={v}" for k, v in caps.items())
        lines.append(("", f"{entry.key}  ({entry.family}{'; ' + where if where else ''})"))
        lines.append(("meaning", entry.meaning))
        lines.append(("good", entry.good))
        if entry.warning:
            lines.append(("warning", entry.warning))
        lines.append(("source", entry.source))
        lines += [("document", f"{file} (reference set)") for file in cited_files(entry.source)]
    if not found.entries:
        lines.append(("", f"{found.name}  (no catalogue entry)"))
    if found.rules:
        lines.append(("rules", ", ".join(f"{r.id} ({r.severity})" for r in found.rules)))
    elif found.entries:
        lines.append(("rules", "none of the loaded packs watches this metric"))
    return lines
