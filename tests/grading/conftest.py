from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from server.grading.worker import GradeFn, Worker, WorkerConfig
from tests.grading import fns


@pytest.fixture
def factory(app: FastAPI) -> sessionmaker[Session]:
    return app.state.sessionmaker  # type: ignore[no-any-return]


@pytest.fixture
def make_worker(factory: sessionmaker[Session]) -> Callable[..., Worker]:
    def make(grade_fn: GradeFn = fns.fixed, **cfg: float) -> Worker:
        base = {"lease_s": 10.0, "job_timeout_s": 10.0, "backoff_base_s": 0.01,
                "backoff_max_s": 0.05, "poll_s": 0.05}
        return Worker(factory, grade_fn, WorkerConfig(**{**base, **cfg}))

    return make
