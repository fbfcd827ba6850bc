"""Grading API payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from server.kit.inputs import Input


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


class Report(BaseModel):
    """An attempt's current report. Recruiters get the fields up to `revision` only."""

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
    criteria: list[dict[str, Any]] | None = Field(default=None, description=(
        "Every criterion: points, max_points, dimension, evidence, scorer, status; a criterion "
        "a person graded or overrode keeps the grader's result under `automated`."))
    pending_review: list[dict[str, Any]] | None = None
    integrity: dict[str, Any] | None = Field(default=None, description=(
        "Paste/focus-loss counts and timeline, and similar submissions with the matching "
        "passages. Informs; never scores."))


class ReviewItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    attempt_id: int
    assessment_id: int
    report_revision: int
    scenario_id: str
    criterion_id: str
