"""MLflow file store: `mlruns/<experiment_id>/<run_id>/` (mlflow/store/tracking/file_store.py).

A run folder holds `meta.yaml`, `metrics/<key>`, `params/<key>`, `tags/<key>`; a key with
`/` is a sub-folder (`metrics/actor/pg_loss` is `actor/pg_loss`). Each metric file gets one
line per value, `f"{timestamp_ms} {value} {step}"` with Python's float repr (`nan`, `inf`,
`-inf`); MLflow's own reader also accepts two fields (step 0). A deleted run is only
marked in its meta.yaml (`lifecycle_stage: deleted`) and is left out, as in MLflow's UI;
deleted experiments move to `mlruns/.trash/`, which discovery skips like every dot-folder.

A run can have hundreds of metric files: their bytes go through one `read_csv` together;
only when some file has a bad line does the exact path (Polars string ops over all lines,
still one frame, not file by file) find and report it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from logscope.ingest.base import MAX_PROBLEMS, Ingested, ProblemLog, empty_frame
from logscope.ingest.decode import LINE, text_as_float

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

FORMAT = "mlflow_files"
# meta.yaml stores mlflow.entities.RunStatus as its number
_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
# veRL and Trinity-RFT write '@' as '_at_' because MLflow rejects it (val-core/.../mean@4)
_SANITISED_AT = re.compile(r"_at_(?=\d)")


def is_run_folder(folder: Path) -> bool:
    """A live MLflow run folder; `mlflow.delete_run` only marks meta.yaml, so a deleted run
    is recognised by its `lifecycle_stage: deleted` line and left out, as MLflow's UI does."""
    if not (folder / "metrics").is_dir():
        return False
    try:
        meta = (folder / "meta.yaml").read_bytes()
    except OSError:
        return False
    return b"lifecycle_stage: deleted" not in meta


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    """One run folder (or its meta.yaml); bad lines are reported per metric file."""
    folder = path.parent if path.name == "meta.yaml" else path
    name = display or str(path)
    if path.name == "meta.yaml" and name.endswith("meta.yaml"):
        name = name[: -len("meta.yaml")].rstrip("/") or "."
    log = ProblemLog(name)
    notes: list[str] = []
    keys, blobs = _metric_files(folder, log)
    if progress:
        size = sum(len(b) for b in blobs)
        progress(name, size, size)
    long = _parse(keys, blobs, name, log)
    frame = widen(long, keys, notes)
    meta = _meta(folder, log)
    if run := describe(meta):
        notes.insert(0, run)
    return Ingested(name, FORMAT, frame, log.finish(), notes, meta, resumes=[])


def _metric_files(folder: Path, log: ProblemLog) -> tuple[list[str], list[bytes]]:
    keys, blobs = [], []
    root = folder / "metrics"
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        key = file.relative_to(root).as_posix()
        try:
            blobs.append(file.read_bytes())
        except OSError as error:
            log(None, f"metrics/{key}: cannot read ({error.strerror or error}); skipped")
            continue
        keys.append(key)
    return keys, blobs


_SCHEMA = {"timestamp": pl.Int64, "value": pl.Float64, "step": pl.Int64}


