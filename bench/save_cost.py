"""The CPU cost of one autosave in the server process, beside a bare endpoint measured in the
same run, and (with --baseline REV) beside the same server at an earlier commit.

Starts `burnin serve` (SQLite file, embedded defaults, grading workers idle) on a loopback
port, creates --candidates started attempts on the demo assessment directly in the database
(bench/load.py's prepare), then for each server under test, in rounds that alternate the
servers so drift of the machine hits both alike:

  healthz     --n sequential GET /healthz (keep-alive): the floor of a request (HTTP parsing,
              the middleware, routing, a tiny JSON response).
  save seq    --n sequential autosaves by one candidate (PUT /api/v1/candidate/answers/I,
              a ~2 KB answer, each on the version the previous one returned).
  save conc   --n autosaves from --concurrency candidates at once, each saving again as soon
              as its previous save answered.

For each phase it reads the server's user + system CPU seconds from /proc before and after
and prints CPU ms per request (median over --rounds), the ratio save / healthz, and with a
baseline the ratio new / baseline. CPU time, unlike latency, is barely distorted by other
load on a shared machine (waiting for a core costs no CPU time), though contention still
adds a little (cache misses, more GIL hand-offs); the load average is printed with each
round. Every save must answer 200: any other status fails the bench.

Usage: .venv/bin/python bench/save_cost.py [--n 1000] [--concurrency 8] [--rounds 3]
       [--baseline REV]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout: server/
sys.path.insert(0, str(ROOT / "bench"))

from load import PAD, Cand, cpu_s, headers, prepare  # noqa: E402

from server.ops.pgcluster import free_port  # noqa: E402

PHASES = ("healthz", "save seq", "save conc")


@contextmanager
def serve(src: Path, url: str, data_dir: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`burnin serve` from the source tree src (this checkout or an exported commit)."""
    env = {**os.environ, "BURNIN_DATA_DIR": str(data_dir), "BURNIN_DATABASE_URL": url,
           "BURNIN_BASE_URL": f"http://127.0.0.1:{port}", "BURNIN_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(src)}
    log = open(data_dir / f"server-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
                            env=env, cwd=src, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"burnin serve did not start; see {log.name}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def export(rev: str) -> Path:
    """The tree of commit rev in a temporary directory (git archive: the repository and its
    working tree are not touched). Migrations this tree has and rev lacks are copied in, so
    that one database, migrated by this tree, serves both servers."""
    out = Path(tempfile.mkdtemp(prefix="burnin-baseline-"))
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev],
                         check=True, capture_output=True).stdout
    with tempfile.TemporaryFile() as f:
        f.write(tar)
        f.seek(0)
        with tarfile.open(fileobj=f) as t:
            t.extractall(out, filter="data")
    versions = Path("server/migrations/versions")
    for f in (ROOT / versions).glob("*.py"):
        if not (out / versions / f.name).exists():
            shutil.copy(f, out / versions / f.name)
    return out


async def _save(client: httpx.AsyncClient, c: Cand) -> None:
    c.saves += 1
    text = f"{c.saves} {PAD}"
    body = {"base_version": c.version,
            "content": {c.field_id: {c.section: text} if c.section else text}}
    r = await client.put(f"/api/v1/candidate/answers/{c.index}", json=body, headers=headers(c),
                         timeout=60)
    if r.status_code != 200:
        raise RuntimeError(f"save answered {r.status_code}: {r.text[:200]}")
    c.version = r.json()["version"]


async def phase(base: str, pid: int, kind: str, n: int, cands: list[Cand],
                concurrency: int) -> float:
    """CPU ms of the server per request over n requests of one kind."""
    limits = httpx.Limits(max_connections=concurrency + 4)
    async with httpx.AsyncClient(base_url=base, limits=limits) as client:
        for _ in range(20):  # warm the connection, caches and statement cache
            await client.get("/healthz")
        await _save(client, cands[0])
        cpu0 = cpu_s(pid)
        if kind == "healthz":
            for _ in range(n):
                if (await client.get("/healthz")).status_code != 200:
                    raise RuntimeError("/healthz failed")
        elif kind == "save seq":
            for _ in range(n):
                await _save(client, cands[0])
        else:
            left = n

            async def worker(c: Cand) -> None:
                nonlocal left
                while left > 0:
                    left -= 1
                    await _save(client, c)

            await asyncio.gather(*(worker(c) for c in cands[1:concurrency + 1]))
        return (cpu_s(pid) - cpu0) * 1000 / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="Requests per phase and round.")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--baseline", help="A commit to compare with (e.g. HEAD~3).")
    args = ap.parse_args()
    print(f"save cost {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} CPUs, python {platform.python_version()}; {args.n} requests per "
          f"phase, {args.concurrency} concurrent, {args.rounds} rounds", flush=True)
    d = Path(tempfile.mkdtemp(prefix="burnin-savecost-"))
    url = f"sqlite:///{d / 'burnin.db'}"
    servers: list[tuple[str, Path]] = [("this tree", ROOT)]
    if args.baseline:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.baseline],
                             check=True, capture_output=True, text=True).stdout.strip()
        servers.insert(0, (f"baseline {rev}", export(args.baseline)))
    cpu: dict[str, dict[str, list[float]]] = {name: {k: [] for k in PHASES}
                                               for name, _ in servers}
    with ExitStack() as stack:
        ports = [free_port() for _ in servers]
        data = prepare(url, d, f"http://127.0.0.1:{ports[-1]}", args.concurrency + 1, 0, 0)
        # Everyone types into the first scenario (one the baseline's bank has too).
        cands = [Cand(c.cookie, c.csrf, 0, data["load"][0].field_id, data["load"][0].section)
                 for c in data["load"]]
        procs = [stack.enter_context(serve(src, url, d, port))
                 for (_, src), port in zip(servers, ports, strict=True)]
        for r in range(args.rounds):
            load = os.getloadavg()[0]
            for (name, _), port, proc in zip(servers, ports, procs, strict=True):
                for kind in PHASES:
                    ms = asyncio.run(phase(f"http://127.0.0.1:{port}", proc.pid, kind, args.n,
                                           cands, args.concurrency))
                    cpu[name][kind].append(ms)
            print(f"round {r + 1}: load average {load:.1f} -> {os.getloadavg()[0]:.1f}; " +
                  "; ".join(f"{name}: " + ", ".join(f"{k} {cpu[name][k][-1]:.2f}"
                                                    for k in PHASES)
                            for name, _ in servers), flush=True)
    med = {name: {k: statistics.median(v) for k, v in by.items()} for name, by in cpu.items()}
    print(f"\nserver CPU ms per request (median of {args.rounds} rounds):")
    print(f"{'server':<22}" + "".join(f"{k:>12}" for k in PHASES)
          + f"{'seq/healthz':>13}{'conc/healthz':>14}")
    for name, m in med.items():
        print(f"{name:<22}" + "".join(f"{m[k]:>12.2f}" for k in PHASES)
              + f"{m['save seq'] / m['healthz']:>12.1f}x{m['save conc'] / m['healthz']:>13.1f}x")
    if args.baseline:
        old, new = med[servers[0][0]], med[servers[1][0]]
        print("this tree / baseline: " + ", ".join(f"{k} {new[k] / old[k]:.2f}x" for k in PHASES))


if __name__ == "__main__":
    main()
