"""`--format json`: the machine-readable contract of DESIGN.md (strict JSON, no NaN tokens)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import partial
from json.encoder import encode_basestring_ascii
from typing import Any

from logscope.model import Severity
from logscope.outcome import RunReport
from logscope.report import ConfigUsed, Document, Layout
from logscope.version import __version__


def run_status(report: RunReport, fail_on: Severity | None) -> str:
    """`error` when nothing could be read, `fail` at or above --fail-on, else `pass`."""
    if report.run.frame.height == 0:
        return "error"
    return "fail" if report.failed(fail_on) else "pass"


def run_dict(report: RunReport, fail_on: Severity | None) -> dict[str, Any]:
    from logscope.incidents import assess

    run = report.run
    assessment = assess(report)
    return {
        "path": run.path,
        "sources": [
            {
                "path": s.path,
                "format": s.format,
                "rows": s.rows,
                "problems": [{"line": p.line, "message": p.message} for p in s.problems],
                "notes": list(s.notes),
            }
            for s in run.sources
        ],
        "packs": report.packs,
        "steps": run.steps,
        "status": run_status(report, fail_on),
        # each finding names its incident (null: none), so one problem can be counted once
        "findings": [
            {**f.to_dict(), "incident": assessment.incident_of(f)} for f in report.findings
        ],
        "resumes": [
            {"step": r.step, "previous_step": r.previous_step, "source": r.source, "line": r.line}
            for r in run.resumes
        ],
        "metrics": len(run.metrics),
        "rules": {
            "evaluated": report.evaluated,
            "skipped": [{"rule": s.rule, "reason": s.reason} for s in report.skipped],
        },
        "notes": list(run.notes),
        "baseline": report.baseline,
        # metric -> every spelling it was logged under (logscope.samerun)
        "spellings": run.meta.get("spellings", {}),
        # healthy / watch / stop, why and what to do; the findings grouped per event
        "verdict": assessment.verdict.to_dict(),
        "incidents": [i.to_dict() for i in assessment.incidents],
    }


def render(doc: Document, layout: Layout) -> str:
    """Strings stay as logged: JSON escapes control characters and (ASCII output) every
    non-ASCII one, so no log text can break the document or a terminal that shows it."""
    runs = [run_text(r, doc.fail_on) for r in doc.reports]
    return _head() + _joined(runs, first=True) + _tail(doc.errors, doc.config, bool(runs))


class Stream:
    """The same document, written a batch of runs at a time (pipeline.check's `on_batch`):
    a sweep's report never sits whole in memory, nor do the runs' frames behind it."""

    def __init__(self, write: Callable[[str], object], fail_on: Severity | None) -> None:
        self.write = write
        self.fail_on = fail_on
        self.runs = 0
        # one run's text; picklable, so worker processes render the runs they judged
        self.render: Callable[[RunReport], str] = partial(run_text, fail_on=fail_on)

    def batch(self, reports: Sequence[RunReport]) -> None:
        self.texts([run_text(r, self.fail_on) for r in reports])

    def texts(self, texts: list[str]) -> None:
        """A batch of runs already rendered by `render`, in order."""
        if texts:
            self.write((_head() if self.runs == 0 else "") + _joined(texts, self.runs == 0))
            self.runs += len(texts)

    def close(self, errors: Sequence[str], config: ConfigUsed) -> None:
        self.write((_head() if self.runs == 0 else "") + _tail(errors, config, self.runs > 0))


def run_text(report: RunReport, fail_on: Severity | None) -> str:
    """One run's object as it sits in the document's `runs` list."""
    return dumps(run_dict(report, fail_on), _RUN_PAD)


_RUN_PAD = "    "


def _head() -> str:
    return '{\n  "logscope_version": ' + dumps(__version__) + ',\n  "runs": ['


def _joined(texts: list[str], first: bool) -> str:
    """Runs as items of the `runs` list (continuing it unless `first`)."""
    if not texts:
        return ""
    items = (",\n" + _RUN_PAD).join(texts)
    return ("\n" if first else ",\n") + _RUN_PAD + items


def _tail(errors: Sequence[str], config: ConfigUsed, any_runs: bool) -> str:
    """The end of `runs`, then `errors` (inputs that could not be read at all) and
    `config`, as json.dumps(indent=2) lays out the whole document."""
    setup = {"file": config.file, "ignored": list(config.ignored)}
    return (
        ("\n  ]" if any_runs else "]")
        + ',\n  "errors": '
        + dumps(list(errors), "  ")
        + ',\n  "config": '
        + dumps(setup, "  ")
        + "\n}\n"
    )


def dumps(value: Any, pad: str = "") -> str:
    """`json.dumps(value, indent=2, allow_nan=False, default=str)`, byte for byte, nested
    `pad` deep, without the pure-Python encoder's generator per value: with `indent` the
    standard library never uses its C encoder, and a sweep's report is millions of values.
    Leaves go through the C string escaper and `float.__repr__` as json does."""
    kind = type(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = pad + "  "
        keys, leaves = _KEYS, _LEAVES
        items = [
            (keys.get(k) or _key(k))
            + (leaf(v) if (leaf := leaves.get(type(v))) is not None else dumps(v, inner))
            for k, v in value.items()
        ]
        return "{\n" + inner + (",\n" + inner).join(items) + "\n" + pad + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = pad + "  "
        leaves = _LEAVES
        items = [
            leaf(v) if (leaf := leaves.get(type(v))) is not None else dumps(v, inner) for v in value
        ]
        return "[\n" + inner + (",\n" + inner).join(items) + "\n" + pad + "]"
    leaf = _LEAVES.get(kind)
    return leaf(value) if leaf is not None else _subclass(value, pad)


def _subclass(value: Any, pad: str) -> str:
    """What json makes of subclasses (StrEnum, numpy floats) and of anything else (str)."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, (list, tuple)):
        return dumps(list(value), pad)
    if isinstance(value, dict):
        return dumps(dict(value), pad)
    return dumps(str(value), pad)


def _float(value: float) -> str:
    if value != value or value in (_INF, -_INF):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(value)


_INF = float("inf")
# each leaf type's text, by exact type (a dict lookup, then a C call for text and ints)
_LEAVES: dict[type, Callable[[Any], str]] = {
    str: encode_basestring_ascii,
    int: int.__repr__,
    float: _float,
    type(None): lambda _: "null",
    bool: lambda value: "true" if value else "false",
}


def _key(key: Any) -> str:
    """A key as json writes it, with the `: ` after it; the commonest remembered."""
    if type(key) is str:
        text = encode_basestring_ascii(key) + ": "
        if len(_KEYS) < 4096:
            _KEYS[key] = text
        return text
    return json.dumps({key: 0}, allow_nan=False)[1:-2]  # keys as json turns them into text


_KEYS: dict[Any, str] = {}  # str key -> its JSON text and ": "
