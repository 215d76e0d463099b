"""veRL / TinyZero console logs: `step:N - key:value - key:value ...` lines in a stdout log.

veRL's `console` backend (verl/utils/logger/aggregate_logger.py) prints one line per step,
`"step:{step} - " + " - ".join(f"{k}:{pprint.pformat(v)}")`; old veRL and TinyZero print
`{v:.3f}`. These lines sit among everything else a job writes to stdout: warnings,
tracebacks, tqdm bars ending in `\\r`, ANSI colours and Ray's `(TaskRunner pid=123)` prefix.
Values may be `np.float64(0.5)` (numpy >= 2 repr), `tensor(0.5)`, `nan`, `inf`, `-inf`.

Only lines holding `step:<int> - ` are read; the work is Polars string expressions over
all lines at once (split, regex extract, pivot), not a Python loop per line.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from logscope.columns import LINE, col
from logscope.ingest.base import MAX_PROBLEMS, Ingested, ProblemLog, empty_frame
from logscope.ingest.textfile import read_text_bytes

if TYPE_CHECKING:
    from logscope.ingest.base import Progress

FORMAT = "verl_console"
SUFFIXES = (".log", ".out", ".txt", ".err")
# a step line as veRL prints it: step:0 - some/key:1.0
# the same start as the parser's (_START): `global_step:3 - ...` is no veRL step line
_STEP_LINE = re.compile(rb"(?:^|[^A-Za-z0-9_])step:\d+ - [^:\n]+:", re.MULTILINE)
_SNIFF_BYTES = 64 << 20  # veRL prints its config and model loading before step 0
_ANSI = r"\x1b\[[0-9;?]*[ -/]*[@-~]"
# value reprs: 0.5, -1e-05, nan, inf, np.float64(0.5), np.int64(3), tensor(0.5, device=...)
_NUMBER = r"[-+]?(?:nan|inf(?:inity)?|(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)"
_VALUE = (
    rf"(?i)^\s*(?:(?:np\.|numpy\.)?(?:float|int|uint)\d*\(\s*({_NUMBER})\s*\)"
    rf"|tensor\(\s*({_NUMBER})\s*(?:,[^)]*)?\)|({_NUMBER})|(true|false))\s*$"
)


def looks_like(path: Path) -> bool:
    """The file holds at least one veRL step line (read up to its first 64 MiB).

    Discovery asks several times per file: the answer is kept while size and mtime stay."""
    try:
        stat = path.stat()
    except OSError:
        return False
    return _has_step_line(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _has_step_line(path: Path, size: int, mtime: int) -> bool:
    try:
        return has_step_line(read_text_bytes(path, limit=_SNIFF_BYTES))
    except OSError:
        return False


def has_step_line(data: bytes) -> bool:
    return _STEP_LINE.search(data) is not None


def read(path: Path, display: str | None = None, progress: Progress | None = None) -> Ingested:
    """Read every step line; a line's fragments that are no `key:number` are reported."""
    name = display or str(path)
    log = ProblemLog(name)
    notes: list[str] = []
    try:
        data = read_text_bytes(path, log=log)
    except (OSError, ValueError) as error:
        log(None, f"cannot read the file ({getattr(error, 'strerror', None) or error}); skipped")
        return Ingested(name, FORMAT, empty_frame(), log.finish(), notes)
    if progress:
        progress(name, len(data), len(data))
    text = _decode(data, log)
    frame = _parse(text, log, notes)
    if frame.height == 0:
        log(None, "no veRL step line ('step:N - key:value - ...') found")
    return Ingested(name, FORMAT, frame, log.finish(), notes)


