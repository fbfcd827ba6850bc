"""A recruiter builds an assessment from the bank and invites candidates."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.invites import service as invites
from server.models import AuditEvent, EmailOutbox, Invite, Role, utcnow
from tests.conftest import World
from tests.factories import make_assessment, make_invite, open_as_candidate

LINK = re.compile(r"http://testserver/i/[A-Za-z0-9_-]{40,}")


def _recruiter(world: World, as_user: Any) -> TestClient:
    c: TestClient = as_user(world.users[Role.recruiter])
    return c


def test_bank_lists_and_filters_scenarios(world: World, as_user: Any) -> None:
    c = _recruiter(world, as_user)
    all_ = c.get("/api/v1/scenarios").json()
    assert any(s["id"] == "debug-slow-run" for s in all_)
    assert c.get("/api/v1/scenarios", params={"skill": "debugging"}).json()
    assert c.get("/api/v1/scenarios", params={"q": "no-such-thing-xyz"}).json() == []
    assert c.get("/api/v1/scenarios", params={"max_minutes": 1}).json() == []
    preview = c.get("/api/v1/scenarios/debug-slow-run/preview", params={"seed": 3}).json()
    assert preview["prompt_html"] and preview["fields"] and preview["artifacts"]
    assert c.get("/api/v1/scenarios/nope/preview").status_code == 404


def test_create_edit_archive_assessment(world: World, as_user: Any, session: Session) -> None:
    c = _recruiter(world, as_user)
    bad = c.post("/api/v1/assessments", json={"title": "X", "scenarios": [{"scenario_id": "nope"}]})
    assert bad.status_code == 422 and "nope" in bad.json()["detail"]
    dup = c.post("/api/v1/assessments", json={"title": "X", "scenarios": [
        {"scenario_id": "debug-slow-run"}, {"scenario_id": "debug-slow-run"}]})
    assert dup.status_code == 422 and "only once" in dup.json()["detail"]
    r = c.post("/api/v1/assessments", json={"title": "Infra SRE", "time_limit_min": 90,
                                            "scenarios": [{"scenario_id": "debug-slow-run",
                                                           "weight": 2}]})
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["entries"][0]["weight"] == 2 and a["status"] == "active"
    r = c.patch(f"/api/v1/assessments/{a['id']}", json={"title": "Infra SRE II"})
    assert r.json()["title"] == "Infra SRE II"
    r = c.patch(f"/api/v1/assessments/{a['id']}", json={"status": "archived"})
    assert r.json()["status"] == "archived"
    assert [x["id"] for x in c.get("/api/v1/assessments").json()] == []
    assert c.post(f"/api/v1/assessments/{a['id']}/invites",
                  json={"email": "x@example.com"}).status_code == 409
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("assessment.update") == 2 and "assessment.create" in actions


def test_scenarios_are_fixed_once_a_candidate_started(world: World, as_user: Any,
                                                      session: Session, app: Any) -> None:
    assessment = make_assessment(session, org=world.org)
    invite, _ = make_invite(session, assessment=assessment)
    session.commit()
    cand = open_as_candidate(app, session, invite)
    assert cand.post("/api/v1/candidate/attempt/start").status_code == 200
    c = _recruiter(world, as_user)
    r = c.patch(f"/api/v1/assessments/{assessment.id}",
                json={"scenarios": [{"scenario_id": "debug-slow-run", "weight": 3}]})
    assert r.status_code == 409 and "started" in r.json()["detail"]


def test_invite_sends_a_link_that_only_exists_as_a_hash(world: World, as_user: Any,
                                                        session: Session) -> None:
    assessment = make_assessment(session, org=world.org)
    session.commit()
    c = _recruiter(world, as_user)
    r = c.post(f"/api/v1/assessments/{assessment.id}/invites",
               json={"email": "Ada@Example.com", "name": "Ada"})
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert LINK.fullmatch(url)
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, base64url
    mail = session.scalars(select(EmailOutbox)).one()
    assert mail.to_addr == "ada@example.com" and url in mail.body_text
    inv = session.scalars(select(Invite)).one()
    assert token not in inv.token_hash and len(inv.token_hash) == 64
    again = c.post(f"/api/v1/assessments/{assessment.id}/invites", json={"email": "ada@example.com"})
    assert again.status_code == 409
    rows = c.get("/api/v1/invites", params={"assessment_id": assessment.id}).json()
    assert [(x["candidate_email"], x["status"]) for x in rows] == [("ada@example.com", "invited")]


def test_csv_import_is_all_or_nothing(world: World, as_user: Any, session: Session) -> None:
    assessment = make_assessment(session, org=world.org)
    session.commit()
    c = _recruiter(world, as_user)
    url = f"/api/v1/assessments/{assessment.id}/invites/csv"
    bad = b"email,name\na@example.com,A\nnot-an-email,B\na@example.com,C\n"
    r = c.post(url, files={"file": ("c.csv", bad, "text/csv")})
    assert r.status_code == 422
    body = r.json()
    assert "nothing was imported" in body["detail"]
    assert [e["row"] for e in body["rows"]] == [3, 4]
    assert session.scalar(select(func.count()).select_from(Invite)) == 0
    assert session.scalar(select(func.count()).select_from(EmailOutbox)) == 0
    assert c.post(url, files={"file": ("c.csv", b"name\nx\n", "text/csv")}).status_code == 422
    assert c.post(url, files={"file": ("c.csv", b"\xff\xfe\x00", "text/csv")}).status_code == 422
    good = "\ufeffEmail,Name\nb@example.com,Bea\n\nc@example.com,\n".encode()
    r = c.post(url, files={"file": ("c.csv", good, "text/csv")})
    assert r.status_code == 201, r.text
    assert sorted(x["invite"]["candidate_email"] for x in r.json()["created"]) == [
        "b@example.com", "c@example.com"]
    assert session.scalar(select(func.count()).select_from(EmailOutbox)) == 2


def test_resend_rotates_the_link_and_revoke_kills_it(world: World, as_user: Any,
                                                     session: Session, client: TestClient) -> None:
    assessment = make_assessment(session, org=world.org)
    invite, first = make_invite(session, assessment=assessment)
    session.commit()
    c = _recruiter(world, as_user)
    r = c.post(f"/api/v1/invites/{invite.id}/resend")
    assert r.status_code == 200
    second = r.json()["url"].rsplit("/", 1)[1]
    assert client.get(f"/i/{first}", follow_redirects=False).status_code == 404
    assert client.get(f"/i/{second}", follow_redirects=False).status_code == 303
    assert c.post(f"/api/v1/invites/{invite.id}/revoke").json()["status"] == "revoked"
    gone = client.get(f"/i/{second}", follow_redirects=False, headers={"accept": "text/html"})
    assert gone.status_code == 410 and "withdrawn" in gone.text
    # The candidate session opened before the revoke is dead too.
    assert client.get("/api/v1/candidate/attempt").status_code == 401
    assert c.post(f"/api/v1/invites/{invite.id}/resend").status_code == 409


def test_expired_link_gets_a_clear_page_and_extend_revives_it(
    world: World, as_user: Any, session: Session, client: TestClient
) -> None:
    assessment = make_assessment(session, org=world.org)
    invite, token = make_invite(session, assessment=assessment)
    invite.expires_at = utcnow() - timedelta(hours=1)
    session.commit()
    r = client.get(f"/i/{token}", follow_redirects=False, headers={"accept": "text/html"})
    assert r.status_code == 410 and "expired" in r.text
    c = _recruiter(world, as_user)
    assert c.get("/api/v1/invites").json()[0]["status"] == "expired"
    r = c.post(f"/api/v1/invites/{invite.id}/extend", json={"days": 2})
    assert r.status_code == 200 and r.json()["status"] == "invited"
    assert client.get(f"/i/{token}", follow_redirects=False).status_code == 303


def test_reminder_goes_once_before_expiry(world: World, session: Session) -> None:
    assessment = make_assessment(session, org=world.org)
    soon, _ = make_invite(session, assessment=assessment)
    soon.expires_at = utcnow() + timedelta(hours=5)
    later, _ = make_invite(session, assessment=assessment)
    session.commit()
    assert invites.send_reminders(session, base_url="http://testserver",
                                  secret_key=session.info["secret_key"]) == 1
    assert invites.send_reminders(session, base_url="http://testserver",
                                  secret_key=session.info["secret_key"]) == 0
    session.commit()
    kinds = session.scalars(select(EmailOutbox.kind)).all()
    assert kinds == ["invite_reminder"]


def test_recruiter_pages_build_and_invite(world: World, as_user: Any, session: Session) -> None:
    c = _recruiter(world, as_user)
    assert "debug-slow-run" in c.get("/assessments/new").text
    bad = c.post("/assessments/new", data={"title": "", "time_limit_min": "60"})
    assert bad.status_code == 422 and "title" in bad.text
    r = c.post("/assessments/new", data={"title": "Page-made", "time_limit_min": "45",
                                         "scenario": "debug-slow-run",
                                         "weight_debug-slow-run": "2"}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get(r.headers["location"])
    assert "Page-made" in page.text and "45 minutes" in page.text
    aid = int(r.headers["location"].rsplit("/", 1)[1])
    r = c.post(f"/assessments/{aid}/invite", data={"email": "pat@example.com", "name": "Pat"},
               headers={"HX-Request": "true"})
    assert r.status_code == 201 and LINK.search(r.text) and "pat@example.com" in r.text
    r = c.post(f"/assessments/{aid}/invite", data={"email": "bad"}, headers={"HX-Request": "true"})
    assert r.status_code == 422 and 'role="alert"' in r.text
    pipeline = c.get("/pipeline?status=invited").text
    assert "pat@example.com" in pipeline
    assert "pat@example.com" not in c.get("/pipeline?status=graded").text
    outbox = c.get("/outbox").text
    assert "pat@example.com" in outbox and "/i/" in outbox


def test_recruiter_edits_scenarios_order_and_weights_on_the_page(
    world: World, as_user: Any, session: Session, app: Any
) -> None:
    c = _recruiter(world, as_user)
    a = make_assessment(session, org=world.org, scenarios=("debug-slow-run",))
    session.commit()
    assert "Save changes" in c.get(f"/assessments/{a.id}/edit").text
    r = c.post(f"/assessments/{a.id}/edit", data={
        "title": "Two scenarios", "time_limit_min": "150", "instructions": "",
        "scenario": ["debug-slow-run", "serving-fleet-planner"],
        "order_serving-fleet-planner": "1", "order_debug-slow-run": "2",
        "weight_serving-fleet-planner": "3"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    got = c.get(f"/api/v1/assessments/{a.id}").json()
    assert got["title"] == "Two scenarios" and got["time_limit_min"] == 150
    assert [(e["scenario_id"], e["weight"]) for e in got["entries"]] == [
        ("serving-fleet-planner", 3.0), ("debug-slow-run", 1.0)]
    # Once a candidate started, scenarios stay as they are; the title still changes.
    invite, _ = make_invite(session, assessment=a)
    session.commit()
    open_as_candidate(app, session, invite).post("/api/v1/candidate/attempt/start")
    page = c.get(f"/assessments/{a.id}/edit").text
    assert "scenarios, order and weights are fixed" in page
    r = c.post(f"/assessments/{a.id}/edit", data={"title": "Renamed", "time_limit_min": "150",
                                                  "scenario": ["debug-slow-run"]},
               follow_redirects=False)
    assert r.status_code == 303
    got = c.get(f"/api/v1/assessments/{a.id}").json()
    assert got["title"] == "Renamed" and len(got["entries"]) == 2


# --------------------------------------------------------------------------- bank filters


def _ids(c: TestClient, **params: Any) -> set[str]:
    r = c.get("/api/v1/scenarios", params=params)
    assert r.status_code == 200, r.text
    return {s["id"] for s in r.json()}


def test_bank_filters_by_layer_role_kind_difficulty_time_and_scale(world: World,
                                                                   as_user: Any) -> None:
    c = _recruiter(world, as_user)
    rows = {s["id"]: s for s in c.get("/api/v1/scenarios").json()}
    every = set(rows)
    for layer in ("network", "storage", "serving"):
        got = _ids(c, layer=layer)
        assert got == {i for i, s in rows.items() if layer in s["stack_layers"]} and got < every
    assert "fabric-bring-up" in _ids(c, layer="network")
    assert "serving-fleet-planner" not in _ids(c, layer="network")
    sre = _ids(c, role="cluster-network-sre")
    assert sre == {"fabric-bring-up", "network-design", "silent-data-corruption",
                   "fault-tolerance-16k"}
    assert rows["fabric-bring-up"]["roles"] == ["cluster-network-sre"]
    assert _ids(c, role="data-pipeline") == {"data-pipeline-sampler", "checkpoint-at-scale"}
    debug = _ids(c, kind="debug")
    assert {"debug-slow-run", "fabric-bring-up", "silent-data-corruption"} <= debug
    assert all(rows[i]["kind"] == "debug" for i in debug)
    assert "serving-fleet-planner" in _ids(c, kind="code") and not debug & _ids(c, kind="code")
    assert _ids(c, difficulty="senior") == {i for i, s in rows.items()
                                            if s["difficulty"] == "senior"}
    assert _ids(c, difficulty="junior") == {i for i, s in rows.items()
                                            if s["difficulty"] == "junior"}
    short = _ids(c, max_minutes=50)
    assert short == {i for i, s in rows.items() if s["time_estimate_min"] <= 50}
    assert "checkpoint-at-scale" in short and "train-large-dense" not in short
    xl = _ids(c, scale="xlarge")
    assert {"checkpoint-at-scale", "train-large-dense"} <= xl
    assert not xl & {"fabric-bring-up", "silent-data-corruption", "debug-slow-run"}
    assert _ids(c, scale="medium") >= {"fabric-bring-up", "silent-data-corruption"}
    assert rows["checkpoint-at-scale"]["scale_tiers"] == ["large", "xlarge"]
    assert rows["debug-slow-run"]["scale_tiers"] == []
    # filters combine; nothing matching is an empty list, an unknown value a clear 422
    assert _ids(c, layer="serving", scale="xlarge") == set()
    assert _ids(c, kind="code", role="inference-serving") == {"serving-fleet-planner"}
    for bad in ({"layer": "quantum"}, {"role": "wizard"}, {"kind": "essay"},
                {"difficulty": "godlike"}, {"scale": "huge"}, {"max_minutes": "0"}):
        r = c.get("/api/v1/scenarios", params=bad)
        assert r.status_code == 422, (bad, r.text)
        assert next(iter(bad)) in r.text


def test_bank_page_filters_live_in_the_url_with_an_empty_state(world: World,
                                                               as_user: Any) -> None:
    c = _recruiter(world, as_user)
    page = c.get("/bank", params={"scale": "xlarge"})
    assert page.status_code == 200
    assert 'hx-push-url="true"' in page.text and "Role templates" in page.text
    assert "Checkpointing" in page.text or "checkpoint-at-scale" in page.text
    assert "/bank/fabric-bring-up/preview" not in page.text.split('id="bank-results"')[1]
    assert '<option value="xlarge" selected>' in page.text
    # htmx asks for the results only
    frag = c.get("/bank", params={"layer": "serving", "scale": "xlarge"},
                 headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "<html" not in frag.text
    assert 'id="bank-results"' in frag.text and "No scenario matches these filters" in frag.text
    bad = c.get("/bank", params={"kind": "essay", "max_minutes": "x"})
    assert bad.status_code == 422
    assert "Unknown kind" in bad.text and "whole number of minutes" in bad.text


# --------------------------------------------------------------------------- role templates


def test_recruiter_creates_each_role_template_in_one_click(world: World, as_user: Any,
                                                           session: Session) -> None:
    c = _recruiter(world, as_user)
    templates = c.get("/api/v1/templates").json()
    assert {t["role"] for t in templates} == {
        "training-infrastructure", "inference-serving", "cluster-network-sre", "data-pipeline",
        "infrastructure-leadership"}
    for t in templates:
        r = c.post("/api/v1/assessments/from-template", json={"template_id": t["id"]})
        assert r.status_code == 201, r.text
        a = r.json()
        assert a["title"] == t["title"] and a["time_limit_min"] == t["time_limit_min"]
        assert [(e["scenario_id"], e["weight"], e["scale_tier"]) for e in a["entries"]] == [
            (i["scenario_id"], i["weight"], i["scale_tier"]) for i in t["scenarios"]]
        for e in a["entries"]:  # every scenario previews
            assert c.get(f"/bank/{e['scenario_id']}/preview").status_code == 200
    named = c.post("/api/v1/assessments/from-template",
                   json={"template_id": "data-pipeline", "title": "Data loop, Q1"})
    assert named.status_code == 201 and named.json()["title"] == "Data loop, Q1"
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("assessment.from_template") == len(templates) + 1


def test_from_template_refuses_other_roles_orgs_and_bad_ids(world: World, as_user: Any,
                                                            session: Session, app: Any) -> None:
    c = _recruiter(world, as_user)
    a = c.post("/api/v1/assessments/from-template", json={"template_id": "cluster-network-sre"})
    assert a.status_code == 201
    aid = a.json()["id"]
    manager = as_user(world.users[Role.hiring_manager])
    r = manager.post("/api/v1/assessments/from-template", json={"template_id": "data-pipeline"})
    assert r.status_code == 403
    rival = as_user(world.other_users[Role.admin])
    assert rival.get(f"/api/v1/assessments/{aid}").status_code == 404
    assert aid not in {x["id"] for x in rival.get("/api/v1/assessments").json()}
    missing = c.post("/api/v1/assessments/from-template", json={"template_id": "no-such-role"})
    assert missing.status_code == 404 and "no role template 'no-such-role'" in missing.text
    for body in ({}, {"template_id": ""}, {"template_id": "data-pipeline", "extra": 1},
                 {"template_id": 5}, {"template_id": "data-pipeline", "title": ""}):
        r = c.post("/api/v1/assessments/from-template", json=body)
        assert r.status_code == 422, (body, r.text)
    # a candidate holds no staff session at all
    invite, _ = make_invite(session, assessment=make_assessment(session, org=world.org))
    session.commit()
    cand = open_as_candidate(app, session, invite)
    r = cand.post("/api/v1/assessments/from-template", json={"template_id": "data-pipeline"})
    assert r.status_code == 401


def test_template_button_on_the_bank_page_opens_the_new_assessment(world: World,
                                                                   as_user: Any) -> None:
    c = _recruiter(world, as_user)
    page = c.get("/bank").text
    assert 'hx-post="/bank/templates/training-infrastructure-10k"' in page
    r = c.post("/bank/templates/training-infrastructure-10k", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/assessments/")
    detail = c.get(r.headers["HX-Redirect"])
    assert "Training-infrastructure engineer (10,000-GPU scale)" in detail.text
    assert "scale xlarge" in detail.text
    plain = c.post("/bank/templates/data-pipeline", follow_redirects=False)
    assert plain.status_code == 303
    assert c.post("/bank/templates/nope", follow_redirects=False).status_code == 404
    manager = as_user(world.users[Role.hiring_manager])
    assert "Create assessment" not in manager.get("/bank").text
    assert manager.post("/bank/templates/data-pipeline").status_code == 403


def test_a_pinned_scale_tier_draws_the_candidates_variant_in_that_tier(
        world: World, as_user: Any, session: Session, app: Any) -> None:
    from scenarios.scale import variant_tier
    from server.models import Assessment, Attempt

    c = _recruiter(world, as_user)
    aid = c.post("/api/v1/assessments/from-template",
                 json={"template_id": "training-infrastructure-10k"}).json()["id"]
    bank = app.state.bank
    assessment = session.get_one(Assessment, aid)
    for _ in range(3):
        invite, _ = make_invite(session, assessment=assessment)
        session.commit()
        cand = open_as_candidate(app, session, invite)
        assert cand.post("/api/v1/candidate/attempt/start").status_code == 200
        attempt = session.scalars(select(Attempt).where(Attempt.invite_id == invite.id)).one()
        tiers = {sid: variant_tier(bank.get(sid), int(seed))
                 for sid, seed in attempt.seeds.items()}
        assert tiers == {"train-large-dense": "xlarge", "checkpoint-at-scale": "xlarge",
                         "silent-data-corruption": "large"}
        view = cand.get("/api/v1/candidate/scenarios/1").json()  # checkpoint-at-scale
        gpus = bank.get("checkpoint-at-scale").render(
            int(attempt.seeds["checkpoint-at-scale"])).params["num_gpus"]
        assert gpus >= 8192 and f"{gpus:,}" in str(view) or str(gpus) in str(view)
    # a tier the scenario never reaches is a 422 naming the entry
    bad = c.post("/api/v1/assessments", json={"title": "X", "scenarios": [
        {"scenario_id": "fabric-bring-up", "scale_tier": "xlarge"}]})
    assert bad.status_code == 422 and "scenarios.0.scale_tier" in bad.json()["detail"]
    odd = c.post("/api/v1/assessments", json={"title": "X", "scenarios": [
        {"scenario_id": "debug-slow-run", "scale_tier": "large"}]})
    assert odd.status_code == 422 and "fixed scale" in odd.json()["detail"]


def test_editing_keeps_or_changes_a_pinned_tier(world: World, as_user: Any) -> None:
    c = _recruiter(world, as_user)
    a = c.post("/api/v1/assessments/from-template",
               json={"template_id": "infrastructure-leadership"}).json()
    form = c.get(f"/assessments/{a['id']}/edit").text
    assert '<option value="xlarge" selected>' in form
    r = c.post(f"/assessments/{a['id']}/edit", data={
        "title": a["title"], "time_limit_min": "135", "scenario": ["train-large-dense",
                                                                   "checkpoint-at-scale"],
        "scale_train-large-dense": "xlarge", "scale_checkpoint-at-scale": "large",
        "order_train-large-dense": "1", "order_checkpoint-at-scale": "2"},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    got = c.get(f"/api/v1/assessments/{a['id']}").json()["entries"]
    assert [(e["scenario_id"], e["scale_tier"]) for e in got] == [
        ("train-large-dense", "xlarge"), ("checkpoint-at-scale", "large")]


def test_preview_shows_a_variant_of_a_pinned_tier(world: World, as_user: Any, app: Any) -> None:
    from scenarios.scale import variant_tier

    c = _recruiter(world, as_user)
    bank = app.state.bank
    for tier in ("large", "xlarge"):
        r = c.get("/bank/checkpoint-at-scale/preview", params={"scale": tier, "seed": 4})
        assert r.status_code == 200 and f"scale {tier}" in r.text
        seed = int(re.search(r"variant <strong>(\d+)</strong>", r.text).group(1))  # type: ignore[union-attr]
        assert variant_tier(bank.get("checkpoint-at-scale"), seed) == tier
    assert c.get("/bank/fabric-bring-up/preview", params={"scale": "xlarge"}).status_code == 422
    assert c.get("/bank/nope/preview", params={"scale": "xlarge"}).status_code == 404
    assert c.get("/bank/fabric-bring-up/preview", params={"scale": "huge"}).status_code == 422
