"""Rule packs: YAML in, typed and validated Pack/Rule objects out.

Every problem in a file is collected before giving up (as `promtool check rules` does), and
each names file:line:col, the rule id and the field, so a user can fix them all at once.
"""

from __future__ import annotations

import dataclasses
import string
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from logscope.checks import KINDS
from logscope.checks.base import COMMON_FIELDS, Check
from logscope.errors import RulePackError
from logscope.model import Severity
from logscope.rules import aliases as alias_mod
from logscope.rules.yaml_lines import LineDict, load

PACK_KEYS = {"pack", "title", "description", "detect", "aliases", "vars", "rules"}
RULE_KEYS = {
    "id",
    "severity",
    "metric",
    "check",
    "message",
    "advice",
    "source",
    "where",
    "after_step",
    "before_step",
    "description",
}
REQUIRED = ("id", "severity", "metric", "check", "message", "advice", "source")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    pack: str
    severity: Severity
    metric: str
    check: str
    params: Any
    message: str
    advice: str
    source: str
    where: str | None = None
    where_template: str | None = None  # `where` before the pack's ${vars} were filled in
    after_step: int | None = None
    before_step: int | None = None
    description: str = ""
    origin: str = ""  # file:line, for messages about the rule itself

    @property
    def kind(self) -> Check:
        return KINDS[self.check]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pack:
    name: str
    title: str
    path: str
    rules: tuple[Rule, ...]
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    detect: tuple[str, ...] | None = None  # None: the pack always applies
    unless: tuple[str, ...] = ()  # metrics that mark another family (DPO logs rewards/accuracies)
    description: str = ""
    # conventions of one stack that users may spell differently (coordexp's E-step key);
    # `where:` conditions use them as ${name}, `--set PACK.NAME=VALUE` replaces them
    vars: dict[str, str] = field(default_factory=dict)

    @property
    def requires_baseline(self) -> bool:
        """A pack of baseline rules only means something next to a baseline run."""
        return bool(self.rules) and all(r.kind.needs_baseline for r in self.rules)

    def patterns(self, metric: str, shared: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        """An alias name expands to its spellings; anything else is a key pattern itself."""
        return self.aliases.get(metric) or shared.get(metric) or (metric,)


def load_pack(path: Path) -> Pack:
    """Read and validate one pack file; RulePackError lists every problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError([f"{path}: cannot read rule file ({exc})"]) from None
    try:
        doc = load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise RulePackError([f"{where}: invalid YAML: {problem}"]) from None
    return _Builder(path).pack(doc)


class _Builder:
    """Turns a parsed document into a Pack, collecting errors as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.errors: list[str] = []
        self.aliases: dict[str, tuple[str, ...]] = {}
        self.vars: dict[str, str] = {}

    def error(self, node: LineDict | None, key: str | None, message: str) -> None:
        line, column = node.where(key) if isinstance(node, LineDict) else (0, 0)
        where = f"{self.path}:{line}:{column}" if line else str(self.path)
        self.errors.append(f"{where}: {message}")

    def pack(self, doc: Any) -> Pack:
        if not isinstance(doc, LineDict):
            raise RulePackError([f"{self.path}: a rule pack is a mapping with 'pack' and 'rules'"])
        if "tests" in doc and "rules" not in doc:
            command = f"logscope rules test {self.path}"
            raise RulePackError([f"{self.path}: this is a rule test file; run it with: {command}"])
        for key in sorted(set(doc) - PACK_KEYS):
            self.error(doc, key, f"unknown key '{key}' (expected: {', '.join(sorted(PACK_KEYS))})")
        name = doc.get("pack")
        if not isinstance(name, str) or not name:
            self.error(doc, "pack", "'pack' must be a non-empty name")
            name = self.path.stem
        aliases = self._aliases(doc)
        self.aliases = aliases
        self.vars = self._vars(doc)
        rules = []
        raw_rules = doc.get("rules")
        if not isinstance(raw_rules, list):
            self.error(doc, "rules", "'rules' must be a list of rules")
            raw_rules = []
        seen: set[str] = set()
        for raw in raw_rules:
            rule = self._rule(raw, name)
            if rule is None:
                continue
            if rule.id in seen:
                self.error(raw, "id", f"rule id '{rule.id}' is used twice")
            seen.add(rule.id)
            rules.append(rule)
        detect, unless = self._detect(doc)
        if self.errors:
            raise RulePackError(self.errors)
        return Pack(
            name=name,
            title=str(doc.get("title") or name),
            description=str(doc.get("description") or ""),
            path=str(self.path),
            rules=tuple(rules),
            aliases=aliases,
            detect=detect,
            unless=unless,
            vars=self.vars,
        )

    def _vars(self, doc: LineDict) -> dict[str, str]:
        raw = doc.get("vars") or {}
        shape = "'vars' must map names to texts (e.g. estep_key: rollout/buffer_reuse)"
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and k.isidentifier() and isinstance(v, str) for k, v in raw.items()
        ):
            self.error(doc, "vars", shape)
            return {}
        return dict(raw)

    def _aliases(self, doc: LineDict) -> dict[str, tuple[str, ...]]:
        raw = doc.get("aliases") or {}
        if not isinstance(raw, dict):
            self.error(doc, "aliases", "'aliases' must map a name to a list of metric keys")
            return {}
        result = {}
        for name, spellings in raw.items():
            if isinstance(spellings, str):
                spellings = [spellings]
            if not (
                isinstance(spellings, list)
                and spellings
                and all(isinstance(s, str) for s in spellings)
            ):
                self.error(
                    raw if isinstance(raw, LineDict) else None,
                    name,
                    f"alias '{name}' must be a list of metric keys",
                )
                continue
            result[name] = tuple(spellings)
        return result

    def _detect(self, doc: LineDict) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
        raw = doc.get("detect")
        if raw is None:
            return None, ()
        shape = "'detect' must be {any_metric: [metric, ...], none_metric: [metric, ...]}"
        if not isinstance(raw, dict) or set(raw) - {"any_metric", "none_metric"}:
            self.error(doc, "detect", shape)
            return None, ()
        lists = []
        for key in ("any_metric", "none_metric"):
            value = raw.get(key, [])
            if not (isinstance(value, list) and all(isinstance(m, str) for m in value)):
                self.error(doc, "detect", shape)
                value = []
            lists.append(tuple(value))
        return (lists[0] or None), lists[1]

    def _rule(self, raw: Any, pack: str) -> Rule | None:
        if not isinstance(raw, LineDict):
            self.errors.append(f"{self.path}: each rule must be a mapping, found {raw!r}")
            return None
        rid: str = raw["id"] if isinstance(raw.get("id"), str) else "?"
        label = f"rule '{rid}'"
        before = len(self.errors)
        for key in REQUIRED:
            if not isinstance(raw.get(key), str) or not raw.get(key):
                self.error(
                    raw, key if key in raw else None, f"{label}: '{key}' is required (a text)"
                )
        check = KINDS.get(raw.get("check", ""))
        if "check" in raw and check is None:
            self.error(
                raw,
                "check",
                f"{label}: unknown check '{raw.get('check')}' (known: {', '.join(KINDS)})",
            )
        severity = raw.get("severity")
        if isinstance(severity, str) and severity not in {s.value for s in Severity}:
            self.error(
                raw,
                "severity",
                f"{label}: severity '{severity}' is not one of info, warning, error",
            )
        params = self._params(raw, label, check) if check else None
        steps = {}
        for key in ("after_step", "before_step"):
            value = raw.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                self.error(raw, key, f"{label}: '{key}' must be a whole number, got {value!r}")
            steps[key] = value
        where = self._where(raw, label, self.vars)
        if check and isinstance(raw.get("message"), str):
            self._template(raw, label, check, params)
        if len(self.errors) > before or check is None:
            return None
        return Rule(
            id=rid,
            pack=pack,
            severity=Severity(severity),
            metric=raw["metric"],
            check=check.name,
            params=params,
            message=raw["message"].strip(),
            advice=raw["advice"].strip(),
            source=raw["source"].strip(),
            where=where,
            where_template=raw.get("where") if where else None,
            after_step=steps["after_step"],
            before_step=steps["before_step"],
            description=str(raw.get("description") or ""),
            origin=f"{self.path}:{raw.line}",
        )

    def _params(self, raw: LineDict, label: str, check: Check) -> Any:
        hints = typing.get_type_hints(check.params)
        names = [f.name for f in dataclasses.fields(check.params)]
        for key in sorted(set(raw) - RULE_KEYS - set(names)):
            self.error(
                raw,
                key,
                f"{label}: unknown key '{key}' for check '{check.name}' "
                f"(expected: {', '.join(names)})",
            )
        values = {}
        for f in dataclasses.fields(check.params):
            if f.name not in raw:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    self.error(raw, None, f"{label}: check '{check.name}' needs '{f.name}'")
                continue
            ok, value = _coerce(raw[f.name], hints[f.name])
            if not ok:
                self.error(
                    raw,
                    f.name,
                    f"{label}: '{f.name}' must be {_describe(hints[f.name])}, got {raw[f.name]!r}",
                )
            values[f.name] = value
        try:
            params = check.params(**values)
        except TypeError:
            return None
        for problem in getattr(params, "problems", lambda: [])():
            self.error(raw, None, f"{label}: {problem}")
        return params

    def _where(self, raw: LineDict, label: str, variables: dict[str, str]) -> str | None:
        where = raw.get("where")
        if where is None:
            return None
        if not isinstance(where, str):
            self.error(raw, "where", f"{label}: 'where' must be a SQL condition in quotes")
            return None
        filled, problem = fill_where(where, variables)
        if problem:
            self.error(raw, "where", f"{label}: {problem}")
            return None
        return filled

    def _template(self, raw: LineDict, label: str, check: Check, params: Any) -> None:
        allowed = set(COMMON_FIELDS) | set(check.fields)
        if params is not None:
            allowed |= {
                ("limit" if f.name == "value" else f.name) for f in dataclasses.fields(params)
            }
        metric = str(raw.get("metric", ""))
        for pattern in self.aliases.get(metric, (metric,)):  # an alias's patterns capture too
            allowed |= set(alias_mod.captures(pattern))
        for key in ("message", "advice"):
            text = raw.get(key)
            if not isinstance(text, str):
                continue
            try:
                parsed = list(string.Formatter().parse(text))
            except ValueError as exc:
                self.error(
                    raw,
                    key,
                    f"{label}: {key} template is malformed ({exc}); "
                    "write literal braces as {{ and }}",
                )
                continue
            for _, name, spec, _ in parsed:
                if name is None:
                    continue
                base = name.split(".")[0].split("[")[0]
                if base not in allowed:
                    self.error(
                        raw,
                        key,
                        f"{label}: {key} uses {{{base}}}, which check '{check.name}' "
                        f"does not provide (available: {', '.join(sorted(allowed))})",
                    )
                elif spec:
                    try:
                        format(1.5, spec)
                    except ValueError:
                        self.error(
                            raw, key, f"{label}: {key} has a bad format spec '{{{name}:{spec}}}'"
                        )


