from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from server.kit.inputs import Input


class AnswerSave(Input):
    # Below 2**31 - 1: the next version must fit an INTEGER column on every database.
    base_version: int = Field(ge=0, le=2**31 - 2,
                              description="The version this edit started from.")
    content: dict[str, Any] = Field(description="Answer field id -> value.")


class AnswerSaved(BaseModel):
    version: int
    saved_at: datetime


class ScenarioRef(BaseModel):
    index: int
    scenario_id: str
    title: str
    kind: str
    time_estimate_min: int
    answered: bool
    version: int


class AttemptState(BaseModel):
    status: str = Field(description="not_started, in_progress, submitted or graded.")
    assessment_title: str
    time_limit_min: int
    started_at: datetime | None
    deadline: datetime | None
    server_now: datetime
    scenarios: list[ScenarioRef]


class ScenarioForCandidate(BaseModel):
    """One scenario as the candidate sees it: built only from the scenario's CandidateView."""

    index: int
    scenario_id: str
    title: str
    prompt_html: str
    form: list[dict[str, Any]]
    artifacts: list[dict[str, Any]]
    starter: dict[str, str]
    answer: dict[str, Any]
    version: int


class IntegrityEvent(Input):
    kind: Literal["paste", "copy", "focus_loss", "focus_gain"] = Field(
        description="What the page saw: a paste, a copy, or the tab losing/regaining focus.")
    scenario_id: str | None = Field(default=None, max_length=100)
    data: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class MarkdownIn(Input):
    text: str = Field(max_length=200_000)


class CellIn(Input):
    code: str = Field(max_length=100_000)


class RunIn(Input):
    files: dict[str, str] = Field(description="Code file name -> text (the editor's content).")
