from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, CreatedAt
from server.models.invite import Invite


class CandidateSession(CreatedAt, Base):
    """A candidate's browser, after the invite token was exchanged for a cookie."""

    __tablename__ = "candidate_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("invites.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]

    invite: Mapped[Invite] = relationship(lazy="raise")
