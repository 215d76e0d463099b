"""The `logscope` command: thin wrappers that parse options, call the library, pick a reporter.

One small module per command or group (`check`, `report`, `diff`, `metrics`, `export`,
`explain`, `tail`, `rules`); `common` holds the Typer apps and the options several commands
share, `boundary` the one error boundary (a user error is one `error:` line and exit 2, a
crash one line asking for a report and exit 2, never a traceback). Heavy modules (polars,
the readers, plotly) are imported inside the commands, so `logscope --help` starts fast.
"""

from __future__ import annotations

# importing a module registers its commands, in the order `logscope --help` lists them
# isort: off
from logscope.cli import check, report, diff, metrics, export, explain, tail, rules  # noqa: F401

# isort: on
from logscope.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
