"""Accounts: logins, sessions, throttling, and user management. Never commits."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts import repository as repo
from server.accounts.schemas import OrgSettings, UserCreate, UserUpdate
from server.audit.service import Actor, record
from server.errors import AppError, Conflict, Forbidden, TooManyRequests
from server.kit.scoping import get_in_org
from server.kit.security import (
    hash_password,
    new_password,
    new_token,
    token_hash,
    verify_password,
)
from server.models import LoginFailure, Organization, Role, StaffSession, User, utcnow

INVALID_LOGIN = "invalid e-mail or password"


@dataclass(frozen=True)
class LoginPolicy:
    max_per_account: int
    max_per_address: int
    window_s: int
    session_hours: int


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    user: User


def organization(session: Session, org_id: int) -> Organization:
    """The caller's organization (the id comes from their session, so it exists)."""
    return repo.organization(session, org_id)


def users_of_org(session: Session, org_id: int) -> list[User]:
    return repo.users_of_org(session, org_id)


def org_by_slug(session: Session, slug: str) -> Organization | None:
    return repo.org_by_slug(session, slug)


def user_by_email(session: Session, email: str) -> User | None:
    return repo.user_by_email(session, email)


def login(
    session: Session,
    *,
    secret_key: bytes,
    email: str,
    password: str,
    client_address: str,
    user_agent: str | None,
    policy: LoginPolicy,
) -> NewSession | None:
    """Check credentials with throttling; create a fresh server-side session.

    Returns None for a wrong e-mail or password (the same for both). It does not raise, so the
    failure it records is committed with the request and counts towards throttling."""
    account = email.strip().lower()
    now = utcnow()
    since = now - timedelta(seconds=policy.window_s)
    if (
        repo.count_failures(session, account=account, since=since) >= policy.max_per_account
        or repo.count_failures(session, address=client_address, since=since)
        >= policy.max_per_address
    ):
        raise TooManyRequests(
            "too many failed logins; try again later", retry_after_s=policy.window_s
        )
    user = repo.user_by_email(session, account)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        repo.add(session, LoginFailure(account=account, client_address=client_address, at=now))
        return None
    repo.clear_failures(session, account)
    repo.prune_failures(session, before=since)
    token = new_token()
    staff_session = StaffSession(
        id_hash=token_hash(secret_key, token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=now + timedelta(hours=policy.session_hours),
        client_address=client_address,
        user_agent=(user_agent or "")[:300] or None,
    )
    user.last_login_at = now
    repo.add(session, staff_session)
    return NewSession(token=token, csrf_token=staff_session.csrf_token, user=user)


def resolve_session(session: Session, *, secret_key: bytes, token: str) -> StaffSession | None:
    """The live session for a cookie value, or None (unknown, expired, or user disabled)."""
    found = repo.session_with_user(session, token_hash(secret_key, token))
    if found is None:
        return None
    if found.expires_at <= utcnow() or not found.user.is_active:
        repo.delete_session(session, found.id_hash)
        return None
    return found


def logout(session: Session, *, secret_key: bytes, token: str) -> None:
    repo.delete_session(session, token_hash(secret_key, token))


def create_organization(session: Session, *, name: str, slug: str | None = None) -> Organization:
    slug = slug or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"
    if repo.org_by_slug(session, slug) is not None:
        raise Conflict(f"an organization with slug {slug!r} exists already")
    org = Organization(name=name, slug=slug, settings={})
    repo.add(session, org)
    return org


def create_user(
    session: Session, *, org_id: int, data: UserCreate, actor: Actor
) -> tuple[User, str | None]:
    """Create a staff user. Returns the user and the generated password (None if one was given)."""
    generated = None if data.password else new_password()
    email = str(data.email).lower()
    if repo.user_by_email(session, email) is not None:
        raise Conflict(f"a user with e-mail {email} exists already")
    user = User(
        org_id=org_id,
        email=email,
        name=data.name,
        role=data.role,
        password_hash=hash_password(data.password or generated or ""),
    )
    try:
        repo.add(session, user)
    except IntegrityError as exc:  # a concurrent create with the same e-mail
        raise Conflict(f"a user with e-mail {email} exists already") from exc
    record(session, actor, "user.create", "user", user.id, org_id=org_id,
           data={"email": email, "role": data.role.value})
    return user, generated


def update_user(session: Session, *, org_id: int, user_id: int, data: UserUpdate,
                actor: Actor) -> User:
    user = get_in_org(session, User, user_id, org_id, label="user")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        raise AppError("nothing to change: give name, role or is_active")
    if user.id == actor.user_id and (
        changes.get("is_active") is False or changes.get("role", Role.admin) != Role.admin
    ):
        raise Forbidden("you cannot disable yourself or remove your own admin role")
    for key, value in changes.items():
        setattr(user, key, value)
    if changes.get("is_active") is False:
        repo.delete_sessions_of(session, user.id)
    session.flush()
    record(session, actor, "user.update", "user", user.id, org_id=org_id,
           data={k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()})
    return user


def reset_password(session: Session, *, user: User, actor: Actor) -> str:
    password = new_password()
    user.password_hash = hash_password(password)
    repo.delete_sessions_of(session, user.id)
    session.flush()
    record(session, actor, "user.reset_password", "user", user.id, org_id=user.org_id)
    return password


def update_org_settings(session: Session, *, org_id: int, data: OrgSettings,
                        actor: Actor) -> OrgSettings:
    org = repo.organization(session, org_id)
    before = OrgSettings.model_validate(org.settings).model_dump()
    org.settings = data.model_dump()
    changed = {k: v for k, v in org.settings.items() if before.get(k) != v}
    session.flush()
    record(session, actor, "organization.settings", "organization", org_id, org_id=org_id,
           data=changed)
    return data
