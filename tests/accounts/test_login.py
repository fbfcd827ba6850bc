"""Logging in and out: cookies, sessions, CSRF, throttling, identical failures."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.app import create_app
from server.config import Settings
from server.models import Role, StaffSession
from tests.conftest import World, login
from tests.factories import PASSWORD


def test_login_sets_httponly_lax_cookie_and_returns_csrf(client: TestClient, world: World) -> None:
    admin = world.users[Role.admin]
    r = client.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("burnin_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http
    assert r.json()["user"]["email"] == admin.email
    assert len(r.json()["csrf_token"]) >= 32
    assert "password" not in r.text and "hash" not in r.text


def test_email_is_case_insensitive(client: TestClient, world: World) -> None:
    email = world.users[Role.recruiter].email.upper()
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200


def test_secure_host_prefixed_cookie_over_https(settings: Settings, world: World) -> None:
    app = create_app(settings.model_copy(update={"base_url": "https://burnin.example.com"}))
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/api/v1/auth/login",
                   json={"email": world.users[Role.admin].email, "password": PASSWORD})
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-burnin_session=") and "Secure" in cookie
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        assert c.get("/api/v1/auth/me").status_code == 200
    app.state.engine.dispose()


def test_unknown_user_and_wrong_password_get_identical_responses(
    client: TestClient, world: World
) -> None:
    wrong = client.post("/api/v1/auth/login",
                        json={"email": world.users[Role.admin].email, "password": "nope"})
    unknown = client.post("/api/v1/auth/login",
                          json={"email": "ghost@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "set-cookie" not in wrong.headers


def test_disabled_user_cannot_log_in(client: TestClient, world: World, session: Session) -> None:
    user = world.users[Role.recruiter]
    user.is_active = False
    session.commit()
    r = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 401


def test_new_session_id_on_login_and_old_one_dies(
    client: TestClient, world: World, session: Session
) -> None:
    admin = world.users[Role.admin]
    login(client, admin)
    first = client.cookies.get("burnin_session")
    login(client, admin)
    second = client.cookies.get("burnin_session")
    assert first and second and first != second
    stale = TestClient(client.app, base_url="http://testserver")
    stale.cookies.set("burnin_session", first)
    assert stale.get("/api/v1/auth/me").status_code == 401
    assert session.scalar(select(func.count()).select_from(StaffSession)) == 1


def test_logout_invalidates_the_session_server_side(client: TestClient, world: World) -> None:
    login(client, world.users[Role.admin])
    token = client.cookies.get("burnin_session")
    assert client.post("/api/v1/auth/logout").status_code == 204
    replay = TestClient(client.app, base_url="http://testserver")
    replay.cookies.set("burnin_session", token)
    assert replay.get("/api/v1/auth/me").status_code == 401


def test_state_change_without_or_with_wrong_csrf_is_refused(
    client: TestClient, world: World
) -> None:
    login(client, world.users[Role.admin])
    body = {"email": "new@example.com", "name": "New", "role": "recruiter"}
    del client.headers["X-CSRF-Token"]
    r = client.post("/api/v1/users", json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    assert client.get("/api/v1/users").status_code == 200  # reads need no token


def test_throttled_per_account_even_with_the_right_password(
    client: TestClient, world: World
) -> None:
    user = world.users[Role.hiring_manager]
    for _ in range(5):
        assert client.post("/api/v1/auth/login",
                           json={"email": user.email, "password": "bad"}).status_code == 401
    r = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    # Another account from the same address is not locked out by this one.
    other = world.users[Role.admin]
    assert client.post("/api/v1/auth/login",
                       json={"email": other.email, "password": PASSWORD}).status_code == 200


def test_throttled_per_client_address(settings: Settings, world: World, tmp_path: Path) -> None:
    app = create_app(settings.model_copy(update={"login_max_failures_per_address": 3}))
    with TestClient(app, base_url="http://testserver") as c:
        for i in range(3):
            c.post("/api/v1/auth/login", json={"email": f"u{i}@example.com", "password": "x"})
        r = c.post("/api/v1/auth/login",
                   json={"email": world.users[Role.admin].email, "password": PASSWORD})
        assert r.status_code == 429
    app.state.engine.dispose()


def test_successful_login_clears_the_account_failures(client: TestClient, world: World) -> None:
    user = world.users[Role.admin]
    for _ in range(4):
        client.post("/api/v1/auth/login", json={"email": user.email, "password": "bad"})
    login(client, user)
    for _ in range(4):
        client.post("/api/v1/auth/login", json={"email": user.email, "password": "bad"})
    assert client.post("/api/v1/auth/login",
                       json={"email": user.email, "password": PASSWORD}).status_code == 200


def test_login_page_flow_and_safe_redirect(client: TestClient, world: World) -> None:
    page = client.get("/login?next=/admin/users")
    assert page.status_code == 200 and 'name="password"' in page.text
    bad = client.post("/login", data={"email": world.users[Role.admin].email,
                                      "password": "wrong", "next": "/"})
    assert bad.status_code == 401 and "invalid e-mail or password" in bad.text
    ok = client.post("/login", data={"email": world.users[Role.admin].email,
                                     "password": PASSWORD, "next": "//evil.example/x"},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "Acme" in home.text


def test_logout_form_needs_the_csrf_field(client: TestClient, world: World) -> None:
    csrf = login(client, world.users[Role.admin])
    del client.headers["X-CSRF-Token"]
    assert client.post("/logout", data={}).status_code == 403
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/api/v1/auth/me").status_code == 401
