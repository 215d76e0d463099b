"""Reporters: pure functions from a checked `Document` to text; the CLI decides where text goes.

`REPORTERS` is the one list of output formats: the CLI's `--format` choices and its help come
from it, and each entry names the module whose `render(doc, layout) -> str` draws it. Modules
are imported only when used, so `logscope --help` does not pay for rich tables or plotly.
Adding a format = one module with `render` + one line here + its tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from logscope.model import Severity
    from logscope.outcome import RunReport
    from logscope.rules.spec import Pack
    from logscope.run import Run


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigUsed:
    """The project configuration a check ran with (`check --show-settings` shows it all)."""

    file: str | None = None  # applied; None: none found, --isolated, or the Python API
    ignored: Sequence[str] = ()  # found inside the checked run folders, not applied


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """What every reporter renders: the checked runs and the verdict's context."""

    reports: Sequence[RunReport]
    fail_on: Severity | None  # findings at or above it fail a run; None: never
    errors: Sequence[str] = ()  # inputs that could not be read at all
    packs: Sequence[Pack] = ()  # the packs checked with (their thresholds draw plot guides)
    baseline: Run | None = None  # `logscope diff`: the run compared with, side by side
    config: ConfigUsed = ConfigUsed()  # the configuration file applied, the ones ignored


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    """How a human format is laid out; machine formats ignore what they do not use."""

    color: bool = False
    width: int = 120
    quiet: int = 0  # 1: findings only; 2: nothing
    summary_only: bool = False  # several runs: only the table of runs
    points: int = 2000  # HTML: points per line before min/max downsampling


@dataclass(frozen=True, slots=True)
class Reporter:
    """One output format: the module that renders it, loaded on first use."""

    module: str  # logscope.report.<module> defines render(doc, layout) -> str
    help: str
    machine: bool = True  # a document for tools: exactly that on stdout, never coloured
    step_summary: str | None = None  # in GitHub Actions, also append this format to the
    # job summary ($GITHUB_STEP_SUMMARY)
    streams: bool = False  # the module's Stream writes it a batch of runs at a time

    def render(self, doc: Document, layout: Layout | None = None) -> str:
        module = importlib.import_module(f"logscope.report.{self.module}")
        text: str = module.render(doc, layout or Layout())
        return text

    def stream(self, write: Callable[[str], object], fail_on: Severity | None) -> Stream:
        """The same document as `render`, written through `write` batch by batch (a sweep's
        runs never sit whole in memory); only for a reporter that `streams`."""
        module = importlib.import_module(f"logscope.report.{self.module}")
        stream: Stream = module.Stream(write, fail_on)
        return stream


class Stream(Protocol):
    """A document written in pieces: each batch of checked runs, then the end. A batch is
    given as reports (`batch`) or as texts `render` made of them (`texts`); `render`
    pickles, so worker processes can render the runs they judge."""

    render: Callable[[RunReport], str]
    runs: int  # written so far

    def batch(self, reports: Sequence[RunReport]) -> None: ...

    def texts(self, texts: list[str]) -> None: ...

    def close(self, errors: Sequence[str], config: ConfigUsed) -> None: ...


REPORTERS: Mapping[str, Reporter] = MappingProxyType(
    {
        "table": Reporter("terminal", "runs, findings and metrics for a human", machine=False),
        "json": Reporter("json", "the JSON contract of DESIGN.md", streams=True),
        "junit": Reporter("junit", "JUnit XML for CI test reporters"),
        "gitlab": Reporter("gitlab", "GitLab Code Quality JSON (artifacts: reports: codequality)"),
        "github": Reporter("github", "GitHub Actions annotations", step_summary="markdown"),
        "markdown": Reporter("markdown", "a pull-request comment or job summary"),
        "html": Reporter("html", "one self-contained page with plots"),
    }
)


def render(fmt: str, doc: Document, layout: Layout | None = None) -> str:
    """Render `doc` in format `fmt` (a key of REPORTERS)."""
    return REPORTERS[fmt].render(doc, layout)
