"""A pool of warm kernels, one per candidate session, refilled in the background."""

from __future__ import annotations

import bisect
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Self

import anyio.to_thread

from sandbox.kernel import CellResult, Kernel, KernelBackend, OutputCallback, notebook_json
from sandbox.limits import SandboxLimits

log = logging.getLogger(__name__)

# Upper bounds (seconds) of the kernel start-time histogram.
START_BUCKETS_S = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)


class PoolTimeout(TimeoutError):
    """No kernel became ready in time."""


class PoolClosed(RuntimeError):
    """The pool is shut down."""


class Session:
    """A candidate's own kernel. Never shared; restart means a new sandbox."""

    def __init__(self, pool: KernelPool, kernel: Kernel, artifacts: Mapping[str, bytes]) -> None:
        self.id = secrets.token_hex(8)
        self.pool = pool
        self.kernel = kernel
        self.artifacts = dict(artifacts)
        self.cells: list[tuple[str, CellResult]] = []
        self.last_used = time.monotonic()
        self.closed = False
        self.close_reason = ""

    @property
    def dead(self) -> bool:
        return self.closed or not self.kernel.alive()

    def execute(self, code: str, *, timeout_s: float | None = None,
                on_output: OutputCallback | None = None) -> CellResult:
        """Run a cell (per-cell timeout defaults to the pool's wall limit)."""
        if self.closed:
            return CellResult("dead", detail=f"session closed ({self.close_reason})")
        self.last_used = time.monotonic()
        try:
            result = self.kernel.execute(
                code, timeout_s=timeout_s or self.pool.limits.wall_s,
                output_bytes=self.pool.limits.output_bytes, on_output=on_output)
        finally:
            self.last_used = time.monotonic()
        self.cells.append((code, result))
        return result

    async def aexecute(self, code: str, **kwargs: Any) -> CellResult:
        return await anyio.to_thread.run_sync(lambda: self.execute(code, **kwargs))

    def interrupt(self) -> None:
        self.kernel.interrupt()

    def restart(self, *, timeout_s: float = 60.0) -> None:
        """Throw the sandbox away and continue in a fresh kernel (the notebook log stays)."""
        if self.closed:
            raise PoolClosed("session is closed")
        old = self.kernel
        self.kernel = self.pool._take(timeout_s, self.artifacts)
        old.shutdown()
        self.last_used = time.monotonic()

    async def arestart(self, **kwargs: Any) -> None:
        await anyio.to_thread.run_sync(lambda: self.restart(**kwargs))

    def export_ipynb(self) -> str:
        return notebook_json(self.cells)

    def close(self, reason: str = "closed") -> None:
        self.pool.release(self, reason)

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.close)


