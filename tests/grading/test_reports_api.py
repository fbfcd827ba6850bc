"""Reports for hiring managers and admins, the review queue, manual grades and overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit.service import Actor
from server.grading import service
from server.grading.worker import Worker
from server.models import AuditEvent, Role
from tests.conftest import World
from tests.grading.factories import make_assessment, make_attempt, make_graded_attempt

AsUser = Callable[[Any], TestClient]


def test_reviewers_see_the_whole_report_recruiters_the_score_only(
        session: Session, world: World, as_user: AsUser) -> None:
    attempt = make_graded_attempt(session, org=world.org)
    session.commit()
    for role in (Role.admin, Role.hiring_manager):
        r = as_user(world.users[role]).get(f"/api/v1/attempts/{attempt.id}/report")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["graded"] and body["status"] == "graded" and body["revision"] == 1
        # fields: 10/10 hardware, y=0 -> 0/10 coding, 4/10 text, manual pending.
        assert body["dimensions"] == {"communication": 40.0, "coding": 0.0,
                                      "hardware_awareness": 100.0}
        assert body["score"] == pytest.approx(100 * 14 / 30, abs=1e-3)
        assert body["percentile"] == 50.0  # alone in its cohort
        crit = {c["criterion_id"]: c for c in body["criteria"]}
        assert crit["c-field"]["scorer"] == "check:field"
        assert crit["c-field"]["evidence"][0]["expected"] == 1
        assert crit["c-field"]["evidence"][0]["value"] == 1
        assert {c["criterion_id"] for c in body["pending_review"]} == {"c-text", "c-manual"}
        # Criteria wait for a person: the score is provisional, never shown as final.
        assert body["review_state"] == "needs_review"
        assert body["integrity"] == {"counts": {}, "timeline": [], "similar": []}
    r = as_user(world.users[Role.recruiter]).get(f"/api/v1/attempts/{attempt.id}/report")
    assert r.status_code == 200
    body = r.json()
    assert body["score"] == pytest.approx(100 * 14 / 30, abs=1e-3)
    assert body["criteria"] is None and body["dimensions"] is None and body["integrity"] is None
    assert body["review_state"] == "needs_review" and body["score_min"] is None


def test_an_ungraded_attempt_says_so_and_shows_its_job(
        session: Session, world: World, as_user: AsUser) -> None:
    attempt = make_attempt(session, org=world.org)
    job = service.enqueue_grading(session, attempt)
    session.commit()
    body = as_user(world.users[Role.hiring_manager]).get(
        f"/api/v1/attempts/{attempt.id}/report").json()
    assert body["graded"] is False and body["score"] is None
    assert body["grading"] == {"job_id": job.id, "state": "queued", "tries": 0}


def test_percentile_within_the_assessments_cohort(
        session: Session, world: World, as_user: AsUser) -> None:
    assessment = make_assessment(session, org=world.org)
    ids = [make_graded_attempt(session, org=world.org, assessment=assessment,
                               answers={"s1": {"x": 1, "y": y}}).id
           for y in (0, 2, 4, 5)]
    make_graded_attempt(session, org=world.org)  # another assessment: not in the cohort
    session.commit()
    c = as_user(world.users[Role.hiring_manager])
    got = [c.get(f"/api/v1/attempts/{i}/report").json()["percentile"] for i in ids]
    assert got == [12.5, 37.5, 62.5, 87.5]


def test_manual_grade_updates_the_report_and_is_audited(
        session: Session, world: World, as_user: AsUser) -> None:
    attempt = make_graded_attempt(session, org=world.org)
    session.commit()
    hm = world.users[Role.hiring_manager]
    c = as_user(hm)
    r = c.post(f"/api/v1/attempts/{attempt.id}/manual-grades",
               json={"scenario_id": "s1", "criterion_id": "c-manual", "level": "strong",
                     "comment": "clear capacity plan"})
    assert r.status_code == 201, r.text
    assert r.json()["report_revision"] == 2
    body = c.get(f"/api/v1/attempts/{attempt.id}/report").json()
    assert body["revision"] == 2
    assert body["score"] == pytest.approx(60.0)
    assert body["dimensions"]["systems_design"] == 100.0
    assert body["automated_score"] == pytest.approx(100 * 14 / 30, abs=1e-3)
    manual = next(x for x in body["criteria"] if x["criterion_id"] == "c-manual")
    assert manual["points"] == 10.0 and manual["scorer"] == f"user:{hm.id}"
    assert manual["status"] == "reviewed" and manual["review_level"] == "strong"
    assert manual["review_comment"] == "clear capacity plan"
    # What the grader said stays visible.
    assert (manual["automated_points"], manual["automated_scorer"]) == (0.0, "check:manual")
    assert manual["automated"] == {"points": 0.0, "scorer": "check:manual"}
    assert manual["levels"] == {"weak": 0.0, "ok": 5.0, "strong": 10.0}
    assert [x["criterion_id"] for x in body["pending_review"]] == ["c-text"]
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "grading.grade"))
    assert event.actor_user_id == hm.id and event.object_id == str(attempt.id)
    assert event.data["level"] == "strong" and event.data["comment"] == "clear capacity plan"


def test_override_needs_a_reason_and_keeps_the_automated_result(
        session: Session, world: World, as_user: AsUser) -> None:
    attempt = make_graded_attempt(session, org=world.org)
    session.commit()
    admin = world.users[Role.admin]
    c = as_user(admin)
    url = f"/api/v1/attempts/{attempt.id}/overrides"
    base = {"scenario_id": "s1", "criterion_id": "c-field", "points": 3}
    assert c.post(url, json=base).status_code == 422
    assert c.post(url, json={**base, "reason": "   "}).status_code == 422
    assert c.post(url, json={**base, "points": 11, "reason": "x"}).status_code == 400
    assert c.post(url, json={**base, "criterion_id": "nope", "reason": "x"}).status_code == 404
    r = c.post(url, json={**base, "reason": "unit was GiB, expected GB"})
    assert r.status_code == 201, r.text
    body = c.get(f"/api/v1/attempts/{attempt.id}/report").json()
    item = next(x for x in body["criteria"] if x["criterion_id"] == "c-field")
    assert item["points"] == 3.0 and item["status"] == "overridden"
    assert (item["automated_points"], item["automated_scorer"]) == (10.0, "check:field")
    assert item["review_comment"] == "unit was GiB, expected GB"
    assert body["dimensions"]["hardware_awareness"] == 30.0
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "grading.override"))
    assert event.actor_user_id == admin.id
    assert event.data["reason"] == "unit was GiB, expected GB"
    assert event.data["automated_points"] == 10.0 and event.data["points"] == 3.0


def test_a_level_without_points_needs_a_defined_level(
        session: Session, world: World, as_user: AsUser) -> None:
    attempt = make_graded_attempt(session, org=world.org)
    session.commit()
    c = as_user(world.users[Role.hiring_manager])
    url = f"/api/v1/attempts/{attempt.id}/manual-grades"
    r = c.post(url, json={"scenario_id": "s1", "criterion_id": "c-manual", "level": "superb"})
    assert r.status_code == 400 and "strong" in r.json()["detail"]
    # An automated criterion a person re-grades needs a comment saying why.
    text = {"scenario_id": "s1", "criterion_id": "c-text", "level": "fine", "points": 7}
    r = c.post(url, json=text)
    assert r.status_code == 400 and "reason" in r.json()["detail"]
    assert c.post(url, json={**text, "comment": "names the overlap"}).status_code == 201


def test_manual_grades_survive_a_regrade(
        session: Session, world: World, as_user: AsUser,
        make_worker: Callable[..., Worker]) -> None:
    attempt = make_graded_attempt(session, org=world.org)
    session.commit()
    c = as_user(world.users[Role.hiring_manager])
    c.post(f"/api/v1/attempts/{attempt.id}/manual-grades",
           json={"scenario_id": "s1", "criterion_id": "c-manual", "level": "ok"})
    before = c.get(f"/api/v1/attempts/{attempt.id}/report").json()
    service.regrade(session, attempt, Actor("test"))
    session.commit()
    assert make_worker().run_once().state == "done"  # type: ignore[union-attr]
    after = c.get(f"/api/v1/attempts/{attempt.id}/report").json()
    assert after["revision"] == 4  # 1 graded, 2 reviewed, 3 re-graded, 4 review re-applied
    assert (after["score"], after["dimensions"]) == (before["score"], before["dimensions"])


def test_grading_before_a_report_exists_is_a_conflict(
        session: Session, world: World, as_user: AsUser) -> None:
    attempt = make_attempt(session, org=world.org)
    session.commit()
    r = as_user(world.users[Role.admin]).post(
        f"/api/v1/attempts/{attempt.id}/manual-grades",
        json={"scenario_id": "s1", "criterion_id": "c-manual", "level": "ok", "points": 1})
    assert r.status_code == 409 and r.json()["error"] == "not_graded"


def test_review_queue_lists_the_orgs_pending_criteria_only(
        session: Session, world: World, as_user: AsUser) -> None:
    mine = make_graded_attempt(session, org=world.org)
    make_graded_attempt(session, org=world.other_org)
    session.commit()
    c = as_user(world.users[Role.hiring_manager])
    queue = c.get("/api/v1/review-queue").json()
    assert {(q["attempt_id"], q["criterion_id"]) for q in queue} == {
        (mine.id, "c-text"), (mine.id, "c-manual")}
    c.post(f"/api/v1/attempts/{mine.id}/manual-grades",
           json={"scenario_id": "s1", "criterion_id": "c-text", "level": "ok", "points": 6,
                 "comment": "the cause is right"})
    assert [q["criterion_id"] for q in c.get("/api/v1/review-queue").json()] == ["c-manual"]


def test_a_report_stays_provisional_until_every_waiting_criterion_is_graded(
        session: Session, world: World, as_user: AsUser) -> None:
    attempt = make_graded_attempt(session, org=world.org)
    session.commit()
    c = as_user(world.users[Role.hiring_manager])
    url = f"/api/v1/attempts/{attempt.id}/manual-grades"
    dashboard = f"/assessments/{attempt.assessment_id}/dashboard"
    assert "provisional" in c.get(dashboard).text
    assert "Needs review:" in c.get(f"/attempts/{attempt.id}").text
    assert c.post(url, json={"scenario_id": "s1", "criterion_id": "c-manual",
                             "level": "ok"}).status_code == 201
    body = c.get(f"/api/v1/attempts/{attempt.id}/report").json()
    assert body["review_state"] == "needs_review"  # c-text still waits
    assert c.post(url, json={"scenario_id": "s1", "criterion_id": "c-text", "level": "fine",
                             "points": 3, "comment": "partly right"}).status_code == 201
    body = c.get(f"/api/v1/attempts/{attempt.id}/report").json()
    assert body["review_state"] == "final" and body["pending_review"] == []
    assert body["score_min"] is None and body["score_max"] is None
    page = c.get(dashboard).text
    assert "provisional" not in page and "s-graded" in page
    assert "Needs review:" not in c.get(f"/attempts/{attempt.id}").text
