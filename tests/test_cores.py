"""cores: a container's CPU quota caps the cores worker processes and threads count on."""

from __future__ import annotations

from pathlib import Path

import pytest

from logscope import cores
from logscope.cores import quota_cores, usable


def _cgroup(tmp_path: Path, text: str) -> Path:
    own = tmp_path / "self_cgroup"
    own.write_text(text)
    return own


def test_a_cgroup_v2_quota_caps_the_cores(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    job = root / "ci" / "job-7"
    job.mkdir(parents=True)
    (job / "cpu.max").write_text("250000 100000\n")  # 2.5 CPUs: two whole cores
    (root / "ci" / "cpu.max").write_text("max 100000\n")
    assert quota_cores(root, _cgroup(tmp_path, "0::/ci/job-7\n")) == 2


def test_the_tightest_quota_up_the_hierarchy_wins(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "cpu.max").write_text("800000 100000\n")
    (root / "a" / "cpu.max").write_text("100000 100000\n")
    assert quota_cores(root, _cgroup(tmp_path, "0::/a/b\n")) == 1


def test_a_container_sees_its_own_cgroup_as_the_root(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cpu.max").write_text("50000 100000\n")  # half a CPU: still one core
    assert quota_cores(root, _cgroup(tmp_path, "0::/\n")) == 1


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    mount = tmp_path / "cgroup" / "cpu,cpuacct"
    mount.mkdir(parents=True)
    (mount / "cpu.cfs_quota_us").write_text("300000\n")
    (mount / "cpu.cfs_period_us").write_text("100000\n")
    own = _cgroup(tmp_path, "4:memory:/x\n2:cpu,cpuacct:/\n")
    assert quota_cores(tmp_path / "cgroup", own) == 3


def test_no_quota_or_no_cgroups_leave_the_affinity(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cpu.max").write_text("max 100000\n")
    assert quota_cores(root, _cgroup(tmp_path, "0::/\n")) is None
    assert quota_cores(root, tmp_path / "missing") is None
    assert quota_cores(root, _cgroup(tmp_path, "garbage\n0::\n")) is None
    assert usable() >= 1


def _loadavg(monkeypatch: pytest.MonkeyPatch, *running: int) -> None:
    """A /proc/loadavg whose running count (this process included) goes through `running`."""
    import itertools

    texts = itertools.cycle([f"1.90 1.50 1.20 {r}/300 4242\n" for r in running])

    class Reads:  # each read the next count, as the file changes from one read to the next
        def read_text(self) -> str:
            return next(texts)

    monkeypatch.setattr(cores, "LOADAVG", Reads())


@pytest.mark.parametrize(
    ("running", "spare"),
    [((1,), True), ((1, 1, 2), True), ((2,), True), ((3,), False), ((4, 2), False)],
)
def test_a_load_average_left_by_earlier_commands_does_not_hide_an_idle_core(
    monkeypatch: pytest.MonkeyPatch, running: tuple[int, ...], spare: bool
) -> None:
    """The 1-minute average says both cores are busy (1.9 of 2); what is runnable right now
    decides, counted as the average is (this process aside): this process alone (1), or one
    other (2, as a load average of 1) leaves a core idle; two others computing (3) do not."""
    import os

    monkeypatch.setattr(cores, "usable", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.9, 1.5, 1.2))
    _loadavg(monkeypatch, *running)
    assert cores.spare() is spare


def test_a_quiet_average_is_trusted_and_an_unreadable_count_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.setattr(cores, "usable", lambda: 2)
    monkeypatch.setattr(cores, "running", lambda: pytest.fail("sampled on a quiet machine"))
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert cores.idle() == 1.5
    monkeypatch.undo()
    monkeypatch.setattr(cores, "usable", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.9, 1.5, 1.2))
    monkeypatch.setattr(cores, "LOADAVG", tmp_path / "missing")
    assert cores.running() is None
    assert cores.idle() == pytest.approx(0.1) and not cores.spare()
