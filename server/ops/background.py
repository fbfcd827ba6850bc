"""Periodic work: submit overdue attempts, remind, deliver e-mail.

Each pass runs in a worker thread with its own short transactions. On PostgreSQL every node
of a scale-out deployment may run it: a pass runs only while its process holds a
cluster-wide advisory lock (on a connection of its own), so passes of different nodes never
overlap (an e-mail is not sent twice by two nodes at once), and a node that dies mid-pass
drops its connection and with it the lock: the next node's pass picks up what is left."""

from __future__ import annotations

import asyncio
import functools
import logging
import time

import anyio
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from server.attempts import service as attempts
from server.config import Settings
from server.db import transaction
from server.email.service import SmtpConfig, deliver_pending
from server.invites import service as invites

log = logging.getLogger("burnin.background")
REMINDER_EVERY_S = 600
PASS_LOCK = 0x6275726E  # pg_try_advisory_lock key of a background pass ("burn")


def take_pass_lock(engine: Engine) -> Connection | None:
    """The connection holding the pass lock, or None when another process holds it. On
    SQLite (one host, one process) there is nothing to take: a connection is returned."""
    conn = engine.connect()
    if engine.dialect.name != "postgresql":
        return conn
    try:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                {"k": PASS_LOCK}).scalar())
        conn.commit()  # a session lock: no transaction stays open across the pass
    except Exception:
        conn.close()
        raise
    if not got:
        conn.close()
        return None
    return conn


def release_pass_lock(conn: Connection) -> None:
    try:
        if conn.engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PASS_LOCK})
            conn.commit()
    finally:
        conn.close()  # closing alone would also release it, with the connection


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


async def run_pass(factory: sessionmaker[Session], settings: Settings, *, reminders: bool,
                   smtp: SmtpConfig | None) -> bool:
    """One pass, if no other process is running one; whether it ran."""
    engine = factory.kw["bind"]
    lock = await anyio.to_thread.run_sync(take_pass_lock, engine)
    if lock is None:
        return False
    try:
        await anyio.to_thread.run_sync(functools.partial(sweep, factory, settings,
                                                         reminders=reminders))
        if smtp is not None:
            await deliver_pending(factory, smtp)
    finally:
        await anyio.to_thread.run_sync(release_pass_lock, lock)
    return True


async def run(factory: sessionmaker[Session], settings: Settings, *, every_s: float) -> None:
    smtp = smtp_config(settings)
    last_reminder = 0.0
    while True:
        try:
            due = time.monotonic() - last_reminder > REMINDER_EVERY_S
            # Reminders are due per invite (reminded_at), so a pass that another node
            # ran instead loses none: the next pass of any node sends them.
            if await run_pass(factory, settings, reminders=due, smtp=smtp) and due:
                last_reminder = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception:  # keep the loop alive; the next pass retries
            log.exception("background pass failed")
        await asyncio.sleep(every_s)
