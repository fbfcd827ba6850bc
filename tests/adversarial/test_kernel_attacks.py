"""Attacks on kernels: 33 (kernel killed / out of memory) and 36 (flood of starts)."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.limits import SandboxLimits
from sandbox.pool import KernelPool
from tests.sandbox.support import our_containers

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("host_unaffected")]


def test_33_kernel_exhausting_memory_is_marked_dead_and_restart_is_a_new_sandbox(
        backend: Any) -> None:
    with KernelPool(backend, size=1, limits=SandboxLimits(memory_mib=256, wall_s=60)) as pool:
        s = pool.acquire(timeout_s=60)
        s.execute("x = 1")
        old_dir = s.kernel.dir
        result = s.execute("hog = []\nwhile True: hog.append(bytearray(10**7))", timeout_s=60)
        # Docker: the cgroup OOM-kills the kernel (dead). bwrap: RLIMIT_AS makes it a
        # MemoryError inside the kernel. Either way the caller gets an answer, no hang.
        assert result.status in ("dead", "error")
        if result.status == "error":
            assert result.outputs[-1]["ename"] == "MemoryError"
        else:
            assert s.dead
        s.restart()
        assert s.kernel.dir != old_dir
        assert s.execute("'x' in globals()").outputs[-1]["data"]["text/plain"] == "False"


def test_33_kernel_killing_its_own_init_is_marked_dead(backend: Any) -> None:
    with KernelPool(backend, size=1, limits=SandboxLimits()) as pool:
        s = pool.acquire(timeout_s=60)
        result = s.execute("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                           "os.kill(os.getpid(), signal.SIGKILL)", timeout_s=30)
        assert result.status == "dead"


@pytest.mark.docker
def test_36_flood_of_restarts_never_leaks_sandboxes(docker_backend: Any) -> None:
    with KernelPool(docker_backend, size=1, limits=SandboxLimits(),
                    max_parallel_starts=2) as pool:
        s = pool.acquire(timeout_s=60)
        for _ in range(6):
            s.restart(timeout_s=60)
        assert s.execute("1+1").status == "ok"
        assert pool.wait_warm(timeout_s=60)
        # one session's kernel + the warm spare (+ at most the starts in flight)
        assert len(our_containers()) <= 1 + pool.size + pool.max_parallel_starts
