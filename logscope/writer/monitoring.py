"""Monitor: MetricWriter plus live rule checks, for Trainer callbacks and hand-written loops.

A finding is announced once per (rule, metric) with a banner like the warning system of
003's KTO guide. With `stop_on`, the first finding at or above that severity sets
`should_stop` (the loop, or the Trainer callback, acts on it) and is recorded in run.json.
Nothing here may end a training run: a failing evaluation is reported once and live checks
turn off; a failing write (a full disk) is reported once by the writer, the rows are still
checked in memory, and logging resumes when writing works again. Only the writer's
`on_error="raise"` lets an OSError through, because the user asked for it.
"""

from __future__ import annotations

import logging
import os
import sys
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from logscope.writer.jsonl import FsyncPolicy, MetricWriter, OnError, build_record
from logscope.writer.live import LiveCheck
from logscope.writer.values import numbers_of

if TYPE_CHECKING:
    from types import TracebackType

    from logscope.model import Finding
    from logscope.rules.spec import Pack

log = logging.getLogger("logscope.monitor")

_LEVELS = ("info", "warning", "error")
_BAR = "!" * 78


class Monitor:
    """Write every row through `writer` and check the run so far against the rule packs.

    `stop_on`: "error", "warning" or "info" makes the first such finding set `should_stop`;
    None (default) only announces. `announce`: the lowest severity shown as a banner
    (lower ones go to the `logscope.monitor` logger at INFO; None: only the stop gets a
    banner). `live=False` only writes.
    Banners are printed by the writing rank only; every rank evaluates, so all of them
    agree on `should_stop` when they log the same (aggregated) metrics.
    """

    def __init__(
        self,
        writer: MetricWriter | None,
        *,
        stop_on: str | None = None,
        announce: str | None = "warning",
        live: bool = True,
        packs: list[Pack] | None = None,
        rules: Iterable[str | Path] = (),
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        every: int | None = None,
        stream: TextIO | None = None,
    ) -> None:
        check_options(stop_on=stop_on, announce=announce, every=every)
        self.writer = writer
        self.stop_on = _level("stop_on", stop_on)
        self.announce_level = _level("announce", announce)
        self.check_rows = (
            LiveCheck(
                packs=packs,
                rules=rules,
                select=set(select) if select is not None else None,
                ignore=set(ignore) if ignore is not None else None,
                every=every,
            )
            if live
            else None
        )
        self.stream = stream
        self.findings: list[Finding] = []  # announced, in order
        self.stop_reason: Finding | None = None
        self.stop_step: int | None = None
        self._seen: set[tuple[str, str]] = set()
        self._failed: set[str] = set()
        self._last_step: int | None = None
        self._warned: set[str] = set()
        self._closed = False
        self._summarized: tuple[int, int] | None = None

    @property
    def should_stop(self) -> bool:
        return self.stop_reason is not None

    @property
    def speaks(self) -> bool:
        """Only the writing process prints banners: one copy per job, not one per GPU."""
        return self.writer is None or self.writer.active

    # -- logging -----------------------------------------------------------------------

    def log(
        self,
        metrics: Mapping[str, Any],
        *,
        step: int | None = None,
        wall_time: float | None = None,
    ) -> list[Finding]:
        """Write one row, check it, and return the findings announced for the first time."""
        if self._closed:
            raise ValueError("this Monitor is closed; open a new one to log more rows")
        record = self._write(metrics, step, wall_time)
        if self.check_rows is None:
            return []
        try:
            due = self.check_rows.add(
                record["step"], record["wall_time"], numbers_of(record_metrics(record))
            )
        except Exception as exc:
            self._fail("live checks", exc)
            return []
        return self.check() if due else []

    def check(self) -> list[Finding]:
        """Evaluate the rules now; announce and return what is new."""
        if self.check_rows is None:
            return []
        try:
            findings = self.check_rows.evaluate()
        except Exception as exc:
            self._fail("live checks", exc)
            return []
        new = [f for f in findings if (f.rule, f.metric) not in self._seen]
        for finding in new:
            self._seen.add((finding.rule, finding.metric))
            self.findings.append(finding)
            stops = self.stop_reason is None and _rank(finding.severity) >= _rank(self.stop_on)
            if stops:
                self.stop_reason = finding
                self.stop_step = self._last_step
            self._announce(finding, stops)
            if stops:
                self._record_stop(finding)
        return new

    def summarize(self) -> list[Finding]:
        """Evaluate once more (rows since the last evaluation) and print a one-line summary."""
        new = self.check() if self.check_rows is not None and self.check_rows.rows else []
        self._summary()
        return new

    def close(self) -> None:
        """summarize(), then close the writer. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        self.summarize()
        if self.writer is not None and not self.writer.closed:
            self.writer.close()  # reports its own failures (or raises: on_error="raise")

    def __enter__(self) -> Monitor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------

    def _write(
        self, metrics: Mapping[str, Any], step: int | None, wall_time: float | None
    ) -> dict[str, Any]:
        if self.writer is not None:  # a failed write is the writer's to report; the row
            record = self.writer.log(metrics, step=step, wall_time=wall_time)  # is checked
        else:
            record = build_record(metrics, step, wall_time, self._last_step, self._warned)
        self._last_step = record["step"]
        return record

    def _announce(self, finding: Finding, stops: bool) -> None:
        if not self.speaks:
            return
        if _rank(finding.severity) < _rank(self.announce_level) and not stops:
            log.info("%s at step %s: %s", finding.rule, finding.step, finding.message)
            return
        try:
            self._print(banner(finding, stop_on=self.stop_on if stops else None, log=self._where()))
        except Exception as exc:  # a closed or broken stream must not stop training
            self._fail("printing", exc)

    def _record_stop(self, finding: Finding) -> None:
        if not self.speaks:  # every rank stops; one of them says why
            return
        log.warning(
            "logscope: stopping training at step %s: %s (%s)",
            self.stop_step,
            finding.message,
            finding.rule,
        )
        if self.writer is None:
            return
        self.writer.update_manifest(
            stopped={"step": self.stop_step, "stop_on": self.stop_on, **finding.to_dict()}
        )

    def _summary(self) -> None:
        """One line per new state: a later summary repeats nothing an earlier one said."""
        if not self.speaks or self.check_rows is None:
            return
        state = (len(self.findings), self.check_rows.rows)
        if state == self._summarized or (self._summarized and not self.findings):
            return
        self._summarized = state
        where = self._where()
        hint = f"; full report: logscope check {where}" if where else ""
        if not self.findings:
            text = f"logscope: no findings in {self.check_rows.rows} logged rows{hint}\n"
        else:
            counts = dict.fromkeys(_LEVELS, 0)
            for finding in self.findings:
                counts[str(finding.severity)] += 1
            parts = [
                f"{n} {level}{'s' if n != 1 and level != 'info' else ''}"
                for level, n in reversed(counts.items())
                if n
            ]
            text = f"logscope: {len(self.findings)} finding(s) ({', '.join(parts)}){hint}\n"
        try:
            self._print(text)
        except Exception as exc:
            self._fail("printing", exc)

    def _where(self) -> str | None:
        if self.writer is None or not self.writer.active:
            return None
        return str(self.writer.path.parent)

    def _print(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write(text)
        stream.flush()

    def _fail(self, what: str, exc: BaseException) -> None:
        """Report a failure once per kind; live checks stop after their first failure."""
        if what == "live checks":
            self.check_rows = None
        if what in self._failed:
            return
        self._failed.add(what)
        consequence = {
            "live checks": "live checks are off for the rest of this run; the log is still written",
            "printing": "banners are no longer shown",
        }[what]
        log.warning(
            "logscope: %s failed (%s: %s); %s. Training continues.",
            what,
            type(exc).__name__,
            exc,
            consequence,
        )


def banner(finding: Finding, *, stop_on: str | None = None, log: str | None = None) -> str:
    """The warning banner of 003's training monitor, in ASCII, with logscope's message."""
    from logscope.report.text import safe

    width = len(_BAR) - 2
    head = f"logscope {str(finding.severity).upper()} at step {finding.step}: {finding.rule}"
    lines = [_BAR, *_wrap(safe(head), width)]
    lines += _wrap(safe(finding.message), width)
    if finding.advice:
        lines += _wrap("Consider: " + safe(finding.advice), width)
    if stop_on is not None:
        where = f"; the log is in {safe(log)}" if log else ""
        lines += _wrap(f'Stopping training (stop_on="{stop_on}"){where}', width)
    lines.append(_BAR)
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(
        text, width, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False
    ) or [""]


def record_metrics(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("step", "wall_time")}


def check_options(*, stop_on: str | None, announce: str | None, every: int | None) -> None:
    """Raise on a misspelt option before anything is opened or written."""
    _level("stop_on", stop_on)
    _level("announce", announce)
    if every is not None and every < 1:
        raise ValueError(f"every={every}: evaluate at least once per row (every >= 1)")


def _level(name: str, value: str | None) -> str | None:
    if value is None or str(value) == "never":
        return None
    text = str(value).lower()
    if text not in _LEVELS:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(_LEVELS)} or None")
    return text


def _rank(level: Any) -> int:
    if level is None:
        return len(_LEVELS)  # above every severity: never reached
    return _LEVELS.index(str(level))


def monitor(
    path_or_dir: str | os.PathLike[str] | None,
    *,
    stop_on: str | None = None,
    announce: str | None = "warning",
    live: bool = True,
    rules: Iterable[str | Path] = (),
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    every: int | None = None,
    framework: str | Mapping[str, Any] | None = None,
    config: Any = None,
    per_rank: bool = False,
    fsync: FsyncPolicy = "close",
    append: bool = True,
    stream: TextIO | None = None,
    on_error: OnError = "warn",
) -> Monitor:
    """Write metrics to `path_or_dir` and check them live: the helper for custom loops.

    >>> with logscope.monitor("runs/grpo", stop_on="error") as mon:  # doctest: +SKIP
    ...     for step, batch in enumerate(loader):
    ...         mon.log(train_step(batch), step=step)
    ...         if mon.should_stop:
    ...             break

    `path_or_dir=None` checks without writing a file. A full disk, at start or later, is
    reported once and never raises here unless `on_error="raise"` (see MetricWriter).
    """
    check_options(stop_on=stop_on, announce=announce, every=every)
    writer = (
        MetricWriter(
            path_or_dir,
            framework=framework,
            config=config,
            per_rank=per_rank,
            fsync=fsync,
            append=append,
            on_error=on_error,
        )
        if path_or_dir is not None
        else None
    )
    return Monitor(
        writer,
        stop_on=stop_on,
        announce=announce,
        live=live,
        rules=rules,
        select=select,
        ignore=ignore,
        every=every,
        stream=stream,
    )
