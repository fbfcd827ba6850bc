"""Load: many candidates autosaving at once against one `burnin serve`, with grading and
notebooks busy, each figure beside the same endpoint measured idle in the same run.

Starts a real `burnin serve` subprocess on a loopback port (SQLite file with the embedded
defaults, or a throwaway PostgreSQL cluster from server/ops/pgcluster.py), creates the demo
organization, one assessment with every scenario of the bank and max(--candidates)
started attempts directly in the database, then:

  idle      sequential keep-alive requests, nothing else running: autosave
            (PUT /api/v1/candidate/answers/I), /healthz, the workspace page (GET /take/I).
  load      for each N in --candidates, for --duration seconds: N candidates each save a
            ~2 KB answer every --interval seconds (jittered +-20 %, first save at a random
            point of the first interval), one concurrent async client (httpx2) on loopback;
            --grading jobs kept queued or running (a submitted attempt with calibration
            answers is fed in whenever fewer are in hand); --notebooks candidates run a small
            cell every --interval seconds in their own kernel; a probe asks /healthz every
            0.1 s and a workspace page every 0.5 s.

Prints per N: autosave p50/p99, its ratio to idle p99, /healthz p99, workspace p99, the
saves attempted and failures by kind (HTTP status, client time-out, connection error),
the grading jobs queued or running (mean of 1 s samples: "jobs"), the server's CPU and the
load average of the machine (other work on it shows there).

Usage: .venv/bin/python bench/load.py [--db sqlite postgres] [--candidates 100 200 500 1000]
       [--duration 60] [--interval 10] [--grading 2] [--notebooks 20] [--timeout 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout: server/

from server.ops.pgcluster import free_port, throwaway_cluster  # noqa: E402

PAD = "The step time is dominated by the all-reduce across nodes; " * 35  # ~2 KB answer


@dataclass
class Cand:
    cookie: str
    csrf: str
    index: int  # scenario position this candidate types into
    field_id: str
    section: str | None
    version: int = 0
    saves: int = 0


@dataclass
class Stats:
    lat: dict[str, list[float]] = field(default_factory=dict)
    fail: Counter[str] = field(default_factory=Counter)
    attempted: int = 0

    def add(self, kind: str, ms: float) -> None:
        self.lat.setdefault(kind, []).append(ms)


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


# ---------------------------------------------------------------- data, in the database


def text_field(scenario: Any) -> tuple[str, str | None]:
    """The first long-text field of the form, and its first section if it has sections."""
    for f in scenario.manifest.answer.fields:
        if str(f.type) == "long_text":
            sections = getattr(f, "sections", None) or []
            return str(f.id), (str(sections[0].id) if sections else None)
    raise LookupError(f"{scenario.id} has no long-text field")


def prepare(url: str, data_dir: Path, base_url: str, n: int, graders: int,
            notebooks: int) -> dict[str, Any]:
    """Demo org, one assessment with every scenario; n + graders + notebooks + probes
    started attempts; the graders' attempts hold calibration answers. Returns cookies."""
    os.environ["BURNIN_DATA_DIR"] = str(data_dir)
    os.environ["BURNIN_DATABASE_URL"] = url
    from server import db
    from server.attempts import service as attempts
    from server.audit.service import Actor
    from server.bank.service import BankService
    from server.config import Settings
    from server.invites import service as invites
    from server.ops.demo import DEMO_ASSESSMENT, demo_org_id, make_demo, make_demo_invites

    settings = Settings()
    settings.ensure_data_dir()
    db.upgrade(settings.db_url)
    engine = db.make_engine(settings.db_url)
    factory = db.make_sessionmaker(engine)
    bank = BankService(settings.scenarios_root)
    key = settings.secret_key
    out: dict[str, Any] = {"load": [], "graders": [], "notebooks": [], "probes": []}
    with db.transaction(factory) as s:
        make_demo(s)
        org = demo_org_id(s)
        make_demo_invites(s, org_id=org, bank=bank, base_url=base_url, secret_key=key)
        from server.kit.scoping import scoped
        from server.models import Assessment
        assessment = s.scalars(scoped(Assessment, org)
                               .where(Assessment.title == DEMO_ASSESSMENT)).one()
        entries = attempts.entries(s, assessment.id)
        fields = [text_field(bank.get(e.scenario_id)) for e in entries]
        calib = {}
        for e in entries:
            sc = bank.get(e.scenario_id)
            for name in ("strong_a.json", "reference.json"):
                p = sc.path / "calibration" / name
                if p.exists():
                    calib[e.scenario_id] = json.loads(p.read_text())["answers"]
                    break
        groups = (("load", n), ("graders", graders), ("notebooks", notebooks), ("probes", 5))
        actor = Actor("bench:load")
        for group, count in groups:
            for i in range(count):
                inv, _ = invites.create(s, org_id=org, assessment_id=assessment.id,
                                        email_addr=f"{group}{i}@load.example", name=f"{group} {i}",
                                        days=7, base_url=base_url, secret_key=key, actor=actor)
                _, cookie, csrf = attempts.open_invite_by_id(s, key, inv.id)
                attempt = attempts.start(s, inv, bank)
                s.flush()
                if group == "graders":
                    for sid, content in calib.items():
                        ids = {f.id for f in bank.get(sid).manifest.answer.fields}
                        attempts.save_answer(s, attempt, sid, base_version=0, content=content,
                                             field_ids=ids, grace_s=0)
                idx = i % len(entries)
                out[group].append(Cand(cookie, csrf, idx, *fields[idx]))
            s.flush()
    engine.dispose()
    return out


