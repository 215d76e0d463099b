"""What every reader is given and returns, and the shared step/metric/metadata split of a
decoded frame. Readers import from here (never from the package `logscope.ingest`), so the
package can name its readers without an import cycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from logscope.columns import LINE, col
from logscope.ingest.decode import LIST_MARKER, normalize, text_as_float
from logscope.model import Problem, Resume

# progress(file, bytes_read, file_size): called as a reader works through a file
Progress = Callable[[str, int, int], None]

# Where real tools put the step, in order of preference (HF/TRL; a W&B history of an HF run,
# whose `_step` only counts log() calls; W&B's own `_step`). ms-swift has none: its step sits
# in the string "global_step/max_steps": "5/94".
STEP_KEYS = ("step", "global_step", "train/global_step", "_step")
SWIFT_STEP_KEY = "global_step/max_steps"
WALL_TIME_KEYS = ("wall_time", "_timestamp", "timestamp")
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class ReadOptions:
    """How to read formats that offer a choice.

    tensorboard_purge: apply TensorBoard's own restart purge (see ingest/tensorboard.py)
    instead of "later write wins per (tag, step)", to reproduce what TensorBoard shows.
    check_crc: verify TensorBoard record CRCs (skipping saves one C call per record).
    """

    tensorboard_purge: bool = False
    check_crc: bool = True


@dataclass
class ProblemLog:
    """Collects a source's problems; past MAX_PROBLEMS it counts instead of listing."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    dropped: int = 0

    def __call__(self, line: int | None, message: str, path: str | None = None) -> None:
        """`path`: a file inside the source (an MLflow run's metrics/<key>)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(path or self.path, message, line))
        else:
            self.dropped += 1

    def finish(self) -> list[Problem]:
        if self.dropped:
            more = f"{self.dropped} more problems like the above were not listed"
            return [*self.problems, Problem(self.path, more)]
        return list(self.problems)


@dataclass
class Ingested:
    """One source file as a frame: `step`, `wall_time`, `_line`, then one Float64 per metric.

    `resumes` is None when restarts show as steps going back from row to row (JSONL);
    a reader whose rows are already merged per step (TensorBoard) lists them itself."""

    path: str
    format: str
    frame: pl.DataFrame
    problems: list[Problem]
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    resumes: list[Resume] | None = None

    @property
    def metrics(self) -> list[str]:
        return [c for c in self.frame.columns if c not in ("step", "wall_time", LINE)]


# read(path, display name, progress): one file (or run folder) as a frame; never raises for
# bad content, which becomes the Ingested's problems
Reader = Callable[[Path, str, "Progress | None"], Ingested]


def tabulate(
    raw: pl.DataFrame, log: ProblemLog, notes: list[str]
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Split a decoded frame into the step column, wall time, metrics and metadata."""
    meta: dict[str, Any] = {}
    if raw.height == 0:
        return empty_frame(), meta
    raw = _drop_summary_rows(normalize(raw), meta, notes)
    if raw.height == 0:
        return empty_frame(), meta
    raw = _whole_steps(_numeric_steps(raw, log), log)
    step, step_key = _step_column(raw, log, notes)
    wall = next((k for k in WALL_TIME_KEYS if raw.schema.get(k) == pl.Float64), None)
    metrics: list[pl.Expr] = []
    for name, dtype in raw.schema.items():
        if name in (LINE, step_key, wall):
            continue
        if name in ("step", "wall_time"):  # unusable as index, and the name is taken
            notes.append(f"'{name}' could not be used as {name} and was skipped")
        elif dtype == pl.Float64:
            metrics.append(col(name))
        else:
            metrics.extend(_text_column(raw, name, log, meta, notes))
    frame = raw.select(
        step.alias("step"),
        (col(wall) if wall else pl.lit(None, dtype=pl.Float64)).alias("wall_time"),
        pl.col(LINE),
        *metrics,
    )
    if step_key:
        meta["step_key"] = step_key
    return frame, meta


def resumed_folders(parts: list[Ingested]) -> list[Ingested]:
    """The folders of one tracker run id (W&B, SwanLab: a resumed run starts a new folder),
    ordered by the first step each logged, each later folder recorded as a resume."""
    parts = sorted(parts, key=lambda p: (_first_step(p), p.path))
    last: int | None = None
    for part in parts:
        part.resumes = []
        if part.frame.height == 0:
            continue
        first = _first_step(part)
        if last is not None:
            part.resumes.append(Resume(first, last, part.path, None))
            part.notes.append(f"resumed run: this folder continues at step {first}")
        last = int(part.frame.get_column("step").max())  # type: ignore[arg-type]
    return parts


def _first_step(part: Ingested) -> int:
    if part.frame.height == 0:
        return -1
    return int(part.frame.get_column("step").min())  # type: ignore[arg-type]


def empty_frame() -> pl.DataFrame:
    """A source with no rows: the frame contract's index columns and no metric."""
    return pl.DataFrame(schema={"step": pl.Int64, "wall_time": pl.Float64, LINE: pl.Int64})


