"""A finding about a plan: a stable code and a sentence for a person."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """Something wrong or risky with a plan."""

    code: str = Field(description="Stable machine-readable code.")
    message: str = Field(description="One sentence for a person.")
