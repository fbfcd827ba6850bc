"""The periodic pass (server/ops/background.py): on PostgreSQL one process at a time runs it,
so every node of a scale-out deployment may run the loop; on SQLite it always runs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from server.models import Attempt, AttemptStatus, utcnow
from server.ops import background
from tests.conftest import World
from tests.factories import make_assessment, make_invite


def _overdue_attempt(session: Session, world: World) -> int:
    assessment = make_assessment(session, org=world.org)
    invite, _ = make_invite(session, assessment=assessment)
    now = utcnow()
    attempt = Attempt(org_id=invite.org_id, invite_id=invite.id, assessment_id=assessment.id,
                      candidate_id=invite.candidate_id, started_at=now - timedelta(hours=2),
                      deadline=now - timedelta(hours=1), seeds={"debug-slow-run": 1})
    session.add(attempt)
    session.commit()
    return attempt.id


def _status(app: Any, attempt_id: int) -> AttemptStatus:
    with app.state.sessionmaker() as s:
        attempt = s.get(Attempt, attempt_id)
        assert attempt is not None
        return attempt.status


def test_a_pass_waits_for_the_one_another_process_is_running(app: Any, session: Session,
                                                              world: World) -> None:
    attempt_id = _overdue_attempt(session, world)
    factory, settings = app.state.sessionmaker, app.state.settings
    other = background.take_pass_lock(app.state.engine)  # another node, mid-pass
    assert other is not None
    postgres = app.state.engine.dialect.name == "postgresql"
    try:
        ran = asyncio.run(background.run_pass(factory, settings, reminders=True, smtp=None))
        assert ran is not postgres
        if postgres:
            assert _status(app, attempt_id) == AttemptStatus.in_progress
    finally:
        background.release_pass_lock(other)
    assert asyncio.run(background.run_pass(factory, settings, reminders=True, smtp=None))
    assert _status(app, attempt_id) != AttemptStatus.in_progress  # submitted by the sweep
    # Released after its pass: the next process's pass runs.
    again = background.take_pass_lock(app.state.engine)
    assert again is not None
    background.release_pass_lock(again)
