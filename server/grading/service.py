"""Grading business logic: enqueue jobs, snapshot attempts, store reports, human review.

Services take the session first and never commit; the caller's transaction does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.audit.service import Actor, record
from server.errors import AppError, Conflict, NotFound
from server.grading import repository as repo
from server.grading import scoring
from server.kit.scoping import get_in_org
from server.models import Attempt, AttemptStatus, GradingJob, JobState, ManualGrade, utcnow

DEFAULT_MAX_TRIES = 5


class NotGraded(AppError):
    status_code = 409
    error = "not_graded"


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
        raise NotFound(f"attempt {attempt_id} not found")
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


def store_graded(session: Session, attempt_id: int, report: Any) -> int:
    """Store a grader's report as the attempt's current one; when people already graded
    criteria, store the recomputed report on top (so a re-grade keeps their grades). Marks
    the attempt graded and refreshes similarity flags. Returns the current report's id.
    Runs inside the worker's lease-guarded transaction. The report's scenario summaries
    carry the assessment's weights."""
    automated = scoring.as_report(report)
    stored = repo.store_report(session, attempt_id, grader_version=automated.grader_version[:40],
                               score=automated.score, dimensions=dict(automated.dimensions),
                               criteria=scoring.document(automated, "grader"))
    grades = list(repo.manual_grades_of(session, attempt_id))
    if grades:
        reviewed = scoring.apply_manual(automated, grades)
        stored = repo.store_report(session, attempt_id, grader_version=stored.grader_version,
                                   score=reviewed.score, dimensions=dict(reviewed.dimensions),
                                   criteria=scoring.document(reviewed, "review"))
    attempt = repo.attempt(session, attempt_id)
    if attempt is not None:
        attempt.status = AttemptStatus.graded
        from server.integrity import service as integrity

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


def _automated_score(session: Session, attempt_id: int, report: Any) -> float | None:
    if report.criteria.get("source") == "grader":
        return report.score  # type: ignore[no-any-return]
    auto = repo.latest_automated(session, attempt_id)
    return None if auto is None else auto.score


def cohort_scores(session: Session, assessment_id: int) -> list[float]:
    """Current scores of every graded attempt of the assessment (for percentiles)."""
    return list(repo.cohort_scores(session, assessment_id))


def report_view(session: Session, org_id: int, attempt_id: int, *, full: bool) -> dict[str, Any]:
    """The attempt's current report; `full` for reviewers, overall score only otherwise."""
    attempt = get_in_org(session, Attempt, attempt_id, org_id, label="attempt")
    job = repo.live_job(session, attempt.id)
    report = repo.current_report(session, attempt.id)
    base: dict[str, Any] = {
        "attempt_id": attempt.id, "assessment_id": attempt.assessment_id,
        "status": attempt.status.value,
        "grading": None if job is None else {"job_id": job.id, "state": job.state.value,
                                              "tries": job.tries},
    }
    if report is None:
        return {**base, "graded": False, "score": None}
    state, lo, hi = scoring.review_state(report.criteria)
    if state == "final" and scoring.pending(report.criteria.get("items", [])):
        state = "needs_review"
    base.update(graded=True, score=report.score, revision=report.revision,
                graded_at=report.created_at, review_state=state)
    if not full:
        return base
    base.update(score_min=lo if state == "needs_review" else None,
                score_max=hi if state == "needs_review" else None)
    items = [scoring.for_display(i) for i in report.criteria.get("items", [])]
    from server.integrity import service as integrity

    return {
        **base,
        "grader_version": report.grader_version,
        "dimensions": report.dimensions,
        "percentile": _percentile(repo.cohort_scores(session, attempt.assessment_id),
                                  report.score),
        "automated_score": _automated_score(session, attempt.id, report),
        "criteria": items,
        "pending_review": scoring.pending(items),
        "integrity": integrity.summary(session, attempt.id),
    }


def review_queue(session: Session, org_id: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for attempt, report in repo.current_reports_in_org(session, org_id):
        for item in map(scoring.for_display, scoring.pending(report.criteria.get("items", []))):
            out.append({"attempt_id": attempt.id, "assessment_id": attempt.assessment_id,
                        "report_revision": report.revision, **item})
    return out


def _criterion(items: list[dict[str, Any]], scenario_id: str, criterion_id: str
               ) -> dict[str, Any]:
    for item in items:
        if item.get("scenario_id") == scenario_id and item.get("criterion_id") == criterion_id:
            return item
    raise NotFound(f"criterion {scenario_id}/{criterion_id} is not in this report")


def add_manual(
    session: Session, actor: Actor, org_id: int, attempt_id: int, *, kind: str,
    scenario_id: str, criterion_id: str, points: float | None, level: str | None = None,
    comment: str = "", reason: str = "",
) -> dict[str, Any]:
    """Record a person's grade (kind "grade") or override (kind "override") and store the
    recomputed report as a new revision. The grader's own result stays visible: in the
    criterion's automated_points/automated_scorer and in the automated revision."""
    attempt = get_in_org(session, Attempt, attempt_id, org_id, label="attempt")
    current = repo.current_report(session, attempt.id)
    if current is None:
        raise NotGraded("this attempt has no report yet; wait for grading to finish")
    row = repo.latest_automated(session, attempt.id) or current
    item = _criterion(row.criteria.get("items", []), scenario_id, criterion_id)
    if kind == "override" and not reason.strip():
        raise AppError("an override needs a reason", error="bad_grade")
    grade = ManualGrade(attempt_id=attempt.id, scenario_id=scenario_id,
                        criterion_id=criterion_id, kind=kind, points=points, level=level,
                        comment=comment, reason=reason, grader_id=actor.user_id)
    automated = scoring.from_stored(row.score, row.dimensions, row.grader_version, row.criteria)
    try:
        reviewed = scoring.apply_manual(
            automated, [*repo.manual_grades_of(session, attempt.id), grade])
    except scoring.GradeError as exc:
        raise AppError(str(exc), error="bad_grade") from exc
    if points is None:  # a level: graders.engine gave it its points
        points = next(c.points for c in reviewed.criteria
                      if (c.scenario_id, c.criterion_id) == (scenario_id, criterion_id))
        grade.points = points
    repo.add(session, grade)
    report = repo.store_report(session, attempt.id, grader_version=row.grader_version,
                               score=reviewed.score, dimensions=dict(reviewed.dimensions),
                               criteria=scoring.document(reviewed, "review"))
    record(session, actor, f"grading.{kind}", "attempt", attempt.id, org_id=attempt.org_id,
           data={"scenario_id": scenario_id, "criterion_id": criterion_id, "points": points,
                 "automated_points": item.get("points"),
                 "automated_scorer": item.get("scorer"), "level": level, "comment": comment,
                 "reason": reason, "report_revision": report.revision,
                 "manual_grade_id": grade.id})
    return {"manual_grade_id": grade.id, "report_revision": report.revision,
            "score": reviewed.score, "dimensions": dict(reviewed.dimensions)}


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
        raise Conflict(f"job {job.id} is {job.state.value}; only dead jobs are retried")
    if repo.live_job(session, job.attempt_id) is not None:
        raise Conflict(f"attempt {job.attempt_id} already has a live grading job")
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
