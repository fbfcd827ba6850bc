"""A pool of warm kernels, one per candidate session, refilled in the background."""

from __future__ import annotations

import bisect
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self

import anyio.to_thread

from sandbox.kernel import CellResult, Kernel, KernelBackend, OutputCallback, notebook_json
from sandbox.limits import SandboxLimits

log = logging.getLogger(__name__)

# Upper bounds (seconds) of the kernel start-time histogram.
START_BUCKETS_S = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
# Upper bounds (seconds) of the time a candidate waited for a kernel (0 when one was warm).
WAIT_BUCKETS_S = (0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
# ETA basis before any kernel has started here (seconds; replaced by measured starts).
DEFAULT_START_S = 3.0
# Measured on this project's 2-core reference host (bench/kernel_burst.py --parallel, see
# docs/benchmarks.md): per-start latency stays flat up to about this many docker starts at
# once and climbs beyond it. The adaptive limit starts here and moves with measured latency.
DEFAULT_PARALLEL_STARTS = 2


@dataclass(frozen=True)
class WaitProgress:
    """Where a candidate waiting for a kernel stands: 1-based place among the waiters
    (first come, first served), the estimated seconds until their kernel is ready, and
    whether a kernel for them is already starting or they are queued behind others."""

    position: int
    eta_s: float
    state: Literal["queued", "starting"]


WaitCallback = Callable[[WaitProgress], None]


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

    def restart(self, *, timeout_s: float = 60.0, on_wait: WaitCallback | None = None) -> None:
        """Throw the sandbox away and continue in a fresh kernel (the notebook log stays)."""
        if self.closed:
            raise PoolClosed("session is closed")
        old = self.kernel
        self.kernel = self.pool._take(timeout_s, self.artifacts, on_wait)
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
    """Keeps `size` kernels warm; starts at most `max_parallel_starts` at once (queue, not
    stampede). Waiters are served first come, first served and can follow their place and
    ETA (on_wait). With adaptive_starts the parallel-start limit follows measured start
    latency (AIMD): +1 after a window of starts near the fastest seen, halved when a start
    takes more than slow_factor times that, between min_parallel_starts and
    max_parallel_ceiling."""

    def __init__(self, backend: KernelBackend, *, size: int, limits: SandboxLimits,
                 max_parallel_starts: int = DEFAULT_PARALLEL_STARTS,
                 idle_timeout_s: float = 1800.0,
                 cull_interval_s: float = 30.0, start_timeout_s: float = 60.0,
                 max_warm: int | None = None, demand_window_s: float = 60.0,
                 adaptive_starts: bool = False, max_parallel_ceiling: int = 8,
                 min_parallel_starts: int = 1, slow_factor: float = 2.0) -> None:
        if size < 0 or max_parallel_starts < 1 or max_parallel_ceiling < 1 or slow_factor <= 1 \
                or not 1 <= min_parallel_starts <= max_parallel_starts:
            raise ValueError("pool size must be >= 0, max_parallel_starts and "
                             "max_parallel_ceiling >= 1, 1 <= min_parallel_starts <= "
                             "max_parallel_starts, slow_factor > 1")
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
        self._wait_counts = [0] * (len(WAIT_BUCKETS_S) + 1)
        self._wait_sum_s = 0.0
        self._recent_starts: deque[float] = deque(maxlen=20)  # seconds, for the ETA
        self._in_flight: dict[int, float] = {}  # start id -> when it began (monotonic)
        self._queue: deque[int] = deque()  # waiters' tickets, first come first served
        self._tickets = 0
        self.adaptive_starts = adaptive_starts
        self.max_parallel_ceiling = max(max_parallel_ceiling, max_parallel_starts)
        self.slow_factor = slow_factor
        self.min_parallel_starts = min_parallel_starts
        # Start throughput while the engine is kept busy: when starting last went 0 -> 1,
        # and the starts finished since (the ETA of a long queue is its length / rate).
        self._busy_since: float | None = None
        self._busy_done = 0
        self._fastest_start_s: float | None = None
        self._good_starts = 0

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
            waits, wait_total = list(self._wait_counts), self._wait_sum_s
            out: dict[str, Any] = {"warm": len(self._warm), "starting": self._starting,
                                   "in_use": len(self.sessions), "waiting": self._waiting,
                                   "target": self._target(),
                                   "start_failures": self.start_failures,
                                   "max_parallel_starts": self.max_parallel_starts,
                                   "mean_start_s": self._mean_start_s()}
        out["start_buckets"], out["start_sum_s"] = _cumulative(START_BUCKETS_S, counts), total
        out["wait_buckets"], out["wait_sum_s"] = _cumulative(WAIT_BUCKETS_S, waits), wait_total
        return out

    def _mean_start_s(self) -> float:
        """Mean of the recent kernel starts (lock held); DEFAULT_START_S before any."""
        if self._recent_starts:
            return sum(self._recent_starts) / len(self._recent_starts)
        return DEFAULT_START_S

    def _progress(self, ticket: int) -> WaitProgress:
        """The waiter's place and ETA (lock held). Kernels come, in order, from the warm
        ones, then the starts in flight (each due at the recent mean start time after it
        began), then new starts max_parallel_starts at a time, each taking the mean."""
        position = self._queue.index(ticket) + 1
        need = position - len(self._warm)  # kernels still to finish before this one's
        if need <= 0:
            return WaitProgress(position, 0.0, "starting")
        mean = self._mean_start_s()
        now = time.monotonic()
        due = sorted(max(0.1, mean - (now - began)) for began in self._in_flight.values())
        if need <= len(due):
            return WaitProgress(position, round(due[need - 1], 1), "starting")
        rounds = -(-(need - len(due)) // self.max_parallel_starts)  # ceil
        free_at = due[-1] if len(due) >= self.max_parallel_starts else 0.0
        eta = free_at + rounds * mean
        if self._busy_since is not None and self._busy_done >= 3:
            # Measured throughput of back-to-back starts: a saturated engine finishes fewer
            # kernels per second than max_parallel_starts / mean start suggests.
            rate = self._busy_done / max(now - self._busy_since, 1e-3)
            eta = max(eta, need / rate)
        return WaitProgress(position, round(eta, 1), "queued")

    def _adapt(self, took: float) -> None:
        """AIMD on start latency (lock held): widen by one after max_parallel_starts
        starts within slow_factor x the fastest; halve on one slower than that."""
        fastest = self._fastest_start_s = min(self._fastest_start_s or took, took)
        if not self.adaptive_starts:
            return
        if took > self.slow_factor * fastest:
            self.max_parallel_starts = max(self.min_parallel_starts,
                                           self.max_parallel_starts // 2)
            self._good_starts = 0
            return
        self._good_starts += 1
        if self._good_starts >= self.max_parallel_starts:
            self.max_parallel_starts = min(self.max_parallel_ceiling,
                                           self.max_parallel_starts + 1)
            self._good_starts = 0

    # -- sessions -----------------------------------------------------------
    def acquire(self, *, timeout_s: float = 60.0, artifacts: Mapping[str, bytes] = {},
                on_wait: WaitCallback | None = None) -> Session:
        """A session with its own warm kernel; waits (bounded) when none is ready, first
        come first served, telling on_wait its place and ETA whenever they change (and
        about every second). on_wait runs in this thread without the pool's lock."""
        kernel = self._take(timeout_s, artifacts, on_wait)
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

    def _take(self, timeout_s: float, artifacts: Mapping[str, bytes],
              on_wait: WaitCallback | None = None, *, first: bool = False) -> Kernel:
        began = deadline = time.monotonic()
        deadline += timeout_s
        told: tuple[int, str] | None = None
        told_at = 0.0
        with self._cond:
            self._tickets += 1
            ticket = self._tickets
            if first:  # a retry after a dead warm kernel keeps its place at the front
                self._queue.appendleft(ticket)
            else:
                self._queue.append(ticket)
            self._waiting += 1
            self._cond.notify_all()
        try:
            while True:
                progress: WaitProgress | None = None
                with self._cond:
                    if self._closed:
                        raise PoolClosed("kernel pool is closed")
                    if self._warm and self._queue[0] == ticket:
                        kernel = self._warm.popleft()
                        self._takes.append(time.monotonic())
                        self._queue.popleft()
                        self._waiting -= 1
                        ticket = 0
                        waited = time.monotonic() - began
                        self._wait_sum_s += waited
                        self._wait_counts[bisect.bisect_left(WAIT_BUCKETS_S, waited)] += 1
                        self._cond.notify_all()  # the filler starts a replacement; next waiter
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise PoolTimeout(f"no kernel ready within {timeout_s:.0f}s "
                                          f"({self.last_error or 'pool busy'})")
                    if on_wait is not None:
                        progress = self._progress(ticket)
                        now = time.monotonic()
                        if (progress.position, progress.state) == told and now - told_at < 1.0:
                            progress = None
                        else:
                            told, told_at = (progress.position, progress.state), now
                    if progress is None:
                        self._cond.wait(min(left, 1.0))
                if progress is not None and on_wait is not None:
                    on_wait(progress)  # outside the lock: it may block (a stream's send)
        finally:
            if ticket:
                with self._cond:
                    self._queue.remove(ticket)
                    self._waiting -= 1
                    self._cond.notify_all()  # the waiters behind move up
        if not kernel.alive():
            kernel.shutdown()
            return self._take(max(deadline - time.monotonic(), 0.1), artifacts, on_wait,
                              first=True)
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
                if self._starting == 0:
                    self._busy_since, self._busy_done = time.monotonic(), 0
                self._starting += 1
                self._tickets += 1
                start_id = self._tickets
                self._in_flight[start_id] = time.monotonic()
                self._cond.notify_all()  # waiters: a kernel is starting (their ETA moves)
            starter = threading.Thread(target=self._start_one, args=(start_id,), daemon=True)
            with self._cond:
                self._starters = [t for t in self._starters if t.is_alive()] + [starter]
            starter.start()

    def _start_one(self, me: int) -> None:
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
            self._busy_done += 1
            self._in_flight.pop(me, None)
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
                self._recent_starts.append(took)
                self._adapt(took)
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
                # Demand fell: warm kernels above the target are shut down (memory back);
                # never one a waiter is about to take.
                keep = self._target() + self._waiting
                surplus = [self._warm.pop() for _ in range(max(0, len(self._warm) - keep))]
            for kernel in surplus:
                kernel.shutdown()
            for session in idle:
                log.info("culling idle session %s", session.id)
                self.release(session, "idle timeout")


def _cumulative(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, int]]:
    """Per-bucket counts as Prometheus cumulative buckets [(upper bound, count)]."""
    out, running = [], 0
    for bound, n in zip([*map(str, bounds), "+Inf"], counts, strict=True):
        running += n
        out.append((bound, running))
    return out
