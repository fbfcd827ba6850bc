from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, CreatedAt, str_enum
from server.models.organization import Organization


class Role(enum.StrEnum):
    admin = "admin"
    recruiter = "recruiter"
    hiring_manager = "hiring_manager"


class User(CreatedAt, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # A one-time password (made by create or an admin's reset) must be replaced at first login
    # and stops working at password_expires_at.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # An e-mailed reset link: only the keyed hash of its token, and when it stops working.
    reset_token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    reset_expires_at: Mapped[datetime | None] = mapped_column(default=None)

    organization: Mapped[Organization] = relationship(lazy="raise")
