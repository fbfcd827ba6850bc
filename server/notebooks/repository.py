"""All SQL of the notebooks domain: the CellRuns of an attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from server.models import CellRun
from server.models.cell_run import NOTE_CHARS


def add_cell_run(session: Session, *, attempt_id: int, scenario_id: str, code: str,
                 outputs: list[dict[str, Any]], status: str, execution_count: int | None,
                 started_at: datetime, finished_at: datetime, detail: str | None = None,
                 kernel_restarted: str | None = None) -> CellRun:
    cell = CellRun(attempt_id=attempt_id, scenario_id=scenario_id, code=code,
                   outputs={"items": outputs}, status=status, execution_count=execution_count,
                   started_at=started_at, finished_at=finished_at,
                   detail=_clip(detail), kernel_restarted=_clip(kernel_restarted))
    session.add(cell)
    session.flush()
    return cell


def _clip(text: str | None) -> str | None:
    return None if not text else text[:NOTE_CHARS]


def cell_runs(session: Session, attempt_id: int, scenario_id: str | None = None) -> list[CellRun]:
    """The attempt's cells in the order they ran (of one scenario when scenario_id is set)."""
    q = select(CellRun).where(CellRun.attempt_id == attempt_id)
    if scenario_id is not None:
        q = q.where(CellRun.scenario_id == scenario_id)
    return list(session.scalars(q.order_by(CellRun.id)))


def has_cell_runs(session: Session, attempt_id: int, scenario_id: str) -> bool:
    return bool(session.scalar(select(exists().where(CellRun.attempt_id == attempt_id,
                                                     CellRun.scenario_id == scenario_id))))
