"""Metric names as rules write them, matched against keys as tools log them.

One rule serves every spelling: a pattern `grad_norm` matches `grad_norm` and
`train/grad_norm` (Hugging Face's TensorBoard/W&B prefix); `eval_loss` matches `eval/loss`;
`mean@4` matches MLflow's sanitised `mean_at_4`. `{name}` captures one path segment
(`eval/{taskset}/accuracy/mean@{k}`), and captures are available to message templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


def canonical(key: str) -> str:
    """The spelling keys are compared in: no `train/`, `eval_` for `eval/`, `@` for `_at_`."""
    key = key.replace("_at_", "@")
    if key.startswith("train/"):
        return key[len("train/") :]
    if key.startswith("eval/"):
        return "eval_" + key[len("eval/") :]
    return key


class PatternError(ValueError):
    """A metric pattern that cannot be matched: a stray brace, a bad or repeated capture."""


@dataclass(frozen=True, slots=True)
class _Segment:
    """One `/`-separated part of a pattern: literal texts between wildcards. `wilds[i]` sits
    between `texts[i]` and `texts[i + 1]`: None for `*` (any characters, maybe none), else
    the name of a capture (one or more characters)."""

    texts: tuple[str, ...]
    wilds: tuple[str | None, ...]

    def match(self, part: str, caps: dict[str, str]) -> bool:
        """Whether `part` spells this segment, filling `caps`. Each literal is matched at
        its leftmost place after the previous one (the last one at the end): never more
        than one pass per literal, so no pattern can make matching slow, and since a
        wildcard takes any characters, the leftmost place succeeds whenever any place does.
        Captures therefore take the shortest text that fits, except the last one."""
        texts, wilds = self.texts, self.wilds
        if not wilds:
            return part == texts[0]
        head, tail = texts[0], texts[-1]
        minimum = len(head) + len(tail) + sum(w is not None for w in wilds)
        minimum += sum(len(t) for t in texts[1:-1])
        if len(part) < minimum or not part.startswith(head) or not part.endswith(tail):
            return False
        end = len(part) - len(tail)
        position = len(head)
        for index, text in enumerate(texts[1:-1]):
            least = position + (wilds[index] is not None)
            found = part.find(text, least, end)
            if found < 0:
                return False
            if wilds[index] is not None:
                caps[wilds[index]] = part[position:found]  # type: ignore[index]
            position = found + len(text)
        last = wilds[-1]
        if last is not None:
            if end - position < 1:
                return False
            caps[last] = part[position:end]
        return position <= end


_PIECE = re.compile(r"\{([^{}]*)\}|\*|[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> tuple[_Segment, ...]:
    """A pattern's segments; `{name}` captures (part of) one segment, `*` matches within one
    segment. Metric names are never regular expressions: every other character is literal.
    Raises PatternError for a stray brace or a capture name used twice."""
    segments, names = [], set()
    for part in pattern.split("/"):
        texts: list[str] = []
        wilds: list[str | None] = []
        position = 0
        for piece in _PIECE.finditer(part):
            texts.append(part[position : piece.start()])
            position = piece.end()
            token = piece.group()
            if token == "*":
                wilds.append(None)
                continue
            name = piece.group(1)
            if name is None or not _NAME.match(name):
                raise PatternError(
                    f"'{token}' in metric pattern '{pattern}': a capture is {{name}} "
                    "(letters, digits, _), and braces appear only around one"
                )
            if name in names:
                raise PatternError(f"capture {{{name}}} appears twice in '{pattern}'")
            names.add(name)
            wilds.append(name)
        texts.append(part[position:])
        segments.append(_Segment(tuple(texts), tuple(wilds)))
    return tuple(segments)


def check_pattern(pattern: str) -> str | None:
    """Why a metric pattern is invalid, or None (for load-time validation)."""
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        return str(exc)
    return None


def captures(pattern: str) -> list[str]:
    try:
        segments = compile_pattern(pattern)
    except PatternError:
        return []
    return [w for segment in segments for w in segment.wilds if w is not None]


def _fullmatch(pattern: str, key: str) -> dict[str, str] | None:
    if "*" not in pattern and "{" not in pattern and "}" not in pattern:
        return {} if pattern == key else None  # most patterns are plain keys
    try:
        segments = compile_pattern(pattern)
    except PatternError:  # refused at load; a pattern never checked matches nothing
        return None
    parts = key.split("/")
    if len(parts) != len(segments):
        return None
    caps: dict[str, str] = {}
    for segment, part in zip(segments, parts, strict=True):
        if not segment.match(part, caps):
            return None
    return caps


def match(pattern: str, key: str) -> dict[str, str] | None:
    """The captures when `key` is a spelling of `pattern`, else None."""
    return _match(pattern, key, canonical(key))


def _match(pattern: str, key: str, canonical_key: str) -> dict[str, str] | None:
    found = _fullmatch(pattern, key)
    return found if found is not None else _fullmatch(canonical(pattern), canonical_key)


def resolve(patterns: tuple[str, ...], keys: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Every logged key that spells one of `patterns`, in the order the keys were logged."""
    matched = []
    for key in keys:
        canonical_key = canonical(key)
        for pattern in patterns:
            caps = _match(pattern, key, canonical_key)
            if caps is not None:
                matched.append((key, caps))
                break
    return matched


@lru_cache(maxsize=4096)
def _resolve_cached(
    patterns: tuple[str, ...], keys: tuple[str, ...]
) -> tuple[tuple[str, dict[str, str]], ...]:
    return tuple(resolve(patterns, list(keys)))


class Resolver:
    """`resolve` for one run's keys, memoised: rules share aliases, and the runs of a sweep
    usually log the same keys, so most look-ups are answered without matching."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = tuple(keys)

    def __call__(self, patterns: tuple[str, ...]) -> list[tuple[str, dict[str, str]]]:
        return [(key, dict(caps)) for key, caps in _resolve_cached(patterns, self.keys)]
