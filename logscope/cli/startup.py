"""Start-up without the garbage collector re-reading what the imports just built.

A small `check` imports some 600 modules (Polars, numpy, Typer, Rich, logscope's own):
millions of objects (functions, classes, constants) that live as long as the process. While
they load, every collection of the cyclic garbage collector traverses them all again, and
once re-enabled its first collections would too: ~0.1 s of a ~1 s `check` (numbers in
benchmarks/README.md). So a command's imports run with the collector paused, and what they
built is then frozen (`gc.freeze`: moved to a generation collections never traverse), as
the Python documentation suggests for long-lived objects. Everything the command creates
afterwards is collected as usual.

When the command is done the process ends: everything still alive is frozen too, or
the interpreter's exit would traverse it all once more in a last collection (0.07-0.15 s
after importing Polars, measured). Nothing is lost: the exit never promised to finalise
objects that are still alive; files are flushed and `atexit` handlers run as before.

OpenBLAS, loaded with numpy, starts a thread per core that spins looking for work for a
while: ~0.1 CPU-s of every command (measured: `import numpy` 0.22 CPU-s, 0.11 with one
thread), taken from the other core where a sweep's second process judges runs. logscope
multiplies no matrices worth a thread, so the console command asks OpenBLAS for one
thread (`quiet_blas`), unless the user's environment says otherwise; worker processes
inherit it.

Freezing is for the console command only (`logscope.cli.main` turns it on: one command per
process). A process running many commands (tests, a notebook calling the Typer app) only
pauses collection while a command imports: freezing there again and again would make
garbage that happened to be waiting at each freeze live for good.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


class _State:
    freeze = False  # set by the console entry point


def console() -> None:
    """This process runs one command from the console: `loading` may freeze its imports."""
    _State.freeze = True


@contextmanager
def loading() -> Iterator[None]:
    """Imports with the garbage collector paused, then frozen (console only); the collector
    is back on (if it was on) whatever happens inside."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _State.freeze:
            gc.freeze()
        if enabled:
            gc.enable()


def quiet_blas() -> None:
    """One OpenBLAS thread for this command and its workers, unless the environment sets
    a number (see the module docstring); before numpy is imported."""
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def ending() -> None:
    """The console command is done and the process exits: freeze what is alive, so the
    interpreter's final collection skips it (see the module docstring)."""
    if _State.freeze:
        gc.freeze()
