"""The `logscope` command: thin wrappers that parse options, call the library, pick a reporter.

One small module per command or group (`check`, `report`, `diff`, `metrics`, `export`,
`explain`, `tail`, `rules`); `common` holds the Typer apps and the options several commands
share, `boundary` the one error boundary (a user error is one `error:` line and exit 2, a
crash one line asking for a report and exit 2, never a traceback). Heavy modules (polars,
the readers, plotly) are imported inside the commands, so `logscope --help` starts fast.

Importing this package imports nothing else: `app` (the Typer app, every command
registered) is built on first use, and `logscope --version` answers before Typer loads.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main"]

# the options of `logscope` itself; --version is eager: with only these, it is the answer
_ROOT_FLAGS = frozenset({"--version", "--debug"})


def main() -> None:
    """Console-script entry point."""
    args = sys.argv[1:]
    if "--version" in args and _ROOT_FLAGS.issuperset(args):
        from logscope import __version__

        sys.stdout.write(f"logscope {__version__}\n")
        sys.stdout.flush()
        return
    _app()()


def _app() -> typer.Typer:
    """The Typer app; importing a command module registers its commands, in the order
    `logscope --help` lists them."""
    # isort: off
    from logscope.cli import check, report, diff, metrics, export, explain, tail, rules  # noqa: F401

    # isort: on
    from logscope.cli.common import app

    return app


def __getattr__(name: str) -> Any:
    """`logscope.cli.app` builds the app on first use."""
    if name == "app":
        return _app()
    raise AttributeError(f"module 'logscope.cli' has no attribute {name!r}")