def jobs_in_hand(url: str) -> Any:
    """A function counting queued or running grading jobs (read straight from the database)."""
    from sqlalchemy import text

    from server import db
    engine = db.make_engine(url)

    def count() -> int:
        with engine.connect() as c:
            return int(c.execute(text("SELECT count(*) FROM grading_jobs WHERE state IN "
                                      "('queued', 'running')")).scalar_one())
    return count


# ---------------------------------------------------------------- the server


@contextlib.contextmanager
def server(url: str, data_dir: Path, port: int, pool: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "BURNIN_DATA_DIR": str(data_dir), "BURNIN_DATABASE_URL": url,
           "BURNIN_BASE_URL": f"http://127.0.0.1:{port}", "BURNIN_LOG_LEVEL": "WARNING",
           "BURNIN_KERNEL_POOL_SIZE": str(pool)}
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"burnin serve exited; see {data_dir / 'server.log'}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# ---------------------------------------------------------------- the client


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SAVE_ROUTE = 'method="PUT",route="/api/v1/candidate/answers/{index}"'


def save_buckets(base: str) -> dict[float, float]:
    """The server's own latency histogram of autosaves: upper bound -> cumulative count."""
    out: dict[float, float] = {}
    for line in httpx.get(f"{base}/metrics", timeout=30).text.splitlines():
        if line.startswith("burnin_http_request_duration_seconds_bucket{") and SAVE_ROUTE in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def bucket_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """Upper bound of the bucket holding the q-quantile of what was observed in between."""
    diff = {le: after.get(le, 0) - before.get(le, 0) for le in sorted(after)}
    total = diff.get(float("inf"), 0)
    for le, n in diff.items():
        if total and n >= q * total:
            return le
    return float("nan")


def headers(c: Cand) -> dict[str, str]:
    return {"Cookie": f"burnin_candidate={c.cookie}", "X-CSRF-Token": c.csrf}


async def save(client: httpx.AsyncClient, c: Cand, st: Stats, timeout: float) -> None:
    c.saves += 1
    text = f"{c.saves} {PAD}"
    body = {"base_version": c.version,
            "content": {c.field_id: {c.section: text} if c.section else text}}
    st.attempted += 1
    t = time.perf_counter()
    try:
        r = await client.put(f"/api/v1/candidate/answers/{c.index}", json=body,
                             headers=headers(c), timeout=timeout)
    except httpx.TimeoutException:
        st.fail["client time-out"] += 1
        return
    except httpx.HTTPError as exc:
        st.fail[f"connection: {type(exc).__name__}"] += 1
        return
    ms = (time.perf_counter() - t) * 1000
    if r.status_code == 200:
        c.version = r.json()["version"]
        st.add("autosave", ms)
        return
    st.fail[f"HTTP {r.status_code}"] += 1
    if r.status_code == 409 and "version" in r.json():
        c.version = r.json()["version"]


async def get(client: httpx.AsyncClient, path: str, st: Stats, kind: str, timeout: float,
              hdrs: dict[str, str] | None = None) -> None:
    t = time.perf_counter()
    try:
        r = await client.get(path, headers=hdrs, timeout=timeout)
    except httpx.TimeoutException:
        st.fail[f"{kind}: client time-out"] += 1
        return
    except httpx.HTTPError as exc:
        st.fail[f"{kind}: connection {type(exc).__name__}"] += 1
        return
    if r.status_code != 200:
        st.fail[f"{kind}: HTTP {r.status_code}"] += 1
        return
    st.add(kind, (time.perf_counter() - t) * 1000)


