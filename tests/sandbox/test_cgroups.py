"""Reading a container's counters from the host's cgroup files (no engine needed)."""

from __future__ import annotations

import os
from pathlib import Path

from sandbox import cgroups

MOUNTINFO_V1 = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
"""
MOUNTINFO_V2 = "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"


def test_mountinfo_maps_each_controller_to_its_hierarchy() -> None:
    v1 = cgroups.parse_mountinfo(MOUNTINFO_V1)
    assert v1["memory"].point == "/sys/fs/cgroup/memory"
    assert v1["cpuacct"].point == v1["cpu"].point == "/sys/fs/cgroup/cpu,cpuacct"
    assert "" not in v1
    assert cgroups.parse_mountinfo(MOUNTINFO_V2)[""].point == "/sys/fs/cgroup"


def test_proc_cgroup_lines_give_a_path_per_controller() -> None:
    paths = cgroups.parse_proc_cgroup("5:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n")
    assert paths == {"memory": "/docker/abc", "cpu": "/docker/abc", "cpuacct": "/docker/abc",
                     "": "/"}


def test_counters_are_read_from_the_files_of_the_process_cgroup(tmp_path: Path) -> None:
    mem = tmp_path / "memory" / "docker" / "abc"
    cpu = tmp_path / "cpuacct" / "docker" / "abc"
    mem.mkdir(parents=True)
    cpu.mkdir(parents=True)
    (mem / "memory.max_usage_in_bytes").write_text("4096\n")
    (mem / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    (cpu / "cpuacct.usage").write_text("1500000000\n")
    mounts = {"memory": cgroups.Mount(str(tmp_path / "memory"), "/"),
              "cpuacct": cgroups.Mount(str(tmp_path / "cpuacct"), "/")}
    lines = cgroups.probe_lines(mounts, {"memory": "/docker/abc", "cpuacct": "/docker/abc"})
    assert lines is not None
    assert "memory.max_usage_in_bytes 4096" in lines
    assert "memory.oom_control oom_kill 1" in lines
    assert "cpuacct.usage 1500000000" in lines
    # A mount that shows only part of the hierarchy cannot reach a cgroup outside it.
    inner = {"memory": cgroups.Mount(str(tmp_path / "memory"), "/other")}
    assert cgroups.probe_lines(inner, {"memory": "/docker/abc"}) is None


def test_a_pid_outside_the_named_container_gives_nothing() -> None:
    assert cgroups.container_cgroups(os.getpid(), "f" * 64) == {}
    assert cgroups.container_cgroups(0, "f" * 64) == {}


def test_forks_refused_at_the_pids_limit_are_read_from_pids_events(tmp_path: Path) -> None:
    v1 = tmp_path / "pids" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "pids.events").write_text("max 25\n")
    mounts = {"pids": cgroups.Mount(str(tmp_path / "pids"), "/")}
    assert cgroups.pids_max_events(mounts, {"pids": "/docker/abc"}) == 25
    v2 = tmp_path / "unified" / "docker-abc.scope"
    v2.mkdir(parents=True)
    (v2 / "pids.events").write_text("max 0\n")
    unified = {"": cgroups.Mount(str(tmp_path / "unified"), "/")}
    assert cgroups.pids_max_events(unified, {"": "/docker-abc.scope"}) == 0
    # No pids counter visible: unknown, not zero.
    assert cgroups.pids_max_events(mounts, {"memory": "/docker/abc"}) is None
    assert cgroups.pids_max_events(mounts, {"pids": "/docker/gone"}) is None
