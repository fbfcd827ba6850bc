"""Invitation e-mail through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.email.service import SmtpConfig, deliver_pending
from server.models import EmailOutbox, Role
from tests.conftest import World
from tests.factories import make_assessment
from tests.pg import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_invite_is_delivered_over_smtp(world: World, as_user: Any, session: Session, app: Any,
                                       smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    assessment = make_assessment(session, org=world.org, title="Cluster debugging")
    session.commit()
    c = as_user(world.users[Role.recruiter])
    url = c.post(f"/api/v1/assessments/{assessment.id}/invites",
                 json={"email": "lin@example.com", "name": "Lin"}).json()["url"]
    config = SmtpConfig(host="127.0.0.1", port=port, tls="none", username=None, password=None,
                        sender="Burnin <burnin@example.com>")
    sent = asyncio.run(deliver_pending(app.state.sessionmaker, config))
    assert sent == 1
    (msg,) = inbox.messages
    assert msg["To"] == "lin@example.com" and "Cluster debugging" in msg["Subject"]
    assert url in msg.get_payload(decode=True).decode()
    session.expire_all()
    row = session.scalars(select(EmailOutbox)).one()
    assert row.status == "sent" and row.sent_at is not None
    assert asyncio.run(deliver_pending(app.state.sessionmaker, config)) == 0  # not sent twice


def test_unreachable_server_is_retried_then_marked_failed(world: World, session: Session,
                                                          app: Any) -> None:
    from server.email.service import MAX_TRIES, queue

    queue(session, org_id=world.org.id, to="x@example.com", subject="s", body="b", kind="t")
    session.commit()
    dead = SmtpConfig(host="127.0.0.1", port=free_port(), tls="none", username=None,
                      password=None, sender="b@example.com")
    for _ in range(MAX_TRIES):
        assert asyncio.run(deliver_pending(app.state.sessionmaker, dead)) == 0
    session.expire_all()
    row = session.scalars(select(EmailOutbox)).one()
    assert row.status == "failed" and row.tries == MAX_TRIES and row.last_error
