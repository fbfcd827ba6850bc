"""Grading API: reports, the review queue, manual grades and overrides."""

from __future__ import annotations

from fastapi import APIRouter

from server.deps import CurrentStaff, ObjectId, ReviewerStaff, SessionDep
from server.grading import service
from server.grading.schemas import (
    ManualGradeCreate,
    ManualResult,
    OverrideCreate,
    ReportView,
    ReviewItem,
)
from server.models import Role

router = APIRouter(prefix="/api/v1", tags=["grading"])


@router.get("/attempts/{attempt_id}/report", response_model=ReportView,
            response_model_exclude_none=False)
def get_report(attempt_id: ObjectId, staff: CurrentStaff, session: SessionDep) -> ReportView:
    """The attempt's current report. Admins and hiring managers see everything; recruiters
    the overall score only."""
    full = staff.user.role in (Role.admin, Role.hiring_manager)
    return service.report_view(session, staff.org_id, attempt_id, full=full)


@router.get("/review-queue", response_model=list[ReviewItem])
def review_queue(staff: ReviewerStaff, session: SessionDep) -> list[ReviewItem]:
    """Criteria across the organization's attempts that wait for a person."""
    return service.review_queue(session, staff.org_id)


@router.post("/attempts/{attempt_id}/manual-grades", response_model=ManualResult,
             status_code=201)
def grade_criterion(attempt_id: ObjectId, body: ManualGradeCreate, staff: ReviewerStaff,
                    session: SessionDep) -> ManualResult:
    """Grade a criterion by level with a comment; the report is recomputed and audited."""
    return service.add_manual(session, staff.actor, staff.org_id, attempt_id, kind="grade",
                              scenario_id=body.scenario_id, criterion_id=body.criterion_id,
                              points=body.points, level=body.level, comment=body.comment)


@router.post("/attempts/{attempt_id}/overrides", response_model=ManualResult, status_code=201)
def override_criterion(attempt_id: ObjectId, body: OverrideCreate, staff: ReviewerStaff,
                       session: SessionDep) -> ManualResult:
    """Override an automated criterion with a reason; the automated result stays visible."""
    return service.add_manual(session, staff.actor, staff.org_id, attempt_id, kind="override",
                              scenario_id=body.scenario_id, criterion_id=body.criterion_id,
                              points=body.points, reason=body.reason)
