"""The embedded setup: the app's lifespan starts grading workers (BURNIN_GRADING_WORKERS)
with the production grade function, and a submitted attempt ends up graded."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.app import create_app
from server.config import Settings
from server.grading import service
from server.models import Role
from tests.conftest import World
from tests.grading.factories import make_assessment, make_attempt

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_grades_submissions_with_its_own_workers(
        settings: Settings, session: Session, world: World) -> None:
    ref = json.loads((ROOT / "scenarios/debug_slow_run/calibration/reference.json").read_text())
    assessment = make_assessment(session, org=world.org, scenarios={"debug-slow-run": 1.0})
    attempt = make_attempt(session, org=world.org, assessment=assessment,
                           answers={"debug-slow-run": ref["answers"]})
    attempt.seeds = {"debug-slow-run": ref["seed"]}
    service.enqueue_grading(session, attempt)
    session.commit()
    app = create_app(settings.model_copy(update={"grading_workers": 1}))
    try:
        with TestClient(app, base_url="http://testserver") as c:
            r = c.post("/api/v1/auth/login", json={"email": world.users[Role.admin].email,
                                                   "password": "correct horse battery staple"})
            assert r.status_code == 200
            end = time.monotonic() + 60
            body = {}
            while time.monotonic() < end:
                body = c.get(f"/api/v1/attempts/{attempt.id}/report").json()
                if body.get("graded"):
                    break
                time.sleep(0.2)
            assert body.get("graded"), body
            assert ref["band"]["min"] <= body["score"] <= ref["band"]["max"]
    finally:
        app.state.engine.dispose()


def test_zero_workers_start_none(settings: Settings) -> None:
    from server.grading.hooks import start_pool

    assert settings.grading_workers == 0
    assert start_pool(None, settings) is None  # type: ignore[arg-type]


def test_the_apps_workers_grade_against_the_apps_scenarios_root(
        settings: Settings, session: Session, world: World, tmp_path: Path) -> None:
    """A scenario that exists only under the app's BURNIN_SCENARIOS_ROOT is graded: the
    in-process pool uses the app's bank, not the bank shipped with Burnin."""
    import shutil

    root = tmp_path / "bank"
    shutil.copytree(ROOT / "scenarios/debug_slow_run", root / "only_here")
    for f in [root / "only_here/scenario.yaml", *(root / "only_here/calibration").glob("*.json")]:
        f.write_text(f.read_text().replace("debug-slow-run", "only-here"))
    ref = json.loads((root / "only_here/calibration/reference.json").read_text())
    assessment = make_assessment(session, org=world.org, scenarios={"only-here": 1.0})
    attempt = make_attempt(session, org=world.org, assessment=assessment,
                           answers={"only-here": ref["answers"]})
    attempt.seeds = {"only-here": ref["seed"]}
    service.enqueue_grading(session, attempt)
    session.commit()
    app = create_app(settings.model_copy(update={"grading_workers": 1,
                                                 "scenarios_root": root}))
    assert "only-here" in app.state.bank.bank.scenarios
    try:
        with TestClient(app, base_url="http://testserver") as c:
            r = c.post("/api/v1/auth/login", json={"email": world.users[Role.admin].email,
                                                   "password": "correct horse battery staple"})
            assert r.status_code == 200
            end = time.monotonic() + 60
            body = {}
            while time.monotonic() < end:
                body = c.get(f"/api/v1/attempts/{attempt.id}/report").json()
                if body.get("graded"):
                    break
                time.sleep(0.2)
            assert body.get("graded"), body
            assert ref["band"]["min"] <= body["score"] <= ref["band"]["max"]
    finally:
        app.state.engine.dispose()
