"""`logscope check` as a library call: read runs, pick packs, evaluate. No printing here."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from logscope import workers
from logscope.errors import InputError, LogscopeError, RulePackError
from logscope.outcome import RunReport
from logscope.rules import engine
from logscope.rules.spec import Pack, load_builtin, load_files, override

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from logscope.cloud import Staged
    from logscope.ingest import Progress, ReadOptions
    from logscope.ingest.discover import RunFiles
    from logscope.run import Run


@dataclass
class CheckResult:
    reports: list[RunReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # inputs that could not be read at all


def load_packs(
    rule_files: Iterable[Path] = (), forced: Iterable[str] = (), settings: Iterable[str] = ()
) -> list[Pack]:
    """Built-in packs plus user files, with `--set` overrides applied; unknown forced pack
    names are an error."""
    packs = override(load_builtin() + load_files(list(rule_files)), list(settings))
    known = {p.name for p in packs}
    unknown = sorted(set(forced) - known)
    if unknown:
        raise RulePackError(
            [f"--pack {name}: no such pack (known: {', '.join(sorted(known))})" for name in unknown]
        )
    return packs


def check(
    paths: Iterable[str | Path],
    packs: list[Pack],
    *,
    forced: Iterable[str] = (),
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    progress: Progress | None = None,
    jobs: int | None = 1,
    rule_files: Iterable[Path] = (),
    baseline: Run | None = None,
    read_options: ReadOptions | None = None,
    settings: Iterable[str] = (),
    allow_empty: bool = False,
    executor: str = "local",
    checkpoints: str | Path | None = None,
    on_batch: Callable[[list[RunReport]], None] | None = None,
    on_texts: TextSink | None = None,
) -> CheckResult:
    """Check every run under `paths`. A path that cannot be read is recorded, not raised.

    Runs one training process wrote through several trackers are read as one
    (logscope.samerun). `checkpoints`: the folder holding the runs' checkpoints, when it is
    not the run folder (they are looked for there and next to it otherwise).

    With jobs > 1 runs are read and checked in a process pool (each worker loads the packs
    once from the built-ins and `rule_files`); with `executor="ray"` (or `ray://ADDRESS`)
    in tasks on a Ray cluster (logscope.remote). Reports keep the order of discovery.

    `on_batch` streams: it gets each batch of reports once judged (a sweep: BATCH_RUNS
    runs at a time; otherwise all at once), in order, and must take from their runs' frames
    what it needs then: afterwards the frames are released (emptied), so memory stays that
    of one batch. `result.reports` still holds every report (findings, verdict, counts).
    `on_texts` streams text instead (see TextSink): with worker processes each run is
    rendered where it was judged, so its frame never crosses back.

    `jobs=None`: all cores for a sweep of workers.AUTO_JOBS_RUNS runs or more (where the
    workers' start-up pays for itself), two processes from workers.SPARE_JOBS_RUNS runs when
    the load average leaves a core idle, else one process. The reports do not depend on
    `jobs`.
    """
    if on_batch is not None and on_texts is not None:
        raise ValueError("check: pass on_batch or on_texts, not both")
    result = CheckResult()
    options = _Options(
        frozenset(forced),
        select,
        ignore,
        baseline,
        read_options,
        tuple(settings),
        checkpoints,
        tuple(rule_files),
    )
    paths = list(paths)
    with ExitStack() as stack:  # object-storage prefixes stay staged until all is read
        spare = _idle_core_once()
        early = _early_pool(paths, packs, jobs, executor, spare)
        if early is not None:
            stack.callback(early.close)
        targets, stages = _targets(paths, stack, result)
        groups = _same_run_candidates(targets)

        def emit(reports: list[RunReport]) -> None:
            """Judged reports, in order: named, counted, handed on (then frames released)."""
            _name_as_given(reports, stages)
            for report in reports:
                result.reports.append(report)
                result.errors.extend(_errors(report, select, ignore, allow_empty))
            if on_batch is not None:
                on_batch(reports)
                _release(reports)
            elif on_texts is not None:
                on_texts.write([on_texts.render(report) for report in reports])
                _release(reports)

        def emit_rendered(done: list[_Rendered]) -> None:
            """Reports a worker judged, rendered and released, in order."""
            for report, _, errors in done:
                result.reports.append(report)
                result.errors.extend(errors)
            assert on_texts is not None
            on_texts.write([text for _, text, _ in done])

        processes = workers.count(jobs, len(groups), spare) if executor == "local" else 1
        if early is not None and early.jobs != processes:  # fewer runs than the folders hinted
            early.close(wait=False)
            early = None
        if executor != "local":
            from logscope.remote import check_on_ray

            shared = engine.shared_aliases(packs)
            found, failed = check_on_ray(
                groups,
                packs,
                shared,
                options,
                _check_group,
                executor=executor,
                progress=progress,
                check_groups=_check_groups,
            )
            result.errors.extend(failed)
            emit([r for g in found if g is not None for r in g])
        elif processes > 1:
            pool = early
            if pool is None:
                pool = _Pool(packs, processes)
                stack.callback(pool.close)
            pool.progress = progress
            if on_texts is not None and not stages:  # staged runs are renamed here first
                rendering = _Rendering(on_texts.render, allow_empty)
                pool.rendered(groups, options, rendering, emit_rendered)
            else:
                pool.reports(groups, options, emit)
        elif len(groups) > 1:
            _batched(groups, packs, engine.shared_aliases(packs), options, progress, emit)
        else:
            shared = engine.shared_aliases(packs)
            emit([r for g in groups for r in _check_group(g, packs, shared, options, progress)])
    return result


def _idle_core_once() -> Callable[[], bool]:
    """Whether a core is idle, asked at most once per check (the load moves): the answer
    the prestarted workers were spawned on, if any (logscope.workers)."""
    known = workers.prestarted_spare()
    if known is not None:
        return lambda: known
    return functools.cache(workers.spare_core)


def _early_pool(
    paths: list[str | Path],
    packs: list[Pack],
    jobs: int | None,
    executor: str,
    spare: Callable[[], bool],
) -> _Pool | None:
    """Workers started before discovery: those the console command prestarted, if they
    are what this check would start, else new ones when the paths look like a sweep."""
    started = workers.take()
    if started is not None:
        pool, count = started
        if executor == "local" and jobs in (None, count):
            return _Pool(packs, count, pool)
        workers.let_go(pool)
    if (
        executor == "local"
        and (hinted := workers.count(jobs, workers.sweep_hint(paths), spare)) > 1
    ):
        return _Pool(packs, hinted)
    return None


def _release(reports: list[RunReport]) -> None:
    """Drop what only reporters read from a run (its rows, where each row came from) once
    the batch's report is written: the findings and verdict stay, memory does not grow
    with the sweep."""
    for report in reports:
        report.run.frame = report.run.frame.clear()
        report.run.origins = None


def unreadable(run: Run) -> str | None:
    """Why a run counts as not read at all (no metric row), naming its first problem; None
    when it has rows. The one message of the CLI, the API and the JSON `errors`."""
    if run.frame.height:
        return None
    first = run.problems[0] if run.problems else None
    detail = f" ({first})" if first else ""
    return f"{run.path}: no metric rows could be read{detail}"


def _targets(
    paths: Iterable[str | Path], stack: ExitStack, result: CheckResult
) -> tuple[list[tuple[RunFiles, Path]], list[Staged]]:
    """Discovered runs of every path (URLs staged first); unreadable paths go to errors."""
    from logscope.cloud import is_url, staged
    from logscope.ingest.discover import discover

    targets: list[tuple[RunFiles, Path]] = []
    stages: list[Staged] = []
    for path in paths:
        try:
            if is_url(path):
                stages.append(stack.enter_context(staged(str(path))))
                local = stages[-1].local
            else:
                local = Path(path)
            targets.extend((found, local) for found in discover(local))
        except InputError as exc:
            message = str(exc)
            for stage in stages:
                message = message.replace(str(stage.local), stage.url)
            result.errors.append(message)
    return targets, stages


def _name_as_given(reports: list[RunReport], stages: list[Staged]) -> None:
    """Runs read from a staged copy are named by their URL."""
    if not stages:
        return
    from logscope.cloud import relabel

    for report in reports:
        for stage in stages:
            if report.run.path.startswith(str(stage.local.parent)):
                relabel(report.run, stage)
                break


@dataclass(frozen=True)
class _Options:
    forced: frozenset[str]
    select: set[str] | None
    ignore: set[str] | None
    baseline: Run | None = None
    read_options: ReadOptions | None = None
    settings: tuple[str, ...] = ()
    checkpoints: str | Path | None = None
    rule_files: tuple[Path, ...] = ()  # with forced and settings: the packs (worker_packs)


_Target = tuple["RunFiles", Path]
_Batch = list[list[_Target]]  # groups of runs judged together
_T = TypeVar("_T")


def _same_run_candidates(targets: list[_Target]) -> list[list[_Target]]:
    """Targets that may be one training run (samerun.home), read together; order kept."""
    from logscope.samerun import families

    return [[targets[i] for i in family] for family in families([str(t[0].root) for t in targets])]


def _check_group(
    group: list[_Target],
    packs: list[Pack],
    shared: dict[str, tuple[str, ...]],
    options: _Options,
    progress: Progress | None = None,
) -> list[RunReport]:
    from logscope.ingest import read_found
    from logscope.samerun import merge_runs

    runs = merge_runs([read_found(*target, progress, options.read_options) for target in group])
    reports = []
    for run in runs:
        if options.checkpoints is not None:
            run.checkpoint_dir = str(options.checkpoints)
        baseline = options.baseline
        chosen = engine.applicable(run, packs, set(options.forced), baseline=baseline is not None)
        reports.append(
            engine.evaluate(
                run,
                chosen,
                select=options.select,
                ignore=options.ignore,
                shared=shared,
                baseline=baseline,
            )
        )
    return reports


BATCH_RUNS = 500  # runs read and judged together: memory stays that of one batch


def _batched(
    groups: list[list[_Target]],
    packs: list[Pack],
    shared: dict[str, tuple[str, ...]],
    options: _Options,
    progress: Progress | None,
    emit: Callable[[list[RunReport]], None],
) -> None:
    """A sweep, BATCH_RUNS runs at a time, each batch's reports handed to `emit` (the
    progress bar counts runs)."""
    total = sum(len(g) for g in groups)
    done = 0
    chunks = [groups[start : start + BATCH_RUNS] for start in range(0, len(groups), BATCH_RUNS)]
    judged = _judged_chunks(chunks, packs, shared, options, progress)
    for chunk, found in zip(chunks, judged, strict=True):
        emit([report for reports in found for report in reports])
        done += sum(len(g) for g in chunk)
        if progress:
            progress(f"{done}/{total} runs", done, total)


def _judged_chunks(
    chunks: list[list[list[_Target]]],
    packs: list[Pack],
    shared: dict[str, tuple[str, ...]],
    options: _Options,
    progress: Progress | None,
) -> Iterator[list[list[RunReport]]]:
    """Each chunk's reports, in order. The next chunk is read in a thread while this one is
    judged: decoding (Polars) and file reads release the GIL, so a second core reads while
    the first judges. Against a baseline each run is read and judged on its own."""
    if options.baseline is not None:
        for chunk in chunks:
            yield _check_groups(chunk, packs, shared, options, progress)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="logscope-read") as reader:
        pending = reader.submit(_read_groups, chunks[0], options, progress) if chunks else None
        for k in range(len(chunks)):
            assert pending is not None
            read = pending.result()
            if k + 1 < len(chunks):
                pending = reader.submit(_read_groups, chunks[k + 1], options, progress)
            yield _judge_groups(read, packs, shared, options)


def _check_groups(
    groups: list[list[_Target]],
    packs: list[Pack],
    shared: dict[str, tuple[str, ...]],
    options: _Options,
    progress: Progress | None = None,
) -> list[list[RunReport]]:
    """`_check_group` for each group, the groups read and judged together: plain JSONL runs
    decoded in one call (ingest.many), rules applied to all runs at once (rules.batch).
    Against a baseline each run is judged on its own."""
    if options.baseline is not None:
        return [_check_group(g, packs, shared, options, progress) for g in groups]
    return _judge_groups(_read_groups(groups, options, progress), packs, shared, options)


def _read_groups(
    groups: list[list[_Target]], options: _Options, progress: Progress | None = None
) -> list[list[Run]]:
    """Each group's runs, read together and merged (logscope.samerun)."""
    from logscope.ingest.many import read_many
    from logscope.samerun import fold_spellings, merge_runs

    read = read_many([t for g in groups for t in g], progress, options.read_options)
    merged: list[list[Run]] = []
    at = 0
    for group in groups:  # most groups of a sweep are one run: only its spellings folded
        found = read[at : at + len(group)]
        merged.append([fold_spellings(found[0])] if len(found) == 1 else merge_runs(found))
        at += len(group)
    if options.checkpoints is not None:
        for found in merged:
            for run in found:
                run.checkpoint_dir = str(options.checkpoints)
    return merged


