"""One-shot runs as the sandbox's own process: the end-of-output protocol, counters read
from the host's cgroup files, and what candidate code can (not) do to either."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sandbox import cgroups
from sandbox.docker_backend import DockerBackend
from sandbox.result import RunStatus
from tests.sandbox.support import image_tag, our_containers, small_limits

ALLOC = ("import time\nx = bytearray(120 * 2**20)\nt = time.process_time()\n"
         "while time.process_time() - t < 0.3: pass\nprint('done')")


# -- cgroup files, no engine needed ---------------------------------------------------------

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
    assert cgroups.usage_of_pid(os.getpid(), "f" * 64) is None
    assert cgroups.usage_of_pid(0, "f" * 64) is None


# -- with the engine ------------------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.usefixtures("host_unaffected")
def test_counters_from_the_host_agree_with_the_probe_inside(docker_backend: object) -> None:
    backend = DockerBackend(image_tag())
    assert backend.main_process
    results = {}
    for host_probe in (True, False):
        backend.host_probe = host_probe
        r = backend.run(["python", "-c", ALLOC], limits=small_limits(memory_mib=256))
        assert r.status is RunStatus.OK, r
        assert r.stdout == "done\n"
        results[host_probe] = r
    for r in results.values():
        assert r.cpu_s is not None and 0.25 < r.cpu_s < 5
        assert r.peak_memory_bytes is not None and r.peak_memory_bytes > 120 * 2**20
    assert abs(results[True].peak_memory_bytes - results[False].peak_memory_bytes) < 64 * 2**20


@pytest.mark.docker
@pytest.mark.usefixtures("host_unaffected")
def test_candidate_code_cannot_kill_the_sandbox_init(docker_backend: object) -> None:
    backend = DockerBackend(image_tag())
    code = "import os, signal\nos.kill(1, signal.SIGKILL)\nos.kill(1, signal.SIGTERM)\nprint('alive')"
    r = backend.run(["python", "-c", code], limits=small_limits())
    assert r.status is RunStatus.OK, r
    assert r.stdout == "alive\n"
    assert r.cpu_s is not None  # the sandbox was still there to be measured


@pytest.mark.docker
@pytest.mark.usefixtures("host_unaffected")
def test_a_forged_end_marker_only_cuts_the_candidates_own_output(docker_backend: object) -> None:
    """Candidate code can read the marker from /proc/1/cmdline and print it early: the host
    stops reading there, the shell is not waiting yet, so the run ends as an error within
    the release wait, not a success and not a hang until the wall clock."""
    backend = DockerBackend(image_tag())
    code = ("import sys, time\nmarker = open('/proc/1/cmdline','rb').read().split(b'\\0')[3]\n"
            "end = b'\\0burnin-end-' + marker + b'\\0'\n"
            "sys.stdout.buffer.write(b'before' + end); sys.stdout.flush()\n"
            "sys.stderr.buffer.write(end); sys.stderr.flush()\n"
            "print('after'); time.sleep(60)")
    t0 = time.monotonic()
    r = backend.run(["python", "-c", code], limits=small_limits(wall_s=40))
    assert time.monotonic() - t0 < 20
    assert r.status is RunStatus.ERROR, r
    assert r.stdout == "before"
    assert "after" not in r.stdout
    assert not our_containers()


@pytest.mark.docker
@pytest.mark.usefixtures("host_unaffected")
def test_exit_status_and_both_streams_survive_the_protocol(docker_backend: object) -> None:
    backend = DockerBackend(image_tag())
    code = "import sys\nprint('out', end='')\nprint('err', file=sys.stderr, end='')\nsys.exit(7)"
    r = backend.run(["python", "-c", code], limits=small_limits())
    assert (r.status, r.exit_code, r.stdout, r.stderr) == (RunStatus.ERROR, 7, "out", "err")
    assert "burnin-end" not in r.stdout + r.stderr
