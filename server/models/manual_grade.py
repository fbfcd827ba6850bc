from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt


class ManualGrade(CreatedAt, Base):
    """A person's grade of a manual criterion, or an override of an automated one (with reason)."""

    __tablename__ = "manual_grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    scenario_id: Mapped[str] = mapped_column(String(100))
    criterion_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # "grade" or "override"
    points: Mapped[float]
    level: Mapped[str | None] = mapped_column(String(100), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    grader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
