"""The candidate's journey on the server: link, rules, clock, autosave, submit.

Nothing saved is ever lost: not by a stale tab, a concurrent save, or the deadline."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.attempts import service as attempts
from server.models import (
    Answer,
    AnswerRevision,
    Attempt,
    AttemptStatus,
    CandidateSession,
    GradingJob,
    IntegritySignal,
    Invite,
    utcnow,
)
from tests.conftest import World
from tests.factories import make_assessment, make_invite, open_as_candidate
from tests.htmlcheck import inert_problems


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.fixture
def invite(world: World, session: Session) -> tuple[Invite, str]:
    assessment = make_assessment(session, org=world.org, minutes=30)
    inv, token = make_invite(session, assessment=assessment)
    session.commit()
    return inv, token


@pytest.fixture
def cand(app: Any, session: Session, invite: tuple[Invite, str]) -> TestClient:
    c: TestClient = open_as_candidate(app, session, invite[0])
    return c


def _field_ids(c: TestClient) -> list[str]:
    return [f["id"] for f in c.get("/api/v1/candidate/scenarios/0").json()["form"]]


def test_link_becomes_a_cookie_and_leaves_the_address_bar(client: TestClient,
                                                          invite: tuple[Invite, str]) -> None:
    r = client.get(f"/i/{invite[1]}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/take"
    assert "HttpOnly" in r.headers["set-cookie"] and "no-store" in r.headers["cache-control"]
    page = client.get("/take")
    assert page.status_code == 200 and invite[1] not in page.text
    assert "30 minutes" in page.text and "What is recorded" in page.text


def test_start_sets_a_server_deadline_that_reload_does_not_reset(cand: TestClient,
                                                                  session: Session) -> None:
    assert cand.get("/api/v1/candidate/attempt").json()["status"] == "not_started"
    assert cand.get("/api/v1/candidate/scenarios/0").status_code == 409
    first = cand.post("/api/v1/candidate/attempt/start").json()
    again = cand.post("/api/v1/candidate/attempt/start").json()
    assert first["status"] == "in_progress" and first["deadline"] == again["deadline"]
    attempt = session.scalars(select(Attempt)).one()
    assert attempt.deadline - attempt.started_at == timedelta(minutes=30)
    assert set(attempt.seeds) == {"debug-slow-run"}


def test_scenario_view_has_prompt_form_and_artifacts(cand: TestClient) -> None:
    cand.post("/api/v1/candidate/attempt/start")
    s = cand.get("/api/v1/candidate/scenarios/0").json()
    assert s["prompt_html"] and s["form"] and s["artifacts"]
    path = s["artifacts"][0]["path"]
    r = cand.get(f"/api/v1/candidate/artifacts/0/{path}")
    assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"
    assert "text/html" not in r.headers["content-type"]
    assert cand.get("/api/v1/candidate/artifacts/0/../../etc/passwd").status_code in (404, 422)
    assert cand.get("/api/v1/candidate/scenarios/5").status_code == 404


def test_versioned_saves_never_overwrite_a_newer_version(cand: TestClient,
                                                         session: Session) -> None:
    cand.post("/api/v1/candidate/attempt/start")
    fid = _field_ids(cand)[-1]
    r1 = cand.put("/api/v1/candidate/answers/0", json={"base_version": 0, "content": {fid: "a"}})
    assert r1.json()["version"] == 1
    r2 = cand.put("/api/v1/candidate/answers/0", json={"base_version": 1, "content": {fid: "ab"}})
    assert r2.json()["version"] == 2
    # A second tab still on version 1 tries to save: refused, and told what the server has.
    stale = cand.put("/api/v1/candidate/answers/0", json={"base_version": 1,
                                                          "content": {fid: "OLD"}})
    assert stale.status_code == 409
    assert stale.json()["version"] == 2 and stale.json()["content"] == {fid: "ab"}
    answer = session.scalars(select(Answer)).one()
    assert answer.content == {fid: "ab"}
    revisions = session.scalars(select(AnswerRevision.content).order_by(AnswerRevision.version)).all()
    assert revisions == [{fid: "a"}, {fid: "ab"}]
    assert cand.get("/api/v1/candidate/scenarios/0").json()["answer"] == {fid: "ab"}
    unknown = cand.put("/api/v1/candidate/answers/0", json={"base_version": 2,
                                                           "content": {"rubric": 1}})
    assert unknown.status_code == 422


def test_a_save_resent_after_it_was_committed_is_saved_not_a_conflict(
        cand: TestClient, session: Session) -> None:
    """A proxy resends a PUT when the node that committed it died before answering: the
    same content at the version it made is 200 with that version and no new revision; a
    different content, or the same once a later version exists, is still a 409."""
    cand.post("/api/v1/candidate/attempt/start")
    fid = _field_ids(cand)[-1]

    def put(base: int, text: str) -> Any:
        return cand.put("/api/v1/candidate/answers/0",
                        json={"base_version": base, "content": {fid: text}})

    assert put(0, "first").json()["version"] == 1
    again = put(0, "first")  # the first save of the answer, resent
    assert again.status_code == 200 and again.json()["version"] == 1
    assert put(1, "second").json()["version"] == 2
    again = put(1, "second")
    assert again.status_code == 200 and again.json()["version"] == 2
    other = put(1, "another tab")
    assert other.status_code == 409 and other.json()["content"] == {fid: "second"}
    assert put(2, "third").json()["version"] == 3
    late = put(1, "second")  # the resend arrives after a newer save: a real conflict
    assert late.status_code == 409 and late.json()["version"] == 3
    revisions = session.scalars(select(AnswerRevision.version)
                                .order_by(AnswerRevision.version)).all()
    assert revisions == [1, 2, 3]


def _candidate_api_routes() -> list[tuple[str, str]]:
    from fastapi.routing import APIRoute

    from server.attempts.router import router

    return sorted((m, r.path) for r in router.routes if isinstance(r, APIRoute)
                  for m in r.methods - {"HEAD"})


@pytest.mark.parametrize("bad", ["forged", "expired", "missing"])
def test_a_caller_who_is_not_the_candidate_gets_401_before_any_body_or_path_error(
        bad: str, app: Any, cand: TestClient, session: Session) -> None:
    """Every candidate API route: a malformed JSON body, a body of the wrong shape and an
    index out of range are 400/422 for the candidate, but 401 for a forged, expired or
    missing cookie (and 403 without the CSRF token): authentication comes first."""
    routes = _candidate_api_routes()
    assert ("PUT", "/api/v1/candidate/answers/{index}") in routes and len(routes) >= 10
    cand.post("/api/v1/candidate/attempt/start")
    bodies = ["{\"base_version\": ", "[]", "{\"base_version\": -1, \"content\": 3}"]

    def call(c: TestClient, method: str, path: str, body: str, **headers: str) -> int:
        url = path.replace("{index}", "100").replace("{path}", "x.log")
        return c.request(method, url, content=body if method != "GET" else None,
                         headers={"content-type": "application/json", **headers}).status_code

    refused_for_the_candidate = 0
    for method, path in routes:
        for body in bodies:
            status = call(cand, method, path, body)
            refused_for_the_candidate += status in (400, 422)
            if method != "GET":
                assert call(cand, method, path, body, **{"x-csrf-token": "wrong"}) == 403, \
                    (method, path, body)
    # Most routes can fail validation (the others have neither a body nor a path field).
    assert refused_for_the_candidate >= 3 * 9

    if bad == "forged":
        cand.cookies.set("burnin_candidate", "f" * 43)
    elif bad == "expired":
        session.execute(update(CandidateSession).values(
            expires_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    else:
        cand.cookies.clear()
    for method, path in routes:
        for body in bodies:
            assert call(cand, method, path, body) == 401, (bad, method, path, body)


def test_concurrent_saves_from_the_same_version_have_one_winner(
    cand: TestClient, session: Session, app: Any, invite: tuple[Invite, str]
) -> None:
    cand.post("/api/v1/candidate/attempt/start")
    fid = _field_ids(cand)[-1]
    cand.put("/api/v1/candidate/answers/0", json={"base_version": 0, "content": {fid: "base"}})
    clients = [open_as_candidate(app, session, invite[0]) for _ in range(6)]
    results: list[int] = []
    barrier = threading.Barrier(len(clients))

    def go(i: int, c: TestClient) -> None:
        barrier.wait()
        results.append(c.put("/api/v1/candidate/answers/0",
                             json={"base_version": 1, "content": {fid: f"tab{i}"}}).status_code)

    threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * 5
    session.expire_all()
    answer = session.scalars(select(Answer)).one()
    assert answer.version == 2
    assert session.scalar(select(func.count()).select_from(AnswerRevision)) == 2


def test_deadline_closes_saves_and_submits_the_last_saved_state(
    cand: TestClient, session: Session
) -> None:
    cand.post("/api/v1/candidate/attempt/start")
    fid = _field_ids(cand)[-1]
    cand.put("/api/v1/candidate/answers/0", json={"base_version": 0, "content": {fid: "kept"}})
    attempt = session.scalars(select(Attempt)).one()
    attempt.deadline = attempt.started_at  # time is up (grace 15 s already past below)
    attempt.started_at -= timedelta(minutes=31)
    attempt.deadline -= timedelta(minutes=1)
    session.commit()
    late = cand.put("/api/v1/candidate/answers/0", json={"base_version": 1,
                                                        "content": {fid: "late"}})
    assert late.status_code == 409 and late.json()["error"] == "attempt_closed"
    session.expire_all()
    attempt = session.scalars(select(Attempt)).one()
    assert attempt.status == AttemptStatus.submitted
    assert session.scalars(select(Answer)).one().content == {fid: "kept"}
    assert session.scalar(select(func.count()).select_from(GradingJob)) == 1


def test_save_within_the_grace_period_is_kept(cand: TestClient, session: Session) -> None:
    cand.post("/api/v1/candidate/attempt/start")
    fid = _field_ids(cand)[-1]
    attempt = session.scalars(select(Attempt)).one()
    attempt.deadline = attempt.deadline - timedelta(minutes=30, seconds=5)  # 5 s ago
    session.commit()
    r = cand.put("/api/v1/candidate/answers/0", json={"base_version": 0,
                                                     "content": {fid: "last words"}})
    assert r.status_code == 200


def test_overdue_sweep_submits_and_enqueues_once(cand: TestClient, session: Session) -> None:
    cand.post("/api/v1/candidate/attempt/start")
    attempt = session.scalars(select(Attempt)).one()
    attempt.deadline -= timedelta(hours=1)
    session.commit()
    assert attempts.submit_overdue(session, grace_s=15) == 1
    assert attempts.submit_overdue(session, grace_s=15) == 0
    session.commit()
    assert session.scalar(select(func.count()).select_from(GradingJob)) == 1


def test_submit_freezes_and_enqueues_grading_in_one_transaction(
    cand: TestClient, session: Session
) -> None:
    cand.post("/api/v1/candidate/attempt/start")
    fid = _field_ids(cand)[-1]
    cand.put("/api/v1/candidate/answers/0", json={"base_version": 0, "content": {fid: "x"}})
    r = cand.post("/api/v1/candidate/submit")
    assert r.json()["status"] == "submitted"
    assert cand.post("/api/v1/candidate/submit").json()["status"] == "submitted"
    job = session.scalars(select(GradingJob)).one()
    attempt = session.scalars(select(Attempt)).one()
    assert job.attempt_id == attempt.id and attempt.status == AttemptStatus.submitted
    after = cand.put("/api/v1/candidate/answers/0", json={"base_version": 1, "content": {fid: "y"}})
    assert after.status_code == 409
    assert cand.get("/take", follow_redirects=False).headers["location"] == "/take/done"
    assert "Thank you" in cand.get("/take/done").text


def test_integrity_events_are_recorded(cand: TestClient, session: Session) -> None:
    cand.post("/api/v1/candidate/attempt/start")
    assert cand.post("/api/v1/candidate/events", json={"kind": "paste", "scenario_id":
                                                       "debug-slow-run",
                                                       "data": {"chars": 420}}).status_code == 204
    assert cand.post("/api/v1/candidate/events", json={"kind": "keylog"}).status_code == 422
    sig = session.scalars(select(IntegritySignal)).one()
    assert sig.kind == "paste" and sig.data["chars"] == 420
    assert sig.scenario_id == "debug-slow-run"


def test_markdown_preview_is_inert(cand: TestClient) -> None:
    evil = ('<script>alert(1)</script> <img src=x onerror="alert(2)"> '
            '[click](javascript:alert(3)) <svg><script>alert(4)</script></svg>')
    html = cand.post("/api/v1/candidate/markdown", json={"text": evil}).json()["html"]
    assert inert_problems(html) == []
    assert "alert(1)" in html  # shown as text, not dropped silently


def test_candidate_responses_never_carry_hidden_material(
    cand: TestClient, session: Session
) -> None:
    """Rubric, checks, calibration and hidden parameters stay on the server."""
    from server.bank.service import BankService

    scenario = BankService().get("debug-slow-run")
    hidden = set()
    for c in scenario.rubric.criteria:
        hidden.update(lv.descriptor for lv in c.levels if len(lv.descriptor) > 30)
    for case in scenario.calibration.values():
        hidden.update(v for v in _strings(case.model_dump()) if len(v) > 40)
    for path in scenario.checks_dir.rglob("*.py"):
        hidden.update(line.strip() for line in path.read_text().splitlines()
                      if len(line.strip()) > 40)
    cand.post("/api/v1/candidate/attempt/start")
    seed = session.scalars(select(Attempt)).one().seeds["debug-slow-run"]
    variant = scenario.render(int(seed))
    hidden_params = {p.name for p in scenario.manifest.parameters if getattr(p, "hidden", False)}
    bodies = [cand.get(u).text for u in ("/take", "/take/0", "/api/v1/candidate/attempt",
                                         "/api/v1/candidate/scenarios/0")]
    blob = "\n".join(bodies)
    for marker in hidden:
        assert marker not in blob, marker
    # Hidden parameters never travel as data (a key in any JSON the candidate gets).
    assert hidden_params and set(hidden_params) <= set(variant.params)
    for name in hidden_params:
        assert f'"{name}":' not in bodies[2] + bodies[3], name
    for word in ("rubric", "calibration", "answer_key", "checks/", "score"):
        assert word not in blob.lower(), word
    assert len(hidden) > 5  # the test looked for real material
