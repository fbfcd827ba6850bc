from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt


class ScoreReport(CreatedAt, Base):
    """A graded attempt: per criterion points, evidence and scorer. Exactly one is current."""

    __tablename__ = "score_reports"
    __table_args__ = (UniqueConstraint("attempt_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(default=1)
    is_current: Mapped[bool] = mapped_column(default=True)
    grader_version: Mapped[str] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(default=None)
    dimensions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    criteria: Mapped[dict[str, Any]] = mapped_column(default=dict)
