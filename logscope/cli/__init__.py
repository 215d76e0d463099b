"""The `logscope` command: thin wrappers that parse options, call the library, pick a reporter.

One small module per command or group (`check`, `report`, `diff`, `metrics`, `export`,
`explain`, `tail`, `rules`); `common` holds the Typer apps and the options several commands
share, `boundary` the one error boundary (a user error is one `error:` line and exit 2, a
crash one line asking for a report and exit 2, never a traceback). Heavy modules (polars,
the readers, plotly) are imported inside the commands, so `logscope --help` starts fast.

Importing this package imports nothing else: `app` (the Typer app, every command
registered) is built on first use, and `logscope --version` answers before Typer loads.
Typer turns every command's signature into a click command before parsing (inspecting
signatures and evaluating annotations); `main` imports the module of, and has Typer build,
only the command named on the command line (all of them for `--help`, a misspelt command,
or anything else).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main"]

# the command modules, in the order `logscope --help` lists their commands; each module is
# named after the one command (or group: `rules`) it defines
_MODULES = ("check", "report", "diff", "metrics", "export", "explain", "tail", "rules")
# the options of `logscope` itself; --version is eager: with only these, it is the answer
_ROOT_FLAGS = frozenset({"--version", "--debug"})


def main() -> None:
    """Console-script entry point."""
    args = sys.argv[1:]
    if "--version" in args and _ROOT_FLAGS.issuperset(args):
        from logscope.version import __version__

        sys.stdout.write(f"logscope {__version__}\n")
        sys.stdout.flush()
        return
    from logscope.cli.startup import console, ending, loading, quiet_blas

    quiet_blas()
    console()
    name = _command_name(args)
    if name == "check":  # a sweep's worker processes start up beside this one's imports
        from logscope import workers

        workers.prestart(args[args.index(name) + 1 :])
    try:
        with loading():  # Typer, the command's module and its options (see cli/startup.py)
            app = _only(_app(name), name)
        app()
    finally:
        if name == "check":
            workers.discard()
        ending()


def _app(name: str | None = None) -> typer.Typer:
    """The Typer app, with the commands of module `name` registered (all of them when `name`
    is not one of `_MODULES`). Importing a command module registers its commands; the full
    app lists them in the order of `_MODULES`, whichever modules were imported first."""
    import importlib

    from logscope.cli.common import app

    for module in (name,) if name in _MODULES else _MODULES:
        importlib.import_module(f"logscope.cli.{module}")
    if name not in _MODULES:
        app.registered_commands.sort(key=_rank)
    return app


def _rank(command: Any) -> int:
    """Where a command comes in `logscope --help`: the place of the module that defines it."""
    module = command.callback.__module__.rsplit(".", 1)[-1]
    return _MODULES.index(module) if module in _MODULES else len(_MODULES)


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
