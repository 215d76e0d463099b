"""The two faces of `tail`: plain grep-able lines (pipes, job logs) and a live rich view
(a terminal). Both get the same calls from watch.py; neither decides anything."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from logscope.follow import announce
from logscope.model import Severity
from logscope.report.text import safe

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from logscope.follow.window import Window
    from logscope.model import Finding, Problem

REFRESH = 0.25  # seconds between redraws of the live view (at most 4 per second)


class Status:
    """What the loop knows beyond the window: files, state, when data last arrived."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.files: list[str] = []
        self.tensorboard = False
        self.state = "reading"
        self.evaluations = 0


class PlainView:
    """One line per event on stdout; problems on stderr as `warning: file:line: ...`."""

    live = False

    def __init__(self, every: int, console: Console) -> None:
        self.every = max(1, every)
        self.console = console
        self._next = self.every  # the step at which the next PROGRESS line is due

    def _line(self, text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def note(self, text: str) -> None:
        self._line(f"NOTE {safe(text)}")

    def problem(self, problem: Problem) -> None:
        sys.stderr.write(f"warning: {safe(str(problem))}\n")
        sys.stderr.flush()

    def finding(self, finding: Finding) -> None:
        self._line(announce.plain_finding(finding))

    def print(self, renderable: RenderableType) -> None:
        self.console.print(renderable)

    def update(
        self,
        window: Window,
        tracker: announce.Tracker,
        keys: list[str],
        status: Status,
        force: bool = False,
    ) -> None:
        """A PROGRESS line each time the step passes a multiple of `every`."""
        step = window.last_step
        if step is not None and step >= self._next:
            self._line(announce.progress_line(window, keys, len(tracker.seen)))
            self._next = (step // self.every + 1) * self.every

    def caught_up(self, step: int | None) -> None:
        """The rows read so far were shown as a table: progress counts from here."""
        if step is not None:
            self._next = (step // self.every + 1) * self.every

    def findings(self, findings: list[Finding]) -> None:
        for finding in findings:
            self.finding(finding)

    def stop(self) -> None:
        pass


class LiveView(PlainView):
    """A rich Live display: header, key metrics with sparklines, current findings. A new
    finding is printed as a banner above it, once."""

    live = True

    def __init__(self, every: int, console: Console) -> None:
        super().__init__(every, console)
        self._live: Live | None = None
        self._drawn = 0.0

    def _start(self) -> Live:
        if self._live is None:
            from rich.live import Live

            self._live = Live(console=self.console, auto_refresh=False, transient=False)
            self._live.start()
        return self._live

    def note(self, text: str) -> None:
        from rich.text import Text

        self.console.print(Text(f"note: {safe(text)}", style="dim"))

    def problem(self, problem: Problem) -> None:
        from rich.text import Text

        self.console.print(Text(f"warning: {safe(str(problem))}", style="yellow"))

    def finding(self, finding: Finding) -> None:
        self.console.print(announce.banner(finding))

    def findings(self, findings: list[Finding]) -> None:
        if findings:
            self.console.print(announce.findings_table(findings))

    def update(
        self,
        window: Window,
        tracker: announce.Tracker,
        keys: list[str],
        status: Status,
        force: bool = False,
    ) -> None:
        now = time.monotonic()
        if now - self._drawn < REFRESH and not force:
            return
        self._drawn = now
        live = self._start()
        live.update(self._render(window, tracker, keys, status), refresh=True)

    def _render(
        self, window: Window, tracker: announce.Tracker, keys: list[str], status: Status
    ) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        head = Text()
        head.append(f"{safe(status.path)}", style="bold")
        head.append(
            f"  {status.state}  step {window.last_step}  rows {window.rows}"
            f"  last record {announce.clock(window.last_wall or window.last_arrival)}",
            style="dim",
        )
        parts: list[RenderableType] = [head, announce.metrics_table(window, keys)]
        current = tracker.ordered()
        if current:
            worst = current[0].severity
            style = "bold red" if worst is Severity.ERROR else "yellow"
            parts.append(Text(f"{len(current)} finding(s)", style=style))
            parts.append(announce.findings_table(current, compact=True))
        else:
            parts.append(Text("no findings", style="green"))
        if status.tensorboard:
            parts.append(
                Text(
                    "TensorBoard: torch's SummaryWriter flushes every 120 s by default",
                    style="dim",
                )
            )
        return Group(*parts)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
