"""SQLite writers of one process: taking turns on server.db.WritesInTurn's lock against
SQLite's own busy handler (which sleeps 1, 2, 5 ... 100 ms between tries).

--threads threads each run --n transactions on one WAL file (a read, an UPDATE of one hot
row, an INSERT of ~2 KB: the shape of an autosave), with a little Python work between them;
--hogs busy processes on the side take the CPUs away as other work on a shared host does.
Prints per variant and round: total time, transaction latency p50 / p99 / max.

Usage: .venv/bin/python bench/sqlite_write_turns.py [--threads 8] [--n 100] [--hogs 0]
       [--rounds 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from server import db  # noqa: E402


def _hog(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


def run(engine: Engine, threads: int, n: int) -> tuple[float, list[float]]:
    with engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v INT, pad TEXT)"))
        c.execute(text("INSERT OR IGNORE INTO t (id, v) VALUES (1, 0)"))
    lat: list[float] = []

    def writer(i: int) -> None:
        for _ in range(n):
            t = time.perf_counter()
            with engine.begin() as c:
                c.execute(text("SELECT count(*) FROM t WHERE v = :v"), {"v": i})
                c.execute(text("UPDATE t SET v = v + 1 WHERE id = 1"))
                c.execute(text("INSERT INTO t (v, pad) VALUES (:v, :p)"),
                          {"v": i, "p": "x" * 2000})
            lat.append((time.perf_counter() - t) * 1000)
            sum(range(3000))  # the request's other work, holding the GIL

    ts = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0, sorted(lat)


def busy_handler_engine(url: str, size: int) -> Engine:
    """The engine as it was before WritesInTurn: SQLite's busy timeout only."""
    e = create_engine(url, connect_args={"check_same_thread": False},
                      poolclass=db.TimedQueuePool, pool_size=size, max_overflow=5)
    event.listen(e, "connect", db._sqlite_pragmas)
    return e


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--hogs", type=int, default=0, help="busy processes beside the writers")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    d = Path(tempfile.mkdtemp(prefix="burnin-write-turns-"))
    hogs = [multiprocessing.Process(target=_hog, args=(time.monotonic() + 600,), daemon=True)
            for _ in range(args.hogs)]
    for h in hogs:
        h.start()
    try:
        for r in range(args.rounds):
            for name, engine in (
                ("turns", db.make_engine(f"sqlite:///{d / f'a{r}.db'}",
                                         pool=db.PoolSize(args.threads + 2, 5, 5))),
                ("busy handler", busy_handler_engine(f"sqlite:///{d / f'b{r}.db'}",
                                                     args.threads + 2)),
            ):
                total, lat = run(engine, args.threads, args.n)
                engine.dispose()
                print(f"round {r + 1} {name:>12}: total {total:.2f} s, p50 "
                      f"{lat[len(lat) // 2]:.1f} ms, p99 {lat[int(len(lat) * 0.99)]:.1f} ms, "
                      f"max {lat[-1]:.1f} ms", flush=True)
    finally:
        for h in hogs:
            h.terminate()
            h.join(5)


if __name__ == "__main__":
    main()
