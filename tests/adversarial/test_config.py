"""Inspect live sandboxes: every hardening setting is really applied."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import docker.errors
import pytest

from sandbox.check import check_docker, docker_checks
from sandbox.labels import CREATED, KIND, LABEL, OWNER
from sandbox.limits import SandboxLimits
from sandbox.reaper import reap

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("host_unaffected")]


def test_live_oneshot_container_is_hardened(docker_backend: Any) -> None:
    limits = SandboxLimits(memory_mib=300, pids=77, tmpfs_mib=12, open_files=99, cpus=0.5)
    results = check_docker(docker_backend, limits)
    failed = [c for c in results if not c.ok]
    assert failed == [], failed
    assert {c.name for c in results} >= {
        "network none", "only loopback inside", "read-only root", "non-root uid",
        "all capabilities dropped", "no-new-privileges", "seccomp filter on", "pids limit",
        "memory = memory+swap", "cpu limit", "ulimits", "size-capped tmpfs", "init process",
        "bounded logs", "labelled for reaping", "no docker socket", "own cgroup namespace"}


def test_live_kernel_container_is_hardened(docker_backend: Any) -> None:
    from sandbox.kernel import Kernel
    limits = SandboxLimits(memory_mib=400, pids=50)
    kernel = Kernel(docker_backend, limits)
    try:
        container = kernel.host.container  # type: ignore[union-attr]
        container.reload()
        inside = docker_backend._exec_text(container, ["/bin/sh", "-c", (
            "id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; "
            "echo net: $(ls /sys/class/net); touch /probe 2>/dev/null && echo rootfs: writable "
            "|| echo rootfs: read-only")])
        failed = [c for c in docker_checks(container.attrs, inside, limits) if not c.ok]
        assert failed == [], failed
        mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
        assert mounts["/run/kernel-conn"]["RW"] is False
        assert mounts["/artifacts"]["RW"] is False
        assert set(mounts) == {"/run/kernel-conn", "/run/kernel", "/artifacts"}
    finally:
        kernel.shutdown()


def test_checks_fail_on_a_weakened_container() -> None:
    """The inspection itself can fail: a privileged, networked container is flagged."""
    limits = SandboxLimits()
    attrs = {
        "HostConfig": {"NetworkMode": "bridge", "ReadonlyRootfs": False, "CapDrop": None,
                       "CapAdd": ["SYS_ADMIN"], "SecurityOpt": ["seccomp=unconfined"],
                       "Privileged": True, "PidsLimit": None, "Memory": 0, "MemorySwap": 0},
        "Config": {"User": "root", "Labels": {}, "Env": ["BURNIN_SECRET_KEY=x"]},
        "Mounts": [{"Source": "/var/run/docker.sock"}],
    }
    inside = "0\nCapEff:\t000001ffffffffff\nNoNewPrivs:\t0\nSeccomp:\t0\nnet: eth0 lo\nrootfs: writable\n"
    results = {c.name: c.ok for c in docker_checks(attrs, inside, limits)}
    assert not any(results.values()), [n for n, ok in results.items() if ok]


def test_35_reaper_removes_containers_of_a_crashed_worker(docker_backend: Any) -> None:
    client = docker_backend.client
    dead_owner = {LABEL: "1", KIND: "oneshot", OWNER: f"{__import__('socket').gethostname()}:999999",
                  CREATED: str(int(time.time()))}
    orphan = client.containers.create(docker_backend.image, ["sleep", "infinity"],
                                      labels=dead_owner, network_disabled=True)
    unrelated = client.containers.create(docker_backend.image, ["true"], network_disabled=True)
    try:
        removed = reap(client)
        assert orphan.id in removed
        assert unrelated.id not in removed
        unrelated.reload()  # still there: the reaper touches only our labelled containers
    finally:
        for c in (orphan, unrelated):
            with contextlib.suppress(docker.errors.NotFound):
                c.remove(force=True)


def test_apparmor_profile_is_named_only_where_the_host_has_apparmor(tmp_path: Any) -> None:
    from sandbox.docker_backend import _apparmor_opt
    flag = tmp_path / "enabled"
    assert _apparmor_opt(flag) == []  # no AppArmor module
    flag.write_text("N\n")
    assert _apparmor_opt(flag) == []
    flag.write_text("Y\n")
    assert _apparmor_opt(flag) == ["apparmor=docker-default"]
