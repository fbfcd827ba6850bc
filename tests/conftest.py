"""Shared fixtures: a migrated database per test (SQLite and PostgreSQL), the app, clients."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from server import db
from server.app import create_app
from server.config import Settings
from server.models import Organization, Role, User
from tests import factories
from tests.pg import find_pg_bin, throwaway_cluster

IN_CI = os.environ.get("CI") == "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (scripts/test runs `-n 2 --dist loadgroup`), every test that starts
    sandboxes runs on one worker, one at a time: the leak checks after them
    (tests/sandbox/support.py, host_unaffected) count sandbox-uid processes machine-wide
    and would take another worker's live sandboxes for leftovers."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if (item.get_closest_marker("docker") or item.get_closest_marker("bwrap")
                or "host_unaffected" in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("sandbox"))


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Speed only: argon2 with minimal cost for hashes made during tests. Verification reads
    the parameters from each hash, so the code path is the production one."""
    from argon2 import PasswordHasher

    from server.kit import security

    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = saved


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    given = os.environ.get("BURNIN_TEST_DATABASE_URL")
    if given:
        yield given
        return
    if find_pg_bin() is None:
        if IN_CI:
            pytest.fail("PostgreSQL binaries missing in CI")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    with throwaway_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> str:
    """A database migrated to head once; each test copies it (CREATE DATABASE ... TEMPLATE)."""
    name = f"burnin_tpl_{uuid.uuid4().hex[:8]}"
    _pg_exec(pg_admin_url, f'CREATE DATABASE "{name}"')
    db.upgrade(_with_db(pg_admin_url, name))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    db.upgrade(f"sqlite:///{path}")
    return path


def _with_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def _pg_exec(admin_url: str, sql: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the current schema, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "burnin.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin = request.getfixturevalue("pg_admin_url")
    template = request.getfixturevalue("pg_template")
    name = f"burnin_t_{uuid.uuid4().hex[:12]}"
    _pg_exec(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _with_db(admin, name)
    _pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # No in-process grading workers: grading tests run workers themselves, explicitly.
    return Settings(data_dir=tmp_path / "data", database_url=db_url, log_json=False,
                    base_url="http://testserver", kernel_pool_size=0, background=False,
                    grading_workers=0)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    """A session on the app's database that commits at the end of each `with` in tests."""
    s = app.state.sessionmaker()
    # The factories hash invite tokens as the app does: with the instance secret.
    s.info["secret_key"] = app.state.settings.secret_key
    yield s
    s.close()


@dataclass
class World:
    """Two organizations, each with one user per role."""

    org: Organization
    other_org: Organization
    users: dict[Role, User]
    other_users: dict[Role, User]


@pytest.fixture
def world(session: Session) -> World:
    org = factories.make_org(session, name="Acme")
    other = factories.make_org(session, name="Rival")
    users = {r: factories.make_user(session, org=org, role=r) for r in Role}
    others = {r: factories.make_user(session, org=other, role=r) for r in Role}
    session.commit()
    return World(org, other, users, others)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def login(client: TestClient, user: User, password: str = factories.PASSWORD) -> str:
    """Log a test client in; set its CSRF header; return the CSRF token."""
    r = client.post("/api/v1/auth/login", json={"email": user.email, "password": password})
    assert r.status_code == 200, r.text
    token: str = r.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token


@pytest.fixture
def as_user(app: FastAPI) -> Iterator[object]:
    """as_user(user) -> a TestClient logged in as that user (separate cookie jar each)."""
    clients: list[TestClient] = []

    def make(user: User) -> TestClient:
        c = TestClient(app, base_url="http://testserver")
        c.__enter__()
        clients.append(c)
        login(c, user)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)
