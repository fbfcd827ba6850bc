"""Under load the API stays responsive: requests beyond what the server can work on at once
wait a short, bounded time for a slot and are then answered 503 + Retry-After; a database
that cannot hand out a connection in time (pool exhausted, SQLite write lock held past its
busy timeout, server unreachable) is a 503 too, never a 500 or a hang."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Receive, Scope, Send

from server import db
from server.config import Settings
from server.db import TimedQueuePool, transaction
from server.grading import service as grading
from server.models import JobState, utcnow
from server.ops.metrics import (
    Metrics,
    db_pool_metrics,
    grading_queue_metrics,
    kernel_pool_metrics,
)

log = logging.getLogger("burnin.overload")

RETRY_AFTER_S = 2
# Never held back: liveness and metrics must answer while the API is saturated, and static
# files are served without a thread or a database connection.
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/")
# Candidate code runs for seconds: one run at a time per attempt, bounded by the kernel pool
# and the sandbox, so it never takes one of the slots short requests need.
LONG_RUNNING = ("/api/v1/candidate/run/", "/api/v1/candidate/notebook/")


def exempt(path: str) -> bool:
    return path.startswith(EXEMPT_PREFIXES) or (
        path.startswith(LONG_RUNNING[0])
        or (path.startswith(LONG_RUNNING[1]) and path.endswith("/execute")))


def _busy_body(detail: str) -> bytes:
    return json.dumps({"error": "overloaded", "detail": detail}).encode()


class Admission:
    """At most `limit` requests are worked on at once; the next ones wait up to `wait_s`
    in arrival order, and get 503 + Retry-After when no slot frees in that time."""

    def __init__(self, app: ASGIApp, limit: int, wait_s: float, metrics: Metrics,
                 threads: int) -> None:
        self.app = app
        self.limit = limit
        self.wait_s = wait_s
        self.metrics = metrics
        self.threads = threads
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _ready(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            # Made inside the running loop (a test client may run the app on a new one);
            # sync handlers run on anyio's thread limiter, sized here.
            self._slots = (loop, asyncio.Semaphore(self.limit))
            limiter = anyio.to_thread.current_default_thread_limiter()
            limiter.total_tokens = max(limiter.total_tokens, self.threads)
        return self._slots[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        slots = self._ready()
        self.metrics.admission_waiting.inc()
        t0 = time.perf_counter()
        try:
            if slots.locked():
                await asyncio.wait_for(slots.acquire(), timeout=self.wait_s)
            else:
                await slots.acquire()  # free now: no timer task for the common case
        except TimeoutError:
            self.metrics.admission_wait.observe(time.perf_counter() - t0)
            self.metrics.admission_waiting.dec()
            self.metrics.admission_rejected.inc()
            await _send_busy(send, f"the server is busy ({self.limit} requests in progress); "
                                   f"retry in {RETRY_AFTER_S} s")
            return
        self.metrics.admission_wait.observe(time.perf_counter() - t0)
        self.metrics.admission_waiting.dec()
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.metrics.in_flight.dec()
            slots.release()


async def _send_busy(send: Send, detail: str) -> None:
    body = _busy_body(detail)
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(RETRY_AFTER_S).encode())]})
    await send({"type": "http.response.body", "body": body})


def _busy(detail: str) -> Response:
    return JSONResponse({"error": "overloaded", "detail": detail}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_S)})


def install(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    """Admission control and the 503 answers for a database that is out of connections or
    locked. Call it before adding RequestContext, so that rejected requests are logged and
    counted like any other."""

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(request: Request, exc: PoolTimeout) -> Response:
        metrics.db_unavailable.labels("pool_timeout").inc()
        log.warning("no database connection in time", extra={"path": request.url.path})
        return _busy("the server is busy (no database connection free); retry shortly")

    @app.exception_handler(OperationalError)
    async def db_unavailable(request: Request, exc: OperationalError) -> Response:
        # Locked (SQLite write lock held past busy_timeout), connection lost, too many
        # connections: the database cannot serve now, which is not the request's fault.
        reason = "locked" if "locked" in str(exc.orig).lower() else "operational"
        metrics.db_unavailable.labels(reason).inc()
        log.warning("database unavailable", extra={"path": request.url.path,
                                                   "error": str(exc.orig)[:200]})
        return _busy("the database is busy; retry shortly")

    engine = app.state.engine
    if isinstance(engine.pool, TimedQueuePool):
        engine.pool.on_wait = metrics.db_pool_wait.observe
    db.watch_write_turns(engine, metrics.db_write_wait.observe)
    metrics.watch("db_pool", db_pool_metrics(engine))
    factory = app.state.sessionmaker
    metrics.watch("grading_queue", grading_queue_metrics(lambda: queue_stats(factory)))
    notebooks = app.state.notebooks
    # The pool is started on first use; a scrape never starts it.
    metrics.watch("kernel_pool", kernel_pool_metrics(
        lambda: pool.stats() if (pool := getattr(notebooks, "_pool", None)) else None))
    app.add_middleware(Admission, limit=settings.max_in_flight,
                       wait_s=settings.admission_wait_s, metrics=metrics,
                       threads=settings.api_threads)


QUEUE_SCAN_LIMIT = 10_000


def queue_stats(factory: Any) -> dict[str, float]:
    """Grading jobs queued, running and dead, and the age of the oldest queued one (each
    state counted up to QUEUE_SCAN_LIMIT jobs)."""
    with transaction(factory) as s:
        by_state = {st: grading.list_jobs(s, st, limit=QUEUE_SCAN_LIMIT)
                    for st in (JobState.queued, JobState.running, JobState.dead)}
    queued = by_state[JobState.queued]
    oldest = min((j.created_at for j in queued), default=None)
    return {"queued": len(queued), "running": len(by_state[JobState.running]),
            "dead": len(by_state[JobState.dead]),
            "oldest_queued_s": (utcnow() - oldest).total_seconds() if oldest else 0.0}
