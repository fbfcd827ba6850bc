"""Notebook capacity under a burst (issue 20, part 2), against a real KernelPool.

1. --parallel: how many kernel starts this engine takes at once before per-start latency
   climbs (k kernels started together, k = 1, 2, 3, 4, 6, 8), the basis of the pool's
   DEFAULT_PARALLEL_STARTS and of its adaptive (AIMD) start limit.
2. The burst: a plain `docker run --rm <sandbox image> python -c 1` timed first (the
   baseline, same run), then N candidates (default 50) open their notebook at times spread
   evenly over --spread-s (default 10 s); each acquires a kernel and runs a first cell. Prints
   p50/p99 time to first result, whether all got a kernel, the queue positions and ETAs they
   were told, and the ratio to the plain docker run (goal: p99 <= 3x).
3. The cull: the candidates go idle; memory of this process's sandbox containers (cgroup v1
   memory.usage_in_bytes, or v2 memory.current) and their count before and after the pool's
   idle timeout, showing the memory returned.

Run: .venv/bin/python bench/kernel_burst.py [--candidates 50] [--spread-s 10] [--pool 4]
     [--backend docker|bwrap] [--no-parallel] [--write docs/benchmarks.md]
Bounded: every wait has a timeout; the pool and its containers are torn down at the end.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.kernel import Kernel, KernelBackend
from sandbox.labels import LABEL, OWNER, owner_id
from sandbox.limits import SandboxLimits
from sandbox.pool import DEFAULT_PARALLEL_STARTS, KernelPool, WaitProgress


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def make(backend: str) -> tuple[KernelBackend, str]:
    from sandbox.image import image_tag

    image = image_tag()
    if backend == "bwrap":
        from sandbox.bwrap_backend import BwrapBackend
        from sandbox.image import rootfs_dir

        return BwrapBackend(Path(rootfs_dir(image))), image  # type: ignore[call-arg,return-value]
    from sandbox.docker_backend import DockerBackend

    return DockerBackend(image), image


def plain_docker_run(image: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(["docker", "run", "--rm", image, "python", "-c", "1"], check=True,
                       capture_output=True, timeout=120)
        out.append(time.perf_counter() - t)
    return out


def parallel_starts(backend: KernelBackend, limits: SandboxLimits,
                    ks: tuple[int, ...]) -> list[tuple[int, float, float, float]]:
    """(k, mean, max per-start seconds, kernels per second) for k kernels started at once."""
    rows = []
    for k in ks:
        took: list[float] = []
        kernels: list[Kernel] = []
        lock = threading.Lock()

        def one() -> None:
            t = time.perf_counter()
            kernel = Kernel(backend, limits, start_timeout_s=120)
            with lock:
                took.append(time.perf_counter() - t)
                kernels.append(kernel)

        began = time.perf_counter()
        threads = [threading.Thread(target=one) for _ in range(k)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(180)
        wall = time.perf_counter() - began
        for kernel in kernels:
            kernel.shutdown()
        rows.append((k, statistics.mean(took), max(took), len(took) / wall))
        print(f"  {k} at once: mean {statistics.mean(took):.2f} s, max {max(took):.2f} s, "
              f"{len(took) / wall:.2f} kernels/s", flush=True)
    return rows


def sandbox_memory() -> tuple[int, int]:
    """(count, bytes) of this process's sandbox containers (cgroup memory usage)."""
    import docker  # type: ignore[import-untyped]

    client = docker.from_env()
    mine = [c["Id"] for c in client.api.containers(
        filters={"label": [f"{LABEL}=1", f"{OWNER}={owner_id()}"]})]
    total = 0
    for cid in mine:
        for path in (f"/sys/fs/cgroup/memory/docker/{cid}/memory.usage_in_bytes",
                     f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/memory.current"):
            p = Path(path)
            if p.exists():
                total += int(p.read_text())
                break
    return len(mine), total


def burst(pool: KernelPool, n: int, spread_s: float) -> dict[str, Any]:
    results: list[dict[str, Any]] = [{} for _ in range(n)]
    sessions: list[Any] = []
    lock = threading.Lock()

    def candidate(i: int) -> None:
        told: list[WaitProgress] = []
        t0 = time.perf_counter()
        try:
            session = pool.acquire(timeout_s=120, on_wait=told.append)
            got = time.perf_counter()
            result = session.execute("print('first result')", timeout_s=60)
            done = time.perf_counter()
            with lock:
                sessions.append(session)
            results[i] = {"ok": result.status == "ok", "kernel_s": got - t0,
                          "first_s": done - t0, "told": told}
        except Exception as exc:  # noqa: BLE001 - counted as a candidate without a kernel
            results[i] = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "told": told}

    threads = []
    began = time.perf_counter()
    for i in range(n):
        at = began + i * spread_s / max(1, n - 1)
        time.sleep(max(0.0, at - time.perf_counter()))
        th = threading.Thread(target=candidate, args=(i,))
        th.start()
        threads.append(th)
    for th in threads:
        th.join(300)
    return {"results": results, "sessions": sessions, "wall_s": time.perf_counter() - began}


