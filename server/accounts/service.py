"""Accounts: logins, sessions, throttling, and user management. Never commits."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts import repository as repo
from server.accounts.errors import (
    BadPassword,
    EmailTaken,
    LoginThrottled,
    MustChangePassword,
    NothingToChange,
    OneTimePasswordExpired,
    ResetLinkGone,
    SelfLockout,
    SlugTaken,
)
from server.accounts.schemas import OrgSettings, UserCreate, UserUpdate
from server.audit.service import Actor, record
from server.email import service as mail
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
ONE_TIME_PASSWORD_HOURS = 72  # a generated password works this long, and only to set a new one
RESET_LINK_HOURS = 2
MIN_PASSWORD_LENGTH = 12
EXPIRED_ONE_TIME = ("this one-time password has expired: ask an admin for a new one, or use "
                    "'Forgot your password?' on the login page")


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


def user_in_org(session: Session, org_id: int, user_id: int) -> User:
    return get_in_org(session, User, user_id, org_id, label="user")


def scorer_names(session: Session, org_id: int) -> dict[str, str]:
    """'user:<id>' (how a report names a person who scored) -> that person's name."""
    return {f"user:{u.id}": u.name or u.email for u in repo.users_of_org(session, org_id)}


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
        raise LoginThrottled(
            "too many failed logins; try again later", retry_after_s=policy.window_s
        )
    user = repo.user_by_email(session, account)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        repo.add(session, LoginFailure(account=account, client_address=client_address, at=now))
        return None
    if user.password_expires_at is not None and user.password_expires_at <= now:
        raise OneTimePasswordExpired(EXPIRED_ONE_TIME)
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


# What a user who must change their password may still reach (pages and API).
PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/logout", "/api/v1/auth/password",
                                   "/api/v1/auth/logout", "/api/v1/auth/me"})


def require_own_password(user: User, path: str) -> None:
    """Raise MustChangePassword while the user still has a one-time password."""
    if user.must_change_password and path not in PASSWORD_CHANGE_PATHS:
        raise MustChangePassword(
            "choose your own password first (POST /api/v1/auth/password, or the page "
            "/account/password)")


def logout(session: Session, *, secret_key: bytes, token: str) -> None:
    repo.delete_session(session, token_hash(secret_key, token))


def create_organization(session: Session, *, name: str, slug: str | None = None) -> Organization:
    slug = slug or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"
    if repo.org_by_slug(session, slug) is not None:
        raise SlugTaken(f"an organization with slug {slug!r} exists already")
    org = Organization(name=name, slug=slug, settings={})
    repo.add(session, org)
    return org


def create_user(
    session: Session, *, org_id: int, data: UserCreate, actor: Actor, force_change: bool = True
) -> tuple[User, str | None]:
    """Create a staff user. Returns the user and the generated password (None if one was given).
    A generated password is one-time: it expires after ONE_TIME_PASSWORD_HOURS and must be
    changed at first login (unless force_change is False: the demo's throwaway accounts)."""
    generated = None if data.password else new_password()
    email = str(data.email).lower()
    if repo.user_by_email(session, email) is not None:
        raise EmailTaken(f"a user with e-mail {email} exists already")
    user = User(
        org_id=org_id,
        email=email,
        name=data.name,
        role=data.role,
        password_hash=hash_password(data.password or generated or ""),
        must_change_password=bool(generated and force_change),
        password_expires_at=(utcnow() + timedelta(hours=ONE_TIME_PASSWORD_HOURS)
                             if generated and force_change else None),
    )
    try:
        repo.add(session, user)
    except IntegrityError as exc:  # a concurrent create with the same e-mail
        raise EmailTaken(f"a user with e-mail {email} exists already") from exc
    record(session, actor, "user.create", "user", user.id, org_id=org_id,
           data={"email": email, "role": data.role.value})
    return user, generated


def update_user(session: Session, *, org_id: int, user_id: int, data: UserUpdate,
                actor: Actor) -> User:
    user = get_in_org(session, User, user_id, org_id, label="user")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        raise NothingToChange("nothing to change: give name, role or is_active")
    if user.id == actor.user_id and (
        changes.get("is_active") is False or changes.get("role", Role.admin) != Role.admin
    ):
        raise SelfLockout("you cannot disable yourself or remove your own admin role")
    for key, value in changes.items():
        setattr(user, key, value)
    if changes.get("is_active") is False:
        repo.delete_sessions_of(session, user.id)
    session.flush()
    record(session, actor, "user.update", "user", user.id, org_id=org_id,
           data={k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()})
    return user


