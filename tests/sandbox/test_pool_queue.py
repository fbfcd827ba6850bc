"""Waiting for a kernel: waiters are served first come, first served, each told its place
and an ETA from the measured start times; the adaptive start limit follows start latency.
Kernels here are stand-ins that take a set time to "start" (no sandbox is needed to test the
queue); tests/sandbox/test_pool_demand.py covers the pool on the real Docker backend."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from sandbox import pool as pool_mod
from sandbox.limits import SandboxLimits
from sandbox.pool import KernelPool, PoolTimeout, WaitProgress


class FakeKernel:
    """Starts in `start_s` seconds (class attribute, changeable by a test)."""

    start_s = 0.3
    started: list[FakeKernel] = []

    def __init__(self, backend: Any, limits: Any, *, start_timeout_s: float) -> None:
        time.sleep(type(self).start_s)
        self._lock = threading.Lock()
        self._alive = True
        self.artifacts: dict[str, bytes] = {}
        FakeKernel.started.append(self)

    def alive(self) -> bool:
        return self._alive

    def retire(self) -> None:
        self._alive = False

    def shutdown(self) -> None:
        self._alive = False

    def write_artifacts(self, files: Any) -> None:
        self.artifacts.update(files)


@pytest.fixture(autouse=True)
def fake_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_mod, "Kernel", FakeKernel)
    FakeKernel.start_s = 0.3
    FakeKernel.started = []


def _pool(**kw: Any) -> KernelPool:
    args: dict[str, Any] = {"size": 0, "limits": SandboxLimits(), "max_parallel_starts": 1,
                            "cull_interval_s": 0.2, **kw}
    return KernelPool(object(), **args)  # type: ignore[arg-type]


def _burst(pool: KernelPool, n: int, stagger_s: float = 0.05,
           timeout_s: float = 30.0) -> tuple[list[int], dict[int, list[WaitProgress]],
                                               list[BaseException]]:
    """n waiters arriving stagger_s apart: (order served, progress seen by each, errors)."""
    served: list[int] = []
    seen: dict[int, list[WaitProgress]] = {i: [] for i in range(n)}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            pool.acquire(timeout_s=timeout_s, on_wait=seen[i].append)
            with lock:
                served.append(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = []
    for i in range(n):
        t = threading.Thread(target=one, args=(i,))
        t.start()
        threads.append(t)
        time.sleep(stagger_s)
    for t in threads:
        t.join(timeout_s + 5)
    return served, seen, errors


def test_waiters_are_served_in_arrival_order_with_falling_positions() -> None:
    with _pool() as pool:
        served, seen, errors = _burst(pool, 5)
    assert not errors
    assert served == [0, 1, 2, 3, 4]  # first come, first served
    for i, events in seen.items():
        assert events, f"waiter {i} saw no progress"
        positions = [e.position for e in events]
        assert positions == sorted(positions, reverse=True), positions  # only moves up
        assert positions[0] >= 1 and positions[-1] == 1
        assert all(e.eta_s >= 0 for e in events)
    # The last to arrive started behind the other four.
    assert seen[4][0].position >= 4
    assert seen[4][0].state == "queued"
    assert seen[4][-1].state == "starting"


def test_eta_comes_from_measured_start_times() -> None:
    FakeKernel.start_s = 0.5
    with _pool(size=1) as pool:
        assert pool.wait_warm(timeout_s=10)  # one start measured (~0.5 s)
        pool.acquire(timeout_s=10)
        mean = pool.stats()["mean_start_s"]
        assert 0.4 <= mean <= 2.0, mean
        _, seen, errors = _burst(pool, 4, stagger_s=0.0)
    assert not errors
    first = [events[0] for events in seen.values() if events]
    # With one start at a time, the waiter k-th in line is ~k starts away: its first ETA
    # grows with its place, and is at most its place times the mean start (plus slack).
    by_place = sorted(first, key=lambda e: e.position)
    etas = [e.eta_s for e in by_place]
    assert etas == sorted(etas), by_place
    assert all(e.eta_s <= e.position * mean + 0.6 for e in by_place), (by_place, mean)
    assert by_place[-1].eta_s >= 2 * 0.4, by_place  # the last in line is not told "now"


def test_waiter_that_times_out_leaves_the_queue() -> None:
    FakeKernel.start_s = 1.5
    with _pool() as pool:
        with pytest.raises(PoolTimeout):
            pool.acquire(timeout_s=0.3)
        assert pool.stats()["waiting"] == 0
        # The one behind it is not stuck behind a ticket that left.
        session = pool.acquire(timeout_s=10)
        assert session.kernel.alive()


def test_a_raising_callback_gives_up_the_place() -> None:
    FakeKernel.start_s = 1.0

    def gone(p: WaitProgress) -> None:
        raise ConnectionError("client went away")

    with _pool() as pool:
        with pytest.raises(ConnectionError):
            pool.acquire(timeout_s=10, on_wait=gone)
        assert pool.stats()["waiting"] == 0
        assert pool.acquire(timeout_s=10).kernel.alive()


def test_wait_histogram_counts_every_take() -> None:
    with _pool(size=1) as pool:
        assert pool.wait_warm(timeout_s=10)
        for _ in range(3):
            pool.acquire(timeout_s=10)
        stats = pool.stats()
    assert stats["wait_buckets"][-1] == ("+Inf", 3)
    assert stats["wait_sum_s"] > 0.2  # two of them waited for a start


def test_adaptive_limit_grows_on_fast_starts_and_halves_on_a_slow_one() -> None:
    FakeKernel.start_s = 0.05
    with _pool(size=0, adaptive_starts=True, max_parallel_ceiling=4) as pool:
        _, _, errors = _burst(pool, 12, stagger_s=0.0)
        assert not errors
        grown = pool.stats()["max_parallel_starts"]
        assert grown > 1, pool.stats()
        FakeKernel.start_s = 0.5  # 10x the fastest start: the engine is saturated
        _, _, errors = _burst(pool, 1, stagger_s=0.0)
        assert not errors
        assert pool.stats()["max_parallel_starts"] == max(1, grown // 2)


def test_fixed_limit_does_not_move() -> None:
    FakeKernel.start_s = 0.05
    with _pool(size=0, max_parallel_starts=3) as pool:
        _burst(pool, 6, stagger_s=0.0)
        assert pool.stats()["max_parallel_starts"] == 3


def test_bad_limits_are_refused() -> None:
    for kw in ({"max_parallel_starts": 0}, {"max_parallel_ceiling": 0}, {"slow_factor": 1.0},
               {"min_parallel_starts": 2}, {"min_parallel_starts": 0}):
        with pytest.raises(ValueError):
            _pool(**kw)


def test_adaptive_limit_is_never_halved_below_its_floor() -> None:
    FakeKernel.start_s = 0.05
    with _pool(size=0, adaptive_starts=True, max_parallel_starts=2, min_parallel_starts=2,
               max_parallel_ceiling=4) as pool:
        _burst(pool, 1, stagger_s=0.0)  # the fastest start: 0.05 s
        FakeKernel.start_s = 0.4
        for _ in range(3):
            _burst(pool, 1, stagger_s=0.0)
        assert pool.stats()["max_parallel_starts"] == 2


def test_a_long_queue_is_told_its_length_over_the_measured_throughput() -> None:
    """The engine finishes one start per 0.3 s; the 8th in line waits ~8 starts, whatever
    the limit claims (two starts "at once" that each take twice as long are no faster)."""
    FakeKernel.start_s = 0.3
    with _pool(size=0, max_parallel_starts=1) as pool:
        _, _, errors = _burst(pool, 4, stagger_s=0.0)  # throughput measured: ~3.3/s
        assert not errors
        _, seen, errors = _burst(pool, 8, stagger_s=0.0)
    assert not errors
    last = max((events[0] for events in seen.values() if events), key=lambda e: e.position)
    assert last.position >= 7
    assert 0.3 * (last.position - 2) <= last.eta_s <= 0.3 * last.position + 1.0, last
