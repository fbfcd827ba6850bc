"""Grade functions for the job tests. A stand-in for the grading library (graders.engine),
which is not part of this branch: same Report contract, deterministic per answer. Tests of
the library itself live with the library."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from server.grading.scoring import rollup

LEVELS = {"weak": 0.0, "ok": 5.0, "strong": 10.0}


def fixed(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Per scenario: a field check (10 points if fields.x == 1, 2 points per unit of
    fields.y), a low-confidence concept check, a manual criterion."""
    items: list[dict[str, Any]] = []
    for entry in snapshot["scenarios"]:
        sid = entry["scenario_id"]
        fields = snapshot["answers"].get(sid, {}).get("content", {}).get("fields", {})
        x_ok = fields.get("x") == 1
        y = min(max(int(fields.get("y", 0)), 0), 5)
        items += [
            {"scenario_id": sid, "criterion_id": "c-field", "dimension": "hardware_awareness",
             "points": 10.0 if x_ok else 0.0, "max_points": 10.0,
             "evidence": {"expected": 1, "got": fields.get("x")}, "scorer": "check:field",
             "confidence": 1.0, "needs_review": False, "gradable": True, "status": "scored",
             "detail": ""},
            {"scenario_id": sid, "criterion_id": "c-y", "dimension": "coding",
             "points": 2.0 * y, "max_points": 10.0, "evidence": {"y": y},
             "scorer": "check:tests", "confidence": 1.0, "needs_review": False,
             "gradable": True, "status": "scored", "detail": ""},
            {"scenario_id": sid, "criterion_id": "c-text", "dimension": "communication",
             "points": 4.0, "max_points": 10.0, "evidence": {"quotes": ["..."]},
             "scorer": "check:concepts", "confidence": 0.4, "needs_review": True,
             "gradable": True, "status": "scored", "detail": "low confidence"},
            {"scenario_id": sid, "criterion_id": "c-manual", "dimension": "systems_design",
             "points": None, "max_points": 10.0, "evidence": {}, "scorer": "manual",
             "confidence": 0.0, "needs_review": True, "gradable": True, "status": "pending",
             "detail": "", "levels": LEVELS},
        ]
    weights = {e["scenario_id"]: float(e["weight"]) for e in snapshot["scenarios"]}
    score, dims = rollup(items, weights)
    return {"score": score, "dimensions": dims, "criteria": items, "grader_version": "test-1",
            "pending_review": sum(1 for i in items if i["needs_review"])}


def _mark(name: str) -> None:
    marker = os.environ.get("BURNIN_TEST_MARKER")
    if marker:
        Path(marker).with_suffix(f".{name}.{os.getpid()}").write_text("started")


def blocking(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Announces itself, then never returns: the test kills the process."""
    _mark("blocking")
    while True:
        time.sleep(3600)


def hanging(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Never returns (like a sandbox that hangs); the worker's job timeout must act."""
    _mark("hanging")
    while True:
        time.sleep(3600)


def failing(snapshot: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("sandbox backend unreachable")
