"""Assessments (the recruiter's API); their invites are in server/invites/router.py."""

from __future__ import annotations

from fastapi import APIRouter

from server.assessments import service
from server.assessments.schemas import (
    Assessment,
    AssessmentCreate,
    AssessmentFromTemplate,
    AssessmentUpdate,
)
from server.deps import BankDep, CurrentStaff, ObjectId, RecruiterStaff, SessionDep
from server.models import Assessment as AssessmentRow

router = APIRouter(prefix="/api/v1", tags=["assessments"])


@router.get("/assessments", response_model=list[Assessment])
def list_assessments(staff: CurrentStaff, session: SessionDep,
                     include_archived: bool = False) -> list[AssessmentRow]:
    return service.list_assessments(session, staff.org_id, include_archived=include_archived)


@router.post("/assessments", response_model=Assessment, status_code=201)
def create_assessment(body: AssessmentCreate, staff: RecruiterStaff, session: SessionDep,
                      bank: BankDep) -> AssessmentRow:
    return service.create(session, org_id=staff.org_id, data=body, bank=bank, actor=staff.actor)


@router.post("/assessments/from-template", response_model=Assessment, status_code=201)
def create_from_template(body: AssessmentFromTemplate, staff: RecruiterStaff,
                         session: SessionDep, bank: BankDep) -> AssessmentRow:
    """Create a role template's assessment (GET /api/v1/templates) in one call."""
    return service.create_from_template(session, org_id=staff.org_id, data=body, bank=bank,
                                        actor=staff.actor)


@router.get("/assessments/{assessment_id}", response_model=Assessment)
def get_assessment(assessment_id: ObjectId, staff: CurrentStaff,
                   session: SessionDep) -> AssessmentRow:
    return service.get(session, staff.org_id, assessment_id)


@router.patch("/assessments/{assessment_id}", response_model=Assessment)
def update_assessment(assessment_id: ObjectId, body: AssessmentUpdate, staff: RecruiterStaff,
                      session: SessionDep, bank: BankDep) -> AssessmentRow:
    return service.update(session, org_id=staff.org_id, assessment_id=assessment_id, data=body,
                          bank=bank, actor=staff.actor)
