"""/metrics carries the kernel pool's waiters, queue-wait histogram and start limit, taken
from KernelPool.stats() (a pool of stand-in kernels: no sandbox is needed)."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from sandbox import pool as pool_mod
from sandbox.limits import SandboxLimits
from sandbox.pool import KernelPool
from server.ops.metrics import kernel_pool_metrics
from tests.sandbox.test_pool_queue import FakeKernel


class _Collector:
    def __init__(self, pool: KernelPool) -> None:
        self.collect = kernel_pool_metrics(pool.stats)


def test_wait_histogram_waiting_gauge_and_start_limit_are_exported(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_mod, "Kernel", FakeKernel)
    FakeKernel.start_s = 0.2
    pool: Any = KernelPool(object(), size=1, limits=SandboxLimits(),  # type: ignore[arg-type]
                           max_parallel_starts=3, cull_interval_s=0.2)
    with pool:
        assert pool.wait_warm(timeout_s=10)
        pool.acquire(timeout_s=10)
        pool.acquire(timeout_s=10)  # this one waited for a start
        registry = CollectorRegistry()
        registry.register(_Collector(pool))  # type: ignore[arg-type]
        text = generate_latest(registry).decode()
    assert 'burnin_kernel_pool_kernels{state="waiting"} 0.0' in text
    assert "burnin_kernel_wait_seconds_count 2.0" in text
    assert 'burnin_kernel_wait_seconds_bucket{le="+Inf"} 2.0' in text
    waited = float(text.split("burnin_kernel_wait_seconds_sum ")[1].split()[0])
    assert waited > 0.05
    assert "burnin_kernel_parallel_starts 3.0" in text


def test_no_pool_exports_nothing() -> None:
    assert list(kernel_pool_metrics(lambda: None)()) == []
