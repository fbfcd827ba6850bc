"""Invites of an assessment (the recruiter's API): one, a CSV of many, the pipeline,
resend, extend, revoke."""

from __future__ import annotations

from fastapi import APIRouter, File, Query, UploadFile

from server.deps import CurrentStaff, ObjectId, RecruiterStaff, SessionDep, SettingsDep
from server.invites import service as invites
from server.invites.errors import CsvTooLarge
from server.invites.schemas import (
    CsvImportResult,
    Invite,
    InviteCreate,
    InviteCreated,
    InviteExtend,
)

router = APIRouter(prefix="/api/v1", tags=["assessments"])
MAX_CSV_BYTES = 256 * 1024


@router.post("/assessments/{assessment_id}/invites", response_model=InviteCreated,
             status_code=201, tags=["invites"])
def invite(assessment_id: ObjectId, body: InviteCreate, staff: RecruiterStaff,
           session: SessionDep, settings: SettingsDep) -> InviteCreated:
    row, url = invites.create(session, org_id=staff.org_id, assessment_id=assessment_id,
                              email_addr=str(body.email), name=body.name,
                              days=body.expires_in_days or settings.invite_days,
                              base_url=settings.base_url, secret_key=settings.secret_key,
                              actor=staff.actor)
    return InviteCreated(invite=invites.describe(session, row), url=url)


@router.post("/assessments/{assessment_id}/invites/csv", response_model=CsvImportResult,
             status_code=201, tags=["invites"])
async def invite_csv(assessment_id: ObjectId, staff: RecruiterStaff, session: SessionDep,
                     settings: SettingsDep, file: UploadFile = File(...),
                     expires_in_days: int | None = Query(None, ge=1, le=365)) -> CsvImportResult:
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise CsvTooLarge(f"CSV over {MAX_CSV_BYTES // 1024} KiB")
    made = invites.import_csv(session, org_id=staff.org_id, assessment_id=assessment_id, data=data,
                              days=expires_in_days or settings.invite_days,
                              base_url=settings.base_url, secret_key=settings.secret_key,
                              actor=staff.actor)
    return CsvImportResult(created=[InviteCreated(invite=invites.describe(session, r), url=u)
                                    for r, u in made])


@router.get("/invites", response_model=list[Invite], tags=["invites"])
def pipeline(staff: CurrentStaff, session: SessionDep,
             assessment_id: int | None = Query(None, ge=1, le=2**31 - 1),
             status: str | None = Query(None, pattern="^(invited|opened|started|submitted|graded|"
                                                       "expired|revoked)$")) -> list[Invite]:
    return invites.pipeline(session, staff.org_id, assessment_id=assessment_id, status=status)


@router.post("/invites/{invite_id}/resend", response_model=InviteCreated, tags=["invites"])
def resend(invite_id: ObjectId, staff: RecruiterStaff, session: SessionDep,
           settings: SettingsDep) -> InviteCreated:
    row, url = invites.resend(session, org_id=staff.org_id, invite_id=invite_id,
                              base_url=settings.base_url, secret_key=settings.secret_key,
                              actor=staff.actor)
    return InviteCreated(invite=invites.describe(session, row), url=url)


@router.post("/invites/{invite_id}/extend", response_model=Invite, tags=["invites"])
def extend(invite_id: ObjectId, body: InviteExtend, staff: RecruiterStaff,
           session: SessionDep) -> Invite:
    row = invites.extend(session, org_id=staff.org_id, invite_id=invite_id, days=body.days,
                         actor=staff.actor)
    return invites.describe(session, row)


@router.post("/invites/{invite_id}/revoke", response_model=Invite, tags=["invites"])
def revoke(invite_id: ObjectId, staff: RecruiterStaff, session: SessionDep) -> Invite:
    row = invites.revoke(session, org_id=staff.org_id, invite_id=invite_id, actor=staff.actor)
    return invites.describe(session, row)
