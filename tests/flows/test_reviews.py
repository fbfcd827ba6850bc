"""Hiring managers: dashboard, report, grading in place, compare, CSV export, queue."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import AuditEvent, Candidate, Role
from tests.conftest import World
from tests.grading.factories import make_assessment, make_graded_attempt


def _two(session: Session, world: World) -> tuple[Any, Any, Any]:
    a = make_assessment(session, org=world.org)
    x = make_graded_attempt(session, org=world.org, assessment=a)
    y = make_graded_attempt(session, org=world.org, assessment=a)
    session.commit()
    return a, x, y


def test_dashboard_lists_scores_and_exports_csv(world: World, as_user: Any,
                                                session: Session) -> None:
    a, x, y = _two(session, world)
    evil = session.get_one(Candidate, x.candidate_id)
    evil.name = "=HYPERLINK(1)"
    session.commit()
    hm = as_user(world.users[Role.hiring_manager])
    page = hm.get(f"/assessments/{a.id}/dashboard")
    assert page.status_code == 200 and f"/attempts/{x.id}" in page.text
    assert "Compare selected" in page.text
    r = hm.get(f"/assessments/{a.id}/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {int(row["attempt_id"]) for row in rows} == {x.id, y.id}
    assert all(row["score"] for row in rows)
    assert next(row for row in rows if int(row["attempt_id"]) == x.id)["name"].startswith("'=")
    recruiter = as_user(world.users[Role.recruiter])
    rpage = recruiter.get(f"/assessments/{a.id}/dashboard").text
    assert f'href="/attempts/{x.id}"' not in rpage  # recruiters see overall scores only
    assert recruiter.get(f"/assessments/{a.id}/export.csv").status_code == 403


def test_report_page_shows_evidence_and_grading_updates_it(world: World, as_user: Any,
                                                           session: Session) -> None:
    a, x, _ = _two(session, world)
    hm = as_user(world.users[Role.hiring_manager])
    before = hm.get(f"/api/v1/attempts/{x.id}/report").json()
    page = hm.get(f"/attempts/{x.id}")
    assert page.status_code == 200 and "Criteria" in page.text and "Audit trail" in page.text
    item = next(c for c in before["criteria"] if c["criterion_id"] == "c-field")
    r = hm.post(f"/attempts/{x.id}/grade", data={
        "scenario_id": "s1", "criterion_id": "c-field", "kind": "override",
        "points": str(item["max_points"]), "reason": "model misread the unit"},
        follow_redirects=False)
    assert r.status_code == 303
    after = hm.get(f"/api/v1/attempts/{x.id}/report").json()
    changed = next(c for c in after["criteria"] if c["criterion_id"] == "c-field")
    assert changed["points"] == item["max_points"]
    page = hm.get(f"/attempts/{x.id}").text
    assert "model misread the unit" in page and "automated result" in page
    missing = hm.post(f"/attempts/{x.id}/grade", data={
        "scenario_id": "s1", "criterion_id": "c-field", "kind": "override", "points": "1",
        "reason": " "})
    assert missing.status_code == 400 and "reason" in missing.text
    ev = session.scalars(select(AuditEvent).where(AuditEvent.action == "grading.override")).one()
    assert ev.actor == world.users[Role.hiring_manager].email


def test_compare_and_review_queue(world: World, as_user: Any, session: Session) -> None:
    a, x, y = _two(session, world)
    hm = as_user(world.users[Role.hiring_manager])
    page = hm.get(f"/compare?attempt={x.id}&attempt={y.id}")
    assert page.status_code == 200 and "systems design" in page.text.lower()
    assert hm.get(f"/compare?attempt={x.id}").status_code == 400
    queue = hm.get("/review")
    assert queue.status_code == 200
    api = hm.get("/api/v1/review-queue").json()
    for item in api:
        assert f"/attempts/{item['attempt_id']}" in queue.text


def test_candidate_text_is_escaped_on_staff_pages(world: World, as_user: Any,
                                                  session: Session) -> None:
    from tests.grading.factories import make_attempt

    x = make_attempt(session, org=world.org, answers={"s1": {
        "essay": "<script>alert(1)</script><img src=x onerror=alert(2)>"}})
    from server.grading import service
    from tests.grading import fns

    snap = service.attempt_snapshot(session, x.id)
    service.store_graded(session, x.id, fns.fixed(snap))
    session.commit()
    hm = as_user(world.users[Role.hiring_manager])
    html = hm.get(f"/attempts/{x.id}").text
    assert "<script>alert(1)" not in html and "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_notebook_history_on_the_report_says_when_a_fresh_kernel_ran_a_cell(
        world: World, as_user: Any, session: Session) -> None:
    from server.models import utcnow
    from server.notebooks import repository

    _, x, _ = _two(session, world)
    now = utcnow()
    repository.add_cell_run(session, attempt_id=x.id, scenario_id="s1", code="boom()",
                            outputs=[], status="process_limit", execution_count=1,
                            started_at=now, finished_at=now,
                            detail="the cell started more processes than the sandbox allows")
    repository.add_cell_run(session, attempt_id=x.id, scenario_id="s1", code="1 + 1",
                            outputs=[], status="ok", execution_count=1, started_at=now,
                            finished_at=now, kernel_restarted="a fork bomb <b>took</b> it")
    session.commit()
    page = as_user(world.users[Role.hiring_manager]).get(f"/attempts/{x.id}").text
    assert "Notebook history (2 cells)" in page
    assert "process limit" in page and "more processes than the sandbox allows" in page
    assert "Kernel restarted before this cell" in page
    assert "a fork bomb &lt;b&gt;took&lt;/b&gt; it" in page  # escaped like all candidate text
