"""Loading rule packs: YAML in, typed and validated Pack/Rule objects (rules.pack) out.

Every problem in a file is collected before giving up (as `promtool check rules` does), and
each names file:line:col, the rule id and the field, so a user can fix them all at once.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal

from logscope.checks import KINDS
from logscope.checks.base import COMMON_FIELDS, Check
from logscope.errors import RulePackError
from logscope.model import Severity
from logscope.rules import aliases as alias_mod
from logscope.rules import template, where
from logscope.rules.linedict import LineDict
from logscope.rules.pack import Pack, Rule

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


def load_pack(path: Path) -> Pack:
    """Read and validate one pack file; RulePackError lists every problem in it."""
    import yaml  # here, not at import: the built-in packs usually come from the cache

    from logscope.rules.yaml_lines import load

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

    def error(
        self, node: LineDict | None, key: str | None, message: str, offset: int | None = None
    ) -> None:
        """Record a problem at `key` of `node`; at character `offset` of its value if given."""
        if not isinstance(node, LineDict):
            line, column = 0, 0
        elif offset is not None and key is not None:
            line, column = node.where_in(key, offset)
        else:
            line, column = node.where(key)
        place = f"{self.path}:{line}:{column}" if line else str(self.path)
        self.errors.append(f"{place}: {message}")

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
            for spelling in spellings:
                self._pattern(raw if isinstance(raw, LineDict) else None, name, spelling)
            result[name] = tuple(spellings)
        return result

    def _pattern(self, node: LineDict | None, key: str, pattern: str, label: str = "") -> None:
        """Metric patterns are checked here, so matching never meets a broken one."""
        problem = alias_mod.check_pattern(pattern)
        if problem:
            self.error(node, key, f"{label}{problem}")

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
            for pattern in value:
                self._pattern(doc, "detect", pattern)
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
        for key in ("metric", "other"):
            if isinstance(raw.get(key), str) and raw[key] not in self.aliases:
                self._pattern(raw, key, raw[key], f"{label}: ")
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
            ok, value = coerce(raw[f.name], hints[f.name])
            if not ok:
                self.error(
                    raw,
                    f.name,
                    f"{label}: '{f.name}' must be {describe(hints[f.name])}, got {raw[f.name]!r}",
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
        condition = raw.get("where")
        if condition is None:
            return None
        if not isinstance(condition, str):
            self.error(raw, "where", f"{label}: 'where' must be a condition in quotes")
            return None
        filled, problem, offset = fill_where(condition, variables)
        if problem:
            self.error(raw, "where", f"{label}: {problem}", offset)
            return None
        return filled

    def _template(self, raw: LineDict, label: str, check: Check, params: Any) -> None:
        """Fields of message/advice: plain names the check provides, format specs only."""
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
                pieces = template.parse(text)
            except template.TemplateError as exc:
                self.error(raw, key, f"{label}: {key} has {exc}", exc.offset)
                continue
            for piece in pieces:
                if isinstance(piece, template.Field) and piece.name not in allowed:
                    self.error(
                        raw,
                        key,
                        f"{label}: {key} uses {{{piece.name}}}, which check '{check.name}' "
                        f"does not provide (available: {', '.join(sorted(allowed))})",
                        piece.offset,
                    )


def coerce(value: Any, hint: Any) -> tuple[bool, Any]:
    """Check a YAML value against a Params annotation (float, int, str, Literal, | None, list)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            ok, coerced = coerce(value, option)
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


def describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in typing.get_args(hint))
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
    """The packs shipped with logscope (parsed once, then from the user's cache)."""
    from logscope.rules.packcache import cached

    folder = builtin_dir()
    files = sorted(p for p in folder.glob("*.yaml") if not p.name.endswith(".test.yaml"))
    return cached(files, load_files)


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


# `${name}` is a pack var and `$$` a dollar; any other `$` is itself (keys like `^loss$`)
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|\$)")


def fill_where(text: str, variables: dict[str, str]) -> tuple[str, str | None, int | None]:
    """A `where:` condition with the pack's ${vars} filled in, and why it is refused (with
    the offset in `text` of the fault, None when it lies in a substituted var)."""
    missing = [m for m in _VAR.finditer(text) if m.group(1) and m.group(1) not in variables]
    if missing:
        known = ", ".join(sorted(variables)) or "none"
        name = missing[0].group(1)
        problem = f"'where' uses ${{{name}}}, not a var of this pack (vars: {known})"
        return text, problem, missing[0].start()
    if "${" in _VAR.sub("", text):
        return text, "'where' has a '${' that is not ${name} (write $$ for a dollar)", None
    filled = _VAR.sub(lambda m: variables[m.group(1)] if m.group(1) else "$", text)
    try:
        where.parse(filled)
    except where.WhereError as exc:
        return (
            filled,
            f"'where' is not a valid condition: {exc.message}",
            exc.offset if filled == text else None,
        )
    return filled, None, None
