"""Native parsers (Polars' Parquet and CSV readers) on damaged input: an error, never a panic.

A damaged Parquet file can make Polars' Rust code panic; pyo3 raises that as PanicException,
a BaseException that `except Exception` lets through, after Rust's panic hook has printed a
backtrace on stderr. `guarded` turns the panic into NativeError and keeps the backtrace off
the user's terminal (file descriptor 2 points to /dev/null for the length of the call).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class NativeError(Exception):
    """A native parser gave up on its input (including by panicking)."""


def guarded(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`call(*args, **kwargs)`; every failure but an interrupt becomes NativeError."""
    try:
        with _quiet_stderr():
            return call(*args, **kwargs)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except NativeError:
        raise
    except BaseException as error:  # pyo3's PanicException derives from BaseException
        raise NativeError(_reason(error)) from error


def _reason(error: BaseException) -> str:
    if type(error).__name__ == "PanicException":
        return "the file is damaged (the parser gave up)"
    lines = str(error).strip().splitlines()
    return lines[0][:160] if lines else type(error).__name__


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep quiet
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