def _decode(data: bytes, log: ProblemLog) -> str:
    """Text of the log; bytes that are not UTF-8 become U+FFFD and the first is reported."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        log(line, f"not UTF-8 at byte {error.start}; undecodable bytes replaced, rest read")
        return data.decode("utf-8", errors="replace")


# `step:N - ` not inside another word (global_step:3 is no step line); regexes without a
# long capture group, so Polars' regex engine finds them at memchr speed
_START = r"(?:^|[^A-Za-z0-9_])step:"
# numpy / torch wrappers stripped with literal (cheap) operations before the regex fallback
_WRAPPERS = ("np.float64(", "np.float32(", "np.int64(", "np.int32(", "tensor(")


def _parse(text: str, log: ProblemLog, notes: list[str]) -> pl.DataFrame:
    lines = (
        pl.DataFrame({"text": [text]})
        .select(pl.col("text").str.split("\n"))  # in Rust: no Python string per line
        .explode("text")
        .with_row_index(LINE, offset=1)
        .filter(pl.col("text").str.contains("step:", literal=True))
        .with_columns(pl.col("text").str.replace_all(_ANSI, ""))
        # tqdm redraws with \r: the step line is the \r-piece that holds it
        .with_columns(pl.col("text").str.split("\r"))
        .explode("text")
        .with_columns(
            pl.col("text").str.extract(_START + r"(\d+) - ", 1).alias("step"),
            pl.col("text").str.extract(_START + r"([-+.\d][^ ]*) - ", 1).alias("odd"),
        )
    )
    _report_odd_steps(lines.filter(pl.col("step").is_null() & pl.col("odd").is_not_null()), log)
    lines = (
        lines.filter(pl.col("step").is_not_null())
        .unique(LINE, keep="last", maintain_order=True)
        .select(
            pl.col(LINE).cast(pl.Int64),
            pl.col("step").cast(pl.Int64, strict=False),
            pl.col("text").str.replace("^.*?" + _START + r"\d+ - ", "").alias("body"),
        )
    )
    if lines.height == 0:
        return empty_frame()
    huge = lines.filter(pl.col("step").is_null())
    if huge.height:
        log(huge.item(0, LINE), f"step number too large on {huge.height} line(s); skipped")
        lines = lines.filter(pl.col("step").is_not_null())
    pairs = (
        lines.select(LINE, "step", pl.col("body").str.split(" - "))
        .explode("body")
        .with_columns(pl.col("body").str.strip_chars())
        .filter(pl.col("body") != "")
        .with_columns(
            pl.col("body").str.splitn(":", 2).struct.rename_fields(["key", "raw"]).alias("kv")
        )
        .unnest("kv")
        .with_columns(pl.col("key").str.strip_chars(), _cheap_value(pl.col("raw")).alias("value"))
    )
    pairs = _slow_values(pairs)
    usable = pl.col("value").is_not_null() & (pl.col("key") != "")
    bad = pairs.filter(~usable)
    if bad.height:
        _report(bad, log)
    good = _distinct_keys(pairs.filter(usable), log)
    if good.height == 0:
        return lines.select("step", pl.lit(None, pl.Float64).alias("wall_time"), LINE)
    wide = good.with_columns(pl.col("key").cast(pl.Categorical)).pivot(
        on="key", index=LINE, values="value", aggregate_function="last"
    )
    wide = lines.select(LINE, "step").join(wide, on=LINE, how="left", maintain_order="left")
    metrics = [c for c in wide.columns if c not in (LINE, "step")]
    notes.append(f"veRL console log: {lines.height} step lines read")
    return wide.select(
        "step",
        pl.lit(None, pl.Float64).alias("wall_time"),
        LINE,
        *(col(m).cast(pl.Float64) for m in metrics),
    )


def _report_odd_steps(odd: pl.DataFrame, log: ProblemLog) -> None:
    """`step:1.5 - ...` or `step:-3 - ...`: no step veRL prints; said, not dropped silently."""
    if odd.height == 0:
        return
    first = odd.row(0, named=True)
    log(
        first[LINE],
        f"step {first['odd']!r} is not a whole number on {odd.height} line(s); lines skipped",
    )


_RESERVED = ("step", "wall_time", LINE)


def _distinct_keys(good: pl.DataFrame, log: ProblemLog) -> pl.DataFrame:
    """A key named like the frame's own columns cannot be a metric, and a key printed twice
    on one line keeps its last value: both are said, never silent."""
    reserved = good.filter(pl.col("key").is_in(_RESERVED))
    if reserved.height:
        key, line = reserved.row(0)[reserved.columns.index("key")], reserved.item(0, LINE)
        log(line, f"key {key!r} on {reserved.height} step line(s) is no metric name; skipped")
        good = good.filter(~pl.col("key").is_in(_RESERVED))
    twice = good.filter(pl.struct(LINE, "key").is_duplicated())
    if twice.height:
        first = twice.row(0, named=True)
        lines = twice.get_column(LINE).n_unique()
        more = f" ({lines - 1} more line(s) repeat a key)" if lines > 1 else ""
        log(
            first[LINE],
            f"key {first['key']!r} is printed twice on the line{more}; the last value was read",
        )
    return good


def _cheap_value(raw: pl.Expr) -> pl.Expr:
    """Plain numbers, nan, inf, and the common numpy/torch wrappers, without a regex."""
    text = raw.str.strip_chars()
    unwrapped = text
    for prefix in _WRAPPERS:
        unwrapped = unwrapped.str.strip_prefix(prefix)
    unwrapped = unwrapped.str.strip_suffix(")").str.strip_chars()
    return pl.coalesce(
        text.cast(pl.Float64, strict=False), unwrapped.cast(pl.Float64, strict=False)
    )


def _slow_values(pairs: pl.DataFrame) -> pl.DataFrame:
    """The few values the cheap pass missed (True, tensor(0.5, device=...), numpy.int8(3))
    go through the full regex; only those rows pay for it."""
    missed = pl.col("value").is_null() & pl.col("raw").is_not_null()
    if not pairs.select(missed.any()).item():
        return pairs
    pairs = pairs.with_row_index("index")
    found = pairs.filter(missed).select("index", _value(pl.col("raw")).alias("value"))
    return pairs.update(found, on="index").drop("index")


def _value(raw: pl.Expr) -> pl.Expr:
    """A value repr as Float64; None when it is not a number veRL would print."""
    found = raw.str.extract_groups(_VALUE)
    number = pl.coalesce(found.struct.field("1"), found.struct.field("2"), found.struct.field("3"))
    boolean = found.struct.field("4").str.to_lowercase()
    return (
        pl.when(boolean == "true")
        .then(1.0)
        .when(boolean == "false")
        .then(0.0)
        .otherwise(number.str.to_lowercase().cast(pl.Float64, strict=False))
    )


def _report(bad: pl.DataFrame, log: ProblemLog) -> None:
    """One problem per line with unreadable fragments, naming the first of them."""
    fragment = pl.concat_str(pl.col("key"), pl.col("raw"), separator=":", ignore_nulls=True)
    per_line = bad.group_by(LINE, maintain_order=True).agg(
        fragment.first().alias("body"), pl.len().alias("n")
    )
    for line, body, count in per_line.head(MAX_PROBLEMS).iter_rows():
        shown = body if len(body) <= 60 else body[:57] + "..."
        more = f" (and {count - 1} more)" if count > 1 else ""
        log(line, f"step line fragment {shown!r} is not 'key:number'{more}; skipped")
    if per_line.height > MAX_PROBLEMS:
        log(None, f"{per_line.height - MAX_PROBLEMS} more step lines hold unreadable fragments")
