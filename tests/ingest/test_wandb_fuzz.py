"""Property tests for `.wandb` files: round trips, and whatever bytes come, a report, never
a traceback. Files come from an independent minimal writer (wandb_writer.py), so these run
without the wandb package. Deterministic, as in test_fuzz.py."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wandb_writer import field, frame, history_record, wandb_bytes

from logscope.ingest import read_run
from logscope.run import Run

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz/<>\x1b\n\t\u00e9", min_size=2, max_size=10
).map(lambda name: "m" + name)
values = st.floats(allow_nan=True, allow_infinity=True)
histories = st.lists(
    st.dictionaries(names, values, min_size=1, max_size=5), min_size=1, max_size=30
)


def read(data: bytes) -> Run:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run-prop0001.wandb"
        path.write_bytes(data)
        return read_run(path)


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return (math.isnan(a) and math.isnan(b)) or a == b


def values_of(run: Run) -> list[dict[str, float | None]]:
    return [
        {k: v for k, v in row.items() if k != "wall_time" and k != "_timestamp"}
        for row in run.frame.to_dicts()
    ]


def assert_rows_are_logged_rows(run: Run, rows: list[dict[str, float]]) -> None:
    """Every row read is the row written at that step, value for value."""
    for row in run.frame.to_dicts():
        logged = rows[row["step"]]
        for key, value in logged.items():
            assert same(row.get(key), value), (row["step"], key)


@FUZZ
@given(histories)
def test_round_trip_keeps_every_value_nan_and_inf_included(rows):
    run = read(wandb_bytes(rows))

    assert run.problems == []
    assert run.frame.get_column("step").to_list() == list(range(len(rows)))
    assert_rows_are_logged_rows(run, rows)


@FUZZ
@given(histories, st.floats(min_value=0, max_value=1))
def test_a_cut_anywhere_keeps_a_prefix_of_the_steps(rows, where):
    data = wandb_bytes(rows)
    run = read(data[: int(len(data) * where)])

    steps = run.frame.get_column("step").to_list()
    assert steps == list(range(len(steps)))
    assert_rows_are_logged_rows(run, rows)
    if len(steps) < len(rows):
        # a cut inside a record is a problem; a cut exactly between records is only visible
        # as the missing exit record, which a finished run always has
        missing_exit = any("no exit record" in n for s in run.sources for n in s.notes)
        assert run.problems or missing_exit, "lost steps must be reported"


@FUZZ
@given(histories, st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_a_flipped_byte_is_either_harmless_or_reported(rows, at, mask):
    data = bytearray(wandb_bytes(rows))
    at %= len(data)
    data[at] ^= mask
    clean = read(wandb_bytes(rows))

    run = read(bytes(data))

    if run.problems == []:
        assert values_of(run) == values_of(clean) or run.frame.equals(clean.frame)
    for problem in run.problems:
        assert problem.message and problem.path.endswith("run-prop0001.wandb")


@FUZZ
@given(st.binary(max_size=3000), st.booleans())
def test_random_bytes_never_raise(data, with_header):
    head = b":W&B\xe1\xbe\x00" if with_header else b""

    run = read(head + data)

    assert run.frame.height == 0 or run.problems or with_header
    for problem in run.problems:
        assert problem.message


def test_a_record_with_a_good_checksum_but_broken_protobuf_is_reported_by_offset():
    good = history_record(0, {"loss": 1.0})
    broken = field(2, b"\x0a\xff\x01")  # a history item claiming 255 bytes, holding one
    nameless = field(
        2,
        field(1, field(16, b"2.0"))
        + field(1, field(2, b"loss") + field(16, b"3"))
        + field(1, field(2, b"_step") + field(16, b"1")),
    )
    data = frame([good, broken, nameless])

    run = read(data)

    assert run.frame.get_column("loss").to_list() == [1.0, 3.0]
    messages = [p.message for p in run.problems]
    offset = len(frame([good]))
    assert any(
        m.startswith(f"byte {offset}: 1 damaged history record(s) skipped") for m in messages
    )
    assert "1 history item(s) without a key skipped" in messages


# --- CSV / Parquet tables and W&B chart exports --------------------------------------------

EXPORT_HEAD = b'"Step","r1 - loss","r1 - loss__MIN","r1 - loss__MAX","r2 - loss","r2 - loss__MIN","r2 - loss__MAX"\n'


def read_all(data: bytes, name: str) -> list[Run]:
    from logscope.ingest import read_runs

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        return read_runs(path)


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(["metrics.csv", "history.parquet"]))
def test_random_table_bytes_never_raise(data, name):
    if not data.strip():
        return  # an empty file is "no log found" (exit 2), tested in test_wandb_exports.py
    for run in read_all(data, name):
        for problem in run.problems:
            assert problem.message


@FUZZ
@given(
    st.lists(
        st.lists(st.sampled_from(["1", "2.5", "NaN", "", "x", "inf", "-", '"']), max_size=8),
        max_size=20,
    )
)
def test_ragged_or_odd_export_rows_never_raise(rows):
    body = "\n".join(",".join(row) for row in rows).encode()

    runs = read_all(EXPORT_HEAD + body, "wandb_export.csv")

    assert [r.path.rsplit(" [", 1)[1] for r in runs] == ["r1]", "r2]"]
    for run in runs:
        assert set(run.metrics) <= {"loss"}


def test_the_last_text_value_is_the_last_steps_whatever_the_item_order():
    # wandb-core writes a record's items in no fixed order (a Go map)
    rows: list[dict[str, object]] = [
        {"m1": 1.0, "m2": 2.0, "phase": "warmup"},
        {"phase": "main", "m1": 1.5},
    ]
    data = wandb_bytes(rows)  # type: ignore[arg-type]

    run = read(data)

    assert run.meta["phase"] == "main"
    assert run.frame.get_column("m1").to_list() == [1.0, 1.5]


def test_object_values_flatten_to_dotted_names_and_media_objects_do_not():
    rows = [
        {"train": {"kl": 0.5, "deep": {"x": math.nan}, "tag": "a"}, "img": {"_type": "image-file"}},
        {"train": {"kl": 0.25, "deep": {"x": 1.0}, "tag": "b"}, "img": {"_type": "image-file"}},
    ]

    run = read(wandb_bytes(rows))  # type: ignore[arg-type]

    assert run.frame.get_column("train.kl").to_list() == [0.5, 0.25]
    deep = run.frame.get_column("train.deep.x").to_list()
    assert math.isnan(deep[0]) and deep[1] == 1.0
    assert run.meta["train.tag"] == "b"
    assert (
        "'img' holds W&B image-file media on 2 step(s): not a metric, skipped"
        in run.sources[0].notes
    )
