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


def list_events(session: Session, org_id: int, *, limit: int = 100, offset: int = 0,
                action: str | None = None, actor: str | None = None,
                object_type: str | None = None) -> list[AuditEvent]:
    """Newest first; `action` matches a prefix ("user." for every user change), `actor` a
    part of the actor's label, `object_type` exactly."""
    return repo.events_of_org(session, org_id, limit=limit, offset=offset, action=action,
                              actor=actor, object_type=object_type)


def facets(session: Session, org_id: int) -> tuple[list[str], list[str]]:
    return repo.facets(session, org_id)


# Where an audited object is shown, for links from the audit log.
OBJECT_PAGES = {"user": "/admin/users#user-{id}", "assessment": "/assessments/{id}",
                "attempt": "/attempts/{id}", "organization": "/admin/settings"}


def object_url(object_type: str, object_id: str) -> str | None:
    page = OBJECT_PAGES.get(object_type)
    return page.format(id=object_id) if page and object_id.isdigit() else None