async def idle(client: httpx.AsyncClient, probe: Cand, n: int) -> Stats:
    st = Stats()
    for _ in range(5):
        await get(client, f"/take/{probe.index}", Stats(), "workspace", 60, headers(probe))
    for _ in range(n):
        await save(client, probe, st, 30)
        await get(client, "/healthz", st, "healthz", 30)
    for _ in range(max(n // 3, 10)):
        await get(client, f"/take/{probe.index}", st, "workspace", 30, headers(probe))
    return st


async def notebook_loop(client: httpx.AsyncClient, c: Cand, st: Stats, stop: float,
                        interval: float, timeout: float) -> None:
    await asyncio.sleep(random.uniform(0, interval))
    while time.monotonic() < stop:
        t = time.perf_counter()
        try:
            r = await client.post(f"/api/v1/candidate/notebook/{c.index}/execute",
                                  json={"code": "sum(i * i for i in range(200000))"},
                                  headers=headers(c), timeout=max(timeout, 120))
            if r.status_code == 200 and r.json().get("status") == "ok":
                st.add("notebook cell", (time.perf_counter() - t) * 1000)
            else:
                st.fail[f"notebook: HTTP {r.status_code} {r.text[:60]}"] += 1
        except httpx.HTTPError as exc:
            st.fail[f"notebook: {type(exc).__name__}"] += 1
        await asyncio.sleep(interval * random.uniform(0.8, 1.2))


async def candidate_loop(client: httpx.AsyncClient, c: Cand, st: Stats, stop: float,
                         interval: float, timeout: float) -> None:
    await asyncio.sleep(random.uniform(0, interval))
    while time.monotonic() < stop:
        next_at = time.monotonic() + interval * random.uniform(0.8, 1.2)
        await save(client, c, st, timeout)
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def probe_loop(client: httpx.AsyncClient, probes: list[Cand], st: Stats,
                     stop: float, timeout: float) -> None:
    k = 0
    while time.monotonic() < stop:
        await get(client, "/healthz", st, "healthz", timeout)
        if k % 5 == 0:
            p = probes[(k // 5) % len(probes)]
            await get(client, f"/take/{p.index}", st, "workspace", timeout, headers(p))
        k += 1
        await asyncio.sleep(0.1)


async def feeder(client: httpx.AsyncClient, graders: list[Cand], want: int, count: Any,
                 stop: float, fed: list[int], st: Stats) -> None:
    while time.monotonic() < stop and graders and want:
        in_hand = await asyncio.to_thread(count)
        st.add("jobs in hand", in_hand)
        if in_hand < want:
            c = graders.pop(0)
            r = await client.post("/api/v1/candidate/submit", headers=headers(c), timeout=60)
            fed.append(r.status_code)
        else:
            await asyncio.sleep(1.0)


async def run_level(base: str, cands: list[Cand], data: dict[str, Any], args: Any,
                    count: Any, pid: int) -> tuple[Stats, int]:
    st = Stats()
    cpu0, load0 = cpu_s(pid), os.getloadavg()[0]
    hist0 = await asyncio.to_thread(save_buckets, base)
    limits = httpx.Limits(max_connections=len(cands) + 100, max_keepalive_connections=len(cands) + 100)
    stop = time.monotonic() + args.duration
    fed: list[int] = []
    async with httpx.AsyncClient(base_url=base, limits=limits) as client:
        tasks = [candidate_loop(client, c, st, stop, args.interval, args.timeout) for c in cands]
        tasks += [notebook_loop(client, c, st, stop, args.interval, args.timeout)
                  for c in data["notebooks"]]
        tasks.append(probe_loop(client, data["probes"][1:], st, stop, args.timeout))
        tasks.append(feeder(client, data["graders"], args.grading, count, stop, fed, st))
        await asyncio.gather(*tasks)
    st.lat["server cpu s"] = [cpu_s(pid) - cpu0]
    hist1 = await asyncio.to_thread(save_buckets, base)
    st.lat["server p50 le"] = [bucket_quantile(hist0, hist1, 0.5)]
    st.lat["server p99 le"] = [bucket_quantile(hist0, hist1, 0.99)]
    st.lat["load average"] = [load0, os.getloadavg()[0]]
    return st, len(fed)


def bench_db(kind: str, url: str, args: Any) -> list[str]:
    data_dir = Path(tempfile.mkdtemp(prefix="burnin-load-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    n_max = max(args.candidates)
    t0 = time.perf_counter()
    graders_needed = args.grading * len(args.candidates) * max(1, int(args.duration // 8)) + 4
    data = prepare(url, data_dir, base, n_max, graders_needed if args.grading else 0,
                   args.notebooks)
    setup_s = time.perf_counter() - t0
    count = jobs_in_hand(url)
    lines = [f"\n{kind}: setup {n_max} candidates in {setup_s:.0f} s; "
             f"server log {data_dir / 'server.log'}"]
    with server(url, data_dir, port, args.kernel_pool) as proc:
        async def go() -> tuple[Stats, list[tuple[int, Stats, int]]]:
            async with httpx.AsyncClient(base_url=base) as client:
                idle_st = await idle(client, data["probes"][0], args.idle_n)
            levels = []
            for n in args.candidates:
                st, fed = await run_level(base, data["load"][:n], data, args, count, proc.pid)
                levels.append((n, st, fed))
            return idle_st, levels

        idle_st, levels = asyncio.run(go())
    i_save, i_health, i_ws = (idle_st.lat.get(k, []) for k in ("autosave", "healthz",
                                                               "workspace"))
    lines.append(f"idle, sequential: autosave p50 {pct(i_save, 50):.1f} ms / p99 "
                 f"{pct(i_save, 99):.1f} ms; /healthz p99 {pct(i_health, 99):.1f} ms; "
                 f"workspace p99 {pct(i_ws, 99):.1f} ms; failures {dict(idle_st.fail) or 0}")
    lines.append(f"{'candidates (saves/s)':<22}{'jobs':>8}{'nb':>4}{'autosave p50/p99 ms':>21}"
                 f"{'p99/idle':>9}{'healthz p99':>12}{'(x idle)':>9}{'page p99':>10}"
                 f"{'(x idle)':>9}  saves ok/sent, failures")
    for n, st, fed in levels:
        s, h, w = (st.lat.get(k, []) for k in ("autosave", "healthz", "workspace"))
        nb = st.lat.get("notebook cell", [])
        lines.append(
            f"{n:>5} ({n / args.interval:>5.0f}/s)      "
            f"{statistics.fmean(st.lat.get('jobs in hand', [0])):>8.1f}{len(data['notebooks']):>4}"
            f"{pct(s, 50):>10.0f} / {pct(s, 99):<8.0f}{pct(s, 99) / pct(i_save, 99):>8.1f}x"
            f"{pct(h, 99):>12.0f}{pct(h, 99) / pct(i_health, 99):>8.1f}x{pct(w, 99):>10.0f}"
            f"{pct(w, 99) / pct(i_ws, 99):>8.1f}x  {len(s)}/{st.attempted}, "
            f"{dict(st.fail) or 0}" + (f"; notebook cells {len(nb)} p99 {pct(nb, 99):.0f} ms"
                                        if nb else "")
            + f"; in the server (its histogram, saves of every status): p50 <= "
            f"{st.lat['server p50 le'][0]:g} s, p99 <= {st.lat['server p99 le'][0]:g} s"
            + f"; server CPU {st.lat['server cpu s'][0] / args.duration * 100:.0f}% of one core"
            f" ({st.lat['server cpu s'][0] * 1000 / max(st.attempted, 1):.1f} ms per save sent)"
            f", load average {st.lat['load average'][0]:.1f}->{st.lat['load average'][1]:.1f}"
            f"; {fed} attempts submitted for grading")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", nargs="+", default=["sqlite", "postgres"],
                    choices=["sqlite", "postgres"])
    ap.add_argument("--candidates", type=int, nargs="+", default=[100, 200, 500, 1000])
    ap.add_argument("--duration", type=float, default=60, help="Seconds per level.")
    ap.add_argument("--interval", type=float, default=10, help="Seconds between saves.")
    ap.add_argument("--grading", type=int, default=2, help="Grading jobs kept in hand.")
    ap.add_argument("--notebooks", type=int, default=0, help="Candidates running cells.")
    ap.add_argument("--kernel-pool", type=int, default=0, help="BURNIN_KERNEL_POOL_SIZE.")
    ap.add_argument("--timeout", type=float, default=10, help="Client time-out, seconds.")
    ap.add_argument("--idle-n", type=int, default=100)
    args = ap.parse_args()
    print(f"load bench {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{platform.node()}, {os.cpu_count()} CPUs, python {platform.python_version()}; "
          f"{args.duration:g} s per level, a save every {args.interval:g} s per candidate, "
          f"client time-out {args.timeout:g} s, grading jobs in hand {args.grading}, "
          f"notebooks {args.notebooks}", flush=True)
    for kind in args.db:
        if kind == "sqlite":
            d = Path(tempfile.mkdtemp(prefix="burnin-load-db-"))
            lines = bench_db("SQLite", f"sqlite:///{d / 'burnin.db'}", args)
        else:
            with throwaway_cluster() as url:
                lines = bench_db("PostgreSQL", url, args)
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
