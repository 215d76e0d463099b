"""Metric names as rules write them, matched against keys as tools log them.

One rule serves every spelling: a pattern `grad_norm` matches `grad_norm` and
`train/grad_norm` (Hugging Face's TensorBoard/W&B prefix); `eval_loss` matches `eval/loss`;
`mean@4` matches MLflow's sanitised `mean_at_4`. `{name}` captures one path segment
(`eval/{taskset}/accuracy/mean@{k}`), and captures are available to message templates.
"""

from __future__ import annotations

import re
from functools import lru_cache


def canonical(key: str) -> str:
    """The spelling keys are compared in: no `train/`, `eval_` for `eval/`, `@` for `_at_`."""
    key = key.replace("_at_", "@")
    if key.startswith("train/"):
        return key[len("train/") :]
    if key.startswith("eval/"):
        return "eval_" + key[len("eval/") :]
    return key


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`{name}` captures one segment (no '/'), `*` matches within one segment."""
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\}|\*)", pattern)
    regex = []
    for part in parts:
        if part == "*":
            regex.append(r"[^/]*")
        elif part.startswith("{") and part.endswith("}"):
            regex.append(f"(?P<{part[1:-1]}>[^/]+)")
        else:
            regex.append(re.escape(part))
    return re.compile("".join(regex))


def captures(pattern: str) -> list[str]:
    return list(compile_pattern(pattern).groupindex)


def match(pattern: str, key: str) -> dict[str, str] | None:
    """The captures when `key` is a spelling of `pattern`, else None."""
    return _match(pattern, key, canonical(key))


def _match(pattern: str, key: str, canonical_key: str) -> dict[str, str] | None:
    found = compile_pattern(pattern).fullmatch(key) or compile_pattern(
        canonical(pattern)
    ).fullmatch(canonical_key)
    return found.groupdict() if found else None


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
