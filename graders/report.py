"""The report contract: what grading produces and the server stores.

A criterion result carries its points, maximum, evidence and scorer, so every point on a
report traces to a check or a person. Scores are 0-100; manual criteria not yet graded
(and checks that hit an infrastructure error) are pending: they are listed and left out
of the score until someone grades them. A criterion a check is not confident of keeps its
automated points but is marked needs_review with the range a review can still move it
in (points_min..points_max); the report says needs_review, with score_min..score_max
over all criteria, until a person has looked.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from graders.rubric import Dimension

GRADER_VERSION = "1.0.0"

Status = Literal[
    "graded",  # scored by a check
    "unanswered",  # nothing to score: 0 points, certain
    "not_gradable",  # the submission cannot be scored (code does not run): 0 points
    "timed_out",  # the run hit its time limit; cases that finished still count
    "infra_error",  # our side failed (no sandbox, runner crashed): pending, retry
    "pending_review",  # waits for a person (manual criteria)
    "reviewed",  # a person graded a manual criterion
    "overridden",  # a person replaced an automated result
]

# A report is final when no criterion waits for a person; until then it is provisional.
ReviewState = Literal["final", "needs_review"]

# Statuses whose points are not in the score yet.
PENDING_STATUSES: frozenset[str] = frozenset({"pending_review", "infra_error"})


class Evidence(BaseModel):
    """One structured piece of evidence: a metric, a test outcome, a quoted sentence, ..."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["metric", "comparison", "test", "quote", "resource", "level", "note"] = Field(
        description="metric: a number a model computed; comparison: answer vs expected; "
        "test: one hidden case; quote: a sentence of the answer; resource: what a run used "
        "(wall time, memory; varies between runs); level: a descriptor for human graders; "
        "note: anything else."
    )
    label: str = Field(description="What this is (metric name, case id, concept id, ...).")
    value: Any = Field(default=None, description="The candidate's or the model's value.")
    expected: Any = Field(default=None, description="The value it was compared with, if any.")
    passed: bool | None = Field(default=None, description="Whether this item earned its credit.")
    credit: float | None = Field(default=None, description="Fraction of the part's credit earned.")
    text: str | None = Field(default=None, description="Quoted text or an explanation.")


class CriterionResult(BaseModel):
    """The result of one criterion of one scenario."""

    model_config = ConfigDict(extra="forbid")

    scenario_id: str = Field(description="Scenario the criterion belongs to.")
    criterion_id: str = Field(description="Criterion id from rubric.yaml.")
    title: str = Field(default="", description="What the criterion rewards.")
    dimension: Dimension = Field(description="Report dimension the points count towards.")
    points: float = Field(description="Points earned.")
    max_points: float = Field(description="Maximum points.")
    evidence: list[Evidence] = Field(default_factory=list, description="Why these points.")
    scorer: str = Field(description="'check:<kind>' or 'user:<id>'.")
    confidence: float = Field(ge=0, le=1, description="How sure the scorer is (0..1).")
    needs_review: bool = Field(description="A person should look at this criterion.")
    gradable: bool = Field(default=True, description="False when the submission could not be scored.")
    status: Status = Field(description="How the criterion ended (see graders.report.Status).")
    detail: str = Field(default="", description="One sentence: what happened, or why not gradable.")
    automated_points: float | None = Field(
        default=None, description="Points the check gave before a person graded or overrode it."
    )
    automated_scorer: str | None = Field(default=None, description="Scorer before the override.")
    review_comment: str | None = Field(default=None, description="The reviewer's comment or reason.")
    review_level: str | None = Field(default=None, description="Level label the reviewer chose.")
    points_min: float | None = Field(
        default=None, description="Lowest points a review can leave (None: points; 0 while "
        "pending).")
    points_max: float | None = Field(
        default=None, description="Highest points a review can give (None: points; "
        "max_points while pending): the automated part plus what awaits review.")
    review_state: ReviewState = Field(
        default="final", description="needs_review: the points are provisional until a "
        "person has looked; final: checked with confidence, or reviewed.")

    @property
    def pending(self) -> bool:
        return self.status in PENDING_STATUSES

    def reach(self) -> tuple[float, float]:
        """(lowest, highest) points this criterion can still end at."""
        if self.pending:
            return 0.0, self.max_points
        lo = self.points if self.points_min is None else min(self.points, self.points_min)
        hi = self.points if self.points_max is None else max(self.points, self.points_max)
        return lo, min(hi, self.max_points)


class ScenarioSummary(BaseModel):
    """One scenario's place in a combined report."""

    model_config = ConfigDict(extra="forbid")

    scenario_id: str = Field(description="Scenario id.")
    seed: int = Field(description="Variant seed.")
    weight: float = Field(description="Weight of the scenario in the overall score.")
    score: float | None = Field(description="0-100 over the scored criteria; None if none.")


class ScenarioReport(BaseModel):
    """The graded answer to one scenario variant."""

    model_config = ConfigDict(extra="forbid")

    scenario_id: str = Field(description="Scenario id.")
    seed: int = Field(description="Variant seed.")
    score: float | None = Field(description="0-100 over the scored criteria; None if none.")
    dimensions: dict[str, float] = Field(description="Dimension -> 0-100 (scored ones only).")
    criteria: list[CriterionResult] = Field(description="One result per rubric criterion.")
    grader_version: str = Field(default=GRADER_VERSION, description="Version of the grading library.")
    pending_review: list[str] = Field(description="Criterion ids waiting for a person.")
    status: ReviewState = Field(
        default="final", description="needs_review while any criterion waits for a person.")
    score_min: float | None = Field(
        default=None, description="Lowest 0-100 score reviews can leave, over all criteria.")
    score_max: float | None = Field(
        default=None, description="Highest 0-100 score reviews can give, over all criteria.")

    def digest(self) -> str:
        return report_digest(self)


class Report(BaseModel):
    """An attempt's report: every scenario's criteria rolled up into one score."""

    model_config = ConfigDict(extra="forbid")

    score: float | None = Field(description="0-100 overall; None while nothing is scored.")
    dimensions: dict[str, float] = Field(description="Dimension -> 0-100 (scored ones only).")
    criteria: list[CriterionResult] = Field(description="Every criterion of every scenario.")
    grader_version: str = Field(default=GRADER_VERSION, description="Version of the grading library.")
    pending_review: list[str] = Field(
        description="'<scenario_id>/<criterion_id>' of criteria waiting for a person."
    )
    scenarios: list[ScenarioSummary] = Field(description="Scenarios, weights and scores.")
    status: ReviewState = Field(
        default="final", description="needs_review while any criterion waits for a person.")
    score_min: float | None = Field(
        default=None, description="Lowest 0-100 score reviews can leave, over all criteria.")
    score_max: float | None = Field(
        default=None, description="Highest 0-100 score reviews can give, over all criteria.")

    def digest(self) -> str:
        return report_digest(self)


def report_digest(report: BaseModel) -> str:
    """SHA-256 of the report without run-time measurements (resource evidence).

    Resource use (wall time, memory) differs between two runs of the same code; every
    other part of a report must be identical when the same inputs are graded again.
    """
    data = report.model_dump(mode="json")
    for crit in data.get("criteria", []):
        crit["evidence"] = [e for e in crit["evidence"] if e["kind"] != "resource"]
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
