"""Every role x every endpoint x objects of another organization.

The matrix below must name every route the app has: a new endpoint without a line here
fails test_matrix_covers_every_route, so nobody adds an endpoint without deciding who may
call it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.models import Organization, Role
from tests.conftest import World
from tests.factories import PASSWORD, make_assessment, make_invite, make_user
from tests.grading.factories import make_graded_attempt

PUBLIC = "public"
CANDIDATE = "candidate"
ANY_STAFF = frozenset(Role)
ADMIN = frozenset({Role.admin})
RECRUITING = frozenset({Role.admin, Role.recruiter})
REVIEWING = frozenset({Role.admin, Role.hiring_manager})

MATRIX: dict[tuple[str, str], frozenset[Role] | str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("GET", "/i/{token}"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/password/forgot"): PUBLIC,
    ("POST", "/password/forgot"): PUBLIC,
    ("GET", "/password/reset"): PUBLIC,
    ("POST", "/password/reset"): PUBLIC,
    ("GET", "/account/password"): ANY_STAFF,
    ("POST", "/account/password"): ANY_STAFF,  # before the API one: see _body
    ("POST", "/api/v1/auth/password"): ANY_STAFF,
    ("POST", "/api/v1/auth/logout"): ANY_STAFF,
    ("GET", "/api/v1/auth/me"): ANY_STAFF,
    ("GET", "/api/v1/organization"): ANY_STAFF,
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/{user_id}"): ADMIN,
    ("PATCH", "/api/v1/users/{user_id}"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/reset-password"): ADMIN,
    ("GET", "/api/v1/audit-events"): ADMIN,
    ("GET", "/api/v1/scenarios"): ANY_STAFF,
    ("GET", "/api/v1/scenarios/{scenario_id}/preview"): ANY_STAFF,
    ("GET", "/api/v1/assessments"): ANY_STAFF,
    ("POST", "/api/v1/assessments"): RECRUITING,
    ("POST", "/api/v1/assessments/from-template"): RECRUITING,
    ("GET", "/api/v1/templates"): ANY_STAFF,
    ("GET", "/api/v1/assessments/{assessment_id}"): ANY_STAFF,
    ("PATCH", "/api/v1/assessments/{assessment_id}"): RECRUITING,
    ("POST", "/api/v1/assessments/{assessment_id}/invites"): RECRUITING,
    ("POST", "/api/v1/assessments/{assessment_id}/invites/csv"): RECRUITING,
    ("GET", "/api/v1/invites"): ANY_STAFF,
    ("POST", "/api/v1/invites/{invite_id}/resend"): RECRUITING,
    ("POST", "/api/v1/invites/{invite_id}/extend"): RECRUITING,
    ("POST", "/api/v1/invites/{invite_id}/revoke"): RECRUITING,
    ("POST", "/logout"): ANY_STAFF,
    ("GET", "/"): ANY_STAFF,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/{user_id}/active"): ADMIN,
    ("POST", "/admin/users/{user_id}/role"): ADMIN,
    ("POST", "/admin/users/{user_id}/reset-password"): ADMIN,
    ("POST", "/admin/users/{user_id}/reset-link"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/admin/settings"): ADMIN,
    ("POST", "/admin/settings"): ADMIN,
    ("GET", "/api/v1/organization/settings"): ANY_STAFF,
    ("PUT", "/api/v1/organization/settings"): ADMIN,
    ("GET", "/bank"): ANY_STAFF,
    ("GET", "/bank/{scenario_id}/preview"): ANY_STAFF,
    ("POST", "/bank/templates/{template_id}"): RECRUITING,
    ("GET", "/assessments"): ANY_STAFF,
    ("GET", "/assessments/new"): RECRUITING,
    ("POST", "/assessments/new"): RECRUITING,
    ("GET", "/assessments/{assessment_id}"): ANY_STAFF,
    ("POST", "/assessments/{assessment_id}"): RECRUITING,
    ("GET", "/assessments/{assessment_id}/edit"): RECRUITING,
    ("POST", "/assessments/{assessment_id}/edit"): RECRUITING,
    ("POST", "/assessments/{assessment_id}/status"): RECRUITING,
    ("POST", "/assessments/{assessment_id}/invite"): RECRUITING,
    ("POST", "/assessments/{assessment_id}/invite-csv"): RECRUITING,
    ("POST", "/invites/{invite_id}/{action}"): RECRUITING,
    ("GET", "/pipeline"): ANY_STAFF,
    ("GET", "/outbox"): RECRUITING,
    ("GET", "/take"): CANDIDATE,
    ("POST", "/take/start"): CANDIDATE,
    ("GET", "/take/done"): CANDIDATE,
    ("POST", "/take/submit"): CANDIDATE,
    ("GET", "/take/{index}"): CANDIDATE,
    ("GET", "/api/v1/candidate/attempt"): CANDIDATE,
    ("POST", "/api/v1/candidate/attempt/start"): CANDIDATE,
    ("GET", "/api/v1/candidate/scenarios/{index}"): CANDIDATE,
    ("PUT", "/api/v1/candidate/answers/{index}"): CANDIDATE,
    ("GET", "/api/v1/candidate/artifacts/{index}/{path}"): CANDIDATE,
    ("POST", "/api/v1/candidate/submit"): CANDIDATE,
    ("POST", "/api/v1/candidate/markdown"): CANDIDATE,
    ("POST", "/api/v1/candidate/events"): CANDIDATE,
    ("GET", "/api/v1/candidate/notebook/{index}"): CANDIDATE,
    ("POST", "/api/v1/candidate/notebook/{index}/execute"): CANDIDATE,
    ("POST", "/api/v1/candidate/notebook/{index}/interrupt"): CANDIDATE,
    ("POST", "/api/v1/candidate/notebook/{index}/restart"): CANDIDATE,
    ("POST", "/api/v1/candidate/run/{index}"): CANDIDATE,
    ("GET", "/api/v1/attempts/{attempt_id}/report"): ANY_STAFF,  # recruiters: score only
    ("GET", "/api/v1/review-queue"): REVIEWING,
    ("POST", "/api/v1/attempts/{attempt_id}/manual-grades"): REVIEWING,
    ("POST", "/api/v1/attempts/{attempt_id}/overrides"): REVIEWING,
    ("GET", "/assessments/{assessment_id}/dashboard"): ANY_STAFF,
    ("GET", "/assessments/{assessment_id}/export.csv"): REVIEWING,
    ("GET", "/attempts/{attempt_id}"): REVIEWING,
    ("POST", "/attempts/{attempt_id}/grade"): REVIEWING,
    ("GET", "/compare"): REVIEWING,
    ("GET", "/review"): REVIEWING,
}

_n = itertools.count()


def _body(method: str, path: str) -> dict[str, Any]:
    n = next(_n)
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/users"): {"json": {"email": f"m{n}@example.com", "name": "M",
                                             "role": "admin"}},
        ("PATCH", "/api/v1/users/{user_id}"): {"json": {"name": "Renamed"}},
        ("POST", "/admin/users/{user_id}/active"): {"data": {"active": "true"}},
        ("POST", "/admin/users/{user_id}/role"): {"data": {"role": "recruiter"}},
        # A role's own password changes twice, page then API (the matrix's order).
        ("POST", "/account/password"): {"data": {
            "current_password": PASSWORD, "new_password": "matrix-password-1",
            "confirm_password": "matrix-password-1"}},
        ("POST", "/api/v1/auth/password"): {"json": {
            "current_password": "matrix-password-1", "new_password": "matrix-password-2"}},
        ("POST", "/admin/users"): {"data": {"email": f"p{n}@example.com", "name": "P",
                                            "role": "admin"}},
        ("POST", "/api/v1/assessments"): {"json": {"title": "T", "scenarios": [
            {"scenario_id": "debug-slow-run"}]}},
        ("PATCH", "/api/v1/assessments/{assessment_id}"): {"json": {"title": "T2"}},
        ("POST", "/api/v1/assessments/from-template"): {"json": {"template_id": "data-pipeline"}},
        ("POST", "/api/v1/assessments/{assessment_id}/invites"): {
            "json": {"email": f"c{n}@example.com"}},
        ("POST", "/api/v1/assessments/{assessment_id}/invites/csv"): {
            "files": {"file": ("c.csv", f"email\nk{n}@example.com\n".encode(), "text/csv")}},
        ("POST", "/api/v1/invites/{invite_id}/extend"): {"json": {"days": 3}},
        ("POST", "/assessments/new"): {"data": {"title": "X", "time_limit_min": "60",
                                                "scenario": "debug-slow-run"}},
        ("POST", "/assessments/{assessment_id}"): {"data": {"title": "Y", "time_limit_min": "90",
                                                            "instructions": ""}},
        ("POST", "/assessments/{assessment_id}/status"): {"data": {"status": "active"}},
        ("POST", "/assessments/{assessment_id}/edit"): {"data": {
            "title": "Edited", "time_limit_min": "60", "scenario": "debug-slow-run"}},
        ("POST", "/assessments/{assessment_id}/invite"): {"data": {"email": f"h{n}@example.com"}},
        ("POST", "/assessments/{assessment_id}/invite-csv"): {
            "files": {"file": ("c.csv", f"email\nq{n}@example.com\n".encode(), "text/csv")}},
        ("POST", "/invites/{invite_id}/{action}"): {"data": {"days": "7"}},
        ("PUT", "/api/v1/organization/settings"): {"json": {"branding_name": "Acme Labs"}},
        ("POST", "/attempts/{attempt_id}/grade"): {"data": {
            "scenario_id": "s1", "criterion_id": "c-field", "kind": "override", "points": "1",
            "reason": "checked by hand"}},
        ("POST", "/api/v1/attempts/{attempt_id}/manual-grades"): {
            "json": {"scenario_id": "s1", "criterion_id": "c-manual", "level": "ok"}},
        ("POST", "/api/v1/attempts/{attempt_id}/overrides"): {
            "json": {"scenario_id": "s1", "criterion_id": "c-field", "points": 5, "reason": "r"}},
        ("POST", "/admin/settings"): {"data": {"branding_name": "Acme", "default_time_limit_min":
                                               "90"}},
    }
    return bodies.get((method, path), {})


@dataclass
class Targets:
    user_id: int
    assessment_id: int
    invite_id: int
    attempt_id: int
    other_attempt_id: int


def make_targets(session: Session, org: Organization) -> Targets:
    """Fresh objects to act on, so one role's changes (revoke, reset) never affect the next."""
    user = make_user(session, org=org, role=Role.recruiter)
    assessment = make_assessment(session, org=org)
    invite, _ = make_invite(session, assessment=assessment)
    attempt = make_graded_attempt(session, org=org)
    other = make_graded_attempt(session, org=org)
    session.commit()
    return Targets(user.id, assessment.id, invite.id, attempt.id, other.id)


