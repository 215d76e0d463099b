"""The one error boundary of the command line: every command runs inside it.

- A `LogscopeError` (missing path, broken rule file, unreadable input) is the user's to fix:
  its message, one `error:` line per problem, exit 2.
- Anything else is a bug in logscope: one line naming the command and what it was reading,
  and where to report it; exit 2, because 1 means "findings" and a crash must never look like
  a verdict. `--debug` or `LOGSCOPE_DEBUG=1` adds the traceback.
- Ctrl-C exits 130; a closed stdout (`logscope check ... | head`) exits 2 quietly.

Commands therefore raise instead of catching: no other module of the CLI catches errors.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from rich.console import Console

EXIT_INTERRUPTED = 130
# typer.Exit, typer.Abort and usage errors keep click's own exit codes (typer >= 0.2x
# vendors click, so its classes are found through typer, not imported from click)
_FLOW: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)


class _State:
    """What the command being run is doing, for the one-line crash message."""

    command: ClassVar[list[str]] = []
    arguments: ClassVar[list[str]] = []
    reading: ClassVar[str | None] = None
    debug: ClassVar[bool] = False


class GuardedGroup(TyperGroup):
    """A command group whose commands run inside the boundary."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from logscope.cli.coercion import install

        install(self.get_params(ctx))  # plain values coerced without pydantic (start-up time)
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            from logscope.cli.coercion import install

            install(command.get_params(ctx))  # (its help option has the names ctx gives)
        if name:
            _State.command.append(name)
            _State.arguments = list(rest)
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:
        if ctx.parent is None:  # a new command line (tests run many in one process)
            _State.command, _State.arguments = ["logscope"], []
            _State.reading, _State.debug = None, False
        try:
            return super().invoke(ctx)
        except _FLOW:
            raise
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(2) from None
        except Exception as exc:  # this is the boundary
            _handle(exc)


def reading(item: str) -> None:
    """Remember what is being read, so a crash can name it."""
    _State.reading = item


def set_debug(on: bool) -> None:
    _State.debug = on


def _handle(exc: Exception) -> NoReturn:
    from logscope.errors import LogscopeError

    if isinstance(exc, LogscopeError):
        fail(exc)
    debug = _State.debug or os.environ.get("LOGSCOPE_DEBUG", "") not in ("", "0")
    if debug:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    say("error", internal_error(exc, traceback_shown=debug))
    raise typer.Exit(2) from None


def internal_error(exc: BaseException, *, traceback_shown: bool) -> str:
    """`logscope check: internal error while reading run/m.jsonl (IndexError: ...); this is a
    bug in logscope, please report this at <tracker> ...` — one line. It names the file the
    readers last reported (progress), else the paths given on the command line."""
    command = " ".join(_State.command or ["logscope"])
    where = f" while reading {_State.reading}" if _State.reading else ""
    if not where:
        paths = [a for a in _State.arguments if not a.startswith("-") and _exists(a)]
        where = f" on {', '.join(paths[:3])}" if paths else ""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(detail) > 200:
        detail = detail[:200] + "…"
    what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    hint = (
        ""
        if traceback_shown
        else "; `logscope --debug ...` (or LOGSCOPE_DEBUG=1) shows the traceback"
    )
    return (
        f"{command}: internal error{where} ({what}); this is a bug in logscope, "
        f"please report this at {issues_url()} with the command line{hint}"
    )


def _exists(argument: str) -> bool:
    try:
        return Path(argument).exists()
    except (OSError, ValueError):  # a name too long, a NUL byte
        return False


def issues_url() -> str:
    """The issue tracker named in the installed package's metadata (Project-URL)."""
    from importlib import metadata

    try:
        urls = metadata.metadata("logscope").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("issues", "bug tracker", "tracker", "source", "homepage"):
            return str(url).strip()
    return "the logscope issue tracker"


def _silence_stdout() -> None:
    """After a broken pipe, the interpreter's final flush of stdout must not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test runner's buffer)
        pass


def fail(error: Exception | str) -> NoReturn:
    """Report a user error (every problem of a rule pack, one per line) and exit 2.
    Commands may also just raise a LogscopeError: the error boundary calls this."""
    from logscope.errors import RulePackError

    for message in error.errors if isinstance(error, RulePackError) else [str(error)]:
        say("error", message)
    raise typer.Exit(2)


def say(level: str, message: str) -> None:
    """One unwrapped line on stderr: `error: <file>:<line>: <what>` (greppable, copyable)."""
    from rich.text import Text

    from logscope.report.text import safe

    style = {"error": "bold red", "warning": "yellow"}.get(level, "")
    line = Text(f"{level}:", style=style)
    line.append(f" {safe(message)}")
    stderr().print(line, soft_wrap=True)


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)
