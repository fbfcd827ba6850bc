"""All SQL of the reviews domain: what a hiring manager's pages read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from server.kit.scoping import get_in_org
from server.models import (
    Answer,
    Attempt,
    AuditEvent,
    Candidate,
    IntegritySignal,
    ScoreReport,
)


def dashboard_rows(session: Session, org_id: int,
                   assessment_id: int) -> Sequence[Row[Attempt, Candidate, ScoreReport | None]]:
    """Each attempt of the assessment with its candidate and current report (or None)."""
    return session.execute(
        select(Attempt, Candidate, ScoreReport)
        .join(Candidate, Candidate.id == Attempt.candidate_id)
        .outerjoin(ScoreReport, (ScoreReport.attempt_id == Attempt.id)
                   & ScoreReport.is_current.is_(True))
        .where(Attempt.org_id == org_id, Attempt.assessment_id == assessment_id)).all()


def signals_of(session: Session, attempt_ids: list[int]) -> list[IntegritySignal]:
    if not attempt_ids:
        return []
    return list(session.scalars(select(IntegritySignal)
                                .where(IntegritySignal.attempt_id.in_(attempt_ids))))


def answers(session: Session, attempt_id: int) -> dict[str, dict[str, Any]]:
    return {a.scenario_id: a.content for a in session.scalars(
        select(Answer).where(Answer.attempt_id == attempt_id))}


def audit_trail(session: Session, org_id: int, attempt_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.org_id == org_id, AuditEvent.object_type == "attempt",
        AuditEvent.object_id == str(attempt_id)).order_by(AuditEvent.at.desc())))


def attempt_in_org(session: Session, org_id: int, attempt_id: int) -> Attempt:
    return get_in_org(session, Attempt, attempt_id, org_id, label="attempt")


def candidate(session: Session, candidate_id: int) -> Candidate:
    return session.get_one(Candidate, candidate_id)


def attempt(session: Session, attempt_id: int) -> Attempt:
    return session.get_one(Attempt, attempt_id)
