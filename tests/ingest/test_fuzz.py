"""Property tests: whatever bytes a log file holds, reading it never raises.

Deterministic (derandomize=True, no example database) so CI failures reproduce.
"""

from __future__ import annotations

import json
import math
import random
import tempfile
from pathlib import Path
from typing import Any

import fuzzing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscope.ingest import read_run, read_runs
from logscope.model import Problem
from logscope.run import Run

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def read_bytes_as_jsonl(data: bytes, name: str = "metrics.jsonl") -> tuple[Path, Run]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        return path, read_run(path)


def assert_problems_name(run: Run, path: Path) -> None:
    for problem in run.problems:
        assert isinstance(problem, Problem)
        assert problem.path == str(path)
        assert problem.message


# metric names cannot turn into `step`, `_step`, `wall_time`, ... with one changed byte
metric_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz/_@", min_size=3, max_size=12).map(
    lambda name: "m_" + name
)
values = st.floats(allow_nan=True, allow_infinity=True)
records = st.lists(st.dictionaries(metric_names, values, max_size=6), min_size=1, max_size=40)


def to_jsonl(rows: list[dict[str, Any]]) -> bytes:
    """One line per record, step = its position; json.dumps writes NaN/Infinity bare."""
    return b"".join(
        json.dumps({"step": index, **row}).encode() + b"\n" for index, row in enumerate(rows)
    )


# --- (a) random bytes --------------------------------------------------------------------

json_ish = st.sampled_from(
    [
        b"{",
        b"}",
        b'"',
        b":",
        b",",
        b"\n",
        b"\r\n",
        b"NaN",
        b"null",
        b"[",
        b"]",
        b'{"step": 1, "loss": 0.5}',
        b"\xff",
        b"\x00",
        b" ",
    ]
)
byte_soups = st.one_of(
    st.binary(max_size=3000),
    st.binary(max_size=2000).map(lambda b: b"{" + b),
    st.lists(st.one_of(json_ish, st.binary(max_size=8)), max_size=300).map(b"".join),
)


@FUZZ
@given(data=byte_soups)
def test_random_bytes_never_raise(data: bytes) -> None:
    path, run = read_bytes_as_jsonl(data)

    assert_problems_name(run, path)
    assert run.frame.columns[:2] == ["step", "wall_time"]


# --- (b) truncation at any byte ----------------------------------------------------------


@FUZZ
@given(rows=records, cut_fraction=st.floats(min_value=0, max_value=1))
def test_truncated_file_never_raises(rows: list[dict[str, float]], cut_fraction: float) -> None:
    full = to_jsonl(rows)
    cut = int(len(full) * cut_fraction)
    data = full[:cut]
    path, run = read_bytes_as_jsonl(data)

    assert_problems_name(run, path)
    complete = data.count(b"\n")
    partial = data.rsplit(b"\n", 1)[-1]
    full_lines = full.split(b"\n")
    partial_is_whole_record = partial and partial == full_lines[complete]
    expected_rows = complete + (1 if partial_is_whole_record else 0)
    assert run.frame.height <= len(rows)
    assert run.frame.height == expected_rows
    if partial and not partial_is_whole_record:
        assert any(p.line == complete + 1 for p in run.problems)
    else:
        assert len(run.problems) == (0 if data else 1)


# --- (c) single-byte corruptions ---------------------------------------------------------


def numeric_step(line: bytes) -> int | None:
    """The step a corrupted line still carries, or None when it does not parse."""
    try:
        record = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict):
        return None
    step = record.get("step")
    if isinstance(step, bool) or not isinstance(step, (int, float)):
        return None
    if not math.isfinite(step) or abs(step) > 2**53:
        return None
    return int(step)


@FUZZ
@given(
    rows=records,
    corruptions=st.lists(
        st.tuples(st.floats(min_value=0, max_value=1, exclude_max=True), st.integers(0, 255)),
        min_size=1,
        max_size=3,
    ),
)
def test_corrupted_bytes_never_raise_and_good_lines_count(
    rows: list[dict[str, float]], corruptions: list[tuple[float, int]]
) -> None:
    data = bytearray(to_jsonl(rows))
    for where, byte in corruptions:
        data[int(where * len(data))] = byte
    path, run = read_bytes_as_jsonl(bytes(data))

    assert_problems_name(run, path)
    lines = bytes(data).split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    for problem in run.problems:
        assert problem.line is None or 1 <= problem.line <= len(lines)
    expected = {s for s in map(numeric_step, lines) if s is not None}
    if expected:
        assert set(run.frame["step"].to_list()) == expected


