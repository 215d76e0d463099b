"""One training process, one run: trackers that logged the same run at once are merged.

A Hugging Face Trainer with report_to=["tensorboard", "wandb"] writes trainer_state.json,
runs/<date>_<host>/ and wandb/<run>/ for one run; veRL's trackers write a JSONL file,
TensorBoard, W&B and MLflow side by side. Discovery sees each tracker folder as a run; and
one folder's readers give one series under two spellings (`loss` from trainer_state.json,
`train/loss` from TensorBoard). Both are the same thing logged twice.

How it is decided (values, never names alone):
- spellings: two columns of one run whose names differ only by a tracker's prefix or
  separator (`train/`, `.` for `/`, `eval_` for `eval/`) are one metric when every step both
  logged holds the same value (within float32 rounding: TensorBoard stores float32);
- runs: candidates are runs found in the same folder, one being the folder itself or a
  tracker folder in it (wandb/, mlruns/, tensorboard_log/ ...). They are one run when they
  carry no conflicting run ids, share at least `MIN_AGREEING` steps of a varying,
  non-schedule metric, every shared value agrees, and their wall times (when both have
  them) are close. Two runs of one config (same learning-rate schedule, different losses)
  disagree on the loss and stay apart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from logscope.columns import col

if TYPE_CHECKING:
    from logscope.run import Run

RTOL = 1e-6  # float32 keeps ~7 significant digits; its rounding is below 6e-8 relative
ATOL = 1e-12
MIN_AGREEING = 3  # steps of a varying metric that must agree before two runs are one
MAX_CLOCK_GAP = 3600.0  # seconds: one process writes its trackers within moments
TRACKER_DIRS = frozenset(
    {"wandb", "mlruns", "tensorboard_log", "tensorboard", "tb_logs", "swanlog"}
)
# schedules and counters agree between different runs of one config: no evidence
_SCHEDULE = re.compile(
    r"(^|/)(lr|learning_rate|epoch|step|global_step|_step|_runtime|_timestamp|"
    r"total_flos|num_tokens|timestamp)($|/)|lr$|learning_rate$",
    re.IGNORECASE,
)
_DATABASES = (".db", ".sqlite", ".sqlite3")  # a tracker store: `mlflow.db/<run>`
_ID_KEYS = ("wandb.run_id", "run_id")
_HOME_HINTS = (*TRACKER_DIRS, *_DATABASES)  # in a path whose home is above the path


def canonical(name: str) -> str:
    """The name under a tracker's spelling: `train/loss`, `train.loss` and `loss` agree."""
    name = name.replace(".", "/")
    if name.startswith("train/"):
        name = name[len("train/") :]
    if name.startswith("eval_"):
        name = "eval/" + name[len("eval_") :]
    return name


def merge_runs(runs: list[Run]) -> list[Run]:
    """The runs with those one process wrote at once merged, and spellings folded."""
    out: list[Run] = []
    for group in _groups(runs):
        merged: list[Run] = []
        for run in group:
            for i, kept in enumerate(merged):
                verdict = same_run(kept, run)
                if verdict.same:
                    merged[i] = _union(kept, run, verdict.reason)
                    break
            else:
                merged.append(run)
        out.extend(merged)
    return [fold_spellings(run) for run in out]


def home(path: str) -> str:
    """The folder whose trackers a run belongs to: above its tracker folder, if any."""
    if not any(name in path for name in _HOME_HINTS):  # most runs of a sweep: no Path
        return path
    parts = Path(path).parts
    for i, part in enumerate(parts):
        if part in TRACKER_DIRS or part.endswith(_DATABASES):
            return str(Path(*parts[:i])) if i else "."
    return path


def _groups(runs: list[Run]) -> list[list[Run]]:
    """Runs that may be one run, in discovery order (the first of a group is kept first)."""
    return [[runs[i] for i in family] for family in families([r.path for r in runs])]