def _fast(keys: list[str], blobs: list[bytes]) -> pl.DataFrame | None:
    """Every file clean (three fields per line, newline-terminated, no blank line): one
    `read_csv` over all files' bytes at once; otherwise None and the exact path runs."""
    if any(b"\n\n" in b or b.startswith(b"\n") or not b.endswith(b"\n") for b in blobs if b):
        return None
    counts = [b.count(b"\n") for b in blobs]
    try:
        frame = pl.read_csv(
            b"".join(blobs),
            separator=" ",
            has_header=False,
            schema=_SCHEMA,
            quote_char=None,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return None
    if frame.height != sum(counts) or frame.null_count().sum_horizontal().item():
        return None
    codes = pl.int_range(len(keys), dtype=pl.UInt32, eager=True)
    key = codes.repeat_by(pl.Series(counts)).explode().alias("key")
    return frame.with_columns(key).select("key", "value", "timestamp", "step")


def _parse(keys: list[str], blobs: list[bytes], name: str, log: ProblemLog) -> pl.DataFrame:
    """All lines of all metric files as (key, value, timestamp, step); bad lines reported."""
    if (fast := _fast(keys, blobs)) is not None:
        return fast
    texts = [_decode(key, blob, name, log) for key, blob in zip(keys, blobs, strict=True)]
    lines = (
        pl.DataFrame({"key": keys, "text": texts}, schema={"key": pl.String, "text": pl.String})
        .with_row_index("code")
        .with_columns(pl.col("text").str.split("\n"))
        .with_columns(pl.int_ranges(1, pl.col("text").list.len() + 1).alias(LINE))
        .explode("text", LINE)
        .filter(pl.col("text").str.strip_chars() != "")
        .with_columns(pl.col("text").str.strip_chars().str.split(" ").alias("fields"))
        .with_columns(pl.col("fields").list.get(1, null_on_oob=True).alias("value_text"))
    )
    n_fields = pl.col("fields").list.len()
    parsed = lines.with_columns(
        pl.col("fields")
        .list.get(0, null_on_oob=True)
        .cast(pl.Int64, strict=False)
        .alias("timestamp"),
        text_as_float("value_text").alias("value"),
        pl.when(n_fields == 2)
        .then(pl.lit(0, pl.Int64))
        .otherwise(pl.col("fields").list.get(2, null_on_oob=True).cast(pl.Int64, strict=False))
        .alias("step"),
    )
    ok = n_fields.is_in([2, 3]) & pl.all_horizontal(
        pl.col("timestamp", "value", "step").is_not_null()
    )
    bad = parsed.filter(~ok)
    if bad.height:
        _report(bad, name, log)
    return parsed.filter(ok).select(
        pl.col("code").cast(pl.UInt32).alias("key"), "value", "timestamp", "step"
    )


def _decode(key: str, data: bytes, name: str, log: ProblemLog) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        message = "not UTF-8; undecodable bytes replaced"
        log(line, message, path=f"{name}/metrics/{key}")
        return data.decode("utf-8", errors="replace")


def _report(bad: pl.DataFrame, name: str, log: ProblemLog) -> None:
    per_file = bad.group_by("key", maintain_order=True).agg(
        pl.col(LINE).first(), pl.col("text").first(), pl.len().alias("n")
    )
    for key, line, text, count in per_file.head(MAX_PROBLEMS).iter_rows():
        shown = text if len(text) <= 60 else text[:57] + "..."
        more = f" ({count} bad lines in this file)" if count > 1 else ""
        message = f"not 'timestamp value step': {shown!r}; line skipped{more}"
        log(line, message, path=f"{name}/metrics/{key}")
    if per_file.height > MAX_PROBLEMS:
        log(None, f"{per_file.height - MAX_PROBLEMS} more metric files hold unreadable lines")


def widen(long: pl.DataFrame, names: list[str], notes: list[str]) -> pl.DataFrame:
    """(key, value, timestamp, step) rows to the wide frame: one row per step, the value
    logged last (by timestamp, then row order) per key and step. `key` is the UInt32 index
    of the metric's name in `names` (a pivot over integers is several times faster than
    over strings); '_at_<digit>' names get their '@' back."""
    if long.height == 0:
        return empty_frame()
    step = long.get_column("step")
    if step.min() == step.max() and long.get_column("key").is_duplicated().any():
        notes.append(
            "every value was logged at one step (no step given): "
            "each metric's values are numbered in time order instead"
        )
        long = long.sort("timestamp", maintain_order=True).with_columns(
            pl.int_range(pl.len()).over("key").cast(pl.Int64).alias("step")
        )
    names = _restored(names, notes)
    long = long.sort("step", "timestamp", maintain_order=True)
    wide = long.pivot(on="key", index="step", values="value", aggregate_function="last")
    wall = long.group_by("step").agg((pl.col("timestamp").max() / 1000).alias("wall_time"))
    codes = [c for c in wide.columns if c != "step"]
    return (
        wide.join(wall, on="step")
        .sort("step")
        .select(
            "step",
            pl.col("wall_time").cast(pl.Float64),
            pl.lit(None, pl.Int64).alias(LINE),
            *(pl.col(c).alias(names[int(c)]) for c in codes),
        )
    )


def _restored(names: list[str], notes: list[str]) -> list[str]:
    present = set(names)
    restored = []
    renamed = []
    for name in names:
        original = _SANITISED_AT.sub("@", name)
        if original != name and original not in present:
            renamed.append((name, original))
            name = original
        restored.append(name)
    if renamed:
        notes.append(
            f"{len(renamed)} key(s) read with '@' where the logger wrote '_at_' "
            f"(MLflow rejects '@'), e.g. {renamed[0][0]!r} as {renamed[0][1]!r}"
        )
    return restored


def _meta(folder: Path, log: ProblemLog) -> dict[str, Any]:
    import yaml

    from logscope import safe_yaml

    meta: dict[str, Any] = {}
    try:
        loaded = safe_yaml.load((folder / "meta.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        log(None, f"meta.yaml unreadable ({type(error).__name__}); run metadata skipped")
        loaded = None
    if isinstance(loaded, dict):
        for key in ("run_id", "run_name", "experiment_id", "status", "start_time", "end_time"):
            if loaded.get(key) not in (None, ""):
                meta[key] = loaded[key]
        if "status" in meta:
            meta["status"] = _STATUS.get(meta["status"], meta["status"])
    for kind in ("params", "tags"):
        values = _key_files(folder / kind)
        if values:
            meta[kind] = values
    run_name = meta.get("tags", {}).get("mlflow.runName")
    if run_name:
        meta["run_name"] = run_name
    return meta


def describe(meta: dict[str, Any]) -> str | None:
    """A note naming the MLflow run, whose folder only shows its id."""
    if not meta.get("run_name"):
        return None
    return f"MLflow run {meta['run_name']!r} ({meta.get('status', 'status unknown')})"


def _key_files(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    found = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            found[file.relative_to(folder).as_posix()] = file.read_text("utf-8", "replace")
        except OSError:
            continue
    return found
