"""What `tail` prints: each finding once, when it first fires; key metrics; progress.

Two outputs share this module: a live rich view when stdout is a terminal (view.py), and
plain lines otherwise, one per event, each starting with a fixed word so job logs can be
grepped: `FINDING`, `PROGRESS`, `STALLED` (a finding too), `NOTE`.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from logscope.columns import logged
from logscope.model import Finding, Severity
from logscope.report.text import safe

if TYPE_CHECKING:
    from rich.console import RenderableType

    from logscope.follow.buffer import Window

STALL_RULE = "tail/stalled"
# metrics a person looks at first, in this order (matched anywhere in the key)
_PRIORITY = [
    re.compile(p)
    for p in (
        r"(^|/)loss$",
        r"eval_?/?loss$",
        r"grad_norm",
        r"(learning_rate|(^|/)lr$)",
        r"margins?$",
        r"reward",
        r"(^|/)kl",
        r"entropy",
        r"clip",
        r"accuracy|acc$",
    )
]
STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


@dataclass
class Tracker:
    """Findings by (rule, metric): a finding is new the first time its key is seen."""

    seen: dict[tuple[str, str], Finding] = field(default_factory=dict)

    def update(self, findings: list[Finding]) -> list[Finding]:
        """Record the latest evaluation; return the findings never seen before.

        A known finding stays as first announced (step, value, message): later evaluations
        see a window that may have dropped its first step; only its last step moves on."""
        new = []
        for finding in findings:
            key = (finding.rule, finding.metric)
            first = self.seen.get(key)
            if first is None:
                new.append(finding)
                self.seen[key] = finding
            else:
                steps = [s for s in (first.last_step, finding.last_step) if s is not None]
                self.seen[key] = replace(first, last_step=max(steps, default=None))
        return new

    def add(self, finding: Finding) -> bool:
        key = (finding.rule, finding.metric)
        fresh = key not in self.seen
        self.seen[key] = finding
        return fresh

    def at_least(self, level: Severity | None) -> list[Finding]:
        if level is None:
            return []
        return [f for f in self.seen.values() if f.severity.rank >= level.rank]

    def ordered(self) -> list[Finding]:
        return sorted(
            self.seen.values(),
            key=lambda f: (-f.severity.rank, f.step if f.step is not None else -1, f.rule),
        )


def number(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return f"{value:.4g}"


def clock(epoch: float | None) -> str:
    """`05:01:02 UTC (12s ago)`: when the last record was written (or seen)."""
    if epoch is None:
        return "never"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))
    age = max(0.0, time.time() - epoch)
    ago = f"{age:.0f}s" if age < 120 else f"{age / 60:.1f}min"
    return f"{stamp} ({ago} ago)"


def plain_finding(finding: Finding) -> str:
    """One grep-able line: FINDING <severity> <rule> metric=.. step=.. value=.. | msg | advice."""
    word = "STALLED" if finding.rule == STALL_RULE else "FINDING"
    parts = [
        word,
        str(finding.severity),
        finding.rule,
        f"metric={finding.metric}",
        f"step={finding.step if finding.step is not None else '-'}",
        f"value={number(finding.value)}",
        f"| {finding.message}",
        f"| advice: {finding.advice}" if finding.advice else "",
    ]
    return safe(" ".join(p for p in parts if p)).replace("\n", " ")


def banner(finding: Finding, width: int | None = None) -> RenderableType:
    """A panel for a terminal: severity and rule in the title, then what and what to do.
    When the title would not fit in `width` cells, the rule id opens the body instead,
    where it wraps: a panel title is cut, and the rule id is what a user looks up."""
    from rich.cells import cell_len
    from rich.panel import Panel
    from rich.text import Text

    style = STYLES[finding.severity]
    rule = safe(finding.rule)
    title = Text(f" {str(finding.severity).upper()}  {rule} ", style=style)
    body = Text()
    if width is not None and cell_len(title.plain) + 4 > width:
        title = Text(f" {str(finding.severity).upper()} ", style=style)
        body.append(f"{rule}\n", style=style)
    body.append(safe(finding.message), style="bold")
    step = finding.step if finding.step is not None else "-"
    body.append(f"\nmetric {safe(finding.metric)}   step {step}   value {number(finding.value)}")
    if finding.advice:
        body.append("\nadvice: ", style="dim")
        body.append(safe(finding.advice))
    return Panel(body, title=title, title_align="left", border_style=style, expand=False)


def key_metrics(
    metrics: list[str], covered: dict[str, list[str]], wanted: list[str], limit: int
) -> list[str]:
    """The metrics to show: the ones asked for (exact names or glob patterns), else those the
    rules look at, most familiar first (loss, grad norm, learning rate, rewards, KL, ...)."""
    if wanted:
        from fnmatch import fnmatchcase

        picked = [m for w in wanted for m in metrics if m == w or fnmatchcase(m, w)]
        return list(dict.fromkeys(picked))

    def rank(name: str) -> tuple[int, int, int]:
        hit = next((i for i, p in enumerate(_PRIORITY) if p.search(name)), len(_PRIORITY))
        return (0 if covered.get(name) else 1, hit, metrics.index(name))

    ordered = sorted(metrics, key=rank)
    return ordered[:limit]


def progress_line(window: Window, keys: list[str], findings: int) -> str:
    """PROGRESS step=N rows=N findings=N last_record=... key=value ..."""
    values = window.frame.tail(1).row(0, named=True) if window.frame.height else {}
    shown = " ".join(f"{safe(k)}={number(values.get(k))}" for k in keys if k in values)
    return (
        f"PROGRESS step={window.last_step} rows={window.rows} findings={findings} "
        f"last_record={clock(window.last_wall or window.last_arrival)}"
        + (f" {shown}" if shown else "")
    )


def rows_table(window: Window, keys: list[str], n: int) -> RenderableType:
    """The last `n` steps of the key metrics, like `tail -n`."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="dim", pad_edge=False)
    table.add_column("step", justify="right")
    for key in keys:
        table.add_column(Text(safe(key)), justify="right", overflow="fold")
    present = [k for k in keys if k in window.frame.columns]
    rows = window.frame.select("step", *present).tail(n) if window.frame.height else None
    if rows is not None:
        for row in rows.iter_rows(named=True):
            table.add_row(str(row["step"]), *(number(row.get(k)) for k in keys))
    return table


