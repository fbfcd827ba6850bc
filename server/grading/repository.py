"""All SQL of the grading domain: jobs (claim with a lease), reports (read and written as
typed StoredReports), manual grades.

Claiming is a guarded UPDATE (`... WHERE id = :id AND <still claimable>`), so two workers
racing for one job cannot both win on any backend; on PostgreSQL the candidate row is
picked with FOR UPDATE SKIP LOCKED so concurrent workers do not queue behind each other."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from graders.report import Report
from server.grading import scoring
from server.grading.schemas import Source, StoredReport
from server.models import (
    Answer,
    Assessment,
    Attempt,
    GradingJob,
    JobState,
    ManualGrade,
    ScoreReport,
)

LIVE_STATES = (JobState.queued, JobState.running)


def add(session: Session, row: GradingJob | ManualGrade) -> None:
    session.add(row)
    session.flush()


def attempt(session: Session, attempt_id: int) -> Attempt | None:
    return session.get(Attempt, attempt_id)


def live_job(session: Session, attempt_id: int) -> GradingJob | None:
    stmt = (
        select(GradingJob)
        .where(GradingJob.attempt_id == attempt_id, GradingJob.state.in_(LIVE_STATES))
        .order_by(GradingJob.id)
    )
    return session.scalars(stmt).first()


def lock_attempt(session: Session, attempt_id: int) -> None:
    """Serialize enqueues of one attempt: a row lock on PostgreSQL; on SQLite a no-op write
    takes the database write lock before the read (a plain SELECT would not start a
    transaction, and two submits could both see no job)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Attempt.id).where(Attempt.id == attempt_id).with_for_update())
    else:
        session.execute(update(Attempt).where(Attempt.id == attempt_id)
                        .values(id=Attempt.id).execution_options(synchronize_session=False))


def _claimable(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(GradingJob.state == JobState.queued, GradingJob.not_before <= now),
        and_(GradingJob.state == JobState.running, GradingJob.lease_expires_at < now),
    )


