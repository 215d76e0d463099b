"""The in-training writer: strict JSON Lines for `logscope check`, and live checks.

Importing this package loads only the standard library; Polars and the rule engine load
on the first live evaluation, so training code pays nothing for `import logscope.writer`.
"""

from __future__ import annotations

from logscope.writer.jsonl import MetricWriter
from logscope.writer.monitoring import Monitor, banner, monitor

__all__ = ["MetricWriter", "Monitor", "banner", "monitor"]