def eta_error(results: list[dict[str, Any]]) -> list[float]:
    """For each candidate told an ETA, told ETA (first message) minus the wait it had."""
    out = []
    for r in results:
        if r.get("told") and "kernel_s" in r:
            out.append(r["told"][0].eta_s - r["kernel_s"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=50)
    ap.add_argument("--spread-s", type=float, default=10.0)
    ap.add_argument("--pool", type=int, default=4, help="warm kernels kept (pool size)")
    ap.add_argument("--backend", choices=("docker", "bwrap"), default="docker")
    ap.add_argument("--baseline-runs", type=int, default=5)
    ap.add_argument("--idle-s", type=float, default=20.0, help="idle timeout for the cull")
    ap.add_argument("--no-parallel", action="store_true")
    ap.add_argument("--fixed-starts", type=int, default=0,
                    help="a fixed max_parallel_starts instead of the adaptive limit")
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    backend, image = make(args.backend)
    limits = SandboxLimits(wall_s=60)
    lines = [f"### Notebook burst ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
             f"backend {args.backend}, {args.candidates} candidates over {args.spread_s:g} s, "
             f"pool {args.pool})", ""]

    if not args.no_parallel:
        print("parallel kernel starts:", flush=True)
        rows = parallel_starts(backend, limits, (1, 2, 3, 4, 6, 8))
        lines += ["| kernels started at once | mean start | slowest | kernels/s |",
                  "|---|---|---|---|"]
        lines += [f"| {k} | {m:.2f} s | {mx:.2f} s | {rate:.2f} |" for k, m, mx, rate in rows]
        lines.append("")

    print("plain docker run:", flush=True)
    base = plain_docker_run(image, args.baseline_runs)
    base_p50, base_p99 = pct(base, 0.5), pct(base, 0.99)
    print(f"  p50 {base_p50:.2f} s p99 {base_p99:.2f} s", flush=True)

    adaptive = args.fixed_starts == 0
    # The server's pool: adaptive limit starting at, and never halved below, the measured 2.
    pool = KernelPool(backend, size=args.pool, limits=limits, adaptive_starts=adaptive,
                      max_parallel_starts=args.fixed_starts or DEFAULT_PARALLEL_STARTS,
                      min_parallel_starts=args.fixed_starts or DEFAULT_PARALLEL_STARTS,
                      max_warm=max(args.candidates, args.pool), demand_window_s=60.0,
                      idle_timeout_s=args.idle_s, cull_interval_s=2.0)
    try:
        pool.start()
        if not pool.wait_warm(timeout_s=180):
            raise SystemExit(f"pool did not warm: {pool.stats()}")
        print(f"burst of {args.candidates}:", flush=True)
        peak = [0, 0]
        sampling = threading.Event()

        def sample() -> None:  # the most sandbox containers / memory seen during the burst
            while not sampling.wait(2.0):
                count, mem = sandbox_memory()
                peak[0], peak[1] = max(peak[0], count), max(peak[1], mem)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out = burst(pool, args.candidates, args.spread_s)
        sampling.set()
        sampler.join(30)
        res = out["results"]
        ok = [r for r in res if r.get("ok")]
        first = [r["first_s"] for r in ok]
        got = [r["kernel_s"] for r in ok]
        errors = [r["error"] for r in res if "error" in r]
        p50, p99 = (pct(first, 0.5), pct(first, 0.99)) if first else (float("nan"),) * 2
        told = [r for r in res if r.get("told")]
        max_place = max((r["told"][0].position for r in told), default=0)
        err = eta_error(res)
        stats = pool.stats()
        print(f"  all got a kernel: {len(ok) == len(res)} ({len(ok)}/{len(res)}); "
              f"time to first result p50 {p50:.2f} s p99 {p99:.2f} s; errors {errors[:3]}")
        print(f"  waited for a kernel: {len(told)} (longest queue place {max_place}); "
              f"start limit at end {stats['max_parallel_starts']}; "
              f"mean start {stats['mean_start_s']:.2f} s", flush=True)
        lines += [f"Plain `docker run --rm {image.split(':')[0]} python -c 1` (same run, "
                  f"{len(base)} runs, engine idle): p50 {base_p50:.2f} s, p99 {base_p99:.2f} s.",
                  "",
                  "| measure | value |", "|---|---|",
                  f"| all got a kernel | {'yes' if len(ok) == len(res) else 'NO'} "
                  f"({len(ok)}/{len(res)}) |",
                  f"| time to first result p50 / p99 | {p50:.2f} s / {p99:.2f} s |",
                  f"| time to a kernel p50 / p99 | {pct(got, 0.5):.2f} s / {pct(got, 0.99):.2f} s |"
                  if got else "| time to a kernel | - |",
                  f"| p99 / plain docker run p99 | {p99 / base_p99:.2f}x (goal <= 3x) |",
                  f"| p99 / plain docker run p50 | {p99 / base_p50:.2f}x |",
                  f"| candidates who waited (were told place + ETA) | {len(told)}, longest "
                  f"place {max_place} |",
                  f"| first ETA told minus wait had, median / worst | "
                  f"{statistics.median(err):+.1f} s / {max(err, key=abs):+.1f} s |"
                  if err else "| ETA error | - (nobody waited) |",
                  f"| start limit (adaptive: {adaptive}) at the end | "
                  f"{stats['max_parallel_starts']} |",
                  f"| mean kernel start during the burst | {stats['mean_start_s']:.2f} s |",
                  ""]
        # -- the cull: candidates go idle, their kernels and the surplus warm ones go
        count0, mem0 = sandbox_memory()
        print(f"  burst peak: {peak[0]} containers, {peak[1] / 2**20:.0f} MiB; at its end "
              f"{count0}, {mem0 / 2**20:.0f} MiB", flush=True)
        deadline = time.monotonic() + args.idle_s + 90
        while time.monotonic() < deadline:
            time.sleep(2)
            if not pool.sessions and pool.warm_count <= pool.stats()["target"]:
                break
        pool.demand_window_s = 1.0  # the burst's demand has passed: warm target back to size
        time.sleep(6)
        count1, mem1 = sandbox_memory()
        print(f"  after cull: {count1} containers, {mem1 / 2**20:.0f} MiB "
              f"(sessions {len(pool.sessions)}, warm {pool.warm_count})", flush=True)
        lines += [f"Idle cull (idle timeout {args.idle_s:g} s, then the demand window "
                  f"passes): this run's sandbox containers at the burst's peak {peak[0]} "
                  f"({peak[1] / 2**20:.0f} MiB cgroup memory), at its end {count0} "
                  f"({mem0 / 2**20:.0f} MiB; sessions idle past the timeout are already "
                  f"culled during the burst), after the cull {count1} ({mem1 / 2**20:.0f} MiB); "
                  f"sessions left {len(pool.sessions)}, warm {pool.warm_count} "
                  f"(pool size {args.pool}).", ""]
    finally:
        pool.close()
    lines.append("Command: `.venv/bin/python bench/kernel_burst.py "
                 f"--candidates {args.candidates} --spread-s {args.spread_s:g} "
                 f"--pool {args.pool} --backend {args.backend}"
                 + (f" --fixed-starts {args.fixed_starts}" if args.fixed_starts else "")
                 + (" --no-parallel" if args.no_parallel else "") + "`")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        with args.write.open("a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
