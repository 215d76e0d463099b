"""logscope: offline health checks for LLM fine-tuning and RL training logs.

Importing the package is cheap: polars and the readers load on first use, so
`logscope --help` starts fast. The in-training writer (`MetricWriter`, `monitor`) is
exported lazily too: training code that imports it loads only the standard library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pathlib import Path

    from logscope.run import Run
    from logscope.writer import MetricWriter, Monitor, monitor

__all__ = ["MetricWriter", "Monitor", "__version__", "monitor", "read"]

_WRITER_EXPORTS = ("MetricWriter", "Monitor", "monitor")


def read(path: str | Path) -> Run:
    """Read every log under `path` (a file or a run folder) into one Run.

    >>> run = logscope.read("sample_logs/kto_healthy")   # doctest: +SKIP
    >>> run.frame.select("step", "rewards/margins")       # doctest: +SKIP
    """
    from logscope.ingest import read_run

    return read_run(path)


def __getattr__(name: str) -> Any:
    """`logscope.MetricWriter` and friends import the writer package on first use."""
    if name in _WRITER_EXPORTS:
        from logscope import writer

        return getattr(writer, name)
    raise AttributeError(f"module 'logscope' has no attribute {name!r}")
