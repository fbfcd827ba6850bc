"""Accounts API: login, logout, the caller, users of the organization, the audit log."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from server.accounts import service
from server.accounts.errors import CrossSiteLogin
from server.accounts.schemas import (
    LoginRequest,
    LoginResponse,
    Organization,
    OrgSettings,
    User,
    UserCreate,
    UserCreated,
    UserUpdate,
)
from server.audit.service import list_events
from server.deps import (
    AdminStaff,
    CurrentStaff,
    ObjectId,
    SessionDep,
    SettingsDep,
    client_address,
    cookie_name,
    login_policy,
    set_session_cookie,
)
from server.kit.scoping import get_in_org
from server.kit.security import CROSS_SITE_LOGIN, cross_site_form, token_hash
from server.models import Organization as OrganizationRow
from server.models import User as UserRow

router = APIRouter(prefix="/api/v1")


@router.post("/auth/login", response_model=LoginResponse, tags=["auth"],
             responses={401: {"description": "Wrong e-mail or password (same for unknown users)"},
                        429: {"description": "Too many failed logins"}})
def login(body: LoginRequest, request: Request, response: Response, session: SessionDep,
          settings: SettingsDep) -> LoginResponse | JSONResponse:
    if cross_site_form(request.headers, settings.base_url, str(request.base_url)):  # CSRF
        raise CrossSiteLogin(CROSS_SITE_LOGIN)
    new = service.login(
        session, secret_key=settings.secret_key, email=body.email, password=body.password,
        client_address=client_address(request), user_agent=request.headers.get("user-agent"),
        policy=login_policy(settings),
    )
    if new is None:  # returned, not raised: the recorded failure must be committed
        return JSONResponse({"error": "unauthenticated", "detail": service.INVALID_LOGIN},
                            status_code=401)
    # Only a successful login replaces the session this browser had: a failed one (a typo,
    # or a forged cross-site request) must not log anyone out.
    old = request.cookies.get(cookie_name(settings))
    if old:
        service.logout(session, secret_key=settings.secret_key, token=old)
    set_session_cookie(response, settings, new.token)
    return LoginResponse(user=User.model_validate(new.user), csrf_token=new.csrf_token)


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(staff: CurrentStaff, request: Request, session: SessionDep,
           settings: SettingsDep) -> Response:
    token = request.cookies.get(cookie_name(settings), "")
    service.logout(session, secret_key=settings.secret_key, token=token)
    response = Response(status_code=204)
    response.delete_cookie(cookie_name(settings), path="/", secure=settings.secure_cookies,
                           httponly=True, samesite="lax")
    return response


@router.get("/auth/me", response_model=LoginResponse, tags=["auth"])
def me(staff: CurrentStaff) -> LoginResponse:
    return LoginResponse(user=User.model_validate(staff.user), csrf_token=staff.csrf_token)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=200,
                                  description="The current (or one-time) password.")
    new_password: str = Field(min_length=1, max_length=200,
                              description=f"At least {service.MIN_PASSWORD_LENGTH} characters.")


@router.post("/auth/password", status_code=204, tags=["auth"],
             responses={400: {"description": "Wrong current password, or a weak new one"}})
def change_password(body: PasswordChange, staff: CurrentStaff, request: Request,
                    session: SessionDep, settings: SettingsDep) -> Response:
    """Change the caller's own password; ends their other sessions. A user who logged in with
    a one-time password must call this before anything else (403 password_change_required)."""
    token = request.cookies.get(cookie_name(settings), "")
    service.change_password(session, user=staff.user, current=body.current_password,
                            new=body.new_password, keep_session_hash=token_hash(
                                settings.secret_key, token), actor=staff.actor)
    return Response(status_code=204)


@router.get("/organization", response_model=Organization, tags=["organization"])
def organization(staff: CurrentStaff, session: SessionDep) -> OrganizationRow:
    return service.organization(session, staff.org_id)


@router.get("/organization/settings", response_model=OrgSettings, tags=["organization"])
def get_org_settings(staff: CurrentStaff, session: SessionDep) -> OrgSettings:
    return OrgSettings.model_validate(service.organization(session, staff.org_id).settings)


@router.put("/organization/settings", response_model=OrgSettings, tags=["organization"])
def put_org_settings(body: OrgSettings, staff: AdminStaff, session: SessionDep) -> OrgSettings:
    return service.update_org_settings(session, org_id=staff.org_id, data=body, actor=staff.actor)


@router.get("/users", response_model=list[User], tags=["users"])
def list_users(staff: AdminStaff, session: SessionDep) -> list[UserRow]:
    return service.users_of_org(session, staff.org_id)


@router.post("/users", response_model=UserCreated, status_code=201, tags=["users"])
def create_user(body: UserCreate, staff: AdminStaff, session: SessionDep) -> UserCreated:
    user, password = service.create_user(session, org_id=staff.org_id, data=body,
                                         actor=staff.actor)
    return UserCreated(user=User.model_validate(user), password=password)


@router.get("/users/{user_id}", response_model=User, tags=["users"])
def get_user(user_id: ObjectId, staff: AdminStaff, session: SessionDep) -> UserRow:
    return get_in_org(session, UserRow, user_id, staff.org_id, label="user")


@router.patch("/users/{user_id}", response_model=User, tags=["users"])
def update_user(user_id: ObjectId, body: UserUpdate, staff: AdminStaff,
                session: SessionDep) -> UserRow:
    return service.update_user(session, org_id=staff.org_id, user_id=user_id, data=body,
                               actor=staff.actor)


class PasswordReset(BaseModel):
    password: str


@router.post("/users/{user_id}/reset-password", response_model=PasswordReset, tags=["users"])
def reset_password(user_id: ObjectId, staff: AdminStaff, session: SessionDep) -> PasswordReset:
    user = get_in_org(session, UserRow, user_id, staff.org_id, label="user")
    return PasswordReset(password=service.reset_password(session, user=user, actor=staff.actor))


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    data: dict[str, object]
    client_address: str | None


@router.get("/audit-events", response_model=list[AuditEventOut], tags=["audit"])
def audit_events(staff: AdminStaff, session: SessionDep,
                 limit: int = Query(100, ge=1, le=1000),
                 offset: int = Query(0, ge=0, le=2**31 - 1)) -> list[object]:
    return list(list_events(session, staff.org_id, limit=limit, offset=offset))
