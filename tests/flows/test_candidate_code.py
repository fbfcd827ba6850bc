"""The candidate runs code: notebook cells in their own kernel, and one-shot Runs.
Real Docker sandboxes (the `docker` marker)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import CellRun
from tests.conftest import World
from tests.factories import make_assessment, make_invite, open_as_candidate
from tests.htmlcheck import inert_problems

pytestmark = pytest.mark.docker


@pytest.fixture
def cand(app: Any, session: Session, world: World) -> Iterator[TestClient]:
    try:
        app.state.notebooks.backend()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no sandbox backend: {exc}")
    assessment = make_assessment(session, org=world.org,
                                 scenarios=("debug-slow-run", "serving-fleet-planner"))
    invite, _ = make_invite(session, assessment=assessment)
    session.commit()
    c: TestClient = open_as_candidate(app, session, invite)
    c.post("/api/v1/candidate/attempt/start")
    yield c
    app.state.notebooks.close()


def test_notebook_reads_artifacts_keeps_state_and_is_recorded(cand: TestClient,
                                                              session: Session) -> None:
    url = "/api/v1/candidate/notebook/0/execute"
    r = cand.post(url, json={"code": "import os, pandas as pd\n"
                                     "files = sorted(os.listdir('/artifacts'))\nprint(files)"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok" and "timings" in body["outputs"][0]["text"]
    r = cand.post(url, json={"code": "len(files)"})  # state kept between cells
    assert r.json()["outputs"][0]["text"].isdigit()
    r = cand.post(url, json={"code": "from IPython.display import HTML\n"
                                     "HTML('<b>bold</b><script>alert(1)</script>"
                                     "<img src=x onerror=alert(2)>')"})
    html = r.json()["outputs"][0]["html"]
    assert "<b>bold</b>" in html and inert_problems(html) == []
    r = cand.post(url, json={"code": "1/0"})
    assert r.json()["status"] == "error" and r.json()["outputs"][0]["ename"] == "ZeroDivisionError"
    runs = session.scalars(select(CellRun).order_by(CellRun.id)).all()
    assert [c.status for c in runs] == ["ok", "ok", "ok", "error"]
    assert runs[0].finished_at and runs[0].finished_at >= runs[0].started_at
    history = cand.get("/api/v1/candidate/notebook/0").json()["cells"]
    assert [c["code"] for c in history][:2] == [runs[0].code, "len(files)"]
    # Restart: a new sandbox, variables gone, history kept.
    assert cand.post("/api/v1/candidate/notebook/0/restart").status_code == 204
    r = cand.post(url, json={"code": "files"})
    assert r.json()["status"] == "error" and "NameError" in r.json()["outputs"][0]["ename"]


def test_a_dead_kernel_and_its_replacement_are_kept_in_the_history(cand: TestClient,
                                                                    session: Session) -> None:
    """Why a cell ended and that a fresh kernel ran the next one survive a reload: the
    history the workspace draws from says so, as the live response did."""
    url = "/api/v1/candidate/notebook/0/execute"
    assert cand.post(url, json={"code": "y = 5"}).json()["status"] == "ok"
    killed = cand.post(url, json={"code": "import os, signal\nos.kill(os.getpid(), 9)"}).json()
    assert killed["status"] == "dead" and killed["detail"]
    fresh = cand.post(url, json={"code": "'y' in globals()"}).json()
    assert fresh["status"] == "ok" and fresh["kernel_restarted"]
    history = cand.get(url.rsplit("/", 1)[0]).json()["cells"]
    assert [c["status"] for c in history] == ["ok", "dead", "ok"]
    assert [bool(c["kernel_restarted"]) for c in history] == [False, False, True]
    assert history[1]["detail"] == killed["detail"]
    assert history[2]["kernel_restarted"] == fresh["kernel_restarted"]
    stored = session.scalars(select(CellRun).order_by(CellRun.id)).all()
    assert stored[-1].kernel_restarted == fresh["kernel_restarted"]


def test_run_executes_the_candidates_code_in_a_fresh_sandbox(cand: TestClient) -> None:
    s = cand.get("/api/v1/candidate/scenarios/1").json()
    code_field = next(f for f in s["form"] if f["type"] == "code")
    name = code_field["files"][0]
    src = "import socket, os\nprint('hello from', os.getuid())\n" \
          "try:\n    socket.create_connection(('8.8.8.8', 53), timeout=2)\n    print('NET')\n" \
          "except OSError as e:\n    print('no network')\n"
    r = cand.post("/api/v1/candidate/run/1", json={"files": {name: src}})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "ok" and "hello from 10001" in out["stdout"]
    assert "no network" in out["stdout"] and "NET" not in out["stdout"]
    bad = cand.post("/api/v1/candidate/run/1", json={"files": {"../../etc/x": "1"}})
    assert bad.status_code == 422
    none = cand.post("/api/v1/candidate/run/0", json={"files": {}})
    assert none.status_code == 409  # the debug scenario has no code to run


def test_code_cannot_run_after_submit(cand: TestClient) -> None:
    cand.post("/api/v1/candidate/submit")
    r = cand.post("/api/v1/candidate/notebook/0/execute", json={"code": "1"})
    assert r.status_code == 409


@pytest.mark.parametrize("path", ["/api/v1/candidate/submit", "/take/submit"])
def test_submitting_closes_the_candidates_kernel(app: Any, cand: TestClient, session: Session,
                                                 path: str) -> None:
    """The API submit and the page's submit form take the same path: the kernel is shut."""
    r = cand.post("/api/v1/candidate/notebook/0/execute", json={"code": "x = 1"})
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    attempt_id = session.scalars(select(CellRun)).all()[-1].attempt_id
    kernels = app.state.notebooks.kernels(attempt_id)
    assert len(kernels) == 1
    r = cand.post(path, follow_redirects=False)
    assert r.status_code in (200, 303), r.text
    assert app.state.notebooks.kernels(attempt_id) == []
    assert kernels[0].closed


