"""`tail --follow` loses no row and reads none twice when the log is rotated (rename),
copy-truncated, deleted and recreated, or rewritten, however the polls fall between the
writer's actions. The follower's polling is driven in-process: no sleeps, no threads."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscope.follow.sources import Feed, JsonlFeed


def lines(first: int, count: int) -> bytes:
    """`count` rows with unique steps from `first`; lengths vary with the step."""
    return b"".join(
        json.dumps({"step": s, "loss": 1 / (s + 1), "pad": "x" * (s % 7)}).encode() + b"\n"
        for s in range(first, first + count)
    )


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def copytruncate(path: Path, copy: Path) -> None:
    """What logrotate's copytruncate does: copy the log, then cut it to zero in place."""
    shutil.copyfile(path, copy)
    with path.open("r+b") as handle:
        handle.truncate(0)


@dataclass
class Seen:
    steps: Counter[int] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    polls: int = 0


def poll(source: Feed, seen: Seen, limit: int, *, until_done: bool = True) -> None:
    while True:
        batch = source.poll(limit)
        seen.polls += 1
        seen.notes += batch.notes
        seen.problems += [str(p) for p in batch.problems]
        if batch.frame is not None:
            seen.steps.update(batch.frame.get_column("step").to_list())
        if not (until_done and batch.more):
            return


def exactly_once(seen: Seen, expected: range | list[int]) -> None:
    assert sorted(seen.steps.elements()) == sorted(expected)
    assert seen.problems == []


def follow(path: Path, *changes: Callable[[], object], limit: int = 1 << 20) -> Seen:
    """Poll `path` to its end, then after each change to the files (a group of writer and
    logrotate actions between two polls) poll to the end again."""
    seen = Seen()
    with JsonlFeed(path, "m.jsonl") as source:
        poll(source, seen, limit)
        for change in changes:
            change()
            poll(source, seen, limit)
    return seen


def test_a_rotated_file_is_read_to_its_end_over_several_polls(tmp_path: Path) -> None:
    """The old file holds far more than one poll reads: all of it comes before the new one."""
    path = tmp_path / "m.jsonl"
    path.write_bytes(lines(0, 10))

    def rotate() -> None:
        append(path, lines(10, 2000))  # ~100 KB: 25 polls of 4096 bytes
        path.rename(tmp_path / "m.jsonl.1")
        path.write_bytes(lines(2010, 5))

    seen = follow(path, rotate, limit=4096)
    exactly_once(seen, range(2015))
    assert seen.polls > 20
    assert seen.notes == [
        "m.jsonl: replaced by a new file (rotated, or a restarted run): reading it from the start"
    ]


def test_a_burst_of_a_million_rows_then_a_rename_loses_none(tmp_path: Path) -> None:
    """The reported case: a burst, then a rename before tail caught up (8 MB per poll)."""
    path = tmp_path / "m.jsonl"
    rows = 1_000_000
    path.write_bytes(b"".join(b'{"step":%d,"loss":0.5}\n' % s for s in range(rows)))
    seen = Seen()
    with JsonlFeed(path, "m.jsonl") as source:
        poll(source, seen, limit=8 << 20, until_done=False)  # one poll: 8 of ~24 MB read
        assert 0 < sum(seen.steps.values()) < rows
        path.rename(tmp_path / "m.jsonl.1")
        path.write_bytes(b'{"step":%d,"loss":0.5}\n' % rows)
        poll(source, seen, limit=8 << 20)
    assert sum(seen.steps.values()) == rows + 1
    assert len(seen.steps) == rows + 1 and max(seen.steps) == rows


@pytest.mark.parametrize(
    ("copy", "refill", "note"),
    [
        # the reported case: refilled beyond where tail had read before the next poll; size
        # alone cannot see it, the first bytes do, and the copy holds the unread rest
        ("m.jsonl.1", 400, "rewritten (its first bytes changed)"),
        ("m-20261201.jsonl", 2, "truncated to 115 bytes"),  # logrotate's dateext naming
    ],
)
def test_copytruncate_loses_nothing(tmp_path: Path, copy: str, refill: int, note: str) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(lines(0, 50))

    def logrotate() -> None:
        append(path, lines(50, 30))  # not read yet when logrotate runs
        copytruncate(path, tmp_path / copy)
        append(path, lines(80, refill))

    seen = follow(path, logrotate)
    exactly_once(seen, range(80 + refill))
    assert seen.notes == [
        f"m.jsonl: {note}; what it held was read from its copy {copy}: reading it from the start"
    ]


def test_truncation_without_a_copy_is_said_and_read_from_the_start(tmp_path: Path) -> None:
    """`>` on the log (no copy anywhere): the unread rest is gone from the disk; what the
    file holds now is read once, never from the old position."""
    path = tmp_path / "m.jsonl"
    path.write_bytes(lines(0, 20))
    # same inode, longer than before, other first bytes
    seen = follow(path, lambda: path.write_bytes(lines(100, 60)))
    exactly_once(seen, [*range(20), *range(100, 160)])
    assert seen.notes == ["m.jsonl: rewritten (its first bytes changed): reading it from the start"]


