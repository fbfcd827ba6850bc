"""All SQL of the accounts domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload

from server.kit.scoping import scoped
from server.models import LoginFailure, Organization, StaffSession, User


def add(session: Session, row: LoginFailure | StaffSession | Organization | User) -> None:
    """Add and flush (raises IntegrityError on a duplicate)."""
    session.add(row)
    session.flush()


def organization(session: Session, org_id: int) -> Organization:
    return session.get_one(Organization, org_id)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.lower())).first()


def users_of_org(session: Session, org_id: int) -> list[User]:
    return list(session.scalars(scoped(User, org_id).order_by(User.email)))


def org_by_slug(session: Session, slug: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.slug == slug)).first()


def session_with_user(session: Session, id_hash: str) -> StaffSession | None:
    stmt = (
        select(StaffSession)
        .options(joinedload(StaffSession.user))
        .where(StaffSession.id_hash == id_hash)
    )
    return session.scalars(stmt).first()


def delete_session(session: Session, id_hash: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.id_hash == id_hash))


def delete_sessions_of(session: Session, user_id: int, keep: str | None = None) -> None:
    """End every session of the user, except the one whose id hash is `keep`."""
    stmt = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(StaffSession.id_hash != keep)
    session.execute(stmt)


def user_by_reset_hash(session: Session, reset_hash: str) -> User | None:
    return session.scalars(select(User).where(User.reset_token_hash == reset_hash)).first()


def count_failures(session: Session, *, account: str | None = None,
                   address: str | None = None, since: datetime) -> int:
    stmt = select(func.count()).select_from(LoginFailure).where(LoginFailure.at >= since)
    if account is not None:
        stmt = stmt.where(LoginFailure.account == account)
    if address is not None:
        stmt = stmt.where(LoginFailure.client_address == address)
    return session.scalar(stmt) or 0


def clear_failures(session: Session, account: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.account == account))


def prune_failures(session: Session, before: datetime) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.at < before))
