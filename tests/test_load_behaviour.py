"""Behaviour under load (issue #20): overload is answered 503 + Retry-After, never a 500 or a
hang; connections are sized to what may use one; an autosave renders nothing; similarity
is compared after the grading store commits; /metrics shows where the next bottleneck is.
Speed itself is measured by bench/load.py, never here."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from server.app import create_app
from server.config import Settings
from server.grading import service as grading
from server.grading.worker import Worker, WorkerConfig
from server.integrity import service as integrity
from server.models import Answer, AnswerRevision, Attempt
from tests.conftest import World
from tests.factories import make_assessment, make_invite, open_as_candidate
from tests.grading import fns
from tests.grading.factories import make_assessment as make_graded_assessment
from tests.grading.factories import make_attempt
from tests.grading.test_integrity import ORIGINAL, RENAMED


def _app(settings: Settings, **overrides: Any) -> FastAPI:
    return create_app(settings.model_copy(update=overrides))


@pytest.fixture
def started(session: Session, world: World) -> Any:
    """A function: app -> a candidate TestClient with a started attempt on scenario 0."""
    assessment = make_assessment(session, org=world.org, minutes=30)
    invite, _ = make_invite(session, assessment=assessment)
    session.commit()

    def make(app: FastAPI) -> TestClient:
        with app.state.sessionmaker() as s:
            s.info["secret_key"] = app.state.settings.secret_key
            c: TestClient = open_as_candidate(app, s, invite)
        c.__enter__()
        assert c.post("/api/v1/candidate/attempt/start").status_code == 200
        return c

    return make


def _text_field(c: TestClient) -> str:
    form = c.get("/api/v1/candidate/scenarios/0").json()["form"]
    return next(f["id"] for f in form if f["type"] in ("long_text", "short_text"))


@pytest.fixture
def small_app(settings: Settings) -> Iterator[FastAPI]:
    """One request at a time, a short wait for a slot and for a connection."""
    app = _app(settings, max_in_flight=1, admission_wait_s=0.3, db_pool_size=2,
               db_pool_timeout_s=0.3)
    yield app
    app.state.engine.dispose()


def test_pool_is_sized_to_requests_in_flight_and_workers(settings: Settings) -> None:
    pool = settings.model_copy(update={"max_in_flight": 40, "grading_workers": 3}).db_pool()
    assert pool.size == 40 + 2 * 3 + 8 and pool.overflow >= 8
    assert settings.model_copy(update={"db_pool_size": 7}).db_pool().size == 7
    app = _app(settings, max_in_flight=12, grading_workers=1)
    try:
        assert app.state.engine.pool.size() == 12 + 2 + 8
    finally:
        app.state.engine.dispose()


def test_autosave_does_not_render_the_variant(app: FastAPI, started: Any) -> None:
    c = started(app)
    field = _text_field(c)  # this read renders the scenario (and caches it) ...
    app.state.bank._views.clear()  # ... so forget it: the saves below must not need it
    for version in range(3):
        r = c.put("/api/v1/candidate/answers/0",
                  json={"base_version": version, "content": {field: f"v{version}"}})
        assert r.status_code == 200 and r.json()["version"] == version + 1
    assert not app.state.bank._views
    bad = c.put("/api/v1/candidate/answers/0",
                json={"base_version": 3, "content": {"no_such_field": "x"}})
    assert bad.status_code == 422 and "no_such_field" in bad.json()["detail"]


def test_autosave_is_four_statements_on_one_connection(app: FastAPI, started: Any,
                                                       session: Session) -> None:
    """Authentication, the attempt with the scenario id, the compare-and-set and the
    revision: one connection checkout, four statements, every version kept."""
    c = started(app)
    field = _text_field(c)
    assert c.put("/api/v1/candidate/answers/0",
                 json={"base_version": 0, "content": {field: "v0"}}).status_code == 200
    engine = app.state.engine
    statements: list[str] = []
    checkouts: list[int] = []

    def on_execute(*args: Any) -> None:
        statements.append(args[2].split()[0].upper())

    def on_checkout(*args: Any) -> None:
        checkouts.append(1)

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        for version in (1, 2):
            r = c.put("/api/v1/candidate/answers/0",
                      json={"base_version": version, "content": {field: f"v{version}"}})
            assert r.status_code == 200 and r.json()["version"] == version + 1
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine.pool, "checkout", on_checkout)
    assert statements == ["SELECT", "SELECT", "UPDATE", "INSERT"] * 2, statements
    assert len(checkouts) == 2
    stale = c.put("/api/v1/candidate/answers/0",
                  json={"base_version": 1, "content": {field: "lost?"}})
    assert stale.status_code == 409 and stale.json()["version"] == 3
    assert stale.json()["content"] == {field: "v2"}
    answer = session.scalars(select(Answer)).one()
    revisions = session.scalars(select(AnswerRevision).where(
        AnswerRevision.answer_id == answer.id).order_by(AnswerRevision.version)).all()
    assert [(r.version, r.content) for r in revisions] == [
        (v + 1, {field: f"v{v}"}) for v in range(3)]


def test_a_version_past_the_integer_columns_is_422_not_500(app: FastAPI, started: Any) -> None:
    c = started(app)
    field = _text_field(c)
    for version in (2**31 - 1, 2**63, 2**70):
        r = c.put("/api/v1/candidate/answers/0",
                  json={"base_version": version, "content": {field: "x"}})
        assert r.status_code == 422 and "base_version" in r.json()["detail"], r.text
    # The largest accepted one reaches the compare-and-set: a stale save, not an overflow.
    r = c.put("/api/v1/candidate/answers/0",
              json={"base_version": 2**31 - 2, "content": {field: "x"}})
    assert r.status_code == 409 and r.json()["version"] == 0, r.text


def test_no_connection_in_time_is_503_with_retry_after(small_app: FastAPI, started: Any,
                                                       world: World) -> None:
    c = started(small_app)
    engine = small_app.state.engine
    held = [engine.connect() for _ in range(engine.pool.size() + engine.pool._max_overflow)]
    try:
        r = c.get("/api/v1/candidate/attempt")
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "2" and r.json()["error"] == "overloaded"
    finally:
        for conn in held:
            conn.close()
    assert c.get("/api/v1/candidate/attempt").status_code == 200
    metrics = c.get("/metrics").text
    assert 'burnin_db_unavailable_total{reason="pool_timeout"} 1.0' in metrics
    assert "burnin_db_pool_wait_seconds_count" in metrics


def test_overload_is_503_and_a_locked_database_is_503_not_500(
        small_app: FastAPI, started: Any, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the write lock held from outside is SQLite's")
    c = started(small_app)
    field = _text_field(c)
    path = Path(db_url.split("///", 1)[1])
    locker = sqlite3.connect(path, isolation_level=None, timeout=1)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the lock past busy_timeout
    first: dict[str, httpx.Response] = {}

    def save() -> None:
        first["r"] = c.put("/api/v1/candidate/answers/0",
                           json={"base_version": 0, "content": {field: "kept"}})

    try:
        t = threading.Thread(target=save)
        t.start()
        # The save above holds the only slot while it waits for the lock: the next request
        # waits admission_wait_s for a slot and is then turned away, while /healthz answers.
        waited = None
        for _ in range(50):
            r = c.get("/api/v1/candidate/attempt")
            if r.status_code == 503:
                waited = r
                break
        assert waited is not None, "no 503 while the only slot was taken"
        assert waited.headers["retry-after"] == "2" and "busy" in waited.json()["detail"]
        assert c.get("/healthz").status_code == 200
        t.join(30)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    locked = first["r"]
    assert locked.status_code == 503 and locked.headers["retry-after"] == "2", locked.text
    # Nothing half-written: the same save now succeeds as the first version.
    again = c.put("/api/v1/candidate/answers/0",
                  json={"base_version": 0, "content": {field: "kept"}})
    assert again.status_code == 200 and again.json()["version"] == 1
    metrics = c.get("/metrics").text
    rejected = next(line for line in metrics.splitlines()
                    if line.startswith("burnin_http_admission_rejected_total "))
    assert float(rejected.split()[1]) >= 1
    assert 'burnin_db_unavailable_total{reason="locked"} 1.0' in metrics


def test_metrics_show_queue_pool_and_requests(client: TestClient, session: Session,
                                              world: World) -> None:
    attempt = make_attempt(session, org=world.org)
    grading.enqueue_grading(session, attempt)
    session.commit()
    text = client.get("/metrics").text
    assert 'burnin_grading_jobs{state="queued"} 1.0' in text
    assert 'burnin_grading_jobs{state="running"} 0.0' in text
    age = next(line for line in text.splitlines()
               if line.startswith("burnin_grading_oldest_queued_seconds "))
    assert float(age.split()[1]) >= 0.0
    assert 'burnin_db_pool_connections{state="size"}' in text
    assert "burnin_http_in_flight" in text and "burnin_http_admission_waiting" in text
    # No kernel pool has started (kernel_pool_size=0): none is reported, none is started.
    assert "burnin_kernel_pool_kernels" not in text
    assert client.app.state.notebooks._pool is None  # type: ignore[attr-defined]


def test_worker_flags_similarity_after_its_store_commits(
        app: FastAPI, session: Session, world: World) -> None:
    assessment = make_graded_assessment(session, org=world.org)
    first = make_attempt(session, org=world.org, assessment=assessment,
                         answers={"s1": {"files": {"solution.py": ORIGINAL}}})
    copier = make_attempt(session, org=world.org, assessment=assessment,
                          answers={"s1": {"files": {"solution.py": RENAMED}}})
    for a in (first, copier):
        grading.enqueue_grading(session, a)
    session.commit()
    worker = Worker(app.state.sessionmaker, fns.fixed, WorkerConfig(lease_s=10, poll_s=0.05))
    outcomes = [worker.run_once(), worker.run_once()]
    assert [o.state for o in outcomes if o] == ["done", "done"]
    session.expire_all()
    on_copier = integrity.summary(session, copier.id)["similar"]
    on_first = integrity.summary(session, first.id)["similar"]
    assert [s["other_attempt_id"] for s in on_copier] == [first.id]
    assert [s["other_attempt_id"] for s in on_first] == [copier.id]


def test_deferred_similarity_does_not_run_when_the_store_rolls_back(
        app: FastAPI, session: Session, world: World) -> None:
    assessment = make_graded_assessment(session, org=world.org)
    a = make_attempt(session, org=world.org, assessment=assessment,
                     answers={"s1": {"files": {"solution.py": ORIGINAL}}})
    b = make_attempt(session, org=world.org, assessment=assessment,
                     answers={"s1": {"files": {"solution.py": RENAMED}}})
    session.commit()
    with app.state.sessionmaker() as s:
        integrity.defer_similarity(s, app.state.sessionmaker)
        attempt = s.get(Attempt, b.id)
        assert attempt is not None
        assert integrity.refresh_similarity(s, attempt) == 0  # deferred, nothing yet
        s.rollback()
    session.expire_all()
    assert integrity.summary(session, b.id)["similar"] == []
    assert integrity.summary(session, a.id)["similar"] == []
    # Nothing else was written on the way.
    assert session.query(Answer).count() == 2 and session.query(AnswerRevision).count() == 0


def test_embedded_grading_runs_in_nicer_child_processes(settings: Settings) -> None:
    import os

    from server.grading.hooks import ChildGrader

    children = ChildGrader(settings, processes=1, nice=7)
    try:
        pid, niceness, policy = children._pool.submit(_pid_and_nice).result(timeout=120)
    finally:
        children.close()
    assert pid != os.getpid()
    assert niceness == min(19, os.nice(0) + 7)
    assert policy == os.SCHED_BATCH  # its wake-ups do not preempt the API's threads
    assert settings.grading_nice == 19  # the default: ~1.5 % of a core the API wants


def _pid_and_nice() -> tuple[int, int, int]:
    import os

    return os.getpid(), os.nice(0), os.sched_getscheduler(0)


def test_collector_pauses_are_in_metrics_while_the_app_runs(settings: Settings) -> None:
    import gc

    app = _app(settings, grading_workers=0)
    with TestClient(app) as c:
        gc.collect()
        text = c.get("/metrics").text
        line = next(x for x in text.splitlines()
                    if x.startswith('burnin_gc_pause_seconds_count{generation="2"}'))
        assert float(line.split()[1]) >= 1
    # Shut down: this app's callback is gone with it (other apps in this worker have their own).
    assert app.state.gc_pauses not in gc.callbacks
    app.state.engine.dispose()


def test_serve_freezes_what_startup_loaded_before_it_serves(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loaded bank goes to the collector's permanent generation, so a full collection
    while serving does not walk it (ops.gcpause)."""
    import gc


    seen: dict[str, Any] = {}

    def run(app: FastAPI, **_: Any) -> None:
        seen["frozen"] = gc.get_freeze_count()
        bank = app.state.bank.bank
        seen["bank_frozen"] = not gc.is_tracked(bank) or _frozen(bank)
        app.state.engine.dispose()

    _serve(settings, monkeypatch, run)
    assert seen["frozen"] > 10_000 and seen["bank_frozen"]


