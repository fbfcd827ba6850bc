"""The audit log: one event for every staff action that changes data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from server.audit import repository as repo
from server.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff user, or the CLI/system with a label."""

    label: str
    user_id: int | None = None
    org_id: int | None = None
    client_address: str | None = None


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    *,
    org_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        org_id=org_id if org_id is not None else actor.org_id,
        actor_user_id=actor.user_id,
        actor=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=data or {},
        client_address=actor.client_address,
    )
    repo.add(session, event)
    return event


def list_events(session: Session, org_id: int, *, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
    return repo.events_of_org(session, org_id, limit=limit, offset=offset)
