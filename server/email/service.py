"""E-mail: written to the outbox in the transaction that causes it, delivered by a sender."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from sqlalchemy.orm import Session, sessionmaker

from server.db import transaction
from server.email import repository as repo
from server.models import EmailOutbox, utcnow

log = logging.getLogger("burnin.email")
MAX_TRIES = 5


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: str  # starttls, ssl or none
    username: str | None
    password: str | None
    sender: str


def queue(session: Session, *, org_id: int, to: str, subject: str, body: str,
          kind: str, sender: str | None = None) -> EmailOutbox:
    message = EmailOutbox(org_id=org_id, to_addr=to, subject=subject, body_text=body, kind=kind,
                          from_addr=sender)
    repo.add(session, message)
    return message


def outbox(session: Session, org_id: int, *, limit: int = 200) -> list[EmailOutbox]:
    return repo.outbox(session, org_id, limit=limit)


async def send_one(config: SmtpConfig, to: str, subject: str, body: str,
                   sender: str | None = None) -> None:
    msg = EmailMessage()
    msg["From"] = sender or config.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    await aiosmtplib.send(
        msg, hostname=config.host, port=config.port, username=config.username,
        password=config.password, use_tls=config.tls == "ssl",
        start_tls=config.tls == "starttls", timeout=20,
    )


async def deliver_pending(factory: sessionmaker[Session], config: SmtpConfig,
                          *, batch: int = 20) -> int:
    """Send pending messages; a failure is recorded and retried on a later pass."""
    with transaction(factory) as session:
        pending = [(m.id, m.to_addr, m.subject, m.body_text, m.from_addr)
                   for m in repo.pending(session, max_tries=MAX_TRIES, limit=batch)]
    sent = 0
    for mid, to, subject, body, sender in pending:
        error = None
        try:
            await send_one(config, to, subject, body, sender)
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
            log.warning("e-mail not sent", extra={"outbox_id": mid, "error": error})
        with transaction(factory) as session:
            m = repo.get(session, mid)
            m.tries += 1
            if error is None:
                m.status, m.sent_at, m.last_error = "sent", utcnow(), None
                sent += 1
            else:
                m.last_error = error
                if m.tries >= MAX_TRIES:
                    m.status = "failed"
    return sent
