"""The `tail` loop: poll the run's files, feed the window, evaluate, announce.

Polling, not file-system notifications: inotify does not see writes made on another host
of a shared file system (NFS, Lustre, GPFS), which is where training runs write. A poll
is one `stat` per file; the interval starts at `poll / 10` after data arrived and backs
off to `poll` (default 0.25 s) while the run is quiet, so an appended line shows within
about `poll` seconds and an idle run costs a few stat calls per second. New files (a
restarted run, a new event file) are looked for every few polls.

While catching up on existing data the rules are evaluated every `recent / 2` new rows, so
every row is seen in a window with context; once caught up, after every poll that
brought rows, spaced by EVAL_GAP or the cost of the last evaluation, whichever is longer
(the window bounds that cost).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from logscope.errors import InputError
from logscope.follow import announce
from logscope.follow.buffer import RECENT, Rules, Window
from logscope.follow.sources import Feed, open_feed
from logscope.follow.view import Status

if TYPE_CHECKING:
    import polars as pl

    from logscope.follow.view import PlainView
    from logscope.model import Finding, Severity

# seconds between evaluations while rows keep arriving: at least this, and at least as long
# as the last evaluation took, so rules use at most about half a core on a busy run
EVAL_GAP = 0.2
RESCAN_POLLS = 4  # look for new files every this many times the longest poll interval


class SeveralRuns(InputError):
    """The path holds more than one run: tail follows exactly one."""


@dataclass
class Options:
    follow: bool = False
    lines: int = 10  # rows shown at the start, like tail -n
    poll: float = 0.25  # longest wait between polls, seconds
    idle: float | None = None  # end after this many seconds without new data
    stall: float | None = None  # minutes without new data that make a stall finding
    exit_on: Severity | None = None
    fail_on: Severity | None = None
    every: int = 100  # progress line every N steps (plain output)
    metrics: list[str] = field(default_factory=list)
    columns: int = 6  # key metrics shown when none are asked for
    recent: int = RECENT


@dataclass
class Outcome:
    code: int
    reason: str  # "caught up" | "idle" | "interrupted" | "exit-on"
    tracker: announce.Tracker


class Tail:
    """One run being followed."""

    def __init__(
        self,
        path: Path,
        rules: Rules,
        view: PlainView,
        options: Options,
        *,
        shown: Callable[[Path], str] | None = None,
        refresh: Callable[[], list[str]] | None = None,
    ) -> None:
        """`shown` names a file as the user knows it (a mirrored object by its URL);
        `refresh` runs before each poll (a remote mirror's sync) and returns notes."""
        self.path = path
        self.shown = shown
        self.rules = rules
        self.view = view
        self.options = options
        self.window = Window(recent=options.recent)
        self.tracker = announce.Tracker()
        self.sources: dict[Path, Feed] = {}
        self.refresh = refresh
        self.status = Status(shown(path) if shown else str(path))
        self.keys: list[str] = []
        self._metrics: tuple[str, ...] = ()
        self._since_eval = 0
        self._evaluated = 0.0
        self._new: list[Finding] = []  # judged while catching up, not yet announced
        self._several = False  # "another run appeared" said once
        self._cost = 0.0  # seconds the last evaluation took

    # -- files -----------------------------------------------------------------------
    def scan(self) -> None:
        """Open readers for log files not seen yet. InputError when there are none (yet)."""
        from logscope.ingest import formats
        from logscope.ingest.discover import discover, tag_prefixes

        runs = discover(self.path)
        if len(runs) > 1:
            names = ", ".join(f"{r.root} [{r.part}]" if r.part else str(r.root) for r in runs)
            raise SeveralRuns(
                f"{self.status.path}: holds {len(runs)} runs ({names}); tail one of them"
            )
        found = runs[0]
        followed = {source.format for source in self.sources.values()}
        new = [
            (f, fmt)
            for f, fmt in found.files
            # one copy per run of a format whose copies repeat one history (trainer_state.json):
            # while the root copy is being rewritten, discovery may prefer a checkpoint-*/
            # copy, which repeats the same history
            if f not in self.sources
            and not (formats.get(fmt).best_copy is not None and fmt in followed)
        ]
        if not new:
            return
        prefixes = tag_prefixes(found)
        for file, fmt in new:
            display = self.shown(file) if self.shown else _display(file, self.path)
            self.sources[file] = open_feed(
                file, fmt, display, prefixes.get(file, ""), part=found.part
            )
            self.status.files.append(display)
            if self.window.rows or self.status.state != "reading":
                self.view.note(f"new file: {display}")
            note = formats.get(fmt).follow_note
            if note is not None and not self.status.tensorboard:
                # the one format with a note (TensorBoard) flushes in bursts: the stall
                # finding and the status line say so
                self.status.tensorboard = True
                if self.options.follow:
                    self.view.note(note)

    def poll(self) -> tuple[bool, bool]:
        """Read every file once: (some rows or bytes arrived, some file has more to read)."""
        got = more = False
        for note in self.refresh() if self.refresh else []:
            self.view.note(note)
        for source in list(self.sources.values()):
            batch = source.poll()
            for note in batch.notes:
                self.view.note(note)
            for problem in batch.problems:
                self.view.problem(problem)
            if batch.frame is not None and batch.frame.height:
                self._take(batch.frame)
            got |= batch.read > 0
            more |= batch.more
        return got, more

    def _take(self, frame: pl.DataFrame) -> None:
        """Add rows in slices of half the window, judging each slice before the window
        drops it: a poll can bring far more rows than the window holds (catching up on a
        long log), and every row must be seen by the rules once."""
        size = max(self.options.recent // 2, 1)
        for start in range(0, frame.height, size):
            part = frame.slice(start, size)
            self.window.add(part)
            self._since_eval += part.height
            if start + size < frame.height:
                self._new.extend(self.evaluate())

    # -- rules -----------------------------------------------------------------------
    def evaluate(self) -> list[Finding]:
        self._since_eval = 0
        started = time.monotonic()
        findings = self.rules.evaluate(self.window)
        self._evaluated = time.monotonic()
        self._cost = self._evaluated - started
        self.status.evaluations = self.rules.evaluations
        metrics = tuple(self.window.metrics)
        if metrics != self._metrics:
            self._metrics = metrics
            covered = self.rules.coverage(self.window)
            self.keys = announce.key_metrics(
                list(metrics), covered, self.options.metrics, self.options.columns
            )
        return self.tracker.update(findings)

    def _fired(self, findings: list[Finding]) -> bool:
        """Announce new findings; True when one is at or above --exit-on."""
        level = self.options.exit_on
        for finding in findings:
            self.view.finding(finding)
        return level is not None and any(f.severity.rank >= level.rank for f in findings)

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> Outcome:
        """Read (and with follow, keep reading) until caught up, idle, --exit-on or Ctrl-C."""
        options = self.options
        fastest = max(options.poll / 10, 0.01)
        interval = fastest
        last_data = next_scan = time.monotonic()
        caught_up = False
        stalled = False
        reason = "caught up"
        try:
            while True:
                got, more = self.poll()
                now = time.monotonic()
                if got:
                    last_data, interval = now, fastest
                    if stalled:
                        stalled = False
                        self.tracker.seen.pop((announce.STALL_RULE, "-"), None)
                        self.view.note("data is arriving again")
                due = self._since_eval and (
                    self._since_eval >= options.recent // 2
                    or (not more and now - self._evaluated >= max(EVAL_GAP, self._cost))
                )
                if due or (caught_up and self._new):
                    new, self._new = self._new + self.evaluate(), []
                    if caught_up and self._fired(new):
                        reason = "exit-on"
                        return self._end(reason, exit_now=True)
                if not more and not caught_up:
                    caught_up = True
                    if self._since_eval or not self.rules.evaluations:
                        self.evaluate()
                    self._new = []  # the caught-up summary announces every finding so far
                    self._caught_up()
                    if not options.follow:
                        return self._end(reason)
                    if self._fired(self.tracker.ordered()):
                        return self._end("exit-on", exit_now=True)
                    self.status.state = "following"
                if more:
                    if self.view.live:  # a long catch-up: show how far it got
                        self.view.update(self.window, self.tracker, self.keys, self.status)
                    continue
                idle = now - last_data
                if options.stall is not None and not stalled and idle >= options.stall * 60:
                    stalled = True
                    finding = announce.stall_finding(
                        self.window, options.stall, idle, self.status.tensorboard
                    )
                    if self.tracker.add(finding) and self._fired([finding]):
                        return self._end("exit-on", exit_now=True)
                if options.idle is not None and idle >= options.idle:
                    return self._end("idle")
                self.view.update(self.window, self.tracker, self.keys, self.status)
                if now >= next_scan:  # also while data streams in: a new file may appear
                    self._rescan()
                    next_scan = now + RESCAN_POLLS * options.poll
                time.sleep(interval)
                interval = min(interval * 1.5, options.poll)
        except KeyboardInterrupt:
            return self._end("interrupted")

    def _caught_up(self) -> None:
        """Show the last rows (tail -n) once the existing data is read."""
        if self.options.lines > 0 and self.window.frame.height:
            self.view.print(announce.rows_table(self.window, self.keys, self.options.lines))
        self.view.caught_up(self.window.last_step)
        if not self.options.follow:
            self.view.findings(self.tracker.ordered())

    def _rescan(self) -> None:
        try:
            self.scan()
        except SeveralRuns as exc:  # a second run appeared beside the one followed
            if not self._several:
                self._several = True
                self.view.note(f"{exc}; still following the first (tail each one separately)")
        except InputError:  # no log yet, or a file vanished mid-listing
            pass

    def _end(self, reason: str, *, exit_now: bool = False) -> Outcome:
        self.status.state = reason
        if self._since_eval and not exit_now:  # rows that arrived since the last evaluation
            self._fired(self.evaluate())
        if self.options.follow:
            self.view.update(self.window, self.tracker, self.keys, self.status, force=True)
        self.view.stop()
        for source in self.sources.values():
            for problem in source.finish():  # an incomplete last line / record
                self.view.problem(problem)
            source.close()
        failed = bool(self.tracker.at_least(self.options.fail_on))
        code = 1 if exit_now or failed else 0
        return Outcome(code, reason, self.tracker)


def _display(file: Path, base: Path) -> str:
    """Paths as the user typed them."""
    if file == base:
        return str(base)
    try:
        return str(base / file.relative_to(base))
    except ValueError:
        return str(file)
