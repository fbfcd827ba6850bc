"""Every role x every endpoint x objects of another organization.

The matrix below must name every route the app has: a new endpoint without a line here
fails test_matrix_covers_every_route, so nobody adds an endpoint without deciding who may
call it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from sqlalchemy.orm import Session

from server.models import Role
from tests.factories import make_user
from tests.conftest import World
from tests.grading.factories import make_graded_attempt

PUBLIC = "public"
ANY_STAFF = frozenset(Role)
ADMIN = frozenset({Role.admin})
REVIEWER = frozenset({Role.admin, Role.hiring_manager})

# (method, path) -> who may call it. Object endpoints use {user_id} or {attempt_id}.
MATRIX: dict[tuple[str, str], frozenset[Role] | str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): ANY_STAFF,
    ("GET", "/api/v1/auth/me"): ANY_STAFF,
    ("GET", "/api/v1/organization"): ANY_STAFF,
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/{user_id}"): ADMIN,
    ("PATCH", "/api/v1/users/{user_id}"): ADMIN,
    ("POST", "/api/v1/users/{user_id}/reset-password"): ADMIN,
    ("GET", "/api/v1/audit-events"): ADMIN,
    ("POST", "/logout"): ANY_STAFF,
    ("GET", "/"): ANY_STAFF,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/{user_id}/active"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/api/v1/attempts/{attempt_id}/report"): ANY_STAFF,  # recruiters: score only
    ("GET", "/api/v1/review-queue"): REVIEWER,
    ("POST", "/api/v1/attempts/{attempt_id}/manual-grades"): REVIEWER,
    ("POST", "/api/v1/attempts/{attempt_id}/overrides"): REVIEWER,
}

BODIES = {
    ("POST", "/api/v1/users"): {"json": {"email": "m@example.com", "name": "M", "role": "admin"}},
    ("PATCH", "/api/v1/users/{user_id}"): {"json": {"name": "Renamed"}},
    ("POST", "/admin/users/{user_id}/active"): {"data": {"active": "true"}},
    ("POST", "/admin/users"): {"data": {"email": "p@example.com", "name": "P", "role": "admin"}},
    ("POST", "/api/v1/attempts/{attempt_id}/manual-grades"): {
        "json": {"scenario_id": "s1", "criterion_id": "c-manual", "level": "ok"}},
    ("POST", "/api/v1/attempts/{attempt_id}/overrides"): {
        "json": {"scenario_id": "s1", "criterion_id": "c-field", "points": 5, "reason": "r"}},
}
DOC_ROUTES = {"/api/v1/openapi.json", "/api/docs", "/docs/oauth2-redirect"}


def _walk(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for r in routes:
        included = getattr(r, "original_router", None)  # FastAPI's nested include
        if included is not None:
            out |= _walk(included.routes, prefix + r.include_context.prefix)
            continue
        methods = getattr(r, "methods", None)
        path = prefix + getattr(r, "path", "")
        if methods and path not in DOC_ROUTES:
            out.update((m, path) for m in methods - {"HEAD"})
    return out


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    return _walk(list(app.routes))


def _call(c: TestClient, method: str, path: str, user_id: int, attempt_id: int = 0) -> int:
    kwargs = BODIES.get((method, path), {})
    url = path.replace("{user_id}", str(user_id)).replace("{attempt_id}", str(attempt_id))
    return c.request(method, url, follow_redirects=False, **kwargs).status_code


def test_matrix_covers_every_route(app: FastAPI) -> None:
    assert _routes(app) == set(MATRIX)


def test_unauthenticated_callers_are_refused(client: TestClient, world: World) -> None:
    target = world.users[Role.recruiter].id
    for (method, path), who in MATRIX.items():
        if who == PUBLIC:
            continue
        status = _call(client, method, path, target)
        if path.startswith("/api/"):
            assert status == 401, (method, path, status)
        elif method == "GET":
            assert status == 303, (method, path, status)  # to the login page
        else:
            assert status == 401, (method, path, status)


def test_each_role_gets_exactly_what_the_matrix_allows(
    world: World, as_user: object, session: Session
) -> None:
    # A user nobody logs in as: admins reset its password and rename it along the way.
    target = make_user(session, org=world.org, role=Role.recruiter).id
    attempt = make_graded_attempt(session, org=world.org).id
    session.commit()
    for role in Role:
        c = as_user(world.users[role])  # type: ignore[operator]
        for (method, path), who in MATRIX.items():
            if who == PUBLIC or path.endswith("logout"):
                continue
            status = _call(c, method, path, target, attempt)
            if role in who:
                assert status < 400, (role, method, path, status)
            else:
                assert status == 403, (role, method, path, status)


def test_objects_of_another_organization_are_not_found(
    world: World, as_user: object, session: Session
) -> None:
    foreign = world.other_users[Role.recruiter].id
    foreign_attempt = make_graded_attempt(session, org=world.other_org).id
    session.commit()
    for role in Role:
        c = as_user(world.users[role])  # type: ignore[operator]
        for (method, path), who in MATRIX.items():
            if "{user_id}" not in path and "{attempt_id}" not in path:
                continue
            status = _call(c, method, path, foreign, foreign_attempt)
            assert status == (404 if role in who else 403), (role, method, path, status)


def test_lists_never_show_another_organization(world: World, as_user: object) -> None:
    c = as_user(world.users[Role.admin])  # type: ignore[operator]
    emails = {u["email"] for u in c.get("/api/v1/users").json()}
    assert emails == {u.email for u in world.users.values()}
    assert c.get("/api/v1/organization").json()["name"] == "Acme"
