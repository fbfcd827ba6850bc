from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, CreatedAt, str_enum, utcnow


class AssessmentStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    archived = "archived"


class Assessment(CreatedAt, Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    time_limit_min: Mapped[int] = mapped_column(default=120)
    status: Mapped[AssessmentStatus] = mapped_column(
        str_enum(AssessmentStatus, "assessment_status"), default=AssessmentStatus.draft
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    entries: Mapped[list[AssessmentScenario]] = relationship(
        lazy="raise", order_by="AssessmentScenario.position", cascade="all, delete-orphan"
    )


class AssessmentScenario(Base):
    """One scenario of an assessment, in order, with its weight."""

    __tablename__ = "assessment_scenarios"
    __table_args__ = (UniqueConstraint("assessment_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    scenario_id: Mapped[str] = mapped_column(String(100))
    scenario_version: Mapped[str] = mapped_column(String(40), default="")
    weight: Mapped[float] = mapped_column(default=1.0)
    # A pinned scale tier (scenarios/scale.py): the candidate's seed is drawn in that tier.
    scale_tier: Mapped[str | None] = mapped_column(String(20), default=None)
