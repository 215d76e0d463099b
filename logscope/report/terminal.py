"""The human report: per run a header, the findings, and the metrics the rules looked at.

Text from a log reaches Rich only as `Text` built from `safe(...)`: never as a markup string
(a metric named `[bold]` stays `[bold]`), never with a raw control character or newline.
"""

from __future__ import annotations

import io
from collections import Counter

import polars as pl
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from logscope.columns import col, logged
from logscope.incidents import Assessment, assess
from logscope.model import Severity
from logscope.outcome import RunReport
from logscope.report import Document, Layout
from logscope.report.json import run_status
from logscope.report.sparkline import sparkline
from logscope.report.text import safe
from logscope.report.verdict import (
    VERDICT_STYLE,
    incidents_table,
    quiet_lines,
    verdict_text,
)
from logscope.run import Run

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
STATUS = {"pass": "bold green", "fail": "bold red", "error": "bold red"}
MAX_METRIC_ROWS = 40
UNWRAPPED = 1_000_000  # the width off a terminal: no line is folded (pipes, grep, files)
# a sweep larger than this shows in detail only the runs that need a look (watch or stop);
# healthy ones are rows of the table of runs (2,000 full blocks took 85 s and 82,000 lines)
SWEEP_DETAIL = 50


def render(doc: Document, layout: Layout) -> str:
    """Render all runs; quiet=1 prints findings only, quiet>=2 nothing. Several runs end
    with a table of runs (status, counts, worst finding); `summary_only` prints just that.
    With a baseline (`logscope diff`), the runs side by side with it instead."""
    if layout.quiet >= 2:
        return ""
    if doc.baseline is not None:
        return _render_diff(doc.baseline, list(doc.reports), doc.fail_on, layout)
    reports, fail_on, quiet = list(doc.reports), doc.fail_on, layout.quiet
    summary_only, color = layout.summary_only, layout.color
    console = _console(color, layout.width)
    hidden = 0
    assessments = [assess(report) for report in reports]  # one Polars query each: once
    for report, assessment in zip([] if summary_only else reports, assessments, strict=False):
        if not quiet and len(reports) > SWEEP_DETAIL and assessment.verdict.status == "healthy":
            hidden += 1
            continue
        if quiet:
            # one whole line each, whatever the width: made for grep
            for line in quiet_lines(report, assessment):
                console.print(line, soft_wrap=True)
            continue
        console.print(_header(report, fail_on, verdict_text(assessment.verdict), doc.config.file))
        if assessment.incidents:
            console.print()
            console.print(incidents_table(assessment.incidents))
        if report.findings:
            console.print()
            console.print(Text("findings", style="dim"))
            console.print(_findings(report))
            console.print()
        table = _metrics(report)
        if table is not None:
            console.print(table)
        console.print()
    if not quiet and (summary_only or len(reports) > 1):
        if hidden:
            note = f"{hidden} healthy runs of {len(reports)} are rows of this table only"
            console.print(Text(f"{note} (--format json or markdown shows every run)", style="dim"))
        console.print(runs_table(reports, fail_on, assessments))
        console.print()
    if not quiet:
        console.print(Text(safe(summary(reports))))
    return _text(console, color)


def runs_table(
    reports: list[RunReport], fail_on: Severity | None, assessments: list[Assessment]
) -> Table:
    """One row per run: status, findings by severity, the worst finding."""
    table = Table(box=None, header_style="dim", pad_edge=False)
    for column in ("run", "status", "verdict", "errors", "warnings", "info", "worst finding"):
        table.add_column(
            column,
            justify="right" if column in ("errors", "warnings", "info") else "left",
            overflow="fold",
        )
    for report, assessment in zip(reports, assessments, strict=True):
        status = run_status(report, fail_on)
        counts = Counter(f.severity for f in report.findings)
        worst = report.findings[0] if report.findings else None
        verdict = assessment.verdict.status
        table.add_row(
            Text(safe(report.run.path)),
            Text(status.upper(), style=STATUS[status]),
            Text(verdict.upper(), style=VERDICT_STYLE[verdict]),
            str(counts[Severity.ERROR]),
            str(counts[Severity.WARNING]),
            str(counts[Severity.INFO]),
            Text(f"{safe(worst.rule)} (step {worst.step})") if worst else Text(""),
        )
    return table


