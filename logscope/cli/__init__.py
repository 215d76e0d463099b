"""The `logscope` command: thin wrappers that parse options, call the library, pick a reporter.

One module per group of commands (`run`, `rules`, `tail`); `common` holds the Typer apps and
the error boundary: a user error (missing path, broken rule file) becomes one `error:` line
on stderr and exit code 2, never a traceback. Heavy modules (polars, the readers, plotly)
are imported inside the commands, so `logscope --help` starts fast.
"""

from __future__ import annotations

# importing a module registers its commands, in the order `logscope --help` lists them
from logscope.cli import run  # noqa: F401

# isort: split
from logscope.cli import rules, tail  # noqa: F401
from logscope.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
