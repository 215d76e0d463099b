"""`logscope rules lint`: what `rules check` cannot see because the file is valid YAML and a
valid pack — a metric pattern with a typo, a `where:` column no stack logs, an alias
nothing uses. "Known" is the metric catalogue plus the keys of any run given with --run;
a rule that matches nothing known is silent on every run, which is the bug lint is for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from logscope.catalogue import Entry, examples, suggestions
from logscope.rules import aliases
from logscope.rules.pack import Pack, Rule

_CAPTURE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True, slots=True)
class LintWarning:
    where: str  # file:line
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class Known:
    """The metric keys lint accepts: catalogue keys and the keys of runs given with --run.

    A rule pattern is known when it matches a catalogue key (captures filled in), or a
    catalogue pattern matches it (`timing_s/gen` is a `timing_s/{stage}`). Patterns with a
    `*` are deliberately broad (`*/*loss*` for stacks nobody catalogued) and always pass."""

    def __init__(self, entries: tuple[Entry, ...], extra: list[str]) -> None:
        self.entries = entries
        self.keys = [*examples(entries), *extra]
        self.patterns = [s for entry in entries for s in entry.spellings]

    def __contains__(self, pattern: str) -> bool:
        if pattern in ("step", "wall_time") or "*" in pattern:
            return True
        if any(aliases.match(pattern, key) is not None for key in self.keys):
            return True
        concrete = _CAPTURE.sub("x", pattern)
        if any(aliases.match(known, concrete) is not None for known in self.patterns):
            return True
        base = aliases.canonical(pattern)  # eval_x: x measured on the evaluation set
        return base.startswith("eval_") and base[len("eval_") :] in self

    def hint(self, pattern: str) -> str:
        close = suggestions(pattern, self.entries)
        return f" (did you mean {', '.join(close)}?)" if close else ""


def lint(packs: list[Pack], shared: dict[str, tuple[str, ...]], known: Known) -> list[LintWarning]:
    """Every lint warning of `packs`, in file order."""
    found: list[LintWarning] = []
    for pack in packs:
        found += _rules(pack, shared, known)
        found += _detect(pack, shared, known)
        found += _unused_aliases(pack)
    return found


def _rules(pack: Pack, shared: dict[str, tuple[str, ...]], known: Known) -> list[LintWarning]:
    found = []
    for rule in pack.rules:
        for name, spelling in _spellings(pack, rule, shared):
            if spelling not in known:
                via = f" (alias '{name}')" if spelling != name else ""
                found.append(
                    LintWarning(
                        rule.origin,
                        f"rule '{rule.id}': metric '{spelling}'{via} matches no known metric"
                        f"{known.hint(spelling)}",
                    )
                )
        for column in where_columns(rule.where):
            if column not in known:
                found.append(
                    LintWarning(
                        rule.origin,
                        f"rule '{rule.id}': where: column '{column}' is no known metric"
                        f"{known.hint(column)}",
                    )
                )
    return found


def _detect(pack: Pack, shared: dict[str, tuple[str, ...]], known: Known) -> list[LintWarning]:
    found = []
    for metric in (*(pack.detect or ()), *pack.unless):
        for spelling in pack.patterns(metric, shared):
            if spelling not in known:
                found.append(
                    LintWarning(
                        pack.path,
                        f"pack '{pack.name}': detect: '{spelling}' matches no known metric"
                        f"{known.hint(spelling)}",
                    )
                )
    return found


def _other(rule: Rule) -> str | None:
    """The metric a `compare` rule compares with."""
    return getattr(rule.params, "other", None) if rule.kind.needs_other else None


def _spellings(pack: Pack, rule: Rule, shared: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """(name as the rule writes it, each spelling it stands for) of the metric and `other`."""
    names = [rule.metric, *([other] if (other := _other(rule)) else [])]
    return [(name, spelling) for name in names for spelling in pack.patterns(name, shared)]


def _unused_aliases(pack: Pack) -> list[LintWarning]:
    used = {r.metric for r in pack.rules} | {o for r in pack.rules if (o := _other(r))}
    used |= set(pack.detect or ()) | set(pack.unless)
    return [
        LintWarning(pack.path, f"pack '{pack.name}': alias '{name}' is not used by any rule")
        for name in pack.aliases
        if name not in used and pack.name != "common"  # common's aliases serve every pack
    ]


def where_columns(where: str | None) -> list[str]:
    """The columns a `where:` condition reads, as the engine parses it."""
    if not where:
        return []
    from logscope.rules import where as where_mod

    return where_mod.columns(where)
