"""Schemathesis over the whole API, as staff (admin), as a candidate and anonymously.

Authenticated the way the README says: POST /api/v1/auth/login, keep the cookie, send the
returned csrf_token as X-CSRF-Token; a candidate holds the cookie their invite link set. Any
5xx, or a response whose status, content type or body the OpenAPI document does not
describe, fails the test. Examples per operation are bounded and derandomized (the same
cases every run), on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from server.models import Role
from tests.conftest import World, login
from tests.factories import make_assessment, make_invite, open_as_candidate

EXAMPLES = int(os.environ.get("BURNIN_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Code runs in a real kernel: a few examples each, the rest of the API gets EXAMPLES.
SLOW = ("/notebook/", "/run/")
# Last, so the staff session stays alive for every other operation.
LAST = ("/api/v1/auth/logout",)


def _roles(app: FastAPI, world: World, session: Session) -> dict[str, tuple[dict[str, str],
                                                                          dict[str, str]]]:
    staff = TestClient(app, base_url="http://testserver")
    csrf = login(staff, world.users[Role.admin])
    assessment = make_assessment(session, org=world.org, minutes=60)
    invite, _ = make_invite(session, assessment=assessment)
    session.commit()
    cand = open_as_candidate(app, session, invite)
    assert cand.post("/api/v1/candidate/attempt/start").status_code == 200
    return {
        "staff": ({"X-CSRF-Token": csrf}, dict(staff.cookies)),
        "candidate": ({"X-CSRF-Token": cand.headers["X-CSRF-Token"]}, dict(cand.cookies)),
        "anonymous": ({}, {}),
    }


def test_fuzzing_finds_no_server_error_and_no_schema_mismatch(
    app: FastAPI, world: World, session: Session
) -> None:
    roles = _roles(app, world, session)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    # An operation schemathesis cannot read is an Err without ok(): the test fails there.
    operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
    operations.sort(key=lambda op: op.path in LAST or op.full_path in LAST)
    assert len(operations) >= 30, "the whole API, not a part of it"
    failures: list[str] = []
    calls = 0

    def fuzz(op: Any, who: str, headers: dict[str, str], cookies: dict[str, str]) -> None:
        budget = 3 if any(s in op.path for s in SLOW) else EXAMPLES

        @given(case=op.as_strategy())
        @settings(max_examples=budget, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(headers=headers, cookies=cookies)
            try:
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # FailureGroup: collect all
                failures.append(f"{who} {op.method.upper()} {op.path}: "
                                f"{type(exc).__name__}: {str(exc)[:600]}")

        run()

    for op in operations:
        for who, (headers, cookies) in roles.items():
            fuzz(op, who, headers, cookies)

    print(f"schemathesis: {len(operations)} operations x {len(roles)} roles, {calls} calls, "
          f"{len(failures)} failures")
    assert not failures, "\n\n".join(failures[:20])


@pytest.fixture(autouse=True)
def _no_stray_kernels(app: FastAPI) -> Any:
    yield
    app.state.notebooks.close()