def _judge_groups(
    groups: list[list[Run]],
    packs: list[Pack],
    shared: dict[str, tuple[str, ...]],
    options: _Options,
) -> list[list[RunReport]]:
    """The reports of each group `_read_groups` gave, rules applied to all runs at once."""
    from logscope.rules import batch

    runs = [run for found in groups for run in found]
    chosen = batch.applicable_many(runs, packs, set(options.forced))
    reports = batch.evaluate_many(
        runs, chosen, select=options.select, ignore=options.ignore, shared=shared
    )
    out = []
    for found in groups:
        out.append(reports[: len(found)])
        reports = reports[len(found) :]
    return out


@functools.cache
def worker_packs(
    rule_files: tuple[Path, ...], forced: frozenset[str], settings: tuple[str, ...]
) -> tuple[list[Pack], dict[str, tuple[str, ...]]]:
    """In a worker process: the packs of a check (and their shared aliases), loaded once
    per worker; every batch carries what selects them (_Options)."""
    packs = load_packs(rule_files, forced, settings)
    return packs, engine.shared_aliases(packs)


def _work(groups: list[list[_Target]], options: _Options) -> list[list[RunReport]]:
    packs, shared = worker_packs(options.rule_files, options.forced, options.settings)
    return _check_groups(groups, packs, shared, options)


