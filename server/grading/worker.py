"""Grading workers: claim a job with a lease, grade with no transaction open, store the
result in a new transaction guarded by the lease.

One job's life in a worker:
  1. claim (own transaction): oldest queued job, or a running one whose lease expired;
     take a snapshot of the attempt as plain data; commit.
  2. grade: grade_fn(snapshot) in a thread, with a heartbeat thread renewing the lease;
     give up after job_timeout_s (the hung thread is abandoned, the job retried).
  3. store (new transaction): release the lease as done *first* (guarded: still ours, not
     expired), then the report; if the lease was lost, nothing is stored.
  Infrastructure failures (grade_fn raising, timeouts, database errors) retry with
  exponential backoff; after max_tries the job is dead with the error.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from graders.report import Report
from server.db import transaction
from server.grading import repository as repo
from server.grading import scoring, service
from server.grading.errors import AttemptNotFound
from server.integrity import service as integrity
from server.models import GradingJob, JobState, utcnow

log = logging.getLogger("burnin.grading")

GradeFn = Callable[[dict[str, Any]], Any]
# Errors of the database itself (locked, connection lost): worth retrying the same step.
DB_ERRORS = (OperationalError, DBAPIError)


@dataclass
class WorkerConfig:
    lease_s: float = 30.0
    job_timeout_s: float = 900.0
    poll_s: float = 1.0
    backoff_base_s: float = 5.0
    backoff_max_s: float = 600.0
    store_retry_s: float = 20.0  # how long to keep retrying a store while the db is locked
    heartbeat_s: float | None = None  # default lease_s / 3

    @property
    def beat(self) -> float:
        return self.heartbeat_s or max(self.lease_s / 3, 0.05)


@dataclass
class Outcome:
    job_id: int
    state: str  # "done", "retry", "dead", "lost"
    error: str | None = None
    report_id: int | None = None
    timings: dict[str, float] = field(default_factory=dict)


class _Heartbeat(threading.Thread):
    def __init__(self, factory: sessionmaker[Session], job_id: int, owner: str, cfg: WorkerConfig):
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.factory, self.job_id, self.owner, self.cfg = factory, job_id, owner, cfg
        self.done = threading.Event()
        self.lost = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.cfg.beat):
            try:
                with transaction(self.factory) as s:
                    held = repo.renew(s, self.job_id, self.owner, utcnow(), self.cfg.lease_s)
            except DB_ERRORS as exc:  # locked or unreachable: try again next beat
                log.warning("lease renewal failed", extra={"job_id": self.job_id,
                                                           "error": str(exc)[:200]})
                continue
            if not held:
                self.lost.set()
                return


def backoff(cfg: WorkerConfig, tries: int) -> float:
    base = min(cfg.backoff_max_s, cfg.backoff_base_s * (2 ** max(tries - 1, 0)))
    return base * random.uniform(0.8, 1.0)


def _owner_id(index: int) -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{index}:{uuid.uuid4().hex[:8]}"


class Worker:
    """One worker: process jobs one at a time. `run_once` is what the loop and tests call."""

    def __init__(self, factory: sessionmaker[Session], grade_fn: GradeFn,
                 cfg: WorkerConfig | None = None, index: int = 0):
        self.factory, self.grade_fn = factory, grade_fn
        self.cfg = cfg or WorkerConfig()
        self.owner = _owner_id(index)

    # 1. claim
    def _claim(self) -> tuple[int, int, dict[str, Any], int, int] | None:
        with transaction(self.factory) as s:
            now = utcnow()
            buried = repo.bury_expired_last_tries(s, now)
            if buried:
                log.error("jobs dead after their last lease expired", extra={"count": buried})
            job_id = repo.claim_one(s, self.owner, now, self.cfg.lease_s)
            if job_id is None:
                return None
            job = s.get(GradingJob, job_id, populate_existing=True)
            assert job is not None
            try:
                snap = service.attempt_snapshot(s, job.attempt_id)
            except AttemptNotFound:
                repo.release(s, job_id, self.owner, now, state=JobState.dead,
                             error="the attempt no longer exists")
                return None
            return job_id, job.attempt_id, snap, job.tries, job.max_tries

    # 2. grade, no transaction open
    def _grade(self, snap: dict[str, Any]) -> tuple[Any, str | None]:
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["report"] = self.grade_fn(snap)
            except BaseException as exc:  # noqa: BLE001 - any failure is the job's error
                box["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()

        t = threading.Thread(target=run, name="grade", daemon=True)
        t.start()
        t.join(self.cfg.job_timeout_s)
        if t.is_alive():
            return None, f"grading timed out after {self.cfg.job_timeout_s:g}s"
        if "error" in box:
            return None, f"grading failed: {box['error'][:2000]}"
        return box.get("report"), None

    # 3a. store the result
    def _check(self, report: object, tries: int, max_tries: int
               ) -> tuple[Report | None, str | None]:
        """A report that is not one is the grader's failure; criteria that hit an
        infrastructure error (no sandbox, runner crashed) are retried while tries remain,
        and on the last try the report is stored with them pending for a person."""
        try:
            parsed = scoring.as_report(report)
        except Exception as exc:  # noqa: BLE001 - pydantic or type errors alike
            return None, f"grade_fn returned an invalid report: {str(exc)[:1000]}"
        infra = scoring.infra_errors(parsed)
        if infra and tries < max_tries:
            return None, f"{len(infra)} criteria hit infrastructure errors: {infra[0][:500]}"
        return parsed, None

    def _store(self, job_id: int, attempt_id: int, report: Report) -> tuple[str, int | None]:
        deadline = time.monotonic() + self.cfg.store_retry_s
        pause = 0.2
        while True:
            try:
                with transaction(self.factory) as s:
                    # Similarity is compared after this commits, in its own transaction.
                    integrity.defer_similarity(s, self.factory)
                    if not repo.release(s, job_id, self.owner, utcnow(), state=JobState.done,
                                        error=None, unexpired=True):
                        return "lost", None
                    return "done", service.store_graded(s, attempt_id, report)
            except DB_ERRORS as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("storing a report failed; retrying",
                            extra={"job_id": job_id, "error": str(exc)[:200]})
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    # 3b. give the job back, to be retried later or dead
    def _fail(self, job_id: int, tries: int, max_tries: int, error: str) -> str:
        now = utcnow()
        dead = tries >= max_tries
        delay = backoff(self.cfg, tries)
        with transaction(self.factory) as s:
            ok = repo.release(
                s, job_id, self.owner, now, state=JobState.dead if dead else JobState.queued,
                error=f"try {tries}/{max_tries}: {error}",
                not_before=None if dead else now + timedelta(seconds=delay),
            )
        if not ok:
            return "lost"
        log.log(logging.ERROR if dead else logging.WARNING, "grading job failed",
                extra={"job_id": job_id, "tries": tries, "dead": dead, "error": error[:300]})
        return "dead" if dead else "retry"

    def run_once(self) -> Outcome | None:
        t0 = time.perf_counter()
        claimed = self._claim()
        if claimed is None:
            return None
        job_id, attempt_id, snap, tries, max_tries = claimed
        t1 = time.perf_counter()
        beat = _Heartbeat(self.factory, job_id, self.owner, self.cfg)
        beat.start()
        try:
            raw, error = self._grade(snap)
        finally:
            beat.done.set()
        t2 = time.perf_counter()
        timings = {"claim_s": t1 - t0, "grade_s": t2 - t1}
        if beat.lost.is_set():
            return Outcome(job_id, "lost", "lease lost while grading", timings=timings)
        report: Report | None = None
        if error is None:
            report, error = self._check(raw, tries, max_tries)
        if report is not None:
            try:
                state, report_id = self._store(job_id, attempt_id, report)
            except DB_ERRORS as exc:
                error = f"storing the report failed: {str(exc)[:500]}"
            except Exception as exc:  # noqa: BLE001 - a malformed report is the grader's failure
                error = f"storing the report failed: {type(exc).__name__}: {str(exc)[:500]}"
            else:
                timings["store_s"] = time.perf_counter() - t2
                if state == "done":
                    log.info("attempt graded", extra={"job_id": job_id, "attempt_id": attempt_id,
                                                      "report_id": report_id})
                return Outcome(job_id, state, None if state == "done" else "lease lost",
                               report_id, timings)
        assert error is not None  # no report to store means the step said why
        try:
            state = self._fail(job_id, tries, max_tries, error)
        except DB_ERRORS:
            state = "lost"  # the lease expires and another try picks the job up
        return Outcome(job_id, state, error, timings=timings)

    def loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                outcome = self.run_once()
            except DB_ERRORS as exc:
                log.warning("grading worker: database error; pausing",
                            extra={"error": str(exc)[:200]})
                outcome = None
            except Exception:
                log.exception("grading worker: unexpected error; pausing")
                outcome = None
            if outcome is None:
                stop.wait(self.cfg.poll_s)


class WorkerPool:
    """N worker threads in this process (the embedded setup, or `burnin worker`)."""

    def __init__(self, factory: sessionmaker[Session], grade_fn: GradeFn, *, workers: int = 2,
                 cfg: WorkerConfig | None = None):
        self.cfg = cfg or WorkerConfig()
        self.grade_fn = grade_fn
        self.workers = [Worker(factory, grade_fn, self.cfg, i) for i in range(workers)]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> WorkerPool:
        for w in self.workers:
            t = threading.Thread(target=w.loop, args=(self._stop,), name=f"grader-{w.owner}",
                                 daemon=True)
            t.start()
            self._threads.append(t)
        log.info("grading workers started", extra={"workers": len(self.workers)})
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming; wait for jobs in hand. A job still running after `timeout` keeps
        its lease until it expires and is then picked up again: nothing is lost."""
        self._stop.set()
        end = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, end - time.monotonic()))
        self._threads.clear()

    def wait(self) -> None:
        for t in self._threads:
            while t.is_alive():
                t.join(0.5)
