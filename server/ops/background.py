"""Periodic work of the embedded setup: submit overdue attempts, remind, deliver e-mail.

Each pass runs in a worker thread with its own short transaction. In a scale-out deployment
run it in one process only (BURNIN_BACKGROUND=false on the others)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time

import anyio
from sqlalchemy.orm import Session, sessionmaker

from server.attempts import service as attempts
from server.config import Settings
from server.db import transaction
from server.email.service import SmtpConfig, deliver_pending
from server.invites import service as invites

log = logging.getLogger("burnin.background")
REMINDER_EVERY_S = 600


def smtp_config(settings: Settings) -> SmtpConfig | None:
    if not settings.smtp_host:
        return None
    return SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, tls=settings.smtp_tls,
                      username=settings.smtp_username, password=settings.smtp_password,
                      sender=settings.smtp_from)


def sweep(factory: sessionmaker[Session], settings: Settings, *, reminders: bool) -> None:
    with transaction(factory) as session:
        n = attempts.submit_overdue(session, grace_s=settings.save_grace_s)
    if n:
        log.info("submitted overdue attempts", extra={"count": n})
    if reminders:
        with transaction(factory) as session:
            invites.send_reminders(session, base_url=settings.base_url,
                                   secret_key=settings.secret_key)


async def run(factory: sessionmaker[Session], settings: Settings, *, every_s: float) -> None:
    smtp = smtp_config(settings)
    last_reminder = 0.0
    while True:
        try:
            due = time.monotonic() - last_reminder > REMINDER_EVERY_S
            await anyio.to_thread.run_sync(functools.partial(sweep, factory, settings,
                                                             reminders=due))
            if due:
                last_reminder = time.monotonic()
            if smtp is not None:
                await deliver_pending(factory, smtp)
        except asyncio.CancelledError:
            raise
        except Exception:  # keep the loop alive; the next pass retries
            log.exception("background pass failed")
        await asyncio.sleep(every_s)
