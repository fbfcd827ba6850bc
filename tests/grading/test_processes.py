"""Grading jobs with real processes: `burnin worker` killed with SIGKILL mid-job, a grade that
hangs, a database that is briefly locked, and `burnin jobs list|retry` as an operator runs
them. Nothing lost, nothing doubled."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from server.grading import service
from server.grading.worker import Worker
from server.models import GradingJob, JobState, ScoreReport
from tests.conftest import World
from tests.grading import fns
from tests.grading.factories import make_attempt

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "BURNIN_DATA_DIR": str(tmp_path / "data"),
            "BURNIN_DATABASE_URL": db_url, "BURNIN_LOG_JSON": "false",
            "BURNIN_TEST_MARKER": str(tmp_path / "marker"), "PYTHONPATH": str(ROOT)}


@pytest.fixture
def spawn(env: dict[str, str]) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(grade_fn: str, *args: str) -> subprocess.Popen[str]:
        p = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "worker", "--workers", "1",
             "--grade-fn", f"tests.grading.fns:{grade_fn}", "--poll-s", "0.1", *args],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=10)


def burnin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _job(session: Session, job_id: int) -> GradingJob:
    session.expire_all()
    job = session.get(GradingJob, job_id)
    assert job is not None
    return job


def _reports(session: Session, attempt_id: int) -> list[ScoreReport]:
    session.expire_all()
    return list(session.scalars(select(ScoreReport).where(ScoreReport.attempt_id == attempt_id)))


@pytest.mark.slow
def test_a_worker_killed_mid_job_loses_nothing(
    session: Session, world: World, spawn: Callable[..., subprocess.Popen[str]], tmp_path: Path,
) -> None:
    attempt = make_attempt(session, org=world.org)
    job = service.enqueue_grading(session, attempt)
    session.commit()
    first = spawn("blocking", "--lease-s", "1")
    wait_for(lambda: any(tmp_path.glob("marker.blocking.*")), 30, "the first worker to start")
    assert _job(session, job.id).state == JobState.running
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    assert _job(session, job.id).state == JobState.running  # the lease still names the dead one
    spawn("fixed", "--lease-s", "1")
    wait_for(lambda: _job(session, job.id).state == JobState.done, 30, "the second worker")
    row = _job(session, job.id)
    assert row.tries == 2 and row.error is None
    reports = _reports(session, attempt.id)
    assert [(r.revision, r.is_current) for r in reports] == [(1, True)]


@pytest.mark.slow
def test_a_hanging_grade_goes_dead_and_an_operator_retries_it(
    session: Session, world: World, spawn: Callable[..., subprocess.Popen[str]],
    env: dict[str, str],
) -> None:
    attempt = make_attempt(session, org=world.org)
    job = service.enqueue_grading(session, attempt, max_tries=2)
    session.commit()
    worker = spawn("hanging", "--lease-s", "2", "--job-timeout-s", "0.5", "--backoff-s", "0.1")
    wait_for(lambda: _job(session, job.id).state == JobState.dead, 30, "the job to go dead")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(20) == 0  # stops even with a hung grading thread in it
    row = _job(session, job.id)
    assert row.tries == 2 and "timed out after 0.5s" in (row.error or "")
    assert _reports(session, attempt.id) == []

    listed = burnin(env, "jobs", "list", "--state", "dead", "--json")
    assert listed.returncode == 0, listed.stderr
    [dead] = json.loads(listed.stdout)
    assert dead["id"] == job.id and "timed out" in dead["error"]
    text_out = burnin(env, "jobs", "list").stdout
    assert f"attempt {attempt.id}" in text_out and "dead" in text_out

    assert burnin(env, "jobs", "retry", "--all-dead").returncode == 0
    row = _job(session, job.id)
    assert row.state == JobState.queued and row.tries == 0
    spawn("fixed")
    wait_for(lambda: _job(session, job.id).state == JobState.done, 30, "the retried job")
    assert [r.is_current for r in _reports(session, attempt.id)] == [True]
    again = burnin(env, "jobs", "retry", str(job.id))
    assert again.returncode == 1 and "only dead jobs" in again.stderr
    assert burnin(env, "jobs", "retry", "999999").returncode == 1
    assert burnin(env, "jobs", "retry").returncode == 2


def _hold_lock(db_url: str, seconds: float, locked: threading.Event) -> None:
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.split("///", 1)[1], isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        conn.close()
        return
    engine = create_engine(db_url)
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE grading_jobs, score_reports IN ACCESS EXCLUSIVE MODE"))
        locked.set()
        time.sleep(seconds)
        conn.rollback()
    engine.dispose()


@pytest.mark.slow
def test_a_briefly_locked_database_neither_loses_nor_doubles_a_report(
    session: Session, world: World, make_worker: Callable[..., Worker], db_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempt = make_attempt(session, org=world.org)
    job = service.enqueue_grading(session, attempt)
    session.commit()
    locked, graded = threading.Event(), threading.Event()

    def grade_then_meet_a_lock(snapshot: dict[str, Any]) -> dict[str, Any]:
        graded.set()
        assert locked.wait(10)
        return fns.fixed(snapshot)

    # Longer than SQLite's 5 s busy timeout, so the worker's own retry has to carry it.
    holder = threading.Thread(target=lambda: (graded.wait(10), _hold_lock(db_url, 6.5, locked)))
    holder.start()
    outcome = make_worker(grade_then_meet_a_lock, lease_s=30, store_retry_s=30).run_once()
    holder.join(20)
    assert outcome is not None and outcome.state == "done", outcome
    assert _job(session, job.id).state == JobState.done
    assert [(r.revision, r.is_current) for r in _reports(session, attempt.id)] == [(1, True)]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ScoreReport)) == 1
    if db_url.startswith("sqlite"):  # PostgreSQL waits on the lock; SQLite gives up at 5 s
        assert any("retrying" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_workers_keep_polling_through_a_locked_database(
    session: Session, world: World, spawn: Callable[..., subprocess.Popen[str]], db_url: str,
) -> None:
    locked = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(db_url, 6.5, locked))
    holder.start()
    assert locked.wait(10)
    worker = spawn("fixed")
    time.sleep(1)
    holder.join(20)
    assert worker.poll() is None  # still running after the lock
    attempt = make_attempt(session, org=world.org)
    job = service.enqueue_grading(session, attempt)
    session.commit()
    wait_for(lambda: _job(session, job.id).state == JobState.done, 30, "grading after the lock")
    assert len(_reports(session, attempt.id)) == 1
