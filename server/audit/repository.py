"""All SQL of the audit domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import AuditEvent


def add(session: Session, event: AuditEvent) -> None:
    session.add(event)
    session.flush()


def events_of_org(session: Session, org_id: int, *, limit: int, offset: int) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.org_id == org_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))
