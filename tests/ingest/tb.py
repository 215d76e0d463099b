"""Helpers for the TensorBoard tests: the sample writer, a reference reader, long views."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from logscope.run import Run

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sample_logs"))

import eventwriter as tw

__all__ = ["long", "reference", "same", "tw"]


def long(run: Run) -> dict[tuple[str, int], float]:
    """{(metric, step): value} of every logged point of a Run."""
    points = {}
    for row in run.frame.iter_rows(named=True):
        for name, value in row.items():
            if name not in ("step", "wall_time") and value is not None:
                points[name, row["step"]] = value
    return points


def reference(
    folder: Path, *, purge: bool = True, prefix: str = ""
) -> dict[tuple[str, int], float]:
    """What TensorBoard's EventAccumulator (size_guidance 0: keep every point) reads from one
    folder: scalars, and tensors through tensor_util.make_ndarray; the last write per
    (tag, step) wins, as in logscope's frame."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    acc = EventAccumulator(
        str(folder), size_guidance={"scalars": 0, "tensors": 0}, purge_orphaned_data=purge
    )
    acc.Reload()
    points: dict[tuple[str, int], float] = {}
    for tag in acc.Tags()["scalars"]:
        for event in acc.Scalars(tag):
            points[prefix + tag, event.step] = event.value
    for tag in acc.Tags()["tensors"]:
        plugin = acc.SummaryMetadata(tag).plugin_data.plugin_name
        if plugin not in ("scalars", ""):
            continue
        for event in acc.Tensors(tag):
            points[prefix + tag, event.step] = float(tensor_util.make_ndarray(event.tensor_proto))
    return points


def same(a: dict[Any, float], b: dict[Any, float]) -> bool:
    """Equal keys and bit-identical values (NaN equals NaN)."""
    if a.keys() != b.keys():
        return False
    return all((math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a)
