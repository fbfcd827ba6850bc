"""Bad input of any kind: a clear 4xx with a message, never a 5xx, never a partial write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import AuditEvent, Base, Role, User
from tests.conftest import World


def _counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables if t.name not in ("staff_sessions",)}


@pytest.fixture
def admin_client(world: World, as_user: object) -> Iterator[TestClient]:
    yield as_user(world.users[Role.admin])  # type: ignore[operator]


CASES = [
    # (name, method, path, request kwargs, expected status, words the message must contain)
    ("malformed json", "POST", "/api/v1/users",
     {"content": b'{"email": ', "headers": {"content-type": "application/json"}}, 400, "JSON"),
    ("wrong type", "POST", "/api/v1/users",
     {"json": {"email": "x@example.com", "name": 5, "role": "admin"}}, 422, "name"),
    ("unknown field", "POST", "/api/v1/users",
     {"json": {"email": "x@example.com", "name": "X", "role": "admin", "is_superuser": True}},
     422, "is_superuser"),
    ("bad enum", "POST", "/api/v1/users",
     {"json": {"email": "x@example.com", "name": "X", "role": "god"}}, 422, "role"),
    ("bad email", "POST", "/api/v1/users",
     {"json": {"email": "not an email", "name": "X", "role": "admin"}}, 422, "email"),
    ("short password", "POST", "/api/v1/users",
     {"json": {"email": "x@example.com", "name": "X", "role": "admin", "password": "123"}},
     422, "password"),
    ("array body", "POST", "/api/v1/users", {"json": [1, 2]}, 422, "body"),
    ("empty patch", "PATCH", "/api/v1/users/{uid}", {"json": {}}, 400, "nothing to change"),
    ("null patch", "PATCH", "/api/v1/users/{uid}", {"json": {"is_active": "maybe"}}, 422,
     "is_active"),
    ("path not int", "GET", "/api/v1/users/abc", {}, 422, "user_id"),
    ("huge number", "GET", "/api/v1/users/99999999999999999999999", {}, 422, "user_id"),
    ("zero id", "PATCH", "/api/v1/users/0", {"json": {"name": "Z"}}, 422, "user_id"),
    ("negative limit", "GET", "/api/v1/audit-events?limit=-1", {}, 422, "limit"),
    ("oversized body", "POST", "/api/v1/users",
     {"content": b"{" + b" " * 2_000_000 + b"}", "headers": {"content-type": "application/json"}},
     413, "bytes"),
    ("login wrong types", "POST", "/api/v1/auth/login", {"json": {"email": [], "password": {}}},
     422, "email"),
    ("unknown route", "GET", "/api/v1/nope", {}, 404, "Not Found"),
    ("wrong method", "DELETE", "/api/v1/users", {}, 405, "Method"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_4xx_and_changes_nothing(
    case: tuple, admin_client: TestClient, world: World, session: Session  # type: ignore[type-arg]
) -> None:
    _, method, path, kwargs, status, words = case
    before = _counts(session)
    r = admin_client.request(method, path.replace("{uid}", str(world.users[Role.recruiter].id)),
                             **kwargs)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"error", "detail"} and words in body["detail"]
    assert _counts(session) == before


def test_streamed_body_without_length_is_capped(admin_client: TestClient, session: Session) -> None:
    before = _counts(session)

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * 65536

    r = admin_client.post("/api/v1/users", content=chunks(),
                          headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert _counts(session) == before


def test_failed_write_midway_rolls_back_everything(
    admin_client: TestClient, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user row is flushed, then auditing fails: neither the user nor the event remains."""
    from server.accounts import service

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "record", broken)
    with TestClient(admin_client.app, raise_server_exceptions=False,
                    base_url="http://testserver", cookies=admin_client.cookies,
                    headers=admin_client.headers) as c:
        r = c.post("/api/v1/users", json={"email": "half@example.com", "name": "H",
                                          "role": "admin"})
    assert r.status_code == 500 and r.json()["error"] == "internal_error"
    assert "disk on fire" not in r.text
    session.expire_all()
    assert session.scalars(select(User).where(User.email == "half@example.com")).first() is None
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
