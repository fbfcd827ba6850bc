from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scenarios.models import ScaleTier
from server.kit.inputs import Input
from server.models import AssessmentStatus


class Strict(Input):
    model_config = ConfigDict(str_strip_whitespace=True)


class EntryIn(Strict):
    scenario_id: str = Field(min_length=1, max_length=100, description="Id in the bank.")
    weight: float = Field(default=1.0, gt=0, le=100, description="Relative weight in the score.")
    scale_tier: ScaleTier | None = Field(
        default=None, description="Pin the scale tier of the candidate's variant (small, medium, "
        "large, xlarge); the scenario must reach it. Omitted: the seed draws any scale.")


class AssessmentCreate(Strict):
    title: str = Field(min_length=1, max_length=200)
    instructions: str = Field(default="", max_length=20_000, description="Markdown for candidates.")
    time_limit_min: int = Field(default=120, ge=5, le=24 * 60)
    scenarios: list[EntryIn] = Field(min_length=1, max_length=20,
                                     description="In the order candidates see them.")

    @field_validator("scenarios")
    @classmethod
    def _unique(cls, v: list[EntryIn] | None) -> list[EntryIn] | None:
        if v is None:
            return v
        ids = [e.scenario_id for e in v]
        if len(set(ids)) != len(ids):
            raise ValueError("a scenario may appear only once")
        return v


class AssessmentFromTemplate(Strict):
    template_id: str = Field(min_length=1, max_length=100,
                             description="Id of a role template (GET /api/v1/templates).")
    title: str | None = Field(default=None, min_length=1, max_length=200,
                              description="Title of the new assessment (default: the template's).")


class AssessmentUpdate(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    instructions: str | None = Field(default=None, max_length=20_000)
    time_limit_min: int | None = Field(default=None, ge=5, le=24 * 60)
    scenarios: list[EntryIn] | None = Field(default=None, min_length=1, max_length=20)
    status: AssessmentStatus | None = None

    _unique = field_validator("scenarios")(AssessmentCreate._unique.__func__)  # type: ignore[attr-defined]


class Entry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    scenario_id: str
    scenario_version: str
    weight: float
    scale_tier: str | None = None


class Assessment(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    instructions: str
    time_limit_min: int
    status: AssessmentStatus
    created_at: datetime
    updated_at: datetime
    entries: list[Entry]