def _coerce(value: Any, hint: Any) -> tuple[bool, Any]:
    """Check a YAML value against a Params annotation (float, int, str, Literal, | None, list)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            ok, coerced = _coerce(value, option)
            if ok:
                return True, coerced
        return False, value
    if hint is type(None):
        return value is None, value
    if origin is Literal:
        return value in typing.get_args(hint), value
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads `1e-7` (no dot) as text
            try:
                return True, float(value)
            except ValueError:
                return False, value
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is str:
        return isinstance(value, str), value
    if hint is bool:
        return isinstance(value, bool), value
    if origin is list:
        return isinstance(value, list), value
    return True, value


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if origin is list:
        return "a list"
    return {
        float: "a number",
        int: "a whole number",
        str: "a text",
        bool: "true or false",
        type(None): "null",
    }.get(hint, str(hint))


def builtin_dir() -> Path:
    """Packs ship inside the wheel as logscope/_packs; a source checkout has them in rules/."""
    here = Path(__file__).resolve().parent.parent
    shipped = here / "_packs"
    return shipped if shipped.is_dir() else here.parent / "rules"


def load_builtin() -> list[Pack]:
    folder = builtin_dir()
    files = sorted(p for p in folder.glob("*.yaml") if not p.name.endswith(".test.yaml"))
    return load_files(files)


def load_files(files: list[Path]) -> list[Pack]:
    """Load several packs, reporting the errors of all of them together."""
    packs, errors = [], []
    for file in files:
        try:
            packs.append(load_pack(file))
        except RulePackError as exc:
            errors.extend(exc.errors)
    ids: dict[str, str] = {}
    for pack in packs:
        for rule in pack.rules:
            if rule.id in ids and ids[rule.id] != pack.path:
                errors.append(
                    f"{rule.origin}: rule id '{rule.id}' is also defined in {ids[rule.id]}"
                )
            ids[rule.id] = pack.path
    if errors:
        raise RulePackError(errors)
    return packs


def fill_where(template: str, variables: dict[str, str]) -> tuple[str, str | None]:
    """A `where:` condition with the pack's ${vars} filled in, or why it is not valid SQL."""
    import polars as pl

    try:
        where = string.Template(template).substitute(variables)
    except KeyError as exc:
        known = ", ".join(sorted(variables)) or "none"
        return template, f"'where' uses ${{{exc.args[0]}}}, not a var of this pack (vars: {known})"
    except ValueError:
        return template, "'where' has a stray '$' (write $$ for a literal dollar sign)"
    try:
        pl.sql_expr(where)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return where, f"'where' is not a valid SQL condition: {first}"
    return where, None


