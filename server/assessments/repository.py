"""All SQL of the assessments domain."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from server.kit.scoping import scoped
from server.models import Assessment, AssessmentStatus, Attempt


def list_in_org(session: Session, org_id: int, *, include_archived: bool) -> list[Assessment]:
    """The organization's assessments with their entries, newest first."""
    stmt = scoped(Assessment, org_id).options(selectinload(Assessment.entries))
    if not include_archived:
        stmt = stmt.where(Assessment.status != AssessmentStatus.archived)
    return list(session.scalars(stmt.order_by(Assessment.created_at.desc(), Assessment.id.desc())))


def get_in_org(session: Session, org_id: int, assessment_id: int) -> Assessment | None:
    return session.scalars(
        scoped(Assessment, org_id).options(selectinload(Assessment.entries))
        .where(Assessment.id == assessment_id)
    ).first()


def add(session: Session, assessment: Assessment) -> None:
    session.add(assessment)
    session.flush()


def attempt_count(session: Session, assessment_id: int) -> int:
    n = session.scalar(select(func.count()).select_from(Attempt)
                       .where(Attempt.assessment_id == assessment_id))
    return int(n or 0)
