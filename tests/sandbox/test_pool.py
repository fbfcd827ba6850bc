"""The warm pool: refill, queueing, culling, closing."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.kernel import Kernel, KernelError
from sandbox.limits import SandboxLimits
from sandbox.pool import KernelPool, PoolClosed, PoolTimeout

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("host_unaffected")]


def test_pool_refills_after_acquire(docker_backend: Any) -> None:
    with KernelPool(docker_backend, size=2, limits=SandboxLimits()) as pool:
        assert pool.wait_warm(timeout_s=120)
        s = pool.acquire(timeout_s=60)
        assert pool.wait_warm(2, timeout_s=120), "pool did not refill"
        assert s.execute("1+1").status == "ok"


def test_burst_beyond_the_pool_queues_and_every_caller_gets_a_kernel(docker_backend: Any) -> None:
    starts: list[int] = []
    live = [0]
    lock = threading.Lock()

    class Counting:
        name = "docker"

        def start_kernel_host(self, kernel_dir: Path, limits: SandboxLimits) -> Any:
            with lock:
                live[0] += 1
                starts.append(live[0])
            try:
                return docker_backend.start_kernel_host(kernel_dir, limits)
            finally:
                with lock:
                    live[0] -= 1

    with KernelPool(Counting(), size=1, limits=SandboxLimits(), max_parallel_starts=2) as pool:
        got: list[Any] = []
        errors: list[BaseException] = []

        def take() -> None:
            try:
                got.append(pool.acquire(timeout_s=120))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=take) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(got) == 5 and len({s.kernel.dir for s in got}) == 5
        assert max(starts) <= 2, "starts stampeded past max_parallel_starts"


def test_acquire_times_out_instead_of_hanging_when_starts_fail(tmp_path: Path) -> None:
    class Broken:
        name = "broken"

        def start_kernel_host(self, kernel_dir: Path, limits: SandboxLimits) -> Any:
            raise KernelError("engine unavailable")

    with KernelPool(Broken(), size=1, limits=SandboxLimits()) as pool:
        with pytest.raises(PoolTimeout, match="engine unavailable"):
            pool.acquire(timeout_s=3)
        assert pool.start_failures >= 1


def test_idle_sessions_are_culled(docker_backend: Any) -> None:
    with KernelPool(docker_backend, size=1, limits=SandboxLimits(), idle_timeout_s=1,
                    cull_interval_s=0.2) as pool:
        s = pool.acquire(timeout_s=60)
        deadline = time.monotonic() + 30
        while not s.closed and time.monotonic() < deadline:
            time.sleep(0.2)
        assert s.closed and s.close_reason == "idle timeout"
        assert s.execute("1").status == "dead"
        assert not s.kernel.alive()


def test_closed_pool_refuses_and_leaves_nothing_running(docker_backend: Any) -> None:
    pool = KernelPool(docker_backend, size=2, limits=SandboxLimits()).start()
    s = pool.acquire(timeout_s=60)
    pool.close()
    assert s.closed
    with pytest.raises(PoolClosed):
        pool.acquire(timeout_s=1)


def test_kernel_start_failure_cleans_up(docker_backend: Any) -> None:
    class DiesAtOnce:
        name = "docker"

        def start_kernel_host(self, kernel_dir: Path, limits: SandboxLimits) -> Any:
            host = docker_backend.start_kernel_host(kernel_dir, limits)
            host.destroy()
            return host

    with pytest.raises(KernelError):
        Kernel(DiesAtOnce(), SandboxLimits(), start_timeout_s=30)  # type: ignore[arg-type]
