"""Small typed factories for test data (keyword-only arguments)."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from server.models import Organization, Role, User
from server.security import hash_password

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def make_org(session: Session, *, name: str | None = None) -> Organization:
    n = next(_seq)
    org = Organization(name=name or f"Org {n}", slug=f"org-{n}", settings={})
    session.add(org)
    session.flush()
    return org


def make_user(
    session: Session,
    *,
    org: Organization,
    role: Role = Role.admin,
    email: str | None = None,
    password: str = PASSWORD,
    active: bool = True,
) -> User:
    user = User(
        org_id=org.id,
        email=email or f"{role.value}.{next(_seq)}@example.com",
        name=f"{role.value} person",
        role=role,
        password_hash=hash_password(password),
        is_active=active,
    )
    session.add(user)
    session.flush()
    return user
