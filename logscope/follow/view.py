"""The two faces of `tail`: plain grep-able lines (pipes, job logs) and a live rich view
(a terminal). Both get the same calls from watch.py; neither decides anything."""

from __future__ import annotations

import functools
import sys
import time
from typing import TYPE_CHECKING

from logscope.follow import announce
from logscope.model import Severity
from logscope.report.text import safe

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.live import Live
    from rich.segment import Segment

    from logscope.follow.buffer import Window
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
        self.console.print(announce.banner(finding, self.console.width))

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
        return Screen(window, tracker.ordered(), keys, status)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


# -- the live view's layout ------------------------------------------------------------------
SEVERITY_WIDTH = 7  # "warning"
GAP = 2  # cells between columns
MIN_MESSAGE = 20  # narrower than this, a finding's message goes on a line of its own
RULE_WIDTH = 30  # the rule column is at least this wide when one rule id must fold
MIN_METRICS = 3  # metric rows kept when findings crowd the screen
SPARK = 24  # widest sparkline
TB_LINE = "TensorBoard: torch's SummaryWriter flushes every 120 s by default"

Line = list["Segment"]


class Screen:
    """The live view laid out for the terminal it is drawn on, whose size only rich knows
    at draw time (hence a renderable, not a fixed Group).

    Every finding shown keeps its severity, its whole rule id and its step: the message is
    what gets truncated, or moves to a line of its own on a narrow terminal, and a rule id
    wider than the terminal is folded onto more lines, never cut. When the findings do not
    all fit in the height, the worst come first and one line counts the rest (each was
    announced by a banner above the view)."""

    def __init__(
        self, window: Window, findings: list[Finding], keys: list[str], status: Status
    ) -> None:
        self.window = window
        self.found = findings
        self.keys = [k for k in keys if k in window.frame.columns]
        self.status = status

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        width = options.max_width
        lines = self._header(width)
        room = max(4, (options.height or console.height) - 1 - len(lines))  # 1: the cursor
        columns = self._columns(width)
        wanted = 1 + sum(_folds(f, columns[0]) + (not columns[2]) for f in self.found)
        metrics = 1 + len(self.keys) if self.keys else 0
        note = self.status.tensorboard and metrics + wanted + 1 <= room
        if metrics + wanted > room - note:  # findings first; a few metrics stay in sight
            metrics = min(metrics, max(1 + MIN_METRICS, room - wanted), room - 2)
            metrics = metrics if metrics > 1 else 0  # a header alone says nothing
        if metrics:
            table = self._metrics(width, metrics - 1)
            lines += console.render_lines(table, options.update(height=None), pad=False)
        lines += self._findings(width, columns, room - note - metrics)
        if note:
            lines.append(_line(TB_LINE, "dim", width))
        for line in lines:
            yield from line
            yield Segment.line()

    def _header(self, width: int) -> list[Line]:
        """Run path (its start cut if too long: the run's name is at the end) and state;
        then step, rows and the time of the last record."""
        from rich.cells import cell_len

        state = f"  {self.status.state}"
        path = safe(self.status.path)
        room = max(8, width - cell_len(state))
        if cell_len(path) > room:
            path = "…" + path[len(path) - room + 1 :]
        window = self.window
        clock = announce.clock(window.last_wall or window.last_arrival)
        facts = f"step {window.last_step}  rows {window.rows}  last record {clock}"
        head = _line(path, "bold", width) + _line(state, "dim", max(0, width - cell_len(path)))
        return [head, _line(facts, "dim", width)]

    def _metrics(self, width: int, rows: int) -> RenderableType:
        from rich.cells import cell_len

        keys = self.keys[:rows]
        name = min(max(cell_len(safe(k)) for k in keys), max(12, width // 3))
        spark = min(SPARK, width - name - 3 * 9 - 4 * GAP)  # three numbers, four gaps
        return announce.metrics_table(
            self.window, keys, spark=spark if spark >= 8 else 0, name_width=name
        )

    def _columns(self, width: int) -> tuple[int, int, bool]:
        """Rule column width, step column width, and whether messages share the line.

        Messages share it when at least half the rule ids leave them MIN_MESSAGE cells; the
        column then fits those (and at least RULE_WIDTH cells), and a longer rule id folds.
        Else each message goes below its finding, and the column fits every rule id it can."""
        from rich.cells import cell_len

        if not self.found:
            return 0, 0, True
        rules = sorted(cell_len(safe(f.rule)) for f in self.found)
        step = max(len(_step(f)) for f in self.found)
        cap = width - SEVERITY_WIDTH - step - 3 * GAP - MIN_MESSAGE
        fitting = [r for r in rules if r <= cap]
        if len(fitting) * 2 >= len(rules):  # not so narrow that a long one folds many times
            return max(fitting[-1], min(rules[-1], cap, RULE_WIDTH)), step, True
        room = max(8, width - SEVERITY_WIDTH - step - 2 * GAP)  # the step is never cut either
        return min(rules[-1], room), step, False

    def _findings(self, width: int, columns: tuple[int, int, bool], room: int) -> list[Line]:
        """Severity, rule and step of as many findings as `room` holds (worst first, the
        rest counted on one line); lines left over go to their messages, worst first: a
        message shares the finding's line when it can, else takes the line below."""
        from rich.segment import Segment

        found = self.found
        if not found:
            return [_line("no findings", "green", width)]
        summary = f"{len(found)} finding(s): {_counts(found)}"
        lines = [_line(summary, announce.STYLES[found[0].severity], width)]
        room -= 1
        heads: list[list[Line]] = []
        for index, finding in enumerate(found):
            head = self._head(finding, columns, width)
            keep = 1 if index + 1 < len(found) else 0  # for "... and N more"
            if sum(map(len, heads)) + len(head) > room - keep:
                break
            heads.append(head)
        hidden = found[len(heads) :]
        spare = room - sum(map(len, heads)) - bool(hidden)
        rule, step, inline = columns
        # an inline message starts after the step; one below is indented past a folded rule
        at = SEVERITY_WIDTH + rule + step + 3 * GAP if inline else SEVERITY_WIDTH + 2 * GAP
        share = spare // max(1, len(heads))  # the lines each message may add
        for finding, head in zip(found, heads, strict=False):
            message = safe(finding.message)
            if inline:  # beside the rule's lines first, then below them
                parts = _wrap(message, width - at, len(head) + min(spare, share))
                for index, part in enumerate(parts[: len(head)]):
                    head[index] = head[index] + part
                more = parts[len(head) :]
            elif spare > 0:
                more = _wrap(message, width - at, min(spare, max(1, share)))
            else:
                more = []
            lines += head + [[Segment(" " * at), *part] for part in more]
            spare -= len(more)
        if hidden:
            lines.append(_line(_more(hidden), "dim", width))
        return lines

    def _head(self, finding: Finding, columns: tuple[int, int, bool], width: int) -> list[Line]:
        """`severity  rule  step N  ` in columns; a rule id wider than its column is folded
        onto the following lines (aligned under the rule), never cut."""
        from rich.text import Text

        rule, step, _ = columns
        console = _console(width)
        lead = " " * (SEVERITY_WIDTH + GAP)
        parts = Text(safe(finding.rule), style="bold").wrap(console, rule, overflow="fold")
        out = []
        for number, part in enumerate(parts):
            line = Text(lead)
            if number == 0:
                line = Text(str(finding.severity).ljust(SEVERITY_WIDTH) + " " * GAP)
                line.stylize(announce.STYLES[finding.severity], 0, SEVERITY_WIDTH)
            part.pad_right(rule - part.cell_len)
            line.append_text(part)
            # the step on the first line; blanks below it, so a message can go beside
            shown = _step(finding) if number == 0 else ""
            line.append(" " * GAP + shown.ljust(step) + " " * GAP)
            line.truncate(width)
            out.append(list(line.render(console)))
        return out


def _line(text: str, style: str, width: int) -> Line:
    """`text` on one line of at most `width` cells, cut with an ellipsis."""
    from rich.text import Text

    if width <= 0:
        return []
    shown = Text(text, style=style)
    shown.truncate(width, overflow="ellipsis")
    return list(shown.render(_console(width)))


def _wrap(text: str, width: int, most: int) -> list[Line]:
    """`text` wrapped to `width` cells on at most `most` lines, the last cut with an
    ellipsis when more is left."""
    from rich.text import Text

    most = max(1, most)
    parts = [
        part.plain.strip() for part in Text(text).wrap(_console(width), width, overflow="fold")
    ]
    if len(parts) > most:  # the rest of `text` after the kept parts, which come in order
        end = 0
        for part in parts[: most - 1]:
            end = text.index(part, end) + len(part)
        parts = [*parts[: most - 1], text[end:].strip()]
    return [_line(part, "", width) for part in parts]


def _folds(finding: Finding, rule: int) -> int:
    """About how many lines a finding's rule id takes in a column `rule` cells wide."""
    from rich.cells import cell_len

    return max(1, -(-cell_len(safe(finding.rule)) // max(1, rule)))


def _step(finding: Finding) -> str:
    return f"step {finding.step if finding.step is not None else '-'}"


def _counts(findings: list[Finding]) -> str:
    counts = {s: sum(f.severity is s for f in findings) for s in Severity}
    worst = sorted(counts, key=lambda s: -s.rank)
    return ", ".join(f"{counts[s]} {s}" for s in worst if counts[s])


def _more(rest: list[Finding]) -> str:
    return f"… and {len(rest)} more ({_counts(rest)}), each announced above"


@functools.lru_cache(maxsize=8)
def _console(width: int) -> Console:
    """A console that only measures and splits text for a line of `width` cells (kept: the
    view is drawn up to 4 times a second, and a Console is not free to make)."""
    from rich.console import Console

    return Console(width=max(1, width), color_system=None, legacy_windows=False)
