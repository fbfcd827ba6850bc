"""Scale-out: autosave throughput through nginx with 1 node and with 3 nodes, in one run.

Each cluster is server/ops/nodecluster.py's: whole `burnin serve` nodes in network namespaces
of their own behind nginx (deploy/nginx/burnin.conf, sticky on the candidate cookie), on one
throwaway PostgreSQL. Per cluster: --candidates started attempts are made directly in the
database (cookies signed with the nodes' shared key), then

  idle   sequential autosaves (PUT /api/v1/candidate/answers/0) through the proxy;
  ramp   for each rate in --rates, for --duration seconds: an open-loop async client
         (httpx2) sends that many autosaves per second, round-robin over the candidates,
         each candidate with at most one save in flight (a save due while the previous one
         is still out is counted as "behind", not sent);

and prints per rate: achieved saves/s, p50/p99 latency, failures. A rate is *sustained* when
the achieved rate is within 5 % of the offered one, p99 <= --p99-ms and nothing failed; the
summary gives the highest sustained rate of each cluster and their ratio.

The client, nginx, PostgreSQL and the nodes share this machine's cores: the client's own CPU
and the cores bound the gain (docs/benchmarks.md, "Scale-out"). Needs root (network
namespaces), nginx and PostgreSQL server binaries (scripts/setup/10-postgres.sh, 30-nginx.sh).

Usage: sudo .venv/bin/python bench/scale_out.py [--nodes 1 3] [--rates 50 100 200 ...]
       [--duration 15] [--candidates 400] [--p99-ms 150]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout: server/

from server.ops import nodecluster  # noqa: E402

SCENARIO = "debug-slow-run"
PAD = "The step time is dominated by the all-reduce across nodes; " * 35  # ~2 KB answer
NODE_ENV = {"BURNIN_GRADING_WORKERS": "0", "BURNIN_KERNEL_POOL_SIZE": "0",
            "BURNIN_BACKGROUND": "false", "BURNIN_LOG_LEVEL": "WARNING"}


@dataclass
class Cand:
    cookie: str
    csrf: str
    field_id: str
    section: str | None
    version: int = 0
    busy: bool = False
    n: int = 0


@dataclass
class Level:
    rate: float
    lat_ms: list[float] = field(default_factory=list)
    fail: Counter[str] = field(default_factory=Counter)
    behind: int = 0
    seconds: float = 0.0
    node_cpu_s: float = 0.0  # CPU of the nodes' processes during the level
    client_cpu_s: float = 0.0  # of this client
    nginx_cpu_s: float = 0.0
    machine_busy: float = 0.0  # cores busy on the whole machine (everyone's work), mean

    @property
    def achieved(self) -> float:
        return len(self.lat_ms) / self.seconds if self.seconds else 0.0

    def sustained(self, p99_ms: float) -> bool:
        return (not self.fail and self.behind == 0 and self.achieved >= 0.95 * self.rate
                and pct(self.lat_ms, 99) <= p99_ms)


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    vals = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = vals[3] + vals[4]
    return sum(vals) - idle, sum(vals)


def prepare(c: nodecluster.Cluster, n: int) -> list[Cand]:
    """Demo org, a one-scenario assessment, n started attempts with candidate cookies."""
    from server import db
    from server.assessments import service as assessments
    from server.assessments.schemas import AssessmentCreate, EntryIn
    from server.attempts import service as attempts
    from server.audit.service import Actor
    from server.bank.service import BankService
    from server.invites import service as invites
    from server.ops.demo import demo_org_id, make_demo

    key = bytes.fromhex((c.nodes[0].data_dir / "secret_key").read_text().strip())
    bank = BankService(None)
    field_id, section = "", None
    for f in bank.get(SCENARIO).manifest.answer.fields:
        if str(f.type) == "long_text":
            sections = getattr(f, "sections", None) or []
            field_id, section = str(f.id), (str(sections[0].id) if sections else None)
            break
    engine = db.make_engine(c.db_url)
    out = []
    actor = Actor("bench:scale_out")
    with db.transaction(db.make_sessionmaker(engine)) as s:
        make_demo(s)
        org = demo_org_id(s)
        assessment = assessments.create(s, org_id=org, bank=bank, actor=actor, data=AssessmentCreate(
            title="Scale-out bench", time_limit_min=600, scenarios=[EntryIn(scenario_id=SCENARIO)]))
        for i in range(n):
            inv, _ = invites.create(s, org_id=org, assessment_id=assessment.id,
                                    email_addr=f"c{i}@scale.example", name=f"c{i}", days=7,
                                    base_url=c.proxy_url, secret_key=key, actor=actor)
            _, cookie, csrf = attempts.open_invite_by_id(s, key, inv.id)
            # start() takes the bank once assessments may pin a scale tier (in flight).
            more = [bank] if "bank" in inspect.signature(attempts.start).parameters else []
            attempts.start(s, inv, *more)
            out.append(Cand(cookie, csrf, field_id, section))
    engine.dispose()
    return out


async def save(client: httpx.AsyncClient, c: Cand, lv: Level, timeout: float) -> None:
    c.busy = True
    c.n += 1
    text = f"{c.n} {PAD}"
    body = {"base_version": c.version,
            "content": {c.field_id: {c.section: text} if c.section else text}}
    t = time.perf_counter()
    try:
        r = await client.put("/api/v1/candidate/answers/0", json=body, timeout=timeout,
                             headers={"Cookie": f"burnin_candidate={c.cookie}",
                                      "X-CSRF-Token": c.csrf})
    except httpx.TimeoutException:
        lv.fail["client time-out"] += 1
        return
    except httpx.HTTPError as exc:
        lv.fail[f"connection: {type(exc).__name__}"] += 1
        return
    finally:
        c.busy = False
    if r.status_code == 200:
        c.version = r.json()["version"]
        lv.lat_ms.append((time.perf_counter() - t) * 1000)
        return
    lv.fail[f"HTTP {r.status_code}"] += 1
    if r.status_code == 409 and "version" in r.json():
        c.version = r.json()["version"]


async def ramp_level(client: httpx.AsyncClient, cands: list[Cand], rate: float,
                     seconds: float, timeout: float) -> Level:
    lv = Level(rate)
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    k = 0
    while (due := k / rate) < seconds:
        delay = start + due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        c = cands[k % len(cands)]
        k += 1
        if c.busy:
            lv.behind += 1
            continue
        task = asyncio.create_task(save(client, c, lv, timeout))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    lv.seconds = seconds
    if tasks:
        await asyncio.wait(tasks, timeout=timeout + 5)
    return lv


async def measure(c: nodecluster.Cluster, cands: list[Cand], args: argparse.Namespace
                  ) -> tuple[Level, list[Level]]:
    limits = httpx.Limits(max_connections=args.connections,
                          max_keepalive_connections=args.connections)
    async with httpx.AsyncClient(base_url=c.proxy_url, limits=limits) as client:
        idle = Level(0)
        t = time.perf_counter()
        for i in range(args.idle_n):
            await save(client, cands[i % len(cands)], idle, 30)
        idle.seconds = time.perf_counter() - t
        levels = []
        pids = [n.proc.pid for n in c.nodes if n.proc is not None]
        proxy = [c.nginx.pid, *children(c.nginx.pid)] if c.nginx is not None else []
        for rate in args.rates:
            node0, client0, (busy0, total0) = (sum(map(cpu_s, pids)), time.process_time(),
                                               machine_ticks())
            nginx0 = sum(map(cpu_s, proxy))
            lv = await ramp_level(client, cands, rate, args.duration, args.timeout)
            busy1, total1 = machine_ticks()
            lv.nginx_cpu_s = sum(map(cpu_s, proxy)) - nginx0
            lv.node_cpu_s = sum(map(cpu_s, pids)) - node0
            lv.client_cpu_s = time.process_time() - client0
            lv.machine_busy = (busy1 - busy0) / max(1, total1 - total0) * (os.cpu_count() or 1)
            levels.append(lv)
            print(f"  {len(c.nodes)} node(s) {rate:>6g}/s offered: {lv.achieved:7.1f}/s, p50 "
                  f"{pct(lv.lat_ms, 50):6.1f} ms, p99 {pct(lv.lat_ms, 99):7.1f} ms, behind "
                  f"{lv.behind}, failures {dict(lv.fail) or 0}; CPU: nodes "
                  f"{lv.node_cpu_s / lv.seconds:.2f} cores ("
                  f"{lv.node_cpu_s * 1000 / max(1, len(lv.lat_ms)):.1f} ms per save), nginx "
                  f"{lv.nginx_cpu_s / lv.seconds:.2f}, client {lv.client_cpu_s / lv.seconds:.2f}"
                  f", machine busy {lv.machine_busy:.2f} of {os.cpu_count()}", flush=True)
            if pct(lv.lat_ms, 99) > 10 * args.p99_ms or len(lv.fail) > 0.05 * max(
                    1, len(lv.lat_ms)):
                break  # far past saturation: the next rates say nothing more
            await asyncio.sleep(2)
    return idle, levels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--rates", type=float, nargs="+",
                    default=[50, 100, 150, 200, 300, 400, 500, 600, 800])
    ap.add_argument("--duration", type=float, default=15, help="Seconds per rate.")
    ap.add_argument("--candidates", type=int, default=400)
    ap.add_argument("--p99-ms", type=float, default=150)
    ap.add_argument("--timeout", type=float, default=10, help="Client time-out, seconds.")
    ap.add_argument("--connections", type=int, default=200, help="Client connections.")
    ap.add_argument("--idle-n", type=int, default=200)
    args = ap.parse_args()
    why = nodecluster.missing_tools()
    if why:
        sys.exit(f"scale_out: {why}")
    print(f"scale-out bench {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{platform.node()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"python {platform.python_version()}; {args.candidates} candidates, "
          f"{args.duration:g} s per rate, sustained = achieved >= 95 % of offered, p99 <= "
          f"{args.p99_ms:g} ms, no failure", flush=True)
    rows = []
    for n in args.nodes:
        t = time.perf_counter()
        with nodecluster.cluster(n, env=NODE_ENV) as c:
            cands = prepare(c, args.candidates)
            print(f"{n} node(s) up and {args.candidates} candidates made in "
                  f"{time.perf_counter() - t:.0f} s", flush=True)
            load0 = os.getloadavg()[0]
            idle, levels = asyncio.run(measure(c, cands, args))
            load1 = os.getloadavg()[0]
        best = max((lv for lv in levels if lv.sustained(args.p99_ms)),
                   key=lambda lv: lv.rate, default=None)
        peak = max(levels, key=lambda lv: lv.achieved)
        rows.append((n, idle, best, peak, load0, load1))
    print("\n| nodes | idle autosave p50 / p99 | sustained saves/s (p99 at it) | peak achieved "
          "saves/s (p99 at it) | at the peak: nodes' CPU (per save), nginx, client, machine "
          "busy (cores) | load average |")
    print("|---|---|---|---|---|---|")
    for n, idle, best, peak, load0, load1 in rows:
        sus = f"{best.achieved:.0f} ({pct(best.lat_ms, 99):.0f} ms)" if best else "none"
        print(f"| {n} | {pct(idle.lat_ms, 50):.1f} / {pct(idle.lat_ms, 99):.1f} ms | {sus} | "
              f"{peak.achieved:.0f} ({pct(peak.lat_ms, 99):.0f} ms) | "
              f"{peak.node_cpu_s / peak.seconds:.2f} "
              f"({peak.node_cpu_s * 1000 / max(1, len(peak.lat_ms)):.1f} ms), "
              f"{peak.nginx_cpu_s / peak.seconds:.2f}, {peak.client_cpu_s / peak.seconds:.2f}, "
              f"{peak.machine_busy:.2f} | {load0:.1f} -> {load1:.1f} |")
    if len(rows) >= 2 and rows[0][2] and rows[-1][2]:
        a, b = rows[0], rows[-1]
        assert a[2] is not None and b[2] is not None
        print(f"\n{b[0]} nodes / {a[0]} node: sustained {b[2].achieved / a[2].achieved:.2f}x, "
              f"peak {b[3].achieved / a[3].achieved:.2f}x")


if __name__ == "__main__":
    main()
