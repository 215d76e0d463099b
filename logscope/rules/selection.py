"""Which rules a command runs: names in --select, --ignore, --pack (and a logscope.yaml's
select/ignore) are checked against the packs, so a typo is an error, never a silent gate
that checks nothing."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from logscope.errors import RulePackError

if TYPE_CHECKING:
    from logscope.rules.pack import Pack, Rule


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """'; did you mean X?' with the closest known names, or where to look them up."""
    close = difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.6)
    if not close:
        return "; see: logscope rules list"
    return f"; did you mean {' or '.join(repr(c) for c in close)}?"


def selected(rule: Rule, names: Collection[str]) -> bool:
    """`kto` picks a whole pack, `kto/grad-norm` one rule; a prefix (`kto/kl`) picks the
    rules under it (`kto/kl/...`)."""
    return any(
        rule.id == n or rule.pack == n or rule.id.startswith(n.rstrip("/") + "/") for n in names
    )


def check_names(
    packs: list[Pack],
    rule_names: Iterable[tuple[str, Collection[str]]] = (),
    pack_names: Iterable[tuple[str, Collection[str]]] = (),
) -> None:
    """Raise RulePackError (exit 2) naming every unknown name with a suggestion.

    `rule_names`: (where the names came from, e.g. "--select", names of rules, packs or
    rule prefixes); `pack_names`: the same for options that take pack names only (--pack).
    """
    rules = [rule for pack in packs for rule in pack.rules]
    known = [p.name for p in packs] + [r.id for r in rules]
    errors = []
    for label, names in rule_names:
        for name in sorted(set(names)):
            if not any(selected(rule, (name,)) for rule in rules) and name not in known:
                errors.append(f"{label} {name}: no such rule or pack{did_you_mean(name, known)}")
    pack_list = [p.name for p in packs]
    for label, names in pack_names:
        for name in sorted(set(names)):
            if name not in pack_list:
                errors.append(f"{label} {name}: no such pack{did_you_mean(name, pack_list)}")
    if errors:
        raise RulePackError(errors)
