"""The candidate's side: open an invite, start, save answers (versioned), submit."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from server.errors import AppError, AttemptClosed, Conflict, Gone, NotFound
from server.grading.service import enqueue_grading
from server.kit.security import new_token, session_secret, token_hash
from server.models import (
    Answer,
    AnswerRevision,
    Assessment,
    AssessmentScenario,
    Attempt,
    AttemptStatus,
    CandidateSession,
    Invite,
    utcnow,
)

MAX_ANSWER_BYTES = 512 * 1024
CANDIDATE_SESSION_DAYS = 14


def open_invite(session: Session, token: str) -> tuple[Invite, str, str]:
    """Exchange an invite token for a candidate session. Returns (invite, cookie, csrf)."""
    invite = session.scalars(select(Invite).where(
        Invite.token_hash == token_hash(session_secret(session), token))).first()
    return _open(session, invite)


def open_invite_by_id(session: Session, invite_id: int) -> tuple[Invite, str, str]:
    """The same as opening the link, for an invite known by id (tests, demo)."""
    return _open(session, session.get(Invite, invite_id))


def _open(session: Session, invite: Invite | None) -> tuple[Invite, str, str]:
    if invite is None:
        raise NotFound("this link is not valid; check that you copied all of it, or ask the "
                       "recruiter for a new one")
    if invite.revoked_at is not None:
        raise Gone("this invitation was withdrawn; contact the recruiter if you think that is "
                   "a mistake")
    attempt = attempt_of(session, invite.id)
    if invite.expires_at <= utcnow() and attempt is None:
        raise Gone("this invitation has expired; ask the recruiter to extend it")
    invite.opened_at = invite.opened_at or utcnow()
    cookie = new_token()
    csrf = secrets.token_urlsafe(32)
    session.add(CandidateSession(id_hash=token_hash(session_secret(session), cookie), invite_id=invite.id,
                                 csrf_token=csrf,
                                 expires_at=utcnow() + timedelta(days=CANDIDATE_SESSION_DAYS)))
    session.flush()
    return invite, cookie, csrf


def resolve(session: Session, cookie: str) -> CandidateSession | None:
    found = session.scalars(
        select(CandidateSession).options(joinedload(CandidateSession.invite))
        .where(CandidateSession.id_hash == token_hash(session_secret(session), cookie))).first()
    if found is None or found.expires_at <= utcnow() or found.invite.revoked_at is not None:
        return None
    return found


def attempt_of(session: Session, invite_id: int) -> Attempt | None:
    return session.scalars(select(Attempt).where(Attempt.invite_id == invite_id)).first()


def entries(session: Session, assessment_id: int) -> list[AssessmentScenario]:
    return list(session.scalars(select(AssessmentScenario)
                                .where(AssessmentScenario.assessment_id == assessment_id)
                                .order_by(AssessmentScenario.position)))


def start(session: Session, invite: Invite) -> Attempt:
    """Start the clock (once): deadline and a variant seed per scenario."""
    existing = attempt_of(session, invite.id)
    if existing is not None:
        return existing
    if invite.expires_at <= utcnow():
        raise Gone("this invitation has expired; ask the recruiter to extend it")
    assessment = session.get_one(Assessment, invite.assessment_id)
    now = utcnow()
    attempt = Attempt(
        org_id=invite.org_id, invite_id=invite.id, assessment_id=assessment.id,
        candidate_id=invite.candidate_id, started_at=now,
        deadline=now + timedelta(minutes=assessment.time_limit_min),
        seeds={e.scenario_id: secrets.randbelow(2**31) for e in entries(session, assessment.id)},
    )
    session.add(attempt)
    try:
        session.flush()
    except IntegrityError:  # a second tab started it at the same moment
        session.rollback()
        raise Conflict("the assessment was started in another tab; reload") from None
    return attempt


def is_open(attempt: Attempt, grace_s: int = 0) -> bool:
    return (attempt.status == AttemptStatus.in_progress
            and utcnow() <= attempt.deadline + timedelta(seconds=grace_s))


def answers(session: Session, attempt_id: int) -> dict[str, Answer]:
    return {a.scenario_id: a for a in session.scalars(
        select(Answer).where(Answer.attempt_id == attempt_id))}


@dataclass(frozen=True)
class Saved:
    version: int
    content: dict[str, Any]


def save_answer(session: Session, attempt: Attempt, scenario_id: str, *, base_version: int,
                content: dict[str, Any], field_ids: set[str], grace_s: int) -> Saved:
    """Store a new version if base_version is the current one; a stale save never overwrites
    a newer version (409 with the server's copy)."""
    if scenario_id not in attempt.seeds:
        raise NotFound(f"scenario {scenario_id!r} is not part of this assessment")
    if not is_open(attempt, grace_s):
        raise AttemptClosed("time is up: this attempt is closed and your last saved answers "
                            "were submitted")
    unknown = set(content) - field_ids
    if unknown:
        raise AppError(f"unknown answer fields: {sorted(unknown)}", status_code=422,
                       error="validation_error")
    if len(json.dumps(content)) > MAX_ANSWER_BYTES:
        raise AppError(f"answer over {MAX_ANSWER_BYTES // 1024} KiB", status_code=413,
                       error="payload_too_large")
    current = session.scalars(select(Answer).where(Answer.attempt_id == attempt.id,
                                                   Answer.scenario_id == scenario_id)).first()
    now = utcnow()
    if current is None:
        if base_version != 0:
            raise Conflict("stale save", extra={"version": 0, "content": {}})
        current = Answer(attempt_id=attempt.id, scenario_id=scenario_id, version=1,
                         content=content, updated_at=now)
        try:
            with session.begin_nested():
                session.add(current)
                session.flush()
        except IntegrityError:  # a concurrent first save won
            latest = session.scalars(select(Answer).where(
                Answer.attempt_id == attempt.id, Answer.scenario_id == scenario_id)).one()
            raise Conflict("stale save", extra={"version": latest.version,
                                                "content": latest.content}) from None
    else:
        # Compare-and-set in the database, so two concurrent saves cannot both win.
        result = session.execute(
            update(Answer).where(Answer.id == current.id, Answer.version == base_version)
            .values(version=base_version + 1, content=content, updated_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.refresh(current)
            raise Conflict("stale save", extra={"version": current.version,
                                                "content": current.content})
        session.refresh(current)
    session.add(AnswerRevision(answer_id=current.id, version=current.version, content=content))
    session.flush()
    return Saved(current.version, content)


def submit(session: Session, attempt: Attempt, *, auto: bool = False) -> Attempt:
    """Freeze the attempt and enqueue its grading in the same transaction. Idempotent."""
    if attempt.status != AttemptStatus.in_progress:
        return attempt
    attempt.status = AttemptStatus.submitted
    attempt.submitted_at = min(utcnow(), attempt.deadline) if auto else utcnow()
    enqueue_grading(session, attempt)
    session.flush()
    return attempt


def submit_overdue(session: Session, *, grace_s: int) -> int:
    """Submit every attempt whose deadline (plus grace) has passed; returns how many."""
    cutoff = utcnow() - timedelta(seconds=grace_s)
    overdue = session.scalars(select(Attempt).where(
        Attempt.status == AttemptStatus.in_progress, Attempt.deadline < cutoff)).all()
    for attempt in overdue:
        submit(session, attempt, auto=True)
    return len(overdue)
