"""Grading's typed report, from storage to the API and the pages.

graders.report.Report is what a grader produces. A stored revision of it is a
StoredReport (server/grading/scoring.py maps the ScoreReport row to and from one); what
staff read is ReportView, whose criteria are graders' CriterionResult plus the level
choices and the automated result (CriterionView). The API returns ReportView as JSON, the
pages render the same object."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from graders import engine
from graders.report import PENDING_STATUSES, CriterionResult
from graders.report import Report as GradedReport
from server.kit.inputs import Input

Source = Literal["grader", "review"]


class _In(Input):
    pass


class ManualGradeCreate(_In):
    scenario_id: str = Field(min_length=1, max_length=100, description="Scenario of the criterion.")
    criterion_id: str = Field(min_length=1, max_length=100, description="Criterion to grade.")
    level: str = Field(min_length=1, max_length=100, description="The level descriptor chosen.")
    points: float | None = Field(default=None, ge=0, le=10_000, description=(
        "Points for this level; omit to take them from the criterion's level descriptors."))
    comment: str = Field(default="", max_length=5000, description="Why this level.")


class OverrideCreate(_In):
    scenario_id: str = Field(min_length=1, max_length=100, description="Scenario of the criterion.")
    criterion_id: str = Field(min_length=1, max_length=100, description="Criterion to override.")
    points: float = Field(ge=0, le=10_000, description="The points this criterion gets instead.")
    reason: str = Field(min_length=1, max_length=5000, pattern=r"\S",
                        description="Why the automated result is wrong (required, audited).")


class ManualResult(BaseModel):
    manual_grade_id: int
    report_revision: int
    score: float | None
    dimensions: dict[str, float]


class GradingState(BaseModel):
    job_id: int
    state: str
    tries: int


class StoredReport(BaseModel):
    """One stored revision of an attempt's report. `source` says who made it: "grader"
    (what a grader produced) or "review" (recomputed after a person graded or overrode)."""

    model_config = ConfigDict(frozen=True)

    id: int
    attempt_id: int
    revision: int
    created_at: datetime | None
    source: Source
    report: GradedReport

    @property
    def score(self) -> float | None:
        return self.report.score

    @property
    def pending(self) -> list[CriterionResult]:
        """Criteria that wait for a person."""
        return [c for c in self.report.criteria if is_pending(c)]

    @property
    def review_state(self) -> str:
        """needs_review while a criterion waits (whatever the stored state says), else final."""
        return "needs_review" if self.report.status == "needs_review" or self.pending \
            else "final"


def is_pending(c: CriterionResult) -> bool:
    """Waits for a person: pending statuses, or a check not confident of its points."""
    if c.status in ("reviewed", "overridden"):
        return False
    return c.needs_review or c.status in PENDING_STATUSES


class AutomatedResult(BaseModel):
    points: float | None
    scorer: str | None


class CriterionView(CriterionResult):
    """A criterion as staff read it: `levels` (label -> points, for grading by level) and
    `automated` (what the grader gave before a person graded or overrode it) are only in
    the JSON when there are some."""

    levels: dict[str, float] | None = None
    automated: AutomatedResult | None = None

    @model_serializer(mode="wrap")
    def _drop_empty(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("levels", "automated"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @property
    def waiting(self) -> bool:
        return is_pending(self)

    @classmethod
    def of(cls, c: CriterionResult) -> CriterionView:
        levels = engine.level_points(c)
        automated = None if c.automated_scorer is None else AutomatedResult(
            points=c.automated_points, scorer=c.automated_scorer)
        return cls(**dict(c), levels=levels or None, automated=automated)


class ReportView(BaseModel):
    """An attempt's current report. Recruiters get the fields up to `review_state` only."""

    attempt_id: int
    assessment_id: int
    status: str
    graded: bool
    grading: GradingState | None = None
    score: float | None = None
    revision: int | None = None
    graded_at: datetime | None = None
    review_state: str | None = Field(default=None, description=(
        "final, or needs_review while a criterion waits for a person: the score is "
        "provisional until then."))
    score_min: float | None = Field(default=None, description=(
        "While needs_review: the lowest score the pending reviews can leave."))
    score_max: float | None = Field(default=None, description=(
        "While needs_review: the highest score the pending reviews can give."))
    grader_version: str | None = None
    automated_score: float | None = None
    dimensions: dict[str, float] | None = None
    percentile: float | None = Field(default=None, description=(
        "Share of the assessment's graded attempts scoring below this one (ties count half)."))
    criteria: list[CriterionView] | None = Field(default=None, description=(
        "Every criterion: points, max_points, dimension, evidence, scorer, status; a criterion "
        "a person graded or overrode keeps the grader's result under `automated`."))
    pending_review: list[CriterionView] | None = None
    # integrity/ owns this summary's shape (server/integrity/service.py summary()).
    integrity: dict[str, Any] | None = Field(default=None, description=(
        "Paste/focus-loss counts and timeline, and similar submissions with the matching "
        "passages. Informs; never scores."))


class ReviewItem(CriterionView):
    """A criterion waiting for a person, with the attempt and report revision it is in."""

    attempt_id: int
    assessment_id: int
    report_revision: int
