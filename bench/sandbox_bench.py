"""Sandbox benchmarks: warm pool vs plain `docker run`, bursts, round trips, one-shot, RSS.

Run: .venv/bin/python bench/sandbox_bench.py [--write docs/benchmarks.md]
Each part is bounded (small fixed sample counts, timeouts). Prints a Markdown section.
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import re
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import docker
from jupyter_client.blocking.client import BlockingKernelClient

from sandbox.docker_backend import DockerBackend
from sandbox.image import image_tag
from sandbox.kernel import Kernel
from sandbox.limits import SandboxLimits
from sandbox.pool import KernelPool


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def plain_docker_run(image: str) -> None:
    subprocess.run(["docker", "run", "--rm", image, "python", "-c", "print(1)"], check=True,
                   capture_output=True, timeout=60)


def direct_roundtrip(kernel: Kernel, n: int) -> list[float]:
    """`1+1` through a bare jupyter-client on the same kernel sockets (no session layer)."""
    assert kernel.client is not None
    kc: BlockingKernelClient = kernel.client
    times = []
    for _ in range(n):
        t = time.perf_counter()
        msg_id = kc.execute("1+1")
        while True:
            msg = kc.get_iopub_msg(timeout=10)
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                    and msg["content"]["execution_state"] == "idle"):
                break
        times.append(time.perf_counter() - t)
        while True:
            try:
                kc.get_shell_msg(timeout=0)
            except queue.Empty:
                break
    return times


def burst(pool: KernelPool, n: int) -> tuple[list[float], int]:
    lat: list[float] = []
    failures = [0]
    lock = threading.Lock()
    go = threading.Event()

    def one() -> None:
        go.wait()
        t = time.perf_counter()
        try:
            s = pool.acquire(timeout_s=120)
            ok = s.execute("print(1)").status == "ok"
            took = time.perf_counter() - t
            s.close()
        except Exception:  # noqa: BLE001 - counted
            ok, took = False, time.perf_counter() - t
        with lock:
            lat.append(took)
            failures[0] += 0 if ok else 1

    threads = [threading.Thread(target=one) for _ in range(n)]
    for th in threads:
        th.start()
    go.set()
    for th in threads:
        th.join()
    return lat, failures[0]


def container_rss_mib(client: docker.DockerClient, container_id: str) -> float:
    stats = client.api.stats(container_id, stream=False, one_shot=True)
    mem = stats["memory_stats"]
    st = mem.get("stats", {})
    # cgroup v1: usage minus page cache; v2: anon + kernel
    if "total_rss" in st:
        used = st["total_rss"] + st.get("total_mapped_file", 0)
    elif "anon" in st:
        used = st["anon"] + st.get("kernel", st.get("kernel_stack", 0))
    else:
        used = mem["usage"]
    return float(used) / 2**20


def main() -> str:
    image = os.environ.get("BURNIN_SANDBOX_IMAGE") or image_tag()
    backend = DockerBackend(image)
    limits = SandboxLimits(memory_mib=512, wall_s=30)
    lines: list[str] = []
    say = lines.append
    plain_docker_run(image)  # warm the engine's caches
    base = timed(lambda: plain_docker_run(image), 15)
    b50, b99 = pct(base, 0.5), pct(base, 0.99)

    # warm pool: time to first execution for a new session
    with KernelPool(backend, size=1, limits=limits) as pool:
        first: list[float] = []
        for _ in range(15):
            pool.wait_warm(timeout_s=60)
            t = time.perf_counter()
            s = pool.acquire(timeout_s=60)
            s.execute("print(1)")
            first.append(time.perf_counter() - t)
            s.close()
        # round trip of 1+1: our session vs bare jupyter-client on the same kernel
        s = pool.acquire(timeout_s=60)
        for _ in range(20):
            s.execute("1+1")
        ours = timed(lambda: s.execute("1+1"), 200)
        direct = direct_roundtrip(s.kernel, 200)
        s.close()

    # burst of 20 with a pool sized for it
    with KernelPool(backend, size=20, limits=limits, max_parallel_starts=4) as pool:
        t = time.perf_counter()
        pool.wait_warm(timeout_s=300)
        fill20 = time.perf_counter() - t
        b20, fail20 = burst(pool, 20)
    # burst of 20 against a pool of 4: starts queue (max 2 at a time)
    with KernelPool(backend, size=4, limits=limits, max_parallel_starts=2) as pool:
        pool.wait_warm(timeout_s=120)
        b4, fail4 = burst(pool, 20)
        t = time.perf_counter()
        pool.wait_warm(timeout_s=120)
        refill4 = time.perf_counter() - t

    oneshot = timed(lambda: backend.run(["python", "-c", "print(1)"], limits=limits), 15)

    # idle kernel sandbox memory
    client = docker.from_env()
    kernels = [Kernel(backend, limits) for _ in range(3)]
    time.sleep(3)
    rss = [container_rss_mib(client, k.host.container.id) for k in kernels]  # type: ignore[union-attr]
    for k in kernels:
        k.shutdown()
    idle = statistics.mean(rss)

    cpu = re.sub(r"\s+", " ", next((ln.split(":", 1)[1] for ln in Path("/proc/cpuinfo")
                                    .read_text().splitlines() if ln.startswith("model name")),
                                   platform.machine())).strip()
    say(f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores ({cpu}), "
        f"Docker {client.version()['Version']}, runtime runc, image `{image}`, "
        "by `.venv/bin/python bench/sandbox_bench.py`.")
    say("")
    say("| measure | ours p50 | ours p99 | baseline p50 | baseline p99 | ratio p50 | ratio p99 | target |")
    say("| --- | --- | --- | --- | --- | --- | --- | --- |")
    say(f"| warm pool: acquire + first `print(1)` vs plain `docker run IMAGE python -c 'print(1)'` "
        f"(n=15) | {ms(pct(first, .5))} | {ms(pct(first, .99))} | {ms(b50)} | {ms(b99)} | "
        f"{pct(first, .5) / b50:.3f}× | {pct(first, .99) / b99:.3f}× | ≤0.25× / ≤0.5× |")
    say(f"| burst of 20 at once, pool of 20 (failures: {fail20}) | {ms(pct(b20, .5))} | "
        f"{ms(pct(b20, .99))} | {ms(b50)} | {ms(b99)} | {pct(b20, .5) / b50:.2f}× | "
        f"{pct(b20, .99) / b99:.2f}× | p99 ≤2×, no failure |")
    say(f"| burst of 20 at once, pool of 4, 2 starts at a time (failures: {fail4}) | "
        f"{ms(pct(b4, .5))} | {ms(pct(b4, .99))} | {ms(b50)} | {ms(b99)} | "
        f"{pct(b4, .5) / b50:.2f}× | {pct(b4, .99) / b99:.2f}× | report |")
    say(f"| `1+1` round trip: our session vs bare jupyter-client, same kernel (n=200) | "
        f"{ms(pct(ours, .5))} | {ms(pct(ours, .99))} | {ms(pct(direct, .5))} | "
        f"{ms(pct(direct, .99))} | {pct(ours, .5) / pct(direct, .5):.2f}× | "
        f"{pct(ours, .99) / pct(direct, .99):.2f}× | p50 ≤ 2× + 3 ms |")
    say(f"| one-shot run `python -c 'print(1)'` vs plain `docker run` (n=15) | "
        f"{ms(pct(oneshot, .5))} | {ms(pct(oneshot, .99))} | {ms(b50)} | {ms(b99)} | "
        f"{pct(oneshot, .5) / b50:.2f}× | {pct(oneshot, .99) / b99:.2f}× | report |")
    say("")
    say(f"- Filling a pool of 20 from empty (4 starts at a time): {fill20:.1f} s; "
        f"refilling a pool of 4 after the burst: {refill4:.1f} s.")
    say(f"- Idle kernel sandbox resident memory (cgroup RSS, mean of 3): {idle:.1f} MiB "
        f"(target ≤100 MiB): about {int(20 * 1024 // idle)} idle sessions fit in 20 GiB.")
    return "\n".join(lines)


def write_section(path: Path, body: str) -> None:
    """Replace only the '## Sandbox' section, leaving the others byte-identical."""
    text = path.read_text()
    start = text.index("## Sandbox\n")
    nxt = text.find("\n## ", start + 1)
    end = len(text) if nxt == -1 else nxt + 1
    path.write_text(text[:start] + "## Sandbox\n\n" + body + "\n\n" + text[end:])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path, help="update the Sandbox section of this file")
    args = parser.parse_args()
    section = main()
    print(section)
    if args.write:
        write_section(args.write, section)
