"""All SQL of the attempts domain: attempts, answers, candidate sessions, and the invite,
assessment and organization rows a candidate's request reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import Row, Table, bindparam, insert, select, update
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


# ---------------------------------------------------------------- the autosave's statements
# Built once, as Core statements on the tables: no statement construction, cache-key
# computation, ORM unit of work or identity map on the API's most frequent request.

AnyRow = Row[Unpack[tuple[Any, ...]]]

_ANSWERS: Table = Answer.__table__  # type: ignore[assignment]
_REVISIONS: Table = AnswerRevision.__table__  # type: ignore[assignment]
_SESSIONS: Table = CandidateSession.__table__  # type: ignore[assignment]
_INVITES: Table = Invite.__table__  # type: ignore[assignment]
_ATTEMPTS: Table = Attempt.__table__  # type: ignore[assignment]
_ENTRIES: Table = AssessmentScenario.__table__  # type: ignore[assignment]

_CANDIDATE = (
    select(_INVITES.c.id, _INVITES.c.org_id, _INVITES.c.assessment_id,
           _INVITES.c.candidate_id, _INVITES.c.revoked_at, _SESSIONS.c.csrf_token,
           _SESSIONS.c.expires_at)
    .select_from(_SESSIONS.join(_INVITES, _INVITES.c.id == _SESSIONS.c.invite_id))
    .where(_SESSIONS.c.id_hash == bindparam("b_hash")))

_SCENARIO_AT = (select(_ENTRIES.c.scenario_id)
                .where(_ENTRIES.c.assessment_id == _ATTEMPTS.c.assessment_id)
                .order_by(_ENTRIES.c.position)
                .limit(1).offset(bindparam("b_index")).scalar_subquery())
_ATTEMPT_AND_SCENARIO = (
    select(_ATTEMPTS.c.id, _ATTEMPTS.c.status, _ATTEMPTS.c.deadline, _ATTEMPTS.c.seeds,
           _SCENARIO_AT.label("scenario_id"))
    .where(_ATTEMPTS.c.invite_id == bindparam("b_invite")))

_CAS = (update(_ANSWERS)
        .where(_ANSWERS.c.attempt_id == bindparam("b_attempt"),
               _ANSWERS.c.scenario_id == bindparam("b_scenario"),
               _ANSWERS.c.version == bindparam("b_base"))
        .values(version=bindparam("b_version"),
                content=bindparam("b_content", type_=_ANSWERS.c.content.type),
                updated_at=bindparam("b_now", type_=_ANSWERS.c.updated_at.type))
        .returning(_ANSWERS.c.id))
_ADD_REVISION = insert(_REVISIONS)


def candidate_by_session(session: Session, id_hash: str) -> AnyRow | None:
    """(id, org_id, assessment_id, candidate_id, revoked_at) of the invite of the candidate
    session id_hash, with the session's csrf_token and expires_at; None if unknown."""
    return session.execute(_CANDIDATE, {"b_hash": id_hash}).first()


def attempt_and_scenario(session: Session, invite_id: int, index: int) -> AnyRow | None:
    """The invite's attempt as (id, status, deadline, seeds) and the scenario id of the
    index-th entry of its assessment (None past the last one); None before the start."""
    return session.execute(_ATTEMPT_AND_SCENARIO,
                           {"b_invite": invite_id, "b_index": index}).first()


def compare_and_set(session: Session, attempt_id: int, scenario_id: str, *, base_version: int,
                    content: dict[str, Any], now: datetime) -> int | None:
    """Write version base_version + 1 of the attempt's answer to the scenario only if the
    stored version is still base_version (one UPDATE ... RETURNING). Returns the answer's
    id, or None when no answer holds base_version (none yet, or a newer one)."""
    found: int | None = session.execute(_CAS, {
        "b_attempt": attempt_id, "b_scenario": scenario_id, "b_base": base_version,
        "b_version": base_version + 1, "b_content": content, "b_now": now}).scalar_one_or_none()
    return found


def add_revision(session: Session, answer_id: int, version: int, content: dict[str, Any],
                 now: datetime) -> None:
    session.execute(_ADD_REVISION, {"answer_id": answer_id, "version": version,
                                    "content": content, "created_at": now})