def bury_expired_last_tries(session: Session, now: datetime) -> int:
    """Jobs whose lease expired on their last try (worker killed or grading hung) go dead."""
    result = session.execute(
        update(GradingJob)
        .where(
            GradingJob.state == JobState.running,
            GradingJob.lease_expires_at < now,
            GradingJob.tries >= GradingJob.max_tries,
        )
        .values(
            state=JobState.dead,
            lease_owner=None,
            lease_expires_at=None,
            error=func.coalesce(GradingJob.error, "")
            + "lease expired on the last try (worker died or grading hung)",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim_one(session: Session, owner: str, now: datetime, lease_s: float) -> int | None:
    """Lease the oldest claimable job to `owner`; return its id, or None."""
    pick = select(GradingJob.id).where(_claimable(now)).order_by(GradingJob.not_before,
                                                                 GradingJob.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    job_id = session.scalars(pick).first()
    if job_id is None:
        return None
    result = session.execute(
        update(GradingJob)
        .where(GradingJob.id == job_id, _claimable(now))
        .values(
            state=JobState.running,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_s),
            tries=GradingJob.tries + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return job_id if result.rowcount == 1 else None  # type: ignore[attr-defined]


def _held(job_id: int, owner: str):  # type: ignore[no-untyped-def]
    return and_(GradingJob.id == job_id, GradingJob.state == JobState.running,
                GradingJob.lease_owner == owner)


def renew(session: Session, job_id: int, owner: str, now: datetime, lease_s: float) -> bool:
    result = session.execute(
        update(GradingJob)
        .where(_held(job_id, owner))
        .values(lease_expires_at=now + timedelta(seconds=lease_s), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def release(
    session: Session, job_id: int, owner: str, now: datetime, *, state: JobState,
    error: str | None, not_before: datetime | None = None, unexpired: bool = False,
) -> bool:
    """Give the job up (done, queued again, dead) if `owner` still holds it; with `unexpired`
    only while the lease has not run out. The UPDATE comes first in the storing transaction,
    so it takes the write lock (SQLite) or the row lock (PostgreSQL) before anything else."""
    guard = _held(job_id, owner)
    if unexpired:
        guard = and_(guard, GradingJob.lease_expires_at >= now)
    values: dict[str, object] = {"state": state, "lease_owner": None, "lease_expires_at": None,
                                 "error": error, "updated_at": now}
    if not_before is not None:
        values["not_before"] = not_before
    result = session.execute(
        update(GradingJob).where(guard).values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def list_jobs(session: Session, state: JobState | None = None, limit: int = 200
              ) -> Sequence[GradingJob]:
    stmt = select(GradingJob).order_by(GradingJob.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(GradingJob.state == state)
    return session.scalars(stmt).all()


def answers_of(session: Session, attempt_id: int) -> Sequence[Answer]:
    return session.scalars(
        select(Answer).where(Answer.attempt_id == attempt_id).order_by(Answer.scenario_id)
    ).all()


def assessment_with_entries(session: Session, assessment_id: int) -> Assessment | None:
    return session.scalars(
        select(Assessment).where(Assessment.id == assessment_id)
        .options(selectinload(Assessment.entries))
    ).first()


def current_report(session: Session, attempt_id: int) -> StoredReport | None:
    row = session.scalars(
        select(ScoreReport).where(ScoreReport.attempt_id == attempt_id,
                                  ScoreReport.is_current.is_(True))
    ).first()
    return None if row is None else scoring.stored(row)


def reports_of(session: Session, attempt_id: int) -> list[StoredReport]:
    return [scoring.stored(row) for row in session.scalars(
        select(ScoreReport).where(ScoreReport.attempt_id == attempt_id)
        .order_by(ScoreReport.revision)
    )]


def latest_automated(session: Session, attempt_id: int) -> StoredReport | None:
    """The newest report a grader produced (not a recomputation after a review)."""
    for report in reversed(reports_of(session, attempt_id)):
        if report.source == "grader":
            return report
    return None


def store_report(session: Session, attempt_id: int, report: Report, *,
                 source: Source) -> StoredReport:
    """Make `report` the only current one (revision + 1) in the caller's transaction."""
    last = session.scalar(
        select(func.max(ScoreReport.revision)).where(ScoreReport.attempt_id == attempt_id)
    )
    session.execute(
        update(ScoreReport)
        .where(ScoreReport.attempt_id == attempt_id, ScoreReport.is_current.is_(True))
        .values(is_current=False)
        .execution_options(synchronize_session=False)
    )
    row = ScoreReport(attempt_id=attempt_id, revision=(last or 0) + 1, is_current=True,
                      grader_version=report.grader_version[:40], score=report.score,
                      dimensions=dict(report.dimensions),
                      criteria=scoring.document(report, source))
    session.add(row)
    session.flush()
    return scoring.stored(row)


def manual_grades_of(session: Session, attempt_id: int) -> Sequence[ManualGrade]:
    return session.scalars(
        select(ManualGrade).where(ManualGrade.attempt_id == attempt_id).order_by(ManualGrade.id)
    ).all()


def cohort_scores(session: Session, assessment_id: int) -> list[float]:
    stmt = (
        select(ScoreReport.score)
        .join(Attempt, Attempt.id == ScoreReport.attempt_id)
        .where(Attempt.assessment_id == assessment_id, ScoreReport.is_current.is_(True),
               ScoreReport.score.is_not(None))
    )
    return [float(s) for s in session.scalars(stmt) if s is not None]


def current_reports_in_org(session: Session, org_id: int) -> list[tuple[Attempt, StoredReport]]:
    stmt = (
        select(Attempt, ScoreReport)
        .join(ScoreReport, ScoreReport.attempt_id == Attempt.id)
        .where(Attempt.org_id == org_id, ScoreReport.is_current.is_(True))
        .order_by(Attempt.id)
    )
    return [(a, scoring.stored(r)) for a, r in session.execute(stmt).all()]
