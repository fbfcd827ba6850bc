from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt, utcnow


class Answer(Base):
    """The current answer of one attempt to one scenario; every save also appends a revision."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("attempt_id", "scenario_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    scenario_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=0)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnswerRevision(CreatedAt, Base):
    """Append-only history of an answer: never updated, never deleted while the attempt lives."""

    __tablename__ = "answer_revisions"
    __table_args__ = (UniqueConstraint("answer_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    version: Mapped[int]
    content: Mapped[dict[str, Any]]
