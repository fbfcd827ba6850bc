"""All SQL of the attempts domain: attempts, answers, candidate sessions, and the invite,
assessment and organization rows a candidate's request reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, joinedload

from server.models import (
    Answer,
    AnswerRevision,
    Assessment,
    AssessmentScenario,
    Attempt,
    AttemptStatus,
    CandidateSession,
    Invite,
    Organization,
)


def invite(session: Session, invite_id: int) -> Invite | None:
    return session.get(Invite, invite_id)


def invite_by_token_hash(session: Session, token_hash: str) -> Invite | None:
    return session.scalars(select(Invite).where(Invite.token_hash == token_hash)).first()


def assessment(session: Session, assessment_id: int) -> Assessment:
    return session.get_one(Assessment, assessment_id)


def organization(session: Session, org_id: int) -> Organization:
    return session.get_one(Organization, org_id)


def add_candidate_session(session: Session, row: CandidateSession) -> None:
    session.add(row)
    session.flush()


def candidate_session(session: Session, id_hash: str) -> CandidateSession | None:
    return session.scalars(
        select(CandidateSession).options(joinedload(CandidateSession.invite))
        .where(CandidateSession.id_hash == id_hash)).first()


def attempt_of(session: Session, invite_id: int) -> Attempt | None:
    return session.scalars(select(Attempt).where(Attempt.invite_id == invite_id)).first()


def entries(session: Session, assessment_id: int) -> list[AssessmentScenario]:
    return list(session.scalars(select(AssessmentScenario)
                                .where(AssessmentScenario.assessment_id == assessment_id)
                                .order_by(AssessmentScenario.position)))


def scenario_at(session: Session, assessment_id: int, index: int) -> str | None:
    """The scenario id of the index-th entry of the assessment (by position), or None."""
    return session.scalars(select(AssessmentScenario.scenario_id)
                           .where(AssessmentScenario.assessment_id == assessment_id)
                           .order_by(AssessmentScenario.position)
                           .offset(index).limit(1)).first()


def add_attempt(session: Session, attempt: Attempt) -> None:
    """Raises IntegrityError when the invite already has an attempt."""
    session.add(attempt)
    session.flush()


def overdue(session: Session, cutoff: datetime) -> list[Attempt]:
    return list(session.scalars(select(Attempt).where(
        Attempt.status == AttemptStatus.in_progress, Attempt.deadline < cutoff)))


def answers(session: Session, attempt_id: int) -> dict[str, Answer]:
    return {a.scenario_id: a for a in session.scalars(
        select(Answer).where(Answer.attempt_id == attempt_id))}


def answer(session: Session, attempt_id: int, scenario_id: str) -> Answer | None:
    return session.scalars(select(Answer).where(Answer.attempt_id == attempt_id,
                                                Answer.scenario_id == scenario_id)).first()


def add_first_answer(session: Session, row: Answer) -> None:
    """Insert version 1 in a savepoint; raises IntegrityError when a concurrent first save
    won (the savepoint is rolled back, the request's transaction lives on)."""
    with session.begin_nested():
        session.add(row)
        session.flush()


# Core tables for the autosave's two statements: no ORM unit of work, identity map or
# bulk-update machinery on the hottest path of the API.
_ANSWERS: Table = Answer.__table__  # type: ignore[assignment]
_REVISIONS: Table = AnswerRevision.__table__  # type: ignore[assignment]


def compare_and_set(session: Session, attempt_id: int, scenario_id: str, *, base_version: int,
                    content: dict[str, Any], now: datetime) -> int | None:
    """Write version base_version + 1 of the attempt's answer to the scenario only if the
    stored version is still base_version (one UPDATE ... RETURNING). Returns the answer's
    id, or None when no answer holds base_version (none yet, or a newer one)."""
    c = _ANSWERS.c
    return session.execute(
        update(_ANSWERS)
        .where(c.attempt_id == attempt_id, c.scenario_id == scenario_id,
               c.version == base_version)
        .values(version=base_version + 1, content=content, updated_at=now)
        .returning(c.id)).scalar_one_or_none()


def add_revision(session: Session, answer_id: int, version: int, content: dict[str, Any],
                 now: datetime) -> None:
    session.execute(insert(_REVISIONS).values(answer_id=answer_id, version=version,
                                              content=content, created_at=now))