def _serve(settings: Settings, monkeypatch: pytest.MonkeyPatch, run: Any) -> None:
    """`burnin serve` with uvicorn.run replaced by `run(app, **kwargs)` and no port, database
    or logging set-up."""
    import gc

    import uvicorn

    from server.cli import platform
    from server.ops import logging as ops_logging

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(platform, "load_settings", lambda: settings)
    monkeypatch.setattr(platform, "_check_port", lambda host, port: None)
    monkeypatch.setattr(platform, "prepare_database", lambda s: None)
    monkeypatch.setattr(ops_logging, "configure", lambda *a, **k: None)
    monkeypatch.setenv("BURNIN_BASE_URL", settings.base_url)
    try:
        platform.serve(host="127.0.0.1", port=8999)
    finally:
        gc.unfreeze()


def test_serve_keeps_a_connection_open_across_autosaves(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle keep-alive connection outlives the gap between two autosaves (~10 s), so a
    candidate's saves share one connection instead of racing the server's close."""



    seen: dict[str, Any] = {}

    def run(app: FastAPI, **kwargs: Any) -> None:
        seen.update(kwargs)
        app.state.engine.dispose()

    _serve(settings, monkeypatch, run)
    assert seen["timeout_keep_alive"] == settings.keep_alive_s
    assert Settings().keep_alive_s >= 30  # well past a 10 s autosave gap


def _frozen(obj: object) -> bool:
    """Whether obj is in the permanent generation: no generation's list holds it."""
    import gc

    return not any(o is obj for o in gc.get_objects())


def test_closing_the_grader_stops_a_child_in_the_middle_of_a_grade(settings: Settings) -> None:
    """A child busy grading when the server stops is stopped with it, not left grading on
    (orphaned, on the server's cores) after the server exited."""
    import time

    from server.grading.hooks import ChildGrader

    children = ChildGrader(settings, processes=1, nice=0)
    try:
        pid = children._pool.submit(_pid_and_nice).result(timeout=120)[0]
        busy = children._pool.submit(time.sleep, 120)
        time.sleep(0.2)
        assert not busy.done()
    finally:
        t0 = time.monotonic()
        children.close()
    assert time.monotonic() - t0 < 10
    assert not _running(pid), "the grading child outlived close()"
    assert children.pids() == []


def test_a_grading_child_exits_when_its_parent_is_killed() -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    child = ("import sys, time; from server.grading.hooks import exit_with_parent; "
             "exit_with_parent(%d, every_s=0.05); print('watching', flush=True); time.sleep(120)")
    parent = subprocess.Popen(
        [sys.executable, "-c", "import os, subprocess, sys, time; "
         f"p = subprocess.Popen([sys.executable, '-c', {child!r} % os.getpid()]); "
         "print(p.pid, flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        assert parent.stdout is not None
        grandchild = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == "watching"
        assert _running(grandchild)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _running(grandchild) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(grandchild), "the child went on after its parent was killed"
    finally:
        parent.kill()
        parent.wait(10)
        if "grandchild" in locals() and _running(grandchild):
            os.kill(grandchild, signal.SIGKILL)


def _running(pid: int) -> bool:
    """True while pid is a live process (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_the_candidate_api_is_matched_first_and_overlaps_no_other_route(app: FastAPI) -> None:
    """The autosave's router comes right after health (matching walks the routers in
    order); moving it ahead is only safe while no route of another router could match one
    of its paths, or the other way round."""
    import re

    def paths(route: Any) -> list[str]:
        inner = getattr(route, "original_router", None)
        return [r.path for r in inner.routes] if inner is not None else [
            getattr(route, "path", "")]

    routers = [paths(r) for r in app.router.routes]
    first_api = next(i for i, ps in enumerate(routers) if any(p.startswith("/api/v1/") and
                                                             p != "/api/v1/openapi.json"
                                                             for p in ps))
    candidate = next(i for i, ps in enumerate(routers)
                     if any(p.startswith("/api/v1/candidate/") for p in ps))
    assert candidate == first_api, "the candidate API is not the first API router"

    def regex(path: str) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{[^}]+:path\}", ".+",
                                       re.sub(r"\{[^}:]+\}", "[^/]+", path)) + "$")

    def example(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "1", path)

    mine = routers[candidate]
    others = [p for i, ps in enumerate(routers) if i != candidate for p in ps if p]
    clashes = [(a, b) for a in mine for b in others
               if regex(b).match(example(a)) or regex(a).match(example(b))]
    assert clashes == []
