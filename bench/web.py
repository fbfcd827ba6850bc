"""Latency of the endpoints people wait on, each against a bare endpoint of the same server.

Starts `burnin serve` (SQLite, embedded defaults) on a loopback port, makes demo data, and
times sequential keep-alive requests:
  baseline   GET /healthz           (no database, no auth: the framework and network floor)
  staff      GET /api/v1/auth/me    (session cookie -> database lookup)
  pipeline   GET /pipeline          (HTML page, joins over invites/attempts/reports)
  workspace  GET /take/0            (candidate page: scenario render from the variant cache)
  autosave   PUT /api/v1/candidate/answers/0  (versioned compare-and-set + revision row)

Usage: python bench/web.py [--n 300]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def timed(n: int, call: object) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = call()  # type: ignore[operator]
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code < 400, (r.status_code, r.text[:200])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    n = ap.parse_args().n
    data = Path(tempfile.mkdtemp(prefix="burnin-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BURNIN_DATA_DIR": str(data), "BURNIN_BASE_URL": base,
           "BURNIN_LOG_LEVEL": "WARNING", "BURNIN_GRADING_WORKERS": "0",
           "BURNIN_KERNEL_POOL_SIZE": "0"}
    burnin = [sys.executable, "-m", "server.cli"]
    demo = json.loads(subprocess.run([*burnin, "demo", "--json"], env=env, check=True,
                                     capture_output=True, text=True, cwd=ROOT).stdout)
    server = subprocess.Popen([*burnin, "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=base, timeout=30) as staff, \
                httpx.Client(base_url=base, timeout=30) as cand:
            for _ in range(100):
                try:
                    if staff.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            admin = next(u for u in demo["users"] if u["role"] == "admin")
            r = staff.post("/api/v1/auth/login", json={"email": admin["email"],
                                                       "password": admin["password"]})
            staff.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            cand.get(demo["invite_urls"][0].replace(demo["base_url"], base))
            page = cand.get("/take").text
            csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            cand.headers["X-CSRF-Token"] = csrf
            cand.post("/api/v1/candidate/attempt/start")
            fields = cand.get("/api/v1/candidate/scenarios/0").json()["form"]
            text_field = next(f["id"] for f in fields if f["type"] in ("long_text",
                                                                       "short_text"))
            version = [0]

            def save() -> httpx.Response:
                r = cand.put("/api/v1/candidate/answers/0", json={
                    "base_version": version[0], "content": {text_field: f"v{version[0]}"}})
                version[0] = r.json()["version"]
                return r

            for warm in (lambda: staff.get("/healthz"), lambda: cand.get("/take/0")):
                timed(20, warm)
            rows = {
                "baseline  GET /healthz": timed(n, lambda: staff.get("/healthz")),
                "staff     GET /api/v1/auth/me": timed(n, lambda: staff.get("/api/v1/auth/me")),
                "pipeline  GET /pipeline": timed(n, lambda: staff.get("/pipeline")),
                "workspace GET /take/0": timed(n, lambda: cand.get("/take/0")),
                "autosave  PUT answers (versioned)": timed(n, save),
            }
    finally:
        server.terminate()
        server.wait(timeout=30)
    base_p50 = statistics.median(rows["baseline  GET /healthz"])
    print(f"web latency, {n} sequential keep-alive requests each, SQLite, 1 server process")
    print(f"{'endpoint':<36}{'p50 ms':>9}{'p99 ms':>9}{'p50 / baseline':>16}")
    for name, xs in rows.items():
        p50 = statistics.median(xs)
        print(f"{name:<36}{p50:>9.2f}{pct(xs, 99):>9.2f}{p50 / base_p50:>15.1f}x")


if __name__ == "__main__":
    main()
