"""The server's side of the report contract (graders.report): a stored report document
<-> graders' Report, human grades applied with graders.engine.apply_manual, and which
criteria wait for a person.

A stored ScoreReport keeps score and dimensions in columns and the rest in `criteria`:
{"source": "grader" | "review", "items": [CriterionResult...], "scenarios": [...],
"pending_review": [...]}; "grader" documents are what a grader produced, "review" ones
were recomputed after a person graded or overrode something."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from graders import engine
from graders.report import PENDING_STATUSES, Report

GradeError = engine.GradeError


class ManualLike(Protocol):
    scenario_id: str
    criterion_id: str
    kind: str
    # None: take the points of `level` (graders.engine does). A property, so the ORM row
    # (points: float) fits the protocol too.
    @property
    def points(self) -> float | None: ...
    level: str | None
    comment: str
    reason: str
    grader_id: int | None


def as_report(report: Any) -> Report:
    """A grade_fn's result (a Report or its dict) as a validated Report."""
    if isinstance(report, Report):
        return report
    if isinstance(report, dict):
        return Report.model_validate(report)
    raise TypeError(f"grade_fn returned {type(report).__name__}, not a report")


def document(report: Report, source: str) -> dict[str, Any]:
    data = report.model_dump(mode="json")
    return {"source": source, "items": data["criteria"], "scenarios": data["scenarios"],
            "pending_review": data["pending_review"], "status": data["status"],
            "score_min": data["score_min"], "score_max": data["score_max"]}


def from_stored(score: float | None, dimensions: dict[str, Any], grader_version: str,
                criteria: dict[str, Any]) -> Report:
    # Reports stored before the review state existed say nothing of it: they are final
    # unless a criterion still waits for a person.
    state = criteria.get("status") or ("needs_review" if pending(criteria.get("items", []))
                                       else "final")
    return Report.model_validate({
        "score": score, "dimensions": dimensions, "grader_version": grader_version,
        "criteria": criteria.get("items", []), "scenarios": criteria.get("scenarios", []),
        "pending_review": criteria.get("pending_review", []), "status": state,
        "score_min": criteria.get("score_min"), "score_max": criteria.get("score_max"),
    })


def review_state(doc: dict[str, Any] | None) -> tuple[str, float | None, float | None]:
    """(final | needs_review, lowest, highest score reviews can give) of a stored document."""
    if not doc:
        return "final", None, None
    state = doc.get("status") or ("needs_review" if pending(doc.get("items", [])) else "final")
    return str(state), doc.get("score_min"), doc.get("score_max")


def levels_of(item: dict[str, Any]) -> dict[str, float]:
    """Level label -> points, from the criterion's level descriptors (evidence kind level),
    to show the choices on a page; grading a level is graders.engine.apply_manual's."""
    top = float(item.get("max_points") or 0)
    return {str(e["label"]): float(e["value"]) * top for e in item.get("evidence", [])
            if e.get("kind") == "level" and e.get("value") is not None}


def apply_manual(automated: Report, grades: Sequence[ManualLike]) -> Report:
    """The automated report with every grade applied in order (the latest wins). A grade
    without points is a level, which graders.engine.apply_manual turns into points (the
    one place that does); a grade with points keeps its level only as a label."""
    engine_grades = [
        engine.ManualGrade(scenario_id=g.scenario_id, criterion_id=g.criterion_id,
                           user_id=str(g.grader_id) if g.grader_id is not None else "unknown",
                           level=g.level if g.points is None else None,
                           points=None if g.points is None else float(g.points),
                           reason=g.reason or g.comment)
        for g in grades
    ]
    report = engine.apply_manual(automated, engine_grades)
    last_level = {(g.scenario_id, g.criterion_id): g.level for g in grades}
    for c in report.criteria:
        key = (c.scenario_id, c.criterion_id)
        if key in last_level:
            c.review_level = last_level[key]
    return report


def for_display(item: dict[str, Any]) -> dict[str, Any]:
    """A stored criterion plus two conveniences for pages and API clients: `levels`
    (label -> points, for manual grading) and `automated` ({points, scorer}: what the
    grader gave before a person graded or overrode it)."""
    out = dict(item)
    levels = levels_of(item)
    if levels:
        out["levels"] = levels
    if item.get("automated_scorer") is not None:
        out["automated"] = {"points": item.get("automated_points"),
                            "scorer": item.get("automated_scorer")}
    return out


def is_pending(item: dict[str, Any]) -> bool:
    if item.get("status") in ("reviewed", "overridden"):
        return False
    return bool(item.get("needs_review")) or item.get("status") in PENDING_STATUSES


def pending(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if is_pending(i)]


def infra_errors(report: Report) -> list[str]:
    return [f"{c.scenario_id}/{c.criterion_id}: {c.detail}" for c in report.criteria
            if c.status == "infra_error"]
