"""Grading jobs in one process: enqueue, claim, lease, retry, dead, store, re-grade."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from graders.report import GRADER_VERSION
from server.audit.service import Actor
from server.db import transaction
from server.grading import service
from server.grading.worker import Worker, WorkerConfig, WorkerPool
from server.models import Attempt, AttemptStatus, GradingJob, JobState, ScoreReport, utcnow
from tests.conftest import World
from tests.grading import fns
from tests.grading.factories import make_attempt

MakeWorker = Callable[..., Worker]


def _job(session: Session, job_id: int) -> GradingJob:
    session.expire_all()
    job = session.get(GradingJob, job_id)
    assert job is not None
    return job


def _current(session: Session, attempt_id: int) -> list[ScoreReport]:
    session.expire_all()
    return list(session.scalars(select(ScoreReport).where(
        ScoreReport.attempt_id == attempt_id, ScoreReport.is_current.is_(True))))


def _queued_attempt(session: Session, world: World, **kw: Any) -> tuple[Attempt, GradingJob]:
    attempt = make_attempt(session, org=world.org, **kw)
    job = service.enqueue_grading(session, attempt)
    session.commit()
    return attempt, job


def test_enqueue_is_idempotent_while_a_job_is_live(session: Session, world: World,
                                                   make_worker: MakeWorker) -> None:
    attempt, job = _queued_attempt(session, world)
    assert service.enqueue_grading(session, attempt).id == job.id
    session.commit()
    assert session.scalar(select(func.count()).select_from(GradingJob)) == 1
    make_worker().run_once()
    again = service.enqueue_grading(session, attempt)  # a re-grade after the first is done
    assert again.id != job.id and again.state == JobState.queued


def test_a_worker_grades_and_stores_one_current_report(session: Session, world: World,
                                                       make_worker: MakeWorker) -> None:
    attempt, job = _queued_attempt(session, world)
    outcome = make_worker().run_once()
    assert outcome is not None and outcome.state == "done", outcome
    assert _job(session, job.id).state == JobState.done
    [report] = _current(session, attempt.id)
    assert report.revision == 1 and report.grader_version == GRADER_VERSION
    assert report.score is not None and report.dimensions["hardware_awareness"] == 100.0
    assert session.get(Attempt, attempt.id).status == AttemptStatus.graded  # type: ignore[union-attr]
    assert make_worker().run_once() is None  # nothing left


def test_regrading_is_deterministic_and_keeps_exactly_one_current(
        session: Session, world: World, make_worker: MakeWorker) -> None:
    attempt, _ = _queued_attempt(session, world)
    make_worker().run_once()
    first = _current(session, attempt.id)[0]
    service.regrade(session, attempt, Actor("test"))
    session.commit()
    make_worker().run_once()
    [second] = _current(session, attempt.id)
    assert second.revision == 2
    assert (second.score, second.dimensions, second.criteria) == (
        first.score, first.dimensions, first.criteria)
    assert session.scalar(select(func.count()).select_from(ScoreReport)) == 2


def test_failures_retry_with_backoff_then_go_dead_with_the_error(
        session: Session, world: World, make_worker: MakeWorker) -> None:
    attempt = make_attempt(session, org=world.org)
    job = service.enqueue_grading(session, attempt, max_tries=3)
    session.commit()
    worker = make_worker(fns.failing, backoff_base_s=0.2, backoff_max_s=0.2)
    outcome = worker.run_once()
    assert outcome is not None and outcome.state == "retry"
    row = _job(session, job.id)
    assert row.state == JobState.queued and row.tries == 1
    assert "sandbox backend unreachable" in (row.error or "")
    assert worker.run_once() is None  # backing off: not claimable yet
    states = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(states) < 2:
        o = worker.run_once()
        if o is not None:
            states.append(o.state)
        time.sleep(0.05)
    assert states == ["retry", "dead"]
    row = _job(session, job.id)
    assert row.state == JobState.dead and row.tries == 3
    assert row.error is not None and "try 3/3" in row.error and "unreachable" in row.error
    assert _current(session, attempt.id) == []


def test_a_hanging_grade_times_out_retries_and_goes_dead(
        session: Session, world: World, make_worker: MakeWorker) -> None:
    attempt = make_attempt(session, org=world.org)
    job = service.enqueue_grading(session, attempt, max_tries=2)
    session.commit()
    release = threading.Event()

    def hang(_: dict[str, Any]) -> dict[str, Any]:
        release.wait(30)
        raise RuntimeError("released")

    worker = make_worker(hang, job_timeout_s=0.3)
    try:
        assert worker.run_once().state == "retry"  # type: ignore[union-attr]
        time.sleep(0.1)
        assert worker.run_once().state == "dead"  # type: ignore[union-attr]
    finally:
        release.set()
    row = _job(session, job.id)
    assert row.state == JobState.dead and "timed out after 0.3s" in (row.error or "")


def test_a_worker_that_lost_its_lease_stores_nothing(
        session: Session, world: World, make_worker: MakeWorker) -> None:
    attempt, job = _queued_attempt(session, world)
    go = threading.Event()

    def slow(snapshot: dict[str, Any]) -> dict[str, Any]:
        go.wait(20)
        return fns.fixed(snapshot)

    # A: short lease and a heartbeat too slow to keep it (as if the process were frozen).
    a = make_worker(slow, lease_s=0.3, heartbeat_s=60)
    outcomes: list[Any] = []
    t = threading.Thread(target=lambda: outcomes.append(a.run_once()))
    t.start()
    time.sleep(0.6)  # A's lease expires
    b = make_worker()
    ob = b.run_once()
    assert ob is not None and ob.state == "done" and ob.job_id == job.id
    go.set()
    t.join(20)
    assert outcomes[0].state == "lost"
    [report] = _current(session, attempt.id)
    assert report.revision == 1
    assert _job(session, job.id).tries == 2


def test_the_heartbeat_keeps_a_long_job_leased(
        session: Session, world: World, make_worker: MakeWorker) -> None:
    attempt, _ = _queued_attempt(session, world)

    def slow(snapshot: dict[str, Any]) -> dict[str, Any]:
        time.sleep(1.2)
        return fns.fixed(snapshot)

    a = make_worker(slow, lease_s=0.4, heartbeat_s=0.1)
    outcomes: list[Any] = []
    t = threading.Thread(target=lambda: outcomes.append(a.run_once()))
    t.start()
    time.sleep(0.7)
    assert make_worker().run_once() is None  # the lease is still A's
    t.join(10)
    assert outcomes[0].state == "done"
    assert len(_current(session, attempt.id)) == 1


def test_concurrent_workers_grade_each_attempt_exactly_once(
        session: Session, world: World, factory: sessionmaker[Session]) -> None:
    attempts = [make_attempt(session, org=world.org) for _ in range(12)]
    for a in attempts:
        service.enqueue_grading(session, a)
    session.commit()
    calls: Counter[int] = Counter()
    lock = threading.Lock()

    def counting(snapshot: dict[str, Any]) -> dict[str, Any]:
        with lock:
            calls[snapshot["attempt_id"]] += 1
        time.sleep(0.02)
        return fns.fixed(snapshot)

    pool = WorkerPool(factory, counting, workers=4,
                      cfg=WorkerConfig(lease_s=10, poll_s=0.05, backoff_base_s=0.05))
    pool.start()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            with transaction(factory) as s:
                left = s.scalar(select(func.count()).select_from(GradingJob).where(
                    GradingJob.state != JobState.done))
            if left == 0:
                break
            time.sleep(0.1)
    finally:
        pool.stop()
    assert left == 0
    assert calls == Counter({a.id: 1 for a in attempts})
    for a in attempts:
        assert len(_current(session, a.id)) == 1


def test_a_job_whose_attempt_vanished_goes_dead(
        session: Session, world: World, make_worker: MakeWorker) -> None:
    attempt, _ = _queued_attempt(session, world)
    # Cascades delete the job with the attempt on both backends, so nothing is left to do.
    session.delete(session.get(Attempt, attempt.id))
    session.commit()
    assert make_worker().run_once() is None


def test_a_lease_that_expires_on_the_last_try_makes_the_job_dead(
        session: Session, world: World, make_worker: MakeWorker) -> None:
    attempt, job = _queued_attempt(session, world)
    row = _job(session, job.id)
    # As a worker killed during its last try leaves it.
    row.state, row.tries, row.max_tries = JobState.running, 3, 3
    row.lease_owner = "gone:1:0:x"
    row.lease_expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert make_worker().run_once() is None
    row = _job(session, job.id)
    assert row.state == JobState.dead and row.lease_owner is None
    assert "lease expired on the last try" in (row.error or "")
    assert _current(session, attempt.id) == []


def test_concurrent_enqueues_of_one_attempt_make_one_job(
        session: Session, world: World, factory: sessionmaker[Session]) -> None:
    attempt = make_attempt(session, org=world.org)
    session.commit()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait(5)
            with transaction(factory) as s:
                a = s.get(Attempt, attempt.id)
                assert a is not None
                service.enqueue_grading(s, a)
        except Exception as exc:  # noqa: BLE001 - SQLite: a losing writer fails, never doubles
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    session.expire_all()
    jobs = session.scalars(select(GradingJob).where(GradingJob.attempt_id == attempt.id)).all()
    assert len(jobs) == 1
    assert len(errors) < 4
