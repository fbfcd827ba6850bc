"""Migrations: empty -> head, downgrade -> upgrade round trip, and models match the schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server import db
from server.models import Base
from tests.conftest import _pg_exec, _with_db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin = request.getfixturevalue("pg_admin_url")
    name = f"burnin_m_{uuid.uuid4().hex[:12]}"
    _pg_exec(admin, f'CREATE DATABASE "{name}"')
    yield _with_db(admin, name)
    _pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tables(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_from_empty_to_head_creates_every_table(empty_db: str) -> None:
    db.upgrade(empty_db)
    assert _tables(empty_db) == set(Base.metadata.tables)
    engine = db.make_engine(empty_db)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_downgrade_to_base_and_upgrade_again(empty_db: str) -> None:
    db.upgrade(empty_db)
    db.downgrade(empty_db, "base")
    assert _tables(empty_db) == set()
    db.upgrade(empty_db)
    assert _tables(empty_db) == set(Base.metadata.tables)


def test_models_and_migrations_agree(empty_db: str) -> None:
    """A model change without a migration fails here."""
    db.upgrade(empty_db)
    engine = db.make_engine(empty_db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = db.make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()