def _console(color: bool, width: int) -> Console:
    """A console that renders into memory: reporters return text, the CLI prints it."""
    return Console(
        file=io.StringIO(),
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        soft_wrap=False,
        emoji=False,  # no `:name:` codes in a report (and no emoji table to load)
    )


def _text(console: Console, color: bool) -> str:
    text = console.file.getvalue()  # type: ignore[attr-defined]
    # Rich pads grid rows to the full width; plain output should not carry trailing blanks
    return text if color else "\n".join(line.rstrip() for line in text.split("\n"))


def _header(
    report: RunReport,
    fail_on: Severity | None,
    verdict: Text | None = None,
    config: str | None = None,
) -> Group:
    run = report.run
    status = run_status(report, fail_on)
    title = Text()
    title.append(safe(run.path), style="bold")
    title.append("  ")
    title.append(status.upper(), style=STATUS[status])
    lines: list[Text | Table] = [title] if verdict is None else [title, verdict]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column(overflow="fold")
    sources = "\n".join(f"{safe(s.path)} ({s.format}, {s.rows} rows)" for s in run.sources)
    grid.add_row("sources", Text(sources or "none"))
    steps = run.steps
    step_text = (
        f"{steps['first']}–{steps['last']} ({steps['count']} logged), {len(run.metrics)} metrics"
        if steps["count"]
        else "no rows could be read"
    )
    grid.add_row("steps", step_text)
    for resume in run.resumes:
        where = f"{resume.source}:{resume.line}" if resume.line else resume.source
        grid.add_row(
            "resumed",
            Text(f"at step {resume.step} after step {resume.previous_step} ({safe(where)})"),
        )
    grid.add_row("packs", Text(safe(", ".join(report.packs))))
    if config is not None:
        grid.add_row("config", Text(safe(config)))
    for note in [*run.notes, *(f"{s.path}: {n}" for s in run.sources for n in s.notes)]:
        grid.add_row("note", Text(safe(note)))
    for problem in run.problems:
        grid.add_row(Text("problem", style="yellow"), Text(safe(str(problem))))
    lines.append(grid)
    return Group(*lines)


