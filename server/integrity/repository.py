"""All SQL of the integrity domain: signals and the answers they compare."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Answer, Attempt, AttemptStatus, IntegritySignal


def add_signal(session: Session, signal: IntegritySignal) -> None:
    session.add(signal)
    session.flush()


def answers_of(session: Session, attempt_id: int) -> Sequence[Answer]:
    return session.scalars(
        select(Answer).where(Answer.attempt_id == attempt_id).order_by(Answer.scenario_id)
    ).all()


def attempt(session: Session, attempt_id: int) -> Attempt | None:
    return session.get(Attempt, attempt_id)


def signals_of(session: Session, attempt_id: int) -> Sequence[IntegritySignal]:
    return session.scalars(
        select(IntegritySignal).where(IntegritySignal.attempt_id == attempt_id)
        .order_by(IntegritySignal.at, IntegritySignal.id)
    ).all()


def answers_to_scenario_in_org(session: Session, org_id: int, scenario_id: str,
                               exclude_attempt: int) -> Sequence[Answer]:
    stmt = (
        select(Answer)
        .join(Attempt, Attempt.id == Answer.attempt_id)
        .where(Attempt.org_id == org_id, Answer.scenario_id == scenario_id,
               Answer.attempt_id != exclude_attempt,
               Attempt.status.in_((AttemptStatus.submitted, AttemptStatus.graded)))
        .order_by(Answer.attempt_id)
    )
    return session.scalars(stmt).all()


def delete_similarity_of(session: Session, scenario_id: str, attempt_id: int) -> None:
    """Drop the similarity flags between this attempt and any other on a scenario: its own
    and their mirror on each other attempt. Two queries, whatever the cohort size."""
    base = select(IntegritySignal).where(IntegritySignal.kind == "similarity",
                                         IntegritySignal.scenario_id == scenario_id)
    mine = session.scalars(base.where(IntegritySignal.attempt_id == attempt_id)).all()
    partners = {r.data.get("other_attempt_id") for r in mine} - {None}
    mirrors = session.scalars(base.where(IntegritySignal.attempt_id.in_(partners))).all() \
        if partners else []
    for row in [*mine, *(m for m in mirrors if m.data.get("other_attempt_id") == attempt_id)]:
        session.delete(row)
    session.flush()
