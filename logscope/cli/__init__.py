"""The `logscope` command: thin wrappers that parse options, call the library, pick a reporter.

One small module per command or group (`check`, `report`, `diff`, `metrics`, `export`,
`explain`, `tail`, `rules`); `common` holds the Typer apps and the options several commands
share, `boundary` the one error boundary (a user error is one `error:` line and exit 2, a
crash one line asking for a report and exit 2, never a traceback). Heavy modules (polars,
the readers, plotly) are imported inside the commands, so `logscope --help` starts fast.

Importing this package imports nothing else: `app` (the Typer app, every command
registered) is built on first use, and `logscope --version` answers before Typer loads.
Typer turns every command's signature into a click command before parsing (inspecting
signatures and evaluating annotations); `main` has it build only the command named on the
command line (all of them for `--help`, a misspelt command, or anything else).
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
    _only(_app(), _command_name(args))()


def _app() -> typer.Typer:
    """The Typer app; importing a command module registers its commands, in the order
    `logscope --help` lists them."""
    # isort: off
    from logscope.cli import check, report, diff, metrics, export, explain, tail, rules  # noqa: F401

    # isort: on
    from logscope.cli.common import app

    return app


def _command_name(args: list[str]) -> str | None:
    """The command named first on the command line (after `--debug`), if any."""
    for arg in args:
        if arg != "--debug":
            return None if arg.startswith("-") else arg
    return None


def _only(app: typer.Typer, name: str | None) -> typer.Typer:
    """A copy of `app` that registers only the command or group `name` (when it is one):
    the same root options and callback, so the command runs exactly as in the full app."""
    if name is None:
        return app
    import copy

    from typer.main import get_command_name

    commands = [
        c
        for c in app.registered_commands
        if c.callback is not None and (c.name or get_command_name(c.callback.__name__)) == name
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if len(commands) + len(groups) != 1:
        return app
    only = copy.copy(app)
    only.registered_commands, only.registered_groups = commands, groups
    return only


def __getattr__(name: str) -> Any:
    """`logscope.cli.app` builds the app on first use."""
    if name == "app":
        return _app()
    raise AttributeError(f"module 'logscope.cli' has no attribute {name!r}")
