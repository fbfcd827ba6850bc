from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from server.kit.inputs import Input
from server.models import Role


class Strict(Input):
    model_config = ConfigDict(str_strip_whitespace=True)


class LoginRequest(Strict):
    email: str = Field(min_length=3, max_length=320, description="Staff e-mail address.")
    password: str = Field(min_length=1, max_length=200)


class User(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    # Named without "password" on purpose: a login response never mentions one.
    must_change_credentials: bool = Field(
        default=False, validation_alias="must_change_password",
        description="Logged in with a one-time password: must set their own first "
                    "(POST /api/v1/auth/password).")
    one_time_expires_at: datetime | None = Field(
        default=None, validation_alias="password_expires_at",
        description="When the one-time password stops working.")


class UserCreate(Strict):
    email: EmailStr = Field(description="Unique across the instance.")
    name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str | None = Field(
        default=None, min_length=12, max_length=200,
        description="Omit to generate a one-time password, returned once.",
    )


class UserUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    is_active: bool | None = None


class UserCreated(BaseModel):
    user: User
    password: str | None = Field(description="The generated one-time password; shown only here.")


class LoginResponse(BaseModel):
    user: User
    csrf_token: str = Field(description="Send as X-CSRF-Token on every state-changing request.")


class Organization(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str


class OrgSettings(Strict):
    """Organization settings an admin edits."""

    branding_name: str = Field(default="", max_length=120,
                               description="Name shown to candidates and in e-mails.")
    default_time_limit_min: int = Field(default=120, ge=5, le=24 * 60,
                                        description="Time limit new assessments start with.")
    accommodations_contact: str = Field(default="", max_length=200,
                                        description="Who candidates contact for accommodations.")
    email_from: str = Field(default="", max_length=200,
                            description="Sender of this organization's e-mails (blank: the "
                                        "server's BURNIN_SMTP_FROM).")