# --- (d) hostile metric names ------------------------------------------------------------

# names the reader gives a meaning of its own (index keys, dialect markers, the test's own metric)
RESERVED = {
    "step", "global_step", "_step", "train/global_step", "wall_time", "_timestamp",
    "timestamp", "log_history", "global_step/max_steps", "data", "loss",
}  # fmt: skip
HOSTILE = [
    "<script>alert(1)</script>", '"quoted"', "it's", "a/b/c", "/", "//", "\\", "", " ",
    "x" * 5000, "\u202eevil", "\x00nul", "tab\there", "new\nline", "ключ", "指标/损失",
    "🔥/loss", "NaN", "Infinity", ": NaN, ", "null", "{}", "[]", "step_", "loss.mean",
    "eval/gsm8k/accuracy/mean@4", "%s%n", "${HOME}", "a" * 300 + "/" + "b" * 300,
    "*", "^loss$", "^.*$", "a*", "_line",
]  # fmt: skip
hostile_names = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40)).filter(
    lambda name: name not in RESERVED
)


@settings(FUZZ, max_examples=100)
@given(name=hostile_names, count=st.sampled_from([1, 3, 20]), value=values)
def test_hostile_metric_names_survive(name: str, count: int, value: float) -> None:
    for ensure_ascii in (True, False):
        data = "".join(
            json.dumps({"step": s, "loss": 0.5, name: value}, ensure_ascii=ensure_ascii) + "\n"
            for s in range(1, count + 1)
        ).encode()
        path, run = read_bytes_as_jsonl(data)

        assert_problems_name(run, path)
        assert run.frame.height == count
        assert run.frame["loss"].to_list() == [0.5] * count
        if name:
            got = run.frame[name].to_list()
            if math.isnan(value):
                assert all(math.isnan(v) for v in got)
            else:
                assert got == [value] * count


# --- (e) any JSON values under a few shared keys -------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | values
    | st.integers()
    | st.sampled_from(["", "NaN", "5e-7", "1m 3s"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "step"]), children, max_size=3)
    ),
    max_leaves=8,
)
json_records = st.dictionaries(
    st.sampled_from(["step", "loss", "x", "a", "data", "wall_time", "global_step"]),
    json_values,
    max_size=5,
)


@settings(FUZZ, max_examples=100)
@given(rows=st.lists(json_records, min_size=1, max_size=20))
def test_any_json_values_never_raise(rows: list[dict[str, Any]]) -> None:
    data = b"".join(json.dumps(row).encode() + b"\n" for row in rows)
    path, run = read_bytes_as_jsonl(data)

    assert_problems_name(run, path)
    assert run.frame.columns[:2] == ["step", "wall_time"]


# --- (f) every reader: mutated seeds and noise (fuzzing.py) ---------------------------------

FORMATS = sorted(fuzzing.SEEDS)


@settings(FUZZ, max_examples=100)
@given(fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**32 - 1), noise=st.booleans())
def test_every_reader_gives_a_run_or_one_clear_error(fmt: str, seed: int, noise: bool) -> None:
    rng = random.Random(seed)
    data = rng.randbytes(rng.randint(0, 1500)) if noise else fuzzing.mutate(fuzzing.seed(fmt), rng)
    with tempfile.TemporaryDirectory() as folder:
        path = fuzzing.materialize(fmt, data, Path(folder))

        assert fuzzing.outcome(path) in ("runs", "error")


def test_every_seed_reads_cleanly() -> None:
    """The seeds themselves are good logs: a fuzz run starts from real data, not from noise."""
    for fmt in FORMATS:
        with tempfile.TemporaryDirectory() as folder:
            runs = read_runs(fuzzing.materialize(fmt, fuzzing.seed(fmt), Path(folder)))

            assert runs and all(r.frame.height for r in runs), fmt


@settings(FUZZ, max_examples=12)
@given(fmt=st.sampled_from(FORMATS), seed=st.integers(0, 2**32 - 1))
def test_the_cli_exits_0_1_or_2_and_never_crashes(fmt: str, seed: int) -> None:
    from typer.testing import CliRunner

    from logscope.cli import app

    data = fuzzing.mutate(fuzzing.seed(fmt), random.Random(seed))
    with tempfile.TemporaryDirectory() as folder:
        path = fuzzing.materialize(fmt, data, Path(folder))
        result = CliRunner().invoke(app, ["check", str(path), "--format", "json"])

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == 2:
        assert "error" in result.output.lower()
    else:
        assert json.loads(result.stdout)["runs"]
