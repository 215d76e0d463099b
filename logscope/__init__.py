"""logscope: offline health checks for LLM fine-tuning and RL training logs.

Importing the package is cheap: polars and the readers load on first use, so
`logscope --help` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pathlib import Path

    from logscope.run import Run

__all__ = ["__version__", "read"]


def read(path: str | Path) -> Run:
    """Read every log under `path` (a file or a run folder) into one Run.

    >>> run = logscope.read("sample_logs/kto_healthy")   # doctest: +SKIP
    >>> run.frame.select("step", "rewards/margins")       # doctest: +SKIP
    """
    from logscope.ingest import read_run

    return read_run(path)
