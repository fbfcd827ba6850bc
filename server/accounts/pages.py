"""Pages: log in and out, home, and the admin's users and audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from server.accounts import service
from server.accounts.schemas import OrgSettings, UserCreate, UserUpdate
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
from server.errors import AppError, validation_messages
from server.kit.templating import render
from server.models import Role

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never //host or a scheme, so the login form is no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    try:
        new = service.login(
            session, secret_key=settings.secret_key, email=email, password=password,
            client_address=client_address(request),
            user_agent=request.headers.get("user-agent"), policy=login_policy(settings),
        )
    except AppError as exc:
        new, message, status = None, exc.message, exc.status_code
    else:
        message, status = service.INVALID_LOGIN, 401
    if new is None:
        return render(request, "login.html",
                      {"next": _safe_next(next), "error": message, "email": email},
                      status_code=status)
    old = request.cookies.get(cookie_name(settings))
    if old:
        service.logout(session, secret_key=settings.secret_key, token=old)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, settings, new.token)
    return response


@router.post("/logout")
def logout_submit(staff: CurrentStaff, request: Request, session: SessionDep,
                  settings: SettingsDep) -> Response:
    service.logout(session, secret_key=settings.secret_key,
                   token=request.cookies.get(cookie_name(settings), ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(cookie_name(settings), path="/", secure=settings.secure_cookies,
                           httponly=True, samesite="lax")
    return response


@router.get("/")
def home(request: Request, staff: CurrentStaff, session: SessionDep) -> Response:
    org = service.organization(session, staff.org_id)
    return render(request, "home.html", {"staff": staff, "org": org})


def _users_context(staff: AdminStaff, session: SessionDep, **extra: object) -> dict[str, object]:
    return {"staff": staff, "users": service.users_of_org(session, staff.org_id), "roles": list(Role),
            **extra}


@router.get("/admin/users")
def users_page(request: Request, staff: AdminStaff, session: SessionDep) -> Response:
    return render(request, "admin_users.html", _users_context(staff, session))


@router.post("/admin/users")
def users_create(
    request: Request,
    staff: AdminStaff,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
) -> Response:
    form = {"email": email, "name": name, "role": role}
    try:
        data = UserCreate.model_validate(form)
        user, password = service.create_user(session, org_id=staff.org_id, data=data,
                                             actor=staff.actor)
    except ValidationError as exc:
        errors = validation_messages(exc)
        return render(request, "admin_users.html",
                      _users_context(staff, session, errors=errors, form=form),
                      block="users_section", status_code=422)
    except AppError as exc:
        return render(request, "admin_users.html",
                      _users_context(staff, session, errors=[exc.message], form=form),
                      block="users_section", status_code=exc.status_code)
    return render(request, "admin_users.html",
                  _users_context(staff, session, created=user, password=password),
                  block="users_section", status_code=201)


@router.post("/admin/users/{user_id}/active")
def users_set_active(request: Request, user_id: ObjectId, staff: AdminStaff, session: SessionDep,
                     active: Annotated[bool, Form()]) -> Response:
    try:
        service.update_user(session, org_id=staff.org_id, user_id=user_id,
                            data=UserUpdate(is_active=active), actor=staff.actor)
    except AppError as exc:
        if exc.status_code == 404:
            raise
        return render(request, "admin_users.html",
                      _users_context(staff, session, errors=[exc.message]),
                      block="users_section", status_code=exc.status_code)
    return render(request, "admin_users.html", _users_context(staff, session),
                  block="users_section")


@router.get("/admin/audit")
def audit_page(request: Request, staff: AdminStaff, session: SessionDep) -> Response:
    return render(request, "audit.html",
                  {"staff": staff, "events": list_events(session, staff.org_id, limit=500)})


@router.get("/admin/settings")
def settings_page(request: Request, staff: AdminStaff, session: SessionDep,
                  settings: SettingsDep) -> Response:
    org = service.organization(session, staff.org_id)
    return render(request, "admin_settings.html", {
        "staff": staff, "org": org, "form": OrgSettings.model_validate(org.settings).model_dump(),
        "smtp": settings.smtp_host, "smtp_from": settings.smtp_from})


@router.post("/admin/settings")
async def settings_save(request: Request, staff: AdminStaff, session: SessionDep,
                        settings: SettingsDep) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
    org = service.organization(session, staff.org_id)
    ctx = {"staff": staff, "org": org, "form": form, "smtp": settings.smtp_host,
           "smtp_from": settings.smtp_from}
    try:
        data = OrgSettings.model_validate(form)
    except ValidationError as exc:
        errors = validation_messages(exc)
        return render(request, "admin_settings.html", {**ctx, "errors": errors}, status_code=422)
    service.update_org_settings(session, org_id=staff.org_id, data=data, actor=staff.actor)
    return render(request, "admin_settings.html", {**ctx, "form": data.model_dump(), "saved": True})
