"""Writes of one process to a SQLite file take turns on a lock (server.db.WritesInTurn)
instead of polling SQLite's busy handler: a waiting writer goes as soon as the holder
commits or rolls back, readers never wait, and a turn held past the busy timeout is
"database is locked" (a 503 in the API), as SQLite's own timeout was."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from server import db


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    e = db.make_engine(f"sqlite:///{tmp_path / 'w.db'}", pool=db.PoolSize(4, 4, 5))
    with e.begin() as c:
        c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
        c.execute(text("INSERT INTO t (id, v) VALUES (1, 0)"))
    return e


def _holding(engine: Engine) -> bool:
    raw = engine.raw_connection()
    try:
        return bool(raw.dbapi_connection._turn.locked())  # type: ignore[union-attr]
    finally:
        raw.close()


def test_a_second_writer_goes_when_the_first_commits(engine: Engine) -> None:
    first = engine.connect()
    first.begin()
    first.execute(text("UPDATE t SET v = v + 1 WHERE id = 1"))
    done = threading.Event()

    def second() -> None:
        with engine.begin() as c:
            c.execute(text("UPDATE t SET v = v + 10 WHERE id = 1"))
        done.set()

    t = threading.Thread(target=second)
    t.start()
    assert not done.wait(0.3), "the second write did not wait for the first's turn"
    first.commit()
    assert done.wait(5), "the second write did not go once the first committed"
    t.join()
    first.close()
    with engine.connect() as c:
        assert c.execute(text("SELECT v FROM t WHERE id = 1")).scalar_one() == 11
    assert not _holding(engine)


def test_rollback_and_close_give_the_turn_back(engine: Engine) -> None:
    with engine.connect() as c:
        c.begin()
        c.execute(text("UPDATE t SET v = 5 WHERE id = 1"))
        c.rollback()
    assert not _holding(engine)
    c = engine.connect()
    c.begin()
    c.execute(text("UPDATE t SET v = 6 WHERE id = 1"))
    c.close()  # returned to the pool mid-transaction: rolled back, turn given back
    assert not _holding(engine)
    with engine.begin() as c2:
        c2.execute(text("UPDATE t SET v = 7 WHERE id = 1"))
    with engine.connect() as c3:
        assert c3.execute(text("SELECT v FROM t WHERE id = 1")).scalar_one() == 7


def test_readers_do_not_wait_for_a_writer(engine: Engine) -> None:
    writer = engine.connect()
    writer.begin()
    writer.execute(text("UPDATE t SET v = 99 WHERE id = 1"))
    try:
        t0 = time.monotonic()
        with engine.connect() as r:
            assert r.execute(text("SELECT v FROM t WHERE id = 1")).scalar_one() == 0
        assert time.monotonic() - t0 < 1.0
    finally:
        writer.rollback()
        writer.close()


def test_a_turn_held_past_the_busy_timeout_is_database_locked(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_S", 0.2)
    holder = engine.connect()
    holder.begin()
    holder.execute(text("UPDATE t SET v = 1 WHERE id = 1"))
    try:
        with pytest.raises(OperationalError, match="locked"), engine.begin() as c:
            c.execute(text("UPDATE t SET v = 2 WHERE id = 1"))
    finally:
        holder.commit()
        holder.close()
    with engine.begin() as c:  # nothing was left held by the refused write
        c.execute(text("UPDATE t SET v = 3 WHERE id = 1"))
    assert not _holding(engine)


def test_each_engine_has_its_own_turn(tmp_path: Path) -> None:
    a = db.make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    b = db.make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    ra, rb = a.raw_connection(), b.raw_connection()
    try:
        assert ra.dbapi_connection._turn is not rb.dbapi_connection._turn  # type: ignore[union-attr]
    finally:
        ra.close()
        rb.close()
