"""Organization scoping, enforced in one place: every org-owned lookup goes through here."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.errors import NotFound

T = TypeVar("T")


def scoped(model: type[T], org_id: int) -> Select[T]:
    """SELECT model WHERE model.org_id = org_id."""
    return select(model).where(model.org_id == org_id)  # type: ignore[attr-defined]


def get_in_org(session: Session, model: type[T], object_id: int, org_id: int, *, label: str) -> T:
    """Fetch one object of the caller's organization; anything else is a 404, never a 403,
    so that ids of other organizations do not leak."""
    obj = session.scalars(
        scoped(model, org_id).where(model.id == object_id)  # type: ignore[attr-defined]
    ).first()
    if obj is None:
        raise NotFound(f"{label} {object_id} not found")
    return obj
