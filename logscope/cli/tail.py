"""`logscope tail`: the last steps of a run, or follow it live."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from logscope.cli.boundary import fail
from logscope.cli.common import (
    ConfigOption,
    ExitOn,
    FailOn,
    IgnoreOption,
    IsolatedOption,
    PackOption,
    RulesOption,
    SelectOption,
    SetOption,
    app,
    choose_rules,
    fail_level,
    fail_on_option,
)

if TYPE_CHECKING:
    from rich.console import Console

    from logscope.follow.buffer import Rules
    from logscope.follow.remote import Mirror
    from logscope.follow.view import PlainView
    from logscope.follow.watch import Options, Outcome, Tail


@app.command()
def tail(
    path: Annotated[
        str,
        typer.Argument(
            help="A run folder or log file, or an object-storage URL (s3://, gs://, hf://).",
            metavar="PATH",
            show_default=False,
        ),
    ],
    lines: Annotated[
        int, typer.Option("--lines", "-n", min=0, help="Show the last N steps of key metrics.")
    ] = 10,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep reading as the run writes.")
    ] = False,
    exit_on: Annotated[
        ExitOn | None,
        typer.Option(
            "--exit-on", help="With --follow: exit 1 as soon as a finding at this level fires."
        ),
    ] = None,
    fail_on: Annotated[
        FailOn,
        fail_on_option(
            "Exit 1 at the end (caught up, --idle, Ctrl-C) when a finding is at or above "
            "this severity."
        ),
    ] = FailOn.error,
    idle: Annotated[
        float | None,
        typer.Option(
            "--idle",
            min=0,
            metavar="SECONDS",
            help="With --follow: end after SECONDS without new data (or before the path appears).",
        ),
    ] = None,
    stall: Annotated[
        float | None,
        typer.Option(
            "--stall",
            min=0,
            metavar="MINUTES",
            help="With --follow: a finding (warning) when no new data arrived for MINUTES.",
        ),
    ] = None,
    every: Annotated[
        int, typer.Option("--every", min=1, help="Plain output: a PROGRESS line every N steps.")
    ] = 100,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="Show this metric (name or glob, repeatable)."),
    ] = None,
    plain: Annotated[
        bool, typer.Option("--plain", help="Plain lines even on a terminal (no live view).")
    ] = False,
    pack: PackOption = None,
    rules: RulesOption = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    settings: SetOption = None,
    config_file: ConfigOption = None,
    isolated: IsolatedOption = False,
    poll: Annotated[float, typer.Option("--poll", min=0.01, hidden=True)] = 0.25,
) -> None:
    """Show a run's latest steps and findings; with --follow, watch it live.

    With --follow, new JSONL lines and TensorBoard records are read from where the last
    read stopped (a half-written line waits until it is complete; truncated, rotated and
    new files are picked up) and the rules are re-evaluated as rows arrive. Each finding
    is announced once, when it first fires. On a terminal a live view shows the key
    metrics with sparklines and the current findings; otherwise (a pipe, a job log) one
    line per event: FINDING / STALLED lines, a PROGRESS line every --every steps, NOTE lines.
    A path that does not exist yet is waited for, like tail -F (--idle bounds the wait).

    A URL (s3://bucket/runs/x/, gs://, hf://, any fsspec URL; pip install
    'logscope[cloud]') is listed every 2 s: JSONL and TensorBoard objects that grew are
    read from where the last read ended by ranged requests, other changed objects whole.

    Exit codes: 1 at once when a finding at --exit-on fires; otherwise, when reading ends
    (caught up without --follow, --idle, Ctrl-C), 1 if a finding is at or above --fail-on
    (default error) and 0 if not; 2 for bad usage, a run that cannot be read, or one that
    did not appear within --idle.

    TensorBoard: torch's SummaryWriter flushes every 120 s by default, so points arrive in
    bursts; the time of the last record seen is shown.

    [b]Examples[/b]

      logscope tail runs/kto-7b/ -n 20
      logscope tail runs/kto-7b/ --follow
      logscope tail output/ -f --exit-on error          [dim]# scheduler kills the job on 1[/dim]
      logscope tail run/ -f --idle 600 --stall 15 | grep -E '^(FINDING|STALLED)'
      logscope tail tb_logs/ -f -m loss -m 'rewards/*'
      logscope tail s3://bucket/runs/kto-7b/ -f          [dim]# object storage[/dim]
    """
    from rich.console import Console

    from logscope.cloud import is_url
    from logscope.follow.buffer import Rules
    from logscope.follow.view import LiveView, PlainView
    from logscope.follow.watch import Options
    from logscope.model import Severity

    if not follow and (exit_on or idle is not None or stall is not None):
        fail("--exit-on, --idle and --stall need --follow")
    remote = is_url(path)
    name = path.rstrip("/") if remote else str(Path(path))  # as messages name it
    chosen = choose_rules([name], config_file, isolated, rules, pack, settings, select, ignore)
    console = Console(highlight=False)
    live = follow and not plain and console.is_terminal
    view = (LiveView if live else PlainView)(every, console)
    options = Options(
        follow=follow,
        lines=lines,
        poll=poll,
        idle=idle,
        stall=stall,
        exit_on=Severity(exit_on.value) if exit_on else None,
        fail_on=fail_level(fail_on),
        every=every,
        metrics=metric or [],
    )
    engine_rules = Rules(
        chosen.packs,
        forced=set(chosen.forced),
        select=chosen.select,
        ignore=chosen.ignore,
        path=name,
    )
    if remote:
        outcome, watcher = _remote(name, engine_rules, view, options)
    else:
        local = Path(path)
        if follow and not _appeared(local, idle, poll, view, console, live):
            fail(f"{name}: did not appear within {idle:g} s (--idle {idle:g}); nothing to follow")
        outcome, watcher = _watch(local, engine_rules, view, options)
    if not follow and watcher.window.rows == 0:
        fail(f"{name}: no metric rows could be read")
    if outcome.reason == "idle" and not watcher.sources:  # the folder never got a log
        fail(f"{name}: no log appeared within {idle:g} s (--idle {idle:g}); nothing to follow")
    counts = dict.fromkeys(Severity, 0)
    for finding in outcome.tracker.seen.values():
        counts[finding.severity] += 1
    summary = (
        f"{outcome.reason}: step {watcher.window.last_step}, {watcher.window.rows} rows, "
        f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
        f"{counts[Severity.INFO]} info"
    )
    console.print(("SUMMARY " if not live else "") + summary, markup=False, soft_wrap=True)
    raise typer.Exit(outcome.code)


def _watch(
    path: Path,
    rules: Rules,
    view: PlainView,
    options: Options,
    mirror: Mirror | None = None,
) -> tuple[Outcome, Tail]:
    """Read (and follow) the run at `path` (a local folder or file, or a remote mirror)."""
    from logscope.errors import InputError
    from logscope.follow.sources import EventFeed, JsonlFeed
    from logscope.follow.watch import SeveralRuns, Tail

    watcher = Tail(
        path,
        rules,
        view,
        options,
        shown=mirror.shown if mirror else None,
        refresh=mirror.refresh if mirror else None,
    )
    if mirror is not None:  # what the followers read from an offset may be fetched by range

        def appendable(file: Path) -> bool:
            return isinstance(watcher.sources.get(file), (JsonlFeed, EventFeed))

        mirror.appendable = appendable
    try:
        watcher.scan()
    except InputError as exc:  # a live run's folder may not hold a log yet
        if isinstance(exc, SeveralRuns) or not (options.follow and path.is_dir()):
            raise
        view.note(f"{exc}; waiting for a log to appear")
    try:
        outcome = watcher.run()
    finally:  # a crash is reported by the error boundary, after the live view is gone
        view.stop()
    return outcome, watcher


def _remote(url: str, rules: Rules, view: PlainView, options: Options) -> tuple[Outcome, Tail]:
    """A run in object storage, mirrored locally while it is read (follow/remote.py): a
    missing bucket, denied credentials or an empty prefix without --follow exit 2."""
    from logscope.follow.remote import REMOTE_EVERY, mirrored

    # listings are spaced by REMOTE_EVERY at the default --poll (0.25 s), in proportion else
    with mirrored(url, every=REMOTE_EVERY * options.poll / 0.25) as mirror:
        if not mirror.start():
            if not options.follow:
                fail(f"{url}: no such bucket or prefix, or nothing under it")
            view.note(f"waiting for objects under {url}")
        return _watch(mirror.local, rules, view, options, mirror)


def _appeared(
    path: Path, idle: float | None, poll: float, view: PlainView, console: Console, live: bool
) -> bool:
    """With --follow, a path that does not exist yet is waited for (like `tail -F`): one
    message, then a stat every `poll` seconds. False when `--idle` ran out first; Ctrl-C
    while waiting ends like Ctrl-C while following (nothing read, so exit 0)."""
    from logscope.follow.appear import exists, wait_for
    from logscope.report.text import safe

    if exists(path):
        return True
    view.note(f"waiting for {path} to appear")
    try:
        return wait_for(path, idle, poll)
    except KeyboardInterrupt:
        line = f"interrupted: {safe(str(path))} never appeared, 0 rows"
        console.print(("SUMMARY " if not live else "") + line, markup=False, soft_wrap=True)
        raise typer.Exit(0) from None
