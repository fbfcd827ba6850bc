"""The warm pool follows demand: a burst of takes raises the warm target (up to max_warm),
the pool fills to it, and once demand has passed the surplus warm kernels are shut down.
Kernel start times are exported for /metrics."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sandbox.limits import SandboxLimits
from sandbox.pool import KernelPool

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("host_unaffected")]


def _until(cond: Any, timeout_s: float = 120.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_warm_target_grows_with_a_burst_and_falls_back(docker_backend: Any) -> None:
    with KernelPool(docker_backend, size=1, limits=SandboxLimits(), max_warm=3,
                    demand_window_s=600.0, cull_interval_s=0.2) as pool:
        assert pool.wait_warm(timeout_s=120)
        assert pool.stats()["target"] == 1
        sessions = [pool.acquire(timeout_s=120) for _ in range(3)]
        assert pool.stats()["target"] == 3  # three taken within the window
        assert _until(lambda: pool.warm_count == 3), pool.stats()
        for s in sessions:
            s.close()
        pool.demand_window_s = 0.5  # the burst is over: its takes leave the window, the
        # target is size again, and the extra warm kernels are shut down.
        assert _until(lambda: pool.stats()["target"] == 1 and pool.warm_count == 1), \
            pool.stats()
        stats = pool.stats()
        assert stats["start_buckets"][-1] == ("+Inf", stats["start_buckets"][-1][1])
        assert stats["start_buckets"][-1][1] >= 4 and stats["start_sum_s"] > 0
        assert stats["in_use"] == 0 and stats["waiting"] == 0
