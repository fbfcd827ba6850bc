"""Demo data: an organization with one user per role, for a first look at the platform."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.accounts import service as accounts
from server.accounts.schemas import UserCreate
from server.assessments import service as assessments
from server.assessments.schemas import AssessmentCreate, EntryIn
from server.audit.service import Actor
from server.bank.service import BankService
from server.invites import service as invites
from server.kit.scoping import scoped
from server.models import Assessment, Role

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


DEMO_ASSESSMENT = "AI-infrastructure engineer (demo)"
DEMO_CANDIDATES = (("alex.candidate@example.com", "Alex Candidate"),
                   ("sam.candidate@example.com", "Sam Candidate"))


def make_demo_invites(session: Session, *, org_id: int, bank: BankService,
                      base_url: str, secret_key: bytes) -> list[str]:
    """An assessment with every scenario of the bank and a fresh link per demo candidate."""
    actor = Actor("cli:demo")
    assessment = session.scalars(scoped(Assessment, org_id)
                                 .where(Assessment.title == DEMO_ASSESSMENT)).first()
    if assessment is None:
        scenarios = [EntryIn(scenario_id=s.id) for s in bank.summaries()]
        if not scenarios:
            return []
        assessment = assessments.create(
            session, org_id=org_id, bank=bank, actor=actor,
            data=AssessmentCreate(title=DEMO_ASSESSMENT, time_limit_min=180, scenarios=scenarios,
                                  instructions="A demo assessment with every scenario of the "
                                               "bank. Take your time."))
    urls = []
    for email, name in DEMO_CANDIDATES:
        existing = [i for i in invites.pipeline(session, org_id, assessment_id=assessment.id)
                    if i.candidate_email == email and i.status in ("invited", "opened", "expired")]
        if existing:
            invites.extend(session, org_id=org_id, invite_id=existing[0].id, days=7, actor=actor)
            _, url = invites.resend(session, org_id=org_id, invite_id=existing[0].id,
                                    base_url=base_url, secret_key=secret_key, actor=actor)
        else:
            _, url = invites.create(session, org_id=org_id, assessment_id=assessment.id,
                                    email_addr=email, name=name, days=7, base_url=base_url,
                                    secret_key=secret_key, actor=actor)
        urls.append(url)
    return urls


def make_demo(session: Session) -> list[DemoUser]:
    """Create the demo organization and users, or give the existing demo users new passwords.
    Each password is returned once and stored only as a hash."""
    actor = Actor("cli:demo")
    org = accounts.org_by_slug(session, DEMO_SLUG) or accounts.create_organization(
        session, name="Demo Org", slug=DEMO_SLUG
    )
    made = []
    for email, name, role in DEMO_USERS:
        user = accounts.user_by_email(session, email)
        if user is None:
            user, password = accounts.create_user(
                session, org_id=org.id, data=UserCreate(email=email, name=name, role=role),
                actor=actor, force_change=False,  # throwaway demo accounts: no forced change
            )
            assert password is not None
        else:
            user.is_active = True
            password = accounts.reset_password(session, user=user, actor=actor,
                                               force_change=False)
        made.append(DemoUser(email=user.email, password=password, role=user.role.value))
    return made


def demo_org_id(session: Session) -> int:
    org = accounts.org_by_slug(session, DEMO_SLUG)
    assert org is not None
    return org.id
