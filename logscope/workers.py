"""How many processes check a sweep, and starting them before the command has loaded.

A worker process is spawned (not forked: Polars' thread pool does not survive a fork) and
needs ~0.6 s to import Polars and the rules before it judges a run. `logscope check` itself
spends ~0.4 s importing before it looks at its paths. So the console command starts the
workers first (`prestart`, from the raw command line, before Typer or Polars are imported):
both start-ups then run side by side on two cores, and the check takes the workers over
(`take`) once it knows how many it wants, or lets them go (`let_go`). On two cores this
moved a 2,000-run sweep's second process from ~1.1 s to ~0.6 s after the command started.

This module imports nothing heavy: it runs before the command's imports.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# a sweep this large pays for a worker per core (~1 s to start each) whatever the load:
# measured on two cores, 10,000 runs 19% of wall
AUTO_JOBS_RUNS = 4000
# from this many runs a second process pays when a core is idle (measured on two cores,
# 2,000 runs: -17% of wall at load 0.5, -13% at load 1.6-2.3; 1,000 runs -7%) and loses
# when none is (2,000 runs at load 3-5: +55%): SPARE_JOBS_RUNS to AUTO_JOBS_RUNS runs take
# two processes when the load average leaves a core idle, as the TensorBoard reader does
SPARE_JOBS_RUNS = 1000

# options after which the check decides alone (a cluster, a command that checks nothing)
_DECIDED = ("--executor", "--help", "--show-settings")


def count(jobs: int | None, runs: int, spare: Callable[[], bool] | None = None) -> int:
    """Processes for `runs` groups of runs (1: this one alone). `spare`: whether a core is
    idle (asked only for a mid-size sweep)."""
    if runs < 2:
        return 1
    if jobs is not None:
        return jobs
    if runs >= AUTO_JOBS_RUNS:
        return cores()
    if runs >= SPARE_JOBS_RUNS and (spare or spare_core)():
        return 2
    return 1


def spare_core() -> bool:
    from logscope import cores as found

    return found.spare()


def cores() -> int:
    from logscope.cores import usable

    return usable()


def sweep_hint(paths: Iterable[str | Path]) -> int:
    """How many runs the paths hold at least, by their sub-folders (capped at
    AUTO_JOBS_RUNS): read before discovery, to spawn workers while it runs. A URL, a file
    or a path that does not exist counts one."""
    total = 0
    for path in paths:
        if total >= AUTO_JOBS_RUNS:
            break
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    total += entry.is_dir()
                    if total >= AUTO_JOBS_RUNS:
                        break
        except (OSError, TypeError, ValueError):  # a file, a URL, a stream
            total += 1
    return total


def spawn(jobs: int) -> ProcessPoolExecutor:
    """`jobs - 1` worker processes, started now (each imports what judging needs)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    executor = ProcessPoolExecutor(
        jobs - 1, mp_context=multiprocessing.get_context("spawn"), initializer=_quick_exit
    )
    for _ in range(jobs - 1):
        executor.submit(_warm)
    return executor


class _Started:
    """Workers `prestart` spawned, with the idle-core answer they were spawned on."""

    executor: ProcessPoolExecutor | None = None
    jobs = 1
    spare: bool | None = None


def prestart(args: list[str]) -> None:
    """`logscope check ARGS` from the raw command line: when its paths hint at a sweep
    that the default process count would split, spawn the workers now. A hint only: the
    check adopts them if it wants as many processes, else they are let go."""
    if any(a.startswith(_DECIDED) for a in args):
        return
    try:
        asked = _jobs_option(args)
    except ValueError:  # malformed: the check's own parsing says so
        return
    hint = sweep_hint(a for a in args if not a.startswith("-") and Path(a).exists())
    if hint < 2 or (asked is None and hint < SPARE_JOBS_RUNS):
        return
    spare = spare_core() if asked is None and hint < AUTO_JOBS_RUNS else None
    jobs = count(asked, hint, lambda: bool(spare))
    if jobs > 1:
        _Started.executor, _Started.jobs, _Started.spare = spawn(jobs), jobs, spare


def _jobs_option(args: list[str]) -> int | None:
    """The process count `--jobs N` / `-j N` asks for (0: every usable core), or None."""
    for i, arg in enumerate(args):
        for name in ("--jobs", "-j"):
            if arg == name:
                value = args[i + 1] if i + 1 < len(args) else ""
            elif (arg.startswith(name) and name == "-j") or arg.startswith(name + "="):
                value = arg[len(name) :].removeprefix("=")
            else:
                continue
            return int(value) or cores()
    return None


def prestarted_spare() -> bool | None:
    """The idle-core answer the prestarted workers were spawned on (None: none asked), so
    the check decides on the same answer."""
    return _Started.spare if _Started.executor is not None else None


def take() -> tuple[ProcessPoolExecutor, int] | None:
    """The prestarted workers and how many processes they make with this one; the caller
    owns them from now on."""
    executor, jobs = _Started.executor, _Started.jobs
    _Started.executor, _Started.spare = None, None
    return None if executor is None else (executor, jobs)


def discard() -> None:
    """Prestarted workers nobody took (the command failed or ended first) are let go."""
    if (started := take()) is not None:
        let_go(started[0])


def let_go(executor: ProcessPoolExecutor) -> None:
    """Workers that will judge nothing are stopped now: left to finish starting up (~0.6 s
    of imports), they held up the command's exit (an unknown `--pack` took 1.2 s instead
    of 0.7) or took a core from the check that let them go."""
    found = list((getattr(executor, "_processes", None) or {}).values())  # the pool's table
    executor.shutdown(wait=False, cancel_futures=True)
    for process in found:
        process.terminate()


def _warm() -> None:
    """A worker's first task: it makes the pool spawn the worker now, imports what reading
    and judging a batch need and loads the built-in packs; what that built lives as long
    as the worker, so it is frozen out of the garbage collector's way (as the command's
    own imports are: cli/startup)."""
    import gc

    import logscope.ingest.many
    import logscope.report.json
    import logscope.rules.batch  # noqa: F401
    from logscope.pipeline import worker_packs

    worker_packs((), frozenset(), ())
    gc.freeze()


def _quick_exit() -> None:
    """A worker ends without finalising the interpreter: it is let go only once its results
    were sent (they are written to the pipe synchronously), and tearing down Polars and
    thousands of objects cost 0.1-0.16 s that the check waited for at its end."""
    import atexit
    import sys

    def leave() -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    atexit.register(leave)