def test_delete_and_recreate_reads_the_deleted_files_rest(tmp_path: Path) -> None:
    """Rows appended just before the delete are read through the open descriptor; the
    descriptor also keeps the inode from being reused by the new file."""
    path = tmp_path / "m.jsonl"
    path.write_bytes(lines(0, 10))

    def delete() -> None:
        append(path, lines(10, 10))
        path.unlink()

    seen = follow(path, delete, lambda: path.write_bytes(lines(20, 10)))
    exactly_once(seen, range(30))
    assert seen.notes[0] == "m.jsonl: file disappeared; waiting for it to come back"


def test_copytruncate_then_rename_before_a_poll(tmp_path: Path) -> None:
    """The file tail holds open is cut, refilled and renamed away between two polls: the
    copy gives the first content's rest, the descriptor the second, the path the third."""
    path = tmp_path / "m.jsonl"
    path.write_bytes(lines(0, 10))

    def both() -> None:
        append(path, lines(10, 5))
        copytruncate(path, tmp_path / "m.jsonl.1")
        append(path, lines(15, 5))
        path.rename(tmp_path / "m.jsonl.2")
        path.write_bytes(lines(20, 5))

    exactly_once(follow(path, both, limit=64), range(25))


def test_an_unfinished_line_of_a_rotated_file_is_one_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_bytes(lines(0, 3) + b'{"step": 3, "lo')

    def rotate() -> None:
        path.rename(tmp_path / "m.jsonl.1")
        path.write_bytes(lines(4, 2))

    seen = follow(path, rotate)
    assert sorted(seen.steps) == [0, 1, 2, 4, 5]
    assert seen.problems == [
        "m.jsonl:4: last line is incomplete (no newline yet); not read "
        "(replaced by a new file (rotated, or a restarted run))"
    ]


# -- the property: any interleaving of writes, rotations and polls -------------------------


@dataclass
class Epoch:
    """The content a file holds between two truncations: rows, and what tail saw of it."""

    inode: int
    rows: list[int] = field(default_factory=list)
    ended: str | None = None  # "rename" | "delete" | "copytruncate"
    read: bool = False  # a poll read this content while it was current
    read_rows: bool = False  # ... while it held rows (so tail knows its first bytes)
    held_at_end: bool = False  # tail held the file open when it was renamed or deleted


class World:
    """The writer's side, and which rows a follower can possibly see: those of the file
    contents it had the chance to open (content created and rotated away entirely between
    two polls was never visible to any poller)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "m.jsonl"
        self.folder = folder
        self.row = 0
        self.serial = 0
        self.inodes = 0
        self.at_path: Epoch | None = None
        self.current: dict[int, Epoch] = {}  # inode -> its current content
        self.epochs: list[Epoch] = []
        self.held: int | None = None  # the inode tail holds open

    def burst(self, count: int) -> None:
        if self.at_path is None:
            self.inodes += 1
            self.at_path = self._epoch(self.inodes)
        append(self.path, lines(self.row, count))
        self.at_path.rows += range(self.row, self.row + count)
        self.row += count

    def rotate(self, how: str) -> None:
        epoch = self.at_path
        if epoch is None:
            return
        self.serial += 1
        copy = self.folder / f"m.jsonl.{self.serial}"
        if how == "copytruncate":
            copytruncate(self.path, copy)
            self.at_path = self._epoch(epoch.inode)
        else:
            self.path.rename(copy) if how == "rename" else self.path.unlink()
            epoch.held_at_end = self.held == epoch.inode
            self.at_path = None
        epoch.ended = how

    def polled(self) -> None:
        for inode in {self.held, self.at_path.inode if self.at_path else None} - {None}:
            epoch = self.current[inode]  # type: ignore[index]
            epoch.read = True
            epoch.read_rows |= bool(epoch.rows)
        if self.at_path is not None:
            self.held = self.at_path.inode

    def visible(self) -> list[int]:
        rows: list[int] = []
        for epoch in self.epochs:
            if epoch.ended == "copytruncate":
                ok = epoch.read_rows  # found again by its first bytes in the copy
            else:
                ok = epoch.read or epoch.held_at_end
            rows += epoch.rows if ok else []
        return rows

    def _epoch(self, inode: int) -> Epoch:
        epoch = Epoch(inode)
        self.current[inode] = epoch
        self.epochs.append(epoch)
        return epoch


ACTIONS = st.one_of(
    st.tuples(st.just("burst"), st.integers(1, 40)),
    st.tuples(st.just("poll"), st.sampled_from([1 << 20, 200])),
    st.tuples(st.sampled_from(["rename", "copytruncate", "delete"]), st.just(0)),
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(ACTIONS, max_size=30))
def test_rows_seen_are_the_rows_written(actions: list[tuple[str, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        seen = Seen()
        with JsonlFeed(world.path, "m.jsonl") as source:
            for action, size in actions:
                if action == "burst":
                    world.burst(size)
                elif action == "poll":  # small limits: one catch-up takes many polls
                    poll(source, seen, limit=size)
                    world.polled()
                else:
                    world.rotate(action)
            poll(source, seen, limit=1 << 20)
            world.polled()
        assert seen.problems == []
        assert max(seen.steps.values(), default=1) == 1, "a row was read twice"
        assert sorted(seen.steps) == world.visible()