def _findings(report: RunReport) -> Table:
    """One block per finding: a headline (severity, rule, metric, step, value), the message,
    and the advice dimmed underneath — readable at 80 columns, unlike a six-column table."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for f in report.findings:
        head = Text()
        head.append(safe(f.rule), style="bold")
        head.append(f"  {safe(f.metric)}", style="magenta")
        if f.step is not None:
            first = f.onset if f.onset is not None else f.step  # the bad stretch, from its onset
            steps = (
                f"step {first}" if f.last_step in (None, first) else f"steps {first}–{f.last_step}"
            )
            head.append(f"  {steps}" + (f" (fired at {f.step})" if f.step != first else ""))
        if f.value is not None:
            head.append(f"  value {_number(f.value)}")
        table.add_row(Text(f"{str(f.severity).upper():<7}", style=STYLE[f.severity]), head)
        table.add_row("", Text(safe(f.message)))
        table.add_row("", Text(f"→ {safe(f.advice)}", style="dim"))
    return table


def _metrics(report: RunReport) -> Table | None:
    """First, last, min, max and shape of each metric the rules looked at."""
    frame = report.run.frame
    names = [m for m in report.metrics_checked if m in frame.columns][:MAX_METRIC_ROWS]
    if not names:
        return None
    stats = frame.select(
        pl.struct(
            col(m).drop_nulls().first().alias("first"),
            col(m).drop_nulls().last().alias("last"),
            col(m).filter(col(m).is_finite()).min().alias("min"),
            col(m).filter(col(m).is_finite()).max().alias("max"),
            col(m).is_not_null().sum().alias("n"),
        ).alias(m)
        for m in names
    ).row(0, named=True)
    table = Table(expand=False, pad_edge=False, box=None, header_style="dim")
    for column in ("metric", "points", "first", "last", "min", "max", "trend"):
        table.add_column(column, justify="left" if column in ("metric", "trend") else "right")
    for m in names:
        s = stats[m]
        series = logged(frame.get_column(m))
        table.add_row(
            Text(safe(m)),
            str(s["n"]),
            _number(s["first"]),
            _number(s["last"]),
            _number(s["min"]),
            _number(s["max"]),
            sparkline(series),
        )
    return table


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4g}"


def summary(reports: list[RunReport]) -> str:
    """`3 findings (1 error, 2 warnings) in 2 runs; 14 rule evaluations, 2 skipped (...)`"""
    counts = Counter(f.severity for r in reports for f in r.findings)
    total = sum(counts.values())
    parts = []
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        n = counts.get(severity, 0)
        if n:
            name = str(severity) + ("s" if n != 1 and severity != Severity.INFO else "")
            parts.append(f"{n} {name}")
    detail = f" ({', '.join(parts)})" if parts else ""
    runs = len(reports)
    evaluated = sum(r.evaluated for r in reports)
    reasons = Counter(s.reason.split(":")[0] for r in reports for s in r.skipped)
    skipped = sum(reasons.values())
    text = (
        f"{total} finding{_s(total)}{detail} in {runs} run{_s(runs)}; "
        f"{evaluated} rule evaluation{_s(evaluated)}"
    )
    if skipped:
        why = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
        text += f", {skipped} skipped ({why})"
    return text


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _render_diff(
    baseline: Run, reports: list[RunReport], fail_on: Severity | None, layout: Layout
) -> str:
    """`logscope diff`: the metrics both runs logged, final values side by side, then the
    findings of the baseline rules."""
    color = layout.color
    console = _console(color, layout.width)
    for report in reports:
        console.print(_header(report, fail_on))
        console.print(Text(f"baseline {safe(baseline.path)}", style="dim"))
        note = _length_note(baseline, report.run)
        if note:
            console.print(Text(note, style="yellow"))
        console.print(_comparison(baseline, report.run))
        if report.findings:
            console.print()
            console.print(_findings(report))
        console.print()
    console.print(Text(safe(summary(reports))))
    return _text(console, color)


def _ends(baseline: Run, run: Run) -> tuple[int, int] | None:
    """The last step of the baseline and of the run (None if either logged no step)."""
    ends = [r.frame.get_column("step").max() for r in (baseline, run)]
    if not all(isinstance(e, (int, float)) for e in ends):
        return None
    return int(ends[0]), int(ends[1])  # type: ignore[arg-type]


def _shared_end(baseline: Run, run: Run) -> int | None:
    """The last step both runs reached: finals are compared there, like for like."""
    ends = _ends(baseline, run)
    return min(ends) if ends else None


def _length_note(baseline: Run, run: Run) -> str:
    ends = _ends(baseline, run)
    if ends is None or ends[0] == ends[1]:
        return ""
    base_end, run_end = ends
    shorter = "the run" if run_end < base_end else "the baseline"
    return (
        f"shorter  {shorter} (run to step {run_end}, baseline to step {base_end}): "
        f"final values are compared at step {min(ends)}"
    )


def _comparison(baseline: Run, run: Run) -> Table:
    """Final value (median of the last 10 logged points up to the last step both runs
    reached) of each shared metric, and change."""
    shared = [m for m in run.metrics if m in set(baseline.metrics)][:MAX_METRIC_ROWS]
    end = _shared_end(baseline, run)
    table = Table(box=None, header_style="dim", pad_edge=False)
    at = f" @{end}" if end is not None else ""
    for column in ("metric", f"baseline final{at}", f"run final{at}", "change", "run trend"):
        table.add_column(column, justify="left" if column in ("metric", "run trend") else "right")
    for metric in shared:
        ours, theirs = _final(run.frame, metric, end), _final(baseline.frame, metric, end)
        change = (
            "" if ours is None or theirs in (None, 0) else f"{(ours - theirs) / abs(theirs):+.1%}"
        )
        series = logged(run.frame.get_column(metric))
        table.add_row(Text(safe(metric)), _number(theirs), _number(ours), change, sparkline(series))
    return table


def _final(frame: pl.DataFrame, metric: str, end: int | None = None) -> float | None:
    if end is not None:
        frame = frame.filter(frame.get_column("step") <= end)
    values = logged(frame.get_column(metric))
    values = values.filter(values.is_finite()).tail(10)
    median = values.median()
    return None if values.len() == 0 or median is None else float(median)
