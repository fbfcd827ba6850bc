"""Demo data: an organization with one user per role, for a first look at the platform."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.accounts import repository as account_repo
from server.accounts import service as accounts
from server.accounts.schemas import UserCreate
from server.audit.service import Actor
from server.models import Role

DEMO_SLUG = "demo"
DEMO_USERS = (
    ("admin@example.com", "Ada Admin", Role.admin),
    ("recruiter@example.com", "Rita Recruiter", Role.recruiter),
    ("manager@example.com", "Hank Hiring-Manager", Role.hiring_manager),
)


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    role: str


def make_demo(session: Session) -> list[DemoUser]:
    """Create the demo organization and users, or give the existing demo users new passwords.
    Each password is returned once and stored only as a hash."""
    actor = Actor("cli:demo")
    org = account_repo.org_by_slug(session, DEMO_SLUG) or accounts.create_organization(
        session, name="Demo Org", slug=DEMO_SLUG
    )
    made = []
    for email, name, role in DEMO_USERS:
        user = account_repo.user_by_email(session, email)
        if user is None:
            user, password = accounts.create_user(
                session, org_id=org.id, data=UserCreate(email=email, name=name, role=role),
                actor=actor,
            )
            assert password is not None
        else:
            user.is_active = True
            password = accounts.reset_password(session, user=user, actor=actor)
        made.append(DemoUser(email=user.email, password=password, role=user.role.value))
    return made
