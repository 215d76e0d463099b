"""How many cores this process may really use.

`os.cpu_count()` counts the machine's cores; a process may be held to fewer by its CPU
affinity (`taskset`, cpusets) and, in a container or a CI job, by a CPU quota (cgroup v2
`cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`): a job limited to 2 CPUs on a
64-core host would otherwise start 64 worker processes and ~6 GB of them. Polars sizes
its own thread pool the same way (Rust's `available_parallelism` reads the quota too).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


@functools.cache
def usable() -> int:
    """The cores this process may use: its affinity, capped by a CPU quota (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cores = os.cpu_count() or 1
    quota = quota_cores()
    return max(1, min(cores, quota) if quota is not None else cores)


def quota_cores(root: Path = CGROUP, own: Path = PROC_CGROUP) -> int | None:
    """Whole cores the tightest CPU quota on this process's cgroup and its parents allows
    (rounded down, at least 1); None without a quota or where cgroups cannot be read."""
    try:
        lines = own.read_text().splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # cgroup v2: one hierarchy
            limits += _walk(root, path, _v2)
        elif "cpu" in controllers.split(","):  # cgroup v1: the cpu controller's hierarchy
            for mount in (root / "cpu,cpuacct", root / "cpu"):
                if mount.is_dir():
                    limits += _walk(mount, path, _v1)
                    break
    return max(1, int(min(limits))) if limits else None


def _walk(mount: Path, path: str, read: Callable[[Path], float | None]) -> list[float]:
    """The quota (in cores) of the cgroup at `path` under `mount` and of each parent; a
    container sees its own cgroup as the root, so the mount itself is read too."""
    found: list[float] = []
    folder = mount / path.strip("/")
    while True:
        limit = read(folder)
        if limit is not None:
            found.append(limit)
        if folder == mount or mount not in folder.parents:
            return found
        folder = folder.parent


def _v2(folder: Path) -> float | None:
    """`cpu.max` is "max 100000" (no limit) or "<quota> <period>" in microseconds."""
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
        return int(quota) / int(period) if quota != "max" and int(period) > 0 else None
    except (OSError, ValueError):
        return None


def _v1(folder: Path) -> float | None:
    """`cpu.cfs_quota_us` is -1 without a limit."""
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def idle() -> float:
    """Usable cores minus what runs on them: how many cores another process would find
    free. The 1-minute load average first; when it says the cores are busy, the tasks
    runnable right now (`running`): the average lags by a minute, and after this machine's
    own earlier commands (a benchmark's rounds, a CI script checking sweep after sweep) it
    still counts processes that are gone (measured: a 2,000-run sweep fell back to one
    process in 5 of 7 back-to-back rounds on an otherwise idle machine). All usable cores
    where the load average cannot be read (Windows)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - Windows: no load average
        load = 0.0
    free = usable() - load
    if free > SPARE_IDLE:
        return free
    now = running()
    return free if now is None else max(free, usable() - now)


LOADAVG = Path("/proc/loadavg")


def running(samples: int = 10, every: float = 0.002) -> float | None:
    """Tasks runnable now besides the one asking, the mean of `samples` reads of the
    running count in /proc/loadavg (which counts the reader) `every` seconds apart; None
    where it cannot be read. A process computing elsewhere is runnable in nearly every
    read."""
    import time

    found = []
    for index in range(samples):
        try:
            field = LOADAVG.read_text().split()[3]
            found.append(int(field.split("/")[0]) - 1)
        except (OSError, IndexError, ValueError):
            return None
        if index + 1 < samples:
            time.sleep(every)
    return max(0.0, sum(found) / len(found))


SPARE_IDLE = 0.25  # idle cores above this: the load average is below usable cores - 0.25


def spare() -> bool:
    """Whether a second thread or process would find a core idle now: two usable cores or
    more and what runs on them (`idle`) below their number minus a quarter. On a busy
    machine two of them fight for one core's share and take longer than one (measured on
    2 cores: the TensorBoard reader +0.15 s on 1M records at load 4, a 2,000-run sweep
    +55% at load 3-5)."""
    return usable() >= 2 and idle() > SPARE_IDLE
