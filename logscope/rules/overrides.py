"""`--set` (and a logscope.yaml's `set:`): a team's own limits and severities replace a
pack's documented defaults without a new pack."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from logscope.errors import RulePackError
from logscope.model import Severity
from logscope.rules.load import coerce, describe, fill_where
from logscope.rules.pack import Pack
from logscope.rules.selection import did_you_mean

USAGE = "expected RULE.PARAM=VALUE (e.g. kto/kl-high.value=2) or PACK.VAR=VALUE"


def override(packs: list[Pack], settings: list[str]) -> list[Pack]:
    """Apply `RULE.PARAM=VALUE` settings (`--set kto/grad-norm-high.value=200`), also
    `RULE.severity=warning` and `PACK.VAR=VALUE`. Every bad setting is reported, as for
    rule files; a setting without '=' is one of them (never a silent `PARAM=None`)."""
    errors: list[str] = []
    changes: dict[str, dict[str, Any]] = {}
    rules = {rule.id: rule for pack in packs for rule in pack.rules}
    by_name = {pack.name: pack for pack in packs}
    packs = list(packs)
    for setting in settings:
        parsed = parse_setting(setting)
        if isinstance(parsed, str):
            errors.append(f"--set {setting}: {parsed}")
            continue
        rule_id, param, text = parsed
        rule = rules.get(rule_id)
        if rule is None and rule_id in by_name:
            pack = _set_var(by_name[rule_id], param, text, errors, setting)
            by_name[rule_id] = pack
            packs = [pack if p.name == pack.name else p for p in packs]
            rules.update((r.id, r) for r in pack.rules)
            continue
        if rule is None:
            hint = did_you_mean(rule_id, [*rules, *by_name])
            errors.append(f"--set {setting}: no rule '{rule_id}' (nor pack){hint}")
            continue
        import yaml  # only with a --set: PyYAML is not needed to start

        from logscope import safe_yaml

        try:
            value = safe_yaml.load(text) if text.strip() else None
        except yaml.YAMLError:
            errors.append(f"--set {setting}: the value '{text}' is not a number, text or list")
            continue
        if param == "severity":
            if value not in {s.value for s in Severity}:
                errors.append(f"--set {setting}: severity must be info, warning or error")
                continue
            changes.setdefault(rule_id, {})["severity"] = Severity(value)
            continue
        hints = typing.get_type_hints(rule.kind.params)
        if param not in hints:
            errors.append(
                f"--set {setting}: check '{rule.check}' has no parameter '{param}' "
                f"(parameters: {', '.join(hints)}, severity)"
                f"{did_you_mean(param, [*hints, 'severity'])}"
            )
            continue
        ok, coerced = coerce(value, hints[param])
        if not ok:
            errors.append(f"--set {setting}: '{param}' must be {describe(hints[param])}")
            continue
        params = dataclasses.replace(
            changes.get(rule_id, {}).get("params", rule.params), **{param: coerced}
        )
        problems: list[str] = getattr(params, "problems", lambda: [])()
        if problems:
            errors.extend(f"--set {setting}: {problem}" for problem in problems)
            continue
        changes.setdefault(rule_id, {})["params"] = params
    if errors:
        raise RulePackError(errors)
    return [
        dataclasses.replace(
            pack, rules=tuple(dataclasses.replace(r, **changes.get(r.id, {})) for r in pack.rules)
        )
        for pack in packs
    ]


def parse_setting(setting: str) -> tuple[str, str, str] | str:
    """(rule or pack, parameter or var, value text) of `RULE.PARAM=VALUE`, or what is wrong.
    The value may be empty (`RULE.PARAM=` is null); the '=' may not be missing."""
    target, equals, text = setting.partition("=")
    if not equals:
        return f"no '=' ({USAGE})"
    rule_id, dot, param = target.strip().rpartition(".")
    if not dot or not rule_id or not param:
        return USAGE
    return rule_id, param, text


def _set_var(pack: Pack, name: str, value: str, errors: list[str], setting: str) -> Pack:
    """`--set coordexp.estep_key=my/flag`: the pack with that var replaced in every rule."""
    if name not in pack.vars:
        known = ", ".join(sorted(pack.vars)) or "none"
        errors.append(
            f"--set {setting}: pack '{pack.name}' has no var '{name}' (vars: {known})"
            f"{did_you_mean(name, list(pack.vars))}"
        )
        return pack
    value = value.strip()
    if not value or '"' in value:
        errors.append(f"--set {setting}: a var names a metric key: not empty, no '\"'")
        return pack
    variables = {**pack.vars, name: value}
    rules, reported = [], False
    for rule in pack.rules:
        if rule.where_template is None:
            rules.append(rule)
            continue
        where, problem, _offset = fill_where(rule.where_template, variables)
        if problem and not reported:  # the same value breaks every rule using it: say it once
            errors.append(f"--set {setting}: {rule.id}: {problem}")
            reported = True
        rules.append(dataclasses.replace(rule, where=where))
    return dataclasses.replace(pack, vars=variables, rules=tuple(rules))
