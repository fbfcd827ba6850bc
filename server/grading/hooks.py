"""The app's lifespan hook: start the in-process worker pool, stop it on shutdown."""

from __future__ import annotations

import anyio
from sqlalchemy.orm import Session, sessionmaker

from scenarios.loader import Bank
from server.config import Settings
from server.grading.worker import WorkerConfig, WorkerPool


def start_pool(factory: sessionmaker[Session], settings: Settings,
               bank: Bank | None = None) -> WorkerPool | None:
    """Grading workers on the app's own bank and settings (None: none configured)."""
    if settings.grading_workers <= 0:
        return None
    from server.grading.grade_fn import load_grade_fn

    grade_fn = load_grade_fn(settings, bank)
    if grade_fn is None:
        return None
    cfg = WorkerConfig(lease_s=settings.grading_lease_s,
                       job_timeout_s=settings.grading_job_timeout_s)
    return WorkerPool(factory, grade_fn, workers=settings.grading_workers, cfg=cfg).start()


async def stop_pool(pool: WorkerPool | None) -> None:
    if pool is not None:
        await anyio.to_thread.run_sync(pool.stop)
