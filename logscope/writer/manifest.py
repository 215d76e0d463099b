"""run.json: what produced a metrics file (framework, config, ranks, times), next to it.

It is always replaced whole (write a temporary file, then rename), so a kill at any moment
leaves either the old or the new manifest, never half of one. `end_time` is written by a
clean close, so a manifest without it marks a run that died or is still going.
"""

from __future__ import annotations

import json
import os
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
    """Replace the manifest atomically; `durable` also fsyncs it before the rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = (json.dumps(manifest, indent=2, allow_nan=False, ensure_ascii=True) + "\n").encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        os.write(fd, data)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    tmp.replace(path)


def now() -> float:
    return time.time()
