"""Pages: log in and out, home, and the admin's users and audit log."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from server.accounts import service
from server.accounts.errors import BadRole
from server.accounts.schemas import OrgSettings, UserCreate, UserUpdate
from server.audit import service as audit
from server.audit.service import Actor, list_events
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
from server.kit.security import CROSS_SITE_LOGIN, cross_site_form, token_hash
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
    if cross_site_form(request.headers, settings.base_url, str(request.base_url)):  # CSRF
        return render(request, "login.html",
                      {"next": _safe_next(next), "error": CROSS_SITE_LOGIN}, status_code=403)
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
    target = _safe_next(next)
    if new.user.must_change_password:  # a one-time password: choose one's own first
        target = "/account/password?" + urlencode({"next": target})
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, settings, new.token)
    return response


def _password_page(request: Request, staff: CurrentStaff, next: str, *, status_code: int = 200,
                   **extra: object) -> Response:
    return render(request, "account_password.html",
                  {"staff": staff, "next": _safe_next(next),
                   "forced": staff.user.must_change_password,
                   "min_length": service.MIN_PASSWORD_LENGTH, **extra}, status_code=status_code)


@router.get("/account/password")
def password_page(request: Request, staff: CurrentStaff, next: str = "/") -> Response:
    return _password_page(request, staff, next)


@router.post("/account/password")
def password_submit(
    request: Request, staff: CurrentStaff, session: SessionDep, settings: SettingsDep,
    current_password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=400)] = "",
    confirm_password: Annotated[str, Form(max_length=400)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    token = request.cookies.get(cookie_name(settings), "")
    was_forced = staff.user.must_change_password
    try:
        service.change_password(session, user=staff.user, current=current_password,
                                new=new_password, confirm=confirm_password,
                                keep_session_hash=token_hash(settings.secret_key, token),
                                actor=staff.actor)
    except AppError as exc:
        return _password_page(request, staff, next, error=exc.message,
                              status_code=exc.status_code)
    if was_forced and not _safe_next(next).startswith("/account/password"):
        return RedirectResponse(_safe_next(next), status_code=303)
    return _password_page(request, staff, "/", saved=True)


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return render(request, "password_forgot.html", {})


@router.post("/password/forgot")
def forgot_submit(request: Request, session: SessionDep, settings: SettingsDep,
                  email: Annotated[str, Form(max_length=320)] = "") -> Response:
    if "@" not in email:
        return render(request, "password_forgot.html",
                      {"error": "enter the e-mail address you log in with", "email": email},
                      status_code=400)
    service.request_reset(session, email_addr=email, secret_key=settings.secret_key,
                          base_url=settings.base_url,
                          actor=Actor(f"reset form ({email.strip().lower()[:100]})",
                                      client_address=client_address(request)))
    return render(request, "password_forgot.html", {"sent": True, "email": email,
                                                     "hours": service.RESET_LINK_HOURS})


@router.get("/password/reset")
def reset_page(request: Request, session: SessionDep, settings: SettingsDep,
               token: str = Query("", max_length=100)) -> Response:
    try:
        user = service.user_for_reset(session, secret_key=settings.secret_key, token=token)
    except AppError as exc:
        return render(request, "password_reset.html", {"error": exc.message, "dead": True},
                      status_code=exc.status_code)
    return render(request, "password_reset.html", {"token": token, "email": user.email,
                                                    "min_length": service.MIN_PASSWORD_LENGTH})


@router.post("/password/reset")
def reset_submit(request: Request, session: SessionDep, settings: SettingsDep,
                 token: Annotated[str, Form(max_length=100)] = "",
                 new_password: Annotated[str, Form(max_length=400)] = "",
                 confirm_password: Annotated[str, Form(max_length=400)] = "") -> Response:
    try:
        user = service.reset_with_token(session, secret_key=settings.secret_key, token=token,
                                        new=new_password, confirm=confirm_password)
    except AppError as exc:
        dead = exc.status_code == 410
        return render(request, "password_reset.html",
                      {"error": exc.message, "dead": dead, "token": token,
                       "min_length": service.MIN_PASSWORD_LENGTH}, status_code=exc.status_code)
    return render(request, "login.html", {"next": "/", "email": user.email,
                                          "notice": "Password changed: log in with the new one."})


@router.post("/logout")
def logout_submit(staff: CurrentStaff, request: Request, session: SessionDep,
                  settings: SettingsDep) -> Response:
    service.logout(session, secret_key=settings.secret_key,
                   token=request.cookies.get(cookie_name(settings), ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(cookie_name(settings), path="/", secure=settings.secure_cookies,
                           httponly=True, samesite="lax")
    return response


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    """Swagger UI from web/static/vendor (no CDN), so the API reference works offline."""
    return render(request, "api_docs.html", {"openapi_url": request.app.openapi_url})


@router.get("/favicon.ico")
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/")
def home(request: Request, staff: CurrentStaff, session: SessionDep) -> Response:
    org = service.organization(session, staff.org_id)
    return render(request, "home.html", {"staff": staff, "org": org})


def _users_context(staff: AdminStaff, session: SessionDep, **extra: object) -> dict[str, object]:
    return {"staff": staff, "users": service.users_of_org(session, staff.org_id), "roles": list(Role),
            "one_time_hours": service.ONE_TIME_PASSWORD_HOURS, **extra}


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


@router.post("/admin/users/{user_id}/role")
def users_set_role(request: Request, user_id: ObjectId, staff: AdminStaff, session: SessionDep,
                   role: Annotated[str, Form(max_length=40)] = "") -> Response:
    try:
        try:
            new_role = Role(role)
        except ValueError:
            raise BadRole("choose a role: admin, recruiter or hiring manager") from None
        user = service.update_user(session, org_id=staff.org_id, user_id=user_id,
                                   data=UserUpdate(role=new_role), actor=staff.actor)
    except AppError as exc:
        if exc.status_code == 404:
            raise
        return render(request, "admin_users.html",
                      _users_context(staff, session, errors=[exc.message]),
                      block="users_section", status_code=exc.status_code)
    return render(request, "admin_users.html", _users_context(
        staff, session, message=f"{user.email} is now {new_role.value.replace('_', ' ')}."),
        block="users_section")


@router.post("/admin/users/{user_id}/reset-password")
def users_reset_password(request: Request, user_id: ObjectId, staff: AdminStaff,
                         session: SessionDep) -> Response:
    user = service.user_in_org(session, staff.org_id, user_id)
    if user.id == staff.user.id:
        return render(request, "admin_users.html", _users_context(
            staff, session, errors=["change your own password on the Password page"]),
            block="users_section", status_code=400)
    password = service.reset_password(session, user=user, actor=staff.actor)
    return render(request, "admin_users.html", _users_context(
        staff, session, reset=user, password=password), block="users_section")


@router.post("/admin/users/{user_id}/reset-link")
def users_reset_link(request: Request, user_id: ObjectId, staff: AdminStaff, session: SessionDep,
                     settings: SettingsDep) -> Response:
    user = service.user_in_org(session, staff.org_id, user_id)
    url = service.request_reset(session, email_addr=user.email, secret_key=settings.secret_key,
                                base_url=settings.base_url, actor=staff.actor)
    if url is None:
        return render(request, "admin_users.html", _users_context(
            staff, session, errors=[f"{user.email} is disabled: enable it first"]),
            block="users_section", status_code=409)
    where = ("e-mailed" if settings.smtp_host else
             "put in the outbox (no SMTP server is configured: copy the link from there)")
    return render(request, "admin_users.html", _users_context(
        staff, session, message=f"A reset link for {user.email} was {where}; it works for "
                                f"{service.RESET_LINK_HOURS} hours."), block="users_section")


@router.get("/admin/audit")
def audit_page(request: Request, staff: AdminStaff, session: SessionDep,
               action: str = Query("", max_length=80), actor: str = Query("", max_length=320),
               object_type: str = Query("", max_length=40),
               page: int = Query(1, ge=1, le=10_000)) -> Response:
    per_page = 200
    events = list_events(session, staff.org_id, limit=per_page + 1, offset=(page - 1) * per_page,
                         action=action.strip() or None, actor=actor.strip() or None,
                         object_type=object_type or None)
    actions, types = audit.facets(session, staff.org_id)
    return render(request, "audit.html", {
        "staff": staff, "events": events[:per_page], "more": len(events) > per_page,
        "page": page, "action": action, "actor": actor, "object_type": object_type,
        "actions": actions, "types": types, "object_url": audit.object_url,
        "prefixes": sorted({a.split(".")[0] + "." for a in actions})})


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
