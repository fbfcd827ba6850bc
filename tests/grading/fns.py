"""Grade functions for the job tests: a stand-in for a scenario's rubric built from the
grading library's own report models (graders.report, graders.engine.combine), so stored
reports have the real shape; deterministic per answer. Real scenarios are graded in
test_real_grading.py."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from graders import engine
from graders.report import GRADER_VERSION, CriterionResult, Evidence, Report, ScenarioReport

LEVELS = (("weak", 0.0), ("ok", 0.5), ("strong", 1.0))


def _crit(sid: str, cid: str, dim: str, points: float, **kw: Any) -> CriterionResult:
    base: dict[str, Any] = {"scenario_id": sid, "criterion_id": cid, "dimension": dim,
                            "points": points, "max_points": 10.0, "scorer": "check:field",
                            "confidence": 1.0, "needs_review": False, "status": "graded"}
    return CriterionResult(**{**base, **kw})


def scenario_report(sid: str, seed: int, answer: dict[str, Any]) -> ScenarioReport:
    """c-field: 10 if x == 1; c-y: 2 per unit of y (max 5); c-text: 4 points, low
    confidence (needs review); c-manual: a manual criterion waiting for a person."""
    x_ok = answer.get("x") == 1
    y = min(max(int(answer.get("y", 0)), 0), 5)
    crits = [
        _crit(sid, "c-field", "hardware_awareness", 10.0 if x_ok else 0.0,
              evidence=[Evidence(kind="comparison", label="x", value=answer.get("x"),
                                 expected=1, passed=x_ok)]),
        _crit(sid, "c-y", "coding", 2.0 * y, scorer="check:tests",
              evidence=[Evidence(kind="test", label="y", value=y)]),
        _crit(sid, "c-text", "communication", 4.0, scorer="check:concepts", confidence=0.4,
              needs_review=True, evidence=[Evidence(kind="quote", label="why", text="...")]),
        _crit(sid, "c-manual", "systems_design", 0.0, scorer="check:manual", confidence=0.0,
              needs_review=True, status="pending_review",
              evidence=[Evidence(kind="level", label=lbl, value=v) for lbl, v in LEVELS]),
    ]
    return ScenarioReport(scenario_id=sid, seed=seed, score=engine.score_of(crits),
                          dimensions=engine.dimensions_of(crits), criteria=crits,
                          grader_version=GRADER_VERSION,
                          pending_review=[c.criterion_id for c in crits if c.needs_review])


def fixed(snapshot: dict[str, Any]) -> Report:
    reports, weights = [], {}
    for entry in snapshot["scenarios"]:
        sid = entry["scenario_id"]
        answer = snapshot["answers"].get(sid, {}).get("content", {})
        reports.append(scenario_report(sid, int(snapshot["seeds"].get(sid, 0)), answer))
        weights[sid] = float(entry["weight"])
    return engine.combine(reports, weights)


def _mark(name: str) -> None:
    marker = os.environ.get("BURNIN_TEST_MARKER")
    if marker:
        Path(marker).with_suffix(f".{name}.{os.getpid()}").write_text("started")


def blocking(snapshot: dict[str, Any]) -> Report:
    """Announces itself, then never returns: the test kills the process."""
    _mark("blocking")
    while True:
        time.sleep(3600)


def hanging(snapshot: dict[str, Any]) -> Report:
    """Never returns (like a sandbox that hangs); the worker's job timeout must act."""
    _mark("hanging")
    while True:
        time.sleep(3600)


def failing(snapshot: dict[str, Any]) -> Report:
    raise RuntimeError("sandbox backend unreachable")
