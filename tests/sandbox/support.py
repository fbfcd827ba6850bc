"""Shared fixtures for sandbox and adversarial tests: real Docker and real bwrap.

A fixture skips only when the machine lacks the engine, bwrap or the built image;
CI runs scripts/setup/20-docker.sh first, so there they really run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.labels import LABEL, OWNER, owner_id
from sandbox.limits import SandboxLimits

SANDBOX_UID = 10001


def image_tag() -> str:
    from sandbox.image import image_tag as tag
    return os.environ.get("BURNIN_SANDBOX_IMAGE") or tag()


def make_docker_backend() -> object:
    try:
        import docker
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no Docker engine: {exc}")
    from sandbox.docker_backend import DockerBackend
    backend = DockerBackend(image_tag(), client=client)
    reason = backend.available()
    if reason:
        pytest.skip(reason)
    return backend


def make_bwrap_backend() -> object:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    from sandbox.bwrap_backend import BwrapBackend
    from sandbox.image import rootfs_dir
    rootfs = Path(os.environ.get("BURNIN_SANDBOX_ROOTFS") or rootfs_dir(image_tag()))
    if not (rootfs / "usr").is_dir():
        pytest.skip(f"sandbox root filesystem missing at {rootfs} (burnin sandbox build)")
    backend = BwrapBackend(rootfs)
    reason = backend.available()
    if reason:
        pytest.skip(reason)
    return backend


def small_limits(**changes: float) -> SandboxLimits:
    """Tight limits so attacks hit them quickly."""
    base = {"memory_mib": 256, "pids": 64, "wall_s": 20.0, "cpu_s": 20, "tmpfs_mib": 16,
            "tmpfs_inodes": 2048, "file_size_mib": 8, "open_files": 128, "shm_mib": 8,
            "output_bytes": 64 * 1024}
    base.update(changes)
    return SandboxLimits(**base)  # type: ignore[arg-type]


def our_containers() -> list[str]:
    """Labelled containers owned by this test process."""
    import docker
    client = docker.from_env()
    found = client.containers.list(all=True, filters={"label": [f"{LABEL}=1",
                                                               f"{OWNER}={owner_id()}"]})
    return [c.id for c in found]


def _in_a_container(pid: str) -> bool:
    try:
        return "docker" in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


def sandbox_uid_processes() -> list[str]:
    """Host processes running as the sandbox uid outside containers (bwrap), with zombies.

    Processes inside a container are covered by the container check (by label and
    owner), so another test run's containers on the same engine do not count here.
    """
    out = subprocess.run(["ps", "-eo", "uid=,pid=,stat=,args="], capture_output=True,
                         text=True, check=True).stdout
    from sandbox.bwrap_backend import HOST_UID_BASE, HOST_UID_SPAN

    def ours(uid: int) -> bool:
        return uid == SANDBOX_UID or HOST_UID_BASE <= uid < HOST_UID_BASE + HOST_UID_SPAN

    return [line for line in out.splitlines()
            if ours(int(line.split()[0])) and not _in_a_container(line.split()[1])]


def zombies_of(pid: int) -> list[str]:
    out = subprocess.run(["ps", "-eo", "ppid=,pid=,stat=,args="], capture_output=True,
                         text=True, check=True).stdout
    return [line for line in out.splitlines()
            if line.split()[0] == str(pid) and line.split()[2].startswith("Z")]


@pytest.fixture(scope="session")
def docker_backend() -> object:
    return make_docker_backend()


@pytest.fixture(scope="session")
def bwrap_backend() -> object:
    return make_bwrap_backend()


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker),
                        pytest.param("bwrap", marks=pytest.mark.bwrap)])
def backend(request: pytest.FixtureRequest) -> object:
    """Each backend the machine has (the attack tests run against all)."""
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture
def host_unaffected(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the test: no container of ours and no sandbox-uid process left, no zombies.

    Processes that existed before the test are ignored (another run's leftovers are
    not this test's failure).
    """
    before = set(sandbox_uid_processes())
    yield
    if "docker_backend" in request.fixturenames or "backend" in request.fixturenames:
        try:
            leftovers = our_containers()
        except Exception:  # noqa: BLE001 - no engine: nothing to check
            leftovers = []
        assert leftovers == [], f"containers left behind: {leftovers}"
    # bwrap's own init is reaped by the host's PID 1, which may do so lazily: allow it
    # a bounded moment; a sandbox process that is still running after that has escaped.
    deadline = time.monotonic() + 15
    while True:
        after = [p for p in sandbox_uid_processes() if p not in before]
        if not after or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert after == [], f"sandbox processes outlived their run: {after}"
    assert zombies_of(os.getpid()) == [], "zombie children left"