def override(packs: list[Pack], settings: list[str]) -> list[Pack]:
    """Apply `RULE.PARAM=VALUE` settings (`--set kto/grad-norm-high.value=200`): documented
    defaults are starting points, and a team's own limits replace them without a new pack.
    Also `RULE.severity=warning`. Every bad setting is reported, as for rule files."""
    errors: list[str] = []
    changes: dict[str, dict[str, Any]] = {}
    rules = {rule.id: rule for pack in packs for rule in pack.rules}
    by_name = {pack.name: pack for pack in packs}
    packs = list(packs)
    for setting in settings:
        target, _, text = setting.partition("=")
        rule_id, _, param = target.rpartition(".")
        rule = rules.get(rule_id)
        if not _ or not rule_id or not param:
            errors.append(f"--set {setting}: expected RULE.PARAM=VALUE (e.g. kto/kl-high.value=2)")
            continue
        if rule is None and rule_id in by_name:
            pack = _set_var(by_name[rule_id], param, text, errors, setting)
            by_name[rule_id] = pack
            packs = [pack if p.name == pack.name else p for p in packs]
            rules.update((r.id, r) for r in pack.rules)
            continue
        if rule is None:
            errors.append(f"--set {setting}: no rule '{rule_id}' (see: logscope rules list)")
            continue
        value = yaml.safe_load(text) if text.strip() else None
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
                f"(parameters: {', '.join(hints)})"
            )
            continue
        ok, coerced = _coerce(value, hints[param])
        if not ok:
            errors.append(f"--set {setting}: '{param}' must be {_describe(hints[param])}")
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


def _set_var(pack: Pack, name: str, value: str, errors: list[str], setting: str) -> Pack:
    """`--set coordexp.estep_key=my/flag`: the pack with that var replaced in every rule."""
    if name not in pack.vars:
        known = ", ".join(sorted(pack.vars)) or "none"
        errors.append(f"--set {setting}: pack '{pack.name}' has no var '{name}' (vars: {known})")
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
        where, problem = fill_where(rule.where_template, variables)
        if problem and not reported:  # the same value breaks every rule using it: say it once
            errors.append(f"--set {setting}: {rule.id}: {problem}")
            reported = True
        rules.append(dataclasses.replace(rule, where=where))
    return dataclasses.replace(pack, vars=variables, rules=tuple(rules))