class KernelPool:
    """Keeps `size` kernels warm; starts at most `max_parallel_starts` at once (queue, not stampede)."""

    def __init__(self, backend: KernelBackend, *, size: int, limits: SandboxLimits,
                 max_parallel_starts: int = 2, idle_timeout_s: float = 1800.0,
                 cull_interval_s: float = 30.0, start_timeout_s: float = 60.0,
                 max_warm: int | None = None, demand_window_s: float = 60.0) -> None:
        if size < 0 or max_parallel_starts < 1:
            raise ValueError("pool size must be >= 0 and max_parallel_starts >= 1")
        self.backend = backend
        self.size = size
        # The warm target grows with recent demand up to max_warm (default 4 x size).
        self.max_warm = max(size, max_warm if max_warm is not None else 4 * size)
        self.demand_window_s = demand_window_s
        self._takes: deque[float] = deque()
        self.limits = limits
        self.max_parallel_starts = max_parallel_starts
        self.idle_timeout_s = idle_timeout_s
        self.cull_interval_s = cull_interval_s
        self.start_timeout_s = start_timeout_s
        self.sessions: dict[str, Session] = {}
        self.start_failures = 0
        self.last_error = ""
        self._warm: deque[Kernel] = deque()
        self._starting = 0
        self._waiting = 0
        self._closed = False
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._starters: list[threading.Thread] = []
        self._start_counts = [0] * (len(START_BUCKETS_S) + 1)  # per bucket, last is +Inf
        self._start_sum_s = 0.0

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> KernelPool:
        for target in (self._fill_loop, self._cull_loop):
            thread = threading.Thread(target=target, daemon=True, name=f"burnin-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        """Stop refilling and shut every kernel down (warm and in sessions)."""
        with self._cond:
            self._closed = True
            warm = list(self._warm)
            self._warm.clear()
            sessions = list(self.sessions.values())
            self._cond.notify_all()
        for kernel in warm:
            kernel.shutdown()
        for session in sessions:
            self.release(session, "pool closed")
        for thread in self._threads:
            thread.join(timeout=self.start_timeout_s)
        with self._cond:
            starters = list(self._starters)
        for thread in starters:  # a kernel still starting must not outlive the pool
            thread.join(timeout=self.start_timeout_s + 10)
        with self._cond:  # kernels that finished starting after close
            late = list(self._warm)
            self._warm.clear()
        for kernel in late:
            kernel.shutdown()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_warm(self, count: int | None = None, timeout_s: float = 120.0) -> bool:
        """Block until `count` (default: size) kernels are warm."""
        want = self.size if count is None else count
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while len(self._warm) < want:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return False
                self._cond.wait(left)
        return True

    @property
    def warm_count(self) -> int:
        return len(self._warm)

    def _target(self) -> int:
        """Warm kernels to keep (call with the lock held): `size`, or as many as were taken
        in the last demand_window_s when that is more (a burst of candidates keeps the next
        ones' kernels starting ahead of them), capped at max_warm."""
        now = time.monotonic()
        while self._takes and now - self._takes[0] > self.demand_window_s:
            self._takes.popleft()
        return min(self.max_warm, max(self.size, len(self._takes)))

    def stats(self) -> dict[str, Any]:
        """Kernels warm, starting, in sessions and waited for; start times as cumulative
        histogram buckets [(upper bound, count)] and their sum (for /metrics)."""
        with self._cond:
            counts, total = list(self._start_counts), self._start_sum_s
            out: dict[str, Any] = {"warm": len(self._warm), "starting": self._starting,
                                   "in_use": len(self.sessions), "waiting": self._waiting,
                                   "target": self._target(),
                                   "start_failures": self.start_failures}
        cumulative, running = [], 0
        for bound, n in zip([*map(str, START_BUCKETS_S), "+Inf"], counts, strict=True):
            running += n
            cumulative.append((bound, running))
        out["start_buckets"], out["start_sum_s"] = cumulative, total
        return out

    # -- sessions -----------------------------------------------------------
    def acquire(self, *, timeout_s: float = 60.0,
                artifacts: Mapping[str, bytes] = {}) -> Session:
        """A session with its own warm kernel; waits (bounded) when none is ready."""
        kernel = self._take(timeout_s, artifacts)
        session = Session(self, kernel, artifacts)
        with self._cond:
            self.sessions[session.id] = session
        return session

    async def aacquire(self, **kwargs: Any) -> Session:
        return await anyio.to_thread.run_sync(lambda: self.acquire(**kwargs))

    def release(self, session: Session, reason: str = "released") -> None:
        """End a session; its sandbox is destroyed, never handed to someone else."""
        with self._cond:
            self.sessions.pop(session.id, None)
            if session.closed:
                return
            session.closed = True
            session.close_reason = reason
            # Closed and alive are never seen together: the kernel is dead from here on,
            # its channels and container are torn down below, outside the lock.
            session.kernel.retire()
        session.kernel.shutdown()

    def _take(self, timeout_s: float, artifacts: Mapping[str, bytes]) -> Kernel:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            self._waiting += 1
            self._cond.notify_all()
            try:
                while True:
                    if self._closed:
                        raise PoolClosed("kernel pool is closed")
                    if self._warm:
                        kernel = self._warm.popleft()
                        self._takes.append(time.monotonic())
                        self._cond.notify_all()  # the filler starts a replacement
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise PoolTimeout(f"no kernel ready within {timeout_s:.0f}s "
                                          f"({self.last_error or 'pool busy'})")
                    self._cond.wait(min(left, 1.0))
            finally:
                self._waiting -= 1
        if not kernel.alive():
            kernel.shutdown()
            return self._take(max(deadline - time.monotonic(), 0.1), artifacts)
        if artifacts:
            kernel.write_artifacts(artifacts)
        return kernel

    # -- background ---------------------------------------------------------
    def _fill_loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (
                        self._starting >= self.max_parallel_starts
                        or len(self._warm) + self._starting >= self._target() + self._waiting):
                    self._cond.wait(1.0)
                if self._closed:
                    return
                self._starting += 1
            starter = threading.Thread(target=self._start_one, daemon=True)
            with self._cond:
                self._starters = [t for t in self._starters if t.is_alive()] + [starter]
            starter.start()

    def _start_one(self) -> None:
        kernel: Kernel | None = None
        began = time.monotonic()
        try:
            kernel = Kernel(self.backend, self.limits, start_timeout_s=self.start_timeout_s)
        except Exception as exc:  # noqa: BLE001 - reported through last_error and logs
            log.warning("kernel start failed: %s", exc)
            with self._cond:
                self.start_failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(min(2.0 * self.start_failures, 10.0))  # back off, do not spin
        with self._cond:
            self._starting -= 1
            if kernel is not None:
                if self._closed:
                    closed_kernel: Kernel | None = kernel
                else:
                    self._warm.append(kernel)
                    closed_kernel = None
                    self.start_failures = 0
                took = time.monotonic() - began
                self._start_sum_s += took
                self._start_counts[bisect.bisect_left(START_BUCKETS_S, took)] += 1
            else:
                closed_kernel = None
            self._cond.notify_all()
        if closed_kernel is not None:
            closed_kernel.shutdown()

    def _cull_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait(self.cull_interval_s)
                if self._closed:
                    return
                now = time.monotonic()
                idle = [s for s in self.sessions.values()
                        if now - s.last_used > self.idle_timeout_s and not s.kernel._lock.locked()]
                # Demand fell: warm kernels above the target are shut down (memory back).
                surplus = [self._warm.pop() for _ in range(max(0, len(self._warm)
                                                               - self._target()))]
            for kernel in surplus:
                kernel.shutdown()
            for session in idle:
                log.info("culling idle session %s", session.id)
                self.release(session, "idle timeout")
