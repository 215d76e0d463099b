"""Reporters: pure functions from RunReports to text; the CLI decides where text goes.

Machine formats share one signature, render(reports, fail_on, errors) -> str, and are
looked up here so the CLI imports only the one it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from logscope.model import Severity
    from logscope.rules.engine import RunReport

MACHINE_FORMATS = ("json", "junit", "github", "markdown")


def render(fmt: str, reports: list[RunReport], fail_on: Severity | None, errors: list[str]) -> str:
    """Render a machine format: json, junit, github or markdown."""
    if fmt not in MACHINE_FORMATS:
        raise ValueError(f"unknown machine format {fmt!r}")
    module = importlib.import_module(f"logscope.report.{fmt}")
    text: str = module.render(reports, fail_on, errors)
    return text
