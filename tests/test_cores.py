"""cores: a container's CPU quota caps the cores worker processes and threads count on."""

from __future__ import annotations

from pathlib import Path

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