@dataclass(frozen=True)
class TextSink:
    """A streamed check whose runs are wanted as text (`check --format json` on stdout).
    `render` makes one run's text; it must pickle (a module-level function or a partial of
    one): with worker processes it runs in the worker that judged the run, which then sends
    back the text and a report without rows (as after `on_batch`), not the run's frame.
    `write` takes each batch's texts, in the order of discovery."""

    render: Callable[[RunReport], str]
    write: Callable[[list[str]], None]


@dataclass(frozen=True)
class _Rendering:
    """What a worker needs to finish a run where it was judged: its text and its errors."""

    render: Callable[[RunReport], str]
    allow_empty: bool


_Rendered = tuple[RunReport, str, list[str]]  # a report without rows, its text, its errors


def _work_rendered(
    groups: list[list[_Target]], options: _Options, rendering: _Rendering
) -> list[_Rendered]:
    """`_work`, each report rendered, its errors found and its rows released here."""
    return _finish([r for found in _work(groups, options) for r in found], options, rendering)


class _Pool:
    """`jobs` processes: this one and jobs - 1 spawned workers (logscope.workers), each
    judging batches of runs (shrinking towards the end: _guided), handed on in the order
    of discovery (see _Feed). The workers are spawned on creation (or were, by the console
    command: workers.prestart), so they start up (~0.6 s: Polars, the packs) while this
    process is still discovering the runs."""

    def __init__(
        self, packs: list[Pack], jobs: int, executor: ProcessPoolExecutor | None = None
    ) -> None:
        self.packs = packs
        self.jobs = jobs
        self.progress: Progress | None = None
        self.executor = executor or workers.spawn(jobs)

    def close(self, wait: bool = True) -> None:
        """Done (after the last batch), or not wanted (`wait=False`: stopped now)."""
        if wait:
            self.executor.shutdown(cancel_futures=True)
        else:
            workers.let_go(self.executor)

    def reports(
        self,
        targets: list[list[_Target]],
        options: _Options,
        emit: Callable[[list[RunReport]], None],
    ) -> None:
        shared = engine.shared_aliases(self.packs)

        def here(groups: list[list[_Target]]) -> list[list[RunReport]]:
            return _check_groups(groups, self.packs, shared, options)

        for found in self._run(targets, here, _work, options):
            emit([report for reports in found for report in reports])

    def rendered(
        self,
        targets: list[list[_Target]],
        options: _Options,
        rendering: _Rendering,
        emit: Callable[[list[_Rendered]], None],
    ) -> None:
        shared = engine.shared_aliases(self.packs)

        def here(groups: list[list[_Target]]) -> list[_Rendered]:
            found = _check_groups(groups, self.packs, shared, options)
            return _finish([r for reports in found for r in reports], options, rendering)

        for done in self._run(targets, here, _work_rendered, options, rendering):
            emit(done)

    def _run(
        self,
        targets: list[list[_Target]],
        here: Callable[[list[list[_Target]]], _T],
        work: Callable[..., _T],
        options: _Options,
        *args: object,
    ) -> Iterator[_T]:
        chunks = [targets[a:b] for a, b in _guided(len(targets), self.jobs)]
        pool = self.executor
        feed = _Feed(chunks, lambda chunk: pool.submit(work, chunk, options, *args))
        try:
            for _ in range(self.jobs - 1):
                feed.send()
            done = 0
            for due in range(len(chunks)):
                yield feed.result(due, here)
                done += len(chunks[due])
                if self.progress:
                    self.progress(f"{done}/{len(targets)} runs", done, len(targets))
        finally:
            feed.stop()