def families(paths: list[str]) -> list[list[int]]:
    """Indices of the runs that may be one run: their homes are the same folder or one is
    inside the other (a W&B dir in the working directory, the Trainer's output_dir below it).
    Sibling folders (runs/a, runs/b) never are. Order of first appearance is kept."""
    homes = [_normal(home(p)) for p in paths]
    parent = list(range(len(paths)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # one inside the other: `b` is `a` or one of its parents ("." is a parent of every
    # relative path); looking up each home's parents keeps a sweep of 10^4 runs linear
    first: dict[str, int] = {}
    for i, a in enumerate(homes):
        first.setdefault(a, i)
    for i, a in enumerate(homes):
        for folder in _and_parents(a):
            j = first.get(folder)
            if j is not None and j != i:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(paths)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _normal(path: str) -> str:
    """`str(Path(path))`, without a Path for a path already written that way (discovery's
    run folders): a sweep of 10^4 runs asked for 0.3 s of Path objects here."""
    plain = path and "//" not in path and "/./" not in path and not path.startswith("./")
    if plain and (not path.endswith(("/", "/.")) or path == "/"):
        return path
    return str(Path(path))


def _and_parents(path: str) -> Iterator[str]:
    """`path` and its parents as `Path(path).parents` names them ("." above a relative
    path's top folder), for a path `_normal` wrote."""
    yield path
    while (parent := os.path.dirname(path) or ".") != path:  # noqa: PTH120 (strings here)
        yield parent
        path = parent


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether two readings hold one training run, with the reason shown to the user."""

    same: bool
    reason: str


def same_run(a: Run, b: Run) -> Verdict:
    """Whether `b` holds the same training run as `a`, and why (said in the sources table)."""
    ids = {k: (a.meta.get(k), b.meta.get(k)) for k in _ID_KEYS}
    for key, (x, y) in ids.items():
        if x and y and x != y:
            return Verdict(False, f"different run ids ({key} {x} vs {y})")
    pairs = [(x, y) for x in a.metrics for y in b.metrics if canonical(x) == canonical(y)]
    if not pairs:
        return Verdict(False, "no metric in common")
    joined = a.frame.join(b.frame, on="step", how="inner", suffix="\x00b")
    if joined.height == 0:
        return Verdict(False, "no step in common")
    agreeing: dict[str, None] = {}  # canonical names, in order
    steps = 0
    for x, y in pairs:
        right = y + "\x00b" if y in a.frame.columns else y
        both = joined.select(col(x).alias("x"), col(right).alias("y")).drop_nulls()
        if both.height == 0:
            continue
        bad = both.filter(~_equal(pl.col("x"), pl.col("y")))
        if bad.height:
            return Verdict(False, f"{x} differs from {y} at {bad.height} of {both.height} steps")
        if not _SCHEDULE.search(x) and both.get_column("x").n_unique() > 1:
            agreeing[canonical(x)] = None
            steps = max(steps, both.height)
    if steps < MIN_AGREEING:
        return Verdict(False, f"fewer than {MIN_AGREEING} shared steps of a varying metric")
    gap = _clock_gap(joined)
    if gap is not None and gap > MAX_CLOCK_GAP:
        return Verdict(False, f"same values but written {gap:.0f} s apart (a rerun)")
    names = list(agreeing)
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return Verdict(True, f"same values at {steps} steps ({shown})")


def _equal(x: pl.Expr, y: pl.Expr) -> pl.Expr:
    """Equal within float32 rounding; NaN equals NaN, an infinity itself."""
    close = (x - y).abs() <= ATOL + RTOL * pl.max_horizontal(x.abs(), y.abs())
    return close | (x == y) | (x.is_nan() & y.is_nan())


def _clock_gap(joined: pl.DataFrame) -> float | None:
    if "wall_time\x00b" not in joined.columns:
        return None
    gap = joined.select((pl.col("wall_time") - pl.col("wall_time\x00b")).abs().median()).item()
    return None if gap is None else float(gap)


def _union(a: Run, b: Run, reason: str) -> Run:
    """`b` joined into `a`: steps of both, `a`'s value where both logged a column."""
    from logscope.run import Run

    frame = a.frame.join(b.frame, on="step", how="full", coalesce=True, suffix="\x00b")
    twins = [c for c in frame.columns if c.endswith("\x00b")]
    frame = frame.with_columns(pl.coalesce(col(c[:-2]), col(c)).alias(c[:-2]) for c in twins).drop(
        twins
    )
    frame = frame.sort("step")
    note = f"same run as {a.path}: {reason}"
    sources = a.sources + [replace(s, notes=(*s.notes, note)) for s in b.sources]
    origins = a.origins
    if a.origins is not None and b.origins is not None:
        origins = (
            pl.concat([a.origins, b.origins], how="vertical_relaxed")
            .group_by("step", maintain_order=True)
            .first()
            .sort("step")
        )
    return Run(
        path=a.path,
        frame=frame,
        sources=sources,
        resumes=a.resumes + b.resumes,
        meta={**b.meta, **a.meta},
        notes=[*a.notes, f"merged {b.path} into this run: {reason}", *b.notes],
        origins=origins,
        checkpoint_dir=a.checkpoint_dir,
    )


def fold_spellings(run: Run) -> Run:
    """Columns that are one series under two spellings become one column (the first
    spelling); run.meta["spellings"] lists every spelling of each folded metric."""
    groups: dict[str, list[str]] = {}
    for name in run.metrics:
        groups.setdefault(canonical(name), []).append(name)
    spellings: dict[str, list[str]] = dict(run.meta.get("spellings", {}))
    frame = run.frame
    for names in groups.values():
        keep, *others = names
        for other in others:
            if _same_series(frame, keep, other):
                frame = frame.with_columns(pl.coalesce(col(keep), col(other)).alias(keep))
                frame = frame.drop(other)
                spellings.setdefault(keep, [keep]).append(other)
    if not spellings or frame is run.frame:
        return run
    run.frame = frame
    run.meta["spellings"] = spellings
    folded = "; ".join(f"{k} = {', '.join(v[1:])}" for k, v in spellings.items())
    run.notes.append(f"one metric under several spellings (same values at each step): {folded}")
    return run


def _same_series(frame: pl.DataFrame, a: str, b: str) -> bool:
    both = frame.select(col(a).alias("x"), col(b).alias("y")).drop_nulls()
    if both.height == 0:
        return False
    return bool(both.select(_equal(pl.col("x"), pl.col("y")).all()).item())
