"""Request dependencies in the Annotated style: every handler states who may call it."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from server.accounts import service as accounts
from server.audit.service import Actor
from server.bank.service import BankService
from server.config import Settings
from server.db import in_thread_transaction, release, transaction
from server.errors import Forbidden, Unauthenticated
from server.models import Role, User
from server.notebooks.service import NotebookService

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def cookie_name(settings: Settings) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless Secure, Path=/ and no Domain.
    return "__Host-burnin_session" if settings.secure_cookies else "burnin_session"


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.sessionmaker) as session:
        yield session


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        cookie_name(settings), token, max_age=settings.session_hours * 3600, path="/",
        httponly=True, samesite="lax", secure=settings.secure_cookies,
    )


def login_policy(settings: Settings) -> accounts.LoginPolicy:
    """Login throttling and session length, from the settings."""
    return accounts.LoginPolicy(
        max_per_account=settings.login_max_failures_per_account,
        max_per_address=settings.login_max_failures_per_address,
        window_s=settings.login_window_s,
        session_hours=settings.session_hours,
    )


# Object ids in paths: positive and within a 32-bit INTEGER on every database backend.
ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Object id.")]

SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit (or roll back) before the response is sent, so a response never
# claims a write that did not happen.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _csrf_presented(request: Request) -> str | None:
    """The CSRF token the request presents: X-CSRF-Token header, or a csrf_token form field."""
    header = request.headers.get("x-csrf-token")
    if header or request.method in SAFE_METHODS:
        return header
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get("csrf_token")
        return value if isinstance(value, str) else None
    return None


@dataclass(frozen=True)
class Staff:
    """The authenticated staff member of this request."""

    user: User
    csrf_token: str
    client_address: str

    @property
    def org_id(self) -> int:
        return self.user.org_id

    @property
    def actor(self) -> Actor:
        return Actor(self.user.email, self.user.id, self.user.org_id, self.client_address)


def current_staff(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    csrf: Annotated[str | None, Depends(_csrf_presented)],
) -> Staff:
    token = request.cookies.get(cookie_name(settings))
    if not token:
        raise Unauthenticated("log in first")
    found = accounts.resolve_session(session, secret_key=settings.secret_key, token=token)
    if found is None:
        raise Unauthenticated("your session has ended; log in again")
    if request.method not in SAFE_METHODS and not (
        csrf and hmac.compare_digest(csrf, found.csrf_token)
    ):
        raise Forbidden("missing or wrong CSRF token (send X-CSRF-Token)")
    accounts.require_own_password(found.user, request.url.path)
    request.state.user_id = found.user.id
    staff = Staff(found.user, found.csrf_token, client_address(request))
    # The handler runs in another thread, maybe after a wait for one: hand the connection
    # back now instead of holding it across that wait.
    release(session)
    return staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def require_role(*roles: Role) -> Callable[[Staff], Staff]:
    def check(staff: CurrentStaff) -> Staff:
        if staff.user.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs one of the roles: {allowed}")
        return staff

    return check


AdminStaff = Annotated[Staff, Depends(require_role(Role.admin))]
RecruiterStaff = Annotated[Staff, Depends(require_role(Role.admin, Role.recruiter))]
ReviewerStaff = Annotated[Staff, Depends(require_role(Role.admin, Role.hiring_manager))]


# ---------------------------------------------------------------- candidates


def candidate_cookie_name(settings: Settings) -> str:
    return "__Host-burnin_candidate" if settings.secure_cookies else "burnin_candidate"


@dataclass(frozen=True)
class CandidateContext:
    """The candidate of this request: their invite, and their attempt once started."""

    invite_id: int
    org_id: int
    assessment_id: int
    candidate_id: int
    csrf_token: str


@dataclass(frozen=True)
class CandidateCredentials:
    """What a candidate's request presents (cookie, CSRF token), read without the database."""

    token: str
    csrf: str | None
    method: str


async def candidate_credentials(
    request: Request,
    settings: SettingsDep,
    csrf: Annotated[str | None, Depends(_csrf_presented)],
) -> CandidateCredentials:
    token = request.cookies.get(candidate_cookie_name(settings))
    if not token:  # before the body is validated, as for a dependency that reads the database
        raise Unauthenticated("open the link from your invitation e-mail to continue")
    return CandidateCredentials(token, csrf, request.method)


CandidateCredentialsDep = Annotated[CandidateCredentials, Depends(candidate_credentials)]


def candidate_of(session: Session, settings: Settings,
                 creds: CandidateCredentials) -> CandidateContext:
    """The candidate the credentials belong to (401), with the CSRF token checked on
    state-changing requests (403). For a handler that authenticates inside its own unit of
    work (one thread, one transaction: the autosave)."""
    from server.attempts import service as attempts

    found = attempts.resolve(session, settings.secret_key, creds.token)
    if found is None:
        raise Unauthenticated("open the link from your invitation e-mail to continue")
    if creds.method not in SAFE_METHODS and not (
        creds.csrf and hmac.compare_digest(creds.csrf, found.csrf_token)
    ):
        raise Forbidden("missing or wrong CSRF token (reload the page)")
    return CandidateContext(found.invite_id, found.org_id, found.assessment_id,
                            found.candidate_id, found.csrf_token)


def current_candidate(session: SessionDep, settings: SettingsDep,
                      creds: CandidateCredentialsDep) -> CandidateContext:
    who = candidate_of(session, settings, creds)
    release(session)  # as for staff: no connection held while waiting for the handler
    return who


CurrentCandidate = Annotated[CandidateContext, Depends(current_candidate)]


class CandidateRoute(APIRoute):
    """A candidate route: a missing, forged or expired cookie is 401 (a missing CSRF token
    403) whatever the body or path say. FastAPI decodes the JSON body before it runs any
    dependency, and the autosave authenticates inside its own unit of work, after its body
    and path were validated; so when validation fails, the credentials are checked first
    and a caller who is not the candidate learns nothing about what a valid request looks
    like. Valid requests pay nothing for it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated_first(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                await authenticate_candidate(request)
                raise

        return authenticated_first


async def authenticate_candidate(request: Request) -> CandidateContext:
    """The request's candidate (401/403 as current_candidate), in one thread hand-off."""
    settings: Settings = request.app.state.settings
    token = request.cookies.get(candidate_cookie_name(settings))
    if not token:
        raise Unauthenticated("open the link from your invitation e-mail to continue")
    creds = CandidateCredentials(token, await _csrf_presented(request), request.method)
    return await in_thread_transaction(request.app.state.sessionmaker,
                                       lambda session: candidate_of(session, settings, creds))


async def get_bank(request: Request) -> BankService:
    bank: BankService = request.app.state.bank
    return bank


BankDep = Annotated[BankService, Depends(get_bank)]


async def get_notebooks(request: Request) -> NotebookService:
    notebooks: NotebookService = request.app.state.notebooks
    return notebooks


NotebooksDep = Annotated[NotebookService, Depends(get_notebooks)]
