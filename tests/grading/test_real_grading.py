"""The production grade function end to end: a submitted attempt to real scenarios of the
bank, graded by a worker with the grading library; infrastructure errors retried."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from graders.report import Report
from scenarios.loader import load_bank
from server.audit.service import Actor
from server.grading import service
from server.grading.grade_fn import make_grade_fn
from server.grading.worker import Worker
from server.models import GradingJob, JobState, ScoreReport
from tests.conftest import World
from tests.grading import fns
from tests.grading.factories import make_assessment, make_attempt

ROOT = Path(__file__).resolve().parents[2]


def _calibration(folder: str, name: str) -> dict[str, Any]:
    return json.loads((ROOT / "scenarios" / folder / "calibration" / f"{name}.json").read_text())


def test_real_scenarios_graded_by_a_worker_land_in_their_bands(
        session: Session, world: World, make_worker: Callable[..., Worker]) -> None:
    bank = load_bank()
    ref = _calibration("debug_slow_run", "reference")
    wrong = _calibration("debug_slow_run", "wrong")
    assessment = make_assessment(session, org=world.org, scenarios={"debug-slow-run": 1.0})
    good = make_attempt(session, org=world.org, assessment=assessment,
                        answers={"debug-slow-run": ref["answers"]})
    bad = make_attempt(session, org=world.org, assessment=assessment,
                       answers={"debug-slow-run": wrong["answers"]})
    for a, doc in ((good, ref), (bad, wrong)):
        a.seeds = {"debug-slow-run": doc["seed"]}
        service.enqueue_grading(session, a)
    session.commit()
    worker = make_worker(make_grade_fn(bank, None))
    assert [worker.run_once().state for _ in range(2)] == ["done", "done"]  # type: ignore[union-attr]
    for a, doc in ((good, ref), (bad, wrong)):
        report = service.report_view(session, world.org.id, a.id, full=True)
        assert report.score is not None and report.criteria
        assert doc["band"]["min"] <= report.score <= doc["band"]["max"], (doc["role"], report)
        assert all(c.scorer.startswith("check:") for c in report.criteria)
    # Re-grading gives the same report.
    first = session.scalars(select(ScoreReport).where(ScoreReport.attempt_id == good.id)).one()
    service.regrade(session, good, Actor("test"))
    session.commit()
    assert worker.run_once().state == "done"  # type: ignore[union-attr]
    session.expire_all()
    second = session.scalars(select(ScoreReport).where(
        ScoreReport.attempt_id == good.id, ScoreReport.is_current.is_(True))).one()
    assert second.revision == 2
    assert (second.score, second.dimensions, second.criteria) == (
        first.score, first.dimensions, first.criteria)


def _with_infra_error(snapshot: dict[str, Any]) -> Report:
    report = fns.fixed(snapshot)
    c = report.criteria[1]
    c.status, c.detail, c.points, c.gradable = "infra_error", "no sandbox backend", 0.0, False
    return report


@pytest.mark.parametrize("max_tries", [2])
def test_infrastructure_errors_in_criteria_are_retried_then_left_for_a_person(
        session: Session, world: World, make_worker: Callable[..., Worker],
        max_tries: int) -> None:
    attempt = make_attempt(session, org=world.org)
    job = service.enqueue_grading(session, attempt, max_tries=max_tries)
    session.commit()
    worker = make_worker(_with_infra_error, backoff_base_s=0.0, backoff_max_s=0.0)
    first = worker.run_once()
    assert first is not None and first.state == "retry"
    assert "infrastructure errors" in (first.error or "") and "no sandbox" in (first.error or "")
    assert worker.run_once().state == "done"  # type: ignore[union-attr]  # last try: stored
    session.expire_all()
    assert session.get(GradingJob, job.id).state == JobState.done  # type: ignore[union-attr]
    view = service.report_view(session, world.org.id, attempt.id, full=True)
    assert "c-y" in {c.criterion_id for c in view.pending_review or []}
