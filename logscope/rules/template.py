"""Rule `message` / `advice` templates: named fields with format specs, nothing else.

`str.format` would let a template walk from a field into the interpreter
(`{value.__class__.__init__.__globals__}`) and print whatever it finds, environment
variables of a CI job included. A template here is parsed once (at pack load) into text and
fields; a field is a bare name, optionally with a format spec (`{regression:.1%}`). Attribute
access, indexing, conversions (`!r`), positional and nested fields are refused with the
offset of the offending field, and `render` never calls anything but `format(value, spec)`
on the plain numbers and texts the engine hands it.
"""

from __future__ import annotations

import numbers
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class TemplateError(Exception):
    """Why a template is refused, and the 0-based offset in it of the field at fault."""

    message: str
    offset: int = 0

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Field:
    """One `{name:spec}` field of a message template."""

    name: str
    spec: str
    offset: int  # where the field starts in the template, for file:line:col


Piece = str | Field


@lru_cache(maxsize=2048)
def parse(template: str) -> tuple[Piece, ...]:
    """Text and fields of a template, or TemplateError (literal braces are `{{` and `}}`)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(
            f"a malformed template ({exc}); write literal braces as {{{{ and }}}}",
            _first_brace(template),
        ) from None
    pieces: list[Piece] = []
    offset = 0
    for literal, name, spec, conversion in parsed:
        offset = _locate(template, literal, offset)
        if literal:
            pieces.append(literal)
        if name is None:
            continue
        field = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
        field += "}"
        start = template.find("{", offset)
        offset = max(start, 0)
        problem = _problem(name, spec or "", conversion)
        if problem:
            raise TemplateError(problem.format(field=field), offset)
        pieces.append(Field(name, spec or "", offset))
        offset += len(field)
    return tuple(pieces)


_PLAIN = frozenset({int, float, str})


def render(template: str, values: dict[str, Any]) -> str:
    """Fill a template checked at load; a field without a value stays as written, a value
    that does not fit its spec (None, text under `.2f`) is shown plainly, never an error."""
    plan = _plan(template)
    if isinstance(plan, str):  # no field (most advice): the text itself
        return plan
    out = []
    for text, name, spec in plan:
        if name is None:
            out.append(text)
        elif name in values:
            out.append(_format(values[name], spec))
        else:
            out.append("{" + name + (f":{spec}" if spec else "") + "}")
    return "".join(out)


_Step = tuple[str, str | None, str]  # literal text, or a field's name and spec


@lru_cache(maxsize=2048)
def _plan(template: str) -> str | tuple[_Step, ...]:
    """`parse` made ready to fill: the text itself when there is no field. A sweep renders
    the same templates for thousands of findings."""
    try:
        pieces = parse(template)
    except TemplateError:  # never reached for a loaded rule; a template is shown, not run
        return template
    if all(isinstance(piece, str) for piece in pieces):
        return "".join(piece for piece in pieces if isinstance(piece, str))
    return tuple(
        (piece, None, "") if isinstance(piece, str) else ("", piece.name, piece.spec)
        for piece in pieces
    )


def _format(value: Any, spec: str) -> str:
    if value is None:
        return "n/a"
    if type(value) in _PLAIN:  # most values: no check against the numbers ABCs (slow)
        try:
            return format(value, spec)
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, int):
        value = int(value)  # numpy integers: formatted as the number they are
    elif isinstance(value, numbers.Real) and not isinstance(value, (int, float)):
        value = float(value)
    elif not isinstance(value, (int, float, str)):  # only plain data is ever formatted
        value = str(value)
    try:
        return format(value, spec)
    except (ValueError, TypeError):
        return str(value)


def _problem(name: str, spec: str, conversion: str | None) -> str | None:
    """What is wrong with a field, as text to follow "message has" ({field}: the field)."""
    if not name or name.isdigit():
        return "a positional field {field}: name the field ({{value}}, {{step}}, ...)"
    if not _NAME.match(name):
        return (
            "a forbidden field {field}: a field is a plain name; attribute access ('.') "
            "and indexing ('[') are refused"
        )
    if conversion:
        return "a forbidden conversion in {field}: use a format spec (:.3g) instead"
    if "{" in spec or "}" in spec:
        return "a nested field in the format spec of {field}, which is refused"
    for sample in (1.5, 1, "text"):  # a spec that fits a number or a text
        try:
            format(sample, spec)
        except ValueError:
            continue
        return None
    return "a bad format spec in {field}"


def _locate(template: str, literal: str, offset: int) -> int:
    """Offset just after `literal` in the template (escaped braces count twice)."""
    if not literal:
        return offset
    consumed = 0
    index = offset
    while consumed < len(literal) and index < len(template):
        if template[index] in "{}" and template[index : index + 2] in ("{{", "}}"):
            index += 2
        else:
            index += 1
        consumed += 1
    return index


def _first_brace(template: str) -> int:
    """Offset of the brace that makes a template malformed (unclosed or stray)."""
    index, depth, opened = 0, 0, 0
    while index < len(template):
        char = template[index]
        if depth == 0 and template[index : index + 2] in ("{{", "}}"):
            index += 2
            continue
        if char == "{":
            opened = index if depth == 0 else opened
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return opened if depth else 0
