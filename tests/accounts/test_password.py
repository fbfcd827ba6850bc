"""The password flow: one-time passwords must be changed and expire, own change, admin reset,
e-mailed reset link (through the outbox)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import AuditEvent, EmailOutbox, Role, User, utcnow
from tests import factories
from tests.conftest import World

NEW = "a-better-passphrase-42"


def _create(admin: TestClient, email: str = "nina@example.com") -> str:
    r = admin.post("/api/v1/users", json={"email": email, "name": "Nina", "role": "recruiter"})
    assert r.status_code == 201, r.text
    assert r.json()["user"]["must_change_credentials"] is True
    return str(r.json()["password"])


def _login(client: TestClient, email: str, password: str) -> TestClient:
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


def test_a_one_time_password_only_lets_its_user_choose_a_new_one(
    world: World, as_user: object, client: TestClient
) -> None:
    admin = as_user(world.users[Role.admin])  # type: ignore[operator]
    otp = _create(admin)
    nina = _login(client, "nina@example.com", otp)
    blocked = nina.get("/api/v1/assessments")
    assert blocked.status_code == 403 and blocked.json()["error"] == "password_change_required"
    # The HTML pages send the user to the change form, keeping where they were going.
    page = nina.get("/pipeline", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/account/password?next=/pipeline"
    weak = nina.post("/api/v1/auth/password", json={"current_password": otp,
                                                     "new_password": "short"})
    assert weak.status_code == 400 and "12 characters" in weak.json()["detail"]
    wrong = nina.post("/api/v1/auth/password", json={"current_password": "nope",
                                                      "new_password": NEW})
    assert wrong.status_code == 400 and "current password" in wrong.json()["detail"]
    ok = nina.post("/api/v1/auth/password", json={"current_password": otp, "new_password": NEW})
    assert ok.status_code == 204, ok.text
    assert nina.get("/api/v1/assessments").status_code == 200  # same session goes on
    me = nina.get("/api/v1/auth/me").json()["user"]
    assert me["must_change_credentials"] is False and me["one_time_expires_at"] is None
    nina.post("/api/v1/auth/logout")
    assert client.post("/api/v1/auth/login", json={"email": "nina@example.com",
                                                    "password": otp}).status_code == 401
    _login(client, "nina@example.com", NEW)


def test_the_login_page_sends_a_one_time_password_to_the_change_form(
    world: World, as_user: object, client: TestClient
) -> None:
    admin = as_user(world.users[Role.admin])  # type: ignore[operator]
    otp = _create(admin)
    r = client.post("/login", data={"email": "nina@example.com", "password": otp,
                                    "next": "/bank"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/password?next=%2Fbank"
    form = client.get("/account/password?next=/bank")
    assert "Choose your own password" in form.text
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    mismatch = client.post("/account/password", data={
        "csrf_token": csrf, "current_password": otp, "new_password": NEW,
        "confirm_password": NEW + "x", "next": "/bank"}, follow_redirects=False)
    assert mismatch.status_code == 400 and "differ" in mismatch.text
    done = client.post("/account/password", data={
        "csrf_token": csrf, "current_password": otp, "new_password": NEW,
        "confirm_password": NEW, "next": "/bank"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/bank"
    assert client.get("/bank").status_code == 200


def test_an_expired_one_time_password_is_refused_with_a_reason(
    world: World, as_user: object, client: TestClient, session: Session
) -> None:
    admin = as_user(world.users[Role.admin])  # type: ignore[operator]
    otp = _create(admin)
    user = session.scalars(select(User).where(User.email == "nina@example.com")).one()
    assert user.password_expires_at is not None
    assert timedelta(hours=71) < user.password_expires_at - utcnow() <= timedelta(hours=72)
    user.password_expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    r = client.post("/api/v1/auth/login", json={"email": "nina@example.com", "password": otp})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    page = client.post("/login", data={"email": "nina@example.com", "password": otp})
    assert page.status_code == 401 and "expired" in page.text


def test_admin_reset_gives_an_expiring_one_time_password_and_ends_sessions(
    world: World, as_user: object, client: TestClient, session: Session
) -> None:
    target = world.users[Role.recruiter]
    victim = as_user(target)  # type: ignore[operator]
    admin = as_user(world.users[Role.admin])  # type: ignore[operator]
    r = admin.post(f"/api/v1/users/{target.id}/reset-password")
    assert r.status_code == 200
    assert victim.get("/api/v1/auth/me").status_code == 401
    otp = r.json()["password"]
    fresh = _login(client, target.email, otp)
    assert fresh.get("/api/v1/assessments").status_code == 403
    page = admin.post(f"/admin/users/{target.id}/reset-password")
    assert page.status_code == 200 and "New one-time password" in page.text
    assert "must be changed at the next login" in page.text


def test_a_user_changes_their_own_password_and_other_sessions_end(
    world: World, as_user: object, client: TestClient
) -> None:
    user = world.users[Role.hiring_manager]
    other = as_user(user)  # type: ignore[operator]
    me = _login(client, user.email, factories.PASSWORD)
    r = me.post("/api/v1/auth/password", json={"current_password": factories.PASSWORD,
                                                "new_password": NEW})
    assert r.status_code == 204
    assert other.get("/api/v1/auth/me").status_code == 401
    assert me.get("/api/v1/auth/me").status_code == 200
    same = me.post("/api/v1/auth/password", json={"current_password": NEW, "new_password": NEW})
    assert same.status_code == 400 and "different" in same.json()["detail"]


def test_reset_link_goes_through_the_outbox_works_once_and_tells_nobody_who_exists(
    world: World, client: TestClient, session: Session
) -> None:
    user = world.users[Role.recruiter]
    unknown = client.post("/password/forgot", data={"email": "nobody@example.com"})
    known = client.post("/password/forgot", data={"email": user.email.upper()})
    assert unknown.status_code == known.status_code == 200
    assert "If nobody@example.com belongs to an active account" in unknown.text
    mails = list(session.scalars(select(EmailOutbox).where(EmailOutbox.kind == "password_reset")))
    assert [m.to_addr for m in mails] == [user.email]
    link = next(w for w in mails[0].body_text.split() if "/password/reset?token=" in w)
    token = parse_qs(urlparse(link).query)["token"][0]
    assert token not in str(session.scalars(select(User.reset_token_hash)).all())
    form = client.get(f"/password/reset?token={token}")
    assert form.status_code == 200 and user.email in form.text
    short = client.post("/password/reset", data={"token": token, "new_password": "x",
                                                 "confirm_password": "x"})
    assert short.status_code == 400
    done = client.post("/password/reset", data={"token": token, "new_password": NEW,
                                                "confirm_password": NEW})
    assert done.status_code == 200 and "Password changed" in done.text
    _login(client, user.email, NEW)
    again = client.post("/password/reset", data={"token": token, "new_password": NEW + "2",
                                                 "confirm_password": NEW + "2"})
    assert again.status_code == 410
    assert client.get("/password/reset?token=forged").status_code == 410
    actions = {e.action for e in session.scalars(select(AuditEvent))}
    assert {"user.reset_link", "user.reset_by_link"} <= actions


def test_an_expired_reset_link_is_gone(world: World, client: TestClient,
                                       session: Session) -> None:
    user = world.users[Role.recruiter]
    client.post("/password/forgot", data={"email": user.email})
    mail = session.scalars(select(EmailOutbox).where(EmailOutbox.kind == "password_reset")).one()
    token = mail.body_text.split("token=")[1].split()[0]
    row = session.get_one(User, user.id)
    row.reset_expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    r = client.get(f"/password/reset?token={token}")
    assert r.status_code == 410 and "expired" in r.text


def test_admin_changes_a_role_and_the_picker_has_no_default(
    world: World, as_user: object, session: Session
) -> None:
    target = world.users[Role.recruiter]
    admin = as_user(world.users[Role.admin])  # type: ignore[operator]
    page = admin.get("/admin/users").text
    add_form = page.split('hx-post="/admin/users"')[1]
    assert '<option value="" selected disabled>choose a role</option>' in add_form
    assert 'value="admin" selected' not in add_form
    r = admin.post(f"/admin/users/{target.id}/role", data={"role": "hiring_manager"})
    assert r.status_code == 200 and "is now hiring manager" in r.text
    session.expire_all()
    assert session.get_one(User, target.id).role == Role.hiring_manager
    bad = admin.post(f"/admin/users/{target.id}/role", data={"role": "owner"})
    assert bad.status_code == 400 and "choose a role" in bad.text
    me = world.users[Role.admin]
    own = admin.post(f"/admin/users/{me.id}/role", data={"role": "recruiter"})
    assert own.status_code == 403


def test_the_login_form_works_from_a_page_sent_with_no_referrer(
    world: World, client: TestClient
) -> None:
    """Chromium sends Origin: null on a form POST from a no-referrer page; Sec-Fetch-Site
    still says same-origin, and a cross-site post is still refused."""
    admin = world.users[Role.admin]
    form = {"email": admin.email, "password": factories.PASSWORD, "next": "/"}
    ok = client.post("/login", data=form, follow_redirects=False,
                     headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 303
    forged = client.post("/login", data=form, follow_redirects=False,
                         headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403