def _guided(count: int, jobs: int) -> list[tuple[int, int]]:
    """Contiguous batches that shrink towards the end (each half of what is left per
    process, at most BATCH_RUNS, at least MIN_BATCH): large batches cost least per run,
    small last ones let the processes finish together."""
    bounds = []
    start = 0
    while start < count:
        size = min(BATCH_RUNS, max(MIN_BATCH, -(-(count - start) // (2 * jobs))))
        bounds.append((start, min(count, start + size)))
        start += size
    return bounds


MIN_BATCH = 100  # runs: below this a batch's fixed costs (a pass per rule) dominate


class _Feed(Generic[_T]):
    """Which process judges which batch. A worker is sent the next batch the moment it is
    free (on its last batch's done-callback, in the pool's thread), never waiting for this
    process; this process judges the next batch itself whenever the one due is still in a
    worker, at most AHEAD batches ahead of it."""

    def __init__(self, chunks: list[_Batch], submit: Callable[[_Batch], Future[_T]]) -> None:
        import threading

        self.chunks = chunks
        self.submit = submit
        self.lock = threading.Lock()
        self.sent: dict[int, Future[_T]] = {}
        self.held: dict[int, _T] = {}
        self.taken = 0  # batches before it are sent or judged here

    def send(self, _: object = None) -> None:
        from concurrent.futures import Future

        failed: Exception | None = None
        with self.lock:
            if self.taken == len(self.chunks):
                return
            try:
                future = self.submit(self.chunks[self.taken])
            except Exception as exc:  # a broken pool: raised where this batch is due
                future, failed = Future(), exc
                future.set_exception(failed)
            self.sent[self.taken] = future
            self.taken += 1
        if failed is None:
            future.add_done_callback(self.send)

    def result(self, due: int, here: Callable[[_Batch], _T]) -> _T:
        """Batch `due`'s result, judging later batches here while it is in a worker."""
        while due not in self.held:
            mine = None
            with self.lock:
                future = self.sent.get(due)
                waiting = future is None or not future.done()
                if waiting and self.taken < len(self.chunks) and self.taken - due <= AHEAD:
                    mine, self.taken = self.taken, self.taken + 1
            if mine is not None:
                self.held[mine] = here(self.chunks[mine])
            else:
                assert future is not None
                self.held[due] = future.result()
                del self.sent[due]
        return self.held.pop(due)

    def stop(self) -> None:
        """Nothing more is sent (the check ended, or failed)."""
        with self.lock:
            self.taken = len(self.chunks)


AHEAD = 4  # batches this process may judge beyond the one due before it waits for it


def _finish(reports: list[RunReport], options: _Options, rendering: _Rendering) -> list[_Rendered]:
    """Each report rendered and its errors found, then its rows released."""
    done = [
        (
            report,
            rendering.render(report),
            _errors(report, options.select, options.ignore, rendering.allow_empty),
        )
        for report in reports
    ]
    _release(reports)
    return done


def _errors(
    report: RunReport, select: set[str] | None, ignore: set[str] | None, allow_empty: bool
) -> list[str]:
    """What makes a judged run an input error: a selection that left it no rule, no row."""
    empty = None if allow_empty else empty_selection(report, select, ignore)
    unread = unreadable(report.run)
    return [e for e in (empty, unread) if e]


def empty_selection(
    report: RunReport, select: Collection[str] | None, ignore: Collection[str] | None
) -> str | None:
    """Why --select/--ignore left a run no rule at all (none evaluated, none skipped), or
    None. Without a selection an empty verdict is not an error."""
    if not (select or ignore) or report.evaluated or report.skipped:
        return None
    applied = ", ".join(report.packs) or "none"
    return (
        f"{report.run.path}: the rule selection leaves no rule to check in this run "
        f"(packs that apply: {applied}); force a pack with --pack, or pass --allow-empty "
        "if this is intended"
    )


__all__ = ["CheckResult", "LogscopeError", "check", "empty_selection", "load_packs"]
