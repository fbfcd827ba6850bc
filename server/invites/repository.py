"""All SQL of the invites domain: invites, candidates, and what the pipeline shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.kit.scoping import get_in_org, scoped
from server.models import (
    Assessment,
    Attempt,
    Candidate,
    CandidateSession,
    Invite,
    Organization,
    ScoreReport,
)


def organization(session: Session, org_id: int) -> Organization:
    return session.get_one(Organization, org_id)


def assessment(session: Session, assessment_id: int) -> Assessment:
    return session.get_one(Assessment, assessment_id)


def assessment_in_org(session: Session, org_id: int, assessment_id: int) -> Assessment:
    return get_in_org(session, Assessment, assessment_id, org_id, label="assessment")


def invite_in_org(session: Session, org_id: int, invite_id: int) -> Invite:
    return get_in_org(session, Invite, invite_id, org_id, label="invite")


def candidate(session: Session, candidate_id: int) -> Candidate:
    return session.get_one(Candidate, candidate_id)


def candidate_by_email(session: Session, org_id: int, email_addr: str) -> Candidate | None:
    return session.scalars(scoped(Candidate, org_id).where(Candidate.email == email_addr)).first()


def add(session: Session, row: Candidate | Invite) -> None:
    session.add(row)
    session.flush()


def add_unflushed(session: Session, row: Invite) -> None:
    session.add(row)


def live_invite_exists(session: Session, assessment_id: int, candidate_id: int,
                       now: datetime) -> bool:
    stmt = select(Invite.id).where(Invite.assessment_id == assessment_id,
                                   Invite.candidate_id == candidate_id,
                                   Invite.revoked_at.is_(None), Invite.expires_at > now)
    return session.scalars(stmt).first() is not None


def delete_candidate_sessions(session: Session, invite_id: int) -> None:
    session.execute(delete(CandidateSession).where(CandidateSession.invite_id == invite_id))


def due_for_reminder(session: Session, now: datetime, until: datetime) -> list[Invite]:
    """Live, unstarted, not yet reminded invites that expire between now and until."""
    stmt = (select(Invite).outerjoin(Attempt, Attempt.invite_id == Invite.id)
            .where(Attempt.id.is_(None), Invite.revoked_at.is_(None), Invite.reminded_at.is_(None),
                   Invite.expires_at > now, Invite.expires_at <= until))
    return list(session.scalars(stmt))


def pipeline_rows(session: Session, org_id: int, assessment_id: int | None
                  ) -> Iterator[tuple[Invite, Candidate, Attempt | None, ScoreReport | None]]:
    stmt = (select(Invite, Candidate, Attempt, ScoreReport)
            .join(Candidate, Candidate.id == Invite.candidate_id)
            .outerjoin(Attempt, Attempt.invite_id == Invite.id)
            .outerjoin(ScoreReport, (ScoreReport.attempt_id == Attempt.id)
                       & ScoreReport.is_current.is_(True))
            .where(Invite.org_id == org_id)
            .order_by(Invite.created_at.desc(), Invite.id.desc()))
    if assessment_id is not None:
        stmt = stmt.where(Invite.assessment_id == assessment_id)
    for invite, cand, attempt, report in session.execute(stmt):
        yield invite, cand, attempt, report


def attempt_of(session: Session, invite_id: int) -> Attempt | None:
    return session.scalars(select(Attempt).where(Attempt.invite_id == invite_id)).first()


def current_report(session: Session, attempt_id: int) -> ScoreReport | None:
    return session.scalars(select(ScoreReport).where(
        ScoreReport.attempt_id == attempt_id, ScoreReport.is_current.is_(True))).first()
