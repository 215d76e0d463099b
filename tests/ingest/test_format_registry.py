"""The format registry: every record is complete and its readers exist, no module but the
registry compares format names, and a new format needs nothing but its record."""

from __future__ import annotations

import ast
import json
from importlib import import_module
from pathlib import Path

import polars as pl
import pytest

from logscope.columns import LINE
from logscope.follow.sources import SnapshotFeed, open_feed
from logscope.ingest import formats, read_runs
from logscope.ingest.base import Ingested
from logscope.ingest.discover import discover, sniff
from logscope.ingest.formats import Format

PACKAGE = Path(__file__).resolve().parents[2] / "logscope"
NAMES = set(formats.BY_NAME)


def _targets(fmt: Format) -> list[str]:
    """The `module:function` strings behind a record's lazy callables."""
    found = []
    for value in vars(fmt).values():
        name = getattr(value, "__qualname__", "")
        if callable(value) and ":" in name:
            found.append(name)
    return found


@pytest.mark.parametrize("fmt", formats.FORMATS, ids=lambda f: f.name)
def test_every_record_names_functions_that_exist(fmt: Format) -> None:
    for target in _targets(fmt):
        module, _, function = target.partition(":")
        assert callable(getattr(import_module(module), function)), target
    assert fmt.read is not None or fmt.read_part is not None
    if fmt.grouping == "run_id":
        assert fmt.run_id and fmt.run_folder and fmt.home and fmt.label
    if fmt.grouping == "store":
        assert fmt.runs is not None
    if fmt.part_format is not None:
        assert formats.get(fmt.part_format).read_part is not None


def test_format_names_are_compared_only_in_the_registry() -> None:
    """`fmt == "tensorboard"` anywhere but formats.py would be a second place to edit."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        # formats.py is the registry; export.py names the *output* formats it writes
        if path.name == "formats.py" or path.relative_to(PACKAGE).as_posix() == "export.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                for side in (node.left, *node.comparators):
                    if _names_in(side):
                        found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []


def _names_in(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in NAMES
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_names_in(e) for e in node.elts)
    return False


def test_the_first_claim_wins() -> None:
    """TensorBoard's own test (`tfevents` anywhere in the name) before any suffix."""
    assert sniff(Path("events.out.tfevents.123.host.jsonl")) == "tensorboard"
    assert sniff(Path("metrics.ndjson")) == "jsonl"
    assert sniff(Path("notes.md")) is None


def test_no_training_log_found_lists_what_each_record_looks_for(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("nothing")
    with pytest.raises(Exception, match="looked for") as raised:
        discover(tmp_path)
    for fmt in formats.FORMATS:
        if fmt.looked_for:
            assert fmt.looked_for in str(raised.value)


# a format added by one record: "toy" files, one `step value` pair per line
def _read_toy(path: Path, display: str, progress: object = None) -> Ingested:
    pairs = [line.split() for line in path.read_text().splitlines() if line.strip()]
    frame = pl.DataFrame(
        {
            "step": [int(s) for s, _ in pairs],
            "wall_time": [None] * len(pairs),
            LINE: list(range(1, len(pairs) + 1)),
            "toy/loss": [float(v) for _, v in pairs],
        },
        schema={"step": pl.Int64, "wall_time": pl.Float64, LINE: pl.Int64, "toy/loss": pl.Float64},
    )
    return Ingested(display, "toy", frame, [])


TOY = Format(
    name="toy",
    looked_for="*.toy",
    claims=lambda path: path.suffix == ".toy",
    read=_read_toy,
    rank=0,
)


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Format:
    monkeypatch.setattr(formats, "FORMATS", (*formats.FORMATS, TOY))
    monkeypatch.setattr(formats, "BY_NAME", {**formats.BY_NAME, "toy": TOY})
    return TOY


def test_a_new_format_is_found_read_and_followed_from_its_record_alone(
    toy: Format, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    log = run_dir / "train.toy"
    log.write_text("1 2.0\n2 1.5\n")
    (tmp_path / "notes.md").write_text("not a log")

    (found,) = discover(tmp_path)
    (run,) = read_runs(tmp_path)
    source = open_feed(log, "toy", "train.toy")
    batch = source.poll()

    assert found.files == [(log, "toy")]
    assert run.frame.get_column("toy/loss").to_list() == [2.0, 1.5]
    assert [s.format for s in run.sources] == ["toy"]
    assert isinstance(source, SnapshotFeed) and batch.frame is not None
    assert batch.frame.height == 2


def test_a_new_format_is_reported_under_its_name(toy: Format, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "train.toy").write_text("1 2.0\n2 1.5\n")

    result = cli(["check", tmp_path, "--format", "json"], exit_code=0)

    (run,) = json.loads(result.stdout)["runs"]
    assert run["sources"][0]["format"] == "toy"
