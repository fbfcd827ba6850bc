"""Engine, migrations and the per-request session (commit on success, roll back on error)."""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

import anyio.to_thread
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from server.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


SQLITE_BUSY_S = 5.0
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class _WritesInTurnCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        if sql.lstrip()[:6].upper() in _WRITES:
            self.connection._take_write_turn()  # type: ignore[attr-defined]
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        if sql.lstrip()[:6].upper() in _WRITES:
            self.connection._take_write_turn()  # type: ignore[attr-defined]
        return super().executemany(sql, seq_of_parameters)


class WritesInTurn(sqlite3.Connection):
    """A SQLite connection whose writes take turns on a lock of this process (one per
    engine): a transaction takes it at its first INSERT/UPDATE/DELETE and gives it back when
    it commits, rolls back or closes. SQLite lets one writer in at a time anyway; without
    this, a writer finding the file locked sleeps in SQLite's busy handler (1, 2, 5, 10 ... up
    to 100 ms between tries) and wakes late after the lock is free, and under load those
    sleeps, not the writes, made the tail of the autosave. The wait is bounded like the busy
    timeout: past it, "database is locked" (answered as 503). Writers in other processes
    still meet SQLite's own lock and busy timeout."""

    _turn: threading.Lock  # set on the subclass made per engine (writes_in_turn)
    _holding = False
    on_wait: Callable[[float], None] | None = None  # seconds each write waited for its turn

    def cursor(self, factory: Any = _WritesInTurnCursor) -> Any:
        return super().cursor(factory)

    def _take_write_turn(self) -> None:
        if self._holding:
            return
        t0 = time.perf_counter()
        if not self._turn.acquire(blocking=False):
            if not self._turn.acquire(timeout=SQLITE_BUSY_S):
                raise sqlite3.OperationalError(
                    "database is locked (another write of this process held it past the "
                    "busy timeout)")
        self._holding = True
        if self.on_wait is not None:
            self.on_wait(time.perf_counter() - t0)

    def _give_back(self) -> None:
        if self._holding:
            self._holding = False
            self._turn.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()


def writes_in_turn() -> type[WritesInTurn]:
    """A WritesInTurn class with a lock of its own (one per engine, i.e. per database)."""
    return type("WritesInTurnOfEngine", (WritesInTurn,), {"_turn": threading.Lock()})


_TURNS: weakref.WeakKeyDictionary[Engine, type[WritesInTurn]] = weakref.WeakKeyDictionary()


def watch_write_turns(engine: Engine, observe: Callable[[float], None]) -> None:
    """observe(seconds) for every write's wait for its turn (SQLite files; else nothing)."""
    cls = _TURNS.get(engine)
    if cls is not None:
        cls.on_wait = staticmethod(observe)  # type: ignore[assignment]


class TimedQueuePool(QueuePool):
    """A QueuePool that reports how long each checkout waited for a connection."""

    on_wait: Callable[[float], None] | None = None

    def _do_get(self) -> Any:
        start = time.perf_counter()
        try:
            return super()._do_get()
        finally:
            if self.on_wait is not None:
                self.on_wait(time.perf_counter() - start)

    def recreate(self) -> TimedQueuePool:
        pool: TimedQueuePool = super().recreate()  # type: ignore[assignment]
        pool.on_wait = self.on_wait
        return pool


@dataclass(frozen=True)
class PoolSize:
    """Connections of one engine: `size` kept open, `overflow` more on demand, and how long
    a checkout may wait before it fails (answered as 503 + Retry-After, not a hang)."""

    size: int = 5
    overflow: int = 10
    timeout_s: float = 30.0


def make_engine(url: str, pool: PoolSize | None = None, **kwargs: Any) -> Engine:
    """An engine for url; `pool` sizes the connection pool (a file or server database)."""
    sized: dict[str, Any] = {}
    if pool is not None:
        sized = {"poolclass": TimedQueuePool, "pool_size": pool.size,
                 "max_overflow": pool.overflow, "pool_timeout": pool.timeout_s}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            parent = Path(path).parent
            if not parent.exists():
                raise ConfigError(f"database directory {parent} does not exist")
            turns: type[WritesInTurn] | None = writes_in_turn()
            connect_args: dict[str, Any] = {"check_same_thread": False, "factory": turns}
        else:
            sized = {}  # an in-memory database lives in its one connection
            turns, connect_args = None, {"check_same_thread": False}
        engine = create_engine(url, connect_args=connect_args, **sized, **kwargs)
        if turns is not None:
            _TURNS[engine] = turns
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **sized, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions of the engine; objects stay readable after commit. (The instance secret
    never rides on a session: services that hash tokens take Settings.secret_key.)"""
    return sessionmaker(engine, expire_on_commit=False)


def release(session: Session) -> None:
    """End the request's transaction before a long external call (a sandbox run), so no
    transaction or connection is held while it runs; the session starts a new one after."""
    session.commit()


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block ends, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


T = TypeVar("T")


async def in_thread_transaction(factory: sessionmaker[Session],
                                work: Callable[[Session], T]) -> T:
    """work(session) in one worker thread and one transaction, committed before this
    returns (rolled back on an exception). A request that needs the database only here
    costs one thread hand-off instead of one per sync dependency, and holds a connection
    only while work runs."""
    def run() -> T:
        with transaction(factory) as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    try:
        command.upgrade(alembic_config(url), revision)
    except OperationalError as exc:
        raise ConfigError(f"cannot reach the database at {_redact(url)}: {exc.orig}") from exc


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
