"""Attempts ready to grade: organization -> assessment -> candidate -> invite -> attempt."""

from __future__ import annotations

import itertools
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from server.models import (
    Answer,
    Assessment,
    AssessmentScenario,
    Attempt,
    AttemptStatus,
    Candidate,
    Invite,
    Organization,
    utcnow,
)

_seq = itertools.count(1)


def make_assessment(session: Session, *, org: Organization,
                    scenarios: dict[str, float] | None = None) -> Assessment:
    a = Assessment(org_id=org.id, title=f"Assessment {next(_seq)}")
    session.add(a)
    session.flush()
    for pos, (sid, weight) in enumerate((scenarios or {"s1": 1.0}).items()):
        session.add(AssessmentScenario(assessment_id=a.id, position=pos, scenario_id=sid,
                                       weight=weight))
    session.flush()
    return a


def make_attempt(
    session: Session, *, org: Organization, assessment: Assessment | None = None,
    answers: dict[str, dict[str, Any]] | None = None,
    status: AttemptStatus = AttemptStatus.submitted,
) -> Attempt:
    assessment = assessment or make_assessment(session, org=org)
    n = next(_seq)
    cand = Candidate(org_id=org.id, email=f"cand{n}@example.com", name=f"Candidate {n}")
    session.add(cand)
    session.flush()
    now = utcnow()
    invite = Invite(org_id=org.id, assessment_id=assessment.id, candidate_id=cand.id,
                    token_hash=secrets.token_hex(32), expires_at=now + timedelta(days=7))
    session.add(invite)
    session.flush()
    attempt = Attempt(org_id=org.id, invite_id=invite.id, assessment_id=assessment.id,
                      candidate_id=cand.id, status=status, started_at=now,
                      deadline=now + timedelta(hours=2),
                      submitted_at=now if status != AttemptStatus.in_progress else None,
                      seeds={"s1": 7})
    session.add(attempt)
    session.flush()
    for sid, content in (answers or {"s1": {"x": 1}}).items():
        session.add(Answer(attempt_id=attempt.id, scenario_id=sid, version=1, content=content))
    session.flush()
    return attempt


def make_graded_attempt(session: Session, *, org: Organization, **kw: Any) -> Attempt:
    """An attempt with a current report from the test grade function (tests/grading/fns)."""
    from server.grading import service
    from tests.grading import fns

    attempt = make_attempt(session, org=org, **kw)
    snap = service.attempt_snapshot(session, attempt.id)
    service.store_graded(session, attempt.id, fns.fixed(snap))
    return attempt
