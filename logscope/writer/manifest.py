"""run.json: what produced a metrics file (framework, config, ranks, times), next to it.

It is always replaced whole: written to a temporary file beside it, fsynced, checked
complete (its size and bytes read back), then renamed over run.json. A kill at any moment
leaves either the old or the new manifest, never half of one; a failure (a full disk, a
short write) leaves the old one, removes the temporary file and raises OSError for the
writer to report. A temporary file left by a killed process (its name holds host and pid)
is removed by the next writer on that host. `end_time` is written by a clean close, so a
manifest without it marks a run that died or is still going.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from logscope.writer.values import lenient, strict

FORMAT = "logscope-metrics/1"
NAME = "run.json"


def utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def new(
    *,
    metrics_file: str,
    framework: Any,
    config: Any,
    rank: int,
    local_rank: int,
    world_size: int,
    per_rank: bool,
    start: float,
) -> dict[str, Any]:
    from logscope import __version__

    return {
        "format": FORMAT,
        "logscope_version": __version__,
        "metrics_file": metrics_file,
        "framework": strict(lenient(framework, "framework")),
        "config": strict(lenient(config, "config")),
        "start_time": start,
        "start_time_utc": utc(start),
        "rank": rank,
        "local_rank": local_rank,
        "world_size": world_size,
        "per_rank": per_rank,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


def read(path: Path) -> dict[str, Any] | None:
    """The manifest at `path`, or None when there is none or it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def resumed(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Appending to an existing log: keep the first start time, record this restart."""
    merged = dict(current)
    merged["start_time"] = previous.get("start_time", current["start_time"])
    merged["start_time_utc"] = previous.get("start_time_utc", current["start_time_utc"])
    restarts = previous.get("restarts")
    merged["restarts"] = [*(restarts if isinstance(restarts, list) else []), current["start_time"]]
    return merged


def write(path: Path, manifest: dict[str, Any], *, durable: bool) -> None:
    """Replace the manifest atomically; `durable` also fsyncs it (and its folder)."""
    data = (json.dumps(manifest, indent=2, allow_nan=False, ensure_ascii=True) + "\n").encode()
    tmp = path.with_name(f".{path.name}.{_host()}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            _write_all(fd, data)
            if durable:
                os.fsync(fd)
            _check_complete(fd, data)
        finally:
            os.close(fd)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        _sync_folder(path.parent)


def clean(path: Path) -> None:
    """Remove temporary manifests that processes of this host, now gone, left behind."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(?:(?P<host>.+)\.)?(?P<pid>\d+)\.tmp$")
    try:
        names = [entry.name for entry in path.parent.iterdir()]
    except OSError:
        return
    for name in names:
        found = pattern.match(name)
        if found is None or found["host"] not in (None, _host()):
            continue
        pid = int(found["pid"])
        if pid == os.getpid() or not _alive(pid):
            with contextlib.suppress(OSError):
                (path.parent / name).unlink()


def _write_all(fd: int, data: bytes) -> None:
    written = 0
    while written < len(data):  # a short write (nearly full disk): go on, or fail
        done = os.write(fd, data[written:])
        if done <= 0:
            raise OSError(errno.EIO, "the write stored nothing")
        written += done


def _check_complete(fd: int, data: bytes) -> None:
    """What is on the file is exactly what was meant, before it may replace run.json."""
    stored = os.pread(fd, len(data) + 1, 0) if hasattr(os, "pread") else data
    if stored != data or os.fstat(fd).st_size != len(data):
        raise OSError(errno.EIO, f"run.json: {len(stored)} of {len(data)} bytes stored")


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable, where the platform allows opening a folder."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # no cheap check: leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "host"


def now() -> float:
    return time.time()
