"""The app's lifespan hook: start the embedded worker pool, stop it on shutdown.

The workers (claim, lease, store) are threads of the API process; the grading itself runs
in spawned child processes at a lower CPU priority (Settings.grading_nice, SCHED_BATCH), so a busy grader
holds neither the API's GIL nor, when the cores are short, its CPU: grading load slows
grading, not candidates. BURNIN_GRADING_ISOLATION=thread grades in the worker threads."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker

from scenarios.loader import Bank
from server.config import Settings
from server.grading.worker import GradeFn, WorkerConfig, WorkerPool

log = logging.getLogger("burnin.grading")


class EmbeddedPool:
    """The worker threads, and the child processes that grade for them (if any)."""

    def __init__(self, workers: WorkerPool, children: ChildGrader | None) -> None:
        self.workers, self.children = workers, children

    def stop(self) -> None:
        self.workers.stop()
        if self.children is not None:
            self.children.close()


def start_pool(factory: sessionmaker[Session], settings: Settings,
               bank: Bank | None = None) -> EmbeddedPool | None:
    """Grading workers on the app's own bank and settings (None: none configured)."""
    if settings.grading_workers <= 0:
        return None
    from server.grading.grade_fn import load_grade_fn

    children = None
    grade_fn: GradeFn | None
    if settings.grading_isolation == "process":
        children = ChildGrader(settings, settings.grading_workers, settings.grading_nice)
        grade_fn = children
    else:
        grade_fn = load_grade_fn(settings, bank)
    if grade_fn is None:
        return None
    cfg = WorkerConfig(lease_s=settings.grading_lease_s,
                       job_timeout_s=settings.grading_job_timeout_s)
    workers = WorkerPool(factory, grade_fn, workers=settings.grading_workers, cfg=cfg).start()
    return EmbeddedPool(workers, children)


async def stop_pool(pool: EmbeddedPool | None) -> None:
    if pool is not None:
        await anyio.to_thread.run_sync(pool.stop)


# ---------------------------------------------------------------- child processes


def batch_policy() -> bool:
    """Put this process under SCHED_BATCH (Linux): the scheduler treats it as CPU-bound and
    never lets its wake-ups preempt a running task, so a grader that wakes does not push an
    API thread off its core mid-request; its share of the CPU (nice) is unchanged. False
    where the policy does not exist."""
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None:
        return False
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))
    except OSError:
        return False
    return True

_child_fn: GradeFn | None = None


def exit_with_parent(parent: int, every_s: float = 1.0) -> threading.Thread:
    """A daemon thread ending this process once `parent` (the pid of the process that
    started it) is gone: getppid() changes when the parent dies and this process is
    re-parented. A grading child whose server was killed must not go on grading, holding
    CPU and memory, with nobody to store its report. (PR_SET_PDEATHSIG would fire when the
    parent's *thread* that spawned the child ends, and the pool spawns from short-lived
    grading threads.)"""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(1)

    t = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    t.start()
    return t


def _child_init(settings: dict[str, Any], nice: int, parent: int) -> None:
    global _child_fn
    exit_with_parent(parent)
    os.nice(nice)
    batch_policy()
    from server.grading.grade_fn import load_grade_fn

    # The child loads the bank from the same scenarios root the app was given.
    _child_fn = load_grade_fn(Settings(**settings))


def _child_grade(snapshot: dict[str, Any]) -> Any:
    if _child_fn is None:
        raise RuntimeError("the grading library is not available in the grading process")
    return _child_fn(snapshot)


class ChildGrader:
    """grade_fn(snapshot) -> report, computed in one of `processes` spawned children at
    nice +`nice` under SCHED_BATCH (the production grade function, loaded in each child
    from settings)."""

    def __init__(self, settings: Settings, processes: int, nice: int) -> None:
        self._args = (settings.model_dump(mode="json", exclude_none=True), nice, os.getpid())
        self._processes = processes
        self._closed = False
        self._pool = self._make()

    def _make(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self._processes,
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_child_init, initargs=self._args)

    def __call__(self, snapshot: dict[str, Any]) -> Any:
        pool = self._pool
        try:
            return pool.submit(_child_grade, snapshot).result()
        except BrokenProcessPool:
            # A child died (killed, out of memory): the worker retries the job; the next
            # one gets fresh children.
            if not self._closed:
                log.warning("a grading process died; starting new ones")
                if self._pool is pool:
                    self._pool = self._make()
            raise

    def pids(self) -> list[int]:
        """The children running now."""
        procs = getattr(self._pool, "_processes", None) or {}
        return [p.pid for p in list(procs.values()) if p.pid is not None]

    def close(self, wait_s: float = 5.0) -> None:
        """Stop the children, a grade in progress included (its job is tried again: the
        lease expires, or the worker gives it back). shutdown(wait=False) alone left a busy
        child grading on after the server had exited, for minutes, on the server's cores."""
        self._closed = True
        pool = self._pool
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        end = time.monotonic() + wait_s
        for proc in procs:
            proc.join(max(0.0, end - time.monotonic()))
            if proc.is_alive():
                proc.kill()
