"""The server's side of the report contract (graders.report): a ScoreReport row <-> a typed
StoredReport, and human grades applied with graders.engine.apply_manual (the one place
that turns a level into points).

A stored ScoreReport keeps score and dimensions in columns and the rest in `criteria`:
{"source": "grader" | "review", "items": [CriterionResult...], "scenarios": [...],
"pending_review": [...], "status", "score_min", "score_max"}; "grader" documents are what
a grader produced, "review" ones were recomputed after a person graded or overrode
something. Only this module reads or writes that document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from graders import engine
from graders.report import Report
from server.grading.errors import InvalidReport
from server.grading.schemas import Source, StoredReport
from server.models import ScoreReport

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


def as_report(report: object) -> Report:
    """A grade_fn's result (a Report or its dict) as a validated Report."""
    if isinstance(report, Report):
        return report
    if isinstance(report, dict):
        return Report.model_validate(report)
    raise InvalidReport(f"grade_fn returned {type(report).__name__}, not a report")


def document(report: Report, source: Source) -> dict[str, Any]:
    """The `criteria` column of a ScoreReport holding `report`."""
    data = report.model_dump(mode="json")
    return {"source": source, "items": data["criteria"], "scenarios": data["scenarios"],
            "pending_review": data["pending_review"], "status": data["status"],
            "score_min": data["score_min"], "score_max": data["score_max"]}


def stored(row: ScoreReport) -> StoredReport:
    """A ScoreReport row read back as a typed report. Rows stored before the review state
    existed say nothing of it: they are final unless a criterion still waits (see
    StoredReport.review_state)."""
    doc = row.criteria
    report = Report.model_validate({
        "score": row.score, "dimensions": row.dimensions, "grader_version": row.grader_version,
        "criteria": doc.get("items", []), "scenarios": doc.get("scenarios", []),
        "pending_review": doc.get("pending_review", []),
        "status": doc.get("status") or "final",
        "score_min": doc.get("score_min"), "score_max": doc.get("score_max"),
    })
    return StoredReport(id=row.id, attempt_id=row.attempt_id, revision=row.revision,
                        created_at=row.created_at,
                        source="review" if doc.get("source") == "review" else "grader",
                        report=report)


def apply_manual(automated: Report, grades: Sequence[ManualLike]) -> Report:
    """The automated report with every grade applied in order (the latest wins). A grade
    without points is a level, which graders.engine.apply_manual turns into points; a
    grade with points keeps its level only as a label."""
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


def infra_errors(report: Report) -> list[str]:
    return [f"{c.scenario_id}/{c.criterion_id}: {c.detail}" for c in report.criteria
            if c.status == "infra_error"]
