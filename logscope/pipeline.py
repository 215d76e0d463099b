"""`logscope check` as a library call: read runs, pick packs, evaluate. No printing here."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from logscope.errors import InputError, LogscopeError, RulePackError
from logscope.outcome import RunReport
from logscope.rules import engine
from logscope.rules.spec import Pack, load_builtin, load_files, override

if TYPE_CHECKING:
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
    jobs: int = 1,
    rule_files: Iterable[Path] = (),
    baseline: Run | None = None,
    read_options: ReadOptions | None = None,
    settings: Iterable[str] = (),
    allow_empty: bool = False,
    executor: str = "local",
    checkpoints: str | Path | None = None,
    on_batch: Callable[[list[RunReport]], None] | None = None,
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
    """
    result = CheckResult()
    options = _Options(
        frozenset(forced), select, ignore, baseline, read_options, tuple(settings), checkpoints
    )
    with ExitStack() as stack:  # object-storage prefixes stay staged until all is read
        targets, stages = _targets(paths, stack, result)
        groups = _same_run_candidates(targets)

        def emit(reports: list[RunReport]) -> None:
            """Judged reports, in order: named, counted, handed on (then frames released)."""
            _name_as_given(reports, stages)
            for report in reports:
                result.reports.append(report)
                empty = None if allow_empty else empty_selection(report, select, ignore)
                if empty:
                    result.errors.append(empty)
                unread = unreadable(report.run)
                if unread:
                    result.errors.append(unread)
            if on_batch is not None:
                on_batch(reports)
                _release(reports)

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
        elif jobs > 1 and len(groups) > 1:
            _in_pool(groups, options, list(rule_files), jobs, progress, emit)
        elif len(groups) > 1:
            _batched(groups, packs, engine.shared_aliases(packs), options, progress, emit)
        else:
            shared = engine.shared_aliases(packs)
            emit([r for g in groups for r in _check_group(g, packs, shared, options, progress)])
    return result


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


_Target = tuple["RunFiles", Path]


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
    from logscope.samerun import merge_runs

    read = read_many([t for g in groups for t in g], progress, options.read_options)
    merged: list[list[Run]] = []
    for group in groups:
        merged.append(merge_runs(read[: len(group)]))
        read = read[len(group) :]
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


_WORKER: dict[str, object] = {}  # per worker process: the packs it loaded once


def _init_worker(rule_files: list[Path], forced: frozenset[str], settings: list[str]) -> None:
    packs = load_packs(rule_files, forced, settings)
    _WORKER.update(packs=packs, shared=engine.shared_aliases(packs))


def _work(groups: list[list[_Target]], options: _Options) -> list[list[RunReport]]:
    packs = _WORKER["packs"]
    shared = _WORKER["shared"]
    assert isinstance(packs, list) and isinstance(shared, dict)
    return _check_groups(groups, packs, shared, options)


def _in_pool(
    targets: list[list[_Target]],
    options: _Options,
    rule_files: list[Path],
    jobs: int,
    progress: Progress | None,
    emit: Callable[[list[RunReport]], None],
) -> None:
    """Spawned workers (not forked: Polars' thread pool does not survive a fork), each
    given batches of runs (about four per worker, at most BATCH_RUNS); each batch's
    reports go to `emit` in order as they come back."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from logscope.remote import batches

    context = multiprocessing.get_context("spawn")
    size = min(BATCH_RUNS, max(1, -(-len(targets) // (4 * jobs))))
    chunks = batches(len(targets), jobs, size)
    with ProcessPoolExecutor(
        jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(rule_files, options.forced, list(options.settings)),
    ) as pool:
        futures = [pool.submit(_work, [targets[i] for i in c], options) for c in chunks]
        done = 0
        for chunk, future in zip(chunks, futures, strict=True):
            emit([report for found in future.result() for report in found])
            done += len(chunk)
            if progress:
                progress(f"{done}/{len(targets)} runs", done, len(targets))


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
