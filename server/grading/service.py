"""Grading business logic: enqueue jobs, snapshot attempts, store reports, human review.

Services take the session first and never commit; the caller's transaction does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from graders.report import CriterionResult, Report
from server.audit.service import Actor, record
from server.grading import repository as repo
from server.grading import scoring
from server.grading.errors import (
    AttemptNotFound,
    BadGrade,
    CriterionNotFound,
    JobNotRetryable,
    NotGraded,
)
from server.grading.schemas import (
    CriterionView,
    GradingState,
    ManualResult,
    ReportView,
    ReviewItem,
    StoredReport,
)
from server.integrity import service as integrity
from server.kit.scoping import get_in_org
from server.models import Attempt, AttemptStatus, GradingJob, JobState, ManualGrade, utcnow

DEFAULT_MAX_TRIES = 5


def enqueue_grading(session: Session, attempt: Attempt, *, max_tries: int = DEFAULT_MAX_TRIES
                    ) -> GradingJob:
    """Queue grading of an attempt in the caller's transaction. Idempotent: while a job for
    the attempt is queued or running, that job is returned and no second one is made."""
    repo.lock_attempt(session, attempt.id)  # two submits of one attempt queue one job
    existing = repo.live_job(session, attempt.id)
    if existing is not None:
        return existing
    job = GradingJob(attempt_id=attempt.id, state=JobState.queued, tries=0,
                     max_tries=max_tries, not_before=utcnow())
    repo.add(session, job)
    return job


def regrade(session: Session, attempt: Attempt, actor: Actor) -> GradingJob:
    job = enqueue_grading(session, attempt)
    record(session, actor, "grading.regrade", "attempt", attempt.id, org_id=attempt.org_id,
           data={"job_id": job.id})
    return job


# --- what a worker needs -----------------------------------------------------------------

def attempt_snapshot(session: Session, attempt_id: int) -> dict[str, Any]:
    """Everything grading needs, as plain data, so no session stays open while it runs."""
    attempt = repo.attempt(session, attempt_id)
    if attempt is None:
        raise AttemptNotFound(f"attempt {attempt_id} not found")
    assessment = repo.assessment_with_entries(session, attempt.assessment_id)
    entries = [] if assessment is None else [
        {"scenario_id": e.scenario_id, "scenario_version": e.scenario_version,
         "weight": e.weight, "position": e.position} for e in assessment.entries
    ]
    answers = {a.scenario_id: {"version": a.version, "content": a.content}
               for a in repo.answers_of(session, attempt_id)}
    return {
        "attempt_id": attempt.id,
        "org_id": attempt.org_id,
        "assessment_id": attempt.assessment_id,
        "seeds": dict(attempt.seeds),
        "scenarios": entries,
        "answers": answers,
        "submitted_at": attempt.submitted_at.isoformat() if attempt.submitted_at else None,
    }


def store_graded(session: Session, attempt_id: int, automated: Report) -> int:
    """Store a grader's report as the attempt's current one; when people already graded
    criteria, store the recomputed report on top (so a re-grade keeps their grades). Marks
    the attempt graded and refreshes similarity flags. Returns the current report's id.
    Runs inside the worker's lease-guarded transaction."""
    stored = repo.store_report(session, attempt_id, automated, source="grader")
    grades = list(repo.manual_grades_of(session, attempt_id))
    if grades:
        reviewed = scoring.apply_manual(stored.report, grades)
        stored = repo.store_report(session, attempt_id, reviewed, source="review")
    attempt = repo.attempt(session, attempt_id)
    if attempt is not None:
        attempt.status = AttemptStatus.graded
        integrity.refresh_similarity(session, attempt)
    session.flush()
    return stored.id


# --- reports for staff -------------------------------------------------------------------

def _percentile(scores: list[float], score: float | None) -> float | None:
    if score is None or not scores:
        return None
    below = sum(1 for s in scores if s < score)
    equal = sum(1 for s in scores if s == score)
    return round(100.0 * (below + 0.5 * equal) / len(scores), 1)


def _automated_score(session: Session, report: StoredReport) -> float | None:
    if report.source == "grader":
        return report.score
    auto = repo.latest_automated(session, report.attempt_id)
    return None if auto is None else auto.score


def cohort_scores(session: Session, assessment_id: int) -> list[float]:
    """Current scores of every graded attempt of the assessment (for percentiles)."""
    return list(repo.cohort_scores(session, assessment_id))


