"""Managing users through the API and the admin page; every change audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import AuditEvent, Role, User
from tests.conftest import World, login


def test_admin_creates_a_user_who_can_log_in_with_the_one_time_password(
    client: TestClient, world: World, as_user: object
) -> None:
    admin_client = as_user(world.users[Role.admin])  # type: ignore[operator]
    r = admin_client.post("/api/v1/users",
                          json={"email": "Nina@Example.com", "name": "Nina", "role": "recruiter"})
    assert r.status_code == 201, r.text
    password = r.json()["password"]
    assert r.json()["user"]["email"] == "nina@example.com" and len(password) >= 16
    ok = client.post("/api/v1/auth/login", json={"email": "nina@example.com", "password": password})
    assert ok.status_code == 200 and ok.json()["user"]["role"] == "recruiter"
    # The password is not retrievable afterwards.
    listed = admin_client.get("/api/v1/users").text
    assert password not in listed


def test_duplicate_email_is_a_conflict(world: World, as_user: object) -> None:
    c = as_user(world.users[Role.admin])  # type: ignore[operator]
    taken = world.other_users[Role.recruiter].email
    r = c.post("/api/v1/users", json={"email": taken, "name": "X", "role": "recruiter"})
    assert r.status_code == 409 and r.json()["error"] == "conflict"


def test_disabling_a_user_ends_their_sessions(world: World, as_user: object) -> None:
    target = world.users[Role.recruiter]
    victim = as_user(target)  # type: ignore[operator]
    assert victim.get("/api/v1/auth/me").status_code == 200
    admin = as_user(world.users[Role.admin])  # type: ignore[operator]
    r = admin.patch(f"/api/v1/users/{target.id}", json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert victim.get("/api/v1/auth/me").status_code == 401


def test_admin_cannot_lock_themselves_out(world: World, as_user: object) -> None:
    me = world.users[Role.admin]
    c = as_user(me)  # type: ignore[operator]
    assert c.patch(f"/api/v1/users/{me.id}", json={"is_active": False}).status_code == 403
    assert c.patch(f"/api/v1/users/{me.id}", json={"role": "recruiter"}).status_code == 403


def test_every_change_is_audited_with_actor_and_address(
    world: World, as_user: object, session: Session
) -> None:
    admin = world.users[Role.admin]
    c = as_user(admin)  # type: ignore[operator]
    created = c.post("/api/v1/users",
                     json={"email": "a@example.com", "name": "A", "role": "hiring_manager"}).json()
    uid = created["user"]["id"]
    c.patch(f"/api/v1/users/{uid}", json={"role": "recruiter"})
    c.post(f"/api/v1/users/{uid}/reset-password")
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["user.create", "user.update", "user.reset_password"]
    for e in events:
        assert e.actor == admin.email and e.actor_user_id == admin.id
        assert e.org_id == world.org.id and e.object_id == str(uid)
        assert e.client_address == "testclient"
    assert events[1].data == {"role": "recruiter"}
    api = c.get("/api/v1/audit-events").json()
    assert [e["action"] for e in api] == ["user.reset_password", "user.update", "user.create"]


def test_admin_page_creates_and_disables_users(
    world: World, as_user: object, session: Session
) -> None:
    c = as_user(world.users[Role.admin])  # type: ignore[operator]
    page = c.get("/admin/users")
    assert page.status_code == 200 and world.users[Role.recruiter].email in page.text
    assert world.other_users[Role.recruiter].email not in page.text
    r = c.post("/admin/users", data={"email": "page@example.com", "name": "Page",
                                     "role": "recruiter"}, headers={"HX-Request": "true"})
    assert r.status_code == 201 and "One-time password" in r.text
    assert "<html" not in r.text  # only the swapped block
    bad = c.post("/admin/users", data={"email": "not-an-email", "name": "", "role": "boss"},
                 headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "email" in bad.text and 'role="alert"' in bad.text
    new = session.scalars(select(User).where(User.email == "page@example.com")).one()
    r = c.post(f"/admin/users/{new.id}/active", data={"active": "false"},
               headers={"HX-Request": "true"})
    assert r.status_code == 200 and "disabled" in r.text
    session.expire_all()
    assert session.get_one(User, new.id).is_active is False


def test_admin_edits_organization_settings_used_in_emails_and_pages(
    world: World, as_user: object, session: Session
) -> None:
    from sqlalchemy import select as sel

    from server.models import AuditEvent as AE
    from server.models import EmailOutbox
    from tests.factories import make_assessment

    admin = as_user(world.users[Role.admin])  # type: ignore[operator]
    bad = admin.put("/api/v1/organization/settings", json={"default_time_limit_min": 1})
    assert bad.status_code == 422
    r = admin.put("/api/v1/organization/settings", json={
        "branding_name": "Acme Labs", "default_time_limit_min": 75,
        "accommodations_contact": "ally@acme.example", "email_from": "Acme <talent@acme.example>"})
    assert r.status_code == 200
    assert admin.get("/api/v1/organization/settings").json()["branding_name"] == "Acme Labs"
    assert 'value="75"' in admin.get("/assessments/new").text
    a = make_assessment(session, org=world.org)
    session.commit()
    admin.post(f"/api/v1/assessments/{a.id}/invites", json={"email": "z@example.com"})
    mail = session.scalars(sel(EmailOutbox)).one()
    assert "Acme Labs" in mail.subject and mail.from_addr == "Acme <talent@acme.example>"
    page = admin.post("/admin/settings", data={"branding_name": "B", "default_time_limit_min": "x"})
    assert page.status_code == 422 and "default_time_limit_min" in page.text
    ev = session.scalars(sel(AE).where(AE.action == "organization.settings")).first()
    assert ev is not None and ev.data["branding_name"] == "Acme Labs"