def test_outputs_stream_as_ndjson_while_the_cell_runs(cand: TestClient, session: Session) -> None:
    import json
    import time

    code = "import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.4)"
    arrivals: list[tuple[float, dict[str, Any]]] = []
    start = time.monotonic()
    with cand.stream("POST", "/api/v1/candidate/notebook/0/execute", json={"code": code},
                     headers={"accept": "application/x-ndjson"}) as r:
        assert r.headers["content-type"].startswith("application/x-ndjson")
        for line in r.iter_lines():
            if line.strip():
                arrivals.append((time.monotonic() - start, json.loads(line)))
    outputs = [m["output"] for _, m in arrivals if "output" in m]
    assert "".join(o["text"] for o in outputs) == "tick 0\ntick 1\ntick 2\n"
    assert "done" in arrivals[-1][1] and arrivals[-1][1]["done"]["status"] == "ok"
    # The first output arrived before the cell finished: streamed, not buffered.
    first_output = next(t for t, m in arrivals if "output" in m)
    assert first_output < arrivals[-1][0]
    assert len(outputs) >= 2
    stored = session.scalars(select(CellRun)).all()[-1]
    assert stored.status == "ok" and "tick 2" in json.dumps(stored.outputs)


def test_a_kernel_lost_with_its_server_is_replaced_and_said_so(app: Any,
                                                                cand: TestClient) -> None:
    """A cell reaching a server process that never held the candidate's kernel, after cells
    of theirs ran (their node died and the proxy moved them, or the server restarted), runs
    in a new kernel and says the variables are gone; a restart they asked for says nothing."""
    from server.notebooks.service import ELSEWHERE, NotebookService

    url = "/api/v1/candidate/notebook/0/execute"
    assert cand.post(url, json={"code": "z = 1"}).json()["kernel_restarted"] is None
    assert cand.post("/api/v1/candidate/notebook/0/restart").status_code == 204
    asked = cand.post(url, json={"code": "'z' in globals()"}).json()
    assert asked["outputs"][0]["text"] == "False" and asked["kernel_restarted"] is None
    assert cand.post(url, json={"code": "z = 2"}).json()["kernel_restarted"] is None
    app.state.notebooks.close()  # this process's kernels are gone, as with its node
    app.state.notebooks = NotebookService(app.state.settings)
    moved = cand.post(url, json={"code": "'z' in globals()"}).json()
    assert moved["status"] == "ok" and moved["outputs"][0]["text"] == "False"
    assert moved["kernel_restarted"] == ELSEWHERE
    again = cand.post(url, json={"code": "z = 3"}).json()  # the new kernel is theirs now
    assert again["kernel_restarted"] is None
    history = cand.get(url.rsplit("/", 1)[0]).json()["cells"]
    assert [c["kernel_restarted"] for c in history][-2:] == [ELSEWHERE, None]
