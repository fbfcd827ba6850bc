from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt, str_enum, utcnow


class JobState(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    dead = "dead"


class GradingJob(CreatedAt, Base):
    """Grade one attempt. Leased by a worker; retried with backoff; dead after max tries."""

    __tablename__ = "grading_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    state: Mapped[JobState] = mapped_column(str_enum(JobState, "job_state"), default=JobState.queued)
    tries: Mapped[int] = mapped_column(default=0)
    max_tries: Mapped[int] = mapped_column(default=5)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(120), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