def metrics_table(
    window: Window, keys: list[str], *, spark: int = 24, name_width: int | None = None
) -> RenderableType:
    """Key metrics with their latest value and a sparkline `spark` cells wide (0: none), one
    line each (a name longer than `name_width` is cut with an ellipsis)."""
    from rich.table import Table
    from rich.text import Text

    from logscope.report.sparkline import sparkline

    table = Table(box=None, header_style="dim", pad_edge=False)
    table.add_column("metric", no_wrap=True, overflow="ellipsis", max_width=name_width)
    for column in ("last", "min", "max"):
        table.add_column(column, justify="right", no_wrap=True)
    if spark:
        table.add_column("recent", no_wrap=True)
    tail = window.frame.tail(400)
    for key in keys:
        if key not in tail.columns:
            continue
        series = logged(tail.get_column(key))
        finite = series.filter(series.is_finite())
        last = series[-1] if series.len() else None
        low = finite.min() if finite.len() else None
        high = finite.max() if finite.len() else None
        cells: list[RenderableType] = [Text(safe(key)), number(last), number(low), number(high)]
        table.add_row(*cells, *([sparkline(series, width=spark)] if spark else []))
    return table


def findings_table(findings: list[Finding]) -> RenderableType:
    """Findings one per row, long cells folded (the live view lays out its own: view.py)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="dim", pad_edge=False)
    for column in ("severity", "rule", "metric", "step", "value", "message"):
        table.add_column(column, overflow="fold")
    for f in findings:
        table.add_row(
            Text(str(f.severity), style=STYLES[f.severity]),
            Text(safe(f.rule)),
            Text(safe(f.metric)),
            str(f.step if f.step is not None else "-"),
            number(f.value),
            Text(safe(f.message)),
        )
    return table


def stall_finding(window: Window, minutes: float, idle: float, tensorboard: bool) -> Finding:
    last = window.last_wall or window.last_arrival
    step = "-" if window.last_step is None else window.last_step
    advice = (
        "Check that the job is alive (hung collective, dead data loader, full disk, "
        "preempted node)."
    )
    if tensorboard:
        advice += (
            " TensorBoard: torch's SummaryWriter flushes every 120 s by default (flush_secs), "
            "so allow more than 2 minutes."
        )
    return Finding(
        rule=STALL_RULE,
        severity=Severity.WARNING,
        metric="-",
        step=window.last_step,
        last_step=window.last_step,
        value=round(idle / 60, 2),
        message=(
            f"no new data for {idle / 60:.1f} min (--stall {minutes:g}); "
            f"last record {clock(last)}, step {step}"
        ),
        advice=advice,
        source="logscope tail --stall",
    )
