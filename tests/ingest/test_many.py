"""ingest.many reads a sweep's plain JSONL runs in one Polars call; each Run is exactly the
one `read_found` builds from the same file, and any file it is unsure of goes to it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscope.ingest import read_found
from logscope.ingest.discover import discover
from logscope.ingest.many import read_many
from logscope.run import Run


def _line(rng: np.random.Generator, step: int, keys: list[str], plain: bool) -> str:
    record: dict[str, object] = {"step": step}
    for key in keys:
        kind = rng.integers(12) if not plain else 3 - 3 * int(rng.random() < 0.2)
        if kind == 0:
            record[key] = int(rng.integers(-5, 5))
        elif kind == 1 and rng.random() < 0.3:
            continue  # a key missing on this line
        elif kind == 2 and rng.random() < 0.2:
            record[key] = rng.choice(["NaN", "Infinity", "text", None])
        else:
            record[key] = float(rng.normal())
    return json.dumps(record)


def _write_sweep(folder: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pool = ["loss", "grad_norm", "wall_time", "_timestamp", "rewards/margins", "kl", "x.y"]
    for index in range(int(rng.integers(1, 7))):
        keys = list(rng.choice(pool, int(rng.integers(0, len(pool))), replace=False))
        length = int(rng.integers(1, 30))
        steps = np.cumsum(rng.integers(0 if rng.random() < 0.2 else 1, 3, length))
        plain = rng.random() < 0.6  # most files of a sweep: numbers only, every key
        lines = [_line(rng, int(s), keys, plain) for s in steps]
        if rng.random() < 0.05:
            lines.insert(int(rng.integers(len(lines))), "")
        if rng.random() < 0.05:
            lines[-1] = lines[-1][:-3]  # cut short
        text = "\n".join(lines) + ("\n" if rng.random() < 0.95 else "")
        run = folder / f"run_{index}"
        run.mkdir()
        (run / "metrics.jsonl").write_text(text)


def _same(a: Run, b: Run) -> None:
    assert a.path == b.path
    assert a.frame.equals(b.frame) and a.frame.schema == b.frame.schema
    assert a.sources == b.sources
    assert a.resumes == b.resumes and a.meta == b.meta and a.notes == b.notes
    assert (a.origins is None) == (b.origins is None)
    if a.origins is not None and b.origins is not None:
        assert a.origins.equals(b.origins) and a.origins.schema == b.origins.schema


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_batched_runs_equal_runs_read_one_by_one(seed: int, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("sweep")
    _write_sweep(folder, seed)
    targets = [(found, folder) for found in discover(folder)]
    for together, alone in zip(read_many(targets), [read_found(*t) for t in targets], strict=True):
        _same(together, alone)


def test_plain_runs_take_the_batched_path(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for index in range(3):
        run = tmp_path / f"run_{index}"
        run.mkdir()
        lines = [
            json.dumps({"step": s, "loss": 1.0 / s, "wall_time": 100.0 + s}) for s in (1, 2, 3)
        ]
        (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    import logscope.ingest as ingest

    def refuse(*args: object, **kwargs: object) -> Run:
        raise AssertionError("read one by one")

    targets = [(found, tmp_path) for found in discover(tmp_path)]
    expected = [read_found(*t) for t in targets]
    monkeypatch.setattr(ingest, "read_found", refuse)
    runs = read_many(targets)
    for together, alone in zip(runs, expected, strict=True):
        _same(together, alone)
    assert runs[0].frame.columns == ["step", "wall_time", "loss"]


_TOKENS = ["NaN", "Infinity", "-Infinity", "null", "true", '"0.5"', "[1]", "{}", "1e400", "-0"]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    edits=st.lists(
        st.sampled_from(["token", "repeat", "order", "space", "blank", "join", "missing"]),
        max_size=3,
    ),
)
def test_a_file_one_token_away_from_plain_reads_as_alone(seed: int, edits: list[str]) -> None:
    """Plain files with a single edit (a NaN/Infinity/null/true/text/array token for a
    number, a key written twice, keys in another order, other spacing, a blank line, two
    objects on one line, a key left out): what the batched reader makes of each file is
    what the reader makes of it alone, beside untouched files."""
    import tempfile

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for index in range(4):
            keys = ["loss", "kl", "rewards/chosen"][: int(rng.integers(1, 4))]
            records = [{"step": s, **{k: float(rng.normal()) for k in keys}} for s in range(1, 9)]
            lines = [json.dumps(r) for r in records]
            if index:  # the first file stays plain
                _edit(lines, records, rng, edits)
            run = folder / f"run_{index}"
            run.mkdir()
            (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
        targets = [(found, folder) for found in discover(folder)]
        runs = read_many(targets)
        for together, alone in zip(runs, [read_found(*t) for t in targets], strict=True):
            _same(together, alone)


def _edit(
    lines: list[str], records: list[dict], rng: np.random.Generator, edits: list[str]
) -> None:  # type: ignore[type-arg]
    at = int(rng.integers(len(lines)))
    record = records[at]
    key = str(rng.choice([k for k in record if k != "step"] or ["step"]))
    for edit in edits:
        at = min(at, len(lines) - 1)
        if edit == "token":
            value = str(rng.choice(_TOKENS))
            lines[at] = json.dumps({**record, key: 0.25}).replace("0.25", value)
        elif edit == "repeat":
            lines[at] = lines[at][:-1] + f', "{key}": 1.0}}'
        elif edit == "order":
            lines[at] = json.dumps(dict(reversed(list(record.items()))))
        elif edit == "space":
            lines[at] = json.dumps(record, separators=(",", ":"))
        elif edit == "blank":
            lines.insert(at, "")
        elif edit == "join":
            first = min(at, len(lines) - 2)
            lines[first : first + 2] = [lines[first] + lines[first + 1]]
        elif edit == "missing":
            lines[at] = json.dumps({k: v for k, v in record.items() if k != key})
