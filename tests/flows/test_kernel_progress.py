"""A candidate waiting for a kernel sees where they stand: the execute stream sends
{"progress": {position, eta_s, state}} lines before the cell's outputs and result.
Real Docker sandboxes (the `docker` marker); the pool keeps no warm kernel, so the first
cell always waits for a start."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from sandbox.pool import KernelPool
from server.notebooks.backend import kernel_limits
from tests.conftest import World
from tests.factories import make_assessment, make_invite, open_as_candidate

pytestmark = pytest.mark.docker
URL = "/api/v1/candidate/notebook/0/execute"
NDJSON = {"accept": "application/x-ndjson"}


@pytest.fixture
def cold(app: Any, session: Session, world: World) -> Iterator[TestClient]:
    """A candidate on a server whose kernel pool has nothing warm (size 0)."""
    notebooks = app.state.notebooks
    try:
        backend = notebooks.backend()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no sandbox backend: {exc}")
    notebooks._pool = KernelPool(backend, size=0, max_warm=0,
                                 limits=kernel_limits(notebooks.settings)).start()
    assessment = make_assessment(session, org=world.org, scenarios=("debug-slow-run",))
    invite, _ = make_invite(session, assessment=assessment)
    session.commit()
    c: TestClient = open_as_candidate(app, session, invite)
    c.post("/api/v1/candidate/attempt/start")
    yield c
    notebooks.close()


def _lines(client: TestClient, code: str) -> list[dict[str, Any]]:
    with client.stream("POST", URL, json={"code": code}, headers=NDJSON) as r:
        assert r.status_code == 200, r.read()
        return [json.loads(line) for line in r.iter_lines() if line.strip()]


def test_progress_lines_precede_the_outputs_and_result(cold: TestClient) -> None:
    lines = _lines(cold, "print('hello')")
    kinds = [next(iter(m)) for m in lines]
    assert kinds[0] == "progress", kinds
    first_other = next(i for i, k in enumerate(kinds) if k != "progress")
    assert set(kinds[first_other:]) <= {"output", "done"}, kinds  # none after the kernel came
    assert kinds[-1] == "done" and lines[-1]["done"]["status"] == "ok"
    for m in lines[:first_other]:
        p = m["progress"]
        assert set(p) == {"position", "eta_s", "state"}
        assert isinstance(p["position"], int) and p["position"] >= 1
        assert isinstance(p["eta_s"], int | float) and 0 <= p["eta_s"] <= 120
        assert p["state"] in ("queued", "starting")
    assert lines[0]["progress"]["position"] == 1  # alone in line
    # The second cell runs in the kernel the first one got: no wait, no progress.
    again = _lines(cold, "print('again')")
    assert [next(iter(m)) for m in again] == ["output", "done"]


def test_plain_json_callers_get_the_result_without_progress(cold: TestClient) -> None:
    r = cold.post(URL, json={"code": "1 + 1"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and "progress" not in body


def test_a_second_run_while_waiting_for_the_kernel_is_refused_not_queued(
        cold: TestClient) -> None:
    """The attempt's one-execution-at-a-time rule holds while the kernel starts: a second
    tab's cell gets 429 (with Retry-After), the first still gets its kernel and result."""
    first: list[dict[str, Any]] = []
    waiting = threading.Event()

    def run_first() -> None:
        with cold.stream("POST", URL, json={"code": "print(1)"}, headers=NDJSON) as r:
            for line in r.iter_lines():
                if line.strip():
                    first.append(json.loads(line))
                    waiting.set()

    t = threading.Thread(target=run_first)
    t.start()
    try:
        assert waiting.wait(60)
        assert "progress" in first[0]  # the first cell is waiting for its kernel now
        second = cold.post(URL, json={"code": "print(2)"})
        assert second.status_code == 429, second.text
        assert second.headers.get("retry-after")
    finally:
        t.join(120)
    assert first and first[-1]["done"]["status"] == "ok"


def test_odd_code_while_waiting_is_still_an_ordinary_result(cold: TestClient) -> None:
    lines = _lines(cold, "raise SystemExit('x' * 10000)")
    assert next(iter(lines[0])) == "progress"
    assert "done" in lines[-1] or "error" in lines[-1]
