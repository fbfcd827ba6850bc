"""All SQL of the e-mail domain: the outbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import EmailOutbox


def add(session: Session, message: EmailOutbox) -> None:
    session.add(message)
    session.flush()


def outbox(session: Session, org_id: int, *, limit: int) -> list[EmailOutbox]:
    stmt = (select(EmailOutbox).where(EmailOutbox.org_id == org_id)
            .order_by(EmailOutbox.id.desc()).limit(limit))
    return list(session.scalars(stmt))


def pending(session: Session, *, max_tries: int, limit: int) -> list[EmailOutbox]:
    return list(session.scalars(
        select(EmailOutbox).where(EmailOutbox.status == "pending", EmailOutbox.tries < max_tries)
        .order_by(EmailOutbox.id).limit(limit)))


def get(session: Session, message_id: int) -> EmailOutbox:
    return session.get_one(EmailOutbox, message_id)
