"""Small typed factories for test data (keyword-only arguments)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from server.kit.security import hash_password, new_token, token_hash
from server.models import (
    Assessment,
    AssessmentScenario,
    AssessmentStatus,
    Candidate,
    Invite,
    Organization,
    Role,
    User,
    utcnow,
)

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


def make_assessment(session: Session, *, org: Organization, title: str = "GPU infra",
                    scenarios: tuple[str, ...] = ("debug-slow-run",), minutes: int = 60
                    ) -> Assessment:
    assessment = Assessment(
        org_id=org.id, title=title, time_limit_min=minutes, status=AssessmentStatus.active,
        entries=[AssessmentScenario(position=i, scenario_id=s, scenario_version="1", weight=1.0)
                 for i, s in enumerate(scenarios)],
    )
    session.add(assessment)
    session.flush()
    return assessment


def make_invite(session: Session, *, assessment: Assessment, email: str | None = None,
                days: int = 7) -> tuple[Invite, str]:
    """An invite and its raw token (as the candidate's link would carry it)."""
    candidate = Candidate(org_id=assessment.org_id,
                          email=email or f"cand{next(_seq)}@example.com", name="Cand")
    session.add(candidate)
    session.flush()
    token = new_token()
    invite = Invite(org_id=assessment.org_id, assessment_id=assessment.id,
                    candidate_id=candidate.id, token_hash=token_hash(session.info["secret_key"],
                                                                      token),
                    expires_at=utcnow() + timedelta(days=days))
    session.add(invite)
    session.flush()
    return invite, token


def open_as_candidate(app: Any, session: Session, invite: Invite) -> Any:
    """A TestClient holding a candidate session for this invite (as after opening the link),
    with its CSRF header set."""
    from fastapi.testclient import TestClient

    from server.attempts import service

    _, cookie, csrf = service.open_invite_by_id(session, app.state.settings.secret_key, invite.id)
    session.commit()
    c = TestClient(app, base_url="http://testserver")
    c.cookies.set("burnin_candidate", cookie)
    c.headers["X-CSRF-Token"] = csrf
    return c
