"""The whole flow on the server with the real scenario bank and grading library:
invite -> start -> save -> submit -> a worker grades -> the hiring manager reads the report."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.grading.grade_fn import load_grade_fn
from server.grading.worker import Worker
from server.models import Attempt, AttemptStatus, Role
from tests.conftest import World
from tests.factories import make_assessment, make_invite, open_as_candidate

CALIBRATION = "scenarios/debug_slow_run/calibration"


def _take(app: Any, session: Session, world: World, case: str) -> int:
    from pathlib import Path

    cal = json.loads((Path(__file__).resolve().parents[2] / CALIBRATION / f"{case}.json")
                     .read_text())
    assessment = make_assessment(session, org=world.org)
    invite, _ = make_invite(session, assessment=assessment)
    session.commit()
    cand = open_as_candidate(app, session, invite)
    assert cand.post("/api/v1/candidate/attempt/start").status_code == 200
    attempt = session.scalars(select(Attempt).where(Attempt.invite_id == invite.id)).one()
    attempt.seeds = {"debug-slow-run": cal["seed"]}  # the variant the calibration answers
    session.commit()
    r = cand.put("/api/v1/candidate/answers/0", json={"base_version": 0,
                                                     "content": cal["answers"]})
    assert r.status_code == 200, r.text
    assert cand.post("/api/v1/candidate/submit").json()["status"] == "submitted"
    return attempt.id


@pytest.mark.parametrize(("case", "low", "high"), [("reference", 90, 100), ("empty", 0, 5),
                                                   ("wrong", 0, 40)])
def test_submitted_answers_are_graded_into_their_bands(
    case: str, low: float, high: float, app: Any, session: Session, world: World,
    as_user: Any
) -> None:
    grade_fn = load_grade_fn(app.state.settings, app.state.bank.bank)
    assert grade_fn is not None
    attempt_id = _take(app, session, world, case)
    worker = Worker(app.state.sessionmaker, grade_fn)
    outcome = worker.run_once()
    assert outcome is not None
    session.expire_all()
    assert session.get_one(Attempt, attempt_id).status == AttemptStatus.graded
    hm = as_user(world.users[Role.hiring_manager])
    report = hm.get(f"/api/v1/attempts/{attempt_id}/report").json()
    assert low <= report["score"] <= high, report["score"]
    assert report["criteria"] and all(c["scorer"] for c in report["criteria"])
    page = hm.get(f"/attempts/{attempt_id}")
    assert page.status_code == 200 and "Criteria" in page.text
    # Grading again yields the same report.
    from server.grading import service

    snap = service.attempt_snapshot(session, attempt_id)
    again = grade_fn(snap)
    assert round(again.score or 0, 6) == round(report["automated_score"] or report["score"], 6)
