from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base

NOTE_CHARS = 500


class CellRun(Base):
    """One notebook cell executed in a candidate's kernel: code, outputs, timing."""

    __tablename__ = "cell_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    scenario_id: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(Text)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(24), default="running")
    execution_count: Mapped[int | None] = mapped_column(default=None)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Why the cell ended as it did (limit hit, kernel died), shown beside a cell that is not ok.
    detail: Mapped[str | None] = mapped_column(String(NOTE_CHARS), default=None)
    # Set when a fresh kernel ran this cell because the one before had died: why it died.
    kernel_restarted: Mapped[str | None] = mapped_column(String(NOTE_CHARS), default=None)
