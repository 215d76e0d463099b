"""`tail -f PATH` before PATH exists: wait for it, as `tail -F` does.

A job script often starts `logscope tail -f runs/new/` beside the training job, before the
trainer has created its run folder. Refusing that (exit 2) would make every such script
sleep-and-retry; waiting is what `tail -F` users expect. `--idle` bounds the wait, so a job
that never starts does not leave `tail` waiting forever.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from pathlib import Path

from logscope.errors import InputError

_ABSENT = {errno.ENOENT, errno.ENOTDIR}


def exists(path: Path) -> bool:
    """True when `path` is there; InputError when it cannot be looked at (no permission)."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno in _ABSENT:
            return False
        raise InputError(f"{path}: cannot be looked at ({exc.strerror})") from None
    return True


def wait_for(
    path: Path,
    idle: float | None,
    poll: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Poll until `path` exists (True) or `idle` seconds went by without it (False).

    One `stat` per `poll` seconds, like the follow loop: no inotify, which misses files
    created by another host of a shared file system."""
    started = clock()
    while not exists(path):
        waited = clock() - started
        if idle is not None and waited >= idle:
            return False
        sleep(poll if idle is None else max(0.0, min(poll, idle - waited)))
    return True