def _url(path: str, t: Targets) -> str:
    if path == "/compare":
        return f"/compare?attempt={t.attempt_id}&attempt={t.other_attempt_id}"
    return (path.replace("{user_id}", str(t.user_id))
            .replace("{assessment_id}", str(t.assessment_id))
            .replace("{invite_id}", str(t.invite_id)).replace("{action}", "extend")
            .replace("{attempt_id}", str(t.attempt_id))
            .replace("{scenario_id}", "debug-slow-run").replace("{template_id}", "data-pipeline").replace("{token}", "not-a-token")
            .replace("{index}", "0").replace("{path}", "missing.txt"))


def ordered() -> list[tuple[tuple[str, str], frozenset[Role] | str]]:
    """Destructive calls (revoke) last, so the calls after them still find a live invite."""
    return sorted(MATRIX.items(), key=lambda kv: "revoke" in kv[0][1])


def _call(c: TestClient, method: str, path: str, t: Targets) -> int:
    return c.request(method, _url(path, t), follow_redirects=False,
                     **_body(method, path)).status_code


def _walk(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for r in routes:
        included = getattr(r, "original_router", None)  # FastAPI's nested include
        if included is not None:
            out |= _walk(included.routes, prefix + r.include_context.prefix)
            continue
        methods = getattr(r, "methods", None)
        path = (prefix + getattr(r, "path", "")).replace("{path:path}", "{path}")
        if methods and path not in DOC_ROUTES:
            out.update((m, path) for m in methods - {"HEAD"})
    return out


DOC_ROUTES = {"/api/v1/openapi.json", "/api/docs", "/docs/oauth2-redirect"}


def test_matrix_covers_every_route(app: FastAPI) -> None:
    assert _walk(list(app.routes)) == set(MATRIX)


def test_unauthenticated_callers_are_refused(client: TestClient, world: World,
                                             session: Session) -> None:
    t = make_targets(session, world.org)
    for (method, path), who in ordered():
        if who == PUBLIC:
            continue
        status = _call(client, method, path, t)
        if path.startswith("/api/") or method != "GET":
            assert status == 401, (method, path, status)
        elif who == CANDIDATE:
            assert status == 401, (method, path, status)  # a page saying to open the link
        else:
            assert status == 303, (method, path, status)  # to the login page


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_matrix_allows(
    role: Role, world: World, as_user: Any, session: Session
) -> None:
    t = make_targets(session, world.org)
    c = as_user(world.users[role])
    for (method, path), who in ordered():
        if who == PUBLIC or path.endswith("logout"):
            continue
        status = _call(c, method, path, t)
        if who == CANDIDATE:
            assert status == 401, (role, method, path, status)  # staff are not candidates
        elif role in who:
            assert status < 400, (role, method, path, status)
        else:
            assert status == 403, (role, method, path, status)


@pytest.mark.parametrize("role", list(Role))
def test_objects_of_another_organization_are_not_found(
    role: Role, world: World, as_user: Any, session: Session
) -> None:
    foreign = make_targets(session, world.other_org)
    c = as_user(world.users[role])
    for (method, path), who in ordered():
        if not any(p in path for p in ("{user_id}", "{assessment_id}", "{invite_id}",
                                       "{attempt_id}")):
            continue
        assert who not in (PUBLIC, CANDIDATE)
        status = _call(c, method, path, foreign)
        assert status == (404 if role in who else 403), (role, method, path, status)


def test_lists_never_show_another_organization(world: World, as_user: Any,
                                               session: Session) -> None:
    mine, theirs = make_targets(session, world.org), make_targets(session, world.other_org)
    c = as_user(world.users[Role.admin])
    emails = {u["email"] for u in c.get("/api/v1/users").json()}
    assert world.other_users[Role.admin].email not in emails
    assert c.get("/api/v1/organization").json()["name"] == "Acme"
    assessments = {a["id"] for a in c.get("/api/v1/assessments").json()}
    assert mine.assessment_id in assessments and theirs.assessment_id not in assessments
    invites = {i["id"] for i in c.get("/api/v1/invites").json()}
    assert mine.invite_id in invites and theirs.invite_id not in invites
    pipeline = c.get("/pipeline").text
    assert f"/assessments/{theirs.assessment_id}" not in pipeline


def test_a_candidate_reaches_only_their_own_attempt(world: World, session: Session,
                                                    app: FastAPI) -> None:
    mine = make_targets(session, world.org)
    other = make_targets(session, world.other_org)
    from server.models import Invite
    from tests.factories import open_as_candidate

    c = open_as_candidate(app, session, session.get_one(Invite, mine.invite_id))
    assert c.post("/api/v1/candidate/attempt/start").status_code == 200
    # Staff endpoints, with or without ids of either organization, refuse a candidate.
    for (method, path), who in ordered():
        if who in (PUBLIC, CANDIDATE) or path.endswith("logout"):
            continue
        for t in (mine, other):
            status = _call(c, method, path, t)
            assert status in (401, 303), (method, path, status)


@pytest.mark.parametrize("role", [Role.admin, Role.hiring_manager])
def test_compare_refuses_attempts_of_another_organization(
    role: Role, world: World, as_user: Any, session: Session
) -> None:
    mine, theirs = make_targets(session, world.org), make_targets(session, world.other_org)
    c = as_user(world.users[role])
    r = c.get(f"/compare?attempt={mine.attempt_id}&attempt={theirs.attempt_id}")
    assert r.status_code == 404