def _drop_summary_rows(raw: pl.DataFrame, meta: dict[str, Any], notes: list[str]) -> pl.DataFrame:
    """ms-swift ends logging.jsonl with one summary object holding the whole log_history."""
    if "log_history" not in raw.columns:
        return raw
    summary = raw.filter(pl.col("log_history").is_not_null())
    for row in summary.drop("log_history", LINE).to_dicts():
        meta.update({k: v for k, v in row.items() if v is not None})
    if summary.height:
        lines = ", ".join(str(n) for n in summary.get_column(LINE).to_list())
        notes.append(f"line {lines}: end-of-training summary (log_history copy) kept as metadata")
    rest = raw.filter(pl.col("log_history").is_null()).drop("log_history")
    # keys that only the summary carries (best_metric, global_step, ...) are not metrics
    only_in_summary = [
        name
        for name in summary.columns
        if name in rest.columns
        and name != LINE
        and rest.get_column(name).null_count() == rest.height
    ]
    return rest.drop(only_in_summary)


def _numeric_steps(raw: pl.DataFrame, log: ProblemLog) -> pl.DataFrame:
    """A step key written as text ("12") still counts; text that is no number is reported."""
    for key in STEP_KEYS:
        if raw.schema.get(key) != pl.String:
            continue
        numbers = raw.select(text_as_float(key).alias("number")).to_series()
        if numbers.null_count() == raw.height:
            continue
        bad = raw.filter(col(key).is_not_null() & numbers.is_null())
        if bad.height:
            first = bad.row(0, named=True)
            log(first[LINE], f"'{key}' is not a number ({first[key]!r}) on {bad.height} line(s)")
        raw = raw.with_columns(numbers.alias(key))
    return raw


def _whole_steps(raw: pl.DataFrame, log: ProblemLog) -> pl.DataFrame:
    """A step of 1.5 counts no optimizer step: its line is reported and left out, rather
    than cut to step 1, where it would overwrite that step's values."""
    keys = [k for k in STEP_KEYS if raw.schema.get(k) == pl.Float64]
    if not keys:
        return raw
    step = pl.coalesce([col(k) for k in keys])
    fractional = (step.is_finite() & (step != step.floor())).fill_null(False)
    bad = raw.filter(fractional)
    if bad.height == 0:
        return raw
    first = bad.row(0, named=True)
    key = next(k for k in keys if first[k] is not None)
    log(
        first[LINE],
        f"'{key}' {first[key]} is not a whole number on {bad.height} line(s); "
        "those lines were left out (a step counts optimizer steps)",
    )
    return raw.filter(~fractional)


def _step_column(
    raw: pl.DataFrame, log: ProblemLog, notes: list[str]
) -> tuple[pl.Expr, str | None]:
    """The first step key present wins; rows lacking it inherit the previous row's step."""
    candidates = [
        k
        for k in STEP_KEYS
        if raw.schema.get(k) == pl.Float64 and raw.get_column(k).null_count() < raw.height
    ]
    if candidates:
        key = candidates[0]
        step = pl.coalesce([col(k) for k in candidates])
    elif raw.schema.get(SWIFT_STEP_KEY) == pl.String:
        key = SWIFT_STEP_KEY
        step = col(key).str.extract(r"^\s*(\d+)", 1).cast(pl.Float64)
    else:
        notes.append(
            "no step key (step, global_step, _step, train/global_step): line numbers used as steps"
        )
        return pl.col(LINE), None
    usable = step.is_finite() & (step.abs() < 2**62)
    unusable = raw.filter(step.is_not_null() & ~usable)
    if unusable.height:
        first = unusable.row(0, named=True)
        log(
            first[LINE],
            f"'{key}' {first[key]} is not a usable step on {unusable.height} line(s);"
            " those lines were given the step of the line before",
        )
    step = pl.when(usable).then(step)
    missing = raw.select(step.is_null().sum()).item() - unusable.height
    if missing:
        notes.append(f"{missing} lines without '{key}' were given the step of the line before")
    return step.forward_fill().backward_fill().cast(pl.Int64, strict=False), key


def _text_column(
    raw: pl.DataFrame, name: str, log: ProblemLog, meta: dict[str, Any], notes: list[str]
) -> list[pl.Expr]:
    """Text is metadata; a mostly numeric column with a few stray strings is a metric.

    List values (see decode.LIST_MARKER) are never metrics; they are mentioned in a note.
    """
    # renamed: Series methods run through pl.col(name), a regex for names like '^x_loss$'
    column = raw.get_column(name).alias("value")
    is_list = column == LIST_MARKER
    lists = int(is_list.sum())
    if lists:
        notes.append(f"'{name}' holds lists on {lists} line(s): not metrics, skipped")
    numbers = raw.select(text_as_float(name).alias("number")).to_series()
    text = raw.filter(column.is_not_null() & numbers.is_null() & ~is_list.fill_null(False))
    if numbers.null_count() == raw.height:
        if text.height:
            meta[name] = text.get_column(name).tail(1).item()
        return []
    if text.height:
        first = text.row(0, named=True)
        log(
            first[LINE],
            f"'{name}' has {text.height} non-numeric value(s) such as {first[name]!r}; "
            "read as missing",
        )
    return [text_as_float(name)]
