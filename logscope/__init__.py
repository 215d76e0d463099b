"""logscope: offline health checks for LLM fine-tuning and RL training logs.

Importing the package is cheap: polars and the readers load on first use, so
`logscope --help` starts fast. The in-training writer (`MetricWriter`, `monitor`) is
exported lazily too: training code that imports it loads only the standard library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from logscope.version import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from logscope.api import CheckOutcome, Runs
    from logscope.run import Run
    from logscope.writer import MetricWriter, Monitor, monitor

__all__ = [
    "CheckOutcome",
    "MetricWriter",
    "Monitor",
    "Runs",
    "__version__",
    "check",
    "monitor",
    "read",
    "read_runs",
]

_WRITER_EXPORTS = ("MetricWriter", "Monitor", "monitor")
_API_EXPORTS = ("CheckOutcome", "Runs", "check", "read_runs")


def read(path: str | Path, *, crc: bool = True, tb_purge: bool = False) -> Run:
    """Read every log under `path` (a file or a run folder) into one Run; a folder of many
    runs is `read_runs`' job, and a path with no readable log raises what the CLI reports.

    >>> run = logscope.read("sample_logs/kto_healthy")   # doctest: +SKIP
    >>> run.frame.select("step", "rewards/margins")       # doctest: +SKIP
    """
    from logscope.api import require_rows
    from logscope.ingest import ReadOptions, read_run

    return require_rows(
        read_run(path, None, ReadOptions(tensorboard_purge=tb_purge, check_crc=crc))
    )


def __getattr__(name: str) -> Any:
    """`logscope.MetricWriter` and friends import the writer package on first use."""
    if name in _API_EXPORTS:
        from logscope import api

        return getattr(api, name)
    if name in _WRITER_EXPORTS:
        from logscope import writer

        return getattr(writer, name)
    raise AttributeError(f"module 'logscope' has no attribute {name!r}")
