"""Bad input of any kind: a clear 4xx with a message, never a 5xx, never a partial write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


# ---------------------------------------------------------------- found by fuzzing (issue 19)

NUL = "a\u0000b"


@pytest.fixture
def assessment_id(world: World, session: Session) -> int:
    from tests.factories import make_assessment

    a = make_assessment(session, org=world.org)
    session.commit()
    return a.id


def _bad(r: Any, status: int, words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"error", "detail"} and words in body["detail"], body


def test_patch_with_null_scenarios_is_a_4xx(admin_client: TestClient, assessment_id: int) -> None:
    r = admin_client.patch(f"/api/v1/assessments/{assessment_id}", json={"scenarios": None})
    _bad(r, 400, "nothing to change")
    r = admin_client.patch(f"/api/v1/assessments/{assessment_id}",
                           json={"scenarios": None, "title": "Renamed"})
    assert r.status_code == 200 and r.json()["title"] == "Renamed"
    assert len(r.json()["entries"]) == 1


def test_audit_offset_past_64_bits_is_a_422(admin_client: TestClient) -> None:
    _bad(admin_client.get("/api/v1/audit-events?offset=9223372036854775808"), 422, "offset")


def test_csv_with_a_bare_cr_inside_a_field_is_a_422(admin_client: TestClient,
                                                    assessment_id: int, session: Session) -> None:
    before = _counts(session)
    r = admin_client.post(f"/api/v1/assessments/{assessment_id}/invites/csv",
                          files={"file": ("c.csv", b"email,name\na@example.com,Ann\rBob\n",
                                          "text/csv")})
    _bad(r, 422, "not valid CSV")
    assert _counts(session) == before


def test_nul_in_login_email_is_a_422_without_login(client: TestClient) -> None:
    r = client.post("/api/v1/auth/login", json={"email": f"{NUL}@example.com", "password": "x"})
    _bad(r, 422, "NUL")
    page = client.post("/login", data={"email": f"{NUL}@example.com", "password": "x"})
    assert page.status_code == 422 and "NUL" in page.text


@pytest.mark.parametrize("what", ["invite name", "assessment title", "user name", "settings"])
def test_nul_in_stored_text_is_a_422_on_every_database(
    what: str, admin_client: TestClient, assessment_id: int, session: Session
) -> None:
    before = _counts(session)
    method, path, body = {
        "invite name": ("POST", f"/api/v1/assessments/{assessment_id}/invites",
                        {"email": "n@example.com", "name": NUL}),
        "assessment title": ("POST", "/api/v1/assessments",
                             {"title": NUL, "scenarios": [{"scenario_id": "debug-slow-run"}]}),
        "user name": ("PATCH", f"/api/v1/assessments/{assessment_id}", {"instructions": NUL}),
        "settings": ("PUT", "/api/v1/organization/settings", {"branding_name": NUL}),
    }[what]
    _bad(admin_client.request(method, path, json=body), 422, "NUL")
    assert _counts(session) == before


def test_nul_in_a_page_form_is_refused_by_the_database_guard(
    admin_client: TestClient, session: Session
) -> None:
    """A form field reaches SQL without a model; the guard refuses it on SQLite as well."""
    before = _counts(session)
    r = admin_client.post("/admin/users", data={"email": "f@example.com", "name": NUL,
                                                "role": "admin"})
    assert 400 <= r.status_code < 500, r.text
    assert _counts(session) == before


def test_nul_in_the_url_is_a_400(admin_client: TestClient) -> None:
    _bad(admin_client.get("/api/v1/scenarios?q=a%00b"), 400, "NUL")
    _bad(admin_client.get("/api/v1/scenarios/a%00b/preview"), 400, "NUL")


@pytest.mark.parametrize("body, words", [
    (b'{"title": "T", "scenarios": [{"scenario_id": "debug-slow-run", "weight": NaN}]}', "finite"),
    (b'{"title": "T", "scenarios": [{"scenario_id": "debug-slow-run", "weight": Infinity}]}',
     "finite"),
    (b'{"title": "T", "time_limit_min": true, "scenarios": [{"scenario_id": "debug-slow-run"}]}',
     "not true or false"),
    (b'{"title": "T", "time_limit_min": 1e400, "scenarios": [{"scenario_id": "x"}]}', "finite"),
    (b'{"title": "T", "time_limit_min": 99999999999999999999999, "scenarios": []}',
     "time_limit_min"),
])
def test_non_finite_and_boolean_numbers_are_422(admin_client: TestClient, session: Session,
                                                body: bytes, words: str) -> None:
    before = _counts(session)
    r = admin_client.post("/api/v1/assessments", content=body,
                          headers={"content-type": "application/json"})
    _bad(r, 422, words)
    assert _counts(session) == before


@pytest.fixture
def cand(app: Any, world: World, session: Session) -> TestClient:
    from tests.factories import make_assessment, make_invite, open_as_candidate

    a = make_assessment(session, org=world.org, minutes=30)
    inv, _ = make_invite(session, assessment=a)
    session.commit()
    c: TestClient = open_as_candidate(app, session, inv)
    assert c.post("/api/v1/candidate/attempt/start").status_code == 200
    return c


def test_candidate_input_is_checked_before_it_runs_or_is_stored(cand: TestClient) -> None:
    fields = cand.get("/api/v1/candidate/scenarios/0").json()["form"]
    fid = fields[0]["id"]
    # A cell with NUL never reaches the kernel (it could not be recorded on PostgreSQL).
    _bad(cand.post("/api/v1/candidate/notebook/0/execute", json={"code": f"print(1)#{NUL}"}),
         422, "NUL")
    _bad(cand.put("/api/v1/candidate/answers/0", json={"base_version": False,
                                                      "content": {fid: "x"}}),
         422, "not true or false")
    raw = b'{"base_version": 0, "content": {"%s": NaN}}' % fid.encode()
    _bad(cand.put("/api/v1/candidate/answers/0", content=raw,
                  headers={"content-type": "application/json"}), 422, "finite")
    _bad(cand.post("/api/v1/candidate/events", content=b'{"kind": "paste", "data": {"n": -Infinity}}',
                   headers={"content-type": "application/json"}), 422, "finite")
    # Over-long but within the body limit: 422 like any other field, not 413.
    _bad(cand.put("/api/v1/candidate/answers/0",
                  json={"base_version": 0, "content": {fid: "x" * 600_000}}), 422, "KiB")
    deep: Any = "x"
    for _ in range(200):
        deep = [deep]
    _bad(cand.put("/api/v1/candidate/answers/0", json={"base_version": 0, "content": {fid: deep}}),
         422, "nested")
    assert cand.put("/api/v1/candidate/answers/0",
                    json={"base_version": 0, "content": {fid: "fine"}}).status_code == 200


@pytest.mark.parametrize("points", ["nan", "inf", "-inf", "1e400", "-1", "10001"])
def test_grade_points_must_be_finite_and_in_range(points: str, world: World, as_user: Any,
                                                  session: Session) -> None:
    from tests.grading.factories import make_assessment, make_graded_attempt

    a = make_assessment(session, org=world.org)
    x = make_graded_attempt(session, org=world.org, assessment=a)
    session.commit()
    before = _counts(session)
    hm = as_user(world.users[Role.hiring_manager])
    page = hm.post(f"/attempts/{x.id}/grade", data={
        "scenario_id": "s1", "criterion_id": "c-field", "kind": "override", "points": points,
        "reason": "try it"}, follow_redirects=False)
    assert page.status_code == 400 and "points must be a number" in page.text
    raw = b'{"scenario_id": "s1", "criterion_id": "c-field", "points": %s, "reason": "r"}' % (
        {"nan": b"NaN", "inf": b"Infinity", "-inf": b"-Infinity"}.get(points, points.encode()))
    api = hm.post(f"/api/v1/attempts/{x.id}/overrides", content=raw,
                  headers={"content-type": "application/json"})
    _bad(api, 422, "points")
    assert _counts(session) == before


def test_openapi_describes_the_error_body_everywhere(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    text = str(doc)
    assert "HTTPValidationError" not in text
    assert doc["components"]["schemas"]["Error"]["required"] == ["error", "detail"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for code, response in op["responses"].items():
                if code.startswith("4"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error", (method, path, code)
            assert "4XX" in op["responses"], (method, path)
    # What a 422 really looks like matches the document (field names included).
    r = client.post("/api/v1/auth/login", json={"email": 1})
    assert r.status_code == 422 and set(r.json()) == {"error", "detail", "fields"}
    assert {f["field"] for f in r.json()["fields"]} >= {"email", "password"}