def reset_password(session: Session, *, user: User, actor: Actor,
                   force_change: bool = True) -> str:
    """A new one-time password (returned once): it ends the user's sessions, expires after
    ONE_TIME_PASSWORD_HOURS and must be changed at the next login."""
    password = new_password()
    user.password_hash = hash_password(password)
    user.must_change_password = force_change
    user.password_expires_at = (utcnow() + timedelta(hours=ONE_TIME_PASSWORD_HOURS)
                                if force_change else None)
    user.reset_token_hash = user.reset_expires_at = None
    repo.delete_sessions_of(session, user.id)
    session.flush()
    record(session, actor, "user.reset_password", "user", user.id, org_id=user.org_id,
           data={"expires_at": user.password_expires_at.isoformat(timespec="minutes")}
           if user.password_expires_at else {})
    return password


def check_new_password(new: str, confirm: str | None = None, *, old: str | None = None) -> None:
    """Raise AppError (400) with a message a person can act on."""
    if len(new) < MIN_PASSWORD_LENGTH:
        raise BadPassword(f"the new password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(new) > 200:
        raise BadPassword("the new password is longer than 200 characters")
    if confirm is not None and new != confirm:
        raise BadPassword("the two new passwords differ")
    if old is not None and new == old:
        raise BadPassword("choose a password different from the current one")


def _set_password(user: User, new: str) -> None:
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_expires_at = None
    user.reset_token_hash = user.reset_expires_at = None


def change_password(session: Session, *, user: User, current: str, new: str,
                    confirm: str | None = None, keep_session_hash: str | None, actor: Actor
                    ) -> None:
    """The user's own change: needs the current password; ends their other sessions."""
    if not verify_password(user.password_hash, current):
        raise BadPassword("the current password is wrong")
    check_new_password(new, confirm, old=current)
    _set_password(user, new)
    repo.delete_sessions_of(session, user.id, keep=keep_session_hash)
    session.flush()
    record(session, actor, "user.change_password", "user", user.id, org_id=user.org_id)


def request_reset(session: Session, *, email_addr: str, secret_key: bytes, base_url: str,
                  actor: Actor) -> str | None:
    """E-mail a reset link (through the outbox) to an active user with this address. Returns the
    link, or None when there is no such user: the caller shows the same page either way, so
    the form does not tell who has an account. A new link replaces an earlier one."""
    user = repo.user_by_email(session, email_addr.strip().lower())
    if user is None or not user.is_active:
        return None
    token = new_token()
    user.reset_token_hash = token_hash(secret_key, token)
    user.reset_expires_at = utcnow() + timedelta(hours=RESET_LINK_HOURS)
    url = f"{base_url.rstrip('/')}/password/reset?token={token}"
    org = repo.organization(session, user.org_id)
    brand = org.settings.get("branding_name") or org.name
    mail.queue(
        session, org_id=user.org_id, to=user.email, kind="password_reset",
        subject=f"Reset your {brand} password on Burnin",
        body=(f"Hello {user.name},\n\nSomeone (hopefully you) asked to reset the password of "
              f"{user.email}. Open this link within {RESET_LINK_HOURS} hours to choose a new "
              f"one:\n\n{url}\n\nIf you did not ask, ignore this message: your password "
              "stays as it is.\n"),
        sender=org.settings.get("email_from") or None)
    session.flush()
    record(session, actor, "user.reset_link", "user", user.id, org_id=user.org_id)
    return url


def user_for_reset(session: Session, *, secret_key: bytes, token: str) -> User:
    """The user a reset link belongs to, while it works (410 once used or expired)."""
    user = repo.user_by_reset_hash(session, token_hash(secret_key, token)) if token else None
    if user is None or not user.is_active or user.reset_expires_at is None:
        raise ResetLinkGone("this reset link is not valid (it was used, or replaced by a "
                            "newer one): ask for a new one")
    if user.reset_expires_at <= utcnow():
        raise ResetLinkGone("this reset link has expired: ask for a new one")
    return user


def reset_with_token(session: Session, *, secret_key: bytes, token: str, new: str,
                     confirm: str | None) -> User:
    user = user_for_reset(session, secret_key=secret_key, token=token)
    check_new_password(new, confirm)
    _set_password(user, new)
    repo.delete_sessions_of(session, user.id)
    session.flush()
    record(session, Actor(user.email, user.id, user.org_id), "user.reset_by_link", "user",
           user.id, org_id=user.org_id)
    return user


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
