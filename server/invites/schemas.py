from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from server.kit.inputs import Input


class Strict(Input):
    model_config = ConfigDict(str_strip_whitespace=True)


class InviteCreate(Strict):
    email: EmailStr
    name: str = Field(default="", max_length=200)
    expires_in_days: int | None = Field(default=None, ge=1, le=365,
                                        description="Default: BURNIN_INVITE_DAYS.")


class InviteExtend(Strict):
    days: int = Field(ge=1, le=365, description="Days added to the later of now and the expiry.")


class Invite(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    assessment_id: int
    candidate_email: str
    candidate_name: str
    status: str
    created_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    score: float | None = None
    sent_count: int
    attempt_id: int | None = None


class InviteCreated(BaseModel):
    invite: Invite
    url: str = Field(description="The candidate's link; shown only now (only its hash is kept).")


class CsvImportResult(BaseModel):
    created: list[InviteCreated]
