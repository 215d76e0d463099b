"""`--format gitlab`: a GitLab Code Quality report (`artifacts: reports: codequality`).

A JSON array with one issue per finding, in the subset of the Code Climate format GitLab
reads: `description`, `check_name`, `fingerprint`, `severity` and `location.path` +
`location.lines.begin`. The location is the log file and line the finding's step was
logged at (`Run.origin`), else the run path at line 1. Severities map as

    info -> info, warning -> minor, error -> major, unreadable input -> blocker

(an input that could not be read stops the gate, so it outranks every finding).

The fingerprint identifies an issue across pipelines, so GitLab can tell a new problem from
one the target branch already had: a SHA-256 of the rule, the run and the metric (and an
occurrence number when a rule fires twice on one metric) — never of the step, value or
message, which shift when a run is re-logged. Paths are made relative to the working
directory when they lie inside it (GitLab wants repository paths, and a checkout's absolute
path changes between pipelines). Texts shown to people are made one visible
line (`text.safe`); JSON escapes the rest.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from logscope.model import Severity
from logscope.report import Document, Layout
from logscope.report.text import safe

SEVERITY = {Severity.INFO: "info", Severity.WARNING: "minor", Severity.ERROR: "major"}
UNREADABLE = "logscope/unreadable-input"


def fingerprint(*parts: str) -> str:
    """A stable id: the same parts give the same hash on every machine and run."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def render(doc: Document, layout: Layout) -> str:
    issues: list[dict[str, Any]] = []
    seen: Counter[tuple[str, str, str]] = Counter()
    for report in doc.reports:
        run = report.run
        for f in report.findings:
            key = (f.rule, _relative(run.path), f.metric)
            seen[key] += 1
            origin = run.origin(f.step)
            path, line = (origin[0], origin[1]) if origin else (run.path, None)
            path = _relative(path)
            step = "" if f.step is None else f" (step {f.step})"
            issues.append(
                _issue(
                    description=f"{safe(run.path)}: {safe(f.message)}{step}",
                    check_name=f.rule,
                    fingerprint=fingerprint(*key, str(seen[key])),
                    severity=SEVERITY[f.severity],
                    path=path,
                    line=line,
                )
            )
    for error in doc.errors:
        # errors name their input first ("path: what is wrong"), as every logscope message
        path = _relative(error.split(": ", 1)[0]) if ": " in error else "."
        issues.append(
            _issue(
                description=safe(error),
                check_name=UNREADABLE,
                fingerprint=fingerprint(UNREADABLE, error),
                severity="blocker",
                path=path,
                line=None,
            )
        )
    return json.dumps(issues, indent=2, allow_nan=False) + "\n"


def _relative(path: str) -> str:
    """`path` relative to the working directory when inside it (URLs stay as they are)."""
    if "://" in path:
        return path
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (OSError, ValueError, RuntimeError):
        return path


def _issue(
    *,
    description: str,
    check_name: str,
    fingerprint: str,
    severity: str,
    path: str,
    line: int | None,
) -> dict[str, Any]:
    return {
        "description": description,
        "check_name": safe(check_name),
        "fingerprint": fingerprint,
        "severity": severity,
        "location": {"path": safe(path), "lines": {"begin": line or 1}},
    }
