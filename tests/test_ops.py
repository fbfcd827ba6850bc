"""Operations: health, readiness, metrics, request ids and structured logs."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from server.models import Role
from server.ops.logging import JsonFormatter
from tests.conftest import World, login


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"


def test_readiness_fails_when_schema_is_behind(client: TestClient) -> None:
    from server import db
    db.downgrade(str(client.app.state.settings.db_url), "base")
    r = client.get("/readyz")
    assert r.status_code == 503 and "burnin db upgrade" in r.json()["detail"]


def test_metrics_count_requests_by_route(client: TestClient) -> None:
    client.get("/healthz")
    client.get("/api/v1/users/7")
    text = client.get("/metrics").text
    assert 'burnin_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="/api/v1/users/{user_id}",status="401"' in text
    assert "burnin_http_request_duration_seconds_bucket" in text


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers[
        "x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
    assert len(made) == 32


def test_access_log_is_json_with_request_id_user_and_latency(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    login(client, world.users[Role.admin])
    with caplog.at_level(logging.INFO, logger="burnin.http"):
        client.get("/api/v1/auth/me", headers={"X-Request-ID": "req-42"})
    record = next(r for r in caplog.records if getattr(r, "request_id", None) == "req-42")
    line = json.loads(JsonFormatter().format(record))
    assert line["user_id"] == world.users[Role.admin].id
    assert line["status"] == 200 and line["path"] == "/api/v1/auth/me"
    assert isinstance(line["latency_ms"], float)


def test_openapi_document_is_complete(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    for p in ("/api/v1/auth/login", "/api/v1/users", "/api/v1/users/{user_id}",
              "/api/v1/audit-events", "/healthz", "/readyz"):
        assert p in paths
    assert "/admin/users" not in paths  # pages are not API
    assert "LoginRequest" in doc["components"]["schemas"]