def report_view(session: Session, org_id: int, attempt_id: int, *, full: bool) -> ReportView:
    """The attempt's current report; `full` for reviewers, overall score only otherwise."""
    attempt = get_in_org(session, Attempt, attempt_id, org_id, label="attempt")
    job = repo.live_job(session, attempt.id)
    stored = repo.current_report(session, attempt.id)
    view = ReportView(
        attempt_id=attempt.id, assessment_id=attempt.assessment_id,
        status=attempt.status.value, graded=stored is not None,
        grading=None if job is None else GradingState(job_id=job.id, state=job.state.value,
                                                      tries=job.tries))
    if stored is None:
        return view
    state = stored.review_state
    view.score, view.revision, view.graded_at = stored.score, stored.revision, stored.created_at
    view.review_state = state
    if not full:
        return view
    report = stored.report
    if state == "needs_review":
        view.score_min, view.score_max = report.score_min, report.score_max
    criteria = [CriterionView.of(c) for c in report.criteria]
    view.grader_version = report.grader_version
    view.dimensions = dict(report.dimensions)
    view.percentile = _percentile(repo.cohort_scores(session, attempt.assessment_id),
                                  report.score)
    view.automated_score = _automated_score(session, stored)
    view.criteria = criteria
    view.pending_review = [c for c in criteria if c.waiting]
    view.integrity = integrity.summary(session, attempt.id)
    return view


def review_queue(session: Session, org_id: int) -> list[ReviewItem]:
    return [ReviewItem(**dict(CriterionView.of(c)), attempt_id=attempt.id,
                       assessment_id=attempt.assessment_id, report_revision=stored.revision)
            for attempt, stored in repo.current_reports_in_org(session, org_id)
            for c in stored.pending]


def _criterion(report: Report, scenario_id: str, criterion_id: str) -> CriterionResult:
    for c in report.criteria:
        if (c.scenario_id, c.criterion_id) == (scenario_id, criterion_id):
            return c
    raise CriterionNotFound(f"criterion {scenario_id}/{criterion_id} is not in this report")


def add_manual(
    session: Session, actor: Actor, org_id: int, attempt_id: int, *, kind: str,
    scenario_id: str, criterion_id: str, points: float | None, level: str | None = None,
    comment: str = "", reason: str = "",
) -> ManualResult:
    """Record a person's grade (kind "grade") or override (kind "override") and store the
    recomputed report as a new revision. The grader's own result stays visible: in the
    criterion's automated_points/automated_scorer and in the automated revision."""
    attempt = get_in_org(session, Attempt, attempt_id, org_id, label="attempt")
    current = repo.current_report(session, attempt.id)
    if current is None:
        raise NotGraded("this attempt has no report yet; wait for grading to finish")
    automated = (repo.latest_automated(session, attempt.id) or current).report
    item = _criterion(automated, scenario_id, criterion_id)
    if kind == "override" and not reason.strip():
        raise BadGrade("an override needs a reason")
    grade = ManualGrade(attempt_id=attempt.id, scenario_id=scenario_id,
                        criterion_id=criterion_id, kind=kind, points=points, level=level,
                        comment=comment, reason=reason, grader_id=actor.user_id)
    try:
        reviewed = scoring.apply_manual(
            automated, [*repo.manual_grades_of(session, attempt.id), grade])
    except scoring.GradeError as exc:
        raise BadGrade(str(exc)) from exc
    if points is None:  # a level: graders.engine gave it its points
        points = _criterion(reviewed, scenario_id, criterion_id).points
        grade.points = points
    repo.add(session, grade)
    stored = repo.store_report(session, attempt.id, reviewed, source="review")
    record(session, actor, f"grading.{kind}", "attempt", attempt.id, org_id=attempt.org_id,
           data={"scenario_id": scenario_id, "criterion_id": criterion_id, "points": points,
                 "automated_points": item.points, "automated_scorer": item.scorer,
                 "level": level, "comment": comment, "reason": reason,
                 "report_revision": stored.revision, "manual_grade_id": grade.id})
    return ManualResult(manual_grade_id=grade.id, report_revision=stored.revision,
                        score=reviewed.score, dimensions=dict(reviewed.dimensions))


# --- jobs for operators ------------------------------------------------------------------

def job_row(job: GradingJob) -> dict[str, Any]:
    def iso(t: datetime | None) -> str | None:
        return t.isoformat() if t else None

    return {"id": job.id, "attempt_id": job.attempt_id, "state": job.state.value,
            "tries": job.tries, "max_tries": job.max_tries, "not_before": iso(job.not_before),
            "lease_owner": job.lease_owner, "lease_expires_at": iso(job.lease_expires_at),
            "error": job.error, "created_at": iso(job.created_at),
            "updated_at": iso(job.updated_at)}


def list_jobs(session: Session, state: JobState | None = None,
              limit: int = 200) -> list[GradingJob]:
    """Grading jobs, newest first (of one state if given)."""
    return list(repo.list_jobs(session, state, limit))


def retry_job(session: Session, job: GradingJob, actor: Actor) -> GradingJob:
    if job.state != JobState.dead:
        raise JobNotRetryable(f"job {job.id} is {job.state.value}; only dead jobs are retried")
    if repo.live_job(session, job.attempt_id) is not None:
        raise JobNotRetryable(f"attempt {job.attempt_id} already has a live grading job")
    job.state = JobState.queued
    job.tries = 0
    job.not_before = utcnow()
    job.lease_owner = None
    job.lease_expires_at = None
    attempt = repo.attempt(session, job.attempt_id)
    record(session, actor, "grading.job_retry", "grading_job", job.id,
           org_id=attempt.org_id if attempt else None, data={"last_error": job.error})
    session.flush()
    return job
