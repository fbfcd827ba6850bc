"""All SQL of the audit domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import AuditEvent


def add(session: Session, event: AuditEvent) -> None:
    session.add(event)
    session.flush()


def events_of_org(session: Session, org_id: int, *, limit: int, offset: int,
                  action: str | None = None, actor: str | None = None,
                  object_type: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.org_id == org_id)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        stmt = stmt.where(AuditEvent.actor.contains(actor, autoescape=True))
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def facets(session: Session, org_id: int) -> tuple[list[str], list[str]]:
    """The actions and object types the organization's log holds (for the filters)."""
    where = AuditEvent.org_id == org_id
    actions = session.scalars(select(AuditEvent.action).where(where).distinct())
    types = session.scalars(select(AuditEvent.object_type).where(where).distinct())
    return sorted(actions), sorted(types)
