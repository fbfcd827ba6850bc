from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, CreatedAt


class Organization(CreatedAt, Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # Branding name, default time limit, SMTP overrides: small, schemaless, validated by schemas.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
